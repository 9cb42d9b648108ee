/**
 * The deadline engine of Ley 39/2015 (LPACAP) art. 30–33 and the registry time of art. 31.2.b:
 * pure functions over civil dates (`YYYY-MM-DD`, Europe/Madrid) and instants, no database. The
 * holidays come in through a `HolidayCalendar` (one place, or several combined for art. 30.6);
 * Saturdays and Sundays are decided here (art. 30.2). A day whose holidays are not known is never
 * guessed: asking about it raises CALENDAR_INCOMPLETE naming the year and the place.
 */
import { AppError } from '#platform/errors.ts';
import {
  addDays,
  addMonthsClamped,
  type CivilDate,
  daysBetween,
  isWeekend,
  madridDateOf,
  madridStartOfDay,
  weekday,
} from './civil-date.ts';

/** Where a non-business day comes from. `entity`: a day an entity's administrator entered. */
export type HolidayScope = 'national' | 'catalonia' | 'aran' | 'local' | 'entity';

export type Holiday = { date: CivilDate; name: string; scope: HolidayScope; place: string };

/** What a calendar answers for a day whose holidays are not known. */
export type Incomplete = {
  incomplete: true;
  year: number;
  /** The place, e.g. `Vielha e Mijaran (INE 25243)`. */
  place: string;
  ine: string | null;
  layer: 'regional' | 'local';
  reason: string;
};

/** The holidays of one place (or of several, combined): `[]` for an ordinary day. */
export type HolidayCalendar = {
  place: string;
  holidaysOn(date: CivilDate): Holiday[] | Incomplete;
};

export type NonBusinessReason = { name: string; scope: HolidayScope | 'weekend'; place?: string };
export type SkippedDay = { date: CivilDate; reasons: NonBusinessReason[] };

export function isIncomplete(x: Holiday[] | Incomplete): x is Incomplete {
  return !Array.isArray(x);
}

export function calendarIncomplete(i: Incomplete): AppError {
  return new AppError(
    'CALENDAR_INCOMPLETE',
    `The business-day calendar of ${i.place} for ${i.year} is incomplete: ${i.reason}. ` +
      'An administrator must enter the missing days (or declare the year complete) before deadlines can be computed.',
    { year: i.year, place: i.place, ine: i.ine, layer: i.layer },
  );
}

/**
 * Ley 39/2015 art. 30.6: a day that is non-business where the interested party lives or where the
 * body sits is non-business. The result lists the holidays of every place; if any place does not
 * know the day, the day is not known. (Not for registry times: art. 31.2 uses the seat only.)
 */
export function combineCalendars(...calendars: HolidayCalendar[]): HolidayCalendar {
  if (calendars.length === 1) return calendars[0]!;
  return {
    place: calendars.map((c) => c.place).join(' + '),
    holidaysOn(date) {
      const all: Holiday[] = [];
      for (const c of calendars) {
        const h = c.holidaysOn(date);
        if (isIncomplete(h)) return h;
        all.push(...h);
      }
      return all;
    },
  };
}

type DayStatus = { business: true } | { business: false; reasons: NonBusinessReason[] };

/**
 * Ley 39/2015 art. 30.2: Saturdays, Sundays and the declared holidays are non-business. A weekend
 * day needs no holiday data; any other day whose holidays are unknown raises CALENDAR_INCOMPLETE.
 */
export function dayStatus(cal: HolidayCalendar, date: CivilDate): DayStatus {
  const h = cal.holidaysOn(date);
  if (isWeekend(date)) {
    const reasons: NonBusinessReason[] = [
      { name: weekday(date) === 6 ? 'Saturday' : 'Sunday', scope: 'weekend' },
    ];
    if (!isIncomplete(h)) reasons.push(...h.map(toReason));
    return { business: false, reasons };
  }
  if (isIncomplete(h)) throw calendarIncomplete(h);
  return h.length === 0 ? { business: true } : { business: false, reasons: h.map(toReason) };
}

function toReason(h: Holiday): NonBusinessReason {
  return { name: h.name, scope: h.scope, place: h.place };
}

export function isBusinessDay(cal: HolidayCalendar, date: CivilDate): boolean {
  return dayStatus(cal, date).business;
}

