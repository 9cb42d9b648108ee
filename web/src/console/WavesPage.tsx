import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, query } from '../api.ts';
import { Loading } from '../components/ErrorAlert.tsx';
import { Field } from '../components/Field.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { formatCivilDate, formatNumber } from '../format.ts';
import {
  type Call,
  type ConsoleEntity,
  consoleKeys,
  dayOf,
  type EntityRef,
  entityRef,
  type Proposal,
  type Wave,
} from './consoleApi.ts';
import { ConsoleError, EntityStatusBadge } from './consoleUi.tsx';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Calls and waves (issue 6 item 2): the schedule of every wave with its entities and their
 * states; creating calls and waves; the proposal of a wave by the roll-out rule, which the
 * operator adjusts before saving the wave's final list.
 */
export function WavesPage() {
  const { t } = useTranslation();
  const calls = useQuery({ queryKey: consoleKeys.calls, queryFn: () => api<Call[]>('/console/calls') });
  const schedule = useQuery({
    queryKey: consoleKeys.schedule,
    queryFn: () => api<Wave[]>('/console/schedule'),
  });
  return (
    <>
      <PageTitle title={t('console.waves.title')}>{t('console.waves.title')}</PageTitle>
      <p className="lead">{t('console.waves.intro')}</p>

      <section aria-labelledby="schedule-heading">
        <h2 id="schedule-heading">{t('console.waves.schedule')}</h2>
        {schedule.isPending ? <Loading /> : null}
        <ConsoleError error={schedule.error} />
        {schedule.data && schedule.data.length === 0 ? (
          <p className="empty">{t('console.waves.none')}</p>
        ) : null}
        {(schedule.data ?? []).map((w) => (
          <WaveCard key={w.id} wave={w} />
        ))}
      </section>

      <section aria-labelledby="calls-heading">
        <h2 id="calls-heading">{t('console.calls.title')}</h2>
        {calls.isPending ? <Loading /> : null}
        <ConsoleError error={calls.error} />
        {calls.data && calls.data.length === 0 ? <p className="empty">{t('console.calls.none')}</p> : null}
        {calls.data && calls.data.length > 0 ? <CallsTable calls={calls.data} /> : null}
      </section>

      <div className="grid-2">
        <NewCallForm />
        <NewWaveForm calls={calls.data ?? []} />
      </div>
    </>
  );
}

