import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, apiUrl, entityPath, type ExpedientSummary, type Page, query } from '../../api.ts';
import { ErrorAlert, Loading } from '../../components/ErrorAlert.tsx';
import { Field } from '../../components/Field.tsx';
import { PageTitle } from '../../components/PageTitle.tsx';
import { formatCivilDate, formatDateTime, madridToday } from '../../format.ts';
import { rolesIn, useMe } from '../../session.ts';
import type { BoardPublication, BoardState, TermUnit } from '../../staffSeu.ts';
import { useExpedientIndex } from '../expedient/indexQuery.ts';

const STATES: BoardState[] = ['scheduled', 'in_force', 'ended', 'withdrawn'];
const boardKey = (slug: string) => ['board', slug] as const;

/**
 * The notice board (tauler d'edictes, Llei 26/2010 art. 58) as staff see it: every publication with
 * its period and state, withdrawal with a reason, the certificate of publication; and the form to
 * publish a case file's PDF for a term of business or calendar days (or to an end date).
 */
export function BoardPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const { slug = '' } = useParams();
  const { data: me } = useMe();
  const roles = rolesIn(me, slug);
  const canPublish = roles.includes('admin') || roles.includes('handler');
  const [params, setParams] = useSearchParams();
  const stateParam = params.get('state');
  const state = STATES.includes(stateParam as BoardState) ? (stateParam as BoardState) : '';
  const filterId = useId();
  const list = useQuery({
    queryKey: [...boardKey(slug), state],
    queryFn: () => api<BoardPublication[]>(`${entityPath(slug)}/board${query({ state })}`),
    enabled: canPublish,
  });
  const items = list.data ?? [];

  return (
    <>
      <PageTitle title={t('board.title')}>{t('board.title')}</PageTitle>
      <p className="lead">{t('board.intro')}</p>
      <p>
        <Link to={`/e/${slug}/seu-incidents`}>{t('board.incidentsLink')}</Link>
      </p>
      {!canPublish ? (
        <p className="muted">{t('board.notAllowed')}</p>
      ) : (
        <section aria-labelledby="board-list-heading">
          <h2 id="board-list-heading">{t('board.listHeading')}</h2>
          <div className="field inline-field">
            <label htmlFor={filterId}>{t('board.stateFilter')}</label>
            <select
              id={filterId}
              value={state}
              onChange={(e) => setParams(e.target.value ? { state: e.target.value } : {}, { replace: true })}
            >
              <option value="">{t('common.all')}</option>
              {STATES.map((s) => (
                <option key={s} value={s}>
                  {t(`board.stateName.${s}`)}
                </option>
              ))}
            </select>
          </div>
          {list.isPending ? <Loading /> : null}
          <ErrorAlert error={list.error} />
          {list.data && items.length === 0 ? <p className="empty">{t('board.none')}</p> : null}
          {items.length > 0 ? (
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">{t('board.listHeading')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('board.publication')}</th>
                    <th scope="col">{t('board.expedient')}</th>
                    <th scope="col">{t('board.period')}</th>
                    <th scope="col">{t('board.state')}</th>
                    <th scope="col">{t('board.actions')}</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((p) => (
                    <tr key={p.id}>
                      <th scope="row">
                        {p.title}
                        {p.publicTitle !== p.title ? (
                          <span className="block muted">
                            {t('board.publishedAs')}: {p.publicTitle}
                          </span>
                        ) : null}
                      </th>
                      <td className="nowrap">
                        <Link to={`/e/${slug}/expedients/${encodeURIComponent(p.expedient.id)}`}>
                          {p.expedient.number}
                        </Link>
                      </td>
                      <td>
                        {t('board.fromTo', {
                          from: formatCivilDate(p.startDate, lang, 'medium'),
                          to: formatCivilDate(p.endDate, lang, 'medium'),
                        })}
                        {p.term ? (
                          <span className="block muted">
                            {t(`board.term.${p.term.unit}`, { count: p.term.amount })}
                          </span>
                        ) : null}
                      </td>
                      <td>
                        {t(`board.stateName.${p.state}`)}
                        {p.withdrawal ? (
                          <span className="block muted">
                            {formatDateTime(p.withdrawal.at, lang)} · {p.withdrawal.reason}
                          </span>
                        ) : null}
                        {p.endedAt ? (
                          <span className="block muted">
                            {t('board.endedAt', { at: formatDateTime(p.endedAt, lang) })}
                          </span>
                        ) : null}
                      </td>
                      <td>
                        <PublicationActions slug={slug} publication={p} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
        </section>
      )}
      {canPublish ? <PublishForm slug={slug} /> : null}
    </>
  );
}

function PublicationActions({ slug, publication: p }: { slug: string; publication: BoardPublication }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState(false);
  const ref = useRef<HTMLInputElement>(null);
  const base = `${entityPath(slug)}/board/${encodeURIComponent(p.id)}`;
  const refresh = () => queryClient.invalidateQueries({ queryKey: boardKey(slug) });
  const withdraw = useMutation({
    mutationFn: () => api<BoardPublication>(`${base}/withdraw`, { json: { reason: reason.trim() } }),
    onSuccess: async () => {
      setOpen(false);
      await refresh();
    },
  });
  const certify = useMutation({
    mutationFn: () => api<unknown>(`${base}/certificate`, { method: 'POST' }),
    onSuccess: refresh,
  });
  const live = p.state === 'scheduled' || p.state === 'in_force';
  return (
    <div className="cell-actions">
      <a
        className="button small secondary"
        href={apiUrl(`${entityPath(slug)}/documents/${encodeURIComponent(p.documentId)}/content`)}
        download
        aria-label={`${t('board.document')}: ${p.title}`}
      >
        {t('board.document')}
      </a>
      {p.certificate ? (
        <a
          className="button small secondary"
          href={apiUrl(`${base}/certificate`)}
          download
          aria-label={`${t('board.certificate')}: ${p.title}`}
        >
          {t('board.certificate')}
        </a>
      ) : !live ? (
        <button
          type="button"
          className="button small secondary"
          aria-label={`${t('board.issueCertificate')}: ${p.title}`}
          disabled={certify.isPending}
          onClick={() => certify.mutate()}
        >
          {t('board.issueCertificate')}
        </button>
      ) : null}
      <ErrorAlert error={certify.error} />
      {live && !open ? (
        <button
          type="button"
          className="button small secondary"
          aria-label={`${t('board.withdraw')}: ${p.title}`}
          onClick={() => setOpen(true)}
        >
          {t('board.withdraw')}
        </button>
      ) : null}
      {live && open ? (
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            const empty = !reason.trim();
            setMissing(empty);
            if (empty) return ref.current?.focus();
            withdraw.mutate();
          }}
        >
          <ErrorAlert error={withdraw.error} />
          <Field
            label={t('board.withdrawReason', { title: p.title })}
            required
            error={missing ? t('board.reasonRequired') : null}
          >
            {(props) => (
              <input
                {...props}
                ref={ref}
                maxLength={2000}
                value={reason}
                onChange={(e) => setReason(e.target.value)}
              />
            )}
          </Field>
          <div className="actions">
            <button type="submit" className="button small" disabled={withdraw.isPending}>
              {t('board.withdrawConfirm')}
            </button>
            <button type="button" className="button small secondary" onClick={() => setOpen(false)}>
              {t('common.cancel')}
            </button>
          </div>
        </form>
      ) : null}
    </div>
  );
}

type PublishErrors = Partial<
  Record<
    'expedient' | 'document' | 'file' | 'startDate' | 'term' | 'endDate' | 'title' | 'summary' | 'reviewed',
    string
  >
>;

function PublishForm({ slug }: { slug: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const queryClient = useQueryClient();
  const base = useId();
  const [expedientId, setExpedientId] = useState('');
  const [source, setSource] = useState<'document' | 'upload'>('document');
  const [documentId, setDocumentId] = useState('');
  const [documentTitle, setDocumentTitle] = useState('');
  const [startDate, setStartDate] = useState(madridToday());
  const [periodKind, setPeriodKind] = useState<'term' | 'endDate'>('term');
  const [amount, setAmount] = useState('20');
  const [unit, setUnit] = useState<TermUnit>('business_days');
  const [endDate, setEndDate] = useState('');
  const [title, setTitle] = useState('');
  const [summary, setSummary] = useState('');
  const [reviewed, setReviewed] = useState(false);
  const [errors, setErrors] = useState<PublishErrors>({});
  const [done, setDone] = useState<BoardPublication | null>(null);
  const refs = {
    expedient: useRef<HTMLSelectElement>(null),
    document: useRef<HTMLSelectElement>(null),
    file: useRef<HTMLInputElement>(null),
    startDate: useRef<HTMLInputElement>(null),
    term: useRef<HTMLInputElement>(null),
    endDate: useRef<HTMLInputElement>(null),
    title: useRef<HTMLInputElement>(null),
    summary: useRef<HTMLTextAreaElement>(null),
    reviewed: useRef<HTMLInputElement>(null),
  };
  const errorId = `${base}-error`;
  const expedients = useQuery({
    queryKey: ['expedients', slug, 'open-for-board'],
    queryFn: () =>
      api<Page<ExpedientSummary>>(`${entityPath(slug)}/expedients${query({ state: 'E01', pageSize: 100 })}`),
  });
  const index = useExpedientIndex(slug, expedientId);
  const entries = expedientId ? (index.data?.entries ?? []) : [];

  const publish = useMutation({
    mutationFn: (file: File | undefined) => {
      if (source === 'upload' && file) {
        // The server reads the fields before the file: they go first.
        const form = new FormData();
        form.append('expedientId', expedientId);
        form.append('title', title.trim());
        form.append('summary', summary.trim());
        form.append('startDate', startDate);
        if (periodKind === 'term') {
          form.append('termAmount', amount);
          form.append('termUnit', unit);
        } else form.append('endDate', endDate);
        form.append('personalDataReviewed', reviewed ? 'true' : 'false');
        if (documentTitle.trim()) form.append('documentTitle', documentTitle.trim());
        form.append('file', file, file.name);
        return api<BoardPublication>(`${entityPath(slug)}/board/upload`, { form });
      }
      return api<BoardPublication>(`${entityPath(slug)}/board`, {
        json: {
          expedientId,
          documentId,
          title: title.trim(),
          summary: summary.trim(),
          startDate,
          ...(periodKind === 'term' ? { term: { amount: Number(amount), unit } } : { endDate }),
          personalDataReviewed: reviewed,
        },
      });
    },
    onMutate: () => setDone(null),
    onSuccess: async (p) => {
      setDone(p);
      setTitle('');
      setSummary('');
      setReviewed(false);
      setDocumentTitle('');
      if (refs.file.current) refs.file.current.value = '';
      await queryClient.invalidateQueries({ queryKey: boardKey(slug) });
      await queryClient.invalidateQueries({ queryKey: ['index', slug, expedientId] });
    },
  });

  function submit(e: React.FormEvent) {
    e.preventDefault();
    const file = refs.file.current?.files?.[0];
    const next: PublishErrors = {};
    if (!expedientId) next.expedient = 'board.expedientRequired';
    if (source === 'document' && !documentId) next.document = 'board.documentRequired';
    if (source === 'upload' && !file) next.file = 'board.fileRequired';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(startDate)) next.startDate = 'board.startDateRequired';
    if (periodKind === 'term' && !(/^\d{1,4}$/.test(amount) && Number(amount) >= 1))
      next.term = 'board.termRequired';
    if (periodKind === 'endDate' && !/^\d{4}-\d{2}-\d{2}$/.test(endDate))
      next.endDate = 'board.endDateRequired';
    if (!title.trim()) next.title = 'board.titleRequired';
    if (!summary.trim()) next.summary = 'board.summaryRequired';
    if (!reviewed) next.reviewed = 'board.reviewedRequired';
    setErrors(next);
    for (const k of Object.keys(refs) as (keyof typeof refs)[]) {
      if (next[k]) return refs[k].current?.focus();
    }
    publish.mutate(file);
  }

  const err = (k: keyof PublishErrors) => (errors[k] ? t(errors[k] as string) : null);

  return (
    <section className="card" aria-labelledby={`${base}-heading`}>
      <h2 id={`${base}-heading`}>{t('board.publishHeading')}</h2>
      <p role="status" className="status-message">
        {done
          ? t('board.published', {
              title: done.title,
              from: formatCivilDate(done.startDate, lang, 'medium'),
              to: formatCivilDate(done.endDate, lang, 'medium'),
            })
          : ''}
      </p>
      <form
        className="form"
        noValidate
        onSubmit={submit}
        aria-describedby={publish.error ? errorId : undefined}
      >
        <ErrorAlert error={publish.error} id={errorId} />
        <Field label={t('board.expedient')} required error={err('expedient')}>
          {(p) => (
            <select
              {...p}
              ref={refs.expedient}
              value={expedientId}
              onChange={(e) => {
                setExpedientId(e.target.value);
                setDocumentId('');
              }}
            >
              <option value="">{t('board.chooseExpedient')}</option>
              {(expedients.data?.items ?? []).map((x) => (
                <option key={x.id} value={x.id}>
                  {x.number} · {x.title}
                </option>
              ))}
            </select>
          )}
        </Field>
        <ErrorAlert error={expedients.error} />
        <fieldset className="radio-group">
          <legend>{t('board.source')}</legend>
          <div className="radio">
            <input
              type="radio"
              id={`${base}-src-doc`}
              name={`${base}-src`}
              checked={source === 'document'}
              onChange={() => setSource('document')}
            />
            <label htmlFor={`${base}-src-doc`}>{t('board.sourceDocument')}</label>
          </div>
          <div className="radio">
            <input
              type="radio"
              id={`${base}-src-up`}
              name={`${base}-src`}
              checked={source === 'upload'}
              onChange={() => setSource('upload')}
            />
            <label htmlFor={`${base}-src-up`}>{t('board.sourceUpload')}</label>
          </div>
        </fieldset>
        {source === 'document' ? (
          <Field label={t('board.document')} hint={t('board.documentHint')} required error={err('document')}>
            {(p) => (
              <select
                {...p}
                ref={refs.document}
                value={documentId}
                disabled={!expedientId}
                onChange={(e) => setDocumentId(e.target.value)}
              >
                <option value="">{t('board.chooseDocument')}</option>
                {entries.map((d) => (
                  <option key={d.documentId} value={d.documentId}>
                    {d.order}. {d.title}
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : (
          <div className="grid-2">
            <Field label={t('board.file')} hint={t('board.fileHint')} required error={err('file')}>
              {(p) => <input {...p} ref={refs.file} type="file" accept="application/pdf" />}
            </Field>
            <Field label={t('board.documentTitle')}>
              {(p) => (
                <input
                  {...p}
                  maxLength={500}
                  value={documentTitle}
                  onChange={(e) => setDocumentTitle(e.target.value)}
                />
              )}
            </Field>
          </div>
        )}
        <Field label={t('board.startDate')} hint={t('board.startDateHint')} required error={err('startDate')}>
          {(p) => (
            <input
              {...p}
              ref={refs.startDate}
              type="date"
              value={startDate}
              onChange={(e) => setStartDate(e.target.value)}
            />
          )}
        </Field>
        <fieldset className="radio-group">
          <legend>{t('board.periodKind')}</legend>
          <div className="radio">
            <input
              type="radio"
              id={`${base}-kind-term`}
              name={`${base}-kind`}
              checked={periodKind === 'term'}
              onChange={() => setPeriodKind('term')}
            />
            <label htmlFor={`${base}-kind-term`}>{t('board.periodTerm')}</label>
          </div>
          <div className="radio">
            <input
              type="radio"
              id={`${base}-kind-end`}
              name={`${base}-kind`}
              checked={periodKind === 'endDate'}
              onChange={() => setPeriodKind('endDate')}
            />
            <label htmlFor={`${base}-kind-end`}>{t('board.periodEndDate')}</label>
          </div>
        </fieldset>
        {periodKind === 'term' ? (
          <div className="grid-2">
            <Field label={t('board.termAmount')} required error={err('term')}>
              {(p) => (
                <input
                  {...p}
                  ref={refs.term}
                  type="number"
                  min={1}
                  max={3660}
                  inputMode="numeric"
                  value={amount}
                  onChange={(e) => setAmount(e.target.value)}
                />
              )}
            </Field>
            <Field label={t('board.termUnit')}>
              {(p) => (
                <select {...p} value={unit} onChange={(e) => setUnit(e.target.value as TermUnit)}>
                  <option value="business_days">{t('board.unit.business_days')}</option>
                  <option value="calendar_days">{t('board.unit.calendar_days')}</option>
                </select>
              )}
            </Field>
          </div>
        ) : (
          <Field label={t('board.endDate')} hint={t('board.endDateHint')} required error={err('endDate')}>
            {(p) => (
              <input
                {...p}
                ref={refs.endDate}
                type="date"
                value={endDate}
                onChange={(e) => setEndDate(e.target.value)}
              />
            )}
          </Field>
        )}
        <Field label={t('board.titleField')} hint={t('board.maskHint')} required error={err('title')}>
          {(p) => (
            <input
              {...p}
              ref={refs.title}
              maxLength={500}
              value={title}
              onChange={(e) => setTitle(e.target.value)}
            />
          )}
        </Field>
        <Field label={t('board.summary')} required error={err('summary')}>
          {(p) => (
            <textarea
              {...p}
              ref={refs.summary}
              rows={4}
              maxLength={4000}
              value={summary}
              onChange={(e) => setSummary(e.target.value)}
            />
          )}
        </Field>
        <div className={`checkbox${errors.reviewed ? ' field-invalid' : ''}`}>
          {errors.reviewed ? (
            <p className="field-error" id={`${base}-reviewed-error`}>
              {t(errors.reviewed)}
            </p>
          ) : null}
          <input
            ref={refs.reviewed}
            id={`${base}-reviewed`}
            type="checkbox"
            checked={reviewed}
            aria-invalid={errors.reviewed ? true : undefined}
            aria-describedby={errors.reviewed ? `${base}-reviewed-error` : undefined}
            onChange={(e) => setReviewed(e.target.checked)}
          />
          <label htmlFor={`${base}-reviewed`}>
            {t('board.reviewed')} <span className="required">({t('common.required')})</span>
          </label>
        </div>
        <button type="submit" className="button primary" disabled={publish.isPending}>
          {publish.isPending ? t('common.saving') : t('board.submit')}
        </button>
      </form>
    </section>
  );
}
