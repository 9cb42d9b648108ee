import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import {
  CompiledQuery,
  type DatabaseConnection,
  Kysely,
  PGliteDialect,
  PostgresDialect,
  PostgresDriver,
  type Selectable,
  sql,
  type Transaction,
  type TransactionSettings,
} from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { AppError } from '../errors.ts';
import { expectedJobSchemaVersion, installedJobSchemaVersion, installJobSchema } from '../jobs/schema.ts';
import { migrationProvider } from './migrations/index.ts';
import { type DB, PLATFORM_TENANT, type TenantsTable } from './schema.ts';

export type Tx = Transaction<DB>;
/** A transaction or the pool itself: for single reads that need no transaction. */
export type Executor = Kysely<DB>;

export type DatabaseOptions = {
  /** PostgreSQL URL of the application role; undefined = embedded PGlite. */
  url?: string | undefined;
  /** PostgreSQL URL of the owner role (migrations, platform-wide work). */
  ownerUrl?: string | undefined;
  /** Data directory of the embedded database ('memory://' for tests). */
  pgliteDir?: string | undefined;
  /** An already-open PGlite instance (tests clone a migrated template). */
  pglite?: PGlite | undefined;
  /** shared_buffers of the embedded database, in MB (default PostgreSQL's 128). */
  pgliteSharedBuffersMb?: number | undefined;
  appRole: string;
  poolSize?: number;
};

/**
 * PGlite's start parameters with this shared_buffers: starting the embedded database clears that
 * much memory (about 1 s for PostgreSQL's default 128 MB, on this project's CI machine).
 */
