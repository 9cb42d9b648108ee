import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * The general registry (LPACAP art. 16 and 31): entries, their annotations and their attachments.
 * Entries are never changed or deleted (ARCHITECTURE data rule 4): the application role may only
 * read and insert, and a correction is a new annotation linked to the entry.
 */
const TENANT_TABLES: Record<string, string> = {
  registry_entries: 'SELECT, INSERT',
  registry_annotations: 'SELECT, INSERT',
  registry_attachments: 'SELECT, INSERT',
};

export function registry(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        CREATE TABLE registry_entries (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          id uuid NOT NULL,
          direction text NOT NULL CHECK (direction IN ('E','S')),
          year integer NOT NULL CHECK (year BETWEEN 1900 AND 2999),
          seq integer NOT NULL CHECK (seq > 0),
          number text NOT NULL CHECK (number ~ '^[ES]/[0-9]{4}/[0-9]{6,}$'),
          heading text NOT NULL CHECK (length(heading) BETWEEN 1 AND 500),
          summary text NOT NULL CHECK (length(summary) BETWEEN 1 AND 4000),
          channel text NOT NULL CHECK (channel IN ('in_person','electronic','mux','postal','sir')),
          office_id uuid,
          party_id uuid,
          sending_body text CHECK (length(sending_body) BETWEEN 1 AND 300),
          recipient_unit_id uuid,
          recipient_person text CHECK (length(recipient_person) BETWEEN 1 AND 300),
          text text CHECK (length(text) <= 200000),
          language text NOT NULL CHECK (language IN ('ca','es','oc-aranes')),
          presented_at timestamptz NOT NULL,
          registered_at timestamptz NOT NULL,
          effective_at timestamptz,
          created_by text NOT NULL,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id),
          UNIQUE (tenant_id, direction, year, seq),
          UNIQUE (tenant_id, number),
          FOREIGN KEY (tenant_id, office_id) REFERENCES units(tenant_id, id),
          FOREIGN KEY (tenant_id, recipient_unit_id) REFERENCES units(tenant_id, id),
          FOREIGN KEY (tenant_id, party_id) REFERENCES parties(tenant_id, id),
          CHECK (presented_at <= registered_at),
          CHECK (effective_at IS NULL OR effective_at >= presented_at)
        );
        CREATE INDEX registry_entries_effective ON registry_entries (tenant_id, effective_at, direction, year, seq);
        CREATE INDEX registry_entries_registered ON registry_entries (tenant_id, registered_at);
        CREATE INDEX registry_entries_party ON registry_entries (tenant_id, party_id);
        CREATE TABLE registry_annotations (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          id uuid NOT NULL,
          entry_id uuid NOT NULL,
          text text NOT NULL CHECK (length(text) BETWEEN 1 AND 4000),
          created_by text NOT NULL,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id),
          FOREIGN KEY (tenant_id, entry_id) REFERENCES registry_entries(tenant_id, id)
        );
        CREATE INDEX registry_annotations_entry ON registry_annotations (tenant_id, entry_id, created_at);
        CREATE TABLE registry_attachments (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          entry_id uuid NOT NULL,
          position integer NOT NULL CHECK (position > 0),
          document_id uuid NOT NULL,
          sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
          PRIMARY KEY (tenant_id, entry_id, position),
          FOREIGN KEY (tenant_id, entry_id) REFERENCES registry_entries(tenant_id, id),
          FOREIGN KEY (tenant_id, document_id) REFERENCES documents(tenant_id, id)
        );
      `,
      );

      await grantAccess(db, ctx.appRole, { tenant: TENANT_TABLES });
    },
  };
}
