import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import type { AttemptOutcome } from '#platform/db/schema/notifications.ts';
import { AppError } from '#platform/errors.ts';
import { newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { entityHolidayCalendar } from '#modules/calendar/calendar.service.ts';
import { type CivilDate, formatMadrid, madridDateOf } from '#modules/calendar/civil-date.ts';
import { type HolidayCalendar, nextBusinessDay } from '#modules/calendar/deadlines.ts';
import { incorporateDocument } from '#modules/expedients/expedient-documents.service.ts';
import { type EvidenceJobData, iso } from './notifications.model.ts';
import { canRecordAttempt } from './notifications.policy.ts';
import {
  getNotification,
  loadForStaff,
  type NotificationDeps,
  recordEvidence,
} from './notifications.service.ts';

/**
 * Paper notification (LPACAP art. 42.2): a delivery to the party, or to any person over 14 at the
 * address who identifies themself; if nobody takes it, a second and last attempt within the next
 * 3 business days (the entity's calendar), in the other half of the day (before/after 15:00
 * Europe/Madrid) and at least 3 hours after the first. *(choose)* The second attempt may be on
 * the same day as the first, provided both other rules hold (the law asks for "a different hour
 * within the three following days"). An unknown address, or two absent attempts, make it failed
 * (art. 44: publication). A rejection at the address counts as notification (art. 41.5).
 */

/** The scanned acknowledgement (avís de recepció): PDF, JPEG or PNG, checked by its first bytes too. */
export const ACK_TYPES: Record<string, number[][]> = {
  'application/pdf': [[0x25, 0x50, 0x44, 0x46, 0x2d]],
  'image/jpeg': [[0xff, 0xd8, 0xff]],
  'image/png': [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
};
/** At most this size for a scanned acknowledgement (or LLIGALL_MAX_UPLOAD_MB if smaller). */
export const ACK_MAX_BYTES = 10 * 1024 * 1024;

export function assertAckDeclaredType(declared: string): void {
  if (!ACK_TYPES[declared])
    throw new AppError(
      'FILE_TYPE_NOT_ACCEPTED',
      `The acknowledgement must be one of ${Object.keys(ACK_TYPES).join(', ')}; got ${declared}`,
    );
}

export function assertAckType(declared: string, head: Buffer): void {
  assertAckDeclaredType(declared);
  const ok = ACK_TYPES[declared]!.some((m) => m.every((b, i) => head[i] === b));
  if (!ok) throw new AppError('FILE_TYPE_NOT_ACCEPTED', `The file is not a ${declared}`);
}

/** Half of the day of art. 42.2: before 15:00 Europe/Madrid, or from 15:00 on. */
export function halfOfDay(at: Date): 'before_15' | 'after_15' {
  const hour = Number(formatMadrid(at).slice(11, 13));
  return hour < 15 ? 'before_15' : 'after_15';
}

/** The last day a second attempt may be made: the 3rd business day after the first attempt's day. */
export function secondAttemptLastDay(cal: HolidayCalendar, first: CivilDate): CivilDate {
  let d = first;
  for (let i = 0; i < 3; i++) d = nextBusinessDay(cal, d);
  return d;
}

const MIN_GAP_MS = 3 * 3600_000;

/**
 * The rules of art. 42.2 for a second attempt, in the order they are checked (each refused with its
 * own code). Pure: the calendar is the entity's.
 */
export function assertSecondAttempt(cal: HolidayCalendar, first: Date, second: Date): void {
  const firstDay = madridDateOf(first);
  const secondDay = madridDateOf(second);
  const last = secondAttemptLastDay(cal, firstDay);
  if (secondDay > last)
    throw new AppError(
      'NOTIFICATION_ATTEMPT_OUT_OF_TERM',
      `The second attempt must be made by ${last}, the third business day after the first attempt (${firstDay}) (LPACAP art. 42.2)`,
      { firstDay, lastDay: last },
    );
  if (halfOfDay(first) === halfOfDay(second))
    throw new AppError(
      'NOTIFICATION_ATTEMPT_SAME_HALF_DAY',
      halfOfDay(first) === 'before_15'
        ? 'The first attempt was before 15:00: the second must be at 15:00 or later (LPACAP art. 42.2)'
        : 'The first attempt was after 15:00: the second must be before 15:00 (LPACAP art. 42.2)',
    );
  if (second.getTime() - first.getTime() < MIN_GAP_MS)
    throw new AppError(
      'NOTIFICATION_ATTEMPT_TOO_SOON',
      'The two attempts must be at least 3 hours apart (LPACAP art. 42.2)',
      { firstAt: first.toISOString() },
    );
}

export type AttemptInput = {
  attemptedAt: string;
  outcome: AttemptOutcome;
  /** For a delivery: to the party, or to someone else at the address (over 14, identified). */
  receiver?: {
    kind: 'party' | 'other';
    name?: string;
    identityDocument?: string;
    relationship?: string;
    /** The person declared to be over 14 (art. 42.2). */
    over14?: boolean;
  } | null;
  notes?: string | null;
};

export type Acknowledgement = { fileName: string; mimeType: string; sha256: string; size: number };

const SKEW_MS = 2 * 60_000;

function assertAttemptFields(input: AttemptInput, hasAck: boolean | null): Date {
  const at = new Date(input.attemptedAt);
  if (Number.isNaN(at.getTime()) || !/[zZ]|[+-]\d\d:\d\d$/.test(input.attemptedAt))
    throw new AppError('VALIDATION_FAILED', 'attemptedAt must be an ISO 8601 time with its offset');
  if (!['delivered', 'absent', 'unknown_address', 'rejected'].includes(input.outcome))
    throw new AppError('VALIDATION_FAILED', 'outcome must be delivered, absent, unknown_address or rejected');
  const r = input.receiver ?? null;
  if (input.outcome === 'delivered') {
    if (!r)
      throw new AppError('VALIDATION_FAILED', 'A delivery names its receiver (receiver.kind party or other)');
    if (r.kind === 'other') {
      if (!r.name?.trim() || !r.identityDocument?.trim())
        throw new AppError(
          'VALIDATION_FAILED',
          'A delivery to someone other than the party records their name and identity document (art. 42.2)',
        );
      if (r.over14 !== true)
        throw new AppError(
          'NOTIFICATION_RECEIVER_UNDER_14',
          'Only a person over 14 may take a notification for the party (art. 42.2)',
        );
    } else if (r.kind !== 'party') throw new AppError('VALIDATION_FAILED', 'receiver.kind is party or other');
  } else if (r) throw new AppError('VALIDATION_FAILED', 'Only a delivery has a receiver');
  for (const [k, v, max] of [
    ['receiver.name', r?.name, 300],
    ['receiver.identityDocument', r?.identityDocument, 30],
    ['receiver.relationship', r?.relationship, 100],
    ['notes', input.notes, 2000],
  ] as const)
    if (v != null && v.length > max)
      throw new AppError('VALIDATION_FAILED', `${k} is longer than ${max} characters`);
  if (hasAck === false && (input.outcome === 'delivered' || input.outcome === 'rejected'))
    throw new AppError(
      'VALIDATION_FAILED',
      'A delivery or a rejection at the address needs the scanned acknowledgement (file part "acknowledgement")',
    );
  return at;
}

/**
 * Everything that could refuse an attempt, checked before the scan is stored and again when the
 * attempt is recorded (`hasAck` null: not known yet). Returns the attempt's number and time.
 */
export async function checkAttempt(
  tx: Tx,
  ctx: Ctx,
  id: string,
  input: AttemptInput,
  hasAck: boolean | null,
): Promise<{ attemptNo: number; at: Date }> {
  if (!canRecordAttempt(ctx)) throw new AppError('FORBIDDEN', 'You may not record paper attempts');
  const n = await loadForStaff(tx, ctx, id, true);
  if (n.channel !== 'paper')
    throw new AppError('NOTIFICATION_NOT_PAPER', 'This notification is electronic: it has no paper attempts');
  const at = assertAttemptFields(input, hasAck);
  const previous = await tx
    .selectFrom('notification_attempts')
    .select(['attempt_no', 'attempted_at', 'outcome'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('notification_id', '=', n.id)
    .orderBy('attempt_no')
    .execute();
  if (previous.length >= 2)
    throw new AppError('NOTIFICATION_ATTEMPTS_CLOSED', 'Two attempts were made already (LPACAP art. 42.2)');
  if (previous.length === 1 && previous[0]!.outcome !== 'absent')
    throw new AppError(
      'NOTIFICATION_ATTEMPT_NOT_AFTER_ABSENCE',
      `The first attempt's outcome was ${previous[0]!.outcome}: a second attempt follows only an absence (art. 42.2)`,
    );
  if (at.getTime() > ctx.clock.now().getTime() + SKEW_MS)
    throw new AppError('NOTIFICATION_ATTEMPT_TIME_INVALID', 'attemptedAt is in the future');
  if (at.getTime() < new Date(n.made_available_at).getTime())
    throw new AppError(
      'NOTIFICATION_ATTEMPT_TIME_INVALID',
      `attemptedAt is before the notification was issued (${iso(n.made_available_at)})`,
    );
  const first = previous[0];
  if (first) {
    const firstAt = new Date(first.attempted_at);
    if (at.getTime() <= firstAt.getTime())
      throw new AppError('NOTIFICATION_ATTEMPT_TIME_INVALID', 'The second attempt is not after the first');
    const cal = await entityHolidayCalendar(tx, ctx.tenant.id, ctx.clock.now());
    assertSecondAttempt(cal, firstAt, at);
  }
  return { attemptNo: previous.length + 1, at };
}

/**
 * Records a paper attempt with its scanned acknowledgement (already in the blob store; it joins
 * the case file as an acknowledgement of receipt, TD09). A delivery (or a rejection at the
 * address) gives the notification date unless an earlier access in the seu gave it (the first of
 * access or delivery, art. 41.7); the second absent attempt, or an unknown address, make the
 * notification failed. Every outcome has its evidence.
 */
export async function recordAttempt(
  tx: Tx,
  ctx: Ctx,
  deps: NotificationDeps,
  id: string,
  input: AttemptInput,
  ack: Acknowledgement | null,
): Promise<{ view: Awaited<ReturnType<typeof getNotification>>; evidence: EvidenceJobData[] }> {
  const { attemptNo, at } = await checkAttempt(tx, ctx, id, input, ack !== null);
  const n = await loadForStaff(tx, ctx, id, true);
  let ackId: string | null = null;
  if (ack) {
    const doc = await incorporateDocument(tx, ctx, n.expedient_id, {
      title: `Justificant de l’intent ${attemptNo} de notificació en paper — ${n.registry_number}`,
      fileName: ack.fileName,
      mimeType: ack.mimeType,
      sha256: ack.sha256,
      size: ack.size,
      documentType: 'TD09',
      // A scan made for the record, not an authentic copy by an authorised official (art. 27).
      elaborationState: 'EE99',
      origin: 'administration',
    });
    ackId = doc.id;
  }
  const r = input.receiver ?? null;
  const attemptId = newId();
  await tx
    .insertInto('notification_attempts')
    .values({
      tenant_id: ctx.tenant.id,
      id: attemptId,
      notification_id: n.id,
      attempt_no: attemptNo,
      attempted_at: at,
      outcome: input.outcome,
      receiver_kind: input.outcome === 'delivered' ? (r?.kind ?? null) : null,
      receiver_name: r?.kind === 'other' ? r.name!.trim() : null,
      receiver_document: r?.kind === 'other' ? r.identityDocument!.trim().toUpperCase() : null,
      receiver_relationship: r?.kind === 'other' ? r.relationship?.trim() || null : null,
      acknowledgement_document_id: ackId,
      notes: input.notes?.trim() || null,
      recorded_by: ctx.actor.id,
      recorded_by_label: ctx.actor.label,
      recorded_at: ctx.clock.now(),
    })
    .execute();
  const evidence: EvidenceJobData[] = [];
  const notifiedAt = n.notified_at ? new Date(n.notified_at) : null;
  // The first of access (seu) or delivery (paper) is the notification date (art. 41.7, 42.1).
  const first = !notifiedAt || at.getTime() < notifiedAt.getTime();
  let newState: string = n.state;
  if (input.outcome === 'delivered' || input.outcome === 'rejected') {
    if (first) {
      newState = input.outcome === 'delivered' ? 'delivered' : 'rejected';
      await tx
        .updateTable('notifications')
        .set(
          input.outcome === 'delivered'
            ? { state: 'delivered', notified_at: at }
            : { state: 'rejected', notified_at: at, rejected_at: at },
        )
        .where('tenant_id', '=', ctx.tenant.id)
        .where('id', '=', n.id)
        .execute();
    }
    evidence.push(
      await recordEvidence(
        tx,
        ctx,
        deps.jobs,
        n,
        input.outcome === 'delivered' ? 'delivered' : 'rejected_on_paper',
        at,
        { attemptNo, givesNotificationDate: first },
      ),
    );
  } else if (input.outcome === 'unknown_address' || attemptNo === 2) {
    // Nobody could be notified at the address: failed, unless the seu access notified it already.
    if (!notifiedAt) {
      newState = 'failed';
      await tx
        .updateTable('notifications')
        .set({ state: 'failed' })
        .where('tenant_id', '=', ctx.tenant.id)
        .where('id', '=', n.id)
        .execute();
      evidence.push(await recordEvidence(tx, ctx, deps.jobs, n, 'failed', at, { attemptNo }));
    }
  }
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'notification.paper_attempt',
    objectType: 'notification',
    objectId: n.id,
    details: {
      attemptId,
      attemptNo,
      attemptedAt: at.toISOString(),
      outcome: input.outcome,
      receiverKind: r?.kind ?? null,
      acknowledgementDocumentId: ackId,
      sha256: ack?.sha256 ?? null,
      state: newState,
    },
  });
  return { view: await getNotification(tx, ctx, n.id, { auditRead: false }), evidence };
}
