import { sql } from 'kysely';
import { type Ctx, systemClock } from '#platform/context.ts';
import { madridYear } from '#platform/db/counters.ts';
import { deferOrRun, type Tx } from '#platform/db/database.ts';
import type { RegistryChannel, RegistryDirection } from '#platform/db/schema.ts';
import { escapeLike } from '#platform/db/search.ts';
import { AppError } from '#platform/errors.ts';
import { isUuid, newId } from '#platform/ids.ts';
import { formatCsv } from '#modules/csv/csv.ts';
import { auditMark, discardEventsAfter, recordEvent } from '#modules/audit/audit.service.ts';
import {
  addDays,
  assertCivilDate,
  type CivilDate,
  madridDateOf,
  madridStartOfDay,
} from '#modules/calendar/civil-date.ts';
import { entityHolidayCalendar } from '#modules/calendar/calendar.service.ts';
import { effectiveRegistryTime, type HolidayCalendar } from '#modules/calendar/deadlines.ts';
import { newDocumentRow, recordDocumentCreated } from '#modules/documents/documents.service.ts';
import { classifyIdentifier } from '#modules/parties/identifiers.ts';
import {
  createParty,
  findPartyByIdentifier,
  getParty,
  type PartyInput,
  type PartyLanguage,
} from '#modules/parties/parties.service.ts';
import { findUnit } from '#modules/tenancy/units.service.ts';
import { type EntryExpedient, listEntryExpedients } from './entry-expedients.service.ts';
import { canAnnotateEntry, canCreateEntry, canReadRegistry } from './registry.policy.ts';

export const DIRECTIONS = ['E', 'S'] as const;
export const CHANNELS = ['in_person', 'electronic', 'mux', 'postal', 'sir'] as const;
export const LANGUAGES = ['ca', 'es', 'oc-aranes'] as const;
/** Channels whose presentation time is the origin's (the post office, SIR, the MUX's dataPresentacio); the others use this server's clock. */
const ORIGIN_TIME_CHANNELS: readonly RegistryChannel[] = ['postal', 'sir', 'mux'];
const PARTY_KEYS = [
  'identifier',
  'identifierType',
  'kind',
  'name',
  'surname1',
  'surname2',
  'email',
  'phone',
  'address',
  'residenceIne',
  'language',
] as const;

export type AttachmentInput = { fileName: string; mimeType: string; sha256: string; size: number };

export type EntryInput = {
  direction: RegistryDirection;
  heading: string;
  summary: string;
  channel: RegistryChannel;
  officeId?: string | null;
  partyId?: string | null;
  /** A party of the register by identifier, created if the entity does not have it. */
  party?: PartyInput | null;
  sendingBody?: string | null;
  recipientUnitId?: string | null;
  recipientPerson?: string | null;
  text?: string | null;
  language?: PartyLanguage | null;
  /** Only for postal and SIR filings: when the origin received it. */
  presentedAt?: string | null;
  attachments?: AttachmentInput[];
};

export type CreatedEntry = {
  id: string;
  number: string;
  presentedAt: string;
  registeredAt: string;
  effectiveAt: string | null;
  /** Why effectiveAt is null (the seat's calendar does not know the day), or null. */
  effectiveAtNote: string | null;
  /** Issued right after the entry commits (receipt.service.ts); null until then. */
  receipt: ReceiptRef | null;
};

/** An entry's receipt (justificant): its document and CSV (printed form). */
export type ReceiptRef = { documentId: string; csv: string; issuedAt: string };

function text(v: unknown, what: string, max: number, problems: string[]): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'string' || v.trim().length === 0 || v.length > max)
    problems.push(`${what} must have 1 to ${max} characters`);
}

/**
 * Checks everything about an entry that needs no database (run before any attachment enters the
 * store, and again when the entry is made). Throws VALIDATION_FAILED or INVALID_IDENTIFIER.
 */
