import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { api, entityPath, query } from '../api.ts';
import { Loading } from '../components/ErrorAlert.tsx';
import { Field } from '../components/Field.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { GrantStatusBadge, period } from '../console/SupportGrantsConsolePage.tsx';
import { ConsoleError } from '../console/consoleUi.tsx';
import { GRANTABLE_ROLES, type SupportGrant, supportKeys } from '../console/supportApi.ts';
import { formatDateTime } from '../format.ts';
import { rolesIn, useMe } from '../session.ts';

type AuditRow = {
  seq: number;
  at: string;
  actor: string;
  action: string;
  objectId: string | null;
  details: Record<string, unknown>;
};

/**
 * The entity's administrator and support access (issue 6 item 4; DOMAIN: support staff see an
 * entity's data only with its explicit, time-limited grant, all logged): the requests, granting
 * (with roles) or denying them, revoking a grant in force, and every access made under a grant.
 */
export function SupportAccessPage() {
  const { t } = useTranslation();
  const { slug = '' } = useParams();
  const { data: me } = useMe();
  const isAdmin = rolesIn(me, slug).includes('admin');
  return (
    <>
      <PageTitle title={t('support.entity.title')}>{t('support.entity.title')}</PageTitle>
      <p className="lead">{t('support.entity.intro')}</p>
      {isAdmin ? <AdminView slug={slug} /> : <p>{t('support.entity.adminOnly')}</p>}
    </>
  );
}

