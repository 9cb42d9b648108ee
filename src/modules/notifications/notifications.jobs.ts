import type { AppDeps } from '#src/app.ts';
import { issueEvidence } from './evidence.service.ts';
import { EVIDENCE_JOB, type EvidenceJobData, SWEEP_CRON, SWEEP_JOB } from './notifications.model.ts';
import { sweepDeemedRejections } from './sweeper.service.ts';

/** The notifications module's job handlers and sweepers (issue 5), registered by src/worker.ts. */
export async function registerNotificationJobs(deps: AppDeps): Promise<void> {
  // An outcome's evidence PDF: a no-op when the request that caused the outcome issued it already.
  await deps.jobs.work<EvidenceJobData>(EVIDENCE_JOB, async ({ tenantId, notificationId, key }) => {
    await issueEvidence(deps, tenantId, notificationId, key);
  });
  // LPACAP art. 43.2: unaccessed electronic notifications deemed rejected after their 10 days.
  await deps.jobs.work(SWEEP_JOB, async () => {
    await sweepDeemedRejections(deps);
  });
  await deps.jobs.schedule(SWEEP_JOB, SWEEP_CRON);
}
