import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api } from '../api.ts';
import { Loading } from '../components/ErrorAlert.tsx';
import { Field } from '../components/Field.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { formatDateTime, formatNumber } from '../format.ts';
import {
  type Checklist,
  type ChecklistEntry,
  consoleKeys,
  type EntityDetail,
  type EntityStatus,
  type ProvisionResult,
  STATE_TRANSITIONS,
} from './consoleApi.ts';
import { ConsoleError, EnrolmentStatusBadge, EntityStatusBadge } from './consoleUi.tsx';

const entityPath = (ref: string) => `/console/entities/${encodeURIComponent(ref)}`;

/**
 * One entity in the console (issue 6 item 3): its state with its history, the allowed changes,
 * provisioning, the go-live checklist and its enrolment request.
 */
export function ConsoleEntityPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const { ref = '' } = useParams();
  const entity = useQuery({
    queryKey: consoleKeys.entity(ref),
    queryFn: () => api<EntityDetail>(entityPath(ref)),
  });
  if (entity.isPending) return <Loading />;
  if (entity.error || !entity.data) {
    return (
      <>
        <PageTitle title={t('console.entity.title')}>{t('console.entity.title')}</PageTitle>
        <ConsoleError error={entity.error} />
      </>
    );
  }
  const e = entity.data;
  const dash = '—';
  return (
    <>
      <div className="page-head">
        <div>
          <p className="eyebrow">{t('console.entity.title')}</p>
          <PageTitle title={`${e.name} · ${t('console.entity.title')}`}>{e.name}</PageTitle>
        </div>
      </div>
      <section aria-labelledby="entity-data-heading">
        <h2 id="entity-data-heading">{t('console.entity.data')}</h2>
        <dl className="data-list">
          <dt>{t('console.entity.status')}</dt>
          <dd>
            <EntityStatusBadge status={e.status} />
          </dd>
          <dt>{t('console.entity.dir3')}</dt>
          <dd>{e.dir3}</dd>
          <dt>{t('console.entity.ine')}</dt>
          <dd>{e.ine ?? dash}</dd>
          <dt>{t('console.request.kind')}</dt>
          <dd>{t(`console.entityKind.${e.kind}`, e.kind)}</dd>
          <dt>{t('console.entity.comarca')}</dt>
          <dd>{e.comarca ?? dash}</dd>
          <dt>{t('console.request.population')}</dt>
          <dd>{e.population === null ? dash : formatNumber(e.population, lang)}</dd>
          <dt>{t('console.entity.wave')}</dt>
          <dd>{e.wave ? <Link to="/console/waves">{e.wave.name}</Link> : t('console.entity.noWave')}</dd>
        </dl>
      </section>

      <StateChange entity={e} refKey={ref} />
      <History entity={e} />
      <Provision refKey={ref} status={e.status} />
      <ChecklistSection refKey={ref} />

      <section aria-labelledby="entity-request-heading">
        <h2 id="entity-request-heading">{t('console.entity.request')}</h2>
        {e.request ? (
          <dl className="data-list">
            <dt>{t('console.request.status')}</dt>
            <dd>
              <EnrolmentStatusBadge status={e.request.status} />
            </dd>
            <dt>{t('console.request.submittedAt')}</dt>
            <dd>{formatDateTime(e.request.submittedAt, lang)}</dd>
            <dt>{t('console.request.registryNumber')}</dt>
            <dd>{e.request.registryNumber ?? dash}</dd>
            <dt>{t('console.request.provider')}</dt>
            <dd>{e.request.currentProvider || t('console.request.noProvider')}</dd>
            <dt>{t('console.request.call')}</dt>
            <dd>{e.request.callName ?? dash}</dd>
            <dt>{t('console.entity.requestLink')}</dt>
            <dd>
              <Link to={`/console/requests/${encodeURIComponent(e.request.id)}`}>
                {t('console.entity.openRequest')}
              </Link>
            </dd>
          </dl>
        ) : (
          <p className="empty">{t('console.entity.noRequest')}</p>
        )}
      </section>
    </>
  );
}

