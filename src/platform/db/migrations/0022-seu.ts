import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * The seu electrònica's published facts of each entity (issue 5, item 3; RD 203/2021 art. 9–11).
 *
 * - `seu_settings`: one row per entity, what its administrator enters for the seu to publish — the
 *   entity's contact, the act that created the seu, the generic request's maximum term and effect
 *   of silence, the accessibility statement (RD 1112/2018) and the privacy notice (GDPR art. 13).
 *   `data` is validated by the route's strict schema (src/modules/seu/seu.routes.ts) before it is
 *   stored; every change is audited. No row: nothing entered yet (the seu says so).
 */
const TENANT_TABLES: Record<string, string> = {
  seu_settings: 'SELECT, INSERT, UPDATE',
};

export function seuMigration(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        CREATE TABLE seu_settings (
          tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
          data jsonb NOT NULL,
          updated_at timestamptz NOT NULL,
          updated_by uuid
        );
      `,
      );
      await grantAccess(db, ctx.appRole, { tenant: TENANT_TABLES });
    },
  };
}
