import { type Kysely, sql } from 'kysely';
import { execScript } from '../script.ts';

/**
 * Grants the application role its privileges on platform tables (no row-level security), and
 * puts tenant tables under forced row-level security keyed on the transaction-local
 * `app.tenant` (ARCHITECTURE data rule 1), with their privileges. Every migration that creates
 * tables calls this; the isolation test checks that no table escapes it.
 */
export async function grantAccess(
  db: Kysely<unknown>,
  appRole: string,
  tables: { platform?: Record<string, string>; tenant?: Record<string, string> },
): Promise<void> {
  for (const [table, privileges] of Object.entries(tables.platform ?? {})) {
    await sql.raw(`GRANT ${privileges} ON ${table} TO ${appRole}`).execute(db);
  }
  for (const [table, privileges] of Object.entries(tables.tenant ?? {})) {
    await execScript(
      db,
      `
      ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;
      ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;
      CREATE POLICY tenant_isolation ON ${table} TO ${appRole}
        USING (tenant_id = nullif(current_setting('app.tenant', true), '')::uuid)
        WITH CHECK (tenant_id = nullif(current_setting('app.tenant', true), '')::uuid);
      CREATE POLICY owner_all ON ${table} TO CURRENT_USER USING (true) WITH CHECK (true);
      GRANT ${privileges} ON ${table} TO ${appRole};
    `,
    );
  }
}