export function assertEntryInput(input: EntryInput): void {
  const problems: string[] = [];
  if (!(DIRECTIONS as readonly string[]).includes(input.direction)) problems.push('direction must be E or S');
  if (!(CHANNELS as readonly string[]).includes(input.channel))
    problems.push(`channel must be one of ${CHANNELS.join(', ')}`);
  if (typeof input.heading !== 'string' || input.heading.trim().length === 0 || input.heading.length > 500)
    problems.push('heading must have 1 to 500 characters');
  if (typeof input.summary !== 'string' || input.summary.trim().length === 0 || input.summary.length > 4000)
    problems.push('summary must have 1 to 4000 characters');
  text(input.sendingBody, 'sendingBody', 300, problems);
  text(input.recipientPerson, 'recipientPerson', 300, problems);
  text(input.text, 'text', 200000, problems);
  if (input.language != null && !(LANGUAGES as readonly string[]).includes(input.language))
    problems.push(`language must be one of ${LANGUAGES.join(', ')}`);
  for (const [k, v] of [
    ['officeId', input.officeId],
    ['partyId', input.partyId],
    ['recipientUnit', input.recipientUnitId],
  ] as const) {
    if (v != null && !isUuid(v)) problems.push(`${k} must be a UUID`);
  }
  if (input.partyId && input.party) problems.push('give partyId or party, not both');
  if (input.party != null) {
    if (typeof input.party !== 'object' || Array.isArray(input.party))
      problems.push('party must be an object');
    else {
      for (const k of Object.keys(input.party))
        if (!(PARTY_KEYS as readonly string[]).includes(k))
          problems.push(`party has an unknown field "${k}"`);
      if (typeof input.party.identifier !== 'string') problems.push('party.identifier is required');
      if (typeof input.party.name !== 'string' || input.party.name.trim().length === 0)
        problems.push('party.name is required');
    }
  }
  if (input.presentedAt != null) {
    if (!ORIGIN_TIME_CHANNELS.includes(input.channel))
      problems.push(
        'presentedAt is given only for postal, sir and mux filings (the others are presented now)',
      );
    else if (Number.isNaN(Date.parse(input.presentedAt)) || !/[zZ]|[+-]\d\d:\d\d$/.test(input.presentedAt))
      problems.push('presentedAt must be an ISO 8601 time with its offset');
  } else if (ORIGIN_TIME_CHANNELS.includes(input.channel)) {
    problems.push('presentedAt is required for postal, sir and mux filings (the origin’s time)');
  }
  if ((input.attachments?.length ?? 0) > MAX_ATTACHMENTS)
    problems.push(`at most ${MAX_ATTACHMENTS} attachments`);
  if (problems.length) throw new AppError('VALIDATION_FAILED', problems.join('; '));
  if (input.party) classifyIdentifier(input.party.identifier, input.party.identifierType);
}

export const MAX_ATTACHMENTS = 10;

async function assertUnit(tx: Tx, ctx: Ctx, id: string, kind: 'office' | null): Promise<void> {
  if (!(await findUnit(tx, ctx, id, kind ?? undefined)))
    throw new AppError('UNIT_NOT_FOUND', kind ? `Office ${id} not found` : `Unit ${id} not found`);
}

/**
 * How far ahead of our clock a presentation time given by another system (MUX's dataPresentacio,
 * SIR, the post office) may be: their clocks and ours differ by a little, and refusing a filing
 * for that would lose it. Such a time is recorded as the registration time (a filing cannot be
 * presented after it is registered); MUX keeps the original in its transaction record.
 */
export const PRESENTED_AT_SKEW_MS = 2 * 60_000;

/** Everything that could refuse an entry, checked before its attachments enter the store. */
export async function checkEntry(tx: Tx, ctx: Ctx, input: EntryInput): Promise<void> {
  checkEntryAlone(ctx, input);
  if (input.officeId) await assertUnit(tx, ctx, input.officeId, 'office');
  if (input.recipientUnitId) await assertUnit(tx, ctx, input.recipientUnitId, null);
  if (input.partyId) await getParty(tx, ctx, input.partyId);
}

