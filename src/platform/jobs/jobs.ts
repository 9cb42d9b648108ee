import {
  type ConstructorOptions,
  type Db,
  fromKysely,
  fromPglite,
  type JobResult,
  PgBoss,
  type SendOptions,
} from 'pg-boss';
import type { Database, Tx } from '../db/database.ts';
import { AppError } from '../errors.ts';
import { JOB_SCHEMA } from './schema.ts';

/**
 * Options of one job.
 * - `singletonKey`: at most one unfinished (queued, retrying or running) job per name and key; a
 *   second send while one exists returns null.
 * - `startAfterSeconds`: not due before this many seconds from now.
 * - `retryLimit`, `retryDelaySeconds`: override the queue's defaults (5 retries, 30 s doubling
 *   with jitter up to an hour); a delay of 0 retries at once, without backoff.
 */
export type JobOptions = {
  singletonKey?: string;
  startAfterSeconds?: number;
  retryLimit?: number;
  retryDelaySeconds?: number;
};

/**
 * Runs one job. The data carries ids (tenantId, entryId…), never secrets; the handler opens its
 * own tenant transactions. Throwing fails this attempt: the job is retried with backoff.
 */
export type JobHandler<T = unknown> = (data: T, job: { id: string; name: string }) => Promise<void>;

/** Where job failures are reported: a pino logger (the server's), or the console. */
export type JobLog = {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
};

export interface Jobs {
  /** Enqueues a job through the given Kysely transaction's connection: it exists only if that transaction commits. */
  send(tx: Tx, name: string, data: object, opts?: JobOptions): Promise<string | null>;
  /** Enqueues outside any transaction. */
  sendNow(name: string, data: object, opts?: JobOptions): Promise<string | null>;
  /** Registers a handler (before or after start). Handlers run only when the worker role is on. */
  work<T>(name: string, handler: JobHandler<T>): Promise<void>;
  /** A sweeper: runs `name` on a cron schedule (Europe/Madrid). */
  schedule(name: string, cron: string, data?: object): Promise<void>;
  /**
   * A frequent sweeper, for work that should not wait for the next minute's cron: in the worker
   * role, this process runs `sweep` every `seconds` (one run at a time; a failure is logged and
   * the next run comes as usual). Other processes run theirs too: the sweep must claim its work.
   */
  every(name: string, seconds: number, sweep: () => Promise<void>): void;
  /**
   * Runs every job of `name` (or of every registered handler) that is due now, and resolves when
   * none is left — for tests and for `lligall jobs run`; then the frequent sweeper `name` (or every
   * one) once. Returns how many jobs ran.
   */
  drain(name?: string): Promise<number>;
  start(opts: { worker: boolean; log?: JobLog }): Promise<void>;
  stop(): Promise<void>;
}

/** Queue defaults: a failed job is retried 5 times, 30 s apart, doubling (with jitter) up to an hour. */
const QUEUE_DEFAULTS = { retryLimit: 5, retryDelay: 30, retryBackoff: true, retryDelayMax: 3600 } as const;
/** How often a worker looks for due jobs. */
const POLLING_SECONDS = 2;
/** How many due jobs a worker takes per fetch (run one after the other, settled one by one). */
const POLL_BATCH = 10;
/** A drain stops after this many jobs (a handler that re-enqueues itself would never end). */
const DRAIN_LIMIT = 10_000;
const TIME_ZONE = 'Europe/Madrid';

const consoleLog: JobLog = {
  error: (obj, msg) => console.error(`${msg} ${JSON.stringify(obj)}`),
  warn: (obj, msg) => console.error(`${msg} ${JSON.stringify(obj)}`),
};

/** The job system on the application's database (see `PgBossJobs`). Not started. */
export function createJobs(db: Database): Jobs {
  return new PgBossJobs(db);
}

/**
 * pg-boss 12 on the application's database, in the `pgboss` schema (installed by the owner at
 * migration time, see schema.ts), as the application role.
 *
 * - On PostgreSQL pg-boss runs its statements on the application role's pool; on PGlite on the
 *   one embedded session, through PGlite's own lock, so they wait for an open transaction instead
 *   of running inside it.
 * - `send(tx, …)` runs pg-boss's insert on the transaction's own connection. On PGlite any other
 *   statement would wait for that transaction and deadlock; so a job name must be known (a
 *   registered handler, whose queue is created at start) before it is sent in a transaction: the
 *   queue lookup is then answered from pg-boss's cache, never from the database.
 * - `start({ worker: false })` (the api role, tests, `lligall jobs run`): sends and drains, no
 *   polling, no maintenance, no schedules fired. `start({ worker: true })`: also runs the handlers
 *   (polling every 2 s), pg-boss's maintenance and the cron schedules.
 */
