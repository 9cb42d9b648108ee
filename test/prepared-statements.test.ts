/**
 * On PostgreSQL the process's hot statements are sent as named (prepared) statements, parsed and
 * planned once per connection (database.ts, nameHotStatements); a schema change that alters one's
 * result columns fails one call at most, and the statement is prepared again. PGlite runs the same
 * statements unnamed: the answers, before and after the change, must be the same on both.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '#platform/db/database.ts';
import { backend, openOneConnectionEnv, type TestEnv } from '#test/helpers/harness.ts';

const onPostgres = backend() === 'postgres';
let env: TestEnv;
let db: Database;
let close: () => Promise<void>;

before(async () => {
  ({ env, db, close } = await openOneConnectionEnv(async (tx, appRole) => {
    await sql`CREATE TABLE statement_probe (id integer PRIMARY KEY, label text NOT NULL)`.execute(tx);
    await sql`INSERT INTO statement_probe VALUES (1, 'u'), (2, 'dos')`.execute(tx);
    await sql`GRANT SELECT ON statement_probe TO ${sql.raw(appRole)}`.execute(tx);
  }));
});
after(() => close());

const probe = (id: number) =>
  db.platform((tx) =>
    sql<Record<string, unknown>>`select * from statement_probe where id = ${id}`
      .execute(tx)
      .then((r) => r.rows),
  );
/** The statements prepared on the connection (PostgreSQL; PGlite prepares none of ours). */
const prepared = () =>
  db.platform((tx) =>
    sql<{
      statement: string;
    }>`select statement from pg_prepared_statements where statement like '%statement_probe%'`
      .execute(tx)
      .then((r) => r.rows.map((x) => x.statement)),
  );

describe('prepared hot statements', () => {
  it('a statement sent a few times is prepared once on the connection, and answers as before', async () => {
    assert.deepEqual(await probe(1), [{ id: 1, label: 'u' }]);
    assert.deepEqual(await prepared(), [], 'not prepared on first use');
    for (let i = 0; i < 6; i++) assert.deepEqual(await probe(2), [{ id: 2, label: 'dos' }]);
    assert.deepEqual(await prepared(), onPostgres ? ['select * from statement_probe where id = $1'] : []);
    assert.deepEqual(await probe(1), [{ id: 1, label: 'u' }]);
  });

  it('after a column is added, at most one call fails and the statement gives the new columns', async () => {
    await env.db.owner((tx) => sql`ALTER TABLE statement_probe ADD COLUMN note text`.execute(tx));
    let failures = 0;
    let rows: Record<string, unknown>[] | undefined;
    for (let i = 0; i < 2 && !rows; i++) {
      try {
        rows = await probe(1);
      } catch (e) {
        failures++;
        assert.match((e as Error).message, /cached plan must not change result type/);
      }
    }
    assert.ok(failures <= (onPostgres ? 1 : 0));
    assert.deepEqual(rows, [{ id: 1, label: 'u', note: null }]);
    assert.deepEqual(await probe(2), [{ id: 2, label: 'dos', note: null }]);
  });
});
