import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * The yearly book of resolutions, second slice (src/modules/resolutions; ROF art. 196–200,
 * LBRL art. 56).
 *
 * - `resolutions.transcribed_at`: when the secretary's transcription was recorded (written once by
 *   the circuit hook; existing rows whose circuit completed are filled from their draft's state).
 * - `resolution_diligences`: the opening and closing diligences (TD12) of a year's book, each a
 *   draft signed by the secretary position through a one-step circuit; a stopped circuit leaves
 *   its row (`stopped`) and a new one may be requested; at most one live row per year and kind.
 * - `resolution_book_exports`: every sealed edition of a year's book (a document with its CSV),
 *   with the fingerprint of what it compiled, so an unchanged book is not compiled again.
 * - `resolution_extracts`: per numbered decree and recipient (AGE, Generalitat), the extract to
 *   send within 6 days (LBRL art. 56.1): due time, the sending (when, acknowledgement, where it
 *   was written), failures, and when the sweeper found it overdue.
 * - `ple_sessions`: the entity's Ple sessions (date, ordinary/extraordinary), to list the decrees
 *   reported to the next ordinary session (ROF art. 42).
 */
const TENANT_TABLES: Record<string, string> = {
  resolution_diligences: 'SELECT, INSERT, UPDATE',
  resolution_book_exports: 'SELECT, INSERT',
  resolution_extracts: 'SELECT, INSERT, UPDATE',
  ple_sessions: 'SELECT, INSERT',
};

export function resolutionsBook(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        ALTER TABLE resolutions ADD COLUMN transcribed_at timestamptz;
        UPDATE resolutions r SET transcribed_at = d.updated_at
          FROM document_drafts d
          WHERE d.tenant_id = r.tenant_id AND d.document_id = r.document_id
            AND d.state = 'final' AND r.number IS NOT NULL;
        CREATE TABLE resolution_diligences (
          tenant_id uuid NOT NULL,
          id uuid NOT NULL,
          year integer NOT NULL CHECK (year BETWEEN 1900 AND 9999),
          kind text NOT NULL CHECK (kind IN ('opening','closing')),
          document_id uuid NOT NULL,
          expedient_id uuid NOT NULL,
          position_id uuid NOT NULL,
          first_number text,
          last_number text,
          decree_count integer,
          requested_by uuid NOT NULL,
          requested_at timestamptz NOT NULL,
          signed_at timestamptz,
          signed_by uuid,
          signer_position text,
          by_substitution boolean,
          stopped_at timestamptz,
          PRIMARY KEY (tenant_id, id),
          FOREIGN KEY (tenant_id, document_id) REFERENCES documents(tenant_id, id),
          FOREIGN KEY (tenant_id, expedient_id) REFERENCES expedients(tenant_id, id),
          CHECK (signed_at IS NULL OR stopped_at IS NULL)
        );
        CREATE UNIQUE INDEX resolution_diligences_document ON resolution_diligences (tenant_id, document_id);
        CREATE UNIQUE INDEX resolution_diligences_live ON resolution_diligences (tenant_id, year, kind)
          WHERE stopped_at IS NULL;
        CREATE TABLE resolution_book_exports (
          tenant_id uuid NOT NULL,
          id uuid NOT NULL,
          year integer NOT NULL,
          document_id uuid NOT NULL,
          csv text NOT NULL,
          seal_id uuid NOT NULL,
          fingerprint text NOT NULL,
          decree_count integer NOT NULL,
          page_count integer NOT NULL,
          created_by uuid,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id),
          FOREIGN KEY (tenant_id, document_id) REFERENCES documents(tenant_id, id)
        );
        CREATE INDEX resolution_book_exports_year ON resolution_book_exports (tenant_id, year, created_at);
        CREATE TABLE resolution_extracts (
          tenant_id uuid NOT NULL,
          document_id uuid NOT NULL,
          recipient text NOT NULL CHECK (recipient IN ('AGE','GENCAT')),
          due_at timestamptz NOT NULL,
          sent_at timestamptz,
          ack_id text,
          channel text,
          attempts integer NOT NULL DEFAULT 0,
          last_error text,
          overdue_at timestamptz,
          PRIMARY KEY (tenant_id, document_id, recipient),
          FOREIGN KEY (tenant_id, document_id) REFERENCES resolutions(tenant_id, document_id),
          CHECK ((sent_at IS NULL) = (ack_id IS NULL))
        );
        CREATE INDEX resolution_extracts_unsent ON resolution_extracts (tenant_id, due_at) WHERE sent_at IS NULL;
        CREATE TABLE ple_sessions (
          tenant_id uuid NOT NULL,
          id uuid NOT NULL,
          held_on date NOT NULL,
          kind text NOT NULL CHECK (kind IN ('ordinary','extraordinary')),
          reference text,
          created_by uuid NOT NULL,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id)
        );
        CREATE INDEX ple_sessions_held_on ON ple_sessions (tenant_id, held_on);
      `,
      );
      await grantAccess(db, ctx.appRole, { tenant: TENANT_TABLES });
    },
  };
}
