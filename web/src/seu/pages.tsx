import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Route, Routes, useParams, useSearchParams } from 'react-router';
import { type Contact, type SeuCalendar, SeuApiError, seuGet, type Verification } from './api.ts';
import { civilDate, ErrorNote, Loading, madrid, PageTitle, safeHref } from './common.tsx';
import { useSeu } from './SeuApp.tsx';

function Title({ title }: { title: string }) {
  const { info } = useSeu();
  return <PageTitle title={title} entity={info.entity.name} />;
}

function NotRecorded() {
  const { t } = useTranslation();
  return <p className="seu-note">{t('seu.notRecorded')}</p>;
}

function ContactList({ contact }: { contact: Contact }) {
  const { t } = useTranslation();
  const web = safeHref(contact.web);
  const place = [contact.postalCode, contact.town].filter(Boolean).join(' ');
  return (
    <dl className="seu-data">
      {contact.address || place ? (
        <>
          <dt>{t('seu.contact.address')}</dt>
          <dd>{[contact.address, place].filter(Boolean).join(', ')}</dd>
        </>
      ) : null}
      {contact.phone ? (
        <>
          <dt>{t('seu.contact.phone')}</dt>
          <dd>
            <a href={`tel:${contact.phone.replace(/[^0-9+]/g, '')}`}>{contact.phone}</a>
          </dd>
        </>
      ) : null}
      {contact.email ? (
        <>
          <dt>{t('seu.contact.email')}</dt>
          <dd>
            <a href={`mailto:${contact.email}`}>{contact.email}</a>
          </dd>
        </>
      ) : null}
      {web ? (
        <>
          <dt>{t('seu.contact.web')}</dt>
          <dd>
            <a href={web}>{web}</a>
          </dd>
        </>
      ) : null}
    </dl>
  );
}

export function HomePage() {
  const { t } = useTranslation();
  const { info, base } = useSeu();
  const e = info.entity;
  return (
    <>
      <Title title={e.name} />
      <p className="seu-lead">{t('seu.home.intro')}</p>
      <section aria-labelledby="identity-h" className="seu-card">
        <h2 id="identity-h">{t('seu.home.identity')}</h2>
        <dl className="seu-data">
          <dt>{t('seu.home.name')}</dt>
          <dd>{e.name}</dd>
          <dt>{t('seu.home.kind')}</dt>
          <dd>{t(`seu.kind.${e.kind}`, e.kind)}</dd>
          <dt>{t('seu.home.dir3')}</dt>
          <dd>{e.dir3}</dd>
          {e.ine ? (
            <>
              <dt>{t('seu.home.ine')}</dt>
              <dd>{e.ine}</dd>
            </>
          ) : null}
          {e.comarca ? (
            <>
              <dt>{t('seu.home.comarca')}</dt>
              <dd>{e.comarca}</dd>
            </>
          ) : null}
        </dl>
        {e.contact ? <ContactList contact={e.contact} /> : null}
      </section>
      <section aria-labelledby="services-h">
        <h2 id="services-h">{t('seu.home.services')}</h2>
        <ul className="seu-tiles">
          {(['procedures', 'folder', 'verify', 'board', 'calendar', 'incidents', 'info'] as const).map(
            (k) => (
              <li key={k}>
                <Link to={`${base}/${PATHS[k]}`}>{t(`seu.nav.${k}`)}</Link>
                <p>{t(`seu.home.tile.${k}`)}</p>
              </li>
            ),
          )}
        </ul>
      </section>
    </>
  );
}

const PATHS = {
  procedures: 'procediments',
  folder: 'carpeta',
  verify: 'verificacio',
  board: 'tauler',
  calendar: 'calendari',
  incidents: 'incidencies',
  info: 'informacio',
} as const;

