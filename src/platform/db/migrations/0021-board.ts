import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * The notice board (tauler d'edictes, Llei 26/2010 art. 58) and the seu's technical incidents
 * (RD 203/2021; LPACAP art. 32.4), issue 5.
 *
 * - `board_publications`: a document of a case file published for a period. The text as staff
 *   wrote it and as the public sees it (identifiers masked, LOPDGDD AP7) are both kept; the period
 *   as instants (`visible_from`, `visible_until` = 24:00 Europe/Madrid of the last day); an early
 *   withdrawal (time, who, reason); `ended_at` when the sweeper recorded the end; the certificate
 *   of publication once issued. Never deleted.
 * - `board_incidents`: the seu's technical incidents, an outage or not, with the deadline
 *   extension decided (LPACAP 32.4). The end and the extension are set once each.
 * - `board_due` (platform table): publications whose end the sweeper has still to process
 *   (record the end, issue the certificate), by tenant; lets one sweeper find them across
 *   entities without seeing their rows.
 */
const TENANT_TABLES: Record<string, string> = {
  board_publications: 'SELECT, INSERT, UPDATE',
  board_incidents: 'SELECT, INSERT, UPDATE',
};
const PLATFORM_GRANTS: Record<string, string> = {
  board_due: 'SELECT, INSERT, UPDATE, DELETE',
};

export function boardMigration(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        CREATE TABLE board_publications (
          tenant_id uuid NOT NULL,
          id uuid NOT NULL,
          expedient_id uuid NOT NULL,
          expedient_number text NOT NULL,
          document_id uuid NOT NULL,
          title text NOT NULL,
          summary text NOT NULL,
          public_title text NOT NULL,
          public_summary text NOT NULL,
          start_date date NOT NULL,
          end_date date NOT NULL,
          term_amount integer,
          term_unit text CHECK (term_unit IN ('business_days','calendar_days')),
          visible_from timestamptz NOT NULL,
          visible_until timestamptz NOT NULL,
          personal_data_reviewed boolean NOT NULL CHECK (personal_data_reviewed),
          created_by uuid NOT NULL,
          created_at timestamptz NOT NULL,
          withdrawn_at timestamptz,
          withdrawn_by uuid,
          withdrawal_reason text,
          ended_at timestamptz,
          certificate_document_id uuid,
          certificate_csv text,
          certificate_issued_at timestamptz,
          certificate_incorporated boolean,
          PRIMARY KEY (tenant_id, id),
          FOREIGN KEY (tenant_id, expedient_id) REFERENCES expedients(tenant_id, id),
          FOREIGN KEY (tenant_id, document_id) REFERENCES documents(tenant_id, id),
          FOREIGN KEY (tenant_id, certificate_document_id) REFERENCES documents(tenant_id, id),
          CHECK (end_date >= start_date),
          CHECK (visible_until > visible_from),
          CHECK ((term_amount IS NULL) = (term_unit IS NULL)),
          CHECK ((withdrawn_at IS NULL) = (withdrawal_reason IS NULL))
        );
        CREATE INDEX board_publications_period ON board_publications (tenant_id, visible_until, visible_from);
        CREATE INDEX board_publications_expedient ON board_publications (tenant_id, expedient_id);

        CREATE TABLE board_incidents (
          tenant_id uuid NOT NULL,
          id uuid NOT NULL,
          started_at timestamptz NOT NULL,
          ended_at timestamptz,
          description text NOT NULL,
          outage boolean NOT NULL,
          extension_decision text,
          extension_new_date date,
          extension_days integer CHECK (extension_days > 0),
          extension_recorded_at timestamptz,
          created_by uuid NOT NULL,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id),
          CHECK (ended_at IS NULL OR ended_at > started_at),
          CHECK ((extension_decision IS NULL) = (extension_recorded_at IS NULL))
        );
        CREATE INDEX board_incidents_time ON board_incidents (tenant_id, started_at);

        CREATE TABLE board_due (
          tenant_id uuid NOT NULL,
          publication_id uuid NOT NULL,
          due_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, publication_id)
        );
        CREATE INDEX board_due_at ON board_due (due_at);
      `,
      );
      await grantAccess(db, ctx.appRole, { platform: PLATFORM_GRANTS, tenant: TENANT_TABLES });
    },
  };
}
