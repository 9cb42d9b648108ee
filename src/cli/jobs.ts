import type { Command } from 'commander';
import { type AppDeps, openApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { registerJobs } from '../worker.ts';
import type { Out } from './main.ts';
import { runningApp } from './relay.ts';

/** The job queue (pg-boss): `lligall jobs run`. */
export function registerJobsCommands(program: Command, out: Out): void {
  const jobs = program.command('jobs').description('The job queue (pg-boss)');
  jobs
    .command('run')
    .description(
      'Run every job that is due now, and every frequent sweeper (the registry receipts owed), once, and exit (a worker is not needed). ' +
        'On the embedded database while a server runs, the jobs run in that server.',
    )
    .option('--name <name>', 'only the jobs of this name')
    .action((o: { name?: string }) =>
      withJobs(async (deps) => {
        const n = await deps.jobs.drain(o.name);
        out.log(`${n} ${n === 1 ? 'job' : 'jobs'} ran`);
      }),
    );
}

/**
 * Runs fn with the job system started in its sender mode (no polling) and every handler
 * registered; relayed into a running server, with the server's own. A database held by a running
 * server that cannot be reached stops with DATABASE_LOCKED and says so.
 */
async function withJobs<T>(fn: (deps: AppDeps) => Promise<T>): Promise<T> {
  const running = runningApp.getStore();
  if (running) return fn(running);
  const deps = await openApp(loadConfig());
  try {
    await registerJobs(deps);
    await deps.jobs.start({ worker: false });
    return await fn(deps);
  } finally {
    await deps.jobs.stop();
    await deps.db.close();
  }
}