/** Days in a row that are all non-business: no calendar has that many, so the data is wrong. */
const MAX_CONSECUTIVE_NON_BUSINESS = 60;

function tooManyHolidays(from: CivilDate): AppError {
  return new AppError(
    'VALIDATION_FAILED',
    `No business day within ${MAX_CONSECUTIVE_NON_BUSINESS} days after ${from}: check the calendar data`,
  );
}

/** Ley 39/2015 art. 30.5: a non-business last day moves to the next business day. */
function moveToBusinessDay(cal: HolidayCalendar, date: CivilDate, skipped: SkippedDay[]): CivilDate {
  let d = date;
  for (let i = 0; i <= MAX_CONSECUTIVE_NON_BUSINESS; i++) {
    const st = dayStatus(cal, d);
    if (st.business) return d;
    skipped.push({ date: d, reasons: st.reasons });
    d = addDays(d, 1);
  }
  throw tooManyHolidays(date);
}

/** The first business day after `date`. */
export function nextBusinessDay(cal: HolidayCalendar, date: CivilDate): CivilDate {
  return moveToBusinessDay(cal, addDays(date, 1), []);
}

export type DayUnit = 'business_days' | 'calendar_days' | 'months' | 'years';
export type DeadlineUnit = DayUnit | 'hours';
export type DeadlineSpec = { amount: number; unit: DeadlineUnit };

export type DayDeadline = {
  /** Day 0: the day of the notification, publication or filing. */
  start: CivilDate;
  amount: number;
  unit: DayUnit;
  /** The last day before art. 30.5 (for business days, the same as `end`). */
  nominalEnd: CivilDate;
  /** The last day: the deadline ends at 24:00 of it (Europe/Madrid). */
  end: CivilDate;
  /** 24:00 Europe/Madrid of `end`, as an instant (00:00 of the next day). */
  endsAt: Date;
  /** The days not counted: non-business days inside a business-day count, or the days art. 30.5 moved over. */
  nonBusinessDaysSkipped: SkippedDay[];
};

const MAX_AMOUNT: Record<DayUnit, number> = {
  business_days: 3660,
  calendar_days: 3660,
  months: 1200,
  years: 100,
};

function assertWholeAmount(amount: number, unit: DayUnit): void {
  if (!Number.isInteger(amount) || amount < 1 || amount > MAX_AMOUNT[unit]) {
    throw new AppError(
      'VALIDATION_FAILED',
      `A deadline in ${unit} is a whole number from 1 to ${MAX_AMOUNT[unit]} (got ${amount})`,
    );
  }
}

/**
 * The last day of a deadline in days, months or years that starts with the notification,
 * publication or filing of `start` (day 0).
 */
export function dayDeadline(
  cal: HolidayCalendar,
  start: CivilDate,
  amount: number,
  unit: DayUnit,
): DayDeadline {
  assertWholeAmount(amount, unit);
  const skipped: SkippedDay[] = [];
  let nominalEnd: CivilDate;
  let end: CivilDate;
  if (unit === 'business_days') {
    // Ley 39/2015 art. 30.2: in business days, Saturdays, Sundays and holidays are left out of the
    // count; art. 30.3: counting starts the day after the notification or publication.
    let d = start;
    let counted = 0;
    let run = 0;
    while (counted < amount) {
      d = addDays(d, 1);
      const st = dayStatus(cal, d);
      if (st.business) {
        counted++;
        run = 0;
      } else {
        skipped.push({ date: d, reasons: st.reasons });
        if (++run > MAX_CONSECUTIVE_NON_BUSINESS) throw tooManyHolidays(d);
      }
    }
    nominalEnd = d;
    end = d;
  } else {
    if (unit === 'calendar_days') {
      // Ley 39/2015 art. 30.2 (when a law says calendar days) and 30.3: every day counts from the day after.
      nominalEnd = addDays(start, amount);
    } else {
      // Ley 39/2015 art. 30.4: months and years count from the day after and end on the same-numbered
      // day as the notification or publication; a month without that day ends on its last day.
      nominalEnd = addMonthsClamped(start, unit === 'months' ? amount : amount * 12);
    }
    // Ley 39/2015 art. 30.5: if the last day is non-business, the deadline ends the next business day.
    end = moveToBusinessDay(cal, nominalEnd, skipped);
  }
  return {
    start,
    amount,
    unit,
    nominalEnd,
    end,
    endsAt: madridStartOfDay(addDays(end, 1)),
    nonBusinessDaysSkipped: skipped,
  };
}

