/**
 * Core benchmark: one entity with 10,000 case files and 100,000 document records, read and written
 * over HTTP by 10 concurrent clients, on PGlite and (when configured) on PostgreSQL, each on a
 * fresh database.
 *
 * - Case-file creation is measured through the real API (POST /expedients) on a sample.
 * - The rest of the case files and every document record (with its index entry, pointing to a
 *   few real, content-addressed blobs) are written by bulk SQL as the owner role, so that the
 *   benchmark finishes in minutes.
 * - The server is a `lligall serve --role api` child process: the load generator does not share
 *   its event loop.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { BlobStore } from '#platform/blobs/blob-store.ts';
import { madridYear } from '#platform/db/counters.ts';
import { Database } from '#platform/db/database.ts';
import { compactId, newId } from '#platform/ids.ts';
import { SHA256_URI } from '#modules/documents/documents.service.ts';
import {
  type Installation,
  openInstallation,
  pgUrlsFromEnv,
  provisionEntity,
  type ServerProcess,
  startServer,
} from '#test/helpers/installation.ts';
import { type LoadResult, runLoad } from './load.ts';

type Backend = 'pglite' | 'postgres';

type Options = {
  backends: Backend[];
  expedients: number;
  documents: number;
  create: number;
  concurrency: number;
  requests: number;
  logLevel: string;
};

/** What the figures are held to (PostgreSQL on the reference 2-core machine). */
const TARGETS = { createRate: 200, getP95: 30, listP95: 60 };

const TITLES = [
  "Llicència d'obres menors",
  "Llicència d'obres majors",
  "Comunicació prèvia d'obres",
  "Comunicació prèvia d'activitat",
  'Subvenció a entitats esportives',
  'Subvenció a entitats culturals',
  'Contracte menor de serveis',
  'Contracte de subministrament',
  "Padró d'habitants: alta",
  "Padró d'habitants: canvi de domicili",
  'Ocupació de la via pública',
  'Reclamació de responsabilitat patrimonial',
  'Expedient sancionador de trànsit',
  'Certificat de compatibilitat urbanística',
  'Llicència de primera ocupació',
  "Canvi de titularitat d'activitat",
  "Ajut d'urgència social",
  'Modificació de crèdit',
  "Cessió d'espais municipals",
  'Gual permanent',
];
const STREETS = [
  'carrer Major',
  'plaça de la Vila',
  'carrer de Lleida',
  'avinguda del Segre',
  'camí de Tremp',
  'carrer Nou',
  'passeig del Riu',
];
/** Search terms of the filtered list, each found in a part of the titles. */
const TERMS = ['obres', 'subvenció', 'padró', 'via pública', 'gual', 'llicència', 'carrer major'];

export const coreUsage = `npm run bench -- core [options]

  --backend <pglite|postgres>   only this backend (default: PGlite, and PostgreSQL when
                                DATABASE_URL, DATABASE_OWNER_URL and LLIGALL_TEST_PG_ADMIN_URL are set)
  --expedients <n>              case files in the entity (default 10000)
  --documents <n>               document records (default 100000)
  --create <n>                  case files created over HTTP to measure the rate (default 2000)
  --concurrency <n>             concurrent HTTP clients (default 10)
  --requests <n>                requests per read measure (default 2000)
  --log-level <level>           the server's LOG_LEVEL (default info, as in production)`;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      backend: { type: 'string' },
      expedients: { type: 'string', default: '10000' },
      documents: { type: 'string', default: '100000' },
      create: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '10' },
      requests: { type: 'string', default: '2000' },
      'log-level': { type: 'string', default: 'info' },
    },
    strict: true,
  });
  const int = (name: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return n;
  };
  const pg = Boolean(pgUrlsFromEnv());
  let backends: Backend[] = pg ? ['pglite', 'postgres'] : ['pglite'];
  if (values.backend) {
    if (values.backend !== 'pglite' && values.backend !== 'postgres')
      throw new Error('--backend must be pglite or postgres');
    if (values.backend === 'postgres' && !pg) {
      throw new Error(
        '--backend postgres needs DATABASE_URL, DATABASE_OWNER_URL and LLIGALL_TEST_PG_ADMIN_URL',
      );
    }
    backends = [values.backend];
  }
  const o: Options = {
    backends,
    expedients: int('expedients', values.expedients, 1),
    documents: int('documents', values.documents, 0),
    create: int('create', values.create, 1),
    concurrency: int('concurrency', values.concurrency, 1),
    requests: int('requests', values.requests, 1),
    logLevel: values['log-level'] ?? 'info',
  };
  if (o.create > o.expedients) throw new Error('--create cannot exceed --expedients');
  return o;
}