export function pgliteStartParams(sharedBuffersMb = 128): string[] {
  return [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffersMb}MB`];
}

/** Work a transaction does last, just before it commits (e.g. writing its buffered audit events). */
const commitHooks = new WeakMap<Tx, (() => Promise<void>)[]>();

/**
 * Runs `hook` when the transaction's work is done, just before it commits, after the hooks
 * registered before it. Only for transactions opened by Database (all of them are).
 */
export function beforeCommit(tx: Tx, hook: () => Promise<void>): void {
  const hooks = commitHooks.get(tx);
  if (hooks) hooks.push(hook);
  else commitHooks.set(tx, [hook]);
}

/** fn, then the hooks it registered (a hook may register more), all in the transaction. */
async function withCommitHooks<T>(tx: Tx, fn: () => Promise<T>): Promise<T> {
  const result = await fn();
  for (let hooks = commitHooks.get(tx); hooks; hooks = commitHooks.get(tx)) {
    commitHooks.delete(tx);
    for (const hook of hooks) await hook();
  }
  return result;
}

/**
 * Versions of data that processes keep in memory, renewed by triggers on every change (migrations
 * 0024 and 0026): read with the entity in tenantByRef's statement, so a cache keyed by them costs
 * no round trip of its own. Null: the data has no version yet (nothing to key a cache by).
 */
export type CacheVersionName = 'calendar' | 'seals';
const VERSIONS_SQL =
  "(select version::text from calendar_version) as _calendar_version, (select version::text from cache_versions where name = 'seals') as _seals_version";
const txVersions = new WeakMap<Tx, Record<CacheVersionName, string | null>>();

/** The version of `name` as this transaction's entity was read (tenantByRef); undefined otherwise. */
export function txCacheVersion(tx: Tx, name: CacheVersionName): string | null | undefined {
  return txVersions.get(tx)?.[name];
}

/** The tenant each open transaction acts for (`app.tenant`), as Database and asTenant set it. */
const txTenants = new WeakMap<Tx, string>();

/** The tenant the transaction acts for now (row-level security), if any. */
export function txTenant(tx: Tx): string | undefined {
  return txTenants.get(tx);
}

/**
 * SQL sent with the BEGIN of the transaction started in this async context (PostgreSQL only),
 * once: the application role and the tenant are then set in the same round trip as BEGIN.
 */
const begunWith = new AsyncLocalStorage<OneTrip>();

/**
 * A transaction that goes to PostgreSQL in as few round trips as it can: a statement sent with its
 * BEGIN (`sql`, answered in `rows`) and statements sent with its COMMIT (`tail`).
 */
type OneTrip = { sql: string; used: boolean; rows?: unknown[]; tail?: Deferred[]; lazy?: boolean };

/** A statement sent with the COMMIT, and what receives its rows once the transaction has committed. */
type Deferred = { query: CompiledQuery; onRows: ((rows: unknown[]) => void) | undefined };

/** The OneTrip of each open transaction that has one (PostgreSQL, Database's own transactions). */
const txOneTrips = new WeakMap<Tx, OneTrip>();

/**
 * Sends `query` with the transaction's COMMIT, in the same round trip, instead of now: for the
 * statements a transaction ends with, whose results it does not need (the audit chain's append).
 * Any row locks they take are then held only while the database runs them and commits, not for a
 * round trip back to this process and its event loop. An error in one of them (or in the commit)
 * is the commit's error: nothing of the transaction is kept. False, and nothing is deferred, where
 * the transaction cannot do it (PGlite, where a statement costs no round trip; a transaction not
 * opened by tenant(), tenantByRef() or platform()): the caller then runs the statement itself.
 */
export function deferToCommit(tx: Tx, query: CompiledQuery, onRows?: (rows: unknown[]) => void): boolean {
  const trip = txOneTrips.get(tx);
  if (!trip) return false;
  const d = { query, onRows };
  if (trip.tail) trip.tail.push(d);
  else trip.tail = [d];
  return true;
}

/**
 * deferToCommit where the transaction can, otherwise runs `query` now; true when it was deferred.
 * `onRows` gets the statement's rows: at once when it ran now, after the commit when deferred (and
 * never if the transaction does not commit).
 */
export async function deferOrRun(
  tx: Tx,
  query: CompiledQuery,
  onRows?: (rows: unknown[]) => void,
): Promise<boolean> {
  if (deferToCommit(tx, query, onRows)) return true;
  const { rows } = await tx.executeQuery(query);
  onRows?.(rows as unknown[]);
  return false;
}

/** The SQL text that stands for "this transaction's deferred statements, then COMMIT" (CommitTail). */
const COMMIT_TAIL = '/* lligall: deferred statements, then commit */ commit';

/**
 * The SQL text that stands for "begin this transaction, with this statement, when it sends its
 * first one" (a OneTrip whose statement's rows are not needed: `lazy`). Nothing is sent then: the
 * BEGIN and the statement go with the transaction's first statement, or, if the transaction sends
 * none before its commit, in the CommitTail with its deferred statements and COMMIT (one round
 * trip for the whole transaction, as a registry receipt's); a transaction that sends nothing at
 * all sends nothing.
 */
const LAZY_BEGIN = '/* lligall: begin with the first statement */ begin';

type PgConnection = {
  stream: { cork?: () => void; uncork?: () => void };
  parsedStatements: Record<string, string>;
  parse(c: { text: string; name?: string; types: unknown[] }): void;
  bind(c: { statement?: string; values: unknown[]; valueMapper: (v: unknown) => unknown }): void;
  describe(c: { type: 'P' | 'S'; name: string }): void;
  execute(c: { portal: string; rows: number }): void;
  sync(): void;
};

const prepareValue = (
  createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue: (v: unknown) => unknown }
).prepareValue;

/** node-postgres's own row parser (the types parsed as for any query of this process). */
type PgResult = { addFields(fields: unknown[]): void; parseRow(values: unknown[]): unknown };
const PgResultClass = createRequire(import.meta.url)('pg/lib/result.js') as new () => PgResult;

/**
 * The deferred statements and COMMIT as one pipeline (node-postgres's Submittable interface):
 * Parse/Bind/Execute for each, then COMMIT, then one Sync, in one write. The server runs them in
 * order; at the first error it skips the rest up to the Sync (so COMMIT too) and the transaction is
 * left aborted for the caller's ROLLBACK. Named statements (StatementNames) are parsed once per
 * connection as the driver's own queries are.
 */
class CommitTail {
  readonly #statements: {
    text: string;
    name: string | undefined;
    values: unknown[];
    onRows?: ((rows: unknown[]) => void) | undefined;
  }[];
  readonly #names: StatementNames;
  readonly #tags: string[] = [];
  /** The rows of each statement that asked for them (by index), parsed as they arrive. */
  readonly #rows: unknown[][] = [];
  #result: PgResult | undefined;
  #parsing: { name: string; text: string }[] = [];
  #settled = false;
  readonly promise: Promise<{ command: string; rowCount: number; rows: unknown[] }>;
  #resolve!: (r: { command: string; rowCount: number; rows: unknown[] }) => void;
  #reject!: (e: unknown) => void;

  constructor(
    statements: { text: string; values: unknown[]; onRows?: ((rows: unknown[]) => void) | undefined }[],
    names: StatementNames,
    begin?: string,
  ) {
    this.#names = names;
    this.#statements = [
      // A lazy BEGIN (LAZY_BEGIN) and its statement, when the transaction sent nothing before.
      ...(begin === undefined
        ? []
        : [
            { text: 'begin', name: undefined, values: [] },
            { text: begin, name: undefined, values: [] },
          ]),
      ...statements.map((s) => ({ ...s, name: names.nameFor(s.text) })),
      { text: 'commit', name: undefined, values: [] },
    ];
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  submit(connection: PgConnection): void {
    connection.stream.cork?.();
    try {
      const here = new Set<string>();
      for (const s of this.#statements) {
        if (!s.name || (connection.parsedStatements[s.name] === undefined && !here.has(s.name))) {
          if (s.name) here.add(s.name);
          connection.parse({ text: s.text, name: s.name, types: [] });
          if (s.name) this.#parsing.push({ name: s.name, text: s.text });
        }
        connection.bind({ statement: s.name, values: s.values, valueMapper: prepareValue });
        // Described only where the rows are wanted: the answer then starts with their description.
        if (s.onRows) connection.describe({ type: 'P', name: '' });
        connection.execute({ portal: '', rows: 0 });
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
  }

  handleRowDescription(msg: { fields: unknown[] }): void {
    this.#result = new PgResultClass();
    this.#result.addFields(msg.fields);
  }
  handleDataRow(msg: { fields: unknown[] }): void {
    const at = this.#tags.length; // the statement running now: one command tag per statement before it
    if (!this.#statements[at]?.onRows) return; // rows nobody asked for (not described)
    const rows = this.#rows[at] ?? [];
    this.#rows[at] = rows;
    rows.push(this.#result!.parseRow(msg.fields));
  }
  handlePortalSuspended(): void {}
  handleEmptyQuery(): void {
    this.#tags.push('');
  }
  handleCopyInResponse(): void {}
  handleCopyData(): void {}
  handleCommandComplete(msg: { text: string }): void {
    this.#tags.push(msg.text);
  }

  handleError(err: unknown, _connection: PgConnection): void {
    if (this.#settled) return;
    this.#settled = true;
    // Which of the statements parsed here were kept is not known: they get new names, parsed
    // afresh where next used (a statement left behind under the old name costs only memory).
    for (const p of this.#parsing) this.#names.rename(p.text);
    this.#reject(err);
  }

  handleReadyForQuery(connection: PgConnection): void {
    if (this.#settled) return;
    this.#settled = true;
    for (const p of this.#parsing) connection.parsedStatements[p.name] = p.text;
    // The command tag of the last statement, COMMIT (or ROLLBACK if the transaction had failed).
    const command = this.#tags.at(-1)?.split(' ')[0] ?? '';
    if (command === 'COMMIT')
      try {
        this.#statements.forEach((s, i) => {
          s.onRows?.(this.#rows[i] ?? []);
        });
      } catch (e) {
        // A receiver's own failure (the transaction has committed): its caller's error.
        this.#reject(e);
        return;
      }
    this.#resolve({ command, rowCount: 0, rows: [] });
  }
}

/** PostgreSQL's driver, sending a transaction's first statement with its BEGIN when it has one. */
class OneTripBeginDriver extends PostgresDriver {
  override async beginTransaction(
    connection: DatabaseConnection,
    settings: TransactionSettings,
  ): Promise<void> {
    const with_ = begunWith.getStore();
    if (!with_ || with_.used || settings.isolationLevel || settings.accessMode)
      return super.beginTransaction(connection, settings);
    with_.used = true;
    if (with_.lazy) {
      await connection.executeQuery(CompiledQuery.raw(LAZY_BEGIN, [with_.sql]));
      return;
    }
    // No parameters: the simple query protocol, which takes several statements at once (the
    // connection answers with the last one's rows: nameHotStatements).
    with_.rows = (await connection.executeQuery(CompiledQuery.raw(`begin; ${with_.sql}`))).rows;
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const trip = begunWith.getStore();
    const tail = trip?.tail;
    if (!trip || !tail?.length) return super.commitTransaction(connection);
    trip.tail = undefined;
    // nameHotStatements sends them, with the COMMIT, as one CommitTail.
    const { rows } = await connection.executeQuery(CompiledQuery.raw(COMMIT_TAIL, tail));
    if ((rows[0] as { command?: string } | undefined)?.command !== 'COMMIT')
      throw new Error('the transaction did not commit');
  }
}

class OneTripBeginDialect extends PostgresDialect {
  readonly #pool: pg.Pool;
  constructor(pool: pg.Pool) {
    super({ pool });
    this.#pool = pool;
  }
  override createDriver(): PostgresDriver {
    return new OneTripBeginDriver({ pool: this.#pool });
  }
}

/**
 * Automatic prepared statements on PostgreSQL, as PgJDBC's `prepareThreshold`: a parameterised
 * statement this process has sent PREPARE_AFTER times is sent from then on as a named statement,
 * which each connection parses and plans once (PostgreSQL then keeps a generic plan when it is as
 * good) instead of on every call. The hot statements of a request (the session's user, the
 * entity, the counter, the audit head…) were planned on every call: about a quarter of the
 * database's CPU per registry entry. Bounded: at most MAX_NAMED statements per process (so per
 * connection), texts up to MAX_TEXT characters; statements without parameters (BEGIN, COMMIT,
 * scripts) are never named. If a schema change alters a named statement's result columns,
 * PostgreSQL refuses it ("cached plan must not change result type"); that call fails, and the
 * statement gets a new name, parsed afresh on its next use.
 */
const PREPARE_AFTER = 5;
const MAX_NAMED = 300;
const MAX_TEXT = 8000;
const MAX_COUNTED = 5000;

class StatementNames {
  readonly #counts = new Map<string, number>();
  readonly #names = new Map<string, string>();
  #renamed = 0;

  nameFor(text: string): string | undefined {
    const name = this.#names.get(text);
    if (name || this.#names.size >= MAX_NAMED || text.length > MAX_TEXT) return name;
    const n = (this.#counts.get(text) ?? 0) + 1;
    if (n < PREPARE_AFTER) {
      if (this.#counts.size >= MAX_COUNTED) this.#counts.clear();
      this.#counts.set(text, n);
      return undefined;
    }
    this.#counts.delete(text);
    const fresh = `lligall_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    this.#names.set(text, fresh);
    return fresh;
  }

  /** The statement's plan no longer fits the schema: a new name, prepared again where used. */
  rename(text: string): void {
    const name = this.#names.get(text);
    if (name) this.#names.set(text, `${name.slice(0, 32)}_${++this.#renamed}`);
  }
}

