/**
 * Statements deferred to a transaction's COMMIT (database.ts, deferToCommit): on PostgreSQL they
 * go with the COMMIT in one round trip (CommitTail); on PGlite the caller runs them at once. Either
 * way the transaction keeps all of its work or none of it, and the connection stays usable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type CompiledQuery, sql } from 'kysely';
import { type Database, deferOrRun, type Tx } from '#platform/db/database.ts';
import { backend, openOneConnectionEnv } from '#test/helpers/harness.ts';

const onPostgres = backend() === 'postgres';
let db: Database;
let close: () => Promise<void>;

before(async () => {
  ({ db, close } = await openOneConnectionEnv(async (tx, appRole) => {
    await sql`CREATE TABLE tail_probe (id integer PRIMARY KEY, label text NOT NULL)`.execute(tx);
    await sql`GRANT SELECT, INSERT ON tail_probe TO ${sql.raw(appRole)}`.execute(tx);
  }));
});
after(() => close());

const insert = (tx: Tx, id: number, label: string): CompiledQuery =>
  sql`insert into tail_probe (id, label) values (${id}, ${label})`.compile(tx);

const labels = () =>
  db.platform((tx) =>
    sql<{ id: number; label: string }>`select id, label from tail_probe order by id`
      .execute(tx)
      .then((r) => r.rows.map((x) => `${x.id}:${x.label}`)),
  );

describe('statements sent with the commit', () => {
  it('are written with the transaction, after its other statements, and only on PostgreSQL deferred', async () => {
    const deferred = await db.platform(async (tx) => {
      await tx.executeQuery(insert(tx, 1, 'now'));
      const d = await deferOrRun(tx, insert(tx, 2, 'with commit'));
      await deferOrRun(tx, insert(tx, 3, 'with commit too'));
      // Not written yet where deferred: this transaction does not see them before its commit.
      const seen = await sql<{ n: number }>`select count(*)::int as n from tail_probe`.execute(tx);
      assert.equal(seen.rows[0]!.n, d ? 1 : 3);
      return d;
    });
    assert.equal(deferred, onPostgres);
    assert.deepEqual(await labels(), ['1:now', '2:with commit', '3:with commit too']);
  });

  it('a failing one fails the commit: none of the transaction is kept, and the connection works on', async () => {
    await assert.rejects(
      db.platform(async (tx) => {
        await tx.executeQuery(insert(tx, 10, 'kept only with the rest'));
        await deferOrRun(tx, insert(tx, 11, 'fine'));
        await deferOrRun(tx, insert(tx, 1, 'a key taken')); // 23505
        await deferOrRun(tx, insert(tx, 12, 'after the failure'));
      }),
      (e: { code?: string }) => e.code === '23505',
    );
    assert.deepEqual(await labels(), ['1:now', '2:with commit', '3:with commit too']);
    await db.platform((tx) => deferOrRun(tx, insert(tx, 4, 'next')));
    assert.deepEqual((await labels()).at(-1), '4:next');
  });

  it('the same deferred statement many times (prepared after a few), also after one of them failed', async () => {
    for (let i = 20; i < 30; i++) await db.platform((tx) => deferOrRun(tx, insert(tx, i, `n${i}`)));
    await assert.rejects(
      db.platform((tx) => deferOrRun(tx, insert(tx, 20, 'again'))),
      {
        code: '23505',
      },
    );
    for (let i = 30; i < 36; i++) await db.platform((tx) => deferOrRun(tx, insert(tx, i, `n${i}`)));
    const all = await labels();
    assert.equal(all.filter((l) => /^\d+:n\d+$/.test(l)).length, 16);
    assert.ok(!all.includes('20:again'));
  });

  it('a deferred statement’s rows reach its receiver after the commit, parsed as any query’s; never when the commit fails', async () => {
    let got: unknown[] | undefined;
    let seenBeforeCommit: unknown[] | undefined;
    const returning = (tx: Tx, id: number) =>
      sql`insert into tail_probe (id, label) values (${id}, 'r' || ${id}::text)
          returning id, label, now() as at, ${id}::bigint * 2 as twice`.compile(tx);
    await db.platform(async (tx) => {
      await deferOrRun(tx, insert(tx, 40, 'no rows wanted'));
      await deferOrRun(tx, returning(tx, 41), (rows) => {
        got = rows;
      });
      await deferOrRun(tx, insert(tx, 42, 'after'));
      seenBeforeCommit = got;
    });
    // Deferred on PostgreSQL (nothing before the commit), run at once on PGlite.
    assert.equal(seenBeforeCommit === undefined, onPostgres);
    assert.equal(got?.length, 1);
    const row = got![0] as { id: number; label: string; at: Date; twice: string };
    assert.deepEqual([row.id, row.label, Number(row.twice)], [41, 'r41', 82]);
    assert.ok(row.at instanceof Date, 'timestamps are parsed to dates, as for any query');
    let failed: unknown[] | undefined;
    await assert.rejects(
      db.platform(async (tx) => {
        await deferOrRun(tx, returning(tx, 43), (rows) => {
          failed = rows;
        });
        await deferOrRun(tx, insert(tx, 41, 'a key taken'));
      }),
      { code: '23505' },
    );
    if (onPostgres) assert.equal(failed, undefined, 'no rows from a transaction that did not commit');
    assert.ok(!(await labels()).includes('43:r43'));
  });

  it('a transaction’s role and entity are set however it starts: with its first statement, or with its COMMIT when it sends nothing before', async () => {
    const tenant = '00000000-0000-4000-8000-0000000000aa';
    const seen = await db.tenant(tenant, async (tx) => {
      const r = await sql<{
        t: string;
        r: string;
      }>`select current_setting('app.tenant') as t, current_user as r`.execute(tx);
      return r.rows[0]!;
    });
    assert.equal(seen.t, tenant);
    let inTail: { t: string; r: string } | undefined;
    let outside: string | undefined;
    await db.tenant(tenant, async (tx) => {
      // Nothing sent before the COMMIT: the BEGIN and its settings go with the deferred statement.
      await deferOrRun(
        tx,
        sql`insert into tail_probe (id, label) values (50, current_setting('app.tenant'))
            returning current_setting('app.tenant') as t, current_user as r`.compile(tx),
        (rows) => {
          inTail = rows[0] as { t: string; r: string };
        },
      );
    });
    assert.deepEqual(inTail, seen);
    assert.ok((await labels()).includes(`50:${tenant}`));
    // A transaction that sends nothing commits; one that fails before sending anything rolls back;
    // the connection is fine after both, and its next transaction starts afresh.
    await db.tenant(tenant, async () => undefined);
    await assert.rejects(
      db.tenant(tenant, async () => {
        throw new Error('refused before any statement');
      }),
      /refused before any statement/,
    );
    await db.platform(async (tx) => {
      outside = (await sql<{ t: string }>`select current_setting('app.tenant', true) as t`.execute(tx))
        .rows[0]!.t;
    });
    assert.notEqual(outside, tenant, 'the entity set for one transaction is not left on the connection');
  });
});