export function ProceduresPage() {
  const { t } = useTranslation();
  const { info, base } = useSeu();
  return (
    <>
      <Title title={t('seu.procedures.title')} />
      <p className="seu-lead">{t('seu.procedures.intro')}</p>
      <ul className="seu-list-plain">
        {info.procedures.map((p) => (
          <li key={p.code} className="seu-card">
            <h2>{t(`seu.procedures.${p.code}.name`)}</h2>
            <p>{t(`seu.procedures.${p.code}.description`)}</p>
            <dl className="seu-data">
              <dt>{t('seu.procedures.term')}</dt>
              <dd>
                {t('seu.procedures.months', { count: p.maxTermMonths })}
                {p.termBasis ? <span className="seu-muted"> ({p.termBasis})</span> : null}
              </dd>
              <dt>{t('seu.procedures.silence')}</dt>
              <dd>
                {t(`seu.procedures.silenceEffect.${p.silence}`)}
                {p.silenceBasis ? <span className="seu-muted"> ({p.silenceBasis})</span> : null}
              </dd>
              <dt>{t('seu.procedures.channel')}</dt>
              <dd>{p.online ? t('seu.procedures.online') : t('seu.procedures.offline')}</dd>
            </dl>
            {p.legalDefault ? <p className="seu-note">{t('seu.procedures.legalDefault')}</p> : null}
            <p>
              <Link className="seu-button" to={`${base}/carpeta/sollicitud`}>
                {t('seu.procedures.start')}
              </Link>
            </p>
          </li>
        ))}
      </ul>
    </>
  );
}

export function CalendarPage() {
  const { t } = useTranslation();
  const { info, slug, base } = useSeu();
  const [params] = useSearchParams();
  const officialYear = Number(info.officialTime.date.slice(0, 4));
  const asked = Number(params.get('any'));
  const year = Number.isInteger(asked) && asked >= 1900 && asked <= 2999 ? asked : officialYear;
  const cal = useQuery({
    queryKey: ['seu-calendar', slug, year],
    queryFn: () => seuGet<SeuCalendar>(`/seu/${encodeURIComponent(slug)}/calendar/${year}`),
  });
  return (
    <>
      <Title title={t('seu.calendar.title', { year })} />
      <p className="seu-lead">{t('seu.calendar.intro')}</p>
      <nav aria-label={t('seu.calendar.years')} className="seu-pager">
        <ul>
          <li>
            <Link to={`${base}/calendari?any=${year - 1}`}>{t('seu.calendar.year', { year: year - 1 })}</Link>
          </li>
          <li>
            <Link to={`${base}/calendari?any=${year + 1}`}>{t('seu.calendar.year', { year: year + 1 })}</Link>
          </li>
        </ul>
      </nav>
      {cal.isPending ? <Loading /> : null}
      <ErrorNote error={cal.error} />
      {cal.data ? (
        <section aria-labelledby="days-h">
          <h2 id="days-h">{t('seu.calendar.days', { place: cal.data.place })}</h2>
          <p>{t('seu.calendar.weekends')}</p>
          {cal.data.complete ? null : <p className="seu-note">{t('seu.calendar.incomplete')}</p>}
          {cal.data.days.length === 0 ? (
            <p>{t('seu.calendar.none')}</p>
          ) : (
            <ul className="seu-days">
              {cal.data.days.map((d) => (
                <li key={d.date}>
                  <time dateTime={d.date} className="seu-day-date">
                    {t(`seu.weekday.${d.weekday}`, d.weekday)} {civilDate(d.date)}
                  </time>
                  <ul>
                    {d.holidays.map((h) => (
                      <li key={`${h.scope}-${h.name}`}>
                        {h.name}{' '}
                        <span className="seu-muted">({t(`seu.calendar.scope.${h.scope}`, h.scope)})</span>
                      </li>
                    ))}
                  </ul>
                </li>
              ))}
            </ul>
          )}
        </section>
      ) : null}
    </>
  );
}

