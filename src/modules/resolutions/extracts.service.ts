import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type Clock, type Ctx, noRequest, systemActor } from '#platform/context.ts';
import type { Database, Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import type { Jobs } from '#platform/jobs/jobs.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { addDays, madridDateOf, madridStartOfDay } from '#modules/calendar/civil-date.ts';
import { findTenantById, listTenants } from '#modules/tenancy/tenancy.repository.ts';

/**
 * Extracts of the decrees for the State (AGE) and the Generalitat (LBRL art. 56.1; DOMAIN
 * "Resolutions book": within 6 days, through EACAT in Catalonia).
 *
 * - In the transaction that numbers a decree, one row per recipient is written with its due time,
 *   and the `resolutions.extract` job is enqueued; the job sends through the `ExtractSender` and
 *   records each sending (when, channel, acknowledgement) with an audit event.
 * - The daily sweeper (`resolutions.extract-sweep`, reading the injected clock) first flags every
 *   extract whose limit passed without a sending (audited once, `overdue_at`), then sends whatever
 *   is still unsent (a late sending is recorded as such: `sentAt` after `due`).
 * - Days: the 6 days are counted as calendar days from the day after the decree's date
 *   (Europe/Madrid), ending at 24:00 of the sixth — the stricter reading: what is on time in
 *   calendar days is on time in business days too.
 * - Sending is at least once: if the process dies after the sender accepted an extract and before
 *   the row records it, the next attempt sends it again; the extract carries the decree number,
 *   which is what a recipient deduplicates on, and the local sender gives the same acknowledgement.
 *
 * There is no published EACAT contract for these extracts in the project's references, so the only
 * implementation is the local one: it writes each sending as a JSON file in the data directory's
 * outbox. A remote adapter implements `ExtractSender` when the contract is known.
 */

export const EXTRACT_RECIPIENTS = ['AGE', 'GENCAT'] as const;
export type ExtractRecipient = (typeof EXTRACT_RECIPIENTS)[number];
/** LBRL art. 56.1. */
export const EXTRACT_DAYS = 6;
export const EXTRACT_JOB = 'resolutions.extract';
export const EXTRACT_SWEEP_JOB = 'resolutions.extract-sweep';
export type ExtractJobData = { tenantId: string; documentId: string };

/** What is sent for one decree to one recipient. */
export type Extract = {
  recipient: ExtractRecipient;
  entity: { dir3: string; name: string };
  number: string;
  /** The decree's date (its deciding signature), ISO 8601. */
  date: string;
  position: string | null;
  summary: string;
};

/** Sends an extract; resolves with the recipient's acknowledgement id once it was accepted. */
export type ExtractSender = {
  /** Recorded with each sending, e.g. "local-outbox". */
  readonly channel: string;
  send(extract: Extract): Promise<{ ackId: string }>;
};

/**
 * The local implementation: each sending is a JSON file
 * `<dir>/<DIR3>/<year>/<number>-<recipient>.json`, written to a temporary file, fsynced and
 * renamed; the acknowledgement is derived from its content (the same extract, the same id).
 */
export class LocalOutboxSender implements ExtractSender {
  readonly channel = 'local-outbox';
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }
  fileOf(e: Pick<Extract, 'entity' | 'number' | 'recipient'>): string {
    const [year, seq] = e.number.split('/');
    return path.join(this.dir, e.entity.dir3, year ?? 'unknown', `${year}-${seq}-${e.recipient}.json`);
  }
  async send(e: Extract): Promise<{ ackId: string }> {
    const body = `${JSON.stringify(e, null, 2)}\n`;
    const ackId = `LOCAL-${createHash('sha256').update(body).digest('hex').slice(0, 24).toUpperCase()}`;
    const file = this.fileOf(e);
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    const h = await fs.promises.open(tmp, 'w', 0o600);
    try {
      await h.writeFile(`${JSON.stringify({ ackId, extract: e }, null, 2)}\n`);
      await h.sync();
    } finally {
      await h.close();
    }
    await fs.promises.rename(tmp, file);
    return { ackId };
  }
}

/** The sender of an installation: the local outbox under the data directory. */
export function extractSenderFor(config: { dataDir: string }): ExtractSender {
  return new LocalOutboxSender(path.join(config.dataDir, 'outbox', 'eacat'));
}