/** Whether checkEntry reads the database for this entry (it names a unit or a known party). */
export const entryNamesRows = (input: EntryInput): boolean =>
  Boolean(input.officeId || input.recipientUnitId || input.partyId);

/** The part of checkEntry that needs no database: the fields, the caller's roles, the time given. */
export function checkEntryAlone(ctx: Ctx, input: EntryInput): void {
  assertEntryInput(input);
  if (!canCreateEntry(ctx, input.direction))
    throw new AppError('FORBIDDEN', `You may not make ${input.direction} entries in this registry`);
  if (input.presentedAt && Date.parse(input.presentedAt) > ctx.clock.now().getTime() + PRESENTED_AT_SKEW_MS)
    throw new AppError(
      'VALIDATION_FAILED',
      `presentedAt is in the future (more than ${PRESENTED_AT_SKEW_MS / 60_000} minutes ahead of this registry's clock)`,
    );
}

type EntryParty = { id: string; identifier: string; name: string; language: PartyLanguage };
const entryParty = (p: EntryParty): EntryParty => ({
  id: p.id,
  identifier: p.identifier,
  name: p.name,
  language: p.language,
});

async function resolveParty(tx: Tx, ctx: Ctx, input: EntryInput): Promise<EntryParty | null> {
  if (input.partyId) return entryParty(await getParty(tx, ctx, input.partyId));
  if (!input.party) return null;
  const { normalized } = classifyIdentifier(input.party.identifier, input.party.identifierType);
  const found = await findPartyByIdentifier(tx, ctx, normalized);
  if (found) return entryParty(found);
  // Two filings by the same new party at once: the second insert meets the first's row. A
  // savepoint keeps this transaction alive, and the party the other filing created is used.
  const mark = auditMark(tx);
  await sql`SAVEPOINT party_on_the_fly`.execute(tx);
  try {
    const p = await createParty(tx, ctx, input.party);
    await sql`RELEASE SAVEPOINT party_on_the_fly`.execute(tx);
    return entryParty(p);
  } catch (e) {
    if (!(e instanceof AppError) || e.code !== 'PARTY_IDENTIFIER_TAKEN') throw e;
    await sql`ROLLBACK TO SAVEPOINT party_on_the_fly`.execute(tx);
    discardEventsAfter(tx, mark);
    const p = await findPartyByIdentifier(tx, ctx, normalized);
    if (!p) throw e;
    return entryParty(p);
  }
}

/**
 * Makes a registry entry (LPACAP art. 16). The number is taken first (per entity, direction and
 * Europe/Madrid year of registration; no gap, no repeat), then the registration time is read from
 * the database's clock_timestamp(), so registration times follow numbers across API processes
 * (ARCHITECTURE data rule 2). The effective time follows art. 31.2.b with the seat's calendar;
 * when that calendar does not know the day the filing is still accepted, with effectiveAt null.
 * Attachments (already in the blob store) become documents of the entry. The audit event is last.
 */
export async function createEntry(tx: Tx, ctx: Ctx, input: EntryInput): Promise<CreatedEntry> {
  return (await makeEntry(tx, ctx, input)).result().created;
}

/**
 * How long after an entry is made its receipt is left to the request that made it: after that the
 * receipts sweeper issues it (the request normally has within a second; it matters when the
 * process died in between).
 */
export const RECEIPT_DUE_AFTER_SECONDS = 10;

/**
 * What art. 31.2.b (effectiveRegistryTime) makes of a filing presented at any time of `day`, for
 * a presentation time the database gives (the registration time): effective when presented
 * ('at', a business day), from the start of the next business day ('next'), or not known
 * ('unknown': the seat's calendar does not know the day; `note` says why).
 */
type DayRule = { day: CivilDate; kind: 'at' | 'next' | 'unknown'; next: Date | null; note: string | null };

