import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

// `lligall user set-nif` on the embedded database: each command is a real process.
const root = path.resolve(import.meta.dirname, '..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-cli-nif-'));
after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

function lligall(...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, LLIGALL_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.DATABASE_OWNER_URL;
  return spawnSync(process.execPath, ['bin/lligall.ts', ...args], { cwd: root, env, encoding: 'utf8' });
}

describe('lligall user set-nif', () => {
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
