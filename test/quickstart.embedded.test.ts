import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { seedEmbeddedDataDir } from '#test/helpers/installation.ts';

// The quick start contract: `npm start` = `lligall serve --demo` on the embedded database.
// This runs the real CLI as a child process (embedded PGlite whatever the test backend).
const root = path.resolve(import.meta.dirname, '..');
const dirs: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of ['DATABASE_URL', 'DATABASE_OWNER_URL', 'LLIGALL_ENV', 'PORT']) delete env[k];
  return { ...env, ...extra };
}

/** The command line of `npm start`, from package.json, on a free port. */
function npmStartArgs(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const [cmd, ...args] = pkg.scripts.start.split(/\s+/);
  assert.equal(cmd, 'node');
  return [...args, '--port', '0'];
}

async function startServer(
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, npmStartArgs(), { cwd: root, env });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  // A failure limit (npm start builds the web app when needed and seeds the demo), not a timing check.
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const m = /listening on (http:\/\/[^\s]+)/.exec(out);
    // Credentials follow the "listening" line in the same write.
    if (m) return { child, url: m[1]!, output: () => out };
    if (child.exitCode !== null) throw new Error(`server exited: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not start: ${out}`);
}

async function stop(child: ChildProcess): Promise<number | null> {
  const done = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return done;
}

describe('quick start (the `npm start` command line)', () => {
  it('demo mode seeds the demo entity and prints users who can log in; the data directory is locked and closed cleanly', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-qs-'));
    dirs.push(dataDir);
    const env = cleanEnv({ LLIGALL_DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    const { child, url, output } = await startServer(env);
    await new Promise((r) => setTimeout(r, 200));
    const m = /user: tramitador\s+password: (\S+)/.exec(output());
    assert.ok(m, `credentials printed: ${output()}`);
    const login = await fetch(`${url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: url },
      body: JSON.stringify({ username: 'tramitador', password: m[1] }),
    });
    assert.equal(login.status, 200, await login.clone().text());
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const entities = (await (await fetch(`${url}/api/v1/entities`, { headers: { cookie } })).json()) as {
      dir3: string;
      slug: string;
    }[];
    assert.deepEqual(
      entities.map((e: { dir3: string; slug: string }) => [e.dir3, e.slug]),
      [['L01250019', 'abella-de-la-conca']],
    );
    const secretary = await fetch(`${url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: url },
      body: JSON.stringify({
        username: 'secretaria',
        password: /user: secretaria\s+password: (\S+)/.exec(output())![1],
      }),
    });
    assert.equal(
      ((await secretary.json()) as { code: string }).code,
      'TOTP_REQUIRED',
      'the demo secretary is an admin with TOTP',
    );

    // A second process never opens the same embedded database: commands go through the server's
    // socket, and one that cannot (migrate) stops with a clear message.
    const relayed = spawnSync(process.execPath, ['bin/lligall.ts', 'tenant', 'list'], {
      cwd: root,
      env,
      encoding: 'utf8',
    });
    assert.equal(relayed.status, 0, relayed.stderr);
    assert.equal(relayed.stdout.trim().split('\n').length, 232, '231 municipalities and the Diputació');
    const user = spawnSync(
      process.execPath,
      [
        'bin/lligall.ts',
        'user',
        'create',
        '--username',
        'nou',
        '--password',
        'contrasenya-prou-llarga',
        '--entity',
        'L01250019',
        '--role',
        'viewer',
      ],
      { cwd: root, env, encoding: 'utf8' },
    );
    assert.equal(user.status, 0, user.stderr);
    const socket = fs.statSync(path.join(dataDir, 'lligall.sock'));
    assert.equal(socket.mode & 0o077, 0, 'the socket is owner-only');
    const second = spawnSync(process.execPath, ['bin/lligall.ts', 'migrate'], {
      cwd: root,
      env,
      encoding: 'utf8',
    });
    assert.notEqual(second.status, 0);
    assert.match(second.stderr, /in use by process \d+/);

    assert.equal(await stop(child), 0);
    assert.ok(!fs.existsSync(path.join(dataDir, 'db.lock')), 'lock released on SIGTERM');
    // Second start: no new credentials, same data.
    const again = await startServer(env);
    await new Promise((r) => setTimeout(r, 200));
    assert.doesNotMatch(again.output(), /password:/);
    await stop(again.child);
    const list = spawnSync(process.execPath, ['bin/lligall.ts', 'tenant', 'list'], {
      cwd: root,
      env,
      encoding: 'utf8',
    });
    assert.equal(list.status, 0, list.stderr);
    assert.equal(list.stdout.trim().split('\n').length, 232, '231 municipalities and the Diputació');
  });

  it('LLIGALL_ENV=production seeds no demo entity or user', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-qs-'));
    dirs.push(dataDir);
    // A migrated, empty installation (the test run's template: no second initdb; the first start
    // from nothing is the test above).
    await seedEmbeddedDataDir(dataDir);
    // Production requires an SMTP server for alerts and confirmations (nothing is sent here).
    const env = cleanEnv({
      LLIGALL_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      LLIGALL_ENV: 'production',
      LLIGALL_SMTP_URL: 'smtp://127.0.0.1:2525',
      LLIGALL_MAIL_FROM: 'Ajuntament <no-reply@example.cat>',
    });
    const { child, url, output } = await startServer(env);
    assert.doesNotMatch(output(), /password:/);
    const login = await fetch(`${url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'tramitador', password: 'whatever-password' }),
    });
    assert.equal(((await login.json()) as { code: string }).code, 'INVALID_CREDENTIALS');
    await stop(child);
    const list = spawnSync(process.execPath, ['bin/lligall.ts', 'tenant', 'list'], {
      cwd: root,
      env,
      encoding: 'utf8',
    });
    assert.equal(list.status, 0, list.stderr);
    assert.equal(list.stdout.trim(), '');
  });
});
