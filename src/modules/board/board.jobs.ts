import type { AppDeps } from '#src/app.ts';

/** The board module's job handlers and sweepers (issue 5), registered by src/worker.ts. */
export async function registerBoardJobs(_deps: AppDeps): Promise<void> {}
