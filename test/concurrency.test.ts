/**
 * Acceptance: case-file numbers have no gap and no repeat under concurrency.
 *
 * On PostgreSQL: `lligall migrate`, then two `lligall serve --role api` processes on different ports
 * create 500 case files concurrently for one entity; they are numbered 1 to 500. On PGlite (the
 * embedded database belongs to one process) the same 500 concurrent creations go to one server.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import { madridYear } from '#platform/db/counters.ts';
import {
  backend,
  makeServer,
  makeTenant,
  makeToken,
  makeUser,
  openTestEnv,
  type TestEnv,
} from '#test/helpers/harness.ts';
import {
  type Installation,
  openInstallation,
  provisionEntity,
  type ServerProcess,
  startServer,
} from '#test/helpers/installation.ts';

const TOTAL = 500;
const IN_FLIGHT = 20;

type Created = { status: number; number?: string; server: number; body: string };

/** POSTs `TOTAL` case files, request i to server i mod n, with at most IN_FLIGHT at once. */
async function createConcurrently(bases: string[], entity: string, token: string): Promise<Created[]> {
  const results: Created[] = new Array(TOTAL);
  let next = 0;
  const worker = async () => {
    while (next < TOTAL) {
      const i = next++;
      const server = i % bases.length;
      const res = await fetch(`${bases[server]}/api/v1/entities/${entity}/expedients`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: `Expedient concurrent ${i}` }),
      });
      const body = await res.text();
      const number = res.status === 201 ? (JSON.parse(body) as { number: string }).number : undefined;
      results[i] = { status: res.status, server, body, ...(number ? { number } : {}) };
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return results;
}

function assertNumberedOneToTotal(results: Created[], year: number): void {
  const failed = results.filter((r) => r.status !== 201);
  assert.equal(
    failed.length,
    0,
    `${failed.length} creations failed, e.g. ${failed[0]?.status} ${failed[0]?.body}`,
  );
  const numbers = results.map((r) => r.number!);
  assert.equal(new Set(numbers).size, TOTAL, 'a number was given twice');
  const expected = Array.from({ length: TOTAL }, (_, i) => `${year}/${String(i + 1).padStart(6, '0')}`);
  assert.deepEqual([...numbers].sort(), expected);
}

describe(`${TOTAL} case files created concurrently for one entity (${backend()})`, () => {
  if (backend() === 'postgres') {
    let inst: Installation;
    const servers: ServerProcess[] = [];

    before(async () => {
      inst = await openInstallation('postgres');
    });
    after(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      await inst?.close();
    });

    it('two API processes number them 1 to 500, no gap, no repeat', async () => {
      const entity = await provisionEntity(inst);
      // Each API node has its own data directory: they share only the database.
      const started = await Promise.all([
        startServer(inst, { dataDir: inst.newDataDir() }),
        startServer(inst, { dataDir: inst.newDataDir() }),
      ]);
      servers.push(...started);
      assert.notEqual(started[0]!.url, started[1]!.url);
      const year = madridYear(new Date());
      const results = await createConcurrently(
        started.map((s) => s.url),
        entity.dir3,
        entity.token,
      );
      assert.equal(results.filter((r) => r.server === 0 && r.status === 201).length, TOTAL / 2);
      assert.equal(results.filter((r) => r.server === 1 && r.status === 201).length, TOTAL / 2);
      assertNumberedOneToTotal(results, year);

      const owner = new pg.Client({ connectionString: inst.urls!.owner });
      await owner.connect();
      try {
        const rows = await owner.query<{
          n: string;
          lo: number;
          hi: number;
          counter: number;
          audited: string;
        }>(
          `select count(*) as n, min(seq) as lo, max(seq) as hi,
                  (select value from counters where tenant_id = $1 and series = 'expedient') as counter,
                  (select count(*) from audit_events where tenant_id = $1 and action = 'expedient.create') as audited
             from expedients where tenant_id = $1`,
          [entity.tenantId],
        );
        assert.deepEqual(
          { ...rows.rows[0], n: Number(rows.rows[0]!.n), audited: Number(rows.rows[0]!.audited) },
          { n: TOTAL, lo: 1, hi: TOTAL, counter: TOTAL, audited: TOTAL },
        );
      } finally {
        await owner.end();
      }
    });
  } else {
    let env: TestEnv;
    let app: FastifyInstance;

    before(async () => {
      env = await openTestEnv();
      app = await makeServer(env);
      await app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await app?.close();
      await env?.close();
    });

    it('one server on the embedded database numbers them 1 to 500, no gap, no repeat', async () => {
      const tenant = await makeTenant(env);
      const token = await makeToken(env, await makeUser(env, { tenant, roles: ['handler'] }));
      const { port } = app.server.address() as AddressInfo;
      const year = madridYear(new Date());
      const results = await createConcurrently([`http://127.0.0.1:${port}`], tenant.dir3, token);
      assertNumberedOneToTotal(results, year);
      const r = await env.db.owner((tx) =>
        sql<{ n: string; counter: number }>`select count(*) as n,
          (select value from counters where tenant_id = ${tenant.id} and series = 'expedient') as counter
          from expedients where tenant_id = ${tenant.id}`.execute(tx),
      );
      assert.deepEqual(
        { n: Number(r.rows[0]!.n), counter: r.rows[0]!.counter },
        { n: TOTAL, counter: TOTAL },
      );
    });
  }
});
