import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '#src/cli/main.ts';
import { seedEmbeddedDataDir } from '#test/helpers/installation.ts';

// `lligall calendar …` on the embedded database (whatever the test backend). `spawned` runs a
// command as a real process; `lligall` runs bin/lligall.ts's `main` in this process, with what it
// would print and its exit code (one process start and program load instead of one per command).
const root = path.resolve(import.meta.dirname, '..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-calendar-cli-'));
const saved = { ...process.env };
before(async () => {
  process.env.LLIGALL_DATA_DIR = dataDir;
  process.env.LOG_LEVEL = 'warn';
  delete process.env.DATABASE_URL;
  delete process.env.DATABASE_OWNER_URL;
  await seedEmbeddedDataDir(dataDir);
});
after(() => {
  process.env = saved;
  fs.rmSync(dataDir, { recursive: true, force: true });
});

type Run = { status: number; stdout: string; stderr: string };

function spawned(...args: string[]): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, LLIGALL_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.DATABASE_OWNER_URL;
  const r = spawnSync(process.execPath, ['bin/lligall.ts', ...args], { cwd: root, env, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function lligall(...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await main(['node', 'lligall', ...args], {
    log: (l) => out.push(`${l}\n`),
    error: (l) => err.push(`${l}\n`),
  });
  return { status, stdout: out.join(''), stderr: err.join('') };
}

describe('lligall calendar', () => {
  it('documents its commands with --help', async () => {
    const top = await lligall('calendar', '--help');
    assert.equal(top.status, 0, top.stderr);
    for (const c of ['seed', 'show', 'regional', 'local']) assert.match(top.stdout, new RegExp(`\\b${c}\\b`));
  });

  it('loads the shipped data and shows a municipality’s 2026 days (Lleida: complete, with its two local days)', async () => {
    const seed = await lligall('calendar', 'seed');
    assert.equal(seed.status, 0, seed.stderr);
    assert.match(seed.stdout, /calendar data loaded/);
    const show = spawned('calendar', 'show', '--ine', '25120', '--year', '2026');
    assert.equal(show.status, 0, show.stderr);
    const lines = show.stdout.trim().split('\n');
    assert.match(lines[0]!, /^Lleida \(INE 25120\) 2026: complete$/);
    assert.equal(lines.length, 15);
    assert.ok(lines.some((l) => l.startsWith('2026-05-11\tMon\tFesta local [local]')));
  });

  it('an operator enters the Val d’Aran substitution, always with a reason', async () => {
    const noReason = spawned(
      'calendar',
      'regional',
      'set',
      '--date',
      '2026-06-17',
      '--scope',
      'aran',
      '--name',
      'x',
    );
    assert.notEqual(noReason.status, 0);
    assert.match(noReason.stderr, /--reason/);
    for (const args of [
      ['--date', '2026-06-17', '--scope', 'aran', '--name', "Festa d'Aran", '--reason', 'test data'],
      // Test data only: which Catalan day Aran replaces is what an operator reads in the year's order.
      [
        '--date',
        '2026-12-26',
        '--scope',
        'aran',
        '--name',
        'Sant Esteve',
        '--not-holiday',
        '--reason',
        'test data',
      ],
    ]) {
      const r = await lligall('calendar', 'regional', 'set', ...args);
      assert.equal(r.status, 0, r.stderr);
    }
    const year = await lligall(
      'calendar',
      'regional',
      'year',
      '--year',
      '2026',
      '--scope',
      'aran',
      '--reason',
      'test data',
    );
    assert.equal(year.status, 0, year.stderr);
    const les = await lligall('calendar', 'show', '--ine', '25121', '--year', '2026');
    assert.match(les.stdout, /^Les \(INE 25121\) 2026: complete$/m);
    assert.match(les.stdout, /2026-06-17\tWed\tFesta d'Aran \[aran\]/);
    assert.doesNotMatch(les.stdout, /2026-12-26/);
  });
});