type QueryFn = (config: unknown, values?: unknown, callback?: unknown) => unknown;

/** Sends the process's hot statements (StatementNames) of every connection of `pool` as named statements. */
function nameHotStatements(pool: pg.Pool): void {
  const names = new StatementNames();
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as QueryFn;
    /** A lazy BEGIN's statement (LAZY_BEGIN) not sent yet: this client's transaction has sent nothing. */
    let pending: string | undefined;
    const send = (config: unknown, values?: unknown, callback?: unknown): unknown => {
      if (pending !== undefined) {
        const begin = pending;
        pending = undefined;
        if (config === 'commit' || config === 'rollback')
          return Promise.resolve({ command: config.toUpperCase(), rowCount: 0, rows: [] });
        if (callback !== undefined) throw new Error('a lazy BEGIN is followed by promise queries only');
        // BEGIN and its statement first, answered before the statement goes (if they failed, it
        // must not run outside a transaction).
        if (config !== COMMIT_TAIL)
          return (query(`begin; ${begin}`, []) as Promise<unknown>).then(() => send(config, values));
        return commitTail(values, begin);
      }
      if (config === LAZY_BEGIN && Array.isArray(values) && typeof values[0] === 'string') {
        pending = values[0];
        return Promise.resolve({ command: 'BEGIN', rowCount: 0, rows: [] });
      }
      if (config === COMMIT_TAIL && Array.isArray(values) && callback === undefined)
        return commitTail(values, undefined);
      return named(config, values, callback);
    };
    const commitTail = (values: unknown, begin: string | undefined) => {
      const tail = new CommitTail(
        (values as Deferred[]).map((d) => ({
          text: d.query.sql,
          values: [...d.query.parameters],
          onRows: d.onRows,
        })),
        names,
        begin,
      );
      query(tail);
      return tail.promise;
    };
    (client as unknown as { query: QueryFn }).query = send;
    const named: QueryFn = (config, values, callback) => {
      // Several statements in one simple query (OneTripBeginDriver's BEGIN and the statement sent
      // with it): the driver answers with one result each; the caller gets the last statement's.
      if (
        typeof config === 'string' &&
        Array.isArray(values) &&
        values.length === 0 &&
        callback === undefined
      )
        return (query(config, values) as Promise<unknown>).then((r) => (Array.isArray(r) ? r.at(-1) : r));
      if (
        typeof config !== 'string' ||
        !Array.isArray(values) ||
        values.length === 0 ||
        callback !== undefined
      )
        return query(config, values, callback);
      const name = names.nameFor(config);
      if (!name) return query(config, values);
      return (query({ name, text: config, values }) as Promise<unknown>).catch((e: unknown) => {
        if ((e as { code?: string }).code === '0A000' && /cached plan/.test((e as Error).message))
          names.rename(config);
        throw e;
      });
    };
  });
}

