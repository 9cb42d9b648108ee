import type { AppDeps } from '#src/app.ts';

/** The notifications module's job handlers and sweepers (issue 5), registered by src/worker.ts. */
export async function registerNotificationJobs(_deps: AppDeps): Promise<void> {}
