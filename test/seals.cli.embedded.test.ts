import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '#src/cli/main.ts';
import { loadConfig } from '#src/config.ts';
import { ROOT, seedEmbeddedDataDir } from '#test/helpers/installation.ts';

// `lligall ca export`, `seal import` and `seal list` on the embedded database (whatever the test
// backend: it runs once, in the PGlite pass). The seals themselves: seals.test.ts.
let dir: string;
const write = (name: string, data: string | Buffer) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, data);
  return f;
};
const openssl = (...args: string[]) =>
  execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-seals-cli-'));
});
after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('lligall ca export and seal import (CLI, embedded database)', () => {
  it("exports the CA, imports a PKCS#12 (qualified on the operator's word) and lists the seals", async () => {
    const dataDir = path.join(dir, 'data');
    await seedEmbeddedDataDir(dataDir);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LLIGALL_DATA_DIR: dataDir,
      LLIGALL_ENV: 'development',
      LOG_LEVEL: 'warn',
    };
    delete env.DATABASE_URL;
    delete env.DATABASE_OWNER_URL;
    // A real `lligall` process…
    const spawned = (...args: string[]) => {
      const r = spawnSync(process.execPath, ['bin/lligall.ts', ...args], {
        cwd: ROOT,
        env,
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    // …or bin/lligall.ts's `main` in this process, with what it would print.
    const cli = async (...args: string[]) => {
      const saved = { ...process.env };
      process.env = env;
      const out: string[] = [];
      const err: string[] = [];
      try {
        const code = await main(['node', 'lligall', ...args], {
          log: (l) => out.push(`${l}\n`),
          error: (l) => err.push(`${l}\n`),
        });
        assert.equal(code, 0, `${args.join(' ')}: ${err.join('')}`);
        return out.join('');
      } finally {
        process.env = saved;
      }
    };
    assert.ok(loadConfig({ LLIGALL_DATA_DIR: dataDir }).masterKeyFile.startsWith(dataDir));
    await cli('tenant', 'create', '--name', 'Ajuntament de Prova', '--dir3', 'L01259999');
    const caFile = path.join(dir, 'cli-ca.pem');
    spawned('ca', 'export', '--out', caFile);
    assert.match(fs.readFileSync(caFile, 'utf8'), /^-----BEGIN CERTIFICATE-----/);
    // A PKCS#12 made entirely by openssl (its own key and self-signed certificate).
    const key = path.join(dir, 'cli.key');
    const crt = path.join(dir, 'cli.crt');
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      crt,
      '-days',
      '30',
      '-subj',
      '/O=Ajuntament de Prova/CN=Segell',
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-addext',
      'keyUsage=critical,digitalSignature,nonRepudiation',
    );
    const p12 = path.join(dir, 'cli.p12');
    openssl('pkcs12', '-export', '-inkey', key, '-in', crt, '-passout', 'pass:p4ss', '-out', p12);
    const pw = write('cli.pw', 'p4ss\n');
    assert.match(
      await cli(
        'seal',
        'import',
        '--entity',
        'L01259999',
        '--p12',
        p12,
        '--password-file',
        pw,
        '--qualified',
      ),
      /Segell/,
    );
    const listed = (await cli('seal', 'list', '--entity', 'L01259999')).trim().split('\n');
    assert.equal(listed.length, 1);
    assert.match(listed[0]!, /^active\tqualified\t.*CN=Segell/);
  });
});
