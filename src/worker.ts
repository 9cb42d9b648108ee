import type { AppDeps } from './app.ts';
import { sealCheckpoints } from '#modules/audit/audit.checkpoint.ts';
import { desalClientFor } from '#modules/registry/mux/desal.ts';
import {
  fetchEntryAttachments,
  MUX_FETCH_JOB,
  type MuxFetchJobData,
} from '#modules/registry/mux/mux.service.ts';
import {
  issueReceipt,
  RECEIPT_JOB,
  RECEIPT_SWEEP_SECONDS,
  type ReceiptJobData,
  sweepDueReceipts,
} from '#modules/registry/receipt.service.ts';
import { COPY_SEAL_JOB, type CopySealJobData, sealPaperCopy } from '#modules/registry/copy-seal.service.ts';
import { REMINDER_JOB, sweepReminders } from '#modules/signatures/reminders.service.ts';
import { STAMP_JOB, type StampJobData, stampDecree } from '#modules/resolutions/resolutions.service.ts';
import {
  EXTRACT_JOB,
  EXTRACT_SWEEP_JOB,
  type ExtractJobData,
  sendExtracts,
  sweepExtracts,
} from '#modules/resolutions/extracts.service.ts';
import { registerBoardJobs } from '#modules/board/board.jobs.ts';
import { registerNotificationJobs } from '#modules/notifications/notifications.jobs.ts';
import { registerMailJobs } from '#platform/mail/mail.jobs.ts';

/**
 * Every job handler and sweeper schedule of the application, registered on `deps.jobs` before it
 * starts, in every role (`serve --role api` only sends; `worker` and `all` run them) and by
 * `lligall jobs run`. A module's after-commit work is registered here: `deps.jobs.work(name, …)`
 * with a handler that opens its own tenant transaction from the ids in the job's data.
 * Sweepers (work because time passed) are scheduled with cron (Europe/Madrid) and read
 * deps.clock, never SQL now(), so tests can move time.
 */
export async function registerJobs(deps: AppDeps): Promise<void> {
  // Every registry entry's receipt (LPACAP art. 16.3) that its request did not issue: from
  // registry_receipts_due, every few seconds. The job is the older way (jobs enqueued before
  // migration 0025): a no-op when the receipt exists.
  deps.jobs.every('registry.receipts-due', RECEIPT_SWEEP_SECONDS, async () => {
    const r = await sweepDueReceipts(deps);
    for (const f of r.failed)
      console.error(`registry: receipt of entry ${f.entryId} of ${f.tenantId} not issued: ${f.error}`);
  });
  await deps.jobs.work<ReceiptJobData>(RECEIPT_JOB, async ({ tenantId, entryId }) => {
    await issueReceipt(deps, tenantId, entryId);
  });
  // The seal of a desk copy (LPACAP art. 27): a no-op when the request sealed it already. A scan that
  // cannot be sealed is audited by sealPaperCopy and not retried; other failures throw (retried).
  await deps.jobs.work<CopySealJobData>(COPY_SEAL_JOB, async ({ tenantId, paperOriginalId }) => {
    await sealPaperCopy(deps, tenantId, paperOriginalId);
  });
  // A decree's number and date stamped onto its PDF before the secretary signs: a no-op when the
  // deciding signer's request stamped it already.
  await deps.jobs.work<StampJobData>(STAMP_JOB, async ({ tenantId, documentId }) => {
    await stampDecree(deps, tenantId, documentId);
  });
  // A numbered decree's extracts for the State and the Generalitat (LBRL art. 56.1: 6 days), sent
  // through the local outbox sender; a failure throws and the job retries.
  await deps.jobs.work<ExtractJobData>(EXTRACT_JOB, async ({ tenantId, documentId }) => {
    await sendExtracts(deps, tenantId, documentId);
  });
  // Daily: flags extracts whose 6 days passed unsent, then sends whatever is still unsent.
  await deps.jobs.work(EXTRACT_SWEEP_JOB, async () => {
    const r = await sweepExtracts(deps);
    if (r.flagged > 0 || r.failed > 0)
      console.error(`decree extracts: ${r.flagged} overdue flagged, ${r.sent} sent, ${r.failed} failed`);
  });
  await deps.jobs.schedule(EXTRACT_SWEEP_JOB, '20 7 * * *');
  // A MUX entry's DESA'L documents, then its receipt (which lists them).
  const desal = desalClientFor(deps.config);
  await deps.jobs.work<MuxFetchJobData>(MUX_FETCH_JOB, async (data) => {
    const outcome = await fetchEntryAttachments(deps, desal, data);
    if (outcome.pending === 0) await issueReceipt(deps, data.tenantId, data.entryId);
  });

  // Signers whose act has waited too long are reminded (issue 4, circuits), every morning.
  await deps.jobs.work(REMINDER_JOB, async () => {
    await sweepReminders(deps);
  });
  await deps.jobs.schedule(REMINDER_JOB, '0 8 * * *');

  // Issue 5: e-mail (alerts, confirmations), notifications (deemed rejected), the notice board.
  await registerMailJobs(deps);
  await registerNotificationJobs(deps);
  await registerBoardJobs(deps);

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
