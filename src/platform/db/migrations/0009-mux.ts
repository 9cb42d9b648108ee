import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * MUX v3 intake (AOC guide "DI Externs" v1.1, section 5): how MUX authenticates to each entity's
 * registry, the transactions received (one per idTransaccio and direction, with the answer given,
 * so a repeated execution gets the same entry and the same bytes), and the DESA'L documents each
 * transaction referenced, fetched after the entry's commit.
 *
 * - mux_credentials: reconfigured by the operator (UPDATE).
 * - mux_transactions: never changed (the answer given is permanent, like the entry it names).
 * - mux_attachments: the fetch state moves pending → fetched | failed (UPDATE); the fetched file
 *   becomes a document and a registry_attachments row of the entry.
 */
const TENANT_TABLES: Record<string, string> = {
  mux_credentials: 'SELECT, INSERT, UPDATE',
  mux_transactions: 'SELECT, INSERT',
  mux_attachments: 'SELECT, INSERT, UPDATE',
};

export function mux(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        CREATE TABLE mux_credentials (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          issuer text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 200),
          subject text NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
          wrapped_secret bytea NOT NULL,
          configured_by text NOT NULL,
          configured_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id)
        );
        CREATE TABLE mux_transactions (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          id_transaccio text NOT NULL CHECK (length(id_transaccio) BETWEEN 1 AND 100),
          sentit text NOT NULL CHECK (sentit IN ('E','S')),
          fingerprint text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
          entry_id uuid NOT NULL,
          response text NOT NULL,
          issuer text NOT NULL,
          received_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id_transaccio, sentit),
          UNIQUE (tenant_id, entry_id),
          FOREIGN KEY (tenant_id, entry_id) REFERENCES registry_entries(tenant_id, id)
        );
        CREATE TABLE mux_attachments (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          entry_id uuid NOT NULL,
          position integer NOT NULL CHECK (position > 0),
          desal_uuid text NOT NULL CHECK (length(desal_uuid) BETWEEN 1 AND 100),
          contingut smallint NOT NULL CHECK (contingut IN (1, 2, 3)),
          external_url text,
          file_name text NOT NULL,
          mime_type text NOT NULL,
          title text NOT NULL,
          declared_size bigint CHECK (declared_size >= 0),
          declared_hash text,
          hash_algorithm text,
          state text NOT NULL CHECK (state IN ('pending','fetched','failed')),
          error_code text,
          error text,
          attempts integer NOT NULL DEFAULT 0,
          document_id uuid,
          sha256 text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
          updated_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, entry_id, position),
          UNIQUE (tenant_id, entry_id, desal_uuid),
          FOREIGN KEY (tenant_id, entry_id) REFERENCES registry_entries(tenant_id, id),
          FOREIGN KEY (tenant_id, document_id) REFERENCES documents(tenant_id, id),
          CHECK ((state = 'fetched') = (document_id IS NOT NULL AND sha256 IS NOT NULL))
        );
      `,
      );
      await grantAccess(db, ctx.appRole, { tenant: TENANT_TABLES });
    },
  };
}