export class PgBossJobs implements Jobs {
  readonly #db: Database;
  readonly #handlers = new Map<string, JobHandler<never>>();
  readonly #schedules = new Map<string, { cron: string; data: object | undefined }>();
  readonly #sweeps = new Map<string, { seconds: number; sweep: () => Promise<void> }>();
  readonly #sweepTimers = new Map<string, NodeJS.Timeout>();
  readonly #sweepLoops = new Set<string>();
  readonly #sweepRuns = new Set<Promise<void>>();
  /** Bumped by stop(): a run that ends after it schedules no next one. */
  #sweepGeneration = 0;
  #boss: PgBoss | undefined;
  #worker = false;
  #log: JobLog = consoleLog;

  constructor(db: Database) {
    this.#db = db;
  }

  async send(tx: Tx, name: string, data: object, opts: JobOptions = {}): Promise<string | null> {
    const boss = this.#started(name);
    return boss.send(name, data, { ...sendOptions(opts), db: fromKysely(tx) });
  }

  async sendNow(name: string, data: object, opts: JobOptions = {}): Promise<string | null> {
    const boss = this.#started(name);
    return boss.send(name, data, sendOptions(opts));
  }

  async work<T>(name: string, handler: JobHandler<T>): Promise<void> {
    if (this.#handlers.has(name))
      throw new AppError('CONFLICT', `A handler for job ${name} is registered already`);
    this.#handlers.set(name, handler as JobHandler<never>);
    const boss = this.#boss;
    if (!boss) return;
    await boss.createQueue(name, QUEUE_DEFAULTS);
    if (this.#worker) await this.#poll(boss, name);
  }

  async schedule(name: string, cron: string, data?: object): Promise<void> {
    this.#schedules.set(name, { cron, data });
    if (this.#boss) await this.#applySchedule(this.#boss, name);
  }

  every(name: string, seconds: number, sweep: () => Promise<void>): void {
    if (this.#sweeps.has(name)) throw new AppError('CONFLICT', `A sweep named ${name} is registered already`);
    this.#sweeps.set(name, { seconds, sweep });
    if (this.#worker) this.#startSweep(name);
  }

  /** Runs a sweep every `seconds` until stop(): the next run is timed from the end of the last. */
  #startSweep(name: string): void {
    const s = this.#sweeps.get(name);
    if (!s || this.#sweepLoops.has(name)) return;
    this.#sweepLoops.add(name);
    const generation = this.#sweepGeneration;
    const next = () => {
      const timer = setTimeout(() => {
        this.#sweepTimers.delete(name);
        const run = s
          .sweep()
          .catch((e: unknown) => this.#log.error({ sweep: name, err: (e as Error).message }, 'sweep failed'))
          .finally(() => {
            this.#sweepRuns.delete(run);
            if (generation === this.#sweepGeneration) next();
          });
        this.#sweepRuns.add(run);
      }, s.seconds * 1000);
      this.#sweepTimers.set(name, timer.unref());
    };
    next();
  }

  async drain(name?: string): Promise<number> {
    const sweep = name === undefined ? undefined : this.#sweeps.get(name);
    if (sweep) {
      this.#started();
      await sweep.sweep();
      return 0;
    }
    const ran = await this.#drainJobs(name);
    if (name === undefined) for (const s of this.#sweeps.values()) await s.sweep();
    return ran;
  }

  async #drainJobs(name?: string): Promise<number> {
    const boss = this.#started(name);
    const names = name ? [name] : [...this.#handlers.keys()];
    let ran = 0;
    for (;;) {
      let progress = false;
      for (const n of names) {
        const [job] = await boss.fetch<object>(n, { batchSize: 1 });
        if (!job) continue;
        progress = true;
        ran++;
        try {
          await this.#run(n, job.id, job.data);
          await boss.complete(n, job.id);
        } catch (e) {
          await boss.fail(n, job.id, { message: (e as Error).message });
        }
      }
      if (!progress || ran >= DRAIN_LIMIT) return ran;
    }
  }

  async start(opts: { worker: boolean; log?: JobLog }): Promise<void> {
    if (opts.log) this.#log = opts.log;
    if (this.#boss && this.#worker === opts.worker) return;
    await this.stop();
    const boss = new PgBoss(this.#options(opts.worker));
    boss.on('error', (e) => this.#log.error({ err: e.message }, 'job system error'));
    boss.on('warning', (w) => this.#log.warn({ warning: w.message }, 'job system warning'));
    await boss.start();
    this.#boss = boss;
    this.#worker = opts.worker;
    for (const name of this.#handlers.keys()) {
      await boss.createQueue(name, QUEUE_DEFAULTS);
      if (opts.worker) await this.#poll(boss, name);
    }
    for (const name of this.#schedules.keys()) await this.#applySchedule(boss, name);
    if (opts.worker) for (const name of this.#sweeps.keys()) this.#startSweep(name);
  }

  async stop(): Promise<void> {
    const boss = this.#boss;
    if (!boss) return;
    this.#boss = undefined;
    this.#worker = false;
    this.#sweepGeneration++;
    for (const t of this.#sweepTimers.values()) clearTimeout(t);
    this.#sweepTimers.clear();
    this.#sweepLoops.clear();
    await Promise.all(this.#sweepRuns);
    // Graceful: running handlers finish (up to 30 s) before the database closes.
    await boss.stop({ graceful: true, timeout: 30_000 });
  }

  #options(worker: boolean): ConstructorOptions {
    const pglite = this.#db.kind === 'pglite' ? this.#db.pglite : undefined;
    const db: Db = pglite
      ? fromPglite(pglite)
      : { executeSql: (text, values) => this.#db.executeSql(text, values) };
    return {
      db,
      schema: JOB_SCHEMA,
      backend: pglite ? 'pglite' : 'postgres',
      // The owner installs and upgrades the schema (lligall migrate); the application role never does DDL.
      migrate: false,
      createSchema: false,
      supervise: worker,
      schedule: worker,
      registerInstance: worker,
      instanceName: 'lligall-worker',
      reindex: false,
      openTelemetry: { enabled: false },
    };
  }

  /** The started pg-boss, or a clear error; and, when given, a name that has a handler. */
  #started(name?: string): PgBoss {
    if (!this.#boss) throw new AppError('JOBS_NOT_STARTED', 'The job system is not started (jobs.start())');
    if (name !== undefined && !this.#handlers.has(name)) {
      throw new AppError('JOB_UNKNOWN', `No handler is registered for job ${name}`, { name });
    }
    return this.#boss;
  }

  /**
   * The worker of one queue: fetches up to POLL_BATCH due jobs, runs them one after the other and
   * settles each on its own (one failure retries that job only). While fetches come back full it
   * fetches again at once; only an empty or short fetch waits the polling interval. (With pg-boss's
   * defaults — one job per fetch, a pause after every fetch — a backlog ran at one job per polling
   * interval: after a restart, the receipt a killed process owed waited behind hundreds of
   * no-op safety-net jobs for many minutes.)
   */
  async #poll(boss: PgBoss, name: string): Promise<void> {
    await boss.work<object>(
      name,
      {
        pollingIntervalSeconds: POLLING_SECONDS,
        batchSize: POLL_BATCH,
        burstWhenBatchFull: true,
        perJobResults: true,
      },
      async (jobs) => {
        const results: JobResult[] = [];
        for (const job of jobs) {
          try {
            await this.#run(name, job.id, job.data);
            results.push({ id: job.id, status: 'completed' });
          } catch (e) {
            results.push({ id: job.id, status: 'failed', output: { message: (e as Error).message } });
          }
        }
        return results;
      },
    );
  }

  async #applySchedule(boss: PgBoss, name: string): Promise<void> {
    const s = this.#schedules.get(name)!;
    if (!this.#handlers.has(name)) {
      throw new AppError('JOB_UNKNOWN', `Job ${name} is scheduled but has no handler`, { name });
    }
    await boss.createQueue(name, QUEUE_DEFAULTS);
    await boss.schedule(name, s.cron, s.data ?? null, { tz: TIME_ZONE });
  }

  /** Runs a handler; a failure is logged with the job's name and id, and rethrown (pg-boss retries it). */
  async #run(name: string, id: string, data: object): Promise<void> {
    const handler = this.#handlers.get(name) as JobHandler<object> | undefined;
    if (!handler) throw new AppError('JOB_UNKNOWN', `No handler is registered for job ${name}`, { name });
    try {
      await handler(data, { id, name });
    } catch (e) {
      this.#log.error({ job: name, jobId: id, err: (e as Error).message }, 'job failed');
      throw e;
    }
  }
}

function sendOptions(opts: JobOptions): SendOptions {
  const out: SendOptions = {};
  if (opts.singletonKey !== undefined) out.singletonKey = opts.singletonKey;
  if (opts.startAfterSeconds !== undefined) out.startAfter = opts.startAfterSeconds;
  if (opts.retryLimit !== undefined) out.retryLimit = opts.retryLimit;
  if (opts.retryDelaySeconds !== undefined) {
    out.retryDelay = opts.retryDelaySeconds;
    // pg-boss's backoff waits at least 1 s: a delay of 0 means "retry at once".
    if (opts.retryDelaySeconds === 0) out.retryBackoff = false;
  }
  return out;
}
