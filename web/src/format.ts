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

/**
 * An error in words: the problem `code` translated when the catalogue knows it, else the server's
 * detail. A validation failure keeps the server's detail too, since it names the field.
 */
export function describeError(t: TFunction, err: unknown): ErrorText {
  if (err instanceof ApiError) {
    const known = t(`errors.${err.code}`, { defaultValue: '' });
    if (known)
      return err.code === 'VALIDATION_FAILED' && err.detail
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
