import { sql } from 'kysely';
import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { isUuid, newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { entityHolidayCalendar } from '#modules/calendar/calendar.service.ts';
import { addDays, isCivilDate, madridDateOf, madridStartOfDay } from '#modules/calendar/civil-date.ts';
import { dayDeadline } from '#modules/calendar/deadlines.ts';
import { formatCsv } from '#modules/csv/csv.ts';
import { getDocumentRow } from '#modules/documents/documents.service.ts';
import { getIndex } from '#modules/expedients/expedient-documents.service.ts';
import { loadWritableExpedient } from '#modules/expedients/expedients.service.ts';
import { canPublish, canReadBoard } from './board.policy.ts';
import { maskIdentifiers } from './mask.ts';

/**
 * The notice board (tauler d'edictes, Llei 26/2010 art. 58): staff publish a PDF document of a
 * case file for a period. It is visible from 00:00 (Europe/Madrid) of its start date — or from the
 * moment it was published, when that is later — until 24:00 of its last day, and the public sees
 * its title and summary with personal identifiers masked (LOPDGDD AP7). Visibility is computed
 * from the clock on every read; the sweeper (board.jobs.ts) records the end and issues the
 * certificate of publication afterwards. Staff may withdraw a publication early, with a reason.
 */

export type TermUnit = 'business_days' | 'calendar_days';
export type PublicationState = 'scheduled' | 'in_force' | 'ended' | 'withdrawn';

export type PublishInput = {
  expedientId: string;
  documentId: string;
  title: string;
  summary: string;
  /** YYYY-MM-DD, today or later (Europe/Madrid). */
  startDate: string;
  /** Counted from the day after the start (LPACAP art. 30) with the entity's calendar… */
  term?: { amount: number; unit: TermUnit } | undefined;
  /** …or an explicit last day. */
  endDate?: string | undefined;
  /** The staff member confirms the document is anonymised as LOPDGDD AP7 requires. */
  personalDataReviewed: boolean;
};

export type PublicationView = {
  id: string;
  state: PublicationState;
  title: string;
  summary: string;
  publicTitle: string;
  publicSummary: string;
  expedient: { id: string; number: string };
  documentId: string;
  startDate: string;
  endDate: string;
  term: { amount: number; unit: TermUnit } | null;
  visibleFrom: string;
  visibleUntil: string;
  personalDataReviewed: boolean;
  createdAt: string;
  createdBy: string;
  withdrawal: { at: string; by: string | null; reason: string } | null;
  endedAt: string | null;
  certificate: { documentId: string; csv: string; issuedAt: string; incorporated: boolean } | null;
};

export type PublicPublication = {
  id: string;
  title: string;
  summary: string;
  startDate: string;
  endDate: string;
  visibleFrom: string;
  visibleUntil: string;
  expedientNumber: string;
  documentUrl: string;
};

export type PublicationRow = {
  id: string;
  expedient_id: string;
  expedient_number: string;
  document_id: string;
  title: string;
  summary: string;
  public_title: string;
  public_summary: string;
  start_date: string;
  end_date: string;
  term_amount: number | null;
  term_unit: TermUnit | null;
  visible_from: Date;
  visible_until: Date;
  personal_data_reviewed: boolean;
  created_by: string;
  created_at: Date;
  withdrawn_at: Date | null;
  withdrawn_by: string | null;
  withdrawal_reason: string | null;
  ended_at: Date | null;
  certificate_document_id: string | null;
  certificate_csv: string | null;
  certificate_issued_at: Date | null;
  certificate_incorporated: boolean | null;
};

const MAX_TITLE = 500;
const MAX_SUMMARY = 4000;

function selectPublications(tx: Tx, tenantId: string) {
  return tx
    .selectFrom('board_publications')
    .select([
      'id',
      'expedient_id',
      'expedient_number',
      'document_id',
      'title',
      'summary',
      'public_title',
      'public_summary',
      sql<string>`to_char(start_date, 'YYYY-MM-DD')`.as('start_date'),
      sql<string>`to_char(end_date, 'YYYY-MM-DD')`.as('end_date'),
      'term_amount',
      'term_unit',
      'visible_from',
      'visible_until',
      'personal_data_reviewed',
      'created_by',
      'created_at',
      'withdrawn_at',
      'withdrawn_by',
      'withdrawal_reason',
      'ended_at',
      'certificate_document_id',
      'certificate_csv',
      'certificate_issued_at',
      'certificate_incorporated',
    ])
    .where('tenant_id', '=', tenantId);
}

const iso = (d: Date | string) => new Date(d).toISOString();
const ms = (d: Date | string) => new Date(d).getTime();

/** The moment the publication stopped (or will stop) being visible: 24:00 of its last day, or its withdrawal. */
export function realEnd(r: Pick<PublicationRow, 'visible_until' | 'withdrawn_at'>): Date {
  if (r.withdrawn_at && ms(r.withdrawn_at) < ms(r.visible_until)) return new Date(r.withdrawn_at);
  return new Date(r.visible_until);
}

/** Withdrawn before it became visible: never on the board. */
export function neverVisible(r: Pick<PublicationRow, 'visible_from' | 'withdrawn_at'>): boolean {
  return r.withdrawn_at !== null && ms(r.withdrawn_at) <= ms(r.visible_from);
}

export function stateAt(r: PublicationRow, now: Date): PublicationState {
  const t = now.getTime();
  if (r.withdrawn_at && ms(r.withdrawn_at) <= t) return 'withdrawn';
  if (t >= ms(r.visible_until)) return 'ended';
  if (t < ms(r.visible_from)) return 'scheduled';
  return 'in_force';
}

export function toView(r: PublicationRow, now: Date): PublicationView {
  return {
    id: r.id,
    state: stateAt(r, now),
    title: r.title,
    summary: r.summary,
    publicTitle: r.public_title,
    publicSummary: r.public_summary,
    expedient: { id: r.expedient_id, number: r.expedient_number },
    documentId: r.document_id,
    startDate: r.start_date,
    endDate: r.end_date,
    term: r.term_amount !== null && r.term_unit ? { amount: r.term_amount, unit: r.term_unit } : null,
    visibleFrom: iso(r.visible_from),
    visibleUntil: iso(r.visible_until),
    personalDataReviewed: r.personal_data_reviewed,
    createdAt: iso(r.created_at),
    createdBy: r.created_by,
    withdrawal:
      r.withdrawn_at && r.withdrawal_reason
        ? { at: iso(r.withdrawn_at), by: r.withdrawn_by, reason: r.withdrawal_reason }
        : null,
    endedAt: r.ended_at ? iso(r.ended_at) : null,
    certificate:
      r.certificate_document_id && r.certificate_csv && r.certificate_issued_at
        ? {
            documentId: r.certificate_document_id,
            csv: formatCsv(r.certificate_csv),
            issuedAt: iso(r.certificate_issued_at),
            incorporated: r.certificate_incorporated ?? false,
          }
        : null,
  };
}

function toPublic(slug: string, r: PublicationRow): PublicPublication {
  return {
    id: r.id,
    title: r.public_title,
    summary: r.public_summary,
    startDate: r.start_date,
    endDate: r.end_date,
    visibleFrom: iso(r.visible_from),
    visibleUntil: iso(r.visible_until),
    expedientNumber: r.expedient_number,
    documentUrl: `/api/v1/seu/${slug}/board/${r.id}/document`,
  };
}

function audit(tx: Tx, ctx: Ctx, action: string, objectId: string, details: Record<string, unknown>) {
  return recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action,
    objectType: 'board_publication',
    objectId,
    details,
  });
}

