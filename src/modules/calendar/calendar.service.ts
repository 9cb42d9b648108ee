import type { Ctx } from '#platform/context.ts';
import { type Database, type Tx, txCacheVersion } from '#platform/db/database.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { loadMunicipalities, type Municipality } from '#modules/tenancy/province.ts';
import { findTenantById, type Tenant } from '#modules/tenancy/tenancy.repository.ts';
import type { PlatformCtx } from '#modules/tenancy/tenancy.service.ts';
import {
  entityLocalLayer,
  type PlaceData,
  placeCalendar,
  placeLabel,
  type Region,
  type RegionalScope,
  regionOf,
  type YearView,
  yearView,
} from './calendar.model.ts';
import { canEditEntityCalendar, canEditPlatformCalendar, canReadCalendar } from './calendar.policy.ts';
import {
  applySeed,
  findLocalDay,
  findRegionalDay,
  insertEntityDay,
  listEntityDays,
  listEntityYears,
  listLocalDays,
  listLocalYears,
  listRegionalDays,
  listRegionalYears,
  seedApplied,
  upsertEntityYear,
  upsertLocalDay,
  upsertLocalYear,
  upsertRegionalDay,
  upsertRegionalYear,
  withdrawLocalDay,
  withdrawRegionalDay,
} from './calendar.repository.ts';
import { readCalendarSeed } from './calendar.seed.ts';
import { assertCivilDate, type CivilDate, formatMadrid, weekdayName, yearOf } from './civil-date.ts';
import {
  calendarIncomplete,
  combineCalendars,
  type DayUnit,
  dayDeadline,
  effectiveRegistryTime,
  type HolidayCalendar,
  type SkippedDay,
} from './deadlines.ts';

// ---- the shipped data, loaded on first use ----

/**
 * Loads the calendar files of data/seed into the platform tables if this version of them has not
 * been loaded yet (one indexed lookup otherwise). Not done by the migration, because a restore needs
 * an empty migrated database; done on first use so every process, and every upgrade that ships new
 * data, finds it. Only missing rows are added: operator corrections are kept.
 */
export async function ensureCalendarSeeded(tx: Tx, now: Date): Promise<{ loaded: boolean }> {
  const seed = readCalendarSeed();
  if (await seedApplied(tx, seed.sha256)) return { loaded: false };
  await applySeed(tx, seed, now);
  return { loaded: true };
}

const seededDatabases = new WeakSet<Database>();

/** Seeds once per open database, in its own platform transaction (so a failing request does not undo it). */
export async function ensureCalendarSeededOnce(db: Database, now: Date): Promise<void> {
  if (seededDatabases.has(db)) return;
  await db.platform((tx) => ensureCalendarSeeded(tx, now));
  seededDatabases.add(db);
}

let municipalityIndex: Map<string, Municipality> | undefined;
function municipality(ine: string): Municipality | undefined {
  municipalityIndex ??= new Map(loadMunicipalities().map((m) => [m.ine, m]));
  return municipalityIndex.get(ine);
}

// ---- places ----

async function regional(tx: Tx) {
  return { regionalDays: await listRegionalDays(tx), regionalYears: await listRegionalYears(tx) };
}

/** A municipality as the shared data knows it (for the residence of an interested party, art. 30.6). */
export async function municipalityPlace(tx: Tx, ine: string, now: Date): Promise<PlaceData> {
  await ensureCalendarSeeded(tx, now);
  const m = municipality(ine);
  return {
    place: placeLabel(m?.name ?? null, ine),
    ine,
    region: regionOf(ine, m?.comarca ?? null),
    ...(await regional(tx)),
    localDays: (await listLocalDays(tx, ine)).map((d) => ({ ...d, scope: 'local' as const })),
    localYears: await listLocalYears(tx, ine),
  };
}

type EntityPlace = { tenant: Tenant; data: PlaceData };

/**
 * The seat of an entity: its municipality's data (an EMD: its parent municipality's) with the
 * entity's own days and corrections, and the Val d'Aran substitution for Aran entities.
 */
