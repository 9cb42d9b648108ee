import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { noRequest, systemActor } from '#platform/context.ts';
import { asTenant, type Tx } from '#platform/db/database.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { chainHash } from '#modules/audit/audit.chain.ts';
import { checkpointsDir, sealCheckpoints } from '#modules/audit/audit.checkpoint.ts';
import {
  auditMark,
  chainAppends,
  discardEventsAfter,
  recordEvent,
  storedEventFromRow,
} from '#modules/audit/audit.service.ts';
import { verifyAudit } from '#modules/audit/audit.verify.ts';
import { chainedFields } from '#modules/audit/audit.walk.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { backend, makeTenant, makeUser, openTestEnv, type TestEnv } from '#test/helpers/harness.ts';

let env: TestEnv;

before(async () => {
  env = await openTestEnv();
});
after(async () => {
  await env?.close();
});

/** A tenant whose own chain holds exactly n events (seq 1..n). */
async function tenantWithEvents(n: number): Promise<Tenant> {
  const t = await makeTenant(env);
  await appendEvents(t, n);
  return t;
}

async function appendEvents(t: Tenant, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    env.clock.advance(1000);
    await env.db.tenant(t.id, (tx) =>
      recordEvent(tx, {
        tenantId: t.id,
        actor: systemActor,
        request: noRequest,
        clock: env.clock,
        action: 'test.event',
        objectType: 'thing',
        objectId: `obj-${i}`,
        details: { i, note: 'àèò·l' },
      }),
    );
  }
}

async function verifyOne(t: Tenant) {
  const [r] = await verifyAudit(env, { tenantDir3: t.dir3, seal: false });
  assert.ok(r);
  return r;
}

/** As an attacker with the owner role: change event `seq`, then recompute every later hash and the head. */
async function rewriteFrom(t: Tenant, seq: number): Promise<void> {
  await env.db.owner(async (tx) => {
    await sql`update audit_events set details = ${JSON.stringify({ forged: true })}::jsonb
      where tenant_id = ${t.id} and seq = ${seq}`.execute(tx);
    const rows = await tx
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', t.id)
      .where('seq', '>=', String(seq))
      .orderBy('seq')
      .execute();
    let prev = seq === 1 ? '0'.repeat(64) : (rows[0]?.prev_hash as string);
    for (const r of rows) {
      const e = storedEventFromRow(r);
      const hash = chainHash(prev, chainedFields(e));
      await sql`update audit_events set prev_hash = ${prev}, hash = ${hash}
        where tenant_id = ${t.id} and seq = ${e.seq}`.execute(tx);
      prev = hash;
    }
    await sql`update audit_heads set hash = ${prev} where tenant_id = ${t.id}`.execute(tx);
  });
}