function text(value: string, what: string, max: number): string {
  const v = value.trim();
  if (!v || v.length > max)
    throw new AppError('VALIDATION_FAILED', `The ${what} must have 1 to ${max} characters`);
  return v;
}

export type Period = {
  startDate: string;
  endDate: string;
  term: { amount: number; unit: TermUnit } | null;
  visibleFrom: Date;
  visibleUntil: Date;
};

/**
 * The publication's period. With a term, the last day is computed with the entity's calendar as
 * a deadline whose day 0 is the start date (LPACAP art. 30: counting starts the next day; a last
 * day that is not a business day moves to the next one, art. 30.5). Visible from 00:00 of the
 * start date (or now, if published later that day) until 24:00 of the last day.
 */
export async function planPeriod(
  tx: Tx,
  ctx: Ctx,
  input: Pick<PublishInput, 'startDate' | 'term' | 'endDate'>,
): Promise<Period> {
  const now = ctx.clock.now();
  if (!isCivilDate(input.startDate))
    throw new AppError('BOARD_PERIOD_INVALID', `startDate "${input.startDate}" is not a date YYYY-MM-DD`);
  const today = madridDateOf(now);
  if (input.startDate < today)
    throw new AppError(
      'BOARD_PERIOD_INVALID',
      `The start date ${input.startDate} is before today (${today})`,
    );
  if ((input.term === undefined) === (input.endDate === undefined))
    throw new AppError(
      'BOARD_PERIOD_INVALID',
      'Give either a term (amount and unit) or an endDate, not both',
    );
  let endDate: string;
  let term: Period['term'] = null;
  if (input.term) {
    const cal = await entityHolidayCalendar(tx, ctx.tenant.id, now);
    const d = dayDeadline(cal, input.startDate, input.term.amount, input.term.unit);
    endDate = d.end;
    term = { amount: input.term.amount, unit: input.term.unit };
  } else {
    endDate = input.endDate!;
    if (!isCivilDate(endDate))
      throw new AppError('BOARD_PERIOD_INVALID', `endDate "${endDate}" is not a date YYYY-MM-DD`);
    if (endDate < input.startDate)
      throw new AppError(
        'BOARD_PERIOD_INVALID',
        `The end date ${endDate} is before the start ${input.startDate}`,
      );
  }
  const startOfDay = madridStartOfDay(input.startDate);
  return {
    startDate: input.startDate,
    endDate,
    term,
    visibleFrom: startOfDay.getTime() > now.getTime() ? startOfDay : now,
    visibleUntil: madridStartOfDay(addDays(endDate, 1)),
  };
}