function dayRule(calendar: HolidayCalendar | null, calendarNote: string | null, day: CivilDate): DayRule {
  if (!calendar) return { day, kind: 'unknown', next: null, note: calendarNote };
  const start = madridStartOfDay(day);
  try {
    const effective = effectiveRegistryTime(start, calendar);
    return effective.getTime() === start.getTime()
      ? { day, kind: 'at', next: null, note: null }
      : { day, kind: 'next', next: effective, note: null };
  } catch (e) {
    if (!(e instanceof AppError) || e.code !== 'CALENDAR_INCOMPLETE') throw e;
    return {
      day,
      kind: 'unknown',
      next: null,
      note: `The effective time (art. 31.2.b) is not set: ${e.message}`,
    };
  }
}

/** An entry made by makeEntry: read it (`result`) once its statement has run. */
export type MadeEntry = {
  id: string;
  /**
   * The entry as created and as getEntry would read it back in this transaction (a new entry has
   * no annotations, case files or receipt yet). With `last` on PostgreSQL it is known once the
   * transaction has committed; asked before, it throws.
   */
  result(): { created: CreatedEntry; view: EntryView };
};

type NumberedRow = {
  seq: number;
  number: string;
  presented_at: Date | string;
  registered_at: Date | string;
  effective_at: Date | string | null;
};

/**
 * createEntry, also returning the entry as getEntry would read it back (see MadeEntry): the
 * request issues the receipt from it after commit without reading the entry again. The entry's
 * receipt is put on registry_receipts_due here (every entry owes one).
 *
 * One statement takes the number and writes the entry: the counter's row (per entity, direction
 * and Europe/Madrid year; no gap, no repeat) is locked and incremented, the registration time is
 * read from the database's clock_timestamp() after that lock (so registration times follow numbers
 * across API processes, ARCHITECTURE data rule 2), and the entry, its attachments' documents and
 * links and its receipt's due row are written from them. The effective time (art. 31.2.b) depends
 * on the registration day, which only the database knows then: the rule of each day it can be
 * (today, and the day before and after for clocks a little apart at midnight) goes with the
 * statement. `last`: the caller runs no other statement in the transaction after this one; the
 * statement then goes with the COMMIT (deferToCommit), and the counter's row lock is held only
 * while the database writes the entry and commits, never for a round trip back to this process,
 * whose event loop may be busy with other requests: with 10 clients that wait was 15 ms an entry.
 */