async function entityPlace(tx: Tx, tenantId: string, now: Date): Promise<EntityPlace> {
  await ensureCalendarSeeded(tx, now);
  const tenant = await findTenantById(tx, tenantId);
  if (!tenant) throw new AppError('ENTITY_NOT_FOUND', 'Entity not found');
  const isEmd = tenant.kind === 'emd';
  const parent = isEmd && tenant.parentId ? await findTenantById(tx, tenant.parentId) : undefined;
  const baseIne = isEmd ? (parent?.ine ?? null) : tenant.ine;
  const m = baseIne ? municipality(baseIne) : undefined;
  const comarca = tenant.comarca ?? parent?.comarca ?? m?.comarca ?? null;
  const rows = await listEntityDays(tx, tenant.id);
  const local = entityLocalLayer({
    isEmd,
    base: baseIne
      ? { days: await listLocalDays(tx, baseIne), years: await listLocalYears(tx, baseIne) }
      : { days: [], years: [] },
    rows: rows.map((r) => ({
      date: r.date,
      action: r.action,
      name: r.name,
      createdAt: r.createdAt.getTime(),
    })),
    declaredYears: await listEntityYears(tx, tenant.id),
  });
  const place =
    isEmd && parent
      ? `${tenant.name} (EMD, ${placeLabel(parent.name, baseIne)})`
      : placeLabel(tenant.name, baseIne);
  return {
    tenant,
    data: { place, ine: baseIne, region: regionOf(baseIne, comarca), ...(await regional(tx)), ...local },
  };
}

/**
 * Seat calendars this process has built, by entity, with the version of the calendar data they were
 * built from (migration 0024: triggers renew it on every change, in any process). Bounded: cleared
 * when it grows past MAX_CACHED_CALENDARS entities.
 */
const seatCalendars = new Map<string, { version: string; calendar: HolidayCalendar }>();
const MAX_CACHED_CALENDARS = 1000;

/**
 * The calendar of an entity's seat (for the registry: art. 31.2 uses only this one). Built from the
 * database unless the calendar data has not changed since this process last built it: then one
 * indexed read instead of six (the registry asks for every entry).
 */
export async function entityHolidayCalendar(tx: Tx, tenantId: string, now: Date): Promise<HolidayCalendar> {
  // Read before the data: a calendar built from data newer than its version is only rebuilt sooner.
  // A request's transaction has it already, read with its entity (txCacheVersion).
  const known = txCacheVersion(tx, 'calendar');
  const v =
    known === undefined
      ? await tx.selectFrom('calendar_version').select('version').executeTakeFirst()
      : known === null
        ? undefined
        : { version: known };
  const cached = seatCalendars.get(tenantId);
  if (v && cached?.version === v.version) return cached.calendar;
  const calendar = placeCalendar((await entityPlace(tx, tenantId, now)).data);
  if (v) {
    if (seatCalendars.size >= MAX_CACHED_CALENDARS) seatCalendars.clear();
    seatCalendars.set(tenantId, { version: v.version, calendar });
  }
  return calendar;
}

/**
 * Ley 39/2015 art. 31.2.b for an entity's registry: a filing presented on a non-business day of the
 * seat counts from 00:00 Europe/Madrid of its next business day. Raises CALENDAR_INCOMPLETE when the
 * seat's calendar does not know the days involved.
 */
export async function effectiveRegistryTimeFor(
  tx: Tx,
  tenantId: string,
  presentedAt: Date,
  now: Date,
): Promise<Date> {
  return effectiveRegistryTime(presentedAt, await entityHolidayCalendar(tx, tenantId, now));
}

