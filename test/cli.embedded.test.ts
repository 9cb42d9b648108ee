import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '#src/cli/main.ts';
import { seedEmbeddedDataDir } from '#test/helpers/installation.ts';

// The CLI on the embedded database (whatever the test backend). `spawned` runs a command as a real
// process (exit status, what reaches stdout and stderr); `lligall` runs the same `main` that
// bin/lligall.ts runs, in this process, with what it would print and its exit code: one process
// start and one loading of the program per test instead of one per command.
const root = path.resolve(import.meta.dirname, '..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-cli-'));
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

describe('lligall CLI', () => {
  it('documents every command with --help', async () => {
    const top = spawned('--help');
    assert.equal(top.status, 0);
    for (const c of ['serve', 'migrate', 'tenant', 'user', 'token', 'audit', 'backup', 'restore'])
      assert.match(top.stdout, new RegExp(`\\b${c}\\b`));
    for (const sub of [
      ['tenant', 'import-province'],
      ['tenant', 'create'],
      ['tenant', 'list'],
      ['user', 'create'],
      ['token', 'create'],
      ['serve'],
    ]) {
      const r = await lligall(...sub, '--help');
      assert.equal(r.status, 0, `${sub.join(' ')} --help: ${r.stderr}`);
      assert.match(r.stdout, /Usage: lligall/);
    }
  });

  it('imports the province, creates a user with roles and issues a token that is printed alone', async () => {
    const imp = await lligall('tenant', 'import-province');
    assert.equal(imp.status, 0, imp.stderr);
    assert.match(imp.stdout, /231 created, 0 updated, 0 unchanged/);
    assert.match((await lligall('tenant', 'import-province')).stdout, /0 created, 0 updated, 231 unchanged/);
    const user = await lligall(
      'user',
      'create',
      '--username',
      'maria',
      '--password',
      'una-contrasenya-llarga',
      '--entity',
      'L01250019',
      '--role',
      'handler',
      '--role',
      'registrar',
    );
    assert.equal(user.status, 0, user.stderr);
    const token = spawned('token', 'create', '--user', 'maria');
    assert.equal(token.status, 0, token.stderr);
    assert.match(token.stdout, /^llg_[A-Za-z0-9_-]{43}\n$/);
  });

  it('answers bad input with one clear message and a non-zero exit', async () => {
    const role = spawned(
      'user',
      'create',
      '--username',
      'joan',
      '--password',
      'una-contrasenya-llarga',
      '--entity',
      'L01250019',
      '--role',
      'boss',
    );
    assert.equal(role.status, 1);
    assert.match(role.stderr, /Unknown role boss/);
    assert.doesNotMatch(role.stderr, /\n\s+at /, 'no stack trace');
    const short = await lligall('user', 'create', '--username', 'joan', '--password', 'curta');
    assert.match(short.stderr, /at least 10 characters/);
    const entity = await lligall(
      'user',
      'create',
      '--username',
      'joan',
      '--password',
      'una-contrasenya-llarga',
      '--entity',
      'L01999999',
      '--role',
      'viewer',
    );
    assert.match(entity.stderr, /Entity L01999999 not found/);
    const missing = await lligall('token', 'create');
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /--user/);
    const badEnv = spawnSync(process.execPath, ['bin/lligall.ts', 'tenant', 'list'], {
      cwd: root,
      env: { ...process.env, PORT: 'eighty', LLIGALL_MAX_UPLOAD_MB: '-1', DATABASE_URL: 'mysql://x' },
      encoding: 'utf8',
    });
    assert.equal(badEnv.status, 2);
    assert.match(badEnv.stderr, /PORT must be an integer/);
    assert.match(badEnv.stderr, /LLIGALL_MAX_UPLOAD_MB must be an integer/);
    assert.match(badEnv.stderr, /DATABASE_URL must be a postgres:\/\/ URL/);
  });

  // `lligall user set-nif` (the NIF an uploaded signature's certificate must carry).
  it('records a normalised NIF once per person, refuses one already taken, and clears it (the check letter: circuits.upload.test.ts)', async () => {
    for (const u of ['secretaria', 'alcalde']) {
      const r = await lligall('user', 'create', '--username', u, '--password', 'una-contrasenya-llarga');
      assert.equal(r.status, 0, r.stderr);
    }
    const set = await lligall('user', 'set-nif', '--username', 'secretaria', '--nif', '12.345.678-z');
    assert.equal(set.status, 0, set.stderr);
    assert.equal(set.stdout.trim(), '12345678Z');

    const taken = await lligall('user', 'set-nif', '--username', 'alcalde', '--nif', '12345678Z');
    assert.notEqual(taken.status, 0);
    assert.match(taken.stderr, /Another user has that NIF/);
    const cleared = await lligall('user', 'set-nif', '--username', 'secretaria', '--clear');
    assert.equal(cleared.status, 0, cleared.stderr);
    assert.equal(cleared.stdout.trim(), '(none)');
  });
});