/** 24:00 (Europe/Madrid) of the sixth day after the decree's date. */
export function extractDue(decidedAt: Date): Date {
  return madridStartOfDay(addDays(madridDateOf(decidedAt), EXTRACT_DAYS + 1));
}

/** In the numbering transaction: the extracts owed and the job that sends them. */
export async function queueExtracts(
  jobs: Jobs,
  tx: Tx,
  ctx: Ctx,
  documentId: string,
  decidedAt: Date,
): Promise<void> {
  const due = extractDue(decidedAt);
  await tx
    .insertInto('resolution_extracts')
    .values(
      EXTRACT_RECIPIENTS.map((recipient) => ({
        tenant_id: ctx.tenant.id,
        document_id: documentId,
        recipient,
        due_at: due,
        sent_at: null,
        ack_id: null,
        channel: null,
        last_error: null,
        overdue_at: null,
      })),
    )
    .onConflict((oc) => oc.doNothing())
    .execute();
  await jobs.send(tx, EXTRACT_JOB, { tenantId: ctx.tenant.id, documentId } satisfies ExtractJobData, {
    singletonKey: documentId,
    retryLimit: 10,
    retryDelaySeconds: 60,
  });
}

export type ExtractDeps = { db: Database; clock: Clock; config: { dataDir: string } };

function systemCtx(tenant: Ctx['tenant'], clock: Clock): Ctx {
  return { tenant, actor: systemActor, roles: [], request: noRequest, clock };
}

/**
 * Sends the unsent extracts of one decree and records each sending. Throws (the job retries) when
 * the sender fails; the failure is recorded on the rows first.
 */
export async function sendExtracts(
  deps: ExtractDeps,
  tenantId: string,
  documentId: string,
  sender: ExtractSender = extractSenderFor(deps.config),
): Promise<number> {
  const tenant = await deps.db.platform((tx) => findTenantById(tx, tenantId));
  if (!tenant) return 0;
  const ctx = systemCtx(
    { id: tenant.id, dir3: tenant.dir3, slug: tenant.slug, name: tenant.name, status: tenant.status },
    deps.clock,
  );
  const todo = await deps.db.tenant(tenantId, async (tx) => {
    const r = await tx
      .selectFrom('resolutions')
      .select(['number', 'decided_at', 'position_title', 'by_substitution', 'summary'])
      .where('tenant_id', '=', tenantId)
      .where('document_id', '=', documentId)
      .executeTakeFirst();
    if (!r?.number || !r.decided_at) return null;
    const rows = await tx
      .selectFrom('resolution_extracts')
      .select('recipient')
      .where('tenant_id', '=', tenantId)
      .where('document_id', '=', documentId)
      .where('sent_at', 'is', null)
      .execute();
    return { r, recipients: rows.map((x) => x.recipient) };
  });
  if (!todo) return 0;
  let sent = 0;
  for (const recipient of todo.recipients) {
    const extract: Extract = {
      recipient,
      entity: { dir3: tenant.dir3, name: tenant.name },
      number: todo.r.number!,
      date: new Date(todo.r.decided_at!).toISOString(),
      position: todo.r.position_title
        ? `${todo.r.position_title}${todo.r.by_substitution ? ' (per substitució)' : ''}`
        : null,
      summary: todo.r.summary,
    };
    let ack: { ackId: string };
    try {
      ack = await sender.send(extract);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      await deps.db.tenant(tenantId, (tx) =>
        tx
          .updateTable('resolution_extracts')
          .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: message.slice(0, 500) }))
          .where('tenant_id', '=', tenantId)
          .where('document_id', '=', documentId)
          .where('recipient', '=', recipient)
          .where('sent_at', 'is', null)
          .execute(),
      );
      throw new AppError(
        'INTERNAL',
        `The extract of ${extract.number} for ${recipient} was not sent: ${message}`,
      );
    }
    const recorded = await deps.db.tenant(tenantId, async (tx) => {
      const now = deps.clock.now();
      const u = await tx
        .updateTable('resolution_extracts')
        .set((eb) => ({
          sent_at: now,
          ack_id: ack.ackId,
          channel: sender.channel,
          attempts: eb('attempts', '+', 1),
          last_error: null,
        }))
        .where('tenant_id', '=', tenantId)
        .where('document_id', '=', documentId)
        .where('recipient', '=', recipient)
        .where('sent_at', 'is', null)
        .returning('due_at')
        .executeTakeFirst();
      if (!u) return false;
      await recordEvent(tx, {
        tenantId,
        actor: ctx.actor,
        request: ctx.request,
        clock: ctx.clock,
        action: 'resolution.extract_send',
        objectType: 'document',
        objectId: documentId,
        details: {
          number: extract.number,
          recipient,
          channel: sender.channel,
          ackId: ack.ackId,
          late: now.getTime() > new Date(u.due_at).getTime(),
        },
      });
      return true;
    });
    if (recorded) sent++;
  }
  return sent;
}