/** An INE code (5 digits) or the DIR3 of an ajuntament (`L01` + INE code + control digit). */
export function residenceIne(ref: string): string {
  if (/^\d{5}$/.test(ref)) return ref;
  if (/^L01\d{6}$/.test(ref)) {
    const ine = ref.slice(3, 8);
    const m = municipality(ine);
    if (m && m.dir3 !== ref) {
      throw new AppError(
        'VALIDATION_FAILED',
        `${ref} is not the DIR3 of a municipality (${m.name} is ${m.dir3})`,
      );
    }
    return ine;
  }
  throw new AppError(
    'VALIDATION_FAILED',
    `residence must be the INE code (5 digits) or the DIR3 (L01 + 6 digits) of a municipality, got "${ref}"`,
  );
}

// ---- reading ----

function assertYear(year: number): void {
  if (!Number.isInteger(year) || year < 1900 || year > 2999) {
    throw new AppError('VALIDATION_FAILED', `Year ${year} is out of range (1900–2999)`);
  }
}

export type CalendarYearResponse = YearView & {
  entity: { dir3: string; name: string };
  region: Region | null;
  weekendsAreNonBusiness: true;
  corrections: {
    date: CivilDate;
    action: 'add' | 'remove';
    name: string | null;
    reason: string;
    by: string;
    at: string;
  }[];
  declaration: { complete: boolean; reason: string; by: string; at: string } | null;
};

/**
 * The year's non-business days of the entity. Saturdays and Sundays are always non-business (art. 30.2)
 * and are not listed. An incomplete year is CALENDAR_INCOMPLETE unless `includeIncomplete` asks for
 * what is known (the calendar page, so that an administrator can complete it).
 */
export async function getCalendarYear(
  tx: Tx,
  ctx: Ctx,
  year: number,
  opts: { includeIncomplete?: boolean } = {},
): Promise<CalendarYearResponse> {
  if (!canReadCalendar(ctx)) throw new AppError('FORBIDDEN', 'Not allowed to read the calendar');
  assertYear(year);
  const { data } = await entityPlace(tx, ctx.tenant.id, ctx.clock.now());
  const view = yearView(data, year);
  if (view.missing && !opts.includeIncomplete) throw calendarIncomplete(view.missing);
  const corrections = (await listEntityDays(tx, ctx.tenant.id))
    .filter((r) => yearOf(r.date) === year)
    .map((r) => ({
      date: r.date,
      action: r.action,
      name: r.name,
      reason: r.reason,
      by: r.actorLabel,
      at: r.createdAt.toISOString(),
    }));
  const declared = (await listEntityYears(tx, ctx.tenant.id)).find((y) => y.year === year);
  return {
    ...view,
    entity: { dir3: ctx.tenant.dir3, name: ctx.tenant.name },
    region: data.region,
    weekendsAreNonBusiness: true,
    corrections,
    declaration: declared
      ? {
          complete: declared.complete,
          reason: declared.reason,
          by: declared.actorLabel,
          at: declared.updatedAt.toISOString(),
        }
      : null,
  };
}

export type DeadlineQuery = { start: string; amount: number; unit: DayUnit; residence?: string };

export type DeadlineResponse = {
  start: CivilDate;
  amount: number;
  unit: DayUnit;
  nominalEnd: CivilDate;
  end: CivilDate;
  endsAt: string;
  nonBusinessDaysSkipped: (SkippedDay & { weekday: string })[];
  places: string[];
};

/**
 * A deadline of the entity (Ley 39/2015 art. 30): `start` is day 0 (the day of the notification,
 * publication or filing), counting starts the next day, and it ends at 24:00 of `end`. With
 * `residence`, the interested party's municipality counts too (art. 30.6).
 */
