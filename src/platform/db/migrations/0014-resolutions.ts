import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * The book of resolutions (src/modules/resolutions; ROF art. 196–200).
 *
 * - `resolutions`: a resolution from the moment its circuit starts (number NULL); its number
 *   (`YYYY/NNNNNN`, counter series `decree`), date, deciding signer and position are written
 *   once, in the transaction that records the deciding signature; `stamped_*` once, when the
 *   number and date are stamped onto the PDF. Nothing is deleted; a trigger refuses changing a
 *   number, date or stamp once written (ARCHITECTURE data rule 4).
 * - `document_versions.kind` gains `stamp` (the incremental revision carrying number and date).
 */
const TENANT_TABLES: Record<string, string> = {
  resolutions: 'SELECT, INSERT, UPDATE',
};

export function resolutions(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        ALTER TABLE document_versions DROP CONSTRAINT document_versions_kind_check;
        ALTER TABLE document_versions ADD CONSTRAINT document_versions_kind_check
          CHECK (kind IN ('upload','replace','prepare','signature','stamp'));
        CREATE TABLE resolutions (
          tenant_id uuid NOT NULL,
          document_id uuid NOT NULL,
          circuit_id uuid NOT NULL,
          expedient_id uuid NOT NULL,
          title text NOT NULL,
          summary text NOT NULL,
          deciding_step integer NOT NULL,
          transcription_step integer NOT NULL CHECK (transcription_step > deciding_step),
          created_by uuid NOT NULL,
          created_at timestamptz NOT NULL,
          year integer,
          seq integer CHECK (seq >= 1),
          number text,
          decided_at timestamptz,
          decided_by uuid,
          position_id uuid,
          position_title text,
          by_substitution boolean,
          stamped_at timestamptz,
          stamped_version integer,
          PRIMARY KEY (tenant_id, document_id),
          FOREIGN KEY (tenant_id, document_id) REFERENCES documents(tenant_id, id),
          FOREIGN KEY (tenant_id, circuit_id) REFERENCES signature_circuits(tenant_id, id),
          FOREIGN KEY (tenant_id, expedient_id) REFERENCES expedients(tenant_id, id),
          CHECK ((number IS NULL) = (seq IS NULL) AND (number IS NULL) = (decided_at IS NULL)
                 AND (number IS NULL) = (year IS NULL)),
          CHECK (stamped_at IS NULL OR number IS NOT NULL)
        );
        CREATE UNIQUE INDEX resolutions_number ON resolutions (tenant_id, year, seq);
        CREATE FUNCTION resolutions_written_once() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.number IS NOT NULL AND (
               NEW.number IS DISTINCT FROM OLD.number OR NEW.seq IS DISTINCT FROM OLD.seq
            OR NEW.year IS DISTINCT FROM OLD.year OR NEW.decided_at IS DISTINCT FROM OLD.decided_at
            OR NEW.decided_by IS DISTINCT FROM OLD.decided_by OR NEW.position_title IS DISTINCT FROM OLD.position_title
            OR NEW.summary IS DISTINCT FROM OLD.summary OR NEW.title IS DISTINCT FROM OLD.title)
          THEN RAISE EXCEPTION 'a numbered resolution does not change' USING ERRCODE = 'check_violation';
          END IF;
          IF OLD.stamped_at IS NOT NULL AND (NEW.stamped_at IS DISTINCT FROM OLD.stamped_at
            OR NEW.stamped_version IS DISTINCT FROM OLD.stamped_version)
          THEN RAISE EXCEPTION 'a stamped resolution does not change' USING ERRCODE = 'check_violation';
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER resolutions_written_once BEFORE UPDATE ON resolutions
          FOR EACH ROW EXECUTE FUNCTION resolutions_written_once();
      `,
      );
      await grantAccess(db, ctx.appRole, { tenant: TENANT_TABLES });
    },
  };
}
