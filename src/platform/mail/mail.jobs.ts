import type { AppDeps } from '#src/app.ts';

/** The mail sender's job handlers (issue 5), registered by src/worker.ts. */
export async function registerMailJobs(_deps: AppDeps): Promise<void> {}