export async function computeDeadline(tx: Tx, ctx: Ctx, q: DeadlineQuery): Promise<DeadlineResponse> {
  if (!canReadCalendar(ctx)) throw new AppError('FORBIDDEN', 'Not allowed to read the calendar');
  const start = assertCivilDate(q.start, 'start');
  const now = ctx.clock.now();
  const seat = await entityPlace(tx, ctx.tenant.id, now);
  const places = [seat.data];
  if (q.residence) {
    const ine = residenceIne(q.residence);
    // The entity's own municipality: its calendar (with the entity's corrections) already applies.
    if (ine !== seat.tenant.ine) places.push(await municipalityPlace(tx, ine, now));
  }
  const cal = combineCalendars(...places.map(placeCalendar));
  const d = dayDeadline(cal, start, q.amount, q.unit);
  return {
    start: d.start,
    amount: d.amount,
    unit: d.unit,
    nominalEnd: d.nominalEnd,
    end: d.end,
    endsAt: formatMadrid(d.endsAt),
    nonBusinessDaysSkipped: d.nonBusinessDaysSkipped.map((s) => ({ ...s, weekday: weekdayName(s.date) })),
    places: places.map((p) => p.place),
  };
}

// ---- an entity administrator's corrections ----

function requireAdmin(ctx: Ctx): void {
  if (!canEditEntityCalendar(ctx)) {
    throw new AppError('FORBIDDEN', 'Only an administrator of the entity may change its calendar');
  }
}

function requiredText(value: string, what: string): string {
  const v = value.trim();
  if (!v) throw new AppError('VALIDATION_FAILED', `The ${what} is required`);
  return v;
}

async function holidaysOf(tx: Tx, ctx: Ctx, date: CivilDate) {
  const { data } = await entityPlace(tx, ctx.tenant.id, ctx.clock.now());
  return yearView(data, yearOf(date)).days.find((d) => d.date === date)?.holidays ?? [];
}

export type EntityDayView = {
  date: CivilDate;
  action: 'add' | 'remove';
  name: string | null;
  reason: string;
};

/** Adds a local non-business day of the entity (an EMD's own day, or a day missing from the data). Audited. */
export async function addEntityDay(
  tx: Tx,
  ctx: Ctx,
  input: { date: string; name: string; reason: string },
): Promise<EntityDayView> {
  requireAdmin(ctx);
  const date = assertCivilDate(input.date);
  const name = requiredText(input.name, 'name');
  const reason = requiredText(input.reason, 'reason');
  const existing = await holidaysOf(tx, ctx, date);
  if (existing.length > 0) {
    throw new AppError(
      'CONFLICT',
      `${date} is already non-business: ${existing.map((h) => h.name).join(', ')}`,
      {
        holidays: existing,
      },
    );
  }
  await insertEntityDay(tx, {
    tenantId: ctx.tenant.id,
    id: newId(),
    date,
    action: 'add',
    name,
    reason,
    actorId: ctx.actor.id,
    actorLabel: ctx.actor.label,
    createdAt: ctx.clock.now(),
  });
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'calendar.day.add',
    objectType: 'calendar_day',
    objectId: date,
    details: { date, name, reason },
  });
  return { date, action: 'add', name, reason };
}

/**
 * Takes a local day out of the entity's calendar (one of its municipality's, or one it added), with
 * a reason. National, Catalan and Aran days are the operator's: 409. Audited.
 */
export async function removeEntityDay(
  tx: Tx,
  ctx: Ctx,
  input: { date: string; reason: string },
): Promise<EntityDayView> {
  requireAdmin(ctx);
  const date = assertCivilDate(input.date);
  const reason = requiredText(input.reason, 'reason');
  const holidays = await holidaysOf(tx, ctx, date);
  const local = holidays.filter((h) => h.scope === 'local' || h.scope === 'entity');
  if (local.length === 0) {
    if (holidays.length > 0) {
      throw new AppError(
        'CONFLICT',
        `${date} is a ${holidays[0]!.scope} holiday (${holidays[0]!.name}): the platform operator corrects those`,
      );
    }
    throw new AppError('NOT_FOUND', `${date} is not a local day of this entity`);
  }
  await insertEntityDay(tx, {
    tenantId: ctx.tenant.id,
    id: newId(),
    date,
    action: 'remove',
    name: null,
    reason,
    actorId: ctx.actor.id,
    actorLabel: ctx.actor.label,
    createdAt: ctx.clock.now(),
  });
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'calendar.day.remove',
    objectType: 'calendar_day',
    objectId: date,
    details: { date, removed: local.map((h) => h.name), reason },
  });
  return { date, action: 'remove', name: local[0]!.name, reason };
}

