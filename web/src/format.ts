import type { TFunction } from 'i18next';
import { ApiError } from './api.ts';

/** Intl locales for a UI language (Aranese falls back to Catalan formats where ICU lacks them). */
function locales(lang: string): string[] {
  return lang === 'oc' ? ['oc', 'ca'] : [lang];
}

export function formatDateTime(iso: string | null | undefined, lang: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locales(lang), {
    dateStyle: 'short',
    timeStyle: 'medium',
    timeZone: 'Europe/Madrid',
  }).format(d);
}

export function formatDate(iso: string | null | undefined, lang: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locales(lang), { dateStyle: 'medium', timeZone: 'Europe/Madrid' }).format(d);
}

/** A civil date (YYYY-MM-DD, a day of the calendar, no time zone), with its weekday. */
export function formatCivilDate(date: string, lang: string, style: 'full' | 'medium' = 'full'): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return date;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(locales(lang), { dateStyle: style, timeZone: 'UTC' }).format(d);
}

/** Today's civil date in Europe/Madrid (the seu's official calendar), YYYY-MM-DD. */
export function madridToday(now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Madrid',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
}

/**
 * A wall-clock time in Europe/Madrid (a datetime-local value, YYYY-MM-DDTHH:mm) as an ISO 8601
 * instant with its offset, e.g. 2026-03-02T10:00 → 2026-03-02T10:00:00+01:00.
 */
export function madridLocalToIso(local: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!m) return null;
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  const asUtc = Date.UTC(y, mo - 1, d, h, mi);
  // The offset of Madrid at that moment (first guess, then corrected once around a DST change).
  const offsetAt = (t: number) => {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: 'Europe/Madrid',
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    }).formatToParts(new Date(t));
    const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute')) - t;
  };
  let offset = offsetAt(asUtc);
  offset = offsetAt(asUtc - offset);
  const minutes = Math.round(offset / 60000);
  const sign = minutes >= 0 ? '+' : '-';
  const abs = Math.abs(minutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}:00${sign}${hh}:${mm}`;
}

export function formatNumber(n: number, lang: string): string {
  return new Intl.NumberFormat(locales(lang)).format(n);
}

export function formatBytes(n: number, lang: string): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${new Intl.NumberFormat(locales(lang), { maximumFractionDigits: i === 0 ? 0 : 1 }).format(v)} ${units[i]}`;
}

/** Server details are written in English: mark them so screen readers pronounce them right. */
export type ErrorText = { message: string; lang?: 'en'; detail?: string };

/** Codes whose server detail names what is wrong (a field, a year or place of the calendar). */
const DETAILED = new Set(['VALIDATION_FAILED', 'CALENDAR_INCOMPLETE']);

/**
 * An error in words: the problem `code` translated when the catalogue knows it, else the server's
 * detail. A validation failure or an incomplete calendar keeps the server's detail too, since it names what is wrong.
 */
export function describeError(t: TFunction, err: unknown): ErrorText {
  if (err instanceof ApiError) {
    const known = t(`errors.${err.code}`, { defaultValue: '' });
    if (known)
      return DETAILED.has(err.code) && err.detail
        ? { message: known, detail: err.detail }
        : { message: known };
    if (err.detail) return { message: err.detail, lang: 'en' };
    return { message: t('errors.generic', { status: err.status }) };
  }
  return { message: t('errors.unexpected') };
}

export function errorMessage(t: TFunction, err: unknown): string {
  return describeError(t, err).message;
}