/** A role name or a UUID, safe to write as an SQL literal as is. */
const plainLiteral = (v: string): boolean => /^[A-Za-z0-9_-]+$/.test(v);

/** A tenant reference in a URL is its DIR3 code (nine capitals or digits) or its slug. */
const tenantRefColumn = (ref: string): 'dir3' | 'slug' => (/^[A-Z0-9]{9}$/.test(ref) ? 'dir3' : 'slug');

/**
 * The database, on PGlite or PostgreSQL through one code path.
 *
 * - `tenant(id, fn)`: a transaction that sees only one entity's rows (row-level security,
 *   transaction-local `app.tenant`, as the NOSUPERUSER NOBYPASSRLS application role).
 * - `platform(fn)`: a transaction on the platform tables only (no tenant set, so tenant rows are invisible).
 * - `owner(fn)`: the owner role, for migrations and explicit platform-wide work (audit verify, backup).
 *   Callers audit what they do with it.
 */
export class Database {
  readonly kind: 'pglite' | 'postgres';
  readonly appRole: string;
  readonly #app: Kysely<DB>;
  readonly #owner: Kysely<DB>;
  readonly #pglite: PGlite | undefined;
  readonly #lockFile: string | undefined;
  readonly #pools: { app: pg.Pool; owner: pg.Pool } | undefined;
  #closed = false;

