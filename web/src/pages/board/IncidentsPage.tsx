import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api, entityPath } from '../../api.ts';
import { ErrorAlert, Loading } from '../../components/ErrorAlert.tsx';
import { Field } from '../../components/Field.tsx';
import { PageTitle } from '../../components/PageTitle.tsx';
import { formatCivilDate, formatDateTime, madridLocalToIso } from '../../format.ts';
import { rolesIn, useMe } from '../../session.ts';
import type { SeuIncident } from '../../staffSeu.ts';

const incidentsKey = (slug: string) => ['seu-incidents', slug] as const;

/**
 * The seu's technical incidents (RD 203/2021; LPACAP art. 32.4): when it failed, whether it was
 * unavailable and the extension of the deadlines decided. Every member reads them; an administrator
 * records them, and the end of an ongoing one and its extension, each once.
 */
export function IncidentsPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const { slug = '' } = useParams();
  const { data: me } = useMe();
  const isAdmin = rolesIn(me, slug).includes('admin');
  const list = useQuery({
    queryKey: incidentsKey(slug),
    queryFn: () => api<SeuIncident[]>(`${entityPath(slug)}/incidents`),
  });
  const items = list.data ?? [];

  return (
    <>
      <p className="breadcrumb">
        <Link to={`/e/${slug}/board`}>{t('board.title')}</Link>
      </p>
      <PageTitle title={t('incidents.title')}>{t('incidents.title')}</PageTitle>
      <p className="lead">{t('incidents.intro')}</p>
      <section aria-labelledby="incidents-list-heading">
        <h2 id="incidents-list-heading">{t('incidents.listHeading')}</h2>
        {list.isPending ? <Loading /> : null}
        <ErrorAlert error={list.error} />
        {list.data && items.length === 0 ? <p className="empty">{t('incidents.none')}</p> : null}
        {items.length > 0 ? (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{t('incidents.listHeading')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('incidents.description')}</th>
                  <th scope="col">{t('incidents.start')}</th>
                  <th scope="col">{t('incidents.end')}</th>
                  <th scope="col">{t('incidents.outage')}</th>
                  <th scope="col">{t('incidents.extension')}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((i) => (
                  <tr key={i.id}>
                    <th scope="row">{i.description}</th>
                    <td className="nowrap">{formatDateTime(i.startedAt, lang)}</td>
                    <td>
                      {i.endedAt ? formatDateTime(i.endedAt, lang) : t('incidents.ongoing')}
                      {isAdmin && i.ongoing ? <EndIncident slug={slug} incident={i} /> : null}
                    </td>
                    <td>{i.outage ? t('incidents.yes') : t('incidents.no')}</td>
                    <td>
                      {i.extension ? (
                        <>
                          {i.extension.decision}
                          {i.extension.newDate ? (
                            <span className="block muted">
                              {t('incidents.newDateIs', {
                                date: formatCivilDate(i.extension.newDate, lang, 'medium'),
                              })}
                            </span>
                          ) : null}
                          {i.extension.days ? (
                            <span className="block muted">
                              {t('incidents.daysAre', { count: i.extension.days })}
                            </span>
                          ) : null}
                        </>
                      ) : (
                        t('incidents.noExtension')
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
      {isAdmin ? <RecordIncident slug={slug} /> : null}
    </>
  );
}

/** Records the end of an ongoing incident (once). */
function EndIncident({ slug, incident }: { slug: string; incident: SeuIncident }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [at, setAt] = useState('');
  const [missing, setMissing] = useState(false);
  const ref = useRef<HTMLInputElement>(null);
  const end = useMutation({
    mutationFn: (endedAt: string) =>
      api<SeuIncident>(`${entityPath(slug)}/incidents/${encodeURIComponent(incident.id)}`, {
        method: 'PATCH',
        json: { endedAt },
      }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: incidentsKey(slug) }),
  });
  if (!open)
    return (
      <button
        type="button"
        className="button small secondary block"
        aria-label={`${t('incidents.recordEnd')}: ${incident.description}`}
        onClick={() => setOpen(true)}
      >
        {t('incidents.recordEnd')}
      </button>
    );
  return (
    <form
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const iso = madridLocalToIso(at);
        setMissing(!iso);
        if (!iso) return ref.current?.focus();
        end.mutate(iso);
      }}
    >
      <ErrorAlert error={end.error} />
      <Field label={t('incidents.endedAt')} required error={missing ? t('incidents.endRequired') : null}>
        {(p) => (
          <input {...p} ref={ref} type="datetime-local" value={at} onChange={(e) => setAt(e.target.value)} />
        )}
      </Field>
      <div className="actions">
        <button type="submit" className="button small" disabled={end.isPending}>
          {t('incidents.saveEnd')}
        </button>
        <button type="button" className="button small secondary" onClick={() => setOpen(false)}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}

type IncidentErrors = Partial<Record<'start' | 'end' | 'description' | 'extension', string>>;

function RecordIncident({ slug }: { slug: string }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const base = useId();
  const [start, setStart] = useState('');
  const [ongoing, setOngoing] = useState(false);
  const [end, setEnd] = useState('');
  const [description, setDescription] = useState('');
  const [outage, setOutage] = useState(true);
  const [extend, setExtend] = useState(false);
  const [decision, setDecision] = useState('');
  const [newDate, setNewDate] = useState('');
  const [days, setDays] = useState('');
  const [errors, setErrors] = useState<IncidentErrors>({});
  const [done, setDone] = useState(false);
  const startRef = useRef<HTMLInputElement>(null);
  const endRef = useRef<HTMLInputElement>(null);
  const descRef = useRef<HTMLTextAreaElement>(null);
  const decisionRef = useRef<HTMLTextAreaElement>(null);
  const errorId = `${base}-error`;

  const record = useMutation({
    mutationFn: (input: { startedAt: string; endedAt: string | null }) =>
      api<SeuIncident>(`${entityPath(slug)}/incidents`, {
        json: {
          startedAt: input.startedAt,
          endedAt: input.endedAt,
          description: description.trim(),
          outage,
          ...(extend
            ? {
                extension: {
                  decision: decision.trim(),
                  ...(newDate ? { newDate } : {}),
                  ...(days ? { days: Number(days) } : {}),
                },
              }
            : {}),
        },
      }),
    onMutate: () => setDone(false),
    onSuccess: async () => {
      setDone(true);
      setStart('');
      setEnd('');
      setDescription('');
      setExtend(false);
      setDecision('');
      setNewDate('');
      setDays('');
      await queryClient.invalidateQueries({ queryKey: incidentsKey(slug) });
    },
  });

  function submit(e: React.FormEvent) {
    e.preventDefault();
    const next: IncidentErrors = {};
    const startedAt = madridLocalToIso(start);
    const endedAt = ongoing ? null : madridLocalToIso(end);
    if (!startedAt) next.start = 'incidents.startRequired';
    if (!ongoing && !endedAt) next.end = 'incidents.endRequired';
    if (!description.trim()) next.description = 'incidents.descriptionRequired';
    if (extend && (!decision.trim() || (!newDate && !days))) next.extension = 'incidents.extensionRequired';
    setErrors(next);
    if (next.start) return startRef.current?.focus();
    if (next.end) return endRef.current?.focus();
    if (next.description) return descRef.current?.focus();
    if (next.extension) return decisionRef.current?.focus();
    if (!startedAt) return;
    record.mutate({ startedAt, endedAt });
  }

  return (
    <section className="card" aria-labelledby={`${base}-heading`}>
      <h2 id={`${base}-heading`}>{t('incidents.recordHeading')}</h2>
      <p role="status" className="status-message">
        {done ? t('incidents.recorded') : ''}
      </p>
      <form
        className="form"
        noValidate
        onSubmit={submit}
        aria-describedby={record.error ? errorId : undefined}
      >
        <ErrorAlert error={record.error} id={errorId} />
        <div className="grid-2">
          <Field
            label={t('incidents.start')}
            hint={t('incidents.timeHint')}
            required
            error={errors.start ? t(errors.start) : null}
          >
            {(p) => (
              <input
                {...p}
                ref={startRef}
                type="datetime-local"
                value={start}
                onChange={(e) => setStart(e.target.value)}
              />
            )}
          </Field>
          {!ongoing ? (
            <Field
              label={t('incidents.end')}
              hint={t('incidents.timeHint')}
              required
              error={errors.end ? t(errors.end) : null}
            >
              {(p) => (
                <input
                  {...p}
                  ref={endRef}
                  type="datetime-local"
                  value={end}
                  onChange={(e) => setEnd(e.target.value)}
                />
              )}
            </Field>
          ) : null}
        </div>
        <div className="checkbox">
          <input
            id={`${base}-ongoing`}
            type="checkbox"
            checked={ongoing}
            onChange={(e) => setOngoing(e.target.checked)}
          />
          <label htmlFor={`${base}-ongoing`}>{t('incidents.stillOngoing')}</label>
        </div>
        <Field
          label={t('incidents.description')}
          required
          error={errors.description ? t(errors.description) : null}
        >
          {(p) => (
            <textarea
              {...p}
              ref={descRef}
              rows={3}
              maxLength={4000}
              value={description}
              onChange={(e) => setDescription(e.target.value)}
            />
          )}
        </Field>
        <fieldset className="radio-group">
          <legend>{t('incidents.outageLegend')}</legend>
          <div className="radio">
            <input
              type="radio"
              id={`${base}-outage-yes`}
              name={`${base}-outage`}
              checked={outage}
              onChange={() => setOutage(true)}
            />
            <label htmlFor={`${base}-outage-yes`}>{t('incidents.outageYes')}</label>
          </div>
          <div className="radio">
            <input
              type="radio"
              id={`${base}-outage-no`}
              name={`${base}-outage`}
              checked={!outage}
              onChange={() => setOutage(false)}
            />
            <label htmlFor={`${base}-outage-no`}>{t('incidents.outageNo')}</label>
          </div>
        </fieldset>
        <div className="checkbox">
          <input
            id={`${base}-extend`}
            type="checkbox"
            checked={extend}
            onChange={(e) => setExtend(e.target.checked)}
          />
          <label htmlFor={`${base}-extend`}>{t('incidents.extendDeadlines')}</label>
        </div>
        {extend ? (
          <fieldset className="radio-group">
            <legend>{t('incidents.extension')}</legend>
            <Field
              label={t('incidents.decision')}
              hint={t('incidents.decisionHint')}
              required
              error={errors.extension ? t(errors.extension) : null}
            >
              {(p) => (
                <textarea
                  {...p}
                  ref={decisionRef}
                  rows={2}
                  maxLength={4000}
                  value={decision}
                  onChange={(e) => setDecision(e.target.value)}
                />
              )}
            </Field>
            <div className="grid-2">
              <Field label={t('incidents.newDate')}>
                {(p) => (
                  <input {...p} type="date" value={newDate} onChange={(e) => setNewDate(e.target.value)} />
                )}
              </Field>
              <Field label={t('incidents.days')}>
                {(p) => (
                  <input
                    {...p}
                    type="number"
                    min={1}
                    max={365}
                    inputMode="numeric"
                    value={days}
                    onChange={(e) => setDays(e.target.value)}
                  />
                )}
              </Field>
            </div>
          </fieldset>
        ) : null}
        <button type="submit" className="button primary" disabled={record.isPending}>
          {record.isPending ? t('common.saving') : t('incidents.submit')}
        </button>
      </form>
    </section>
  );
}
