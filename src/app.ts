import fs from 'node:fs';
import path from 'node:path';
import { type Config, isEmbedded } from './config.ts';
import { BlobStore } from '#platform/blobs/blob-store.ts';
import { type Clock, systemClock } from '#platform/context.ts';
import { Database } from '#platform/db/database.ts';
import { createJobs, type Jobs } from '#platform/jobs/jobs.ts';
import type { IdentityPolicy } from '#modules/identity/identity.service.ts';

/** What the HTTP routes, the CLI and the jobs share. */
export type AppDeps = {
  config: Config;
  db: Database;
  blobs: BlobStore;
  clock: Clock;
  identity: IdentityPolicy;
  /** The job system (pg-boss). openApp creates it; `serve`, `jobs run` and the test harness start it. */
  jobs: Jobs;
};

export function blobDir(config: Config): string {
  return path.join(config.dataDir, 'blobs');
}

export function pgliteDir(config: Config): string {
  return path.join(config.dataDir, 'db');
}

/** Opens the database and the blob store. The embedded database is migrated on open. */
export async function openApp(
  config: Config,
  opts: { clock?: Clock; migrate?: boolean } = {},
): Promise<AppDeps> {
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const db = await Database.open({
    url: config.databaseUrl,
    ownerUrl: config.databaseOwnerUrl,
    pgliteDir: isEmbedded(config) ? pgliteDir(config) : undefined,
    appRole: config.dbAppRole,
    pgliteSharedBuffersMb: config.pgliteSharedBuffersMb,
  });
  try {
    if (opts.migrate ?? isEmbedded(config)) await db.migrate();
    else await db.assertSchemaCurrent();
  } catch (e) {
    await db.close();
    throw e;
  }
  return {
    config,
    db,
    blobs: new BlobStore(blobDir(config)),
    clock: opts.clock ?? systemClock,
    jobs: createJobs(db),
    identity: {
      sessionIdleMinutes: config.sessionIdleMinutes,
      sessionMaxHours: config.sessionMaxHours,
      loginMaxFailures: config.loginMaxFailures,
      loginLockMinutes: config.loginLockMinutes,
    },
  };
}
