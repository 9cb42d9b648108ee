import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type OfficialTime, seuGet } from './api.ts';
import { madrid } from './common.tsx';

/**
 * The official date and time of the seu: the SERVER's clock (LRJSP art. 38; RD 203/2021 art. 11).
 * The browser's clock only measures the seconds elapsed since the server answered: the offset
 * between the two is taken once, so a browser set to the wrong day still shows the server's time.
 */
export function OfficialClock({ slug }: { slug: string }) {
  const { t } = useTranslation();
  const sync = useQuery({
    queryKey: ['seu-time', slug],
    queryFn: async () => {
      const sent = Date.now();
      const time = await seuGet<OfficialTime>(`/seu/${encodeURIComponent(slug)}/time`);
      const received = Date.now();
      return { offset: time.epochMs - (sent + received) / 2 };
    },
    staleTime: 10 * 60_000,
    refetchInterval: 10 * 60_000,
  });
  const [tick, setTick] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setTick(Date.now()), 1000);
    return () => clearInterval(id);
  }, []);
  if (!sync.data) {
    return (
      <p className="seu-clock">
        <span className="seu-clock-label">{t('seu.clock.label')}</span>{' '}
        <span>{sync.isError ? t('seu.clock.unavailable') : t('seu.loading')}</span>
      </p>
    );
  }
  const now = madrid(tick + sync.data.offset);
  return (
    <p className="seu-clock">
      <span className="seu-clock-label">{t('seu.clock.label')}</span>{' '}
      <time className="official-time" dateTime={now.iso}>
        <span className="official-date">{now.date}</span> <span className="official-hour">{now.time}</span>
      </time>{' '}
      <span className="seu-muted">({t('seu.clock.zone')})</span>
    </p>
  );
}
