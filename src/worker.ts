import type { AppDeps } from './app.ts';

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
  ];
}