export async function makeEntry(
  tx: Tx,
  ctx: Ctx,
  input: EntryInput,
  opts: { last?: boolean } = {},
): Promise<MadeEntry> {
  await checkEntry(tx, ctx, input);
  const party = await resolveParty(tx, ctx, input);
  let calendar: HolidayCalendar | null = null;
  let calendarNote: string | null = null;
  try {
    calendar = await entityHolidayCalendar(tx, ctx.tenant.id, ctx.clock.now());
  } catch (e) {
    if (!(e instanceof AppError) || e.code !== 'CALENDAR_INCOMPLETE') throw e;
    calendarNote = `The effective time (art. 31.2.b) is not set: ${e.message}`;
  }
  const now = ctx.clock.now();
  const year = madridYear(now);
  // The attachments become documents in the entry's own statement (below), incorporated when they
  // were received.
  const documents = (input.attachments ?? []).map((a) =>
    newDocumentRow(ctx, {
      title: a.fileName,
      fileName: a.fileName,
      mimeType: a.mimeType,
      sha256: a.sha256,
      size: a.size,
      documentType: input.direction === 'E' ? 'TD14' : 'TD99',
      elaborationState: 'EE01',
      origin: input.direction === 'E' ? 'citizen' : 'administration',
      incorporatedAt: now,
      year,
    }),
  );
  const attachments = documents.map((d) => ({ documentId: d.id, sha256: d.sha256 }));
  // A presentation time given by the origin (MUX, SIR, post) is the filing's unless it is after
  // the registration time (clocks apart: PRESENTED_AT_SKEW_MS); its effective time is known now.
  const given = input.presentedAt ? new Date(input.presentedAt) : null;
  const givenRule = given ? dayRule(calendar, calendarNote, madridDateOf(given)) : null;
  const givenEffective = !given || !givenRule ? null : givenRule.kind === 'at' ? given : givenRule.next;
  const today = madridDateOf(now);
  const rules = [addDays(today, -1), today, addDays(today, 1)].map((d) => dayRule(calendar, calendarNote, d));
  // The injected clock's offset from the system clock lets tests set the day: both read at once
  // (`now` above is some time earlier); exactly zero for the system clock, so that a millisecond
  // passing between the two readings cannot put one entry's time before the previous number's.
  const skewMs = ctx.clock === systemClock ? 0 : ctx.clock.now().getTime() - Date.now();
  const id = newId();
  const entry = {
    heading: input.heading.trim(),
    summary: input.summary.trim(),
    office_id: input.officeId ?? null,
    party_id: party?.id ?? null,
    sending_body: input.sendingBody?.trim() || null,
    recipient_unit_id: input.recipientUnitId ?? null,
    recipient_person: input.recipientPerson?.trim() || null,
    text: input.text ?? null,
    language: input.language ?? party?.language ?? 'ca',
  };
  const t = ctx.tenant.id;
  const links = attachments.map((a, i) => ({
    tenant_id: t,
    entry_id: id,
    position: i + 1,
    document_id: a.documentId,
    sha256: a.sha256,
  }));
  // Keys are checked at the statement's end, when the entry's row is there for the links.
  const attachmentCtes =
    links.length === 0
      ? sql``
      : sql`docs AS (${tx.insertInto('documents').values(documents)}),
            links AS (${tx.insertInto('registry_attachments').values(links)}),`;
  const statement = sql<NumberedRow>`
    WITH num AS (
      INSERT INTO counters (tenant_id, series, year, value)
      VALUES (${t}, ${`registry-${input.direction}`}, ${year}, 1)
      ON CONFLICT (tenant_id, series, year) DO UPDATE SET value = counters.value + 1
      RETURNING value AS seq, clock_timestamp() + ${skewMs}::float8 * interval '1 millisecond' AS at),
    times AS (
      SELECT seq, at,
        ${input.direction}::text || '/' || ${year}::text || '/'
          || lpad(seq::text, greatest(6, length(seq::text)), '0') AS number,
        CASE WHEN ${given}::timestamptz < at THEN ${given}::timestamptz ELSE at END AS presented_at,
        CASE WHEN ${given}::timestamptz < at THEN ${givenEffective}::timestamptz
          ELSE (SELECT CASE r.kind WHEN 'at' THEN num.at WHEN 'next' THEN r.next END
                FROM unnest(${rules.map((r) => r.day)}::date[], ${rules.map((r) => r.kind)}::text[],
                            ${rules.map((r) => r.next)}::timestamptz[]) AS r(day, kind, next)
                WHERE r.day = (num.at AT TIME ZONE 'Europe/Madrid')::date)
        END AS effective_at
      FROM num),
    entry AS (
      INSERT INTO registry_entries (tenant_id, id, direction, year, seq, number, heading, summary,
        channel, office_id, party_id, sending_body, recipient_unit_id, recipient_person, text,
        language, presented_at, registered_at, effective_at, created_by, created_at)
      SELECT ${t}, ${id}, ${input.direction}, ${year}, seq, number, ${entry.heading}, ${entry.summary},
        ${input.channel}, ${entry.office_id}, ${entry.party_id}, ${entry.sending_body},
        ${entry.recipient_unit_id}, ${entry.recipient_person}, ${entry.text}, ${entry.language},
        presented_at, at, effective_at, ${ctx.actor.label}, at
      FROM times
      RETURNING seq, number, presented_at, registered_at, effective_at),
    ${attachmentCtes}
    due AS (
      INSERT INTO registry_receipts_due (tenant_id, entry_id, owed_since, due_at)
      SELECT ${t}, ${id}, registered_at, registered_at + ${RECEIPT_DUE_AFTER_SECONDS} * interval '1 second'
      FROM entry)
    SELECT seq, number, presented_at, registered_at, effective_at FROM entry`.compile(tx);
  let numbered: NumberedRow | undefined;
  const receive = (rows: unknown[]) => {
    numbered = rows[0] as NumberedRow;
  };
  if (opts.last) await deferOrRun(tx, statement, receive);
  else receive((await tx.executeQuery(statement)).rows);
  for (const d of documents) await recordDocumentCreated(tx, ctx, d);
  // The number is not known here when the statement goes with the COMMIT: the event names the
  // entry by its id (objectId), and the entry carries its number.
  await recordEvent(tx, {
    tenantId: t,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'registry.entry_create',
    objectType: 'registry_entry',
    objectId: id,
    details: {
      direction: input.direction,
      year,
      channel: input.channel,
      partyId: party?.id ?? null,
      attachments,
    },
  });
  let made: ReturnType<MadeEntry['result']> | undefined;
  return {
    id,
    result() {
      if (made) return made;
      if (!numbered) throw new Error('the entry is written with its COMMIT: read it after the transaction');
      const registeredAt = new Date(numbered.registered_at);
      const effectiveAt = numbered.effective_at === null ? null : new Date(numbered.effective_at);
      const presentedAt = new Date(numbered.presented_at);
      const rule =
        given && given < registeredAt ? givenRule : rules.find((r) => r.day === madridDateOf(registeredAt));
      const row: EntryRow = {
        id,
        number: numbered.number,
        direction: input.direction,
        heading: entry.heading,
        summary: entry.summary,
        channel: input.channel,
        office_id: entry.office_id,
        party_id: entry.party_id,
        presented_at: presentedAt,
        registered_at: registeredAt,
        effective_at: effectiveAt,
      };
      made = {
        created: {
          id,
          number: numbered.number,
          presentedAt: presentedAt.toISOString(),
          registeredAt: registeredAt.toISOString(),
          effectiveAt: effectiveAt?.toISOString() ?? null,
          effectiveAtNote: effectiveAt
            ? null
            : (rule?.note ??
              'The effective time (art. 31.2.b) is not set: the registration day was not foreseen'),
          receipt: null,
        },
        view: {
          ...toSummary(row),
          sendingBody: entry.sending_body,
          recipientUnitId: entry.recipient_unit_id,
          recipientPerson: entry.recipient_person,
          text: entry.text,
          language: entry.language,
          createdBy: ctx.actor.label,
          party: party ? { id: party.id, identifier: party.identifier, name: party.name } : null,
          attachments: documents.map((d, i) => ({
            position: i + 1,
            documentId: d.id,
            title: d.title,
            fileName: d.file_name,
            mimeType: d.mime_type,
            size: d.size_bytes,
            sha256: d.sha256,
          })),
          annotations: [],
          receipt: null,
          expedients: [],
        },
      };
      return made;
    },
  };
}