export type HourDeadline = {
  startAt: Date;
  hours: number;
  /** The instant the deadline ends. */
  endAt: Date;
  /** Non-business days whose hours were not counted. */
  nonBusinessDaysSkipped: SkippedDay[];
};

function assertHours(hours: number): void {
  // Ley 39/2015 art. 30.1: deadlines in hours last at most 24 hours; a longer one is stated in days.
  if (!(hours > 0) || hours > 24) {
    throw new AppError(
      'VALIDATION_FAILED',
      `A deadline in hours lasts more than 0 and at most 24 hours (got ${hours}): state a longer one in days (LPACAP art. 30.1)`,
    );
  }
  if (Math.abs(hours * 60 - Math.round(hours * 60)) > 1e-9) {
    throw new AppError('VALIDATION_FAILED', `A deadline in hours is counted to the minute (got ${hours} h)`);
  }
}

/**
 * Ley 39/2015 art. 30.1: every hour of a business day counts (not office hours), hour by hour and
 * minute by minute from the moment of the notification or publication; the hours of non-business
 * days are skipped. Hours are elapsed time, so a daylight-saving day gives 23 or 25 of them.
 */
export function hourDeadline(cal: HolidayCalendar, startAt: Date, hours: number): HourDeadline {
  assertHours(hours);
  let remaining = Math.round(hours * 60) * 60_000;
  let cursor = startAt.getTime();
  const skipped: SkippedDay[] = [];
  for (let run = 0; run <= MAX_CONSECUTIVE_NON_BUSINESS; ) {
    const date = madridDateOf(new Date(cursor));
    const dayEnd = madridStartOfDay(addDays(date, 1)).getTime();
    const st = dayStatus(cal, date);
    if (!st.business) {
      skipped.push({ date, reasons: st.reasons });
      cursor = dayEnd;
      run++;
      continue;
    }
    run = 0;
    const available = dayEnd - cursor;
    if (remaining <= available) {
      return { startAt, hours, endAt: new Date(cursor + remaining), nonBusinessDaysSkipped: skipped };
    }
    remaining -= available;
    cursor = dayEnd;
  }
  throw tooManyHolidays(madridDateOf(startAt));
}

/**
 * Ley 39/2015 art. 32.1: an extension may not exceed half of the original deadline. In the same
 * unit, rounded down (half of 15 days is at most 7 days; of 5 hours, 2 h 30 min); for a deadline in
 * months or years, an extension may also be stated in calendar days, at most half of the calendar
 * days the original actually spans.
 */
export function maxExtension(spec: DeadlineSpec): DeadlineSpec {
  if (spec.unit === 'hours') return { amount: Math.floor((spec.amount * 60) / 2) / 60, unit: 'hours' };
  return { amount: Math.floor(spec.amount / 2), unit: spec.unit };
}

export type Extension = { amount: number; unit?: DayUnit; decidedOn: CivilDate };
export type ExtendedDeadline = DayDeadline & { original: DayDeadline };

/**
 * Ley 39/2015 art. 32: extends a deadline in days, months or years. The extension must be decided
 * before the original expires (32.3: a deadline that has ended cannot be extended) and may not
 * exceed half of it (32.1). It runs on from the original's last day (day 0 of the extension).
 */
