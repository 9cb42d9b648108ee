import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

// The CLI on the embedded database (whatever the test backend): each command is a real process.
const root = path.resolve(import.meta.dirname, '..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-cli-'));
after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

function lligall(...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, LLIGALL_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.DATABASE_OWNER_URL;
  return spawnSync(process.execPath, ['bin/lligall.ts', ...args], { cwd: root, env, encoding: 'utf8' });
}

describe('lligall CLI', () => {
  it('documents every command with --help', () => {
    const top = lligall('--help');
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
      const r = lligall(...sub, '--help');
      assert.equal(r.status, 0, `${sub.join(' ')} --help: ${r.stderr}`);
      assert.match(r.stdout, /Usage: lligall/);
    }
  });

  it('imports the province, creates a user with roles and issues a token that is printed alone', () => {
    const imp = lligall('tenant', 'import-province');
    assert.equal(imp.status, 0, imp.stderr);
    assert.match(imp.stdout, /231 created, 0 updated, 0 unchanged/);
    assert.match(lligall('tenant', 'import-province').stdout, /0 created, 0 updated, 231 unchanged/);
    const user = lligall(
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
    const token = lligall('token', 'create', '--user', 'maria');
    assert.equal(token.status, 0, token.stderr);
    assert.match(token.stdout, /^llg_[A-Za-z0-9_-]{43}\n$/);
  });

  it('answers bad input with one clear message and a non-zero exit', () => {
    const role = lligall(
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
    const short = lligall('user', 'create', '--username', 'joan', '--password', 'curta');
    assert.match(short.stderr, /at least 10 characters/);
    const entity = lligall(
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
    const missing = lligall('token', 'create');
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
  it('records a normalised NIF once per person, refuses one already taken, and clears it (the check letter: circuits.upload.test.ts)', () => {
    for (const u of ['secretaria', 'alcalde']) {
      const r = lligall('user', 'create', '--username', u, '--password', 'una-contrasenya-llarga');
      assert.equal(r.status, 0, r.stderr);
    }
    const set = lligall('user', 'set-nif', '--username', 'secretaria', '--nif', '12.345.678-z');
    assert.equal(set.status, 0, set.stderr);
    assert.equal(set.stdout.trim(), '12345678Z');

    const taken = lligall('user', 'set-nif', '--username', 'alcalde', '--nif', '12345678Z');
    assert.notEqual(taken.status, 0);
    assert.match(taken.stderr, /Another user has that NIF/);
    const cleared = lligall('user', 'set-nif', '--username', 'secretaria', '--clear');
    assert.equal(cleared.status, 0, cleared.stderr);
    assert.equal(cleared.stdout.trim(), '(none)');
  });
});