  private constructor(
    kind: 'pglite' | 'postgres',
    app: Kysely<DB>,
    owner: Kysely<DB>,
    appRole: string,
    pglite?: PGlite,
    lockFile?: string,
    pools?: { app: pg.Pool; owner: pg.Pool },
  ) {
    this.kind = kind;
    this.#app = app;
    this.#owner = owner;
    this.appRole = appRole;
    this.#pglite = pglite;
    this.#lockFile = lockFile;
    this.#pools = pools;
  }

  static async open(opts: DatabaseOptions): Promise<Database> {
    if (opts.url) {
      // Short OLTP queries: JIT compilation (tens of ms, triggered by the row-level-security
      // subqueries' cost estimates) costs more than it saves.
      const appPool = new pg.Pool({
        connectionString: opts.url,
        max: opts.poolSize ?? 10,
        options: '-c jit=off',
      });
      const ownerPool = new pg.Pool({ connectionString: opts.ownerUrl ?? opts.url, max: 3 });
      // An idle client killed by the server (restart, failover) must not crash the process:
      // the pool drops it and opens a new one on the next query.
      for (const pool of [appPool, ownerPool]) {
        pool.on('error', (err) => console.error(`database: idle connection lost: ${err.message}`));
      }
      nameHotStatements(appPool);
      const app = new Kysely<DB>({ dialect: new OneTripBeginDialect(appPool) });
      const owner = new Kysely<DB>({ dialect: new PostgresDialect({ pool: ownerPool }) });
      return new Database('postgres', app, owner, opts.appRole, undefined, undefined, {
        app: appPool,
        owner: ownerPool,
      });
    }
    let lockFile: string | undefined;
    let pgl = opts.pglite;
    if (!pgl) {
      const dir = opts.pgliteDir ?? 'memory://';
      if (!dir.startsWith('memory://')) {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        lockFile = acquireDirLock(dir);
      }
      try {
        pgl = await PGlite.create(dir, { startParams: pgliteStartParams(opts.pgliteSharedBuffersMb) });
      } catch (e) {
        if (lockFile) fs.rmSync(lockFile, { force: true });
        throw e;
      }
    }
    const k = new Kysely<DB>({ dialect: new PGliteDialect({ pglite: pgl }) });
    return new Database('pglite', k, k, opts.appRole, pgl, lockFile);
  }

