import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * A version of everything an entity's business-day calendar is made of, so that a process can keep
 * calendars it has built and ask one indexed question instead of six before each use (the registry
 * computes the effective time of every entry, art. 31.2). Triggers give it a new random value on
 * every change to the calendar tables and to the tenant columns a seat's calendar depends on
 * (kind, parent, INE code, comarca, name), whatever writes them: a correction takes effect in the
 * very next entry, in every process. Random rather than counted: two databases never share a
 * version unless one is an unchanged copy of the other (a test template), whose calendars are
 * then the same. The row appears with the first change (the shipped data's first load); it is not
 * backed up (src/platform/backup/catalogue.ts): a restore makes a new one as it loads the calendar.
 */
const CALENDAR_TABLES = [
  'calendar_regional_days',
  'calendar_regional_years',
  'calendar_local_days',
  'calendar_local_years',
  'calendar_seeds',
  'calendar_entity_days',
  'calendar_entity_years',
];

export function calendarVersionMigration(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        CREATE TABLE calendar_version (
          singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
          version uuid NOT NULL
        );
        CREATE FUNCTION lligall_calendar_version_bump() RETURNS trigger LANGUAGE plpgsql
          SECURITY DEFINER SET search_path = public AS $$
        BEGIN
          INSERT INTO calendar_version (singleton, version) VALUES (true, gen_random_uuid())
            ON CONFLICT (singleton) DO UPDATE SET version = excluded.version;
          RETURN NULL;
        END $$;
        REVOKE ALL ON FUNCTION lligall_calendar_version_bump() FROM PUBLIC;
        ${CALENDAR_TABLES.map(
          (t) => `CREATE TRIGGER ${t}_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${t}
          FOR EACH STATEMENT EXECUTE FUNCTION lligall_calendar_version_bump();`,
        ).join('\n')}
        CREATE TRIGGER tenants_calendar_version AFTER UPDATE OF kind, parent_id, ine, comarca, name ON tenants
          FOR EACH STATEMENT EXECUTE FUNCTION lligall_calendar_version_bump();
      `,
      );
      await grantAccess(db, ctx.appRole, { platform: { calendar_version: 'SELECT' } });
    },
  };
}