function StateChange({ entity: e, refKey }: { entity: EntityDetail; refKey: string }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const allowed = STATE_TRANSITIONS[e.status as EntityStatus] ?? [];
  const [to, setTo] = useState('');
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState(false);
  const selectRef = useRef<HTMLSelectElement>(null);
  const change = useMutation({
    mutationFn: () =>
      api<EntityDetail>(`${entityPath(refKey)}/state`, {
        json: reason.trim() ? { to, reason: reason.trim() } : { to },
      }),
    onSuccess: (data) => {
      queryClient.setQueryData(consoleKeys.entity(refKey), data);
      setTo('');
      setReason('');
      void queryClient.invalidateQueries({ queryKey: ['console'] });
    },
  });
  return (
    <section aria-labelledby="entity-state-heading">
      <h2 id="entity-state-heading">{t('console.entity.changeState')}</h2>
      {e.missingForLive.length > 0 && (e.status === 'pilot' || e.status === 'suspended') ? (
        <div className="alert alert-info">
          <p>{t('console.entity.missingForLive')}</p>
          <ul>
            {e.missingForLive.map((m) => (
              <li key={m}>{t(`console.checklist.items.${m}`, m)}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {change.isSuccess ? (
        <p role="status" className="alert alert-info">
          {t('console.entity.stateChanged', { status: t(`console.entityStatus.${change.data.status}`) })}
        </p>
      ) : null}
      {allowed.length === 0 ? (
        <p>{t('console.entity.noTransitions')}</p>
      ) : (
        <form
          className="card form"
          noValidate
          onSubmit={(ev) => {
            ev.preventDefault();
            const empty = !to;
            setMissing(empty);
            if (empty) return selectRef.current?.focus();
            change.mutate();
          }}
        >
          <ConsoleError error={change.error} />
          <Field
            label={t('console.entity.newState')}
            required
            error={missing ? t('console.entity.chooseState') : null}
          >
            {(p) => (
              <select {...p} ref={selectRef} value={to} onChange={(ev) => setTo(ev.target.value)}>
                <option value="">{t('console.entity.chooseState')}</option>
                {allowed.map((s) => (
                  <option key={s} value={s}>
                    {t(`console.entityStatus.${s}`)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('console.entity.reason')}>
            {(p) => (
              <textarea
                {...p}
                rows={2}
                maxLength={2000}
                value={reason}
                onChange={(ev) => setReason(ev.target.value)}
              />
            )}
          </Field>
          <button type="submit" className="button primary" disabled={change.isPending}>
            {t('console.entity.applyState')}
          </button>
        </form>
      )}
    </section>
  );
}

function History({ entity: e }: { entity: EntityDetail }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  return (
    <section aria-labelledby="entity-history-heading">
      <h2 id="entity-history-heading">{t('console.entity.history')}</h2>
      {e.history.length === 0 ? (
        <p className="empty">{t('console.entity.noHistory')}</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{t('console.entity.history')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('console.entity.at')}</th>
                <th scope="col">{t('console.entity.from')}</th>
                <th scope="col">{t('console.entity.to')}</th>
                <th scope="col">{t('console.entity.by')}</th>
                <th scope="col">{t('console.entity.reason')}</th>
              </tr>
            </thead>
            <tbody>
              {e.history.map((h) => (
                <tr key={`${h.at}-${h.to}-${h.from ?? ''}`}>
                  <td className="nowrap">{formatDateTime(h.at, lang)}</td>
                  <td>{h.from ? t(`console.entityStatus.${h.from}`, h.from) : '—'}</td>
                  <td>{t(`console.entityStatus.${h.to}`, h.to)}</td>
                  <td>{h.by}</td>
                  <td className="pre-line">{h.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** The states provisioning runs in (creates in scheduled/provisioning, completes in pilot/live). */
const PROVISIONABLE = new Set(['scheduled', 'provisioning', 'pilot', 'live']);

function Provision({ refKey, status }: { refKey: string; status: string }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [adminName, setAdminName] = useState('');
  const [adminEmail, setAdminEmail] = useState('');
  const [adminUsername, setAdminUsername] = useState('');
  const provision = useMutation({
    mutationFn: () => {
      const body: Record<string, string> = {};
      if (adminName.trim()) body.adminName = adminName.trim();
      if (adminEmail.trim()) body.adminEmail = adminEmail.trim();
      if (adminUsername.trim()) body.adminUsername = adminUsername.trim();
      return api<ProvisionResult>(`${entityPath(refKey)}/provision`, { json: body });
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: consoleKeys.entity(refKey) });
      void queryClient.invalidateQueries({ queryKey: consoleKeys.checklist(refKey) });
    },
  });
  const r = provision.data;
  return (
    <section aria-labelledby="entity-provision-heading">
      <h2 id="entity-provision-heading">{t('console.provision.title')}</h2>
      <p>{t('console.provision.intro')}</p>
      {!PROVISIONABLE.has(status) && !r ? (
        <p className="empty">{t('console.provision.notYet')}</p>
      ) : (
        <form
          className="card form"
          noValidate
          onSubmit={(ev) => {
            ev.preventDefault();
            provision.mutate();
          }}
        >
          <ConsoleError error={provision.error} />
          <details>
            <summary>{t('console.provision.adminOverride')}</summary>
            <Field label={t('console.provision.adminName')}>
              {(p) => (
                <input
                  {...p}
                  maxLength={200}
                  value={adminName}
                  onChange={(ev) => setAdminName(ev.target.value)}
                />
              )}
            </Field>
            <Field label={t('console.provision.adminEmail')}>
              {(p) => (
                <input
                  {...p}
                  type="email"
                  maxLength={254}
                  value={adminEmail}
                  onChange={(ev) => setAdminEmail(ev.target.value)}
                />
              )}
            </Field>
            <Field label={t('console.provision.adminUsername')}>
              {(p) => (
                <input
                  {...p}
                  maxLength={64}
                  autoCapitalize="none"
                  spellCheck={false}
                  value={adminUsername}
                  onChange={(ev) => setAdminUsername(ev.target.value)}
                />
              )}
            </Field>
          </details>
          <button type="submit" className="button primary" disabled={provision.isPending}>
            {provision.isPending ? t('console.provision.running') : t('console.provision.run')}
          </button>
        </form>
      )}
      {r ? (
        <div role="status" className="card">
          <p>
            {t('console.provision.done', { username: r.adminUsername })}{' '}
            {r.invitationSent
              ? t('console.provision.invitationSent')
              : t('console.provision.invitationNotSent')}
          </p>
          <ul>
            {r.steps.map((s) => (
              <li key={s.step}>
                {t(`console.provision.steps.${s.step}`, s.step)}: {t(`console.provision.stepDone.${s.done}`)}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}

function ChecklistSection({ refKey }: { refKey: string }) {
  const { t } = useTranslation();
  const checklist = useQuery({
    queryKey: consoleKeys.checklist(refKey),
    queryFn: () => api<Checklist>(`${entityPath(refKey)}/checklist`),
  });
  const items = checklist.data?.items ?? [];
  return (
    <section aria-labelledby="entity-checklist-heading">
      <h2 id="entity-checklist-heading">{t('console.checklist.title')}</h2>
      <p>{t('console.checklist.intro')}</p>
      {checklist.isPending ? <Loading /> : null}
      <ConsoleError error={checklist.error} />
      {checklist.data ? (
        <p role="status">
          {checklist.data.missing.length === 0
            ? t('console.checklist.complete')
            : t('console.checklist.missingCount', { count: checklist.data.missing.length })}
        </p>
      ) : null}
      {items.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{t('console.checklist.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('console.checklist.item')}</th>
                <th scope="col">{t('console.checklist.status')}</th>
                <th scope="col">{t('console.checklist.details')}</th>
                <th scope="col">{t('console.checklist.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((it) => (
                <ChecklistRow key={it.item} entry={it} refKey={refKey} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

type RowAction = 'fact' | 'document' | 'bypass';

function ChecklistRow({ entry: it, refKey }: { entry: ChecklistEntry; refKey: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const queryClient = useQueryClient();
  const [action, setAction] = useState<RowAction | null>(null);
  const [text, setText] = useState('');
  const [reference, setReference] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [missing, setMissing] = useState(false);
  const firstRef = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const openerRef = useRef<HTMLButtonElement>(null);
  const wasOpen = useRef(false);
  // The opened form takes the focus; closed (saved or cancelled), the focus returns to the row's actions.
  useEffect(() => {
    if (action) {
      firstRef.current?.focus();
      wasOpen.current = true;
    } else if (wasOpen.current) {
      wasOpen.current = false;
      openerRef.current?.focus();
    }
  }, [action]);
  const name = t(`console.checklist.items.${it.item}`, it.item);
  const record = useMutation({
    mutationFn: () => {
      const base = `${entityPath(refKey)}/checklist`;
      if (action === 'bypass')
        return api<Checklist>(`${base}/certification/bypass`, { json: { reason: text.trim() } });
      if (action === 'document') {
        const form = new FormData();
        if (reference.trim()) form.append('reference', reference.trim());
        if (file) form.append('document', file);
        return api<Checklist>(`${base}/${encodeURIComponent(it.item)}`, { method: 'PUT', form });
      }
      return api<Checklist>(`${base}/${encodeURIComponent(it.item)}`, {
        method: 'PUT',
        json: reference.trim() ? { fact: text.trim(), reference: reference.trim() } : { fact: text.trim() },
      });
    },
    onSuccess: (data) => {
      queryClient.setQueryData(consoleKeys.checklist(refKey), data);
      void queryClient.invalidateQueries({ queryKey: consoleKeys.entity(refKey) });
      setAction(null);
      setText('');
      setReference('');
      setFile(null);
    },
  });
  function open(a: RowAction) {
    record.reset();
    setMissing(false);
    setAction(a);
  }
  const status = it.status;
  return (
    <tr>
      <th scope="row">
        {name}
        {!it.required ? <span className="block muted">{t('console.checklist.notRequired')}</span> : null}
      </th>
      <td>
        {status === 'missing' && !it.required ? (
          <span className="badge badge-e02">{t('console.checklist.statusName.notRequired')}</span>
        ) : (
          <span className={`badge ${status === 'missing' ? 'badge-e02' : 'badge-e01'}`}>
            {t(`console.checklist.statusName.${status}`, status)}
          </span>
        )}
      </td>
      <td>
        {it.documentName ? <span className="block">{it.documentName}</span> : null}
        {it.fact ? <span className="block pre-line">{it.fact}</span> : null}
        {it.bypassReason ? (
          <span className="block pre-line">
            {t('console.checklist.bypassReason')}: {it.bypassReason}
          </span>
        ) : null}
        {it.reference ? (
          <span className="block muted">
            {t('console.checklist.reference')}: {it.reference}
          </span>
        ) : null}
        {it.recordedAt ? (
          <span className="block muted">
            {formatDateTime(it.recordedAt, lang)}
            {it.recordedBy ? ` · ${it.recordedBy}` : ''}
          </span>
        ) : null}
      </td>
      <td>
        {action === null ? (
          <div className="cell-actions">
            {it.item === 'certification' ? (
              <button
                ref={openerRef}
                type="button"
                className="button small secondary"
                aria-label={`${t('console.checklist.bypass')}: ${name}`}
                onClick={() => open('bypass')}
              >
                {t('console.checklist.bypass')}
              </button>
            ) : (
              <>
                <button
                  ref={openerRef}
                  type="button"
                  className="button small secondary"
                  aria-label={`${t('console.checklist.recordFact')}: ${name}`}
                  onClick={() => open('fact')}
                >
                  {t('console.checklist.recordFact')}
                </button>
                <button
                  type="button"
                  className="button small secondary"
                  aria-label={`${t('console.checklist.uploadDocument')}: ${name}`}
                  onClick={() => open('document')}
                >
                  {t('console.checklist.uploadDocument')}
                </button>
              </>
            )}
          </div>
        ) : (
          <form
            noValidate
            onSubmit={(ev) => {
              ev.preventDefault();
              const empty = action === 'document' ? !file : !text.trim();
              setMissing(empty);
              if (empty) return firstRef.current?.focus();
              record.mutate();
            }}
          >
            <ConsoleError error={record.error} />
            {action === 'document' ? (
              <Field
                label={t('console.checklist.documentFor', { item: name })}
                required
                error={missing ? t('console.checklist.fileRequired') : null}
              >
                {(p) => (
                  <input
                    {...p}
                    ref={firstRef}
                    type="file"
                    accept="application/pdf,.pdf"
                    onChange={(ev) => setFile(ev.target.files?.[0] ?? null)}
                  />
                )}
              </Field>
            ) : (
              <Field
                label={
                  action === 'bypass'
                    ? t('console.checklist.bypassReasonFor', { item: name })
                    : t('console.checklist.factFor', { item: name })
                }
                required
                error={missing ? t('console.form.required') : null}
              >
                {(p) => (
                  <textarea
                    {...p}
                    ref={firstRef}
                    rows={2}
                    maxLength={2000}
                    value={text}
                    onChange={(ev) => setText(ev.target.value)}
                  />
                )}
              </Field>
            )}
            {action !== 'bypass' ? (
              <Field label={t('console.checklist.referenceFor', { item: name })}>
                {(p) => (
                  <input
                    {...p}
                    maxLength={200}
                    value={reference}
                    onChange={(ev) => setReference(ev.target.value)}
                  />
                )}
              </Field>
            ) : null}
            <div className="actions">
              <button type="submit" className="button small" disabled={record.isPending}>
                {action === 'bypass' ? t('console.checklist.confirmBypass') : t('console.checklist.save')}
              </button>
              <button type="button" className="button small secondary" onClick={() => setAction(null)}>
                {t('common.cancel')}
              </button>
            </div>
          </form>
        )}
      </td>
    </tr>
  );
}
