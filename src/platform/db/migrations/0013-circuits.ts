import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * Signature circuits (portasignatures, src/modules/signatures/circuits.*).
 *
 * - `document_drafts`: a draft document of a case file, not yet in its index (LPACAP art. 70.4:
 *   drafts are not part of the file). Its `documents` row has `incorporated_at` NULL, so the
 *   immutability trigger still lets it change; once the circuit completes it is incorporated and
 *   immutable like any other.
 * - `document_versions`: every content a draft has had (upload, replacement, the prepared PDF,
 *   each signature's incremental revision), append-only: the blob of each is kept; the document
 *   row points to the newest.
 * - `signature_circuits`, `circuit_steps`, `circuit_signers`: the circuit, its ordered steps and
 *   who acts in each; a signer's act (signed, reviewed, rejected) is written once.
 * - `signature_inbox` (platform table, on the allowlist): the pending signatures of each user
 *   across entities, kept in the same transactions as the circuit; only what the inbox shows.
 */
const TENANT_TABLES: Record<string, string> = {
  document_drafts: 'SELECT, INSERT, UPDATE',
  document_versions: 'SELECT, INSERT',
  signature_circuits: 'SELECT, INSERT, UPDATE',
  circuit_steps: 'SELECT, INSERT',
  circuit_signers: 'SELECT, INSERT, UPDATE',
};
const PLATFORM_GRANTS: Record<string, string> = {
  signature_inbox: 'SELECT, INSERT, DELETE',
};

export function circuits(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        CREATE TABLE document_drafts (
          tenant_id uuid NOT NULL,
          document_id uuid NOT NULL,
          expedient_id uuid NOT NULL,
          state text NOT NULL CHECK (state IN ('draft','in_circuit','final','rejected','cancelled')),
          created_by uuid NOT NULL,
          created_at timestamptz NOT NULL,
          updated_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, document_id),
          FOREIGN KEY (tenant_id, document_id) REFERENCES documents(tenant_id, id),
          FOREIGN KEY (tenant_id, expedient_id) REFERENCES expedients(tenant_id, id)
        );
        CREATE INDEX document_drafts_exp ON document_drafts (tenant_id, expedient_id);
        CREATE TABLE document_versions (
          tenant_id uuid NOT NULL,
          document_id uuid NOT NULL,
          version integer NOT NULL CHECK (version >= 1),
          sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
          size_bytes bigint NOT NULL,
          kind text NOT NULL CHECK (kind IN ('upload','replace','prepare','signature')),
          created_by uuid NOT NULL,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, document_id, version),
          FOREIGN KEY (tenant_id, document_id) REFERENCES documents(tenant_id, id)
        );
        CREATE TABLE signature_circuits (
          tenant_id uuid NOT NULL,
          id uuid NOT NULL,
          document_id uuid NOT NULL,
          state text NOT NULL CHECK (state IN ('active','completed','rejected','cancelled')),
          current_step integer NOT NULL,
          format text NOT NULL CHECK (format IN ('PAdES')),
          created_by uuid NOT NULL,
          created_at timestamptz NOT NULL,
          finished_at timestamptz,
          finished_by uuid,
          finish_reason text,
          PRIMARY KEY (tenant_id, id),
          FOREIGN KEY (tenant_id, document_id) REFERENCES documents(tenant_id, id)
        );
        -- One circuit per draft: a stopped one stops its draft too.
        CREATE UNIQUE INDEX signature_circuits_doc ON signature_circuits (tenant_id, document_id);
        CREATE TABLE circuit_steps (
          tenant_id uuid NOT NULL,
          circuit_id uuid NOT NULL,
          step_no integer NOT NULL CHECK (step_no >= 1),
          kind text NOT NULL CHECK (kind IN ('sign','vistiplau','review')),
          mode text NOT NULL CHECK (mode IN ('all','any')),
          PRIMARY KEY (tenant_id, circuit_id, step_no),
          FOREIGN KEY (tenant_id, circuit_id) REFERENCES signature_circuits(tenant_id, id)
        );
        CREATE TABLE circuit_signers (
          tenant_id uuid NOT NULL,
          circuit_id uuid NOT NULL,
          step_no integer NOT NULL,
          signer_no integer NOT NULL,
          user_id uuid,
          position_id uuid,
          field_name text,
          action text CHECK (action IN ('signed','reviewed','rejected')),
          acted_by uuid,
          acted_at timestamptz,
          by_substitution boolean,
          position_title text,
          reason text,
          version integer,
          PRIMARY KEY (tenant_id, circuit_id, step_no, signer_no),
          CHECK ((user_id IS NULL) <> (position_id IS NULL)),
          FOREIGN KEY (tenant_id, circuit_id, step_no) REFERENCES circuit_steps(tenant_id, circuit_id, step_no)
        );
        CREATE TABLE signature_inbox (
          user_id uuid NOT NULL REFERENCES users(id),
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          document_id uuid NOT NULL,
          circuit_id uuid NOT NULL,
          step_no integer NOT NULL,
          step_kind text NOT NULL,
          title text NOT NULL,
          since timestamptz NOT NULL,
          PRIMARY KEY (user_id, tenant_id, circuit_id, step_no)
        );
        CREATE INDEX signature_inbox_circuit ON signature_inbox (tenant_id, circuit_id);
      `,
      );
      await grantAccess(db, ctx.appRole, { platform: PLATFORM_GRANTS, tenant: TENANT_TABLES });
    },
  };
}