export type EntrySummary = {
  id: string;
  number: string;
  direction: RegistryDirection;
  heading: string;
  summary: string;
  channel: RegistryChannel;
  officeId: string | null;
  partyId: string | null;
  presentedAt: string;
  registeredAt: string;
  effectiveAt: string | null;
};

export type EntryView = EntrySummary & {
  sendingBody: string | null;
  recipientUnitId: string | null;
  recipientPerson: string | null;
  text: string | null;
  language: string;
  createdBy: string;
  party: { id: string; identifier: string; name: string } | null;
  attachments: {
    position: number;
    documentId: string;
    title: string;
    fileName: string;
    mimeType: string;
    size: number;
    sha256: string;
  }[];
  annotations: { id: string; text: string; createdBy: string; createdAt: string }[];
  receipt: ReceiptRef | null;
  /** The case files the entry was brought into. */
  expedients: EntryExpedient[];
};

const iso = (t: Date | string) => new Date(t).toISOString();

type EntryRow = {
  id: string;
  number: string;
  direction: RegistryDirection;
  heading: string;
  summary: string;
  channel: RegistryChannel;
  office_id: string | null;
  party_id: string | null;
  presented_at: Date;
  registered_at: Date;
  effective_at: Date | null;
};

function toSummary(r: EntryRow): EntrySummary {
  return {
    id: r.id,
    number: r.number,
    direction: r.direction,
    heading: r.heading,
    summary: r.summary,
    channel: r.channel,
    officeId: r.office_id,
    partyId: r.party_id,
    presentedAt: iso(r.presented_at),
    registeredAt: iso(r.registered_at),
    effectiveAt: r.effective_at ? iso(r.effective_at) : null,
  };
}

