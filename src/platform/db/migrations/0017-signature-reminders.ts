import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * Reminders of pending signatures (issue 4, item 3).
 *
 * - `circuit_reminders`: each reminder sent to the pending signers of a circuit's step — by its
 *   creator or an administrator (`manual`) or by the daily sweeper when a step has waited too long
 *   (`automatic`) — with whom it reached. Append-only.
 * - `signature_inbox.reminded_at` / `reminders`: what the signer's inbox shows (the last reminder
 *   and how many) for the act still pending; kept while the signer's act is pending on that step.
 */
const TENANT_TABLES: Record<string, string> = {
  circuit_reminders: 'SELECT, INSERT',
};
/** The inbox rows of a reminded act are updated (reminded_at, reminders); 0013 granted no UPDATE. */
const PLATFORM_GRANTS: Record<string, string> = {
  signature_inbox: 'SELECT, INSERT, UPDATE, DELETE',
};

export function signatureReminders(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        ALTER TABLE signature_inbox ADD COLUMN reminded_at timestamptz;
        ALTER TABLE signature_inbox ADD COLUMN reminders integer NOT NULL DEFAULT 0 CHECK (reminders >= 0);
        CREATE TABLE circuit_reminders (
          tenant_id uuid NOT NULL,
          id uuid NOT NULL,
          circuit_id uuid NOT NULL,
          step_no integer NOT NULL,
          kind text NOT NULL CHECK (kind IN ('manual','automatic')),
          recipients uuid[] NOT NULL,
          created_by uuid,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id),
          FOREIGN KEY (tenant_id, circuit_id, step_no) REFERENCES circuit_steps(tenant_id, circuit_id, step_no)
        );
        CREATE INDEX circuit_reminders_step ON circuit_reminders (tenant_id, circuit_id, step_no, created_at);
      `,
      );
      await grantAccess(db, ctx.appRole, { platform: PLATFORM_GRANTS, tenant: TENANT_TABLES });
    },
  };
}
