import { useQuery } from '@tanstack/react-query';
import { createContext, useContext, useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, NavLink, Route, Routes, useParams } from 'react-router';
import { type SeuInfo, type SeuLanguage, SeuApiError, seuGet } from './api.ts';
import { OfficialClock } from './Clock.tsx';
import { ErrorNote, Loading, PageTitle } from './common.tsx';
import { EnrolmentPage } from './EnrolmentPage.tsx';
import { FolderPage } from './folder.tsx';
import { setSeuLanguage, storedLanguage } from './i18n.ts';
import {
  AccessibilityPage,
  BoardPage,
  CalendarPage,
  HomePage,
  IncidentsPage,
  InfoPage,
  NotFoundPage,
  PrivacyPage,
  ProceduresPage,
  VerifyPage,
} from './pages.tsx';

/** The seu being shown: its public information and the base path of its pages. */
export type SeuContextValue = { slug: string; base: string; info: SeuInfo };
const SeuContext = createContext<SeuContextValue | null>(null);

export function useSeu(): SeuContextValue {
  const v = useContext(SeuContext);
  if (!v) throw new Error('useSeu outside a seu');
  return v;
}

/** The pages of a seu, relative to /seu/<slug>/ (the same paths in every language). */
export const PAGES = [
  { path: '', key: 'home' },
  { path: 'procediments', key: 'procedures' },
  { path: 'calendari', key: 'calendar' },
  { path: 'tauler', key: 'board' },
  { path: 'incidencies', key: 'incidents' },
  { path: 'verificacio', key: 'verify' },
  { path: 'informacio', key: 'info' },
  { path: 'carpeta', key: 'folder' },
] as const;

export function SeuApp() {
  return (
    <Routes>
      <Route path="/seu/:slug/*" element={<Seu />} />
      <Route path="*" element={<NoSeu />} />
    </Routes>
  );
}

function NoSeu() {
  const { t } = useTranslation();
  return (
    <>
      <a className="seu-skip" href="#main">
        {t('seu.skip')}
      </a>
      <main id="main" tabIndex={-1} className="seu-main">
        <PageTitle title={t('seu.notFound.seu')} entity={null} />
        <p>{t('seu.notFound.seuText')}</p>
      </main>
    </>
  );
}

/** Chooses the language: the one the visitor chose if the entity offers it, else the entity's first. */
function useSeuLanguage(languages: SeuLanguage[] | undefined): void {
  const { i18n } = useTranslation();
  useEffect(() => {
    if (!languages || languages.length === 0) return;
    const stored = storedLanguage();
    const want = stored && languages.includes(stored) ? stored : languages[0]!;
    if (i18n.resolvedLanguage !== want) void i18n.changeLanguage(want);
  }, [languages, i18n]);
}

function Seu() {
  const { t } = useTranslation();
  const slug = useParams().slug ?? '';
  const base = `/seu/${encodeURIComponent(slug)}`;
  const info = useQuery({
    queryKey: ['seu', slug],
    queryFn: () => seuGet<SeuInfo>(`/seu/${encodeURIComponent(slug)}`),
  });
  useSeuLanguage(info.data?.languages);

  if (info.error instanceof SeuApiError && info.error.status === 404) return <NoSeu />;
  return (
    <>
      <a className="seu-skip" href="#main">
        {t('seu.skip')}
      </a>
      <header className="seu-header">
        <div className="seu-wrap seu-header-row">
          <p className="seu-brand">
            <Link to={`${base}/`}>
              <span className="seu-brand-entity">{info.data?.entity.name ?? slug}</span>
              <span className="seu-brand-seu">{t('seu.title')}</span>
            </Link>
          </p>
          {info.data ? <LanguageSwitcher languages={info.data.languages} /> : null}
        </div>
        <div className="seu-wrap">
          <OfficialClock slug={slug} />
        </div>
        <nav aria-label={t('seu.nav.label')} className="seu-nav">
          <ul className="seu-wrap">
            {PAGES.map((p) => (
              <li key={p.key}>
                <NavLink to={`${base}/${p.path}`} end>
                  {t(`seu.nav.${p.key}`)}
                </NavLink>
              </li>
            ))}
            {info.data?.entity.kind === 'diputacio' ? (
              <li>
                <NavLink to={`${base}/alta`} end>
                  {t('seu.enrolment.nav')}
                </NavLink>
              </li>
            ) : null}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1} className="seu-main seu-wrap">
        {info.isPending ? <Loading /> : null}
        {info.error ? <ErrorNote error={info.error} /> : null}
        {info.data ? (
          <SeuContext.Provider value={{ slug, base, info: info.data }}>
            <Routes>
              <Route index element={<HomePage />} />
              <Route path="procediments" element={<ProceduresPage />} />
              <Route path="calendari" element={<CalendarPage />} />
              <Route path="tauler/*" element={<BoardPage />} />
              <Route path="incidencies" element={<IncidentsPage />} />
              <Route path="verificacio" element={<VerifyPage />} />
              <Route path="informacio" element={<InfoPage />} />
              <Route path="accessibilitat" element={<AccessibilityPage />} />
              <Route path="privadesa" element={<PrivacyPage />} />
              <Route path="carpeta/*" element={<FolderPage />} />
              {info.data.entity.kind === 'diputacio' ? (
                <Route path="alta" element={<EnrolmentPage />} />
              ) : null}
              <Route path="*" element={<NotFoundPage />} />
            </Routes>
          </SeuContext.Provider>
        ) : null}
      </main>
      <footer className="seu-footer">
        <div className="seu-wrap">
          <ul>
            <li>
              <Link to={`${base}/accessibilitat`}>{t('seu.nav.accessibility')}</Link>
            </li>
            <li>
              <Link to={`${base}/privadesa`}>{t('seu.nav.privacy')}</Link>
            </li>
            <li>
              <Link to={`${base}/informacio`}>{t('seu.nav.info')}</Link>
            </li>
          </ul>
          <p className="seu-muted">{t('seu.footer')}</p>
        </div>
      </footer>
    </>
  );
}

function LanguageSwitcher({ languages }: { languages: SeuLanguage[] }) {
  const { t, i18n } = useTranslation();
  const current = i18n.resolvedLanguage;
  if (languages.length < 2) return null;
  return (
    <nav aria-label={t('seu.lang.label')} className="seu-langs">
      <ul>
        {languages.map((l) => (
          <li key={l}>
            <button type="button" lang={l} aria-pressed={current === l} onClick={() => setSeuLanguage(l)}>
              {t(`seu.lang.${l}`)}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