/**
 * The administrator declares that the local days entered for a year are all of them (or withdraws
 * that declaration). A year declared complete is no longer CALENDAR_INCOMPLETE for its local days.
 */
export async function declareYear(
  tx: Tx,
  ctx: Ctx,
  input: { year: number; complete: boolean; reason: string },
): Promise<{ year: number; complete: boolean; reason: string }> {
  requireAdmin(ctx);
  assertYear(input.year);
  const reason = requiredText(input.reason, 'reason');
  await upsertEntityYear(tx, {
    tenantId: ctx.tenant.id,
    year: input.year,
    complete: input.complete,
    reason,
    actorId: ctx.actor.id,
    actorLabel: ctx.actor.label,
    now: ctx.clock.now(),
  });
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'calendar.year.declare',
    objectType: 'calendar_year',
    objectId: String(input.year),
    details: { year: input.year, localComplete: input.complete, reason },
  });
  return { year: input.year, complete: input.complete, reason };
}

// ---- the operator's shared data (platform transaction, audited on the platform chain) ----

function requireOperator(ctx: PlatformCtx): void {
  if (!canEditPlatformCalendar(ctx.actor)) {
    throw new AppError('FORBIDDEN', 'Only a platform operator may change the shared calendar');
  }
}

async function platformAudit(
  tx: Tx,
  ctx: PlatformCtx,
  action: string,
  objectId: string,
  details: Record<string, unknown>,
) {
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    ...ctx,
    action,
    objectType: 'calendar',
    objectId,
    details,
  });
}

/**
 * Adds or corrects a national, Catalan or Val d'Aran day. `nonBusiness: false` is for `aran` only:
 * the Catalan holiday of that date that Aran replaces with 17 June (Festa d'Aran).
 */
export async function setRegionalDay(
  tx: Tx,
  ctx: PlatformCtx,
  input: { date: string; scope: RegionalScope; name: string; nonBusiness?: boolean; reason: string },
): Promise<void> {
  requireOperator(ctx);
  await ensureCalendarSeeded(tx, ctx.clock.now());
  const date = assertCivilDate(input.date);
  const name = requiredText(input.name, 'name');
  const reason = requiredText(input.reason, 'reason');
  const nonBusiness = input.nonBusiness ?? true;
  if (!nonBusiness) {
    if (input.scope !== 'aran') {
      throw new AppError(
        'VALIDATION_FAILED',
        'Only a Val d’Aran row can take a Catalan holiday out (the substitution)',
      );
    }
    const replaced =
      (await findRegionalDay(tx, date, 'catalonia')) ?? (await findRegionalDay(tx, date, 'national'));
    if (!replaced || replaced.withdrawn) {
      throw new AppError(
        'VALIDATION_FAILED',
        `${date} is not a Catalan holiday that the Val d'Aran could replace`,
      );
    }
  }
  await upsertRegionalDay(
    tx,
    { date, scope: input.scope, name, nonBusiness, source: `operator:${ctx.actor.label}` },
    ctx.clock.now(),
  );
  await platformAudit(tx, ctx, 'calendar.regional.set', `${input.scope}:${date}`, {
    date,
    scope: input.scope,
    name,
    nonBusiness,
    reason,
  });
}

export async function withdrawRegional(
  tx: Tx,
  ctx: PlatformCtx,
  input: { date: string; scope: RegionalScope; reason: string },
): Promise<void> {
  requireOperator(ctx);
  const date = assertCivilDate(input.date);
  const reason = requiredText(input.reason, 'reason');
  await ensureCalendarSeeded(tx, ctx.clock.now());
  if (!(await withdrawRegionalDay(tx, date, input.scope, reason, ctx.clock.now()))) {
    throw new AppError('NOT_FOUND', `No ${input.scope} day on ${date}`);
  }
  await platformAudit(tx, ctx, 'calendar.regional.withdraw', `${input.scope}:${date}`, {
    date,
    scope: input.scope,
    reason,
  });
}

