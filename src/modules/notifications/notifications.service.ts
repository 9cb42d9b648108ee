import type { Selectable } from 'kysely';
import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import type { Jobs } from '#platform/jobs/jobs.ts';
import type { NotificationsTable } from '#platform/db/schema/notifications.ts';
import { AppError } from '#platform/errors.ts';
import { enqueueMail } from '#platform/mail/mail.service.ts';
import { isUuid, newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import type { Acting } from '#modules/citizens/citizens.model.ts';
import { formatCsv } from '#modules/csv/csv.ts';
import { getDocumentView } from '#modules/documents/documents.service.ts';
import { assertAcceptsDocuments, getIndex } from '#modules/expedients/expedient-documents.service.ts';
import { getExpedientView, loadExpedient } from '#modules/expedients/expedients.service.ts';
import { getParty, type PartyView } from '#modules/parties/parties.service.ts';
import { createEntry, MAX_ATTACHMENTS } from '#modules/registry/registry.service.ts';
import { localDelivery } from './delivery.ts';
import {
  type ActedBy,
  accessibleUntil,
  type Appeal,
  type AttemptView,
  type CitizenNotificationContent,
  type CitizenNotificationSummary,
  documentLanguage,
  EVIDENCE_JOB,
  type EvidenceJobData,
  type EvidenceKey,
  type EvidenceView,
  iso,
  type NotificationChannel,
  type NotificationView,
  type NotifiedDocument,
  parseJson,
  type PublicationView,
} from './notifications.model.ts';
import { canCreateNotification, canReadNotifications } from './notifications.policy.ts';

type Row = Selectable<NotificationsTable>;

/** Where a use case sends its jobs (the evidence's safety net, the alert e-mail) and the seu's address. */
export type NotificationDeps = { jobs: Jobs; config?: { publicUrl: string | undefined; port: number } };

/** The entity's seu, where the alert sends the citizen. */
export function seuUrl(config: { publicUrl: string | undefined; port: number }, slug: string): string {
  const origin = config.publicUrl?.replace(/\/+$/, '') ?? `http://localhost:${config.port}`;
  return `${origin}/seu/${slug}`;
}

/** The last second a notification is accessible, as the alert states it (Europe/Madrid). */
export function alertTime(until: Date, language: string): string {
  const f = new Intl.DateTimeFormat(language === 'es' ? 'es-ES' : 'ca-ES', {
    timeZone: 'Europe/Madrid',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
  return f.format(new Date(until.getTime() - 1000)).replace(',', '');
}

export type RecipientInput = { partyId: string; channel?: NotificationChannel };
export type CreateNotificationsInput = {
  subject: string;
  actText: string;
  endsAdministrativeRoute: boolean;
  appeals: Appeal[];
  documentIds: string[];
  recipients: RecipientInput[];
};

const MAX_RECIPIENTS = 50;

function refuse(message: string, details?: Record<string, unknown>): never {
  throw new AppError('VALIDATION_FAILED', message, details);
}

function assertInput(input: CreateNotificationsInput): void {
  const subject = input.subject?.trim() ?? '';
  if (subject.length === 0 || subject.length > 300) refuse('subject must have 1 to 300 characters');
  const text = input.actText?.trim() ?? '';
  if (text.length === 0 || text.length > 100_000) refuse('actText must have 1 to 100000 characters');
  if (typeof input.endsAdministrativeRoute !== 'boolean') refuse('endsAdministrativeRoute is required');
  for (const a of input.appeals ?? []) {
    for (const k of ['appeal', 'body', 'term'] as const)
      if (typeof a[k] !== 'string' || a[k].trim().length === 0 || a[k].length > 500)
        refuse(`appeals[].${k} must have 1 to 500 characters`);
  }
  if (input.documentIds.length > MAX_ATTACHMENTS) refuse(`at most ${MAX_ATTACHMENTS} documents`);
  if (new Set(input.documentIds).size !== input.documentIds.length) refuse('documentIds has repeats');
  if (input.recipients.length === 0 || input.recipients.length > MAX_RECIPIENTS)
    refuse(`1 to ${MAX_RECIPIENTS} recipients`);
  const ids = input.recipients.map((r) => r.partyId);
  if (new Set(ids).size !== ids.length) refuse('a party is named twice in recipients');
  for (const id of [...ids, ...input.documentIds]) if (!isUuid(id)) refuse(`${id} is not a UUID`);
}

function fullName(p: Pick<PartyView, 'name' | 'surname1' | 'surname2'>): string {
  return [p.name, p.surname1, p.surname2].filter(Boolean).join(' ');
}

/**
 * LPACAP art. 14.2 and 41.1: the electronic channel only for parties obliged to deal
 * electronically (`compulsory`) or who chose it (`chosen`, with its recorded evidence).
 */
export function electronicBasis(party: Pick<PartyView, 'eNotification'>): 'compulsory' | 'chosen' | null {
  return party.eNotification === 'none' ? null : party.eNotification;
}

function audit(tx: Tx, ctx: Ctx, action: string, id: string, details: Record<string, unknown>) {
  return recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action,
    objectType: 'notification',
    objectId: id,
    details,
  });
}

/**
 * Records the outcome's evidence row in the outcome's own transaction, with the job that issues
 * the sealed PDF if the request that caused it does not (ARCHITECTURE data rule 6: the outcome is
 * never lost, the slow rendering happens after commit). Returns the job data for the caller to
 * issue it at once after commit.
 */
export async function recordEvidence(
  tx: Tx,
  ctx: Ctx,
  jobs: Jobs,
  n: { id: string },
  key: EvidenceKey,
  outcomeAt: Date,
  facts: Record<string, unknown>,
): Promise<EvidenceJobData> {
  const tenant = await tx
    .selectFrom('tenants')
    .select('language')
    .where('id', '=', ctx.tenant.id)
    .executeTakeFirstOrThrow();
  await tx
    .insertInto('notification_evidence')
    .values({
      tenant_id: ctx.tenant.id,
      notification_id: n.id,
      key,
      outcome_at: outcomeAt,
      facts: JSON.stringify(facts),
      language: documentLanguage(tenant.language),
      created_at: ctx.clock.now(),
    })
    .execute();
  const data: EvidenceJobData = { tenantId: ctx.tenant.id, notificationId: n.id, key };
  await jobs.send(tx, EVIDENCE_JOB, data, {
    startAfterSeconds: 10,
    singletonKey: `${n.id}:${key}`,
    retryLimit: 10,
    retryDelaySeconds: 5,
  });
  return data;
}

/**
 * Staff notify one or more interested parties of a case file (LPACAP art. 40): the act's full
 * text, whether it ends the administrative route, the appeals (before whom, in what term) and
 * documents chosen from the case file. Each recipient gets their own notification, with an output
 * registry entry (direction S) made in this transaction, and it is made available in the seu at
 * once (art. 41.7 and 42.1: paper ones too). Returns the notifications and, for the route, the
 * e-mail alerts to send.
 */
export async function createNotifications(
  tx: Tx,
  ctx: Ctx,
  deps: NotificationDeps,
  expedientId: string,
  input: CreateNotificationsInput,
): Promise<NotificationView[]> {
  if (!canCreateNotification(ctx)) throw new AppError('FORBIDDEN', 'You may not notify from this entity');
  assertInput(input);
  await assertAcceptsDocuments(tx, ctx, expedientId); // visible, writable, open; locks the case file
  const exp = await getExpedientView(tx, ctx, expedientId, { auditRead: false });
  const index = await getIndex(tx, ctx, exp.id);
  const documents: NotifiedDocument[] = [];
  for (const id of input.documentIds) {
    const d = index.entries.some((e) => e.documentId === id) ? await getDocumentView(tx, ctx, id) : undefined;
    if (!d)
      throw new AppError(
        'NOTIFICATION_DOCUMENT_NOT_IN_EXPEDIENT',
        `Document ${id} is not in case file ${exp.number}`,
        { documentId: id },
      );
    documents.push({
      documentId: d.id,
      title: d.title,
      fileName: d.fileName,
      mimeType: d.mimeType,
      size: d.size,
      sha256: d.sha256,
    });
  }
  // Every recipient is checked before anything is written: one refused party refuses the whole act.
  const recipients: {
    party: PartyView;
    channel: NotificationChannel;
    basis: 'compulsory' | 'chosen' | null;
  }[] = [];
  for (const r of input.recipients) {
    if (!exp.parties.some((p) => p.partyId === r.partyId))
      throw new AppError(
        'NOTIFICATION_PARTY_NOT_IN_EXPEDIENT',
        `Party ${r.partyId} is not an interested party of case file ${exp.number}`,
        { partyId: r.partyId },
      );
    const party = await getParty(tx, ctx, r.partyId);
    const channel = r.channel ?? party.preferredChannel;
    const basis = electronicBasis(party);
    if (channel === 'electronic' && !basis)
      throw new AppError(
        'NOTIFICATION_CHANNEL_NOT_ALLOWED',
        `${fullName(party)} is neither obliged to electronic notification (LPACAP art. 14.2) nor has chosen it: notify on paper`,
        { partyId: party.id },
      );
    recipients.push({ party, channel, basis: channel === 'electronic' ? basis : null });
  }
  const now = ctx.clock.now();
  const batchId = newId();
  const subject = input.subject.trim();
  const appeals = (input.appeals ?? []).map((a) => ({
    appeal: a.appeal.trim(),
    body: a.body.trim(),
    term: a.term.trim(),
  }));
  const delivery = localDelivery(tx, ctx);
  const ids: string[] = [];
  for (const { party, channel, basis } of recipients) {
    const id = newId();
    const entry = await createEntry(tx, ctx, {
      direction: 'S',
      heading: `Notificació: ${subject}`.slice(0, 500),
      summary: `Notificació de l’expedient ${exp.number}: ${subject}`.slice(0, 4000),
      channel: channel === 'electronic' ? 'electronic' : 'postal',
      // A postal output entry's presentation is its handing to the postal service: now.
      presentedAt: channel === 'paper' ? now.toISOString() : null,
      partyId: party.id,
      language: party.language,
      attachments: documents.map((d) => ({
        fileName: d.fileName,
        mimeType: d.mimeType,
        sha256: d.sha256,
        size: d.size,
      })),
    });
    const madeAvailableAt = now;
    await tx
      .insertInto('notifications')
      .values({
        tenant_id: ctx.tenant.id,
        id,
        batch_id: batchId,
        expedient_id: exp.id,
        party_id: party.id,
        recipient_identifier: party.identifier,
        recipient_name: fullName(party),
        language: party.language,
        subject,
        act_text: input.actText,
        ends_administrative_route: input.endsAdministrativeRoute,
        appeals: JSON.stringify(appeals),
        document_ids: documents.map((d) => d.documentId),
        channel,
        electronic_basis: basis,
        state: 'available',
        made_available_at: madeAvailableAt,
        available_until: channel === 'electronic' ? accessibleUntil(madeAvailableAt) : null,
        registry_entry_id: entry.id,
        registry_number: entry.number,
        delivery: delivery.kind,
        created_by: ctx.actor.id,
        created_by_label: ctx.actor.label,
        created_at: now,
      })
      .execute();
    const deposited = await delivery.deposit({ id });
    await tx
      .updateTable('notifications')
      .set({ delivery_ref: deposited.ref })
      .where('tenant_id', '=', ctx.tenant.id)
      .where('id', '=', id)
      .execute();
    if (channel === 'electronic' && party.email && deps.config) {
      // LPACAP art. 41.6: an alert to the party's e-mail; it never carries the content, and its
      // failure does not invalidate the notification (enqueueMail never throws for a bad address).
      await enqueueMail(
        deps.jobs,
        tx,
        {
          tenantId: ctx.tenant.id,
          to: party.email,
          language: party.language,
          template: 'notification_alert',
          params: {
            entityName: ctx.tenant.name,
            seuUrl: seuUrl(deps.config, ctx.tenant.slug),
            availableUntil: alertTime(accessibleUntil(madeAvailableAt), party.language),
          },
        },
        { clock: ctx.clock },
      );
    }
    await audit(tx, ctx, 'notification.create', id, {
      batchId,
      expedientId: exp.id,
      partyId: party.id,
      channel,
      electronicBasis: basis,
      registryNumber: entry.number,
      documents: documents.map((d) => ({ documentId: d.documentId, sha256: d.sha256 })),
      availableUntil: channel === 'electronic' ? accessibleUntil(madeAvailableAt).toISOString() : null,
    });
    ids.push(id);
  }
  const out: NotificationView[] = [];
  for (const id of ids) out.push(await viewOf(tx, ctx, await loadRow(tx, ctx, id)));
  return out;
}

async function loadRow(tx: Tx, ctx: Ctx, id: string, forUpdate = false): Promise<Row> {
  let q = tx
    .selectFrom('notifications')
    .selectAll()
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', isUuid(id) ? id : '00000000-0000-0000-0000-000000000000');
  if (forUpdate) q = q.forUpdate();
  const r = await q.executeTakeFirst();
  if (!r) throw new AppError('NOT_FOUND', `Notification ${id} not found`);
  return r as Row;
}

/** The notification for staff: NOT_FOUND unless its case file is visible to the caller. */
export async function loadForStaff(
  tx: Tx,
  ctx: Ctx,
  id: string,
  forUpdate = false,
  auditRead = false,
): Promise<Row> {
  if (!canReadNotifications(ctx)) throw new AppError('FORBIDDEN', 'You may not consult notifications');
  const r = await loadRow(tx, ctx, id, forUpdate);
  try {
    // Reading the act of a restricted case file is audited as a read of that case file.
    await loadExpedient(tx, ctx, r.expedient_id, { auditRead });
  } catch (e) {
    if (e instanceof AppError && e.code === 'EXPEDIENT_NOT_FOUND')
      throw new AppError('NOT_FOUND', `Notification ${id} not found`);
    throw e;
  }
  return r;
}

async function documentsOf(tx: Tx, ctx: Ctx, ids: readonly string[]): Promise<NotifiedDocument[]> {
  const out: NotifiedDocument[] = [];
  for (const id of ids) {
    const d = await getDocumentView(tx, ctx, id);
    if (d)
      out.push({
        documentId: d.id,
        title: d.title,
        fileName: d.fileName,
        mimeType: d.mimeType,
        size: d.size,
        sha256: d.sha256,
      });
  }
  return out;
}

export async function listAttempts(tx: Tx, ctx: Ctx, notificationId: string): Promise<AttemptView[]> {
  const rows = await tx
    .selectFrom('notification_attempts')
    .selectAll()
    .where('tenant_id', '=', ctx.tenant.id)
    .where('notification_id', '=', notificationId)
    .orderBy('attempt_no')
    .execute();
  return rows.map((a) => ({
    id: a.id,
    attemptNo: a.attempt_no,
    attemptedAt: iso(a.attempted_at)!,
    outcome: a.outcome,
    receiver: a.receiver_kind
      ? {
          kind: a.receiver_kind,
          name: a.receiver_name,
          identityDocument: a.receiver_document,
          relationship: a.receiver_relationship,
        }
      : null,
    acknowledgementDocumentId: a.acknowledgement_document_id,
    notes: a.notes,
    recordedBy: a.recorded_by_label,
    recordedAt: iso(a.recorded_at)!,
  }));
}

export async function listEvidence(tx: Tx, ctx: Ctx, notificationId: string): Promise<EvidenceView[]> {
  const rows = await tx
    .selectFrom('notification_evidence')
    .select(['key', 'outcome_at', 'document_id', 'csv', 'issued_at', 'incorporated'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('notification_id', '=', notificationId)
    .orderBy('created_at')
    .execute();
  return rows.map((e) => ({
    key: e.key,
    outcomeAt: iso(e.outcome_at)!,
    documentId: e.document_id,
    csv: e.csv ? formatCsv(e.csv) : null,
    issuedAt: iso(e.issued_at),
    incorporated: e.incorporated,
  }));
}

async function publicationOf(tx: Tx, ctx: Ctx, notificationId: string): Promise<PublicationView | null> {
  const p = await tx
    .selectFrom('notification_publications')
    .selectAll()
    .where('tenant_id', '=', ctx.tenant.id)
    .where('notification_id', '=', notificationId)
    .executeTakeFirst();
  if (!p) return null;
  const edict = await tx
    .selectFrom('notification_evidence')
    .select('document_id')
    .where('tenant_id', '=', ctx.tenant.id)
    .where('notification_id', '=', notificationId)
    .where('key', '=', 'edict')
    .executeTakeFirst();
  return {
    id: p.id,
    bulletin: p.bulletin,
    state: p.state,
    publishedIdentifier: p.published_identifier,
    edictText: p.edict_text,
    requestedBy: p.requested_by_label,
    requestedAt: iso(p.requested_at)!,
    sentAt: iso(p.sent_at),
    edictDocumentId: edict?.document_id ?? null,
  };
}

async function viewOf(tx: Tx, ctx: Ctx, r: Row): Promise<NotificationView> {
  const exp = await tx
    .selectFrom('expedients')
    .select('number')
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', r.expedient_id)
    .executeTakeFirstOrThrow();
  return {
    id: r.id,
    batchId: r.batch_id,
    expedientId: r.expedient_id,
    expedientNumber: exp.number,
    partyId: r.party_id,
    recipient: { identifier: r.recipient_identifier, name: r.recipient_name },
    language: r.language,
    subject: r.subject,
    actText: r.act_text,
    endsAdministrativeRoute: r.ends_administrative_route,
    appeals: parseJson<Appeal[]>(r.appeals),
    documents: await documentsOf(tx, ctx, r.document_ids),
    channel: r.channel,
    electronicBasis: r.electronic_basis,
    state: r.state,
    madeAvailableAt: iso(r.made_available_at)!,
    availableUntil: iso(r.available_until),
    registryEntry: { id: r.registry_entry_id, number: r.registry_number },
    notifiedAt: iso(r.notified_at),
    accessedAt: iso(r.accessed_at),
    rejectedAt: iso(r.rejected_at),
    actedBy: r.acted_by ? parseJson<ActedBy>(r.acted_by) : null,
    attempts: await listAttempts(tx, ctx, r.id),
    evidence: await listEvidence(tx, ctx, r.id),
    publication: await publicationOf(tx, ctx, r.id),
    createdBy: r.created_by_label,
    createdAt: iso(r.created_at)!,
  };
}

/** One notification with its content, attempts, evidence and publication (staff). */
export async function getNotification(
  tx: Tx,
  ctx: Ctx,
  id: string,
  opts: { auditRead?: boolean } = {},
): Promise<NotificationView> {
  const r = await loadForStaff(tx, ctx, id, false, opts.auditRead ?? true);
  return viewOf(tx, ctx, r);
}

/** The notifications of a case file, newest first (staff). */
export async function listExpedientNotifications(
  tx: Tx,
  ctx: Ctx,
  expedientId: string,
): Promise<NotificationView[]> {
  if (!canReadNotifications(ctx)) throw new AppError('FORBIDDEN', 'You may not consult notifications');
  const exp = await loadExpedient(tx, ctx, expedientId, { auditRead: true });
  const rows = await tx
    .selectFrom('notifications')
    .selectAll()
    .where('tenant_id', '=', ctx.tenant.id)
    .where('expedient_id', '=', exp.id)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
  const out: NotificationView[] = [];
  for (const r of rows) out.push(await viewOf(tx, ctx, r as Row));
  return out;
}

// ---- the citizen's side (the seu) ----

/**
 * The notification if it is addressed to the person the citizen acts for; NOT_FOUND otherwise
 * (someone else's, another entity's, or outside the scope of the power the citizen acts under).
 */
async function loadForCitizen(tx: Tx, ctx: Ctx, acting: Acting, id: string, forUpdate = false) {
  const r = isUuid(id)
    ? await (() => {
        let q = tx
          .selectFrom('notifications as n')
          .innerJoin('expedients as e', (j) =>
            j.onRef('e.tenant_id', '=', 'n.tenant_id').onRef('e.id', '=', 'n.expedient_id'),
          )
          .selectAll('n')
          .select(['e.number as expedient_number', 'e.classification'])
          .where('n.tenant_id', '=', ctx.tenant.id)
          .where('n.id', '=', id)
          .where('n.recipient_identifier', '=', acting.subject.identifier);
        if (forUpdate) q = q.forUpdate();
        return q.executeTakeFirst();
      })()
    : undefined;
  if (!r || !inScope(acting, r.classification))
    throw new AppError('NOT_FOUND', `Notification ${id} not found`);
  return r as typeof r & Row;
}

/** A power for one procedure covers only the case files of that procedure (LPACAP art. 5–6). */
function inScope(acting: Acting, classification: string | null): boolean {
  const rep = acting.representation;
  return !rep || rep.scope === 'general' || (rep.procedure !== null && rep.procedure === classification);
}

function actedBy(acting: Acting): ActedBy {
  return {
    identifier: acting.citizen.identifier,
    name: acting.citizen.name,
    representationId: acting.representation?.id ?? null,
    representedIdentifier: acting.representation ? acting.subject.identifier : null,
  };
}

function actingAudit(acting: Acting) {
  return {
    citizen: acting.citizen.identifier,
    onBehalfOf: acting.representation
      ? {
          identifier: acting.subject.identifier,
          name: acting.subject.name,
          representationId: acting.representation.id,
        }
      : null,
  };
}

function summaryOf(ctx: Ctx, r: Row & { expedient_number: string }): CitizenNotificationSummary {
  return {
    id: r.id,
    sender: { name: ctx.tenant.name, dir3: ctx.tenant.dir3 },
    subject: r.subject,
    reference: { registryNumber: r.registry_number, expedientNumber: r.expedient_number },
    channel: r.channel,
    state: r.state,
    madeAvailableAt: iso(r.made_available_at)!,
    availableUntil: iso(r.available_until),
    notifiedAt: iso(r.notified_at),
    accessedAt: iso(r.accessed_at),
  };
}

/** "My notifications" in one entity's seu: sender, subject, reference and dates — never the content. */
export async function listMyNotifications(
  tx: Tx,
  ctx: Ctx,
  acting: Acting,
): Promise<CitizenNotificationSummary[]> {
  const rows = await tx
    .selectFrom('notifications as n')
    .innerJoin('expedients as e', (j) =>
      j.onRef('e.tenant_id', '=', 'n.tenant_id').onRef('e.id', '=', 'n.expedient_id'),
    )
    .selectAll('n')
    .select(['e.number as expedient_number', 'e.classification'])
    .where('n.tenant_id', '=', ctx.tenant.id)
    .where('n.recipient_identifier', '=', acting.subject.identifier)
    .orderBy('n.made_available_at', 'desc')
    .orderBy('n.id')
    .execute();
  return rows
    .filter((r) => inScope(acting, r.classification))
    .map((r) => summaryOf(ctx, r as Row & { expedient_number: string }));
}

/** One notification as its recipient sees it: the summary until accessed, the content after. */
export async function getMyNotification(
  tx: Tx,
  ctx: Ctx,
  acting: Acting,
  id: string,
): Promise<CitizenNotificationSummary | CitizenNotificationContent> {
  const r = await loadForCitizen(tx, ctx, acting, id);
  if (!r.accessed_at) return summaryOf(ctx, r);
  await audit(tx, ctx, 'notification.read', r.id, actingAudit(acting));
  return contentOf(tx, ctx, r);
}

async function contentOf(
  tx: Tx,
  ctx: Ctx,
  r: Row & { expedient_number: string },
): Promise<CitizenNotificationContent> {
  return {
    ...summaryOf(ctx, r),
    actText: r.act_text,
    endsAdministrativeRoute: r.ends_administrative_route,
    appeals: parseJson<Appeal[]>(r.appeals),
    documents: await documentsOf(tx, ctx, r.document_ids),
  };
}

export type OutcomeResult<T> = { result: T; evidence: EvidenceJobData[] };

/**
 * The recipient (or their representative) accesses the notification: the content is shown and
 * the time of access recorded (LPACAP art. 43.2: access is the notification). The first access or
 * delivery gives the notification date (art. 41.7, 42.1): a paper notification accessed in the seu
 * before its delivery is notified then. An electronic one past 24:00 of its tenth day is deemed
 * rejected and no longer accessible, whether or not the sweeper has run.
 */
export async function accessNotification(
  tx: Tx,
  ctx: Ctx,
  deps: NotificationDeps,
  acting: Acting,
  id: string,
): Promise<OutcomeResult<CitizenNotificationContent>> {
  const r = await loadForCitizen(tx, ctx, acting, id, true);
  const now = ctx.clock.now();
  if (r.state === 'rejected' || r.state === 'deemed_rejected')
    throw new AppError(
      'NOTIFICATION_REJECTED',
      `This notification was ${r.state === 'rejected' ? 'rejected' : 'deemed rejected'}: it counts as notified on ${iso(r.notified_at)}`,
    );
  if (r.state === 'available' && r.available_until && now.getTime() >= new Date(r.available_until).getTime())
    throw new AppError(
      'NOTIFICATION_EXPIRED',
      `Not accessed by ${iso(r.available_until)}: deemed rejected (LPACAP art. 43.2)`,
    );
  const evidence: EvidenceJobData[] = [];
  const who = actedBy(acting);
  if (r.notified_at === null) {
    // The first access is the notification (available, or a paper one that failed or awaits publication).
    await tx
      .updateTable('notifications')
      .set({ state: 'accepted', accessed_at: now, notified_at: now, acted_by: JSON.stringify(who) })
      .where('tenant_id', '=', ctx.tenant.id)
      .where('id', '=', r.id)
      .execute();
    evidence.push(await recordEvidence(tx, ctx, deps.jobs, r, 'accepted', now, { actedBy: who }));
    await audit(tx, ctx, 'notification.access', r.id, {
      ...actingAudit(acting),
      notifiedAt: now.toISOString(),
      previousState: r.state,
    });
    return {
      result: await contentOf(tx, ctx, { ...r, state: 'accepted', accessed_at: now, notified_at: now }),
      evidence,
    };
  }
  if (r.accessed_at === null) {
    // Notified already (delivered on paper): the first access in the seu is recorded, the date stays.
    await tx
      .updateTable('notifications')
      .set({ accessed_at: now, acted_by: JSON.stringify(who) })
      .where('tenant_id', '=', ctx.tenant.id)
      .where('id', '=', r.id)
      .execute();
    await audit(tx, ctx, 'notification.access', r.id, {
      ...actingAudit(acting),
      notifiedAt: iso(r.notified_at),
      previousState: r.state,
    });
    return { result: await contentOf(tx, ctx, { ...r, accessed_at: now }), evidence };
  }
  await audit(tx, ctx, 'notification.read', r.id, actingAudit(acting));
  return { result: await contentOf(tx, ctx, r), evidence };
}

/**
 * The recipient rejects the notification explicitly (LPACAP art. 41.5): the rejection is recorded
 * with its time, counts as notification, and the procedure goes on.
 */
export async function rejectNotification(
  tx: Tx,
  ctx: Ctx,
  deps: NotificationDeps,
  acting: Acting,
  id: string,
): Promise<OutcomeResult<CitizenNotificationSummary>> {
  const r = await loadForCitizen(tx, ctx, acting, id, true);
  const now = ctx.clock.now();
  if (r.state !== 'available' || r.notified_at !== null)
    throw new AppError('NOTIFICATION_ALREADY_SETTLED', `This notification is ${r.state}`);
  if (r.available_until && now.getTime() >= new Date(r.available_until).getTime())
    throw new AppError(
      'NOTIFICATION_EXPIRED',
      `Not accessed by ${iso(r.available_until)}: deemed rejected (LPACAP art. 43.2)`,
    );
  const who = actedBy(acting);
  await tx
    .updateTable('notifications')
    .set({ state: 'rejected', rejected_at: now, notified_at: now, acted_by: JSON.stringify(who) })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', r.id)
    .execute();
  const ev = await recordEvidence(tx, ctx, deps.jobs, r, 'rejected', now, { actedBy: who });
  await audit(tx, ctx, 'notification.reject', r.id, {
    ...actingAudit(acting),
    notifiedAt: now.toISOString(),
  });
  return {
    result: summaryOf(ctx, { ...r, state: 'rejected', rejected_at: now, notified_at: now }),
    evidence: [ev],
  };
}

/** A notified document, for its recipient, once the notification was accessed (audited). */
export async function getMyNotifiedDocument(
  tx: Tx,
  ctx: Ctx,
  acting: Acting,
  id: string,
  documentId: string,
): Promise<NotifiedDocument> {
  const r = await loadForCitizen(tx, ctx, acting, id);
  if (!r.document_ids.includes(documentId))
    throw new AppError('DOCUMENT_NOT_FOUND', 'This notification has no such document');
  if (!r.accessed_at)
    throw new AppError(
      'NOTIFICATION_NOT_ACCESSED',
      'Access the notification before downloading its documents',
    );
  const [doc] = await documentsOf(tx, ctx, [documentId]);
  if (!doc) throw new AppError('DOCUMENT_NOT_FOUND', 'Document not found');
  await audit(tx, ctx, 'notification.document_download', r.id, {
    ...actingAudit(acting),
    documentId,
    sha256: doc.sha256,
  });
  return doc;
}

// ---- time passes ----

/**
 * In one entity, marks deemed rejected (LPACAP art. 43.2) every electronic notification still
 * unaccessed at `now` whose time ran out: its notification date is the rule's (00:00 of the day
 * after the tenth), not the sweep's. Each gets its evidence row, job and audit event.
 */
export async function deemRejected(tx: Tx, ctx: Ctx, jobs: Jobs): Promise<EvidenceJobData[]> {
  const now = ctx.clock.now();
  const due = await tx
    .selectFrom('notifications')
    .select(['id', 'available_until'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('state', '=', 'available')
    .where('channel', '=', 'electronic')
    .where('notified_at', 'is', null)
    .where('available_until', '<=', now)
    .orderBy('available_until')
    .forUpdate()
    .execute();
  const out: EvidenceJobData[] = [];
  for (const d of due) {
    const at = new Date(d.available_until!);
    await tx
      .updateTable('notifications')
      .set({ state: 'deemed_rejected', notified_at: at })
      .where('tenant_id', '=', ctx.tenant.id)
      .where('id', '=', d.id)
      .execute();
    out.push(await recordEvidence(tx, ctx, jobs, d, 'deemed_rejected', at, { sweptAt: now.toISOString() }));
    await audit(tx, ctx, 'notification.deemed_rejected', d.id, {
      notifiedAt: at.toISOString(),
      rule: 'LPACAP art. 43.2: not accessed within 10 calendar days',
    });
  }
  return out;
}

/**
 * Evidence rows whose PDF is still not issued a while after their outcome (their job gave up, e.g.
 * while the entity had no seal in production): the sweep issues them again.
 */
export async function pendingEvidence(tx: Tx, ctx: Ctx, olderThan: Date): Promise<EvidenceJobData[]> {
  const rows = await tx
    .selectFrom('notification_evidence')
    .select(['notification_id', 'key'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('issued_at', 'is', null)
    .where('created_at', '<', olderThan)
    .orderBy('created_at')
    .limit(100)
    .execute();
  return rows.map((r) => ({ tenantId: ctx.tenant.id, notificationId: r.notification_id, key: r.key }));
}
