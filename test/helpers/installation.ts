import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

/**
 * A real installation driven the way an operator drives it: `lligall` commands and `lligall serve`
 * processes (children of the test or benchmark), on a fresh database of the chosen backend.
 */

const execFileP = promisify(execFile);
export const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'lligall.ts');

function withDb(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** The PostgreSQL URLs a fresh database needs: DATABASE_URL, DATABASE_OWNER_URL, LLIGALL_TEST_PG_ADMIN_URL. */
export function pgUrlsFromEnv(): { app: string; owner: string; admin: string } | undefined {
  const app = process.env.DATABASE_URL;
  const owner = process.env.DATABASE_OWNER_URL;
  const admin = process.env.LLIGALL_TEST_PG_ADMIN_URL;
  return app && owner && admin ? { app, owner, admin } : undefined;
}

/**
 * A new database owned by the owner role, empty or (`template`) a copy of that database; returns
 * its URLs and how to drop it.
 */
export async function createPgDatabase(
  prefix: string,
  template?: string,
): Promise<{ name: string; app: string; owner: string; drop(): Promise<void> }> {
  const urls = pgUrlsFromEnv();
  if (!urls)
    throw new Error('PostgreSQL needs DATABASE_URL, DATABASE_OWNER_URL and LLIGALL_TEST_PG_ADMIN_URL');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const ownerRole = decodeURIComponent(new URL(urls.owner).username);
  const admin = new pg.Client({ connectionString: urls.admin });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} OWNER ${ownerRole}${template ? ` TEMPLATE ${template}` : ''}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    app: withDb(urls.app, name),
    owner: withDb(urls.owner, name),
    async drop() {
      const c = new pg.Client({ connectionString: urls.admin });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * Gives a new embedded data directory the migrated database `lligall migrate` would make: a copy
 * of the PGlite template directory scripts/test.ts migrates once per run
 * (LLIGALL_TEST_PGLITE_TEMPLATE), as `<dataDir>/db`. Making it from nothing costs ~15 s of CPU
 * (initdb alone ~12 s, in WebAssembly); copying, a tenth of a second. Returns false without a
 * template (a file run alone): the first command then migrates. Not for a test about a fresh data
 * directory (the quick start's first `npm start`).
 */
export async function seedEmbeddedDataDir(dataDir: string): Promise<boolean> {
  const template = process.env.LLIGALL_TEST_PGLITE_TEMPLATE;
  if (!template || !fs.existsSync(template)) return false;
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.cpSync(template, path.join(dataDir, 'db'), { recursive: true });
  return true;
}

export type Installation = {
  backend: 'pglite' | 'postgres';
  /** Data directory of the CLI (and, on PGlite, of the one server: the embedded database lives there). */
  dataDir: string;
  /** Environment of every `lligall` process of this installation (database URLs, data directory…). */
  env: NodeJS.ProcessEnv;
  /** For PostgreSQL: this installation's database URLs. */
  urls?: { app: string; owner: string };
  /** Runs `lligall <args>` to completion; returns its standard output, trimmed. */
  cli(args: string[]): Promise<string>;
  /** A new empty data directory (each PostgreSQL API node has its own). */
  newDataDir(): string;
  close(): Promise<void>;
};

function pick(env: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((n) => (env[n] ? [[n, env[n]]] : [])));
}

/**
 * A fresh installation: a temporary data directory and, on PostgreSQL, a database of its own;
 * migrated (`lligall migrate` on PostgreSQL; on PGlite the migrated template, see
 * seedEmbeddedDataDir). `extraEnv` is added to every process (e.g. LLIGALL_MAX_UPLOAD_MB).
 */
export async function openInstallation(
  backend: 'pglite' | 'postgres',
  extraEnv: Record<string, string> = {},
): Promise<Installation> {
  const dirs: string[] = [];
  const newDataDir = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-inst-'));
    dirs.push(d);
    return d;
  };
  const dataDir = newDataDir();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LLIGALL_ENV: 'development',
    LLIGALL_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    // The run's settings for the processes it starts (scripts/test.ts): a small embedded
    // shared_buffers and V8's code cache.
    ...pick(process.env, ['LLIGALL_PGLITE_SHARED_BUFFERS_MB', 'NODE_COMPILE_CACHE']),
    ...extraEnv,
  };
  let db: Awaited<ReturnType<typeof createPgDatabase>> | undefined;
  if (backend === 'postgres') {
    db = await createPgDatabase('lligall_i');
    env.DATABASE_URL = db.app;
    env.DATABASE_OWNER_URL = db.owner;
    if (process.env.LLIGALL_DB_APP_ROLE) env.LLIGALL_DB_APP_ROLE = process.env.LLIGALL_DB_APP_ROLE;
  }
  const cli = async (args: string[]) => {
    try {
      const r = await execFileP(process.execPath, [BIN, ...args], {
        cwd: ROOT,
        env,
        maxBuffer: 16 * 1024 * 1024,
      });
      return r.stdout.trim();
    } catch (e) {
      const err = e as Error & { stdout?: string; stderr?: string };
      throw new Error(
        `lligall ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`,
      );
    }
  };
  const inst: Installation = {
    backend,
    dataDir,
    env,
    ...(db ? { urls: { app: db.app, owner: db.owner } } : {}),
    cli,
    newDataDir,
    async close() {
      await db?.drop();
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    },
  };
  try {
    // On PGlite the migrated template stands for `lligall migrate` (run from nothing, it is most
    // of a file's set-up); on PostgreSQL the real command runs.
    if (backend === 'postgres' || !(await seedEmbeddedDataDir(dataDir))) await cli(['migrate']);
  } catch (e) {
    await inst.close();
    throw e;
  }
  return inst;
}