export type EntryQuery = {
  direction?: RegistryDirection;
  /** Civil dates (Europe/Madrid) of registration, both included. */
  from?: string;
  to?: string;
  q?: string;
  office?: string;
  /** The recipient unit (E) or the unit the entry is addressed to. */
  unit?: string;
  party?: string;
  page?: number;
  pageSize?: number;
};

/**
 * The registry book, in the order of art. 31.2.b: by effective time (a filing of a non-business
 * day ranks at 00:00 of the next business day, before that day's own filings), then by number.
 */
export async function listEntries(
  tx: Tx,
  ctx: Ctx,
  query: EntryQuery,
): Promise<{ items: EntrySummary[]; total: number; page: number; pageSize: number }> {
  if (!canReadRegistry(ctx)) throw new AppError('FORBIDDEN', 'You may not consult this registry');
  const page = Math.max(1, Math.trunc(query.page ?? 1));
  const pageSize = Math.min(100, Math.max(1, Math.trunc(query.pageSize ?? 25)));
  let q = tx.selectFrom('registry_entries').where('tenant_id', '=', ctx.tenant.id);
  if (query.direction) q = q.where('direction', '=', query.direction);
  if (query.from) q = q.where('registered_at', '>=', madridStartOfDay(assertCivilDate(query.from, 'from')));
  if (query.to)
    q = q.where('registered_at', '<', madridStartOfDay(addDays(assertCivilDate(query.to, 'to'), 1)));
  if (query.office) {
    if (!isUuid(query.office)) throw new AppError('VALIDATION_FAILED', 'office must be a UUID');
    q = q.where('office_id', '=', query.office);
  }
  if (query.unit) {
    if (!isUuid(query.unit)) throw new AppError('VALIDATION_FAILED', 'unit must be a UUID');
    q = q.where('recipient_unit_id', '=', query.unit);
  }
  if (query.party) {
    if (!isUuid(query.party)) throw new AppError('VALIDATION_FAILED', 'party must be a UUID');
    q = q.where('party_id', '=', query.party);
  }
  const words = (query.q ?? '').trim();
  if (words) {
    const like = `%${escapeLike(words)}%`;
    q = q.where((eb) =>
      eb.or([eb('heading', 'ilike', like), eb('summary', 'ilike', like), eb('number', 'ilike', like)]),
    );
  }
  const total = await q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirst();
  const rows = await q
    .select([
      'id',
      'number',
      'direction',
      'heading',
      'summary',
      'channel',
      'office_id',
      'party_id',
      'presented_at',
      'registered_at',
      'effective_at',
    ])
    .orderBy(sql`coalesce(effective_at, presented_at)`)
    .orderBy('direction')
    .orderBy('year')
    .orderBy('seq')
    .limit(pageSize)
    .offset((page - 1) * pageSize)
    .execute();
  return { items: rows.map(toSummary), total: Number(total?.n ?? 0), page, pageSize };
}

