import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.ts';

/** Issue 5: placeholder until the module's tables land (a migration that does nothing). */
export function seuMigration(_ctx: MigrationContext) {
  return {
    async up(_db: Kysely<unknown>): Promise<void> {},
  };
}