/** Opens the installation's database in this process (on PGlite only while no server runs). */
export async function withDatabase<T>(inst: Installation, fn: (db: Database) => Promise<T>): Promise<T> {
  const appRole = process.env.LLIGALL_DB_APP_ROLE || 'lligall_app';
  const db = await Database.open(
    inst.urls
      ? { url: inst.urls.app, ownerUrl: inst.urls.owner, appRole }
      : { pgliteDir: path.join(inst.dataDir, 'db'), appRole },
  );
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

export type Entity = { tenantId: string; dir3: string; userId: string; year: number };

/**
 * Case files 1..count of the year, as the API would number them, spread from January to now;
 * 20 titles, 31 % closed, 17 % public, 5 % restricted (the user is named on every other restricted
 * one), with co-prime moduli so that title, state and access level do not go together.
 * Leaves the counter at `count`.
 */
export async function fillExpedients(db: Database, e: Entity, count: number): Promise<void> {
  const ids = Array.from({ length: count }, () => newId());
  const yearStart = new Date(`${e.year}-01-01T00:00:00+01:00`).getTime();
  const span = Math.max(1, Date.now() - 3600_000 - yearStart);
  await db.owner(async (tx) => {
    await sql`
      INSERT INTO expedients (tenant_id, id, number, year, seq, eni_id, title, classification, unit_id,
                              access_level, state, opened_at, closed_at, created_by, updated_at)
      SELECT ${e.tenantId}::uuid, t.id, ${e.year}::int || '/' || lpad(t.g::text, 6, '0'), ${e.year}::int, t.g,
             'ES_' || ${e.dir3}::text || '_' || ${e.year}::int || '_EXP_' || lpad(t.g::text, 6, '0'),
             (${TITLES}::text[])[1 + t.g % ${TITLES.length}::int] || ', ' ||
               (${STREETS}::text[])[1 + t.g % ${STREETS.length}::int] || ' ' || (t.g % 97 + 1),
             NULL, NULL,
             CASE WHEN t.g % 19 = 7 THEN 'restricted' WHEN t.g % 11 < 2 THEN 'public' ELSE 'internal' END,
             CASE WHEN t.g % 13 < 4 THEN 'E02' ELSE 'E01' END,
             t.opened, CASE WHEN t.g % 13 < 4 THEN t.opened + interval '30 days' END, ${e.userId}::uuid, t.opened
        FROM (SELECT u.id, u.g::int AS g,
                     to_timestamp((${yearStart}::float8 + (u.g - 1) * ${span / count}::float8) / 1000) AS opened
                FROM unnest(${ids}::uuid[]) WITH ORDINALITY AS u(id, g)) t`.execute(tx);
    await sql`
      INSERT INTO expedient_access (tenant_id, id, expedient_id, user_id, unit_id, granted_at)
      SELECT tenant_id, (${ids}::uuid[])[seq], id, ${e.userId}::uuid, NULL, opened_at
        FROM expedients WHERE tenant_id = ${e.tenantId}::uuid AND access_level = 'restricted' AND seq % 38 = 7`.execute(
      tx,
    );
    await sql`
      INSERT INTO counters (tenant_id, series, year, value) VALUES (${e.tenantId}::uuid, 'expedient', ${e.year}::int, ${count}::int)
      ON CONFLICT (tenant_id, series, year) DO UPDATE SET value = excluded.value`.execute(tx);
  });
}

/**
 * `count` documents, as many in each case file, each with its index entry; their content is one
 * of a few real files in the blob store (the store keeps each content once).
 */
export async function fillDocuments(db: Database, blobs: BlobStore, e: Entity, count: number): Promise<void> {
  const files: { sha256: string; size: number; name: string; mime: string }[] = [];
  for (let i = 0; i < 5; i++) {
    const text = `Document de prova ${i}\n${'Lligall '.repeat(200 * (i + 1))}\n`;
    const put = await blobs.put(text);
    files.push({ ...put, name: `document-${i}.txt`, mime: 'text/plain' });
  }
  const expedientIds = await db.owner(async (tx) =>
    (
      await sql<{
        id: string;
      }>`SELECT id FROM expedients WHERE tenant_id = ${e.tenantId}::uuid ORDER BY seq`.execute(tx)
    ).rows.map((r) => r.id),
  );
  const perExpedient = Math.ceil(count / expedientIds.length);
  const chunk = 20_000;
  for (let from = 0; from < count; from += chunk) {
    const n = Math.min(chunk, count - from);
    const ids = Array.from({ length: n }, () => newId());
    const eniIds = ids.map((id) => `ES_${e.dir3}_${e.year}_${compactId(id)}`);
    // Document k (0-based, over the whole fill) goes to case file k / perExpedient, at position k % perExpedient + 1.
    await db.owner(async (tx) => {
      await sql`
        INSERT INTO documents (tenant_id, id, eni_id, title, file_name, mime_type, size_bytes, sha256, document_type,
                               elaboration_state, original_eni_id, origin, captured_at, organ, format,
                               supersedes_id, incorporated_at, created_by, created_at)
        SELECT ${e.tenantId}::uuid, d.id, d.eni, 'Document ' || (${from}::int + d.n), (${files.map((f) => f.name)}::text[])[1 + d.n % 5],
               'text/plain', (${files.map((f) => f.size)}::bigint[])[1 + d.n % 5], (${files.map((f) => f.sha256)}::text[])[1 + d.n % 5],
               CASE WHEN d.n % 3 = 0 THEN 'TD01' WHEN d.n % 3 = 1 THEN 'TD02' ELSE 'TD99' END, 'EE01', NULL,
               CASE WHEN d.n % 4 = 0 THEN 'citizen' ELSE 'administration' END, now(), ARRAY[${e.dir3}::text], 'txt',
               NULL, now(), ${e.userId}::uuid, now()
          FROM unnest(${ids}::uuid[], ${eniIds}::text[]) WITH ORDINALITY AS d(id, eni, n)`.execute(tx);
      await sql`
        INSERT INTO index_entries (tenant_id, expedient_id, position, document_id, incorporated_at, hash_function)
        SELECT ${e.tenantId}::uuid, (${expedientIds}::uuid[])[1 + (${from}::int + d.n - 1) / ${perExpedient}::int],
               1 + (${from}::int + d.n - 1) % ${perExpedient}::int, d.id, now(), ${SHA256_URI}::text
          FROM unnest(${ids}::uuid[]) WITH ORDINALITY AS d(id, n)`.execute(tx);
    });
  }
}

export async function analyze(db: Database): Promise<void> {
  await db.owner(async (tx) => {
    for (const t of [
      'expedients',
      'expedient_access',
      'documents',
      'index_entries',
      'counters',
      'audit_events',
    ]) {
      await sql`ANALYZE ${sql.table(t)}`.execute(tx);
    }
  });
}

/** CPU time (user + system) a process has used, in ms; NaN if it is gone or not ours to read. */
function cpuMs(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time of the PostgreSQL backends serving this database, when the server runs on this
 * machine (their /proc entries are readable); null otherwise.
 */
async function dbCpuMs(inst: Installation): Promise<Map<number, number> | null> {
  if (!inst.urls) return null;
  const c = new pg.Client({ connectionString: inst.urls.owner });
  await c.connect();
  try {
    const r = await c.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    const out = new Map<number, number>();
    for (const { pid } of r.rows) {
      const ms = cpuMs(pid);
      if (Number.isNaN(ms)) return null;
      out.set(pid, ms);
    }
    return out;
  } finally {
    await c.end();
  }
}

/**
 * A load result with the CPU each request cost, in ms: the server processes together, the
 * database backends, and this process (the load clients, which share the machine).
 */
export type Measured = LoadResult & { serverCpu: number; dbCpu: number | null; clientCpu: number };

export async function measured(
  inst: Installation,
  servers: ServerProcess | ServerProcess[],
  run: () => Promise<LoadResult>,
): Promise<Measured> {
  const all = Array.isArray(servers) ? servers : [servers];
  const serversMs = () => all.reduce((n, s) => n + cpuMs(s.pid), 0);
  const s0 = serversMs();
  const d0 = await dbCpuMs(inst);
  const c0 = process.cpuUsage();
  const r = await run();
  const c = process.cpuUsage(c0);
  const s1 = serversMs();
  const d1 = await dbCpuMs(inst);
  let db: number | null = null;
  if (d0 && d1) {
    db = 0;
    for (const [pid, ms] of d1) db += ms - (d0.get(pid) ?? 0);
  }
  return {
    ...r,
    serverCpu: (s1 - s0) / r.requests,
    dbCpu: db === null ? null : db / r.requests,
    clientCpu: (c.user + c.system) / 1000 / r.requests,
  };
}

type BackendResult = {
  backend: Backend;
  version: string;
  fillSeconds: number;
  create: Measured;
  get: Measured;
  list: Measured;
  listAll: Measured;
};

const log = (s: string) => process.stderr.write(`${s}\n`);
const secs = (t0: number) => (performance.now() - t0) / 1000;

async function runBackend(backend: Backend, o: Options): Promise<BackendResult> {
  const inst = await openInstallation(backend, { LOG_LEVEL: o.logLevel });
  try {
    log(`[${backend}] fresh database migrated; provisioning an entity with the CLI`);
    const ent = await provisionEntity(inst, { dir3: 'L01259991', name: 'Ajuntament de Banc de Proves' });
    const year = madridYear(new Date());
    let version = '';
    let e: Entity | undefined;
    let t0 = performance.now();
    const bulk = o.expedients - o.create;
    await withDatabase(inst, async (db) => {
      const r = await db.owner((tx) =>
        sql<{ v: string; user: string }>`SELECT current_setting('server_version') AS v,
          (SELECT id FROM users WHERE username = ${ent.username}) AS user`.execute(tx),
      );
      version = r.rows[0]!.v;
      e = { tenantId: ent.tenantId, dir3: ent.dir3, userId: r.rows[0]!.user, year };
      await fillExpedients(db, e, bulk);
      await analyze(db);
    });
    let fillSeconds = secs(t0);
    log(`[${backend}] ${bulk} case files by bulk SQL in ${fillSeconds.toFixed(1)} s`);

    const headers = { authorization: `Bearer ${ent.token}` };
    const base = `/api/v1/entities/${ent.dir3}`;
    let server = await startServer(inst, { env: { LOG_LEVEL: o.logLevel } });
    let create: Measured;
    const numbers: string[] = [];
    try {
      log(`[${backend}] creating ${o.create} case files over HTTP, ${o.concurrency} clients`);
      create = await measured(inst, server, () =>
        runLoad({
          baseUrl: server.url,
          headers,
          concurrency: o.concurrency,
          requests: o.create,
          expect: 201,
          next: (i) => ({
            method: 'POST',
            path: `${base}/expedients`,
            body: { title: `${TITLES[i % TITLES.length]}, ${STREETS[i % STREETS.length]} ${i}` },
          }),
          onBody: (_i, body) => numbers.push((JSON.parse(body) as { number: string }).number),
        }),
      );
    } finally {
      await server.stop();
    }
    const expected = new Set(
      Array.from({ length: o.create }, (_, i) => `${year}/${String(bulk + i + 1).padStart(6, '0')}`),
    );
    if (numbers.length !== o.create || !numbers.every((n) => expected.delete(n)) || expected.size !== 0) {
      throw new Error('case-file numbers over HTTP are not consecutive after the bulk fill');
    }

    t0 = performance.now();
    const visible: string[] = [];
    await withDatabase(inst, async (db) => {
      await fillDocuments(db, new BlobStore(path.join(inst.dataDir, 'blobs')), e!, o.documents);
      await analyze(db);
      const r = await db.owner((tx) =>
        sql<{ id: string }>`SELECT x.id FROM expedients x WHERE x.tenant_id = ${ent.tenantId}::uuid
           AND (x.access_level <> 'restricted' OR EXISTS (SELECT 1 FROM expedient_access a
                 WHERE a.tenant_id = x.tenant_id AND a.expedient_id = x.id AND a.user_id = ${e!.userId}::uuid))`.execute(
          tx,
        ),
      );
      visible.push(...r.rows.map((x) => x.id));
    });
    const docSeconds = secs(t0);
    fillSeconds += docSeconds;
    log(`[${backend}] ${o.documents} documents and index entries by bulk SQL in ${docSeconds.toFixed(1)} s`);

    server = await startServer(inst, { env: { LOG_LEVEL: o.logLevel } });
    try {
      let seed = 42;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      };
      const get = (): { method: 'GET'; path: string } => ({
        method: 'GET',
        path: `${base}/expedients/${visible[rand(visible.length)]}`,
      });
      const list = (): { method: 'GET'; path: string } => ({
        method: 'GET',
        path: `${base}/expedients?state=E01&q=${encodeURIComponent(TERMS[rand(TERMS.length)]!)}&page=${1 + rand(5)}`,
      });
      const listAll = (): { method: 'GET'; path: string } => ({
        method: 'GET',
        path: `${base}/expedients?page=${1 + rand(20)}`,
      });
      const load = (next: () => { method: 'GET'; path: string }, requests: number) =>
        measured(inst, server, () =>
          runLoad({ baseUrl: server.url, headers, concurrency: o.concurrency, requests, expect: 200, next }),
        );
      log(`[${backend}] warming up`);
      await load(get, 300);
      await load(list, 100);
      log(`[${backend}] GET /expedients/{id}: ${o.requests} requests, ${o.concurrency} clients`);
      const g = await load(get, o.requests);
      log(`[${backend}] filtered list: ${o.requests} requests`);
      const l = await load(list, o.requests);
      const la = await load(listAll, o.requests);
      return { backend, version, fillSeconds, create, get: g, list: l, listAll: la };
    } finally {
      await server.stop();
    }
  } finally {
    await inst.close();
  }
}

function printTable(results: BackendResult[], o: Options): void {
  const cols = [
    'backend',
    'measure',
    'req/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'CPU ms/req app+db',
    'target (PostgreSQL)',
    '',
  ];
  const rows: string[][] = [];
  const f = (x: number) => x.toFixed(1);
  const row = (name: string, what: string, m: Measured, target: string, met: boolean | null) => {
    const cpu = `${m.serverCpu.toFixed(2)}${m.dbCpu === null ? '' : ` + ${m.dbCpu.toFixed(2)}`}`;
    rows.push([
      name,
      what,
      f(m.rate),
      f(m.p50),
      f(m.p95),
      f(m.p99),
      cpu,
      target,
      met === null ? '' : met ? 'met' : 'MISSED',
    ]);
  };
  for (const r of results) {
    const name = `${r.backend} ${r.version.split(' ')[0]}`;
    row(
      name,
      `create case file (POST, ${o.create})`,
      r.create,
      `≥ ${TARGETS.createRate}/s`,
      r.create.rate >= TARGETS.createRate,
    );
    row(name, 'GET /expedients/{id}', r.get, `p95 ≤ ${TARGETS.getP95} ms`, r.get.p95 <= TARGETS.getP95);
    row(
      name,
      'list ?state=E01&q=…&page=1..5',
      r.list,
      `p95 ≤ ${TARGETS.listP95} ms`,
      r.list.p95 <= TARGETS.listP95,
    );
    row(name, 'list ?page=1..20 (no filter)', r.listAll, '', null);
  }
  const numeric = new Set([2, 3, 4, 5, 6]);
  const width = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(width[i]!) : c.padEnd(width[i]!)))
      .join(' | ')
      .trimEnd();
  const [load1, , load15] = os.loadavg();
  console.log('');
  console.log(
    `Lligall core benchmark: 1 entity, ${o.expedients.toLocaleString('en')} case files, ${o.documents.toLocaleString('en')} documents; ` +
      `${o.concurrency} concurrent HTTP clients on loopback; server: lligall serve --role api (LOG_LEVEL=${o.logLevel})`,
  );
  console.log(
    `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.versions.node}; the server, the database and ` +
      `the load generator share it (load average at the end: ${load1!.toFixed(1)} over 1 min, ${load15!.toFixed(1)} over 15 min)`,
  );
  console.log('');
  console.log(line(cols));
  console.log(width.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) console.log(line(r));
  console.log('');
  console.log(
    'CPU ms/req: CPU time per request of the server process (+ the PostgreSQL backends serving it, when local); ' +
      'unlike latency, it hardly depends on what else the machine runs.',
  );
  for (const r of results)
    console.log(`${r.backend}: bulk fill ${r.fillSeconds.toFixed(1)} s (not part of the figures)`);
  console.log(
    'Targets are for PostgreSQL on the reference 2-core machine; PGlite (embedded) is shown for comparison.',
  );
}

export async function runCore(argv: string[]): Promise<number> {
  let o: Options;
  try {
    o = parseOptions(argv);
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${coreUsage}`);
    return 2;
  }
  const results: BackendResult[] = [];
  for (const b of o.backends) results.push(await runBackend(b, o));
  printTable(results, o);
  return 0;
}
