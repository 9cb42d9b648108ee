import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openApp } from '#src/app.ts';
import { main, type Out } from '#src/cli/main.ts';
import { loadConfig } from '#src/config.ts';
import { registerJobs } from '#src/worker.ts';
import { backend } from '#test/helpers/harness.ts';
import { createPgDatabase, ROOT, seedEmbeddedDataDir } from '#test/helpers/installation.ts';

/** `lligall jobs run`, in process, on a fresh installation of the chosen backend. */

let dataDir: string;
let drop: (() => Promise<void>) | undefined;
const saved = { ...process.env };

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o: Out = { log: (l) => out.push(l), error: (l) => err.push(l) };
  const code = await main(['node', 'lligall', ...args], o);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Enqueues n due jobs of `name` the way a service would, outside the CLI. */
async function enqueue(name: string, n: number): Promise<void> {
  const deps = await openApp(loadConfig());
  try {
    await registerJobs(deps);
    await deps.jobs.start({ worker: false });
    for (let i = 0; i < n; i++) assert.ok(await deps.jobs.sendNow(name, { i }));
  } finally {
    await deps.jobs.stop();
    await deps.db.close();
  }
}

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-jobs-cli-'));
  process.env.LLIGALL_DATA_DIR = dataDir;
  process.env.LLIGALL_ENV = 'development';
  process.env.LOG_LEVEL = 'warn';
  if (backend() === 'postgres') {
    const db = await createPgDatabase('lligall_j');
    process.env.DATABASE_URL = db.app;
    process.env.DATABASE_OWNER_URL = db.owner;
    drop = db.drop;
  } else {
    delete process.env.DATABASE_URL;
    delete process.env.DATABASE_OWNER_URL;
    // The migrated template (no initdb); `migrate` below then finds the schema up to date.
    await seedEmbeddedDataDir(dataDir);
  }
  const m = await cli('migrate');
  assert.equal(m.code, 0, m.err);
});
after(async () => {
  process.env = saved;
  await drop?.();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('lligall jobs run', () => {
  it('runs the due jobs once and exits; a second run finds none', async () => {
    await enqueue('platform.blob-tmp-sweep', 2);
    await enqueue('audit.checkpoint', 1);
    const only = await cli('jobs', 'run', '--name', 'audit.checkpoint');
    assert.equal(only.code, 0, only.err);
    assert.equal(only.out, '1 job ran');
    const all = await cli('jobs', 'run');
    assert.equal(all.code, 0, all.err);
    assert.equal(all.out, '2 jobs ran');
    assert.equal((await cli('jobs', 'run')).out, '0 jobs ran');
  });

  it('names an unknown job clearly', async () => {
    const r = await cli('jobs', 'run', '--name', 'no.such-job');
    assert.equal(r.code, 1);
    assert.match(r.err, /No handler is registered for job no\.such-job \(JOB_UNKNOWN\)/);
  });

  it('is documented', async () => {
    const r = await cli('jobs', 'run', '--help');
    assert.equal(r.code, 0);
    assert.match(r.out, /Usage: lligall jobs run/);
    assert.match(r.out, /--name/);
  });

  it('on the embedded database held by another process, stops with a clear message', async (t) => {
    if (backend() === 'postgres') {
      // PostgreSQL is shared by design: a second process runs the jobs beside a server.
      const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/lligall.ts'), 'jobs', 'run'], {
        cwd: ROOT,
        env: process.env,
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), '0 jobs ran');
      return;
    }
    const held = await openApp(loadConfig()); // this process holds the data directory's lock
    t.after(() => held.db.close());
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/lligall.ts'), 'jobs', 'run'], {
      cwd: ROOT,
      env: process.env,
      encoding: 'utf8',
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /in use by process \d+.*\(DATABASE_LOCKED\)/s);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
});
