import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { backend, makeTenant, openTestEnv, type TestEnv } from '#test/helpers/harness.ts';
import type { JobLog } from './jobs.ts';

let env: TestEnv;
let tenant: Tenant;
const logged: { msg: string; obj: Record<string, unknown> }[] = [];
const log: JobLog = {
  error: (obj, msg) => logged.push({ msg, obj: obj as Record<string, unknown> }),
  warn: () => undefined,
};

/** Rejects when p takes longer than ms: a deadlock shows as a failure, not a hung test. */
async function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (deadlock?)`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function jobRows(name: string): Promise<{ id: string; state: string; singleton_key: string | null }[]> {
  const r = await env.db.owner((tx) =>
    sql<{
      id: string;
      state: string;
      singleton_key: string | null;
    }>`select id, state::text as state, singleton_key from pgboss.job where name = ${name} order by created_on`.execute(
      tx,
    ),
  );
  return r.rows;
}

/** Records every job a handler is given. */
function recorder() {
  const seen: { data: { n: number }; id: string; name: string }[] = [];
  return {
    seen,
    handler: async (data: { n: number }, job: { id: string; name: string }) => {
      seen.push({ data, ...job });
    },
  };
}

before(async () => {
  env = await openTestEnv();
  tenant = await makeTenant(env);
  await env.jobs.start({ worker: false, log });
});
after(
  async () => {
    await env.close();
  },
  { timeout: 30_000 },
);

// A deadlocked transaction (PGlite) must fail the test, not hang the run.
describe('jobs (pg-boss)', { timeout: 30_000 }, () => {
  it('a job sent in a transaction that rolls back never runs', async () => {
    const r = recorder();
    await env.jobs.work('test.rollback', r.handler);
    await assert.rejects(
      env.db.tenant(tenant.id, async (tx) => {
        const id = await env.jobs.send(tx, 'test.rollback', { n: 1 });
        assert.ok(id, 'send returned an id inside the transaction');
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.equal(await env.jobs.drain('test.rollback'), 0);
    assert.deepEqual(r.seen, []);
    assert.deepEqual(await jobRows('test.rollback'), []);
  });

  it('a job sent in a committed transaction runs once through drain', async () => {
    const r = recorder();
    await env.jobs.work('test.commit', r.handler);
    const id = await env.db.tenant(tenant.id, (tx) => env.jobs.send(tx, 'test.commit', { n: 7 }));
    assert.ok(id);
    assert.equal(await env.jobs.drain(), 1, 'drain() with no name runs every registered queue');
    assert.equal(await env.jobs.drain('test.commit'), 0, 'nothing left');
    assert.deepEqual(r.seen, [{ data: { n: 7 }, id, name: 'test.commit' }]);
    assert.deepEqual(
      (await jobRows('test.commit')).map((j) => j.state),
      ['completed'],
    );
  });

  it('send inside a transaction does not deadlock, and later statements of the transaction still run', async () => {
    const r = recorder();
    await env.jobs.work('test.deadlock', r.handler);
    const n = await within(
      10_000,
      env.db.tenant(tenant.id, async (tx) => {
        await env.jobs.send(tx, 'test.deadlock', { n: 1 });
        await env.jobs.send(tx, 'test.deadlock', { n: 2 });
        const c = await sql<{
          n: string;
        }>`select count(*) as n from pgboss.job where name = 'test.deadlock'`.execute(tx);
        return Number(c.rows[0]!.n);
      }),
      `send in a ${backend()} transaction`,
    );
    assert.equal(n, 2, 'the transaction sees its own jobs');
    assert.equal(await within(10_000, env.jobs.drain('test.deadlock'), 'drain'), 2);
    assert.deepEqual(r.seen.map((s) => s.data.n).sort(), [1, 2]);
  });

  it('a job sent outside a transaction (sendNow) runs; one due later does not run yet', async () => {
    const r = recorder();
    await env.jobs.work('test.now', r.handler);
    assert.ok(await env.jobs.sendNow('test.now', { n: 1 }));
    assert.ok(await env.jobs.sendNow('test.now', { n: 2 }, { startAfterSeconds: 3600 }));
    assert.equal(await env.jobs.drain('test.now'), 1);
    assert.deepEqual(
      r.seen.map((s) => s.data.n),
      [1],
    );
  });

  it('singletonKey: a second unfinished job with the same key is not enqueued; after it ran, one may be', async () => {
    const r = recorder();
    await env.jobs.work('test.singleton', r.handler);
    const first = await env.db.tenant(tenant.id, (tx) =>
      env.jobs.send(tx, 'test.singleton', { n: 1 }, { singletonKey: 'entry-1' }),
    );
    assert.ok(first);
    const second = await env.db.tenant(tenant.id, (tx) =>
      env.jobs.send(tx, 'test.singleton', { n: 2 }, { singletonKey: 'entry-1' }),
    );
    assert.equal(second, null);
    assert.equal(await env.jobs.sendNow('test.singleton', { n: 3 }, { singletonKey: 'entry-1' }), null);
    assert.ok(await env.jobs.sendNow('test.singleton', { n: 4 }, { singletonKey: 'entry-2' }), 'another key');
    assert.equal(await env.jobs.drain('test.singleton'), 2);
    assert.deepEqual(r.seen.map((s) => s.data.n).sort(), [1, 4]);
    assert.ok(
      await env.jobs.sendNow('test.singleton', { n: 5 }, { singletonKey: 'entry-1' }),
      'finished: free again',
    );
  });

  it('a throwing handler is logged with the job name and id and retried until it succeeds', async () => {
    let calls = 0;
    await env.jobs.work<{ n: number }>('test.retry', async () => {
      calls++;
      if (calls < 3) throw new Error(`flaky ${calls}`);
    });
    const id = await env.jobs.sendNow('test.retry', { n: 1 }, { retryDelaySeconds: 0, retryLimit: 5 });
    assert.ok(id);
    logged.length = 0;
    assert.equal(await env.jobs.drain('test.retry'), 3, 'two failures, then success');
    assert.equal(calls, 3);
    assert.deepEqual(
      logged.map((l) => [l.msg, l.obj.job, l.obj.jobId, l.obj.err]),
      [
        ['job failed', 'test.retry', id, 'flaky 1'],
        ['job failed', 'test.retry', id, 'flaky 2'],
      ],
    );
    assert.deepEqual(
      (await jobRows('test.retry')).map((j) => j.state),
      ['completed'],
    );
  });

  it('a job that keeps failing stops after its retry limit and is marked failed; by default retries back off', async () => {
    let calls = 0;
    await env.jobs.work('test.fail', async () => {
      calls++;
      throw new Error('always');
    });
    await env.jobs.sendNow('test.fail', {}, { retryDelaySeconds: 0, retryLimit: 1 });
    assert.equal(await env.jobs.drain('test.fail'), 2);
    assert.equal(calls, 2);
    assert.deepEqual(
      (await jobRows('test.fail')).map((j) => j.state),
      ['failed'],
    );
    // Queue defaults: the retry is not due at once (30 s backoff), so a drain runs it once.
    calls = 0;
    await env.jobs.sendNow('test.fail', {});
    assert.equal(await env.jobs.drain('test.fail'), 1);
    const states = (await jobRows('test.fail')).map((j) => j.state);
    assert.deepEqual(states, ['failed', 'retry']);
  });

  it('refuses a job name without a handler, in and out of a transaction', async () => {
    await assert.rejects(
      env.db.tenant(tenant.id, (tx) => env.jobs.send(tx, 'test.nobody', {})),
      (e: Error & { code?: string }) => e.code === 'JOB_UNKNOWN',
    );
    await assert.rejects(env.jobs.sendNow('test.nobody', {}), { code: 'JOB_UNKNOWN' });
    await assert.rejects(env.jobs.drain('test.nobody'), { code: 'JOB_UNKNOWN' });
  });

  it('schedule stores a cron schedule in Europe/Madrid', async () => {
    await env.jobs.work('test.sweep', async () => undefined);
    await env.jobs.schedule('test.sweep', '15 3 * * *', { kind: 'nightly' });
    const r = await env.db.owner((tx) =>
      sql<{
        cron: string;
        timezone: string;
        data: unknown;
      }>`select cron, timezone, data from pgboss.schedule where name = 'test.sweep'`.execute(tx),
    );
    assert.deepEqual(r.rows, [{ cron: '15 3 * * *', timezone: 'Europe/Madrid', data: { kind: 'nightly' } }]);
  });

  it('the application role may use the pgboss schema but not change it; on PostgreSQL it is who sends and fetches', async () => {
    const role = env.config.dbAppRole;
    const p = await env.db.owner((tx) =>
      sql<{ usage: boolean; create: boolean; owns: string; ins: boolean }>`
        select has_schema_privilege(${role}, 'pgboss', 'USAGE') as usage,
               has_schema_privilege(${role}, 'pgboss', 'CREATE') as create,
               (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
                 where n.nspname = 'pgboss' and pg_get_userbyid(c.relowner) = ${role})::text as owns,
               has_table_privilege(${role}, 'pgboss.job', 'INSERT') as ins`.execute(tx),
    );
    assert.deepEqual(p.rows[0], { usage: true, create: false, owns: '0', ins: true });
    if (backend() !== 'postgres') return; // PGlite has one (superuser) session: there is no other connection to check
    // Record the session user of every statement that writes a job row.
    await env.db.owner((tx) =>
      sql
        .raw(`
        create table public.test_job_sessions (who text, op text);
        create function public.test_job_session() returns trigger language plpgsql security definer as $$
          begin insert into public.test_job_sessions values (session_user, tg_op); return null; end $$;
        create trigger test_job_session after insert or update on pgboss.job
          for each row execute function public.test_job_session();`)
        .execute(tx),
    );
    try {
      const r = recorder();
      await env.jobs.work('test.role', r.handler);
      await env.db.tenant(tenant.id, (tx) => env.jobs.send(tx, 'test.role', { n: 1 }));
      await env.jobs.sendNow('test.role', { n: 2 });
      assert.equal(await env.jobs.drain('test.role'), 2);
      const seen = await env.db.owner((tx) =>
        sql<{ who: string; op: string; n: string }>`
          select who, op, count(*)::text as n from public.test_job_sessions group by who, op order by op`.execute(
          tx,
        ),
      );
      // 2 inserts (send in a transaction, sendNow); 4 updates (fetch = active, complete) for 2 jobs.
      assert.deepEqual(seen.rows, [
        { who: role, op: 'INSERT', n: '2' },
        { who: role, op: 'UPDATE', n: '4' },
      ]);
    } finally {
      await env.db.owner((tx) =>
        sql
          .raw(`drop trigger test_job_session on pgboss.job;
            drop function public.test_job_session(); drop table public.test_job_sessions;`)
          .execute(tx),
      );
    }
  });

  it('a worker started after a backlog built up runs it all promptly, not one job per polling interval', async () => {
    // What a restarted server meets: hundreds of safety-net jobs queued while no worker ran (the
    // registry's receipt jobs), one of them the receipt a killed process still owes.
    const r = recorder();
    await env.jobs.work('test.backlog', r.handler);
    const total = 60;
    await env.db.tenant(tenant.id, async (tx) => {
      for (let n = 0; n < total; n++)
        await env.jobs.send(tx, 'test.backlog', { n }, { singletonKey: `k${n}` });
    });
    await env.jobs.start({ worker: true, log });
    try {
      // At one job per 2-second poll this would take two minutes; the bound is ten times what a
      // batching worker needs even on a loaded machine.
      await within(
        30_000,
        (async () => {
          while (r.seen.length < total) await new Promise((res) => setTimeout(res, 100));
        })(),
        `worker drained ${r.seen.length}/${total}`,
      );
      assert.deepEqual(
        r.seen.map((s) => s.data.n).sort((a, b) => a - b),
        Array.from({ length: total }, (_, i) => i),
      );
      assert.ok((await jobRows('test.backlog')).every((j) => j.state === 'completed'));
    } finally {
      await env.jobs.start({ worker: false, log });
    }
  });

  it('a failing job in a worker batch is retried on its own; the others complete', async () => {
    let attempts = 0;
    const seen: number[] = [];
    await env.jobs.work<{ n: number }>('test.batchfail', async ({ n }) => {
      if (n === 3 && attempts++ === 0) throw new Error('first attempt of 3 fails');
      seen.push(n);
    });
    await env.db.tenant(tenant.id, async (tx) => {
      for (let n = 0; n < 6; n++) await env.jobs.send(tx, 'test.batchfail', { n }, { retryDelaySeconds: 0 });
    });
    await env.jobs.start({ worker: true, log });
    try {
      await within(
        30_000,
        (async () => {
          while (seen.length < 6) await new Promise((res) => setTimeout(res, 100));
        })(),
        'batch with one failure',
      );
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5],
        'each job ran to success exactly once',
      );
      assert.equal(attempts, 2);
      assert.ok(
        logged.some((l) => l.obj.job === 'test.batchfail' && /first attempt/.test(String(l.obj.err))),
      );
    } finally {
      await env.jobs.start({ worker: false, log });
    }
  });

  it('the worker role runs committed jobs without a drain, and stops cleanly', async () => {
    const r = recorder();
    await env.jobs.work('test.worker', r.handler);
    await env.jobs.start({ worker: true, log });
    try {
      await env.db.tenant(tenant.id, (tx) => env.jobs.send(tx, 'test.worker', { n: 42 }));
      await within(
        15_000,
        (async () => {
          while (r.seen.length === 0) await new Promise((res) => setTimeout(res, 100));
        })(),
        'worker',
      );
      assert.deepEqual(
        r.seen.map((s) => s.data.n),
        [42],
      );
    } finally {
      await env.jobs.start({ worker: false, log });
    }
  });

  it('a frequent sweeper runs in the worker role only, one run at a time, goes on after a failure, and stops with the jobs', async () => {
    let runs = 0;
    let running = 0;
    let overlapped = false;
    env.jobs.every('test.sweep-often', 0.05, async () => {
      runs++;
      if (running++) overlapped = true;
      await new Promise((res) => setTimeout(res, 80));
      running--;
      if (runs === 2) throw new Error('sweep broke once');
    });
    // Sender role (as started by before()): no runs.
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(runs, 0);
    await env.jobs.start({ worker: true, log });
    try {
      await within(
        15_000,
        (async () => {
          while (runs < 4) await new Promise((res) => setTimeout(res, 20));
        })(),
        'sweeper',
      );
    } finally {
      await env.jobs.start({ worker: false, log });
    }
    assert.equal(overlapped, false, 'runs never overlap');
    assert.ok(logged.some((l) => l.msg === 'sweep failed' && l.obj.sweep === 'test.sweep-often'));
    // Stopped: the run in progress finished before start() returned, and no other comes.
    assert.equal(running, 0);
    const after = runs;
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(runs, after);
    // drain (lligall jobs run) runs it once, by its name or with everything due.
    await env.jobs.drain('test.sweep-often');
    assert.equal(runs, after + 1);
    await env.jobs.drain();
    assert.equal(runs, after + 2);
  });
});
