/**
 * The test runner behind `npm test`: runs every *.test.ts with node's test runner on the
 * embedded PGlite and, when PostgreSQL is configured (DATABASE_URL, DATABASE_OWNER_URL,
 * LLIGALL_TEST_PG_ADMIN_URL), again on PostgreSQL. Under CI=true both backends are required
 * and a skipped or todo test fails the run. Files named *.embedded.test.ts exercise the embedded
 * database only (the quick start, the CLI on PGlite) and run once, in the PGlite pass. The
 * browser tests (test/browser/) drive the web app through its HTTP API, whose behaviour on both
 * backends the HTTP tests already check; they run once too, in the PGlite pass (which always runs),
 * to keep CI within its time budget, as do the files that use no database at all.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Database } from '../src/platform/db/database.ts';
import { createPgDatabase } from '../test/helpers/installation.ts';

/**
 * shared_buffers of every embedded database the tests start (hundreds of them, in the test files
 * and the `lligall` processes they spawn): each start clears this much memory, ~1 s for the
 * default 128 MB against ~0.1 s for 16.
 */
const TEST_SHARED_BUFFERS_MB = 16;
const root = path.resolve(import.meta.dirname, '..');
const tmp = path.join(root, '.tmp');
fs.mkdirSync(tmp, { recursive: true });
const ci = process.env.CI === 'true';
const only = process.argv.slice(2);

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...findTests(p));
    else if (e.name.endsWith('.test.ts')) out.push(path.relative(root, p));
  }
  return out;
}
const files = [...findTests(path.join(root, 'src')), ...findTests(path.join(root, 'test'))]
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

// A migrated PGlite data directory, copied by each test file instead of migrating again (and
// opened on disk: starting PGlite from a directory is faster than unpacking an archive into memory).
const template = path.join(tmp, 'pglite-template');
fs.rmSync(template, { recursive: true, force: true });
{
  const db = await Database.open({
    pgliteDir: template,
    pgliteSharedBuffersMb: TEST_SHARED_BUFFERS_MB,
    appRole: process.env.LLIGALL_DB_APP_ROLE || 'lligall_app',
  });
  await db.migrate();
  await db.close();
}

const pgConfigured = Boolean(
  process.env.DATABASE_URL && process.env.DATABASE_OWNER_URL && process.env.LLIGALL_TEST_PG_ADMIN_URL,
);
if (ci && !pgConfigured) {
  console.error(
    'CI=true but PostgreSQL is not configured (DATABASE_URL, DATABASE_OWNER_URL, LLIGALL_TEST_PG_ADMIN_URL)',
  );
  process.exit(1);
}
/**
 * Whether a test file touches a database at all: through the test harness, the database layer, a
 * server, or a `lligall` process. A file that does not (PDF, CMS, XAdES, masking, deadline
 * arithmetic…) gives the same result on both backends, so it runs once.
 */
const DATABASE_USE =
  /helpers\/harness|helpers\/installation|helpers\/browser|\/db\/|\bDatabase\b|PGlite|LLIGALL_TEST_BACKEND|DATABASE_URL|bin\/lligall|cli\/main|buildServer|openTestEnv/;
const usesDatabase = (f: string) => DATABASE_USE.test(fs.readFileSync(path.join(root, f), 'utf8'));
/** Files that run once, in the PGlite pass: the embedded-only ones, the browser tests, and those with no database. */
const onePassOnly = (f: string) =>
  f.endsWith('.embedded.test.ts') || f.startsWith(`test${path.sep}browser${path.sep}`) || !usesDatabase(f);
const backends: ('pglite' | 'postgres')[] = pgConfigured ? ['pglite', 'postgres'] : ['pglite'];
/**
 * Heavy files whose subject does not depend on the backend, run once: on PostgreSQL (the
 * production backend) when it is configured, else on PGlite. The 400 MB upload checks a server
 * process's memory and temporary files while streaming; the registry concurrency run's acceptance
 * is on PostgreSQL (two API processes and a SIGKILL), its embedded variant only files through one
 * server. CI time.
 */
const POSTGRES_WHEN_CONFIGURED = ['test/upload-memory.test.ts', 'test/registry-concurrency.test.ts'].map(
  (f) => f.split('/').join(path.sep),
);

/**
 * The files that take longest (several processes, a browser, hundreds of requests), started first
 * so that they overlap with the short ones instead of running alone at the end of a pass. Order
 * only: a file missing from this list runs all the same, after them.
 */
const LONG_FILES = [
  'test/browser/seu.test.ts',
  'test/quickstart.embedded.test.ts',
  'test/browser/registry.test.ts',
  'test/browser/signatures.test.ts',
  'test/cli.embedded.test.ts',
  'test/concurrency.test.ts',
];
function longFirst(list: string[]): string[] {
  const long = LONG_FILES.map((f) => f.split('/').join(path.sep)).filter((f) => list.includes(f));
  return [...long, ...list.filter((f) => !long.includes(f))];
}

