import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * E-mail outbox (issue 5, item 7): each message an entity sends (notification alerts, filing
 * confirmations, representation notices), queued with the act that causes it and sent after
 * commit by the `mail.send` job. Rows are updated only to record attempts and the sending.
 */
const TENANT_TABLES: Record<string, string> = {
  mail_outbox: 'SELECT, INSERT, UPDATE',
};

export function mailMigration(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        CREATE TABLE mail_outbox (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          id uuid NOT NULL,
          to_address text NOT NULL,
          language text NOT NULL CHECK (language IN ('ca','es','oc-aranes')),
          template text NOT NULL,
          params jsonb NOT NULL,
          subject text NOT NULL,
          created_at timestamptz NOT NULL,
          sent_at timestamptz,
          attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
          last_error text,
          message_id text,
          PRIMARY KEY (tenant_id, id)
        );
        CREATE INDEX mail_outbox_unsent ON mail_outbox (tenant_id, created_at) WHERE sent_at IS NULL;
      `,
      );
      await grantAccess(db, ctx.appRole, { tenant: TENANT_TABLES });
    },
  };
}