export function InfoPage() {
  const { t } = useTranslation();
  const { info } = useSeu();
  const act = info.creationAct;
  const actUrl = safeHref(act?.url ?? null);
  const csvResolutions = info.resolutions.filter((r) => r.kind === 'csv_system');
  const automation = info.resolutions.filter((r) => r.kind === 'automated_action');
  return (
    <>
      <Title title={t('seu.info.title')} />
      <section aria-labelledby="act-h" className="seu-card">
        <h2 id="act-h">{t('seu.info.creationAct')}</h2>
        {act ? (
          <dl className="seu-data">
            <dt>{t('seu.info.reference')}</dt>
            <dd>{act.reference}</dd>
            <dt>{t('seu.info.date')}</dt>
            <dd>{civilDate(act.date)}</dd>
            {actUrl ? (
              <>
                <dt>{t('seu.info.publication')}</dt>
                <dd>
                  <a href={actUrl}>{actUrl}</a>
                </dd>
              </>
            ) : null}
          </dl>
        ) : (
          <NotRecorded />
        )}
      </section>
      <section aria-labelledby="seals-h" className="seu-card">
        <h2 id="seals-h">{t('seu.info.seals')}</h2>
        <p>{t('seu.info.sealsIntro')}</p>
        {info.seals.length === 0 ? (
          <NotRecorded />
        ) : (
          <ul className="seu-list-plain">
            {info.seals.map((s) => (
              <li key={s.fingerprintSha256} className="seu-subcard">
                <h3>
                  {s.label}{' '}
                  <span className="seu-muted">
                    ({s.active ? t('seu.info.sealActive') : t('seu.info.sealInactive')})
                  </span>
                </h3>
                <dl className="seu-data">
                  <dt>{t('seu.info.subject')}</dt>
                  <dd className="seu-wrap-any">{s.subject}</dd>
                  <dt>{t('seu.info.issuer')}</dt>
                  <dd className="seu-wrap-any">{s.issuer}</dd>
                  <dt>{t('seu.info.serial')}</dt>
                  <dd className="seu-wrap-any">
                    <code>{s.serialNumber}</code>
                  </dd>
                  <dt>{t('seu.info.fingerprint')}</dt>
                  <dd className="seu-wrap-any">
                    <code>{s.fingerprintSha256}</code>
                  </dd>
                  <dt>{t('seu.info.validity')}</dt>
                  <dd>
                    {t('seu.info.validRange', {
                      from: madrid(s.validFrom).date,
                      to: madrid(s.validTo).date,
                    })}
                  </dd>
                  <dt>{t('seu.info.qualified')}</dt>
                  <dd>{s.qualified ? t('seu.info.qualifiedYes') : t('seu.info.qualifiedNo')}</dd>
                </dl>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="csv-h" className="seu-card">
        <h2 id="csv-h">{t('seu.info.csv')}</h2>
        <p>{t('seu.info.csvIntro')}</p>
        <Resolutions items={csvResolutions} />
        <h3>{t('seu.info.automation')}</h3>
        <Resolutions items={automation} />
      </section>
    </>
  );
}

function Resolutions({ items }: { items: ReturnType<typeof useSeu>['info']['resolutions'] }) {
  const { t } = useTranslation();
  if (items.length === 0) return <NotRecorded />;
  return (
    <ul className="seu-list-plain">
      {items.map((r) => (
        <li key={`${r.reference}-${r.approvedOn}`} className="seu-subcard">
          <p>
            <strong>{r.title}</strong> — {r.reference}, {civilDate(r.approvedOn)}{' '}
            <span className="seu-muted">
              (
              {r.inForce
                ? t('seu.info.inForce')
                : r.revokedOn
                  ? t('seu.info.revoked', { date: civilDate(r.revokedOn) })
                  : t('seu.info.notInForce')}
              )
            </span>
          </p>
          <p>
            {t('seu.info.responsibleBody')}: {r.responsibleBody}
          </p>
          {r.actions.length > 0 ? (
            <ul>
              {r.actions.map((a) => (
                <li key={a}>{t(`seu.info.action.${a}`, a)}</li>
              ))}
            </ul>
          ) : null}
          {r.publication ? <p className="seu-muted">{r.publication}</p> : null}
        </li>
      ))}
    </ul>
  );
}

export function AccessibilityPage() {
  const { t } = useTranslation();
  const { info } = useSeu();
  const a = info.accessibility;
  const url = safeHref(a?.complaintsUrl ?? null);
  return (
    <>
      <Title title={t('seu.accessibility.title')} />
      <p className="seu-lead">{t('seu.accessibility.intro', { entity: info.entity.name })}</p>
      {a ? (
        <>
          <section aria-labelledby="status-h" className="seu-card">
            <h2 id="status-h">{t('seu.accessibility.statusTitle')}</h2>
            <p>{t(`seu.accessibility.status.${a.status}`)}</p>
            {a.nonAccessibleContent ? (
              <>
                <h3>{t('seu.accessibility.nonAccessible')}</h3>
                <p className="seu-pre">{a.nonAccessibleContent}</p>
              </>
            ) : null}
            <dl className="seu-data">
              <dt>{t('seu.accessibility.statementDate')}</dt>
              <dd>{civilDate(a.statementDate)}</dd>
              {a.reviewedOn ? (
                <>
                  <dt>{t('seu.accessibility.reviewedOn')}</dt>
                  <dd>{civilDate(a.reviewedOn)}</dd>
                </>
              ) : null}
            </dl>
          </section>
          <section aria-labelledby="complaints-h" className="seu-card">
            <h2 id="complaints-h">{t('seu.accessibility.complaints')}</h2>
            <p>{t('seu.accessibility.complaintsIntro')}</p>
            <dl className="seu-data">
              <dt>{t('seu.contact.email')}</dt>
              <dd>
                <a href={`mailto:${a.complaintsEmail}`}>{a.complaintsEmail}</a>
              </dd>
              {a.complaintsPhone ? (
                <>
                  <dt>{t('seu.contact.phone')}</dt>
                  <dd>{a.complaintsPhone}</dd>
                </>
              ) : null}
              {url ? (
                <>
                  <dt>{t('seu.accessibility.form')}</dt>
                  <dd>
                    <a href={url}>{url}</a>
                  </dd>
                </>
              ) : null}
            </dl>
            <p>{t('seu.accessibility.enforcement')}</p>
          </section>
        </>
      ) : (
        <NotRecorded />
      )}
    </>
  );
}

const RIGHTS = ['access', 'rectification', 'erasure', 'restriction', 'portability', 'objection'] as const;

export function PrivacyPage() {
  const { t } = useTranslation();
  const { info } = useSeu();
  const p = info.privacy;
  return (
    <>
      <Title title={t('seu.privacy.title')} />
      {p ? (
        <>
          <section aria-labelledby="controller-h" className="seu-card">
            <h2 id="controller-h">{t('seu.privacy.controller')}</h2>
            <p>
              {p.controller.name} <span className="seu-muted">({p.controller.dir3})</span>
            </p>
            {p.controller.contact ? <ContactList contact={p.controller.contact} /> : null}
            <h3>{t('seu.privacy.dpo')}</h3>
            <p>
              {p.dpoName ? `${p.dpoName} · ` : ''}
              <a href={`mailto:${p.dpoEmail}`}>{p.dpoEmail}</a>
            </p>
          </section>
          <section aria-labelledby="purposes-h" className="seu-card">
            <h2 id="purposes-h">{t('seu.privacy.purposes')}</h2>
            <ul>
              {p.purposes.map((x) => (
                <li key={x}>{x}</li>
              ))}
            </ul>
            {p.legalBasis ? (
              <>
                <h3>{t('seu.privacy.legalBasis')}</h3>
                <p className="seu-pre">{p.legalBasis}</p>
              </>
            ) : null}
            {p.retention ? (
              <>
                <h3>{t('seu.privacy.retention')}</h3>
                <p className="seu-pre">{p.retention}</p>
              </>
            ) : null}
          </section>
          <section aria-labelledby="rights-h" className="seu-card">
            <h2 id="rights-h">{t('seu.privacy.rights')}</h2>
            <ul>
              {RIGHTS.map((r) => (
                <li key={r}>{t(`seu.privacy.right.${r}`)}</li>
              ))}
            </ul>
            <p className="seu-pre">{p.rightsChannel}</p>
            <p>{t('seu.privacy.authority')}</p>
          </section>
        </>
      ) : (
        <NotRecorded />
      )}
    </>
  );
}

type Incident = {
  id: string;
  startedAt: string;
  endedAt: string | null;
  ongoing: boolean;
  description: string;
  outage: boolean;
  extension: { decision: string; newDate: string | null; days: number | null } | null;
};

function instant(iso: string): string {
  const m = madrid(iso);
  return `${m.date} ${m.time.slice(0, 5)}`;
}

export function IncidentsPage() {
  const { t } = useTranslation();
  const { slug } = useSeu();
  const q = useQuery({
    queryKey: ['seu-incidents', slug],
    queryFn: () => seuGet<Incident[]>(`/seu/${encodeURIComponent(slug)}/incidents`),
  });
  return (
    <>
      <Title title={t('seu.incidents.title')} />
      <p className="seu-lead">{t('seu.incidents.intro')}</p>
      {q.isPending ? <Loading /> : null}
      <ErrorNote error={q.error} />
      {q.data ? (
        q.data.length === 0 ? (
          <p>{t('seu.incidents.none')}</p>
        ) : (
          <ul className="seu-list-plain">
            {q.data.map((i) => (
              <li key={i.id} className="seu-subcard">
                <h2 className="seu-h-small">
                  {i.endedAt
                    ? t('seu.incidents.period', { from: instant(i.startedAt), to: instant(i.endedAt) })
                    : t('seu.incidents.since', { from: instant(i.startedAt) })}
                </h2>
                <p className="seu-pre">{i.description}</p>
                <p>{i.outage ? t('seu.incidents.outage') : t('seu.incidents.degraded')}</p>
                {i.extension ? (
                  <p>
                    <strong>{t('seu.incidents.extension')}:</strong> {i.extension.decision}
                    {i.extension.newDate
                      ? ` — ${t('seu.incidents.newDate', { date: civilDate(i.extension.newDate) })}`
                      : ''}
                    {i.extension.days ? ` — ${t('seu.incidents.days', { count: i.extension.days })}` : ''}
                  </p>
                ) : null}
              </li>
            ))}
          </ul>
        )
      ) : null}
    </>
  );
}

type BoardItem = {
  id: string;
  title: string;
  summary: string;
  startDate: string;
  endDate: string;
  expedientNumber: string;
  documentUrl: string;
};
type BoardListAnswer = { publications: BoardItem[] };
type BoardDetail = BoardItem & { document: { fileName: string; size: number; sha256: string } };

/** Only a same-origin API path from the server's answer becomes a link. */
export function apiHref(url: string): string | null {
  return url.startsWith('/api/') && !url.startsWith('//') ? url : null;
}

/** The notice board: its pages ask search engines not to index them (LOPDGDD DA 7; Llei 26/2010 art. 58). */
function useNoIndex(): void {
  useEffect(() => {
    const meta = document.createElement('meta');
    meta.name = 'robots';
    meta.content = 'noindex, nofollow';
    document.head.appendChild(meta);
    return () => meta.remove();
  }, []);
}

export function BoardPage() {
  useNoIndex();
  return (
    <Routes>
      <Route index element={<BoardList />} />
      <Route path=":id" element={<BoardDetailPage />} />
    </Routes>
  );
}

function BoardList() {
  const { t } = useTranslation();
  const { slug, base } = useSeu();
  const q = useQuery({
    queryKey: ['seu-board', slug],
    queryFn: () => seuGet<BoardListAnswer>(`/seu/${encodeURIComponent(slug)}/board`),
  });
  return (
    <>
      <Title title={t('seu.board.title')} />
      <p className="seu-lead">{t('seu.board.intro')}</p>
      {q.isPending ? <Loading /> : null}
      <ErrorNote error={q.error} />
      {q.data ? (
        q.data.publications.length === 0 ? (
          <p>{t('seu.board.none')}</p>
        ) : (
          <ul className="seu-list-plain">
            {q.data.publications.map((i) => (
              <li key={i.id} className="seu-subcard">
                <h2 className="seu-h-small">
                  <Link to={`${base}/tauler/${encodeURIComponent(i.id)}`}>{i.title}</Link>
                </h2>
                <p>
                  {t('seu.board.period', { from: civilDate(i.startDate), to: civilDate(i.endDate) })} ·{' '}
                  {t('seu.board.expedient', { number: i.expedientNumber })}
                </p>
              </li>
            ))}
          </ul>
        )
      ) : null}
    </>
  );
}

function BoardDetailPage() {
  const { t } = useTranslation();
  const { slug, base } = useSeu();
  const id = useParams().id ?? '';
  const q = useQuery({
    queryKey: ['seu-board', slug, id],
    queryFn: () => seuGet<BoardDetail>(`/seu/${encodeURIComponent(slug)}/board/${encodeURIComponent(id)}`),
  });
  const gone = q.error instanceof SeuApiError && q.error.status === 404;
  const href = q.data ? apiHref(q.data.documentUrl) : null;
  return (
    <>
      <Title title={q.data?.title ?? t('seu.board.title')} />
      {q.isPending ? <Loading /> : null}
      {gone ? <p className="seu-note">{t('seu.board.gone')}</p> : <ErrorNote error={q.error} />}
      {q.data ? (
        <div className="seu-card">
          <p className="seu-pre">{q.data.summary}</p>
          <dl className="seu-data">
            <dt>{t('seu.board.periodLabel')}</dt>
            <dd>
              {t('seu.board.period', { from: civilDate(q.data.startDate), to: civilDate(q.data.endDate) })}
            </dd>
            <dt>{t('seu.board.expedientLabel')}</dt>
            <dd>{q.data.expedientNumber}</dd>
            <dt>{t('seu.verify.hash')}</dt>
            <dd className="seu-wrap-any">
              <code>{q.data.document.sha256}</code>
            </dd>
          </dl>
          {href ? (
            <p>
              <a className="seu-button" href={href} download={q.data.document.fileName}>
                {t('seu.board.download', { file: q.data.document.fileName })}
              </a>
            </p>
          ) : null}
        </div>
      ) : null}
      <p>
        <Link to={`${base}/tauler`}>{t('seu.board.back')}</Link>
      </p>
    </>
  );
}

function normaliseCsv(csv: string): string {
  return csv.replace(/\s+/g, '').toUpperCase();
}

export function VerifyPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const csv = normaliseCsv(params.get('csv') ?? '');
  const [text, setText] = useState(params.get('csv') ?? '');
  const [missing, setMissing] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const result = useQuery({
    queryKey: ['verify', csv],
    queryFn: () => seuGet<Verification>(`/verify/${encodeURIComponent(csv)}`),
    enabled: csv !== '',
  });
  function submit(e: React.FormEvent) {
    e.preventDefault();
    const value = normaliseCsv(text);
    setMissing(!value);
    if (!value) {
      inputRef.current?.focus();
      return;
    }
    setParams({ csv: value });
    if (value === csv) void result.refetch();
  }
  const err = result.error instanceof SeuApiError ? result.error : null;
  const v = result.data;
  const hintId = 'csv-hint';
  const errId = 'csv-error';
  return (
    <>
      <Title title={t('seu.verify.title')} />
      <p className="seu-lead">{t('seu.verify.intro')}</p>
      <search aria-label={t('seu.verify.title')}>
        <form className="seu-card seu-form" noValidate onSubmit={submit}>
          <label htmlFor="csv">{t('seu.verify.csv')}</label>
          <p id={hintId} className="seu-hint">
            {t('seu.verify.csvHint')}
          </p>
          {missing ? (
            <p id={errId} className="seu-error">
              {t('seu.verify.required')}
            </p>
          ) : null}
          <input
            id="csv"
            ref={inputRef}
            name="csv"
            autoComplete="off"
            spellCheck={false}
            aria-describedby={missing ? `${hintId} ${errId}` : hintId}
            aria-invalid={missing || err?.code === 'CSV_INVALID' ? true : undefined}
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
          <button type="submit" className="seu-button">
            {t('seu.verify.submit')}
          </button>
        </form>
      </search>
      <section aria-labelledby="verify-result-h" aria-live="polite">
        <h2 id="verify-result-h">{t('seu.verify.result')}</h2>
        {result.isFetching ? <Loading /> : null}
        {err?.code === 'CSV_NOT_FOUND' ? (
          <p className="seu-alert" role="alert">
            {t('seu.verify.notFound')}
          </p>
        ) : null}
        {err?.code === 'CSV_INVALID' ? (
          <p className="seu-alert" role="alert">
            {t('seu.verify.invalid')}
          </p>
        ) : null}
        {result.error && !['CSV_NOT_FOUND', 'CSV_INVALID'].includes(err?.code ?? '') ? (
          <ErrorNote error={result.error} />
        ) : null}
        {v && !result.isFetching ? (
          <div className="seu-card">
            <p role="status">{t('seu.verify.found')}</p>
            <dl className="seu-data">
              <dt>{t('seu.verify.entity')}</dt>
              <dd>
                {v.entity.name} ({v.entity.dir3})
              </dd>
              <dt>{t('seu.verify.docTitle')}</dt>
              <dd>{v.document.title}</dd>
              <dt>{t('seu.verify.createdAt')}</dt>
              <dd>
                {madrid(v.document.createdAt).date} {madrid(v.document.createdAt).time}
              </dd>
              <dt>{t('seu.verify.hash')}</dt>
              <dd className="seu-wrap-any">
                <code>{v.document.sha256}</code>
              </dd>
              <dt>{t('seu.verify.seal')}</dt>
              <dd className="seu-wrap-any">
                {v.seal
                  ? `${v.seal.subject} (${v.seal.qualified ? t('seu.info.qualifiedYes') : t('seu.info.qualifiedNo')})`
                  : t('seu.verify.noSeal')}
              </dd>
            </dl>
            <p>
              <a
                className="seu-button"
                href={`/api/v1/verify/${encodeURIComponent(v.csv)}/content`}
                download={v.document.fileName}
              >
                {t('seu.verify.download')}
              </a>
            </p>
          </div>
        ) : null}
      </section>
    </>
  );
}

export function NotFoundPage() {
  const { t } = useTranslation();
  const { base } = useSeu();
  return (
    <>
      <Title title={t('seu.notFound.page')} />
      <p>
        <Link to={`${base}/`}>{t('seu.nav.home')}</Link>
      </p>
    </>
  );
}