function CallsTable({ calls }: { calls: Call[] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  return (
    <div className="table-wrap">
      <table>
        <caption className="visually-hidden">{t('console.calls.title')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('console.calls.name')}</th>
            <th scope="col">{t('console.calls.opensOn')}</th>
            <th scope="col">{t('console.calls.closesOn')}</th>
          </tr>
        </thead>
        <tbody>
          {calls.map((c) => (
            <tr key={c.id}>
              <th scope="row">{c.name}</th>
              <td>{formatCivilDate(dayOf(c.opensOn), lang, 'medium')}</td>
              <td>{formatCivilDate(dayOf(c.closesOn), lang, 'medium')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function WaveCard({ wave: w }: { wave: Wave }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<EditorRow[] | null>(null);
  const [rule, setRule] = useState<string | null>(null);
  const headingId = useId();
  const propose = useMutation({
    mutationFn: () => api<Proposal>(`/console/waves/${encodeURIComponent(w.id)}/proposal`),
    // The proposal fills the wave's free places: the entities already in it stay, first.
    onSuccess: (p) => {
      setRule(p.rule);
      const current: EditorRow[] = w.entities.map((e) => ({ ...e, currentProvider: null }));
      const proposed = p.entities.filter((e) => !current.some((c) => c.id === e.id));
      setEditing([...current, ...proposed.map((e) => ({ ...e, currentProvider: e.currentProvider }))]);
    },
  });
  return (
    <article className="card" aria-labelledby={headingId}>
      <h3 id={headingId}>{w.name}</h3>
      <dl className="data-list">
        <dt>{t('console.waves.call')}</dt>
        <dd>{w.callName}</dd>
        <dt>{t('console.waves.dates')}</dt>
        <dd>
          {t('console.waves.fromTo', {
            from: formatCivilDate(dayOf(w.plannedStart), lang, 'medium'),
            to: formatCivilDate(dayOf(w.plannedEnd), lang, 'medium'),
          })}
        </dd>
        <dt>{t('console.waves.certification')}</dt>
        <dd>{w.requiresCertification ? t('console.yes') : t('console.no')}</dd>
        <dt>{t('console.waves.capacity')}</dt>
        <dd>{w.capacity ?? t('console.waves.noCapacity')}</dd>
      </dl>
      {w.entities.length === 0 ? (
        <p className="empty">{t('console.waves.noEntities')}</p>
      ) : (
        <EntitiesTable caption={t('console.waves.entitiesOf', { name: w.name })} rows={w.entities} />
      )}
      {editing ? (
        <WaveEditor
          wave={w}
          rule={rule}
          initial={editing}
          onDone={() => {
            setEditing(null);
            setRule(null);
            void queryClient.invalidateQueries({ queryKey: ['console'] });
          }}
        />
      ) : (
        <div className="actions">
          <ConsoleError error={propose.error} />
          <button
            type="button"
            className="button"
            aria-label={`${t('console.waves.propose')}: ${w.name}`}
            disabled={propose.isPending}
            onClick={() => propose.mutate()}
          >
            {t('console.waves.propose')}
          </button>
          <button
            type="button"
            className="button secondary"
            aria-label={`${t('console.waves.edit')}: ${w.name}`}
            onClick={() => {
              setRule(null);
              setEditing(w.entities.map((e) => ({ ...e, currentProvider: null })));
            }}
          >
            {t('console.waves.edit')}
          </button>
        </div>
      )}
    </article>
  );
}

type EditorRow = EntityRef & { currentProvider: string | null };

function EntitiesTable({ caption, rows }: { caption: string; rows: EntityRef[] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  return (
    <div className="table-wrap">
      <table>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t('console.waves.position')}</th>
            <th scope="col">{t('console.request.entity')}</th>
            <th scope="col">{t('console.entity.ine')}</th>
            <th scope="col">{t('console.request.population')}</th>
            <th scope="col">{t('console.entity.status')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((e, i) => (
            <tr key={e.id}>
              <td>{i + 1}</td>
              <th scope="row">
                <Link to={`/console/entities/${encodeURIComponent(entityRef(e))}`}>{e.name}</Link>
              </th>
              <td>{e.ine ?? '—'}</td>
              <td>{e.population === null ? '—' : formatNumber(e.population, lang)}</td>
              <td>
                <EntityStatusBadge status={e.status} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function move<T>(list: T[], from: number, to: number): T[] {
  const next = [...list];
  const [item] = next.splice(from, 1);
  if (item !== undefined) next.splice(to, 0, item);
  return next;
}

/** The operator's adjustment of a wave's list: remove entities, add eligible ones, save in order. */
function WaveEditor({
  wave: w,
  rule,
  initial,
  onDone,
}: {
  wave: Wave;
  rule: string | null;
  initial: EditorRow[];
  onDone: () => void;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const [rows, setRows] = useState<EditorRow[]>(initial);
  const [toAdd, setToAdd] = useState('');
  const addId = useId();
  const headingId = useId();
  const eligible = useQuery({
    queryKey: [...consoleKeys.entities, 'requested'],
    queryFn: () => api<ConsoleEntity[]>(`/console/entities${query({ status: 'requested' })}`),
  });
  const candidates = (eligible.data ?? []).filter((e) => !rows.some((r) => r.id === e.id));
  const save = useMutation({
    mutationFn: () =>
      api<Wave>(`/console/waves/${encodeURIComponent(w.id)}/entities`, {
        method: 'PUT',
        json: { entityIds: rows.map((r) => r.id) },
      }),
    onSuccess: onDone,
  });
  return (
    <section className="subform" aria-labelledby={headingId}>
      <h4 id={headingId}>{t('console.waves.editorHeading', { name: w.name })}</h4>
      {rule ? (
        <p>
          <strong>{t('console.waves.rule')}:</strong> {t(`console.waves.ruleName.${rule}`, rule)}
        </p>
      ) : null}
      {rows.length === 0 ? <p className="empty">{t('console.waves.editorEmpty')}</p> : null}
      {rows.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">
              {t('console.waves.editorHeading', { name: w.name })}
            </caption>
            <thead>
              <tr>
                <th scope="col">{t('console.waves.position')}</th>
                <th scope="col">{t('console.request.entity')}</th>
                <th scope="col">{t('console.request.population')}</th>
                <th scope="col">{t('console.request.provider')}</th>
                <th scope="col">{t('console.waves.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e, i) => (
                <tr key={e.id}>
                  <td>{i + 1}</td>
                  <th scope="row">
                    {e.name} <span className="muted">{e.ine ?? e.dir3}</span>
                  </th>
                  <td>{e.population === null ? '—' : formatNumber(e.population, lang)}</td>
                  <td>{e.currentProvider || t('console.request.noProvider')}</td>
                  <td className="cell-actions">
                    <button
                      type="button"
                      className="button small secondary"
                      aria-label={`${t('console.waves.moveUp')}: ${e.name}`}
                      disabled={i === 0}
                      onClick={() => setRows((rs) => move(rs, i, i - 1))}
                    >
                      {t('console.waves.moveUp')}
                    </button>
                    <button
                      type="button"
                      className="button small secondary"
                      aria-label={`${t('console.waves.moveDown')}: ${e.name}`}
                      disabled={i === rows.length - 1}
                      onClick={() => setRows((rs) => move(rs, i, i + 1))}
                    >
                      {t('console.waves.moveDown')}
                    </button>
                    <button
                      type="button"
                      className="button small secondary"
                      aria-label={`${t('console.waves.removeEntity')}: ${e.name}`}
                      onClick={() => setRows((rs) => rs.filter((r) => r.id !== e.id))}
                    >
                      {t('console.waves.removeEntity')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <ConsoleError error={eligible.error} />
      <div className="inline-controls">
        <div className="field">
          <label htmlFor={addId}>{t('console.waves.addEntity')}</label>
          <select id={addId} value={toAdd} onChange={(e) => setToAdd(e.target.value)}>
            <option value="">{t('console.waves.chooseEntity')}</option>
            {candidates.map((e) => (
              <option key={e.id} value={e.id}>
                {e.name}
                {e.population === null ? '' : ` (${formatNumber(e.population, lang)})`}
              </option>
            ))}
          </select>
        </div>
        <button
          type="button"
          className="button secondary"
          disabled={!toAdd}
          onClick={() => {
            const e = candidates.find((c) => c.id === toAdd);
            if (e) setRows((rs) => [...rs, { ...e, currentProvider: null }]);
            setToAdd('');
          }}
        >
          {t('console.waves.add')}
        </button>
      </div>
      <ConsoleError error={save.error} />
      <div className="actions">
        <button
          type="button"
          className="button primary"
          disabled={save.isPending}
          onClick={() => save.mutate()}
        >
          {t('console.waves.saveList')}
        </button>
        <button type="button" className="button secondary" onClick={onDone}>
          {t('common.cancel')}
        </button>
      </div>
    </section>
  );
}

function NewCallForm() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [opensOn, setOpensOn] = useState('');
  const [closesOn, setClosesOn] = useState('');
  const [errors, setErrors] = useState<{ name?: string; opensOn?: string; closesOn?: string }>({});
  const nameRef = useRef<HTMLInputElement>(null);
  const create = useMutation({
    mutationFn: () => api<Call>('/console/calls', { json: { name: name.trim(), opensOn, closesOn } }),
    onSuccess: () => {
      setName('');
      setOpensOn('');
      setClosesOn('');
      void queryClient.invalidateQueries({ queryKey: consoleKeys.calls });
    },
  });
  return (
    <section aria-labelledby="new-call-heading" className="card">
      <h2 id="new-call-heading">{t('console.calls.new')}</h2>
      <form
        className="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const errs: typeof errors = {};
          if (!name.trim()) errs.name = t('console.form.required');
          if (!DATE.test(opensOn)) errs.opensOn = t('console.form.date');
          if (!DATE.test(closesOn)) errs.closesOn = t('console.form.date');
          else if (DATE.test(opensOn) && closesOn < opensOn) errs.closesOn = t('console.form.dateOrder');
          setErrors(errs);
          if (Object.keys(errs).length > 0) return nameRef.current?.focus();
          create.mutate();
        }}
      >
        <ConsoleError error={create.error} />
        {create.isSuccess ? (
          <p role="status" className="alert alert-info">
            {t('console.calls.created', { name: create.data.name })}
          </p>
        ) : null}
        <Field label={t('console.calls.name')} required error={errors.name ?? null}>
          {(p) => (
            <input
              {...p}
              ref={nameRef}
              maxLength={200}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          )}
        </Field>
        <Field label={t('console.calls.opensOn')} required error={errors.opensOn ?? null}>
          {(p) => <input {...p} type="date" value={opensOn} onChange={(e) => setOpensOn(e.target.value)} />}
        </Field>
        <Field label={t('console.calls.closesOn')} required error={errors.closesOn ?? null}>
          {(p) => <input {...p} type="date" value={closesOn} onChange={(e) => setClosesOn(e.target.value)} />}
        </Field>
        <button type="submit" className="button primary" disabled={create.isPending}>
          {t('console.calls.create')}
        </button>
      </form>
    </section>
  );
}

function NewWaveForm({ calls }: { calls: Call[] }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const base = useId();
  const [callId, setCallId] = useState('');
  const [name, setName] = useState('');
  const [plannedStart, setPlannedStart] = useState('');
  const [plannedEnd, setPlannedEnd] = useState('');
  const [capacity, setCapacity] = useState('');
  const [requiresCertification, setRequiresCertification] = useState(false);
  type Errs = {
    callId?: string;
    name?: string;
    plannedStart?: string;
    plannedEnd?: string;
    capacity?: string;
  };
  const [errors, setErrors] = useState<Errs>({});
  const callRef = useRef<HTMLSelectElement>(null);
  const chosenCall = callId || calls[0]?.id || '';
  const create = useMutation({
    mutationFn: () =>
      api<Wave>('/console/waves', {
        json: {
          callId: chosenCall,
          name: name.trim(),
          plannedStart,
          plannedEnd,
          requiresCertification,
          capacity: capacity.trim() ? Number(capacity) : null,
        },
      }),
    onSuccess: () => {
      setName('');
      setPlannedStart('');
      setPlannedEnd('');
      setCapacity('');
      setRequiresCertification(false);
      void queryClient.invalidateQueries({ queryKey: consoleKeys.schedule });
    },
  });
  return (
    <section aria-labelledby="new-wave-heading" className="card">
      <h2 id="new-wave-heading">{t('console.waves.new')}</h2>
      <form
        className="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const errs: Errs = {};
          if (!chosenCall) errs.callId = t('console.waves.needCall');
          if (!name.trim()) errs.name = t('console.form.required');
          if (!DATE.test(plannedStart)) errs.plannedStart = t('console.form.date');
          if (!DATE.test(plannedEnd)) errs.plannedEnd = t('console.form.date');
          else if (DATE.test(plannedStart) && plannedEnd < plannedStart)
            errs.plannedEnd = t('console.form.dateOrder');
          if (capacity.trim() && !/^[1-9]\d{0,4}$/.test(capacity.trim()))
            errs.capacity = t('console.form.positive');
          setErrors(errs);
          if (Object.keys(errs).length > 0) return callRef.current?.focus();
          create.mutate();
        }}
      >
        <ConsoleError error={create.error} />
        {create.isSuccess ? (
          <p role="status" className="alert alert-info">
            {t('console.waves.created', { name: create.data.name })}
          </p>
        ) : null}
        <Field label={t('console.waves.call')} required error={errors.callId ?? null}>
          {(p) => (
            <select {...p} ref={callRef} value={chosenCall} onChange={(e) => setCallId(e.target.value)}>
              {calls.length === 0 ? <option value="">{t('console.calls.none')}</option> : null}
              {calls.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('console.waves.name')} required error={errors.name ?? null}>
          {(p) => <input {...p} maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label={t('console.waves.plannedStart')} required error={errors.plannedStart ?? null}>
          {(p) => (
            <input
              {...p}
              type="date"
              value={plannedStart}
              onChange={(e) => setPlannedStart(e.target.value)}
            />
          )}
        </Field>
        <Field label={t('console.waves.plannedEnd')} required error={errors.plannedEnd ?? null}>
          {(p) => (
            <input {...p} type="date" value={plannedEnd} onChange={(e) => setPlannedEnd(e.target.value)} />
          )}
        </Field>
        <Field
          label={t('console.waves.capacity')}
          hint={t('console.waves.capacityHint')}
          error={errors.capacity ?? null}
        >
          {(p) => (
            <input
              {...p}
              inputMode="numeric"
              maxLength={5}
              value={capacity}
              onChange={(e) => setCapacity(e.target.value)}
            />
          )}
        </Field>
        <div className="checkbox">
          <input
            id={`${base}-cert`}
            type="checkbox"
            checked={requiresCertification}
            onChange={(e) => setRequiresCertification(e.target.checked)}
          />
          <label htmlFor={`${base}-cert`}>{t('console.waves.requiresCertification')}</label>
        </div>
        <button type="submit" className="button primary" disabled={create.isPending}>
          {t('console.waves.create')}
        </button>
      </form>
    </section>
  );
}
