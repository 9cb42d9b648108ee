import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * `cache_versions` (platform table): a version of data that processes keep in memory, renewed by
 * triggers on every change to it, whatever writes it and in whichever process, as
 * `calendar_version` (0024) is for the calendars. `seals`: the entities' seals and the resolutions
 * behind their automated actions (the registry reads both for every receipt). A request reads the
 * versions with its entity, in the statement sent with BEGIN (Database.tenantByRef), so a cache
 * keyed by them costs no round trip, and a change takes effect in the very next request, in every
 * process. Random rather than counted (see 0024). Not backed up: a restore renews it as it loads
 * the seals.
 */
export function cacheVersionsMigration(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        CREATE TABLE cache_versions (
          name text PRIMARY KEY CHECK (name IN ('seals')),
          version uuid NOT NULL
        );
        CREATE FUNCTION lligall_seals_version_bump() RETURNS trigger LANGUAGE plpgsql
          SECURITY DEFINER SET search_path = public AS $$
        BEGIN
          INSERT INTO cache_versions (name, version) VALUES ('seals', gen_random_uuid())
            ON CONFLICT (name) DO UPDATE SET version = excluded.version;
          RETURN NULL;
        END $$;
        REVOKE ALL ON FUNCTION lligall_seals_version_bump() FROM PUBLIC;
        CREATE TRIGGER seals_cache_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON seals
          FOR EACH STATEMENT EXECUTE FUNCTION lligall_seals_version_bump();
        CREATE TRIGGER automation_resolutions_cache_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON automation_resolutions
          FOR EACH STATEMENT EXECUTE FUNCTION lligall_seals_version_bump();
        INSERT INTO cache_versions (name, version) VALUES ('seals', gen_random_uuid());
      `,
      );
      await grantAccess(db, ctx.appRole, { platform: { cache_versions: 'SELECT' } });
    },
  };
}
