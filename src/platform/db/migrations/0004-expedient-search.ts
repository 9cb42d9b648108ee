import { type Kysely, sql } from 'kysely';
import { FOLD_SQL_FROM, FOLD_SQL_TO } from '../search.ts';
import type { MigrationContext } from './index.ts';

/**
 * Case-file search ignores case and accents like the parties search: a stored, folded copy of
 * the title, matched with LIKE (row-level security keeps ILIKE from being cheap).
 */
export function expedientSearch(_ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await sql`
        CREATE FUNCTION lligall_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN translate(lower(t), ${sql.lit(FOLD_SQL_FROM)}, ${sql.lit(FOLD_SQL_TO)})`.execute(db);
      await sql`ALTER TABLE expedients ADD COLUMN title_search text GENERATED ALWAYS AS (lligall_fold(title)) STORED`.execute(
        db,
      );
    },
  };
}
