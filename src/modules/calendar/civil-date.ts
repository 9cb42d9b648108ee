import { AppError } from '#platform/errors.ts';

/**
 * Civil dates (`YYYY-MM-DD`, a day of the Europe/Madrid calendar, no time zone of their own) and
 * the conversion between them and instants. Civil arithmetic runs on UTC midnights, where no
 * daylight-saving change can shift a day; only `madridDateOf` and `madridStartOfDay` touch the zone.
 */
export type CivilDate = string;

export const TIME_ZONE = 'Europe/Madrid';
const DAY_MS = 86_400_000;
const CIVIL = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written `YYYY-MM-DD` (2026-02-29 is not). */
export function isCivilDate(s: string): boolean {
  const m = CIVIL.exec(s);
  if (!m) return false;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(t).toISOString().slice(0, 10) === s;
}

export function assertCivilDate(s: string, what = 'date'): CivilDate {
  if (!isCivilDate(s)) throw new AppError('VALIDATION_FAILED', `The ${what} "${s}" is not a date YYYY-MM-DD`);
  return s;
}

function utcMidnight(d: CivilDate): number {
  const m = CIVIL.exec(d);
  if (!m) throw new AppError('VALIDATION_FAILED', `"${d}" is not a date YYYY-MM-DD`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

function fromUtc(t: number): CivilDate {
  return new Date(t).toISOString().slice(0, 10);
}

export function yearOf(d: CivilDate): number {
  return Number(d.slice(0, 4));
}

export function addDays(d: CivilDate, n: number): CivilDate {
  return fromUtc(utcMidnight(d) + n * DAY_MS);
}

/** Days from a to b (positive when b is later). */
export function daysBetween(a: CivilDate, b: CivilDate): number {
  return Math.round((utcMidnight(b) - utcMidnight(a)) / DAY_MS);
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(d: CivilDate): number {
  return new Date(utcMidnight(d)).getUTCDay();
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
export function weekdayName(d: CivilDate): (typeof WEEKDAYS)[number] {
  return WEEKDAYS[weekday(d)]!;
}

export function isWeekend(d: CivilDate): boolean {
  const w = weekday(d);
  return w === 0 || w === 6;
}

/**
 * The same-numbered day `months` later; when that month is shorter, its last day
 * (Ley 39/2015 art. 30.4: 2026-01-31 + 1 month = 2026-02-28).
 */
export function addMonthsClamped(d: CivilDate, months: number): CivilDate {
  const m = CIVIL.exec(d);
  if (!m) throw new AppError('VALIDATION_FAILED', `"${d}" is not a date YYYY-MM-DD`);
  const total = Number(m[1]) * 12 + (Number(m[2]) - 1) + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return fromUtc(Date.UTC(year, month, Math.min(Number(m[3]), lastDay)));
}

/** Every date of a year, in order. */
export function datesOfYear(year: number): CivilDate[] {
  const out: CivilDate[] = [];
  for (let t = Date.UTC(year, 0, 1); new Date(t).getUTCFullYear() === year; t += DAY_MS) out.push(fromUtc(t));
  return out;
}

const partsFormat = new Intl.DateTimeFormat('en-US', {
  timeZone: TIME_ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
});

function intlParts(t: number): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const p: Record<string, number> = {};
  for (const x of partsFormat.formatToParts(new Date(t)))
    if (x.type !== 'literal') p[x.type] = Number(x.value);
  return { y: p.year!, mo: p.month!, d: p.day!, h: p.hour!, mi: p.minute!, s: p.second! };
}

/** Europe/Madrid's offset from UTC at an instant, from the time zone database (Intl). */
function intlOffsetAt(t: number): number {
  const p = intlParts(t);
  const wall = Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s);
  return wall - (t - (((t % 1000) + 1000) % 1000));
}

/**
 * Offsets by UTC hour. Asking Intl costs some 30 µs a call and a registry entry asks a dozen
 * times; Madrid's offset changes on the hour (01:00 UTC), so an hour whose first and last
 * millisecond have the same offset has it throughout (an hour where they differ is not kept).
 */
const HOUR = 3_600_000;
const offsetsByHour = new Map<number, number>();

/** Europe/Madrid's offset from UTC at an instant, in milliseconds (+1 h in winter, +2 h in summer). */
function offsetAt(t: number): number {
  const hour = Math.floor(t / HOUR);
  const known = offsetsByHour.get(hour);
  if (known !== undefined) return known;
  const first = intlOffsetAt(hour * HOUR);
  if (first !== intlOffsetAt(hour * HOUR + HOUR - 1)) return intlOffsetAt(t);
  if (offsetsByHour.size >= 4096) offsetsByHour.clear();
  offsetsByHour.set(hour, first);
  return first;
}

function madridParts(t: number): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const w = new Date(t + offsetAt(t));
  return {
    y: w.getUTCFullYear(),
    mo: w.getUTCMonth() + 1,
    d: w.getUTCDate(),
    h: w.getUTCHours(),
    mi: w.getUTCMinutes(),
    s: w.getUTCSeconds(),
  };
}

/** The Europe/Madrid civil date of an instant. */
export function madridDateOf(instant: Date): CivilDate {
  const p = madridParts(instant.getTime());
  return `${String(p.y).padStart(4, '0')}-${String(p.mo).padStart(2, '0')}-${String(p.d).padStart(2, '0')}`;
}

/**
 * 00:00 Europe/Madrid of a civil date, as an instant (also "24:00 of the day before"). Midnight is
 * never inside a daylight-saving jump in Spain (they happen at 02:00 and 03:00).
 */
export function madridStartOfDay(d: CivilDate): Date {
  const u = utcMidnight(d);
  let t = u - offsetAt(u);
  t = u - offsetAt(t);
  return new Date(t);
}

/** An instant written with its Europe/Madrid offset, e.g. `2026-04-07T00:00:00+02:00`. */
export function formatMadrid(instant: Date): string {
  const t = instant.getTime();
  const p = madridParts(t);
  const off = Math.round(offsetAt(t) / 60_000);
  const sign = off < 0 ? '-' : '+';
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${madridDateOf(instant)}T${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}` +
    `${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`
  );
}
