import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * Private keys for seals, encrypted at rest (platform/crypto/keywrap.ts; the master key is never
 * in the database):
 *
 * - `installation_ca` (platform table, on the allowlist): the one demo/development certification
 *   authority that issues demo seals. Never created in production. One row (`slot` = 1).
 * - `seals` (tenant table, row-level security): an entity's seal certificates and wrapped keys; at
 *   most one active per entity. A seal is never deleted: replacing it deactivates the old one.
 */
const TENANT_TABLES: Record<string, string> = {
  seals: 'SELECT, INSERT, UPDATE',
  automation_resolutions: 'SELECT, INSERT, UPDATE',
};

const PLATFORM_GRANTS: Record<string, string> = {
  installation_ca: 'SELECT, INSERT, UPDATE',
};

export function seals(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        CREATE TABLE installation_ca (
          slot smallint PRIMARY KEY CHECK (slot = 1),
          id uuid NOT NULL UNIQUE,
          certificate_pem text NOT NULL,
          wrapped_key bytea NOT NULL,
          valid_from timestamptz NOT NULL,
          valid_to timestamptz NOT NULL,
          created_at timestamptz NOT NULL
        );
        CREATE TABLE seals (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          id uuid NOT NULL,
          label text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
          certificate_pem text NOT NULL,
          chain_pem text NOT NULL,
          wrapped_key bytea NOT NULL,
          source text NOT NULL CHECK (source IN ('installation_ca','pkcs12')),
          qualified boolean NOT NULL,
          fingerprint_sha256 text NOT NULL CHECK (fingerprint_sha256 ~ '^[0-9a-f]{64}$'),
          valid_from timestamptz NOT NULL,
          valid_to timestamptz NOT NULL,
          active boolean NOT NULL,
          created_at timestamptz NOT NULL,
          deactivated_at timestamptz,
          PRIMARY KEY (tenant_id, id),
          UNIQUE (tenant_id, fingerprint_sha256),
          CHECK (NOT (source = 'installation_ca' AND qualified)),
          CHECK (active = (deactivated_at IS NULL))
        );
        CREATE UNIQUE INDEX seals_one_active ON seals (tenant_id) WHERE active;
        CREATE TABLE automation_resolutions (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          id uuid NOT NULL,
          kind text NOT NULL CHECK (kind IN ('csv_system','automated_action')),
          title text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
          reference text NOT NULL CHECK (length(reference) BETWEEN 1 AND 200),
          approved_on date NOT NULL,
          responsible_body text NOT NULL CHECK (length(responsible_body) BETWEEN 1 AND 300),
          actions text[] NOT NULL,
          publication text CHECK (length(publication) BETWEEN 1 AND 500),
          document_id uuid NOT NULL,
          revoked_on date,
          revoked_reason text CHECK (length(revoked_reason) BETWEEN 1 AND 2000),
          created_by text NOT NULL,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id),
          FOREIGN KEY (tenant_id, document_id) REFERENCES documents(tenant_id, id),
          CHECK ((revoked_on IS NULL) = (revoked_reason IS NULL)),
          CHECK (revoked_on IS NULL OR revoked_on >= approved_on),
          CHECK (kind = 'csv_system' OR cardinality(actions) > 0)
        );
        CREATE INDEX automation_resolutions_kind ON automation_resolutions (tenant_id, kind, approved_on);
        CREATE FUNCTION lligall_automation_resolutions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'automation resolutions are never deleted' USING ERRCODE = '55000';
          END IF;
          IF OLD.revoked_on IS NOT NULL OR NEW.revoked_on IS NULL
             OR (to_jsonb(NEW) - 'revoked_on' - 'revoked_reason') <> (to_jsonb(OLD) - 'revoked_on' - 'revoked_reason') THEN
            RAISE EXCEPTION 'an automation resolution can only be revoked, once' USING ERRCODE = '55000';
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER automation_resolutions_append_only BEFORE UPDATE OR DELETE ON automation_resolutions
          FOR EACH ROW EXECUTE FUNCTION lligall_automation_resolutions_append_only();
      `,
      );

      await grantAccess(db, ctx.appRole, { platform: PLATFORM_GRANTS, tenant: TENANT_TABLES });
    },
  };
}
