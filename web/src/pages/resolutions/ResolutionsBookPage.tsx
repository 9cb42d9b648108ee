import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, apiUrl, entityPath, query } from '../../api.ts';
import { ErrorAlert, Loading } from '../../components/ErrorAlert.tsx';
import { Field } from '../../components/Field.tsx';
import { PageTitle } from '../../components/PageTitle.tsx';
import { formatCivilDate, formatDate, madridToday } from '../../format.ts';
import { rolesIn, useMe } from '../../session.ts';

type Extract = {
  recipient: 'AGE' | 'GENCAT';
  due: string;
  sentAt: string | null;
  ackId: string | null;
  attempts: number;
  lastError: string | null;
  overdue: boolean;
  late: boolean;
};
type Decree = {
  number: string;
  signedAt: string;
  title: string;
  summary: string;
  position: string | null;
  bySubstitution: boolean;
  expedientId: string;
  documentId: string;
  stamped: boolean;
};
type ExtractRow = { number: string; documentId: string; extracts: Extract[] };
type Diligence = {
  kind: 'opening' | 'closing';
  state: 'draft' | 'pending' | 'signed' | 'rejected' | 'cancelled';
  documentId: string;
  signedAt: string | null;
  signerPosition: string | null;
  bySubstitution: boolean | null;
  firstNumber: string | null;
  lastNumber: string | null;
  decreeCount: number | null;
};
type BookStatus = {
  year: number;
  opening: Diligence | null;
  closing: Diligence | null;
  decrees: number;
  transcribed: number;
  pendingTranscription: string[];
  notTranscribed: string[];
  latestExport: { documentId: string; csv: string; createdAt: string; decrees: number; pages: number } | null;
};
type PleSession = {
  id: string;
  heldOn: string;
  kind: 'ordinary' | 'extraordinary';
  reference: string | null;
};
type PleList = {
  since: string;
  until: string;
  lastOrdinarySession: PleSession | null;
  decrees: (Decree & { expedientNumber: string; transcribed: boolean })[];
};
type Position = { kind: string; actingToday: { userId: string } | null };

const SECRETARY_KINDS = ['secretary', 'secretary_intervenor'];

/**
 * The book of resolutions (llibre de decrets) of a year: its decrees with the extracts sent to
 * the State and the Generalitat, the opening and closing diligences the secretary signs, the sealed
 * book as one PDF, and the decrees to report to the next ordinary Ple. Every member reads it;
 * administrators and whoever acts today as secretary open and close it, export it and record the
 * Ple's sessions (the server decides; the page only hides what the user cannot do).
 */
export function ResolutionsBookPage() {
  const { t } = useTranslation();
  const { slug = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const current = Number(madridToday().slice(0, 4));
  const year = /^\d{4}$/.test(params.get('year') ?? '') ? Number(params.get('year')) : current;
  const { data: me } = useMe();
  const positions = useQuery({
    queryKey: ['positions', slug],
    queryFn: () => api<{ items: Position[] }>(`${entityPath(slug)}/positions`),
  });
  const actsAsSecretary = (positions.data?.items ?? []).some(
    (p) => SECRETARY_KINDS.includes(p.kind) && p.actingToday?.userId === me?.id,
  );
  const canManage = rolesIn(me, slug).includes('admin') || actsAsSecretary;
  const yearId = useId();
  return (
    <>
      <PageTitle title={t('resolutions.title')}>{t('resolutions.title')}</PageTitle>
      <p className="lead">{t('resolutions.intro')}</p>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
        }}
      >
        <label htmlFor={yearId}>{t('resolutions.year')}</label>
        <select
          id={yearId}
          value={year}
          onChange={(e) => setParams(e.target.value === String(current) ? {} : { year: e.target.value })}
        >
          {Array.from({ length: 8 }, (_, i) => current + 1 - i).map((y) => (
            <option key={y} value={y}>
              {y}
            </option>
          ))}
        </select>
      </form>
      <BookSection slug={slug} year={year} canManage={canManage} />
      <DecreesSection slug={slug} year={year} />
      <PleSection slug={slug} canManage={canManage} />
    </>
  );
}

