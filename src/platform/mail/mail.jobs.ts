import type { AppDeps } from '#src/app.ts';
import {
  MAIL_JOB,
  MAIL_SWEEP_JOB,
  type MailJobData,
  sendQueuedMail,
  sweepUnsentMail,
} from './mail.service.ts';

/**
 * The mail sender's job handlers (issue 5), registered by src/worker.ts.
 * - `mail.send` sends one queued message after the transaction that queued it committed. A
 *   refused or unreachable server throws (the attempt and error are recorded on the row) and
 *   pg-boss retries with backoff; a message already sent is not sent again.
 * - `mail.sweep`, hourly: queues again the messages of the last days whose retries ran out.
 */
export async function registerMailJobs(deps: AppDeps): Promise<void> {
  await deps.jobs.work<MailJobData>(MAIL_JOB, async ({ tenantId, mailId }) => {
    await sendQueuedMail(deps, tenantId, mailId);
  });
  await deps.jobs.work(MAIL_SWEEP_JOB, async () => {
    const n = await sweepUnsentMail(deps);
    if (n > 0) console.error(`mail: ${n} unsent message(s) queued again`);
  });
  await deps.jobs.schedule(MAIL_SWEEP_JOB, '25 * * * *');
}