/** Marks a year of the Catalan calendar, or of the Val d'Aran substitution, complete (or not). */
export async function setRegionalYear(
  tx: Tx,
  ctx: PlatformCtx,
  input: { year: number; scope: Region; complete: boolean; reason: string },
): Promise<void> {
  requireOperator(ctx);
  assertYear(input.year);
  const reason = requiredText(input.reason, 'reason');
  await ensureCalendarSeeded(tx, ctx.clock.now());
  await upsertRegionalYear(
    tx,
    {
      year: input.year,
      scope: input.scope,
      complete: input.complete,
      note: reason,
      source: `operator:${ctx.actor.label}`,
    },
    ctx.clock.now(),
  );
  await platformAudit(tx, ctx, 'calendar.regional.year', `${input.scope}:${input.year}`, {
    ...input,
    reason,
  });
}

function assertIne(ine: string): string {
  if (!/^\d{5}$/.test(ine))
    throw new AppError('VALIDATION_FAILED', `"${ine}" is not an INE municipality code (5 digits)`);
  return ine;
}

/** Adds or corrects a municipality's local day in the shared data (it then counts for its residents everywhere). */
export async function setLocalDay(
  tx: Tx,
  ctx: PlatformCtx,
  input: { ine: string; date: string; name: string; reason: string },
): Promise<void> {
  requireOperator(ctx);
  const ine = assertIne(input.ine);
  const date = assertCivilDate(input.date);
  const name = requiredText(input.name, 'name');
  const reason = requiredText(input.reason, 'reason');
  await ensureCalendarSeeded(tx, ctx.clock.now());
  await upsertLocalDay(tx, { ine, date, name, source: `operator:${ctx.actor.label}` }, ctx.clock.now());
  await platformAudit(tx, ctx, 'calendar.local.set', `${ine}:${date}`, { ine, date, name, reason });
}

export async function withdrawLocal(
  tx: Tx,
  ctx: PlatformCtx,
  input: { ine: string; date: string; reason: string },
): Promise<void> {
  requireOperator(ctx);
  const ine = assertIne(input.ine);
  const date = assertCivilDate(input.date);
  const reason = requiredText(input.reason, 'reason');
  await ensureCalendarSeeded(tx, ctx.clock.now());
  const existing = await findLocalDay(tx, ine, date);
  if (!existing || existing.withdrawn || !(await withdrawLocalDay(tx, ine, date, reason, ctx.clock.now()))) {
    throw new AppError('NOT_FOUND', `No local day of ${ine} on ${date}`);
  }
  await platformAudit(tx, ctx, 'calendar.local.withdraw', `${ine}:${date}`, {
    ine,
    date,
    name: existing.name,
    reason,
  });
}

/** Marks a municipality's local days of a year complete (or not) in the shared data. */
export async function setLocalYear(
  tx: Tx,
  ctx: PlatformCtx,
  input: { ine: string; year: number; complete: boolean; reason: string },
): Promise<void> {
  requireOperator(ctx);
  const ine = assertIne(input.ine);
  assertYear(input.year);
  const reason = requiredText(input.reason, 'reason');
  await ensureCalendarSeeded(tx, ctx.clock.now());
  await upsertLocalYear(
    tx,
    { ine, year: input.year, complete: input.complete, note: reason, source: `operator:${ctx.actor.label}` },
    ctx.clock.now(),
  );
  await platformAudit(tx, ctx, 'calendar.local.year', `${ine}:${input.year}`, {
    ine,
    year: input.year,
    complete: input.complete,
    reason,
  });
}

/** A municipality's year in the shared data (the operator's view, e.g. `lligall calendar show`). */
export async function municipalityYear(tx: Tx, ine: string, year: number, now: Date): Promise<YearView> {
  assertYear(year);
  return yearView(await municipalityPlace(tx, assertIne(ine), now), year);
}