  /** The raw PGlite instance (tests clone it). */
  get pglite(): PGlite | undefined {
    return this.#pglite;
  }

  /** Runs fn in one transaction that sees only `tenantId`'s rows. */
  async tenant<T>(tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#entered(tenantId, fn);
  }

  /**
   * One read-only statement on the platform tables, outside any transaction (authentication runs
   * on every request). On PostgreSQL the pool is the application role; tenant tables stay
   * invisible because no tenant is set.
   */
  async platformRead<T>(fn: (q: Executor) => Promise<T>): Promise<T> {
    return fn(this.#app);
  }

  /**
   * Like `tenant()`, for a tenant known by its DIR3 code or slug. One statement reads the tenant
   * (a platform table) and, when it exists, enters the application role and sets `app.tenant`;
   * `check` may refuse it (e.g. the caller is not a member) before `fn` runs. Every request to an
   * entity's routes goes through here, so on PostgreSQL the statement is sent with BEGIN: one
   * round trip, not three.
   */
  async tenantByRef<T>(
    ref: string,
    check: (tenant: Selectable<TenantsTable>) => void,
    fn: (tx: Tx, tenant: Selectable<TenantsTable>) => Promise<T>,
  ): Promise<T> {
    const col = tenantRefColumn(ref);
    const run = (with_?: OneTrip) =>
      this.#app.transaction().execute(async (tx) => {
        if (with_) txOneTrips.set(tx, with_);
        const rows = with_?.used
          ? (with_.rows as Selectable<TenantsTable>[])
          : (
              await sql<Selectable<TenantsTable>>`
                select t.*, set_config('role', ${this.appRole}, true) as _role, set_config('app.tenant', t.id::text, true) as _tenant,
                  ${sql.raw(VERSIONS_SQL)}
                from tenants t where ${sql.ref(`t.${col}`)} = ${ref}`.execute(tx)
            ).rows;
        const tenant = rows[0];
        if (!tenant) throw new AppError('ENTITY_NOT_FOUND', `Entity ${ref} not found`);
        check(tenant);
        txTenants.set(tx, tenant.id);
        const v = tenant as unknown as { _calendar_version: string | null; _seals_version: string | null };
        txVersions.set(tx, { calendar: v._calendar_version, seals: v._seals_version });
        return withCommitHooks(tx, () => fn(tx, tenant));
      });
    if (this.kind !== 'postgres' || !plainLiteral(this.appRole) || !plainLiteral(ref)) return run();
    // On PostgreSQL the statement goes with BEGIN (one round trip), its values written as literals:
    // plainLiteral admits only letters, digits, '_' and '-' (DIR3 codes, slugs, role names).
    const with_ = {
      sql: `select t.*, set_config('role', '${this.appRole}', true) as _role, set_config('app.tenant', t.id::text, true) as _tenant, ${VERSIONS_SQL} from tenants t where t.${col} = '${ref}'`,
      used: false,
    };
    return begunWith.run(with_, () => run(with_));
  }

  /** A tenant by its DIR3 code or slug: one statement, outside any transaction. */
  async findTenantByRef(ref: string): Promise<Selectable<TenantsTable> | undefined> {
    return this.#app
      .selectFrom('tenants')
      .selectAll()
      .where(tenantRefColumn(ref), '=', ref)
      .executeTakeFirst();
  }

  /**
   * Runs fn in one transaction as the application role on the platform tables; the only tenant
   * rows it sees are the platform pseudo-tenant's (its audit chain).
   */
  async platform<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#entered(PLATFORM_TENANT, fn);
  }

  /** Runs fn as the owner role (sees every tenant). Only for explicit, audited platform-wide work. */
  async owner<T>(fn: (tx: Tx) => Promise<T>, opts: { repeatableRead?: boolean } = {}): Promise<T> {
    let b = this.#owner.transaction();
    if (opts.repeatableRead) b = b.setIsolationLevel('repeatable read');
    return b.execute((tx) => withCommitHooks(tx, () => fn(tx)));
  }

  /**
   * A transaction as the application role for `tenantId`. On PostgreSQL the role and the tenant
   * are set by a statement sent with BEGIN, and both go with the transaction's first statement
   * (one round trip for the three), or with its COMMIT when it sends nothing before.
   */
  async #entered<T>(tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    const run = (with_?: OneTrip) =>
      this.#app.transaction().execute(async (tx) => {
        if (with_) txOneTrips.set(tx, with_);
        if (with_?.used) txTenants.set(tx, tenantId);
        else await this.#enter(tx, tenantId);
        return withCommitHooks(tx, () => fn(tx));
      });
    if (this.kind !== 'postgres' || !plainLiteral(this.appRole) || !plainLiteral(tenantId)) return run();
    // Its rows are not needed: the BEGIN waits for the transaction's first statement (LAZY_BEGIN).
    const with_ = {
      sql: `select set_config('role', '${this.appRole}', true), set_config('app.tenant', '${tenantId}', true)`,
      used: false,
      lazy: true,
    };
    return begunWith.run(with_, () => run(with_));
  }

  /** The application role and the transaction-local tenant, in one round trip. */
  async #enter(tx: Tx, tenantId: string): Promise<void> {
    // set_config('role', …, true) is SET LOCAL ROLE. PGlite's session is a superuser, and a
    // PostgreSQL URL may be too: switching to the application role for the transaction makes
    // row-level security apply in every case; connected as that role, it changes nothing.
    await sql`select set_config('role', ${this.appRole}, true), set_config('app.tenant', ${tenantId}, true)`.execute(
      tx,
    );
    txTenants.set(tx, tenantId);
  }

  async migrate(): Promise<string[]> {
    const migrator = new Migrator({
      db: this.#owner,
      provider: migrationProvider({ appRole: this.appRole }),
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw error;
    // The job system's schema (pg-boss, versioned by pg-boss itself), also as the owner.
    await installJobSchema((text) => this.#run('owner', text), this.appRole);
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  /**
   * One SQL text as the application role, outside any transaction: one statement with
   * parameters, or several statements without; returns the rows of every statement. For the job
   * system (pg-boss), whose locked blocks are multi-statement.
   */
  async executeSql(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> {
    return this.#run('app', text, values);
  }

  async #run(
    role: 'app' | 'owner',
    text: string,
    values?: unknown[],
  ): Promise<{ rows: Record<string, unknown>[] }> {
    if (this.#pools) {
      const r = (await this.#pools[role].query(text, values)) as pg.QueryResult | pg.QueryResult[];
      return { rows: Array.isArray(r) ? r.flatMap((x) => x.rows ?? []) : r.rows };
    }
    const pgl = this.#pglite!;
    if (values?.length) return { rows: (await pgl.query<Record<string, unknown>>(text, values)).rows };
    try {
      const results = await pgl.exec(text);
      return { rows: results.flatMap((r) => r.rows as Record<string, unknown>[]) };
    } catch (e) {
      // One session: a failed statement inside a BEGIN … COMMIT block would poison every later query.
      await pgl.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  /** Pending migrations, and applied ones this program does not know (a newer schema). */
  async schemaStatus(): Promise<{ pending: string[]; unknown: string[] }> {
    const migrator = new Migrator({
      db: this.#owner,
      provider: migrationProvider({ appRole: this.appRole }),
    });
    const known = await migrator.getMigrations();
    const pending = known.filter((m) => !m.executedAt).map((m) => m.name);
    let applied: string[] = [];
    try {
      const r = await sql<{ name: string }>`select name from kysely_migration`.execute(this.#owner);
      applied = r.rows.map((x) => x.name);
    } catch {
      applied = [];
    }
    const names = new Set(known.map((m) => m.name));
    const unknown = applied.filter((n) => !names.has(n));
    // pg-boss's schema has its own version: older is pending, newer is unknown.
    const jobsExpected = expectedJobSchemaVersion();
    const jobsInstalled = await installedJobSchemaVersion((text) => this.#run('owner', text));
    if (jobsInstalled === null || jobsInstalled < jobsExpected) pending.push(`pgboss-schema-${jobsExpected}`);
    else if (jobsInstalled > jobsExpected) unknown.push(`pgboss-schema-${jobsInstalled}`);
    return { pending, unknown };
  }

  /** Refuses to run on a schema this program does not know (ARCHITECTURE: serve refuses an unknown schema). */
  async assertSchemaCurrent(): Promise<void> {
    const { pending, unknown } = await this.schemaStatus();
    if (unknown.length > 0) {
      throw new AppError(
        'SCHEMA_UNKNOWN',
        `The database has migrations this program does not know: ${unknown.join(', ')}. Upgrade Lligall.`,
      );
    }
    if (pending.length > 0) {
      throw new AppError(
        'SCHEMA_UNKNOWN',
        `The database schema is not up to date (pending: ${pending.join(', ')}). Run "lligall migrate".`,
      );
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.kind === 'postgres') {
      await this.#app.destroy();
      await this.#owner.destroy();
      // Kysely ends a pool only if it used it; executeSql (the job system) uses the pools directly.
      for (const pool of [this.#pools!.app, this.#pools!.owner]) if (!pool.ending) await pool.end();
    } else {
      await this.#app.destroy();
    }
    if (this.#lockFile) fs.rmSync(this.#lockFile, { force: true });
  }
}

/**
 * PGlite has no lock of its own and two processes on one directory corrupt it: take an
 * exclusive lock file holding our pid; a stale one (its process is gone) is taken over.
 */
function acquireDirLock(dir: string): string {
  const file = path.join(dir, '..', `${path.basename(dir)}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return file;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(file, 'utf8').trim());
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new AppError(
          'DATABASE_LOCKED',
          `The embedded database in ${dir} is in use by process ${pid} (a running "lligall serve"?). ` +
            'Stop it, or run this command through the running server.',
          { pid },
        );
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new AppError('DATABASE_LOCKED', `Could not lock the embedded database in ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Within a transaction, acts for another tenant for the duration of fn (e.g. a platform use case
 * that must also write the entity's own audit event), then restores the previous tenant.
 */
export async function asTenant<T>(tx: Tx, tenantId: string, fn: () => Promise<T>): Promise<T> {
  const r = await sql<{ t: string | null }>`select current_setting('app.tenant', true) as t`.execute(tx);
  const previous = r.rows[0]?.t ?? '';
  await sql`select set_config('app.tenant', ${tenantId}, true)`.execute(tx);
  const tracked = txTenants.get(tx);
  txTenants.set(tx, tenantId);
  try {
    return await fn();
  } finally {
    await sql`select set_config('app.tenant', ${previous}, true)`.execute(tx);
    if (tracked === undefined) txTenants.delete(tx);
    else txTenants.set(tx, tracked);
  }
}
