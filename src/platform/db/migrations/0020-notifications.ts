import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * Notifications (LPACAP art. 40–46; issue 5 item 5). Tenant tables under row-level security.
 *
 * - `notifications`: one row per recipient (a party of the case file). What was notified (the
 *   act's text, whether it ends the administrative route, the appeals, the documents, the output
 *   registry entry) is permanent: the application role may update only the columns of its
 *   progress (state, access, rejection, notification date, who acted).
 * - `notification_attempts`: paper delivery attempts (art. 42.2), append-only.
 * - `notification_evidence`: one row per outcome (and the edict), written with the outcome in its
 *   transaction; the sealed PDF is issued right after commit (or by its job) and filled in then.
 * - `notification_publications`: the outbox of art. 44 publications (BOE), one per notification.
 */
const TENANT_TABLES: Record<string, string> = {
  notifications:
    'SELECT, INSERT, UPDATE (state, notified_at, accessed_at, rejected_at, acted_by, delivery_ref)',
  notification_attempts: 'SELECT, INSERT',
  notification_evidence: 'SELECT, INSERT, UPDATE (document_id, csv, seal_id, issued_at, incorporated)',
  notification_publications: 'SELECT, INSERT, UPDATE (state, sent_at, external_reference)',
};

export function notificationsMigration(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        CREATE TABLE notifications (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          id uuid NOT NULL,
          batch_id uuid NOT NULL,
          expedient_id uuid NOT NULL,
          party_id uuid NOT NULL,
          recipient_identifier text NOT NULL,
          recipient_name text NOT NULL,
          language text NOT NULL CHECK (language IN ('ca','es','oc-aranes')),
          subject text NOT NULL,
          act_text text NOT NULL,
          ends_administrative_route boolean NOT NULL,
          appeals jsonb NOT NULL,
          document_ids uuid[] NOT NULL,
          channel text NOT NULL CHECK (channel IN ('electronic','paper')),
          electronic_basis text CHECK (electronic_basis IN ('compulsory','chosen')),
          state text NOT NULL CHECK (state IN ('available','accepted','rejected','deemed_rejected','delivered','failed','sent_for_publication')),
          made_available_at timestamptz NOT NULL,
          available_until timestamptz,
          registry_entry_id uuid NOT NULL,
          registry_number text NOT NULL,
          notified_at timestamptz,
          accessed_at timestamptz,
          rejected_at timestamptz,
          acted_by jsonb,
          delivery text NOT NULL DEFAULT 'local',
          delivery_ref text,
          created_by uuid,
          created_by_label text NOT NULL,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id),
          CHECK ((channel = 'electronic') = (electronic_basis IS NOT NULL)),
          CHECK ((channel = 'electronic') = (available_until IS NOT NULL)),
          FOREIGN KEY (tenant_id, expedient_id) REFERENCES expedients(tenant_id, id),
          FOREIGN KEY (tenant_id, party_id) REFERENCES parties(tenant_id, id),
          FOREIGN KEY (tenant_id, registry_entry_id) REFERENCES registry_entries(tenant_id, id)
        );
        CREATE INDEX notifications_expedient ON notifications (tenant_id, expedient_id, created_at);
        CREATE INDEX notifications_recipient ON notifications (tenant_id, recipient_identifier, made_available_at);
        CREATE INDEX notifications_due ON notifications (tenant_id, available_until) WHERE state = 'available' AND channel = 'electronic';
        CREATE TABLE notification_attempts (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          id uuid NOT NULL,
          notification_id uuid NOT NULL,
          attempt_no integer NOT NULL CHECK (attempt_no BETWEEN 1 AND 2),
          attempted_at timestamptz NOT NULL,
          outcome text NOT NULL CHECK (outcome IN ('delivered','absent','unknown_address','rejected')),
          receiver_kind text CHECK (receiver_kind IN ('party','other')),
          receiver_name text,
          receiver_document text,
          receiver_relationship text,
          acknowledgement_document_id uuid,
          notes text,
          recorded_by uuid,
          recorded_by_label text NOT NULL,
          recorded_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id),
          UNIQUE (tenant_id, notification_id, attempt_no),
          CHECK ((outcome = 'delivered') = (receiver_kind IS NOT NULL)),
          CHECK (receiver_kind IS DISTINCT FROM 'other' OR (receiver_name IS NOT NULL AND receiver_document IS NOT NULL)),
          FOREIGN KEY (tenant_id, notification_id) REFERENCES notifications(tenant_id, id),
          FOREIGN KEY (tenant_id, acknowledgement_document_id) REFERENCES documents(tenant_id, id)
        );
        CREATE TABLE notification_evidence (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          notification_id uuid NOT NULL,
          key text NOT NULL CHECK (key IN ('accepted','rejected','deemed_rejected','delivered','rejected_on_paper','failed','edict')),
          outcome_at timestamptz NOT NULL,
          facts jsonb NOT NULL,
          language text NOT NULL CHECK (language IN ('ca','es','oc-aranes')),
          document_id uuid,
          csv text UNIQUE REFERENCES csv_index(csv),
          seal_id uuid,
          issued_at timestamptz,
          incorporated boolean,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, notification_id, key),
          FOREIGN KEY (tenant_id, notification_id) REFERENCES notifications(tenant_id, id),
          FOREIGN KEY (tenant_id, document_id) REFERENCES documents(tenant_id, id),
          FOREIGN KEY (tenant_id, seal_id) REFERENCES seals(tenant_id, id)
        );
        CREATE INDEX notification_evidence_pending ON notification_evidence (tenant_id) WHERE issued_at IS NULL;
        CREATE TABLE notification_publications (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          id uuid NOT NULL,
          notification_id uuid NOT NULL,
          bulletin text NOT NULL CHECK (bulletin IN ('BOE')),
          state text NOT NULL CHECK (state IN ('sent_for_publication','published')),
          published_identifier text NOT NULL,
          edict_text text NOT NULL,
          requested_by uuid,
          requested_by_label text NOT NULL,
          requested_at timestamptz NOT NULL,
          sent_at timestamptz,
          external_reference text,
          PRIMARY KEY (tenant_id, id),
          UNIQUE (tenant_id, notification_id),
          FOREIGN KEY (tenant_id, notification_id) REFERENCES notifications(tenant_id, id)
        );
      `,
      );
      await grantAccess(db, ctx.appRole, { tenant: TENANT_TABLES });
    },
  };
}
