import type { AppDeps } from '#src/app.ts';
import { sweepBoard } from './certificate.service.ts';

/** The notice board's sweeper: publications whose period ended get their end recorded and their certificate. */
export const BOARD_SWEEP_JOB = 'board.sweep';

/**
 * The board module's job handlers and sweepers (issue 5), registered by src/worker.ts. The sweeper
 * runs every five minutes and reads deps.clock; visibility itself never waits for it (the public
 * routes compute it from the clock), so a late sweep only delays the certificate.
 */
export async function registerBoardJobs(deps: AppDeps): Promise<void> {
  await deps.jobs.work(BOARD_SWEEP_JOB, async () => {
    const r = await sweepBoard(deps);
    if (r.failed > 0) console.error(`board sweep: ${r.certified} certified, ${r.failed} failed`);
  });
  await deps.jobs.schedule(BOARD_SWEEP_JOB, '*/5 * * * *');
}