/**
 * Everything about a publication that does not depend on its document: the caller may publish,
 * the data was reviewed, the period is valid, the case file is open and the caller may change it.
 * Checked before an uploaded file enters the store, and again when publishing.
 */
export async function checkPublication(
  tx: Tx,
  ctx: Ctx,
  input: Omit<PublishInput, 'documentId'>,
): Promise<{ period: Period; expedientNumber: string }> {
  if (!canPublish(ctx)) throw new AppError('FORBIDDEN', 'You may not publish on the notice board');
  if (input.personalDataReviewed !== true)
    throw new AppError(
      'BOARD_PERSONAL_DATA_NOT_REVIEWED',
      'Confirm (personalDataReviewed: true) that the document shows personal data only as LOPDGDD Additional Provision 7 allows',
    );
  text(input.title, 'title', MAX_TITLE);
  text(input.summary, 'summary', MAX_SUMMARY);
  const exp = await loadWritableExpedient(tx, ctx, input.expedientId);
  const period = await planPeriod(tx, ctx, input);
  return { period, expedientNumber: exp.number };
}

/** Publishes a PDF document of the case file's index on the notice board. Audited. */
export async function publish(tx: Tx, ctx: Ctx, input: PublishInput): Promise<PublicationView> {
  const { period, expedientNumber } = await checkPublication(tx, ctx, input);
  const index = await getIndex(tx, ctx, input.expedientId);
  const doc = isUuid(input.documentId) ? await getDocumentRow(tx, ctx, input.documentId) : undefined;
  if (!doc || !index.entries.some((e) => e.documentId === doc.id))
    throw new AppError(
      'BOARD_DOCUMENT_NOT_PUBLISHABLE',
      'The document is not in the index of that case file',
    );
  if (doc.mime_type !== 'application/pdf')
    throw new AppError(
      'BOARD_DOCUMENT_NOT_PUBLISHABLE',
      `Only PDF documents are published (this is ${doc.mime_type})`,
    );
  const now = ctx.clock.now();
  const id = newId();
  const title = text(input.title, 'title', MAX_TITLE);
  const summary = text(input.summary, 'summary', MAX_SUMMARY);
  const row = (await tx
    .insertInto('board_publications')
    .values({
      tenant_id: ctx.tenant.id,
      id,
      expedient_id: input.expedientId,
      expedient_number: expedientNumber,
      document_id: doc.id,
      title,
      summary,
      public_title: maskIdentifiers(title),
      public_summary: maskIdentifiers(summary),
      start_date: period.startDate,
      end_date: period.endDate,
      term_amount: period.term?.amount ?? null,
      term_unit: period.term?.unit ?? null,
      visible_from: period.visibleFrom,
      visible_until: period.visibleUntil,
      personal_data_reviewed: true,
      created_by: ctx.actor.id ?? '00000000-0000-0000-0000-000000000000',
      created_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow()) as { id: string };
  // The sweeper's to-do: the end to record and the certificate to issue.
  await tx
    .insertInto('board_due')
    .values({ tenant_id: ctx.tenant.id, publication_id: row.id, due_at: period.visibleUntil })
    .execute();
  await audit(tx, ctx, 'board.publish', id, {
    expedientId: input.expedientId,
    documentId: doc.id,
    sha256: doc.sha256,
    startDate: period.startDate,
    endDate: period.endDate,
    term: period.term,
    visibleFrom: period.visibleFrom.toISOString(),
    visibleUntil: period.visibleUntil.toISOString(),
    personalDataReviewed: true,
  });
  return getPublication(tx, ctx, id);
}

export async function loadPublicationRow(
  tx: Tx,
  tenantId: string,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<PublicationRow> {
  if (!isUuid(id)) throw new AppError('BOARD_PUBLICATION_NOT_FOUND', 'Publication not found');
  let q = selectPublications(tx, tenantId).where('id', '=', id);
  if (opts.forUpdate) q = q.forUpdate();
  const r = (await q.executeTakeFirst()) as PublicationRow | undefined;
  if (!r) throw new AppError('BOARD_PUBLICATION_NOT_FOUND', 'Publication not found');
  return r;
}

/** The staff view of one publication (original text, every state). */
export async function getPublication(tx: Tx, ctx: Ctx, id: string): Promise<PublicationView> {
  if (!canReadBoard(ctx)) throw new AppError('FORBIDDEN', 'You may not read the notice board’s records');
  return toView(await loadPublicationRow(tx, ctx.tenant.id, id), ctx.clock.now());
}

/** The staff list, newest first; `state` filters by the state now. */
export async function listPublications(
  tx: Tx,
  ctx: Ctx,
  f: { state?: PublicationState | undefined } = {},
): Promise<PublicationView[]> {
  if (!canReadBoard(ctx)) throw new AppError('FORBIDDEN', 'You may not read the notice board’s records');
  const now = ctx.clock.now();
  const rows = (await selectPublications(tx, ctx.tenant.id)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1000)
    .execute()) as PublicationRow[];
  return rows.map((r) => toView(r, now)).filter((v) => !f.state || v.state === f.state);
}

/** Withdraws a publication before the end of its period (a reason is required). Audited. */
export async function withdrawPublication(
  tx: Tx,
  ctx: Ctx,
  id: string,
  reason: string,
): Promise<PublicationView> {
  if (!canPublish(ctx)) throw new AppError('FORBIDDEN', 'You may not withdraw publications');
  const why = text(reason, 'reason', 2000);
  const r = await loadPublicationRow(tx, ctx.tenant.id, id, { forUpdate: true });
  const now = ctx.clock.now();
  const state = stateAt(r, now);
  if (state === 'ended' || state === 'withdrawn')
    throw new AppError(
      'BOARD_PUBLICATION_ENDED',
      `The publication has ${state === 'ended' ? 'ended' : 'been withdrawn'} already`,
    );
  await tx
    .updateTable('board_publications')
    .set({ withdrawn_at: now, withdrawn_by: ctx.actor.id, withdrawal_reason: why })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', r.id)
    .execute();
  await tx
    .updateTable('board_due')
    .set({ due_at: now })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('publication_id', '=', r.id)
    .execute();
  await audit(tx, ctx, 'board.withdraw', r.id, {
    reason: why,
    wasState: state,
    visibleFrom: iso(r.visible_from),
    visibleUntil: iso(r.visible_until),
  });
  return getPublication(tx, ctx, r.id);
}

/**
 * Records that the publication has ended (at its real end: 24:00 of the last day, or the
 * withdrawal), once; audited. Returns the row as it now is. Not before the end.
 */
export async function recordEnd(tx: Tx, ctx: Ctx, r: PublicationRow): Promise<PublicationRow> {
  const end = realEnd(r);
  if (end.getTime() > ctx.clock.now().getTime())
    throw new AppError(
      'BOARD_PUBLICATION_NOT_ENDED',
      `The publication is on the board until ${end.toISOString()}`,
    );
  if (r.ended_at) return r;
  await tx
    .updateTable('board_publications')
    .set({ ended_at: end })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', r.id)
    .execute();
  await audit(tx, ctx, 'board.end', r.id, {
    realStart: iso(r.visible_from),
    realEnd: end.toISOString(),
    withdrawn: r.withdrawn_at !== null,
    neverVisible: neverVisible(r),
  });
  return { ...r, ended_at: end };
}

// ---- what the public sees (no login) ----

/** Publications in force now (by the clock), newest first, with identifiers masked. */
export async function listInForce(tx: Tx, ctx: Ctx): Promise<PublicPublication[]> {
  const now = ctx.clock.now();
  const rows = (await selectPublications(tx, ctx.tenant.id)
    .where('visible_from', '<=', now)
    .where('visible_until', '>', now)
    .where((eb) => eb.or([eb('withdrawn_at', 'is', null), eb('withdrawn_at', '>', now)]))
    .orderBy('visible_from', 'desc')
    .orderBy('id', 'desc')
    .execute()) as PublicationRow[];
  return rows.map((r) => toPublic(ctx.tenant.slug, r));
}

/** One publication in force now, else BOARD_PUBLICATION_NOT_FOUND (ended, withdrawn, not yet, another entity's). */
export async function getInForce(
  tx: Tx,
  ctx: Ctx,
  id: string,
): Promise<PublicPublication & { sha256: string; fileName: string; size: number }> {
  if (!isUuid(id)) throw new AppError('BOARD_PUBLICATION_NOT_FOUND', 'Publication not found');
  const r = (await selectPublications(tx, ctx.tenant.id).where('id', '=', id).executeTakeFirst()) as
    | PublicationRow
    | undefined;
  if (!r || stateAt(r, ctx.clock.now()) !== 'in_force')
    throw new AppError('BOARD_PUBLICATION_NOT_FOUND', 'Publication not found');
  const doc = await getDocumentRow(tx, ctx, r.document_id);
  if (!doc) throw new AppError('BOARD_PUBLICATION_NOT_FOUND', 'Publication not found');
  return {
    ...toPublic(ctx.tenant.slug, r),
    sha256: doc.sha256,
    fileName: doc.file_name,
    size: Number(doc.size_bytes),
  };
}
