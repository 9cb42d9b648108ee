import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { AppDeps } from '#src/app.ts';
import { type Config, loadConfig } from '#src/config.ts';
import { buildServer } from '#src/server.ts';
import { BlobStore } from '#platform/blobs/blob-store.ts';
import { type Clock, noRequest, systemActor } from '#platform/context.ts';
import { Database, type Tx } from '#platform/db/database.ts';
import { createJobs } from '#platform/jobs/jobs.ts';
import { registerJobs } from '#src/worker.ts';
import { createPgDatabase } from '#test/helpers/installation.ts';
import type { EntityRole, PlatformRole } from '#platform/db/schema.ts';
import { createApiToken, createUser, grantMembership } from '#modules/identity/identity.service.ts';
import { newTotpSecret, totpCode } from '#modules/identity/totp.ts';
import { createTenant } from '#modules/tenancy/tenancy.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';

/** Which database the suite runs on: LLIGALL_TEST_BACKEND=pglite (default) or postgres. */
export function backend(): 'pglite' | 'postgres' {
  return process.env.LLIGALL_TEST_BACKEND === 'postgres' ? 'postgres' : 'pglite';
}

/** A clock tests can set and move. Starts at the real time unless given one. */
export class TestClock implements Clock {
  #t: number | null;
  constructor(start?: Date | string) {
    this.#t = start ? new Date(start).getTime() : null;
  }
  now(): Date {
    return new Date(this.#t ?? Date.now());
  }
  set(t: Date | string): void {
    this.#t = new Date(t).getTime();
  }
  advance(ms: number): void {
    this.#t = (this.#t ?? Date.now()) + ms;
  }
}

export type TestEnv = AppDeps & {
  clock: TestClock;
  dataDir: string;
  /** For postgres: URLs of this test's own database (app and owner roles). */
  urls?: { app: string; owner: string };
  close(): Promise<void>;
};

/**
 * A fresh, migrated database and data directory for one test file (or test), on the backend
 * chosen by LLIGALL_TEST_BACKEND. PostgreSQL needs DATABASE_URL (application role),
 * DATABASE_OWNER_URL and LLIGALL_TEST_PG_ADMIN_URL (a role that may create databases).
 */
export async function openTestEnv(
  opts: { config?: Partial<Config>; clock?: TestClock } = {},
): Promise<TestEnv> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-test-'));
  const clock = opts.clock ?? new TestClock();
  let db: Database;
  let urls: { app: string; owner: string } | undefined;
  let drop: (() => Promise<void>) | undefined;
  const appRole = process.env.LLIGALL_DB_APP_ROLE || 'lligall_app';
  if (backend() === 'postgres') {
    // A copy of the migrated template database scripts/test.ts makes once per run; without one
    // (a file run alone), a new database migrated here.
    const template = process.env.LLIGALL_TEST_PG_TEMPLATE;
    const created = await createPgDatabase('lligall_t', template);
    urls = { app: created.app, owner: created.owner };
    db = await Database.open({ url: urls.app, ownerUrl: urls.owner, appRole });
    if (!template) await db.migrate();
    drop = created.drop;
  } else {
    // The migrated template directory scripts/test.ts makes once per run, copied into this
    // test's data directory; without one (a file run alone), a new database migrated here.
    const template = process.env.LLIGALL_TEST_PGLITE_TEMPLATE;
    const pgliteSharedBuffersMb = Number(process.env.LLIGALL_PGLITE_SHARED_BUFFERS_MB) || 16;
    if (template && fs.existsSync(template)) {
      const dir = path.join(dataDir, 'db');
      fs.cpSync(template, dir, { recursive: true });
      db = await Database.open({ pgliteDir: dir, pgliteSharedBuffersMb, appRole });
    } else {
      db = await Database.open({ pgliteDir: 'memory://', pgliteSharedBuffersMb, appRole });
      await db.migrate();
    }
  }
  const config = loadConfig(
    { LLIGALL_ENV: 'test', LLIGALL_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    { databaseUrl: urls?.app, databaseOwnerUrl: urls?.owner, ...opts.config },
  );
  // The job system is started in its sender mode (worker: false): jobs can be sent, in a
  // transaction or not, and `env.jobs.drain()` runs the due ones with the handlers the test
  // registered (`env.jobs.work(…)`); nothing polls in the background. A test that wants a polling
  // worker calls `env.jobs.start({ worker: true })`. `close()` stops it before the database closes.
  const jobs = createJobs(db);
  await jobs.start({ worker: false });
  const deps: AppDeps = {
    config,
    db,
    blobs: new BlobStore(path.join(dataDir, 'blobs')),
    clock,
    jobs,
    identity: {
      sessionIdleMinutes: config.sessionIdleMinutes,
      sessionMaxHours: config.sessionMaxHours,
      loginMaxFailures: config.loginMaxFailures,
      loginLockMinutes: config.loginLockMinutes,
    },
  };
  // The application's job handlers, as `serve` registers them: routes send their jobs (a job
  // must have a handler to be sent) and a test runs them with `env.jobs.drain(name)`.
  await registerJobs(deps);
  return {
    ...deps,
    clock,
    dataDir,
    ...(urls ? { urls } : {}),
    async close() {
      await jobs.stop();
      await db.close();
      await drop?.();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const sys = (env: TestEnv) => ({ actor: systemActor, request: noRequest, clock: env.clock });

let tenantCounter = 0;
/** A tenant with a unique DIR3 and slug. */
export async function makeTenant(
  env: TestEnv,
  over: Partial<{ name: string; dir3: string; status: Tenant['status'] }> = {},
): Promise<Tenant> {
  tenantCounter++;
  const suffix = `${process.pid % 1000}${tenantCounter}`.padStart(6, '0').slice(-6);
  return env.db.platform((tx) =>
    createTenant(tx, sys(env), {
      kind: 'ajuntament',
      name: over.name ?? `Ajuntament de Prova ${suffix}`,
      dir3: over.dir3 ?? `L01${suffix}`,
      status: over.status ?? 'live',
    }),
  );
}

export type TestUser = { id: string; username: string; password: string; totpSecret: string | null };

let userCounter = 0;
/** A user with roles in a tenant. `totp: true` enrols TOTP (needed to act as admin). */
export async function makeUser(
  env: TestEnv,
  opts: {
    tenant?: Tenant;
    roles?: EntityRole[];
    platformRoles?: PlatformRole[];
    totp?: boolean;
    username?: string;
    /** The person's name (default: the username). */
    name?: string;
  } = {},
): Promise<TestUser> {
  userCounter++;
  const username = opts.username ?? `user${process.pid}x${userCounter}`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const totpSecret = opts.totp ? newTotpSecret() : null;
  const { id } = await env.db.platform(async (tx) => {
    const u = await createUser(tx, sys(env), {
      username,
      ...(opts.name ? { name: opts.name } : {}),
      password,
      platformRoles: opts.platformRoles ?? [],
      totpSecret,
    });
    if (opts.tenant)
      await grantMembership(tx, sys(env), {
        userId: u.id,
        tenantId: opts.tenant.id,
        roles: opts.roles ?? ['handler'],
      });
    return u;
  });
  return { id, username, password, totpSecret };
}

export async function makeToken(env: TestEnv, user: TestUser): Promise<string> {
  return env.db.platform((tx) => createApiToken(tx, sys(env), { username: user.username }));
}

export function currentTotp(env: TestEnv, user: TestUser): string {
  if (!user.totpSecret) throw new Error('user has no TOTP');
  return totpCode(user.totpSecret, env.clock.now());
}

export async function makeServer(env: TestEnv): Promise<FastifyInstance> {
  const app = await buildServer(env, { logger: false });
  await app.ready();
  return app;
}

export const ORIGIN = 'http://localhost:80';

/** Logs in through the API and returns the headers a same-origin browser would send. */
export async function loginHeaders(
  app: FastifyInstance,
  env: TestEnv,
  user: TestUser,
): Promise<Record<string, string>> {
  const body: Record<string, string> = { username: user.username, password: user.password };
  if (user.totpSecret) {
    env.clock.advance(31_000); // a TOTP code is accepted once: move to the next step
    body.totp = currentTotp(env, user);
  }
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/session',
    payload: body,
    headers: { host: 'localhost:80' },
  });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  const cookie = res.cookies.find((c) => c.name === 'lligall_session');
  if (!cookie) throw new Error('no session cookie');
  return { cookie: `lligall_session=${cookie.value}`, origin: ORIGIN, host: 'localhost:80' };
}

/** Bearer-token headers for a user. */
export async function tokenHeaders(env: TestEnv, user: TestUser): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await makeToken(env, user)}` };
}

/** Every file under the test's blob store (relative paths, sorted): to prove nothing was written. */
export function blobFiles(env: TestEnv): string[] {
  const root = path.join(env.dataDir, 'blobs');
  const out: string[] = [];
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else out.push(path.relative(root, path.join(d, e.name)));
    }
  };
  walk(root);
  return out.sort();
}

/** Row counts of some tables, read as the owner (every tenant): to prove nothing was written. */
export async function rowCounts(env: TestEnv, tables: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tables) {
    const r = await env.db.owner((tx) =>
      sql<{ n: string }>`select count(*) as n from ${sql.table(t)}`.execute(tx),
    );
    out[t] = Number(r.rows[0]!.n);
  }
  return out;
}

/**
 * A test environment with a probe table the application role may use (`ddl` creates it as the
 * owner), and a database of one connection on PostgreSQL (every transaction reuses the session
 * the previous ones left; PGlite has one anyway). `close` closes both.
 */
export async function openOneConnectionEnv(
  ddl: (tx: Tx, appRole: string) => Promise<void>,
): Promise<{ env: TestEnv; db: Database; close: () => Promise<void> }> {
  const env = await openTestEnv();
  await env.db.owner((tx) => ddl(tx, env.db.appRole));
  const pg = backend() === 'postgres';
  const db = pg ? await Database.open({ url: env.urls!.app, appRole: env.db.appRole, poolSize: 1 }) : env.db;
  return {
    env,
    db,
    close: async () => {
      if (pg) await db.close();
      await env.close();
    },
  };
}
