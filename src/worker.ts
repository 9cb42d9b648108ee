import type { AppDeps } from './app.ts';
import { sealCheckpoints } from '#modules/audit/audit.checkpoint.ts';

export type Worker = { stop(): Promise<void> };

/**
 * The job worker: periodic sweepers. Every sweeper reads deps.clock, never SQL now(), so tests
 * can move time. Sweepers register here.
 */
export function startWorker(deps: AppDeps, sweepers: Sweeper[] = defaultSweepers()): Worker {
  const timers = sweepers.map((s) => {
    const run = () => s.run(deps).catch((e) => console.error(`sweeper ${s.name} failed:`, e));
    void run();
    return setInterval(run, s.everyMs);
  });
  return {
    async stop() {
      for (const t of timers) clearInterval(t);
    },
  };
}

export type Sweeper = { name: string; everyMs: number; run(deps: AppDeps): Promise<void> };

function defaultSweepers(): Sweeper[] {
  return [
    {
      name: 'blob-tmp',
      everyMs: 3600_000,
      async run(deps) {
        await deps.blobs.sweepTmp();
      },
    },
    {
      // ARCHITECTURE data rule 5: chain heads sealed outside the database, hourly (so at least daily).
      name: 'audit-checkpoint',
      everyMs: 3600_000,
      async run(deps) {
        for (const r of await sealCheckpoints(deps)) {
          if (r.status === 'refused') console.error(`audit chain ${r.tenantId} not sealed: ${r.reason}`);
        }
      },
    },
  ];
}
