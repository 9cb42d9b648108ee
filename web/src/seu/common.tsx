import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { SeuApiError } from './api.ts';

let firstPage = true;

/** The page's one <h1> and its document title; after a client-side navigation focus moves to it. */
export function PageTitle({ title, entity }: { title: string; entity: string | null }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = [title, t('seu.title'), entity].filter(Boolean).join(' · ');
  }, [title, entity, t]);
  useEffect(() => {
    if (firstPage) {
      firstPage = false;
      return;
    }
    ref.current?.focus();
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {title}
    </h1>
  );
}

export function Loading() {
  const { t } = useTranslation();
  return (
    <p role="status" className="seu-muted">
      {t('seu.loading')}
    </p>
  );
}

export function ErrorNote({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!error) return null;
  const tooMany = error instanceof SeuApiError && error.status === 429;
  return (
    <div className="seu-alert" role="alert">
      <p>{tooMany ? t('seu.error.tooMany') : t('seu.error.generic')}</p>
    </div>
  );
}

/** A civil date YYYY-MM-DD as dd/mm/yyyy (numbers only: no locale data needed for Aranese). */
export function civilDate(d: string): string {
  const [y, m, day] = d.split('-');
  return `${day}/${m}/${y}`;
}

const madridParts = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Madrid',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** An instant in Europe/Madrid: the date (dd/mm/yyyy) and the time (HH:MM:SS). */
export function madrid(instant: number | string): { date: string; time: string; iso: string } {
  const t = typeof instant === 'number' ? instant : Date.parse(instant);
  const p: Record<string, string> = {};
  for (const x of madridParts.formatToParts(t)) p[x.type] = x.value;
  return {
    date: `${p.day}/${p.month}/${p.year}`,
    time: `${p.hour}:${p.minute}:${p.second}`,
    iso: `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`,
  };
}

/** Only http(s) links entered by the administrator become links. */
export function safeHref(url: string | null): string | null {
  return url && /^https?:\/\//i.test(url) ? url : null;
}