export function extendDeadline(
  cal: HolidayCalendar,
  original: DayDeadline,
  ext: Extension,
): ExtendedDeadline {
  if (daysBetween(original.end, ext.decidedOn) > 0) {
    throw new AppError(
      'VALIDATION_FAILED',
      `The deadline ended on ${original.end}: an extension decided on ${ext.decidedOn} is too late (LPACAP art. 32.3)`,
      { rule: 'art. 32.3' },
    );
  }
  const unit = ext.unit ?? original.unit;
  let limit: number;
  if (unit === original.unit) {
    limit = maxExtension(original).amount;
  } else if (unit === 'calendar_days' && (original.unit === 'months' || original.unit === 'years')) {
    limit = Math.floor(daysBetween(original.start, original.nominalEnd) / 2);
  } else {
    throw new AppError(
      'VALIDATION_FAILED',
      `A deadline in ${original.unit} is extended in the same unit` +
        (original.unit === 'months' || original.unit === 'years' ? ' or in calendar days' : ''),
      { rule: 'art. 32.1' },
    );
  }
  if (ext.amount > limit) {
    throw new AppError(
      'VALIDATION_FAILED',
      `An extension of ${ext.amount} ${unit} exceeds half of the original ${original.amount} ${original.unit} ` +
        `(at most ${limit}; LPACAP art. 32.1)`,
      { rule: 'art. 32.1', max: limit },
    );
  }
  return { ...dayDeadline(cal, original.end, ext.amount, unit), original };
}

export type ExtendedHourDeadline = HourDeadline & { original: HourDeadline };

/** Ley 39/2015 art. 32.1 and 32.3 for a deadline in hours: at most half, decided before it ends. */
export function extendHourDeadline(
  cal: HolidayCalendar,
  original: HourDeadline,
  ext: { hours: number; decidedAt: Date },
): ExtendedHourDeadline {
  if (ext.decidedAt.getTime() > original.endAt.getTime()) {
    throw new AppError(
      'VALIDATION_FAILED',
      `The deadline ended at ${original.endAt.toISOString()}: an extension decided later is too late (LPACAP art. 32.3)`,
      { rule: 'art. 32.3' },
    );
  }
  const limit = maxExtension({ amount: original.hours, unit: 'hours' }).amount;
  if (ext.hours > limit) {
    throw new AppError(
      'VALIDATION_FAILED',
      `An extension of ${ext.hours} hours exceeds half of the original ${original.hours} hours (LPACAP art. 32.1)`,
      { rule: 'art. 32.1', max: limit },
    );
  }
  return { ...hourDeadline(cal, original.endAt, ext.hours), original };
}

/** What a deadline is for, as art. 33.1 distinguishes it. */
export type DeadlineSubject = 'procedure' | 'filing_request' | 'appeal';

/**
 * Ley 39/2015 art. 33.1: under urgent processing the procedure's deadlines are halved, except those
 * for filing requests and appeals. (choose) The law does not say how to halve an odd amount: days
 * and hours round up (to the day, to the minute), so the reduced deadline is never shorter than half;
 * years become months (half of 1 year = 6 months); an odd number of months becomes calendar days,
 * half (rounded up) of the days the deadline actually spans from `start`, which is then required.
 */
export function urgentDeadline(
  spec: DeadlineSpec,
  subject: DeadlineSubject,
  start?: CivilDate,
): DeadlineSpec {
  if (subject !== 'procedure') return spec;
  switch (spec.unit) {
    case 'business_days':
    case 'calendar_days':
      return { amount: Math.ceil(spec.amount / 2), unit: spec.unit };
    case 'hours':
      return { amount: Math.ceil((spec.amount * 60) / 2) / 60, unit: 'hours' };
    case 'years':
      return { amount: spec.amount * 6, unit: 'months' };
    case 'months': {
      if (spec.amount % 2 === 0) return { amount: spec.amount / 2, unit: 'months' };
      if (!start) {
        throw new AppError(
          'VALIDATION_FAILED',
          `Half of ${spec.amount} months is not a whole number of months: give the start date to halve it in calendar days (LPACAP art. 33.1)`,
        );
      }
      const span = daysBetween(start, addMonthsClamped(start, spec.amount));
      return { amount: Math.ceil(span / 2), unit: 'calendar_days' };
    }
  }
}

/**
 * Ley 39/2015 art. 31.2.b: a filing on a non-business day counts as made at the first hour
 * (00:00 Europe/Madrid) of the next business day; on a business day, at the moment it was made.
 * Only the calendar of the seat applies (art. 31.2 leaves out the residence rule of 30.6).
 */
export function effectiveRegistryTime(presentedAt: Date, calendar: HolidayCalendar): Date {
  const date = madridDateOf(presentedAt);
  if (isBusinessDay(calendar, date)) return presentedAt;
  return madridStartOfDay(nextBusinessDay(calendar, date));
}