/** An entity with a user (a case handler unless `role` says otherwise) and that user's API token, made with the CLI. */
export async function provisionEntity(
  inst: Installation,
  opts: { name?: string; dir3?: string; ine?: string; username?: string; role?: string } = {},
): Promise<{ dir3: string; slug: string; tenantId: string; username: string; token: string }> {
  const dir3 = opts.dir3 ?? `L01${String(process.pid % 1_000_000).padStart(6, '0')}`;
  const line = await inst.cli([
    'tenant',
    'create',
    '--name',
    opts.name ?? `Ajuntament de Prova ${dir3}`,
    '--dir3',
    dir3,
    '--status',
    'live',
    ...(opts.ine ? ['--ine', opts.ine] : []),
  ]);
  const [gotDir3, slug, tenantId] = line.split('\n').at(-1)!.split('\t');
  const username = opts.username ?? 'tramitador';
  const password = `pw-${randomBytes(8).toString('hex')}`;
  await inst.cli([
    'user',
    'create',
    '--username',
    username,
    '--password',
    password,
    '--entity',
    dir3,
    '--role',
    opts.role ?? 'handler',
  ]);
  const token = (await inst.cli(['token', 'create', '--user', username])).split('\n').at(-1)!;
  if (!gotDir3 || !slug || !tenantId || !token.startsWith('llg_'))
    throw new Error(`unexpected CLI output: ${line} / ${token}`);
  return { dir3: gotDir3, slug, tenantId, username, token };
}

export type ServerProcess = {
  pid: number;
  /** http://127.0.0.1:<port> */
  url: string;
  /** The last lines the process wrote (for failure messages). */
  output(): string;
  /** SIGTERM, wait for a clean exit (SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** SIGKILL at once (a crash: no cleanup), and wait for the process to be gone. */
  kill(): Promise<void>;
};

/**
 * Starts `lligall serve --role api --port 0` (or another role) on loopback and waits until /readyz answers.
 * Output is always drained (a full pipe would block the server's logger).
 */
export async function startServer(
  inst: Installation,
  opts: { dataDir?: string; env?: Record<string, string>; role?: 'api' | 'worker' | 'all' } = {},
): Promise<ServerProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, 'serve', '--role', opts.role ?? 'api', '--port', '0'],
    {
      cwd: ROOT,
      env: { ...inst.env, ...(opts.dataDir ? { LLIGALL_DATA_DIR: opts.dataDir } : {}), ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let tail = '';
  let exited: number | string | null = null;
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-8192);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = code ?? signal;
      resolve();
    }),
  );
  const stop = async () => {
    if (exited !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(killer);
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      // A failure limit, not a timing check: a loaded CI machine can take long to start a server.
      const timer = setTimeout(() => reject(new Error(`server did not start within 60 s:\n${tail}`)), 60_000);
      const onData = () => {
        const m = /listening on (http:\/\/\S+)/.exec(tail);
        if (m) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          resolve(m[1]!.replace('localhost', '127.0.0.1'));
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`server exited (${exited}) before listening:\n${tail}`));
      });
    });
    for (let i = 0; ; i++) {
      const ok = await fetch(`${url}/readyz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      if (i > 100) throw new Error(`server at ${url} never became ready:\n${tail}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const kill = async () => {
      if (exited !== null) return;
      child.kill('SIGKILL');
      await exit;
    };
    return { pid: child.pid!, url, output: () => tail, stop, kill };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Resident set size (VmRSS) and its peak (VmHWM) of a process, in bytes. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Resets a process's peak RSS (VmHWM) to its current RSS (Linux ≥ 4.0); false if not permitted. */
export function resetPeakMemory(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
