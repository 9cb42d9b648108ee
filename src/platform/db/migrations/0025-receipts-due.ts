import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * `registry_receipts_due` (platform table): the registry entries whose receipt (LPACAP art. 16.3)
 * is owed and not yet recorded, by tenant. The entry's own statement adds its row; the statement
 * that records the receipt removes it. The request that made the entry issues the receipt at once;
 * a sweeper issues the others from this list (the process died in between, the entity had no
 * seal yet), across entities without seeing their rows, and keeps the attempts and the last
 * error of those it could not issue: the Diputació's console lists the entities that owe receipts. Replaces a pg-boss job per entry, which
 * cost the entry a second insert and, seconds later, a job run to find the receipt done.
 * Entries without a receipt when this migration runs are put on the list.
 */
export function receiptsDueMigration(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        CREATE TABLE registry_receipts_due (
          tenant_id uuid NOT NULL,
          entry_id uuid NOT NULL,
          -- when the entry was made: the receipt is owed from then (the console shows how long)
          owed_since timestamptz NOT NULL,
          due_at timestamptz NOT NULL,
          attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
          last_error text,
          PRIMARY KEY (tenant_id, entry_id),
          FOREIGN KEY (tenant_id, entry_id) REFERENCES registry_entries(tenant_id, id)
        );
        CREATE INDEX registry_receipts_due_at ON registry_receipts_due (due_at);
        INSERT INTO registry_receipts_due (tenant_id, entry_id, owed_since, due_at)
          SELECT e.tenant_id, e.id, e.registered_at, now() FROM registry_entries e
           WHERE NOT EXISTS (SELECT 1 FROM registry_receipts r WHERE r.tenant_id = e.tenant_id AND r.entry_id = e.id);
      `,
      );
      await grantAccess(db, ctx.appRole, {
        platform: { registry_receipts_due: 'SELECT, INSERT, UPDATE, DELETE' },
      });
    },
  };
}