function DiligenceLine({ d, slug }: { d: Diligence | null; slug: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  if (!d) return <>{t('resolutions.diligenceNone')}</>;
  return (
    <>
      {t(`resolutions.diligenceState.${d.state}`)}
      {d.state === 'signed' && d.signedAt
        ? ` — ${formatDate(d.signedAt, lang)}, ${d.signerPosition ?? ''}${d.bySubstitution ? ` (${t('resolutions.bySubstitution')})` : ''}`
        : null}{' '}
      <Link to={`/e/${slug}/documents/${d.documentId}`}>{t('resolutions.diligenceDocument')}</Link>
    </>
  );
}

function BookSection({ slug, year, canManage }: { slug: string; year: number; canManage: boolean }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const queryClient = useQueryClient();
  const [done, setDone] = useState('');
  const status = useQuery({
    queryKey: ['resolution-book', slug, year],
    queryFn: () => api<BookStatus>(`${entityPath(slug)}/resolutions/book/${year}`),
  });
  const ask = useMutation({
    mutationFn: (kind: 'opening' | 'closing') =>
      api<Diligence>(`${entityPath(slug)}/resolutions/book/${year}/${kind}`, { json: {} }).then(() => kind),
    onMutate: () => setDone(''),
    onSuccess: async (kind) => {
      setDone(t(kind === 'opening' ? 'resolutions.openingAsked' : 'resolutions.closingAsked'));
      await queryClient.invalidateQueries({ queryKey: ['resolution-book', slug, year] });
    },
  });
  const s = status.data;
  const openable = s && (!s.opening || s.opening.state === 'rejected' || s.opening.state === 'cancelled');
  const closable =
    s &&
    s.opening?.state === 'signed' &&
    (!s.closing || s.closing.state === 'rejected' || s.closing.state === 'cancelled');
  return (
    <section aria-labelledby="book-heading" className="card">
      <h2 id="book-heading">{t('resolutions.bookHeading', { year })}</h2>
      {status.isPending ? <Loading /> : null}
      <ErrorAlert error={status.error} />
      {s ? (
        <dl className="data-list">
          <dt>{t('resolutions.opening')}</dt>
          <dd>
            <DiligenceLine d={s.opening} slug={slug} />
          </dd>
          <dt>{t('resolutions.closing')}</dt>
          <dd>
            <DiligenceLine d={s.closing} slug={slug} />
            {s.closing?.decreeCount !== null && s.closing?.decreeCount !== undefined
              ? ` · ${t('resolutions.closingFacts', {
                  count: s.closing.decreeCount,
                  first: s.closing.firstNumber ?? '—',
                  last: s.closing.lastNumber ?? '—',
                })}`
              : null}
          </dd>
          <dt>{t('resolutions.decreeCount')}</dt>
          <dd>{t('resolutions.transcribedOf', { count: s.decrees, transcribed: s.transcribed })}</dd>
          {s.pendingTranscription.length > 0 ? (
            <>
              <dt>{t('resolutions.pendingTranscription')}</dt>
              <dd>{s.pendingTranscription.join(', ')}</dd>
            </>
          ) : null}
          {s.notTranscribed.length > 0 ? (
            <>
              <dt>{t('resolutions.notTranscribed')}</dt>
              <dd>{s.notTranscribed.join(', ')}</dd>
            </>
          ) : null}
          {s.latestExport ? (
            <>
              <dt>{t('resolutions.latestExport')}</dt>
              <dd>
                {t('resolutions.latestExportFacts', {
                  date: formatDate(s.latestExport.createdAt, lang),
                  pages: s.latestExport.pages,
                  csv: s.latestExport.csv,
                })}
              </dd>
            </>
          ) : null}
        </dl>
      ) : null}
      {s && !s.opening ? <p className="muted">{t('resolutions.numberingNotBlocked')}</p> : null}
      {canManage && s ? (
        <div className="actions">
          <p role="status" className="status-message">
            {done}
          </p>
          <ErrorAlert error={ask.error} />
          {openable ? (
            <button
              type="button"
              className="button primary"
              disabled={ask.isPending}
              onClick={() => ask.mutate('opening')}
            >
              {t('resolutions.open')}
            </button>
          ) : null}{' '}
          {closable ? (
            <button
              type="button"
              className="button"
              disabled={ask.isPending}
              onClick={() => ask.mutate('closing')}
            >
              {t('resolutions.close')}
            </button>
          ) : null}{' '}
          <a className="button" href={apiUrl(`${entityPath(slug)}/resolutions/book/${year}.pdf`)}>
            {t('resolutions.downloadBook')}
          </a>
        </div>
      ) : null}
    </section>
  );
}

function extractText(t: (k: string, o?: Record<string, unknown>) => string, lang: string, list: Extract[]) {
  if (list.length === 0) return '—';
  if (list.every((x) => x.sentAt)) {
    const last = list
      .map((x) => x.sentAt!)
      .sort()
      .at(-1)!;
    return list.some((x) => x.late)
      ? t('resolutions.extractSentLate', { date: formatDate(last, lang) })
      : t('resolutions.extractSent', { date: formatDate(last, lang) });
  }
  const due = formatDate(new Date(new Date(list[0]!.due).getTime() - 1).toISOString(), lang);
  return list.some((x) => x.overdue)
    ? t('resolutions.extractOverdue', { date: due })
    : t('resolutions.extractPending', { date: due });
}

function DecreesSection({ slug, year }: { slug: string; year: number }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const book = useQuery({
    queryKey: ['resolutions', slug, year],
    queryFn: () => api<Decree[]>(`${entityPath(slug)}/resolutions${query({ year })}`),
  });
  const extracts = useQuery({
    queryKey: ['resolution-extracts', slug, year],
    queryFn: () => api<ExtractRow[]>(`${entityPath(slug)}/resolutions/extracts${query({ year })}`),
  });
  const byDoc = new Map((extracts.data ?? []).map((r) => [r.documentId, r.extracts]));
  return (
    <section aria-labelledby="decrees-heading">
      <h2 id="decrees-heading">{t('resolutions.decreesHeading')}</h2>
      {book.isPending ? <Loading /> : null}
      <ErrorAlert error={book.error ?? extracts.error} />
      {book.data && book.data.length === 0 ? <p className="empty">{t('resolutions.none')}</p> : null}
      {book.data && book.data.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{t('resolutions.tableCaption', { year })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('resolutions.number')}</th>
                <th scope="col">{t('resolutions.date')}</th>
                <th scope="col">{t('resolutions.position')}</th>
                <th scope="col">{t('resolutions.summary')}</th>
                <th scope="col">{t('resolutions.extract')}</th>
              </tr>
            </thead>
            <tbody>
              {book.data.map((d) => (
                <tr key={d.documentId}>
                  <th scope="row" className="nowrap">
                    <Link to={`/e/${slug}/documents/${d.documentId}`}>{d.number}</Link>
                  </th>
                  <td className="nowrap">{formatDate(d.signedAt, lang)}</td>
                  <td>
                    {d.position ?? '—'}
                    {d.bySubstitution ? ` (${t('resolutions.bySubstitution')})` : ''}
                  </td>
                  <td>
                    {d.summary}
                    <span className="block muted">
                      <Link to={`/e/${slug}/expedients/${d.expedientId}`}>{d.title}</Link>
                    </span>
                  </td>
                  <td>{extractText(t, lang, byDoc.get(d.documentId) ?? [])}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function PleSection({ slug, canManage }: { slug: string; canManage: boolean }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const queryClient = useQueryClient();
  const [heldOn, setHeldOn] = useState(madridToday());
  const [kind, setKind] = useState<'ordinary' | 'extraordinary'>('ordinary');
  const [reference, setReference] = useState('');
  const [done, setDone] = useState('');
  const sessions = useQuery({
    queryKey: ['ple-sessions', slug],
    queryFn: () => api<PleSession[]>(`${entityPath(slug)}/ple-sessions`),
  });
  const list = useQuery({
    queryKey: ['for-ple', slug],
    queryFn: () => api<PleList>(`${entityPath(slug)}/resolutions/for-ple`),
    retry: false,
  });
  const record = useMutation({
    mutationFn: () =>
      api<PleSession>(`${entityPath(slug)}/ple-sessions`, {
        json: { heldOn, kind, ...(reference.trim() ? { reference: reference.trim() } : {}) },
      }),
    onMutate: () => setDone(''),
    onSuccess: async () => {
      setDone(t('resolutions.pleRecorded', { date: formatCivilDate(heldOn, lang, 'medium') }));
      await queryClient.invalidateQueries({ queryKey: ['ple-sessions', slug] });
      await queryClient.invalidateQueries({ queryKey: ['for-ple', slug] });
    },
  });
  const l = list.data;
  return (
    <section aria-labelledby="ple-heading" className="card">
      <h2 id="ple-heading">{t('resolutions.pleHeading')}</h2>
      <p>{t('resolutions.pleIntro')}</p>
      {list.isPending ? <Loading /> : null}
      <ErrorAlert error={list.error} />
      {l ? (
        <>
          <p>
            {t('resolutions.pleRange', {
              since: formatCivilDate(l.since, lang, 'medium'),
              until: formatCivilDate(l.until, lang, 'medium'),
              count: l.decrees.length,
            })}{' '}
            <a href={apiUrl(`${entityPath(slug)}/resolutions/for-ple.pdf`)}>{t('resolutions.plePdf')}</a>
          </p>
          {l.decrees.length > 0 ? (
            <ul>
              {l.decrees.map((d) => (
                <li key={d.documentId}>
                  <strong>{d.number}</strong> · {formatDate(d.signedAt, lang)} · {d.position ?? '—'} ·{' '}
                  {d.summary}
                </li>
              ))}
            </ul>
          ) : null}
        </>
      ) : null}
      <h3>{t('resolutions.pleSessions')}</h3>
      {sessions.data && sessions.data.length === 0 ? (
        <p className="empty">{t('resolutions.pleNone')}</p>
      ) : null}
      {sessions.data && sessions.data.length > 0 ? (
        <ul>
          {sessions.data.map((s) => (
            <li key={s.id}>
              {formatCivilDate(s.heldOn, lang, 'medium')} · {t(`resolutions.pleKind.${s.kind}`)}
              {s.reference ? ` · ${s.reference}` : ''}
            </li>
          ))}
        </ul>
      ) : null}
      {canManage ? (
        <form
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            record.mutate();
          }}
        >
          <h3>{t('resolutions.pleNew')}</h3>
          <p role="status" className="status-message">
            {done}
          </p>
          <ErrorAlert error={record.error} />
          <div className="grid-2">
            <Field label={t('resolutions.pleDate')} required>
              {(p) => <input {...p} type="date" value={heldOn} onChange={(e) => setHeldOn(e.target.value)} />}
            </Field>
            <Field label={t('resolutions.pleKindLabel')} required>
              {(p) => (
                <select
                  {...p}
                  value={kind}
                  onChange={(e) => setKind(e.target.value as 'ordinary' | 'extraordinary')}
                >
                  <option value="ordinary">{t('resolutions.pleKind.ordinary')}</option>
                  <option value="extraordinary">{t('resolutions.pleKind.extraordinary')}</option>
                </select>
              )}
            </Field>
            <Field label={t('resolutions.pleReference')}>
              {(p) => (
                <input
                  {...p}
                  maxLength={500}
                  value={reference}
                  onChange={(e) => setReference(e.target.value)}
                />
              )}
            </Field>
          </div>
          <button type="submit" className="button primary" disabled={record.isPending}>
            {record.isPending ? t('common.saving') : t('resolutions.pleRecord')}
          </button>
        </form>
      ) : null}
    </section>
  );
}
