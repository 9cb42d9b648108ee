import type { AppDeps } from './app.ts';
import { sealCheckpoints } from '#modules/audit/audit.checkpoint.ts';

/**
 * Every job handler and sweeper schedule of the application, registered on `deps.jobs` before it
 * starts, in every role (`serve --role api` only sends; `worker` and `all` run them) and by
 * `lligall jobs run`. A module's after-commit work is registered here: `deps.jobs.work(name, …)`
 * with a handler that opens its own tenant transaction from the ids in the job's data.
 * Sweepers (work because time passed) are scheduled with cron (Europe/Madrid) and read
 * deps.clock, never SQL now(), so tests can move time.
 */
export async function registerJobs(deps: AppDeps): Promise<void> {
  await deps.jobs.work('platform.blob-tmp-sweep', async () => {
    await deps.blobs.sweepTmp();
  });
  await deps.jobs.schedule('platform.blob-tmp-sweep', '7 * * * *');

  // ARCHITECTURE data rule 5: chain heads sealed outside the database, hourly (so at least daily).
  await deps.jobs.work('audit.checkpoint', async () => {
    for (const r of await sealCheckpoints(deps)) {
      if (r.status === 'refused') console.error(`audit chain ${r.tenantId} not sealed: ${r.reason}`);
    }
  });
  await deps.jobs.schedule('audit.checkpoint', '12 * * * *');
}