/**
 * On PostgreSQL, a migrated database each test file's database is created from (CREATE DATABASE …
 * TEMPLATE), instead of migrating every one. Dropped at the end of the run.
 */
async function makePgTemplate(): Promise<{ name: string; drop(): Promise<void> }> {
  const t = await createPgDatabase('lligall_tpl');
  const db = await Database.open({
    url: t.app,
    ownerUrl: t.owner,
    appRole: process.env.LLIGALL_DB_APP_ROLE || 'lligall_app',
  });
  await db.migrate();
  await db.close();
  return t;
}

type Totals = { pass: number; fail: number; skip: number; todo: number; tests: number };
const totals: Totals = { pass: 0, fail: 0, skip: 0, todo: 0, tests: 0 };
const ran: string[] = [];
let failed = false;
for (const b of backends) {
  const pgTemplate = b === 'postgres' ? await makePgTemplate() : undefined;
  const tap = path.join(tmp, `tap-${b}.txt`);
  const guardLog = path.join(tmp, `exit-guard-${b}.txt`);
  fs.rmSync(guardLog, { force: true });
  console.log(`\n=== test files on ${b} ===`);
  const passFiles =
    b === 'pglite'
      ? files.filter((f) => !(pgConfigured && POSTGRES_WHEN_CONFIGURED.includes(f)))
      : files.filter((f) => !onePassOnly(f));
  const r = spawnSync(
    process.execPath,
    [
      path.join(root, 'scripts', 'test-runner.ts'),
      tap,
      // PostgreSQL's pass runs three files at a time: its two long concurrency tests would
      // otherwise hold both slots together while the light files wait (CI time).
      process.env.LLIGALL_TEST_CONCURRENCY || (b === 'postgres' ? '3' : '2'),
      // PGlite's pass starts its long files first; PostgreSQL's keeps the sorted order, which leaves
      // its two heaviest files (registry and decree concurrency, several processes each) apart:
      // started together they slowed each other and the pass by a minute.
      ...(b === 'pglite' ? longFirst(passFiles) : passFiles),
    ],
    {
      cwd: root,
      stdio: 'inherit',
      // Last resort if a test file stalls in a way neither the per-test timeout nor the exit
      // guard catches: CI must not run past its budget.
      timeout: 15 * 60_000,
      killSignal: 'SIGKILL',
      env: {
        ...process.env,
        LLIGALL_TEST_BACKEND: b,
        LLIGALL_TEST_PGLITE_TEMPLATE: template,
        ...(pgTemplate ? { LLIGALL_TEST_PG_TEMPLATE: pgTemplate.name } : {}),
        LLIGALL_PGLITE_SHARED_BUFFERS_MB: String(TEST_SHARED_BUFFERS_MB),
        LLIGALL_TEST_EXIT_GUARD_LOG: guardLog,
        // The tests start hundreds of `lligall` and server processes: V8's code cache (TypeScript
        // stripping included) spares each one recompiling the same modules.
        NODE_COMPILE_CACHE: path.join(tmp, 'compile-cache'),
        LOG_LEVEL: 'warn',
      },
    },
  );
  await pgTemplate?.drop();
  const text = fs.existsSync(tap) ? fs.readFileSync(tap, 'utf8') : '';
  const count = (k: string) => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  const t: Totals = {
    tests: count('tests'),
    pass: count('pass'),
    fail: count('fail'),
    skip: count('skipped'),
    todo: count('todo'),
  };
  for (const k of Object.keys(totals) as (keyof Totals)[]) totals[k] += t[k];
  if (r.error || r.signal) console.error(`${b}: the test run was stopped (${r.error?.message ?? r.signal})`);
  const bad = r.status !== 0 || t.fail > 0 || t.tests === 0 || (ci && (t.skip > 0 || t.todo > 0));
  if (ci && (t.skip > 0 || t.todo > 0))
    console.error(`${b}: ${t.skip} skipped and ${t.todo} todo tests: under CI every suite must run`);
  if (t.tests === 0) console.error(`${b}: no test ran`);
  // Files the exit guard had to end: their tests ran and reported, but they leak a handle.
  const lingering = fs.existsSync(guardLog) ? fs.readFileSync(guardLog, 'utf8').trim().split('\n') : [];
  for (const l of lingering) console.error(`${b}: did not exit by itself (ended by the exit guard): ${l}`);
  ran.push(`${b}: ${t.pass} passed, ${t.fail} failed, ${t.skip} skipped${bad ? ' (FAILED)' : ''}`);
  failed ||= bad;
}

console.log('\n=== backends ===');
for (const line of ran) console.log(line);
if (!pgConfigured)
  console.log(
    'postgres: not configured (set DATABASE_URL, DATABASE_OWNER_URL, LLIGALL_TEST_PG_ADMIN_URL to run it)',
  );
console.log(`${totals.pass} passed, ${totals.fail} failed, ${totals.skip} skipped`);
process.exit(failed ? 1 : 0);
