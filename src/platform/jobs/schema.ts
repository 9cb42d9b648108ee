import fs from 'node:fs';
import { getConstructionPlans, getMigrationPlans } from 'pg-boss';

/** The schema pg-boss lives in, apart from the application's tables (`public`). */
export const JOB_SCHEMA = 'pgboss';

/** Runs one SQL text of one or several statements and returns the rows of every statement. */
export type SqlRunner = (text: string) => Promise<{ rows: Record<string, unknown>[] }>;

/** The pg-boss schema version this program's pg-boss expects (package.json `pgboss.schema`). */
export function expectedJobSchemaVersion(): number {
  const pkg = new URL('../package.json', import.meta.resolve('pg-boss'));
  return (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { pgboss: { schema: number } }).pgboss.schema;
}

/** The installed pg-boss schema version, or null when pg-boss is not installed. */
export async function installedJobSchemaVersion(run: SqlRunner): Promise<number | null> {
  const t = await run(`select to_regclass('${JOB_SCHEMA}.version') is not null as installed`);
  if (!t.rows[0]?.installed) return null;
  const v = await run(`select version from ${JOB_SCHEMA}.version`);
  return v.rows[0] ? Number(v.rows[0].version) : null;
}

/**
 * Installs or upgrades the pg-boss schema as the **owner** role (at `lligall migrate`, or when the
 * embedded database opens), then grants the application role what pg-boss needs at run time:
 * reading and writing its rows and calling its functions, never DDL. The running server starts
 * pg-boss with `migrate: false`, so a pg-boss upgrade without `lligall migrate` stops it with a
 * clear schema error instead of altering tables as the application role.
 *
 * pg-boss's plans take its own advisory lock and run in their own transaction; the upgrade plans
 * build their indexes inline (no background builder), as pg-boss does for hand-run migrations.
 */
export async function installJobSchema(run: SqlRunner, appRole: string): Promise<void> {
  const expected = expectedJobSchemaVersion();
  const installed = await installedJobSchemaVersion(run);
  if (installed === null) await run(getConstructionPlans(JOB_SCHEMA));
  else if (installed < expected) await run(getMigrationPlans(JOB_SCHEMA, installed));
  // Our meaning of `singletonKey` (see jobs.ts): at most one unfinished job per name and key.
  // pg-boss inserts jobs with ON CONFLICT DO NOTHING, so a second send returns null.
  await run(
    `CREATE UNIQUE INDEX IF NOT EXISTS lligall_job_singleton_key ON ${JOB_SCHEMA}.job (name, singleton_key)
       WHERE singleton_key IS NOT NULL AND state < 'completed'`,
  );
  await run(`
    REVOKE ALL ON SCHEMA ${JOB_SCHEMA} FROM PUBLIC;
    GRANT USAGE ON SCHEMA ${JOB_SCHEMA} TO ${appRole};
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${JOB_SCHEMA} TO ${appRole};
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${JOB_SCHEMA} TO ${appRole};
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${JOB_SCHEMA} TO ${appRole};
  `);
}
