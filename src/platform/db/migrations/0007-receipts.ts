import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * Receipts of the registry (LPACAP art. 16.3) and the installation-wide index of secure
 * verification codes (CSV, LRJSP art. 42.b). The CSV index is a platform table: public
 * verification finds a document by its code before knowing its entity. Both are permanent:
 * the application role may read and insert, never change or delete.
 */
export function receipts(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        CREATE TABLE csv_index (
          csv text PRIMARY KEY CHECK (csv ~ '^[0-9A-HJKMNP-TV-Z]{20}$'),
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          document_id uuid NOT NULL,
          -- the seal that sealed the document when it was issued (null: signed otherwise)
          seal_id uuid,
          created_at timestamptz NOT NULL,
          UNIQUE (tenant_id, document_id),
          FOREIGN KEY (tenant_id, document_id) REFERENCES documents(tenant_id, id),
          FOREIGN KEY (tenant_id, seal_id) REFERENCES seals(tenant_id, id)
        );
        CREATE TABLE registry_receipts (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          entry_id uuid NOT NULL,
          document_id uuid NOT NULL,
          csv text NOT NULL UNIQUE REFERENCES csv_index(csv),
          seal_id uuid NOT NULL,
          language text NOT NULL CHECK (language IN ('ca','es','oc-aranes')),
          issued_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, entry_id),
          FOREIGN KEY (tenant_id, entry_id) REFERENCES registry_entries(tenant_id, id),
          FOREIGN KEY (tenant_id, document_id) REFERENCES documents(tenant_id, id),
          FOREIGN KEY (tenant_id, seal_id) REFERENCES seals(tenant_id, id)
        );
      `,
      );
      await grantAccess(db, ctx.appRole, {
        platform: { csv_index: 'SELECT, INSERT' },
        tenant: { registry_receipts: 'SELECT, INSERT' },
      });
    },
  };
}