describe('audit verify', () => {
  test('an untouched log verifies, and verifying seals checkpoints outside the database', async () => {
    const t = await tenantWithEvents(5);
    await makeUser(env, { tenant: t });
    const results = await verifyAudit(env);
    assert.ok(results.length >= 2);
    for (const r of results) assert.equal(r.ok, true, `${r.tenantId}: ${r.reason}`);
    assert.equal(results[0]!.tenantId, PLATFORM_TENANT);
    assert.equal(results[0]!.dir3, null);
    const mine = results.find((r) => r.tenantId === t.id)!;
    assert.equal(mine.dir3, t.dir3);
    assert.equal(mine.events, 6); // 5 events + the membership grant
    assert.equal(mine.checkpoints, 0);
    assert.match(mine.warnings.join(), /no checkpoints yet/);
    assert.equal(mine.sealedSeq, 6);

    const dir = path.join(checkpointsDir(env.blobs), t.id);
    assert.deepEqual(fs.readdirSync(dir).sort(), [
      '00000000000000000006.hashes',
      '00000000000000000006.json',
    ]);
    const cp = JSON.parse(fs.readFileSync(path.join(dir, '00000000000000000006.json'), 'utf8'));
    assert.equal(cp.tenantId, t.id);
    assert.equal(cp.seq, 6);
    assert.equal(cp.sealedAt, env.clock.now().toISOString());
    assert.match(cp.seal, /^[0-9a-f]{64}$/);
    assert.equal(fs.statSync(path.join(dir, '00000000000000000006.json')).mode & 0o777, 0o600);
    assert.equal(fs.statSync(env.config.masterKeyFile).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(env.config.masterKeyFile)).mode & 0o777, 0o700);

    const again = await verifyAudit(env, { tenantDir3: t.dir3 });
    assert.equal(again[0]!.ok, true);
    assert.equal(again[0]!.checkpoints, 1);
    assert.equal(again[0]!.sealedSeq, undefined); // head unchanged: nothing new to seal

    await appendEvents(t, 3);
    const seals = await sealCheckpoints(env);
    assert.deepEqual(
      seals.find((s) => s.tenantId === t.id),
      { tenantId: t.id, status: 'sealed', seq: 9 },
    );
    assert.ok(seals.filter((s) => s.tenantId !== t.id).every((s) => s.status === 'unchanged'));
    const hashes = fs
      .readFileSync(path.join(dir, '00000000000000000009.hashes'), 'latin1')
      .trim()
      .split('\n');
    assert.equal(hashes.length, 3); // events 7, 8 and 9
    const last = await verifyOne(t);
    assert.equal(last.ok, true);
    assert.equal(last.checkpoints, 2);
  });

  test('a deleted middle event is named', async () => {
    const t = await tenantWithEvents(10);
    await sealCheckpoints(env);
    await env.db.owner((tx) =>
      sql`delete from audit_events where tenant_id = ${t.id} and seq = 5`.execute(tx),
    );
    const r = await verifyOne(t);
    assert.equal(r.ok, false);
    assert.equal(r.firstBadSeq, 5);
    assert.match(r.reason!, /event 5 is missing/);
    assert.equal(r.events, 9);
  });

  test('an event changed without recomputing hashes is named', async () => {
    const t = await tenantWithEvents(10);
    await env.db.owner((tx) =>
      sql`update audit_events set actor_label = 'someone else' where tenant_id = ${t.id} and seq = 7`.execute(
        tx,
      ),
    );
    const r = await verifyOne(t);
    assert.equal(r.ok, false);
    assert.equal(r.firstBadSeq, 7);
    assert.match(r.reason!, /content does not match/);
  });

  test('a timestamp changed below the millisecond is named', async () => {
    const t = await tenantWithEvents(4);
    await env.db.owner((tx) =>
      sql`update audit_events set at = at + interval '1 microsecond' where tenant_id = ${t.id} and seq = 2`.execute(
        tx,
      ),
    );
    const r = await verifyOne(t);
    assert.equal(r.firstBadSeq, 2);
  });

  test('a truncated tail is named by the head', async () => {
    const t = await tenantWithEvents(10);
    await env.db.owner((tx) =>
      sql`delete from audit_events where tenant_id = ${t.id} and seq > 8`.execute(tx),
    );
    const r = await verifyOne(t);
    assert.equal(r.ok, false);
    assert.equal(r.firstBadSeq, 9);
    assert.match(r.reason!, /head is at 10 but the log ends at 8/);
  });

  test('a truncated tail with the head moved back is named by the checkpoint', async () => {
    const t = await tenantWithEvents(10);
    await sealCheckpoints(env);
    await env.db.owner(async (tx) => {
      await sql`delete from audit_events where tenant_id = ${t.id} and seq > 8`.execute(tx);
      await sql`update audit_heads set seq = 8, hash = (select hash from audit_events where tenant_id = ${t.id} and seq = 8)
        where tenant_id = ${t.id}`.execute(tx);
    });
    const r = await verifyOne(t);
    assert.equal(r.ok, false);
    assert.equal(r.firstBadSeq, 9);
    assert.match(r.reason!, /covers up to 10, but the log ends at 8/);
    // A sealer never seals a chain that went backwards.
    const s = (await sealCheckpoints(env)).find((x) => x.tenantId === t.id);
    assert.equal(s?.status, 'refused');
  });

  test('a changed event with every later hash and the head recomputed is named through the checkpoints', async () => {
    const t = await tenantWithEvents(6);
    await sealCheckpoints(env); // checkpoint at 6 (hashes of 1..6)
    await appendEvents(t, 6);
    await sealCheckpoints(env); // checkpoint at 12 (hashes of 7..12)
    await appendEvents(t, 2); // 13, 14 not sealed yet
    await rewriteFrom(t, 9);
    const before = await verifyOne(t);
    assert.equal(before.ok, false);
    assert.equal(before.firstBadSeq, 9);
    assert.match(before.reason!, /event 9 differs from its sealed checkpoint hash/);

    const t2 = await tenantWithEvents(6);
    await sealCheckpoints(env);
    await rewriteFrom(t2, 2);
    const r2 = await verifyOne(t2);
    assert.equal(r2.firstBadSeq, 2);

    // Without checkpoints the same rewrite cannot be seen: this is what checkpoints are for.
    const t3 = await tenantWithEvents(6);
    await rewriteFrom(t3, 3);
    assert.equal((await verifyOne(t3)).ok, true);
  });

  test('a checkpoint with a wrong seal is reported', async () => {
    const t = await tenantWithEvents(3);
    await sealCheckpoints(env);
    const file = path.join(checkpointsDir(env.blobs), t.id, '00000000000000000003.json');
    const cp = JSON.parse(fs.readFileSync(file, 'utf8'));
    cp.sealedAt = '2020-01-01T00:00:00.000Z';
    fs.writeFileSync(file, JSON.stringify(cp));
    const r = await verifyOne(t);
    assert.equal(r.ok, false);
    assert.equal(r.firstBadSeq, undefined);
    assert.match(r.reason!, /seal does not match/);
  });

  test('a chain removed from the database entirely is still found through its checkpoints', async () => {
    const t = await tenantWithEvents(3);
    await sealCheckpoints(env);
    await env.db.owner(async (tx) => {
      await sql`delete from audit_events where tenant_id = ${t.id}`.execute(tx);
      await sql`delete from audit_heads where tenant_id = ${t.id}`.execute(tx);
    });
    const r = (await verifyAudit(env, { seal: false })).find((x) => x.tenantId === t.id);
    assert.equal(r?.ok, false);
    assert.equal(r?.firstBadSeq, 1);
  });

  test('reading in small batches gives the same answer', async () => {
    const t = await tenantWithEvents(12);
    await sealCheckpoints(env);
    await rewriteFrom(t, 5);
    const [r] = await verifyAudit(env, { tenantDir3: t.dir3, seal: false, batchSize: 3 });
    assert.equal(r?.firstBadSeq, 5);
    assert.equal(r?.events, 12);
  });

  test('a gap longer than a batch is named by its first missing seq', async () => {
    const t = await tenantWithEvents(12);
    await env.db.owner((tx) =>
      sql`delete from audit_events where tenant_id = ${t.id} and seq between 4 and 9`.execute(tx),
    );
    const [r] = await verifyAudit(env, { tenantDir3: t.dir3, seal: false, batchSize: 3 });
    assert.equal(r?.firstBadSeq, 4);
    assert.equal(r?.events, 6);
  });

  test('an event written outside the chain (seq below 1) fails the chain', async () => {
    const t = await tenantWithEvents(2);
    await env.db.owner((tx) =>
      sql`insert into audit_events select tenant_id, 0, gen_random_uuid(), at, actor_id, actor_label, action, object_type,
        object_id, ip, user_agent, details, prev_hash, hash from audit_events where tenant_id = ${t.id} and seq = 1`.execute(
        tx,
      ),
    );
    const r = await verifyOne(t);
    assert.equal(r.ok, false);
    assert.match(r.reason!, /1 events with a seq below 1/);
  });

  test('the application role can neither update nor delete audit events', async () => {
    const t = await tenantWithEvents(2);
    await assert.rejects(
      env.db.tenant(t.id, (tx) =>
        sql`update audit_events set action = 'x' where tenant_id = ${t.id} and seq = 1`.execute(tx),
      ),
      /permission denied/,
    );
    await assert.rejects(
      env.db.tenant(t.id, (tx) =>
        sql`delete from audit_events where tenant_id = ${t.id} and seq = 1`.execute(tx),
      ),
      /permission denied/,
    );
    await assert.rejects(
      env.db.platform((tx) => sql`delete from audit_events`.execute(tx)),
      /permission denied/,
    );
    const r = await verifyOne(t);
    assert.equal(r.ok, true);
    assert.equal(r.events, 2);
  });

  test('several events in one transaction chain on each other; the events of work a savepoint undid, or of a failed transaction, are never written', async () => {
    const t = await makeTenant(env);
    const ev = (tx: Tx, i: number) =>
      recordEvent(tx, {
        tenantId: t.id,
        actor: systemActor,
        request: noRequest,
        clock: env.clock,
        action: 'test.batch',
        objectType: 'thing',
        objectId: `batch-${i}`,
      });
    // Events of the platform pseudo-tenant's chain in the same transaction keep their own head.
    const platformEvent = (tx: Tx) =>
      recordEvent(tx, {
        ...{ tenantId: PLATFORM_TENANT, actor: systemActor, request: noRequest, clock: env.clock },
        action: 'test.batch',
      });
    await env.db.tenant(t.id, async (tx) => {
      await ev(tx, 1);
      await ev(tx, 2);
      await asTenant(tx, PLATFORM_TENANT, () => platformEvent(tx));
      await ev(tx, 3);
    });
    const chainOf = (tenantId: string) =>
      env.db.owner((tx) =>
        tx
          .selectFrom('audit_events')
          .select(['seq', 'object_id'])
          .where('tenant_id', '=', tenantId)
          .orderBy('seq')
          .execute(),
      );
    assert.deepEqual(
      (await chainOf(t.id)).map((e) => [Number(e.seq), e.object_id]),
      [
        [1, 'batch-1'],
        [2, 'batch-2'],
        [3, 'batch-3'],
      ],
    );
    // Events recorded after a savepoint that is rolled back describe undone work: discarded, they
    // are never written; the events before and after it are, in order.
    await env.db.tenant(t.id, async (tx) => {
      await ev(tx, 4);
      const mark = auditMark(tx);
      await sql`SAVEPOINT s`.execute(tx);
      await ev(tx, 5);
      await sql`ROLLBACK TO SAVEPOINT s`.execute(tx);
      discardEventsAfter(tx, mark);
      await ev(tx, 6);
    });
    // A transaction that fails writes none of its events.
    await assert.rejects(
      env.db.tenant(t.id, async (tx) => {
        await ev(tx, 7);
        throw new Error('refused');
      }),
      /refused/,
    );
    assert.deepEqual(
      (await chainOf(t.id)).map((e) => e.object_id),
      ['batch-1', 'batch-2', 'batch-3', 'batch-4', 'batch-6'],
    );
    const r = await verifyOne(t);
    assert.equal(r.ok, true, r.reason);
    assert.equal(r.events, 5);
  });

  // PGlite has one connection: its transactions never overlap.
  const onPostgres = backend() === 'postgres' ? test : () => {};
  onPostgres(
    'an append waits for the transaction holding the head and chains after what it committed (PostgreSQL: two transactions at once)',
    async () => {
      const t = await tenantWithEvents(1);
      const event = (i: number) => (tx: Tx) =>
        recordEvent(tx, {
          tenantId: t.id,
          actor: systemActor,
          request: noRequest,
          clock: env.clock,
          action: 'test.overlap',
          objectType: 'thing',
          objectId: `overlap-${i}`,
          details: { i },
        });
      const before = { ...chainAppends };
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let locked!: () => void;
      const holding = new Promise<void>((r) => {
        locked = r;
      });
      // The first transaction records its event and holds the chain's head (as its append, sent
      // with its commit, would) until the gate opens.
      const first = env.db.tenant(t.id, async (tx) => {
        await event(1)(tx);
        await sql`select 1 from audit_heads where tenant_id = ${t.id} for update`.execute(tx);
        locked();
        await gate;
      });
      await holding;
      // The second's append (sent with its commit) must wait for the head, then chain after the
      // head the first leaves, which it had not seen when its statement began.
      const second = env.db.tenant(t.id, event(2));
      const waiting = async () => {
        const r = await env.db.owner((tx) =>
          sql<{ n: number }>`
          select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock' and query ilike '%audit_heads%'`.execute(
            tx,
          ),
        );
        return r.rows[0]!.n;
      };
      for (let i = 0; i < 200 && (await waiting()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(await waiting(), 1, 'the second append waits on the head');
      release();
      await Promise.all([first, second]);
      assert.deepEqual(
        { withCommit: chainAppends.withCommit - before.withCommit, alone: chainAppends.alone - before.alone },
        { withCommit: 2, alone: 0 },
      );
      const r = await verifyOne(t);
      assert.equal(r.ok, true, r.reason);
      assert.equal(r.events, 3);
      const order = await env.db.owner((tx) =>
        sql<{ seq: string; object_id: string }>`
          select seq, object_id from audit_events where tenant_id = ${t.id} order by seq`.execute(tx),
      );
      assert.deepEqual(
        order.rows.slice(1).map((x) => x.object_id),
        ['overlap-1', 'overlap-2'],
      );
    },
  );

  test('an unknown DIR3 is an error', async () => {
    await assert.rejects(verifyAudit(env, { tenantDir3: 'ZZ9999999' }), { code: 'ENTITY_NOT_FOUND' });
  });

  test('production refuses to run without its master key', async () => {
    const config = { env: 'production', masterKeyFile: path.join(env.dataDir, 'nokeys', 'master.key') };
    await assert.rejects(sealCheckpoints({ ...env, config }), /master key file .* does not exist/);
    assert.equal(fs.existsSync(config.masterKeyFile), false);
  });
});
