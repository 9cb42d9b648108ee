import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * Detached signatures (CAdES/XAdES circuits) and signing by upload (src/modules/signatures).
 *
 * - `signature_circuits.format` gains `CAdES` (any non-PDF file, a detached `.p7s`) and `XAdES`
 *   (XML, a detached `.xsig`). The document's own bytes never change in those circuits.
 * - `document_signatures`: each detached signature of a document, one row per circuit signer
 *   who signed, pointing at the signature file's blob (content-addressed, never overwritten) and
 *   at the document bytes it covers. ENI: the signatures are metadata of the document (the NTI's
 *   `firma` of type TF04 CAdES detached / XAdES detached), not documents of their own; an ENI
 *   export writes each row's file beside the document. Append-only.
 * - `circuit_signers.method`: how the act's signature was made — `csc` (a remote signing service
 *   under the signer's control; the local one is the demo) or `upload` (signed elsewhere and
 *   uploaded, verified on arrival). NULL for review steps and for acts recorded before this.
 * - `users.nif`: the person's NIF/NIE, set by the operator (`lligall user set-nif`), which an
 *   uploaded signature's certificate must carry to count as that user's signature.
 */
const TENANT_TABLES: Record<string, string> = {
  document_signatures: 'SELECT, INSERT',
};

export function detachedSignatures(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        ALTER TABLE signature_circuits DROP CONSTRAINT signature_circuits_format_check;
        ALTER TABLE signature_circuits ADD CONSTRAINT signature_circuits_format_check
          CHECK (format IN ('PAdES','CAdES','XAdES'));
        ALTER TABLE circuit_signers ADD COLUMN method text CHECK (method IN ('csc','upload'));
        ALTER TABLE users ADD COLUMN nif text CHECK (nif ~ '^[0-9XYZKLM][0-9]{7}[A-Z]$');
        CREATE UNIQUE INDEX users_nif ON users (nif) WHERE nif IS NOT NULL;
        CREATE TABLE document_signatures (
          tenant_id uuid NOT NULL,
          id uuid NOT NULL,
          document_id uuid NOT NULL,
          circuit_id uuid NOT NULL,
          step_no integer NOT NULL,
          signer_no integer NOT NULL,
          format text NOT NULL CHECK (format IN ('CAdES','XAdES')),
          method text NOT NULL CHECK (method IN ('csc','upload')),
          sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
          size_bytes bigint NOT NULL,
          content_sha256 text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
          file_name text NOT NULL,
          position_title text,
          by_substitution boolean NOT NULL,
          signed_by uuid NOT NULL,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id),
          UNIQUE (tenant_id, circuit_id, step_no, signer_no),
          FOREIGN KEY (tenant_id, document_id) REFERENCES documents(tenant_id, id),
          FOREIGN KEY (tenant_id, circuit_id, step_no, signer_no)
            REFERENCES circuit_signers(tenant_id, circuit_id, step_no, signer_no)
        );
        CREATE INDEX document_signatures_doc ON document_signatures (tenant_id, document_id, created_at);
      `,
      );
      await grantAccess(db, ctx.appRole, { tenant: TENANT_TABLES });
    },
  };
}