/**
 * The daily sweep: in every entity, flags the extracts whose 6 days passed without a sending, then
 * sends what is unsent. One decree's failure does not stop the others (its row keeps the error).
 */
export async function sweepExtracts(
  deps: ExtractDeps,
  sender: ExtractSender = extractSenderFor(deps.config),
): Promise<{ flagged: number; sent: number; failed: number }> {
  const tenants = await deps.db.platform((tx) => listTenants(tx));
  const out = { flagged: 0, sent: 0, failed: 0 };
  const now = deps.clock.now();
  for (const t of tenants) {
    const ctx = systemCtx(
      { id: t.id, dir3: t.dir3, slug: t.slug, name: t.name, status: t.status },
      deps.clock,
    );
    const pending = await deps.db.tenant(t.id, async (tx) => {
      const overdue = await tx
        .updateTable('resolution_extracts')
        .set({ overdue_at: now })
        .where('tenant_id', '=', t.id)
        .where('sent_at', 'is', null)
        .where('overdue_at', 'is', null)
        .where('due_at', '<', now)
        .returning(['document_id', 'recipient', 'due_at'])
        .execute();
      for (const o of overdue)
        await recordEvent(tx, {
          tenantId: t.id,
          actor: ctx.actor,
          request: ctx.request,
          clock: ctx.clock,
          action: 'resolution.extract_overdue',
          objectType: 'document',
          objectId: o.document_id,
          details: { recipient: o.recipient, due: new Date(o.due_at).toISOString() },
        });
      out.flagged += overdue.length;
      const rows = await tx
        .selectFrom('resolution_extracts')
        .select('document_id')
        .distinct()
        .where('tenant_id', '=', t.id)
        .where('sent_at', 'is', null)
        .execute();
      return rows.map((r) => r.document_id);
    });
    for (const documentId of pending) {
      try {
        out.sent += await sendExtracts(deps, t.id, documentId, sender);
      } catch {
        out.failed++;
      }
    }
  }
  return out;
}

export type ExtractStatus = {
  recipient: ExtractRecipient;
  due: string;
  sentAt: string | null;
  ackId: string | null;
  channel: string | null;
  attempts: number;
  lastError: string | null;
  overdue: boolean;
  late: boolean;
};

/** Each decree's extracts (by document id), as the book and the status route show them. */
export async function extractsOf(
  tx: Tx,
  ctx: Ctx,
  documentIds: string[],
): Promise<Map<string, ExtractStatus[]>> {
  const out = new Map<string, ExtractStatus[]>();
  if (documentIds.length === 0) return out;
  const rows = await tx
    .selectFrom('resolution_extracts')
    .selectAll()
    .where('tenant_id', '=', ctx.tenant.id)
    .where('document_id', 'in', documentIds)
    .orderBy('recipient')
    .execute();
  const now = ctx.clock.now().getTime();
  for (const r of rows) {
    const due = new Date(r.due_at);
    const sentAt = r.sent_at ? new Date(r.sent_at) : null;
    const list = out.get(r.document_id) ?? [];
    list.push({
      recipient: r.recipient,
      due: due.toISOString(),
      sentAt: sentAt?.toISOString() ?? null,
      ackId: r.ack_id,
      channel: r.channel,
      attempts: r.attempts,
      lastError: r.last_error,
      overdue: r.overdue_at !== null || (!sentAt && now > due.getTime()),
      late: sentAt !== null && sentAt.getTime() > due.getTime(),
    });
    out.set(r.document_id, list);
  }
  return out;
}