function AdminView({ slug }: { slug: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const queryClient = useQueryClient();
  const [deciding, setDeciding] = useState<SupportGrant | null>(null);
  const list = useQuery({
    queryKey: supportKeys.entity(slug),
    queryFn: () => api<SupportGrant[]>(`${entityPath(slug)}/support-grants`),
  });
  const audit = useQuery({
    queryKey: supportKeys.audit(slug),
    queryFn: () => api<AuditRow[]>(`${entityPath(slug)}/audit${query({ action: 'support.', limit: 200 })}`),
  });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: supportKeys.entity(slug) });
    void queryClient.invalidateQueries({ queryKey: supportKeys.audit(slug) });
  };
  const revoke = useMutation({
    mutationFn: (id: string) =>
      api<SupportGrant>(`${entityPath(slug)}/support-grants/${id}/revoke`, { json: {} }),
    onSuccess: refresh,
  });
  const items = list.data ?? [];
  const events = audit.data ?? [];
  return (
    <>
      <section aria-labelledby="support-requests-heading">
        <h2 id="support-requests-heading">{t('support.entity.listHeading')}</h2>
        {list.isPending ? <Loading /> : null}
        <ConsoleError error={list.error} />
        <ConsoleError error={revoke.error} />
        {list.data && items.length === 0 ? <p className="empty">{t('support.entity.none')}</p> : null}
        {items.length > 0 ? (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{t('support.entity.listHeading')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('support.grant.technician')}</th>
                  <th scope="col">{t('support.grant.reason')}</th>
                  <th scope="col">{t('support.grant.duration')}</th>
                  <th scope="col">{t('support.grant.status')}</th>
                  <th scope="col">{t('support.grant.requestedAt')}</th>
                  <th scope="col">{t('support.grant.period')}</th>
                  <th scope="col">{t('support.grant.note')}</th>
                  <th scope="col">{t('support.grant.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((g) => (
                  <tr key={g.id}>
                    <th scope="row">
                      {g.technician.name || g.technician.username}{' '}
                      <span className="muted">({g.technician.username})</span>
                    </th>
                    <td>{g.reason}</td>
                    <td>{t('support.grant.hours', { count: g.durationHours })}</td>
                    <td>
                      <GrantStatusBadge status={g.status} />
                    </td>
                    <td>{formatDateTime(g.requestedAt, lang)}</td>
                    <td>{period(g, lang, t)}</td>
                    <td>{g.decisionNote ?? ''}</td>
                    <td>
                      {g.status === 'requested' ? (
                        <button type="button" className="button secondary" onClick={() => setDeciding(g)}>
                          {t('support.entity.decide')}
                          <span className="visually-hidden">
                            {' '}
                            {t('support.entity.decideFor', {
                              name: g.technician.name || g.technician.username,
                            })}
                          </span>
                        </button>
                      ) : null}
                      {g.status === 'granted' ? (
                        <button
                          type="button"
                          className="button secondary"
                          disabled={revoke.isPending}
                          onClick={() => {
                            if (window.confirm(t('support.entity.revokeConfirm'))) revoke.mutate(g.id);
                          }}
                        >
                          {t('support.entity.revoke')}
                          <span className="visually-hidden">
                            {' '}
                            {t('support.entity.decideFor', {
                              name: g.technician.name || g.technician.username,
                            })}
                          </span>
                        </button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
      {deciding ? (
        <DecisionForm
          key={deciding.id}
          slug={slug}
          grant={deciding}
          onDone={() => {
            setDeciding(null);
            refresh();
          }}
          onCancel={() => setDeciding(null)}
        />
      ) : null}
      <section aria-labelledby="support-audit-heading">
        <h2 id="support-audit-heading">{t('support.entity.auditHeading')}</h2>
        <p>{t('support.entity.auditIntro')}</p>
        {audit.isPending ? <Loading /> : null}
        <ConsoleError error={audit.error} />
        {audit.data && events.length === 0 ? <p className="empty">{t('support.entity.noEvents')}</p> : null}
        {events.length > 0 ? (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{t('support.entity.auditHeading')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('support.audit.at')}</th>
                  <th scope="col">{t('support.audit.actor')}</th>
                  <th scope="col">{t('support.audit.action')}</th>
                  <th scope="col">{t('support.audit.what')}</th>
                </tr>
              </thead>
              <tbody>
                {events.map((e) => (
                  <tr key={e.seq}>
                    <td>{formatDateTime(e.at, lang)}</td>
                    <td>{e.actor}</td>
                    <td>
                      {t(`support.audit.actions.${e.action.replace('support.', '')}`, {
                        defaultValue: e.action,
                      })}
                    </td>
                    <td>
                      {e.action === 'support.access' ? (
                        <>
                          <code>
                            {String(e.details.method ?? '')} {String(e.details.path ?? '')}
                            {e.details.query ? `?${String(e.details.query)}` : ''}
                          </code>
                          {e.details.refused ? (
                            <span className="muted">
                              {' '}
                              {t('support.audit.refused', { code: String(e.details.refused) })}
                            </span>
                          ) : null}
                        </>
                      ) : (
                        String(e.details.reason ?? e.details.note ?? '')
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
    </>
  );
}

function DecisionForm({
  slug,
  grant,
  onDone,
  onCancel,
}: {
  slug: string;
  grant: SupportGrant;
  onDone: () => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const rolesId = useId();
  const errorId = useId();
  const [roles, setRoles] = useState<string[]>(['viewer']);
  const [note, setNote] = useState('');
  const [noteMissing, setNoteMissing] = useState(false);
  const decide = useMutation({
    mutationFn: (kind: 'grant' | 'deny') =>
      api<SupportGrant>(`${entityPath(slug)}/support-grants/${grant.id}/${kind}`, {
        json:
          kind === 'grant' ? { roles, ...(note.trim() ? { note: note.trim() } : {}) } : { note: note.trim() },
      }),
    onSuccess: onDone,
  });
  const name = grant.technician.name || grant.technician.username;
  return (
    <section className="card" aria-labelledby="support-decide-heading">
      <h2 id="support-decide-heading">{t('support.entity.decideHeading', { name })}</h2>
      <p>{t('support.entity.decideIntro', { count: grant.durationHours })}</p>
      <blockquote>{grant.reason}</blockquote>
      <form onSubmit={(e) => e.preventDefault()} aria-describedby={decide.error ? errorId : undefined}>
        <fieldset aria-describedby={`${rolesId}-hint`}>
          <legend>{t('support.entity.roles')}</legend>
          <p className="hint" id={`${rolesId}-hint`}>
            {t('support.entity.rolesHint')}
          </p>
          {GRANTABLE_ROLES.map((r) => (
            <label key={r} className="checkbox">
              <input
                type="checkbox"
                checked={roles.includes(r)}
                onChange={(e) =>
                  setRoles((cur) => (e.target.checked ? [...cur, r] : cur.filter((x) => x !== r)))
                }
              />{' '}
              {t(`support.roles.${r}`)}
            </label>
          ))}
        </fieldset>
        <Field
          label={t('support.entity.note')}
          hint={t('support.entity.noteHint')}
          error={noteMissing ? t('support.entity.noteRequired') : null}
        >
          {(p) => (
            <textarea
              {...p}
              value={note}
              maxLength={2000}
              rows={3}
              onChange={(e) => {
                setNote(e.target.value);
                setNoteMissing(false);
              }}
            />
          )}
        </Field>
        <ConsoleError error={decide.error} id={errorId} />
        <div className="actions">
          <button
            type="button"
            className="button"
            disabled={decide.isPending}
            onClick={() => decide.mutate('grant')}
          >
            {t('support.entity.grant')}
          </button>
          <button
            type="button"
            className="button secondary"
            disabled={decide.isPending}
            onClick={() => {
              if (!note.trim()) return setNoteMissing(true);
              decide.mutate('deny');
            }}
          >
            {t('support.entity.deny')}
          </button>
          <button type="button" className="button secondary" onClick={onCancel}>
            {t('common.cancel')}
          </button>
        </div>
      </form>
    </section>
  );
}