/** The entry's receipt, or null while it is being issued. */
export async function findReceipt(tx: Tx, ctx: Ctx, entryId: string): Promise<ReceiptRef | null> {
  const r = await tx
    .selectFrom('registry_receipts')
    .select(['document_id', 'csv', 'issued_at'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('entry_id', '=', entryId)
    .executeTakeFirst();
  return r
    ? { documentId: r.document_id, csv: formatCsv(r.csv), issuedAt: new Date(r.issued_at).toISOString() }
    : null;
}

async function loadEntry(tx: Tx, ctx: Ctx, id: string) {
  const row = isUuid(id)
    ? await tx
        .selectFrom('registry_entries')
        .selectAll()
        .where('tenant_id', '=', ctx.tenant.id)
        .where('id', '=', id)
        .executeTakeFirst()
    : undefined;
  if (!row) throw new AppError('NOT_FOUND', `Registry entry ${id} not found`);
  return row;
}

/** One entry with its party, attachments (with their SHA-256) and annotations. */
export async function getEntry(tx: Tx, ctx: Ctx, id: string): Promise<EntryView> {
  if (!canReadRegistry(ctx)) throw new AppError('FORBIDDEN', 'You may not consult this registry');
  const r = await loadEntry(tx, ctx, id);
  const party = r.party_id ? await getParty(tx, ctx, r.party_id) : undefined;
  const attachments = await tx
    .selectFrom('registry_attachments as a')
    .innerJoin('documents as d', (j) =>
      j.onRef('d.tenant_id', '=', 'a.tenant_id').onRef('d.id', '=', 'a.document_id'),
    )
    .select([
      'a.position',
      'a.document_id',
      'a.sha256',
      'd.title',
      'd.file_name',
      'd.mime_type',
      'd.size_bytes',
    ])
    .where('a.tenant_id', '=', ctx.tenant.id)
    .where('a.entry_id', '=', r.id)
    .orderBy('a.position')
    .execute();
  const annotations = await tx
    .selectFrom('registry_annotations')
    .select(['id', 'text', 'created_by', 'created_at'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('entry_id', '=', r.id)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return {
    ...toSummary(r),
    sendingBody: r.sending_body,
    recipientUnitId: r.recipient_unit_id,
    recipientPerson: r.recipient_person,
    text: r.text,
    language: r.language,
    createdBy: r.created_by,
    party: party ? { id: party.id, identifier: party.identifier, name: party.name } : null,
    attachments: attachments.map((a) => ({
      position: a.position,
      documentId: a.document_id,
      title: a.title,
      fileName: a.file_name,
      mimeType: a.mime_type,
      size: Number(a.size_bytes),
      sha256: a.sha256,
    })),
    annotations: annotations.map((a) => ({
      id: a.id,
      text: a.text,
      createdBy: a.created_by,
      createdAt: iso(a.created_at),
    })),
    receipt: await findReceipt(tx, ctx, r.id),
    expedients: await listEntryExpedients(tx, ctx, r.id),
  };
}

/** One attachment of an entry, to download (its stored file is checked against its SHA-256). */
export async function getEntryAttachment(
  tx: Tx,
  ctx: Ctx,
  id: string,
  position: number,
): Promise<{ fileName: string; mimeType: string; size: number; sha256: string }> {
  const entry = await getEntry(tx, ctx, id);
  const a = entry.attachments.find((x) => x.position === position);
  if (!a) throw new AppError('DOCUMENT_NOT_FOUND', `Entry ${entry.number} has no attachment ${position}`);
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'registry.attachment_read',
    objectType: 'document',
    objectId: a.documentId,
    details: { number: entry.number, position },
  });
  return { fileName: a.fileName, mimeType: a.mimeType, size: a.size, sha256: a.sha256 };
}

/** A correction or remark linked to an entry; the entry itself never changes. */
export async function annotateEntry(tx: Tx, ctx: Ctx, id: string, note: string): Promise<EntryView> {
  if (!canAnnotateEntry(ctx))
    throw new AppError('FORBIDDEN', 'You may not annotate entries of this registry');
  const r = await loadEntry(tx, ctx, id);
  const body = note.trim();
  if (body.length === 0 || body.length > 4000)
    throw new AppError('VALIDATION_FAILED', 'text must have 1 to 4000 characters');
  const annotationId = newId();
  await tx
    .insertInto('registry_annotations')
    .values({
      tenant_id: ctx.tenant.id,
      id: annotationId,
      entry_id: r.id,
      text: body,
      created_by: ctx.actor.label,
      created_at: ctx.clock.now(),
    })
    .execute();
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'registry.entry_annotate',
    objectType: 'registry_entry',
    objectId: r.id,
    details: { annotationId, number: r.number },
  });
  return getEntry(tx, ctx, r.id);
}
