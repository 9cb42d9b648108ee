import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api.ts';
import { Loading } from '../components/ErrorAlert.tsx';
import { Field } from '../components/Field.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { formatDateTime } from '../format.ts';
import { ConsoleError } from './consoleUi.tsx';
import { SUPPORT_GRANT_MAX_HOURS, type SupportGrant, supportKeys } from './supportApi.ts';

/**
 * A support technician asks an entity for time-limited access (issue 6 item 4) and follows their
 * requests; an operator sees every request. The entity's administrator decides, in the entity.
 */
export function SupportGrantsConsolePage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const queryClient = useQueryClient();
  const errorId = useId();
  const [entity, setEntity] = useState('');
  const [reason, setReason] = useState('');
  const [hours, setHours] = useState('2');
  const [sent, setSent] = useState<SupportGrant | null>(null);
  const list = useQuery({
    queryKey: supportKeys.console,
    queryFn: () => api<SupportGrant[]>('/console/support-grants'),
  });
  const ask = useMutation({
    mutationFn: () =>
      api<SupportGrant>('/console/support-grants', {
        json: { entity: entity.trim(), reason: reason.trim(), durationHours: Number(hours) },
      }),
    onMutate: () => setSent(null),
    onSuccess: (g) => {
      setSent(g);
      setReason('');
      void queryClient.invalidateQueries({ queryKey: supportKeys.console });
    },
  });
  const items = list.data ?? [];
  return (
    <>
      <PageTitle title={t('support.console.title')}>{t('support.console.title')}</PageTitle>
      <p className="lead">{t('support.console.intro', { max: SUPPORT_GRANT_MAX_HOURS })}</p>
      <section className="card" aria-labelledby="support-ask-heading">
        <h2 id="support-ask-heading">{t('support.console.askHeading')}</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            ask.mutate();
          }}
          aria-describedby={ask.error ? errorId : undefined}
        >
          <Field label={t('support.console.entity')} hint={t('support.console.entityHint')} required>
            {(p) => (
              <input
                {...p}
                value={entity}
                maxLength={100}
                spellCheck={false}
                autoComplete="off"
                onChange={(e) => setEntity(e.target.value)}
              />
            )}
          </Field>
          <Field label={t('support.console.reason')} hint={t('support.console.reasonHint')} required>
            {(p) => (
              <textarea
                {...p}
                value={reason}
                maxLength={2000}
                rows={3}
                onChange={(e) => setReason(e.target.value)}
              />
            )}
          </Field>
          <Field
            label={t('support.console.duration')}
            hint={t('support.console.durationHint', { max: SUPPORT_GRANT_MAX_HOURS })}
            required
          >
            {(p) => (
              <input
                {...p}
                type="number"
                min={1}
                max={SUPPORT_GRANT_MAX_HOURS}
                step={1}
                inputMode="numeric"
                value={hours}
                onChange={(e) => setHours(e.target.value)}
              />
            )}
          </Field>
          <ConsoleError error={ask.error} id={errorId} />
          {sent ? (
            <p className="alert alert-info" role="status">
              {t('support.console.sent', { entity: sent.entity.name })}
            </p>
          ) : null}
          <div className="actions">
            <button type="submit" className="button" disabled={ask.isPending}>
              {ask.isPending ? t('support.console.sending') : t('support.console.submit')}
            </button>
          </div>
        </form>
      </section>
      <section aria-labelledby="support-list-heading">
        <h2 id="support-list-heading">{t('support.console.listHeading')}</h2>
        {list.isPending ? <Loading /> : null}
        <ConsoleError error={list.error} />
        {list.data && items.length === 0 ? <p className="empty">{t('support.console.none')}</p> : null}
        {items.length > 0 ? (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{t('support.console.listHeading')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('support.grant.entity')}</th>
                  <th scope="col">{t('support.grant.technician')}</th>
                  <th scope="col">{t('support.grant.reason')}</th>
                  <th scope="col">{t('support.grant.duration')}</th>
                  <th scope="col">{t('support.grant.status')}</th>
                  <th scope="col">{t('support.grant.requestedAt')}</th>
                  <th scope="col">{t('support.grant.period')}</th>
                  <th scope="col">{t('support.grant.note')}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((g) => (
                  <tr key={g.id}>
                    <th scope="row">
                      {g.entity.name} <span className="muted">({g.entity.dir3})</span>
                    </th>
                    <td>{g.technician.name || g.technician.username}</td>
                    <td>{g.reason}</td>
                    <td>{t('support.grant.hours', { count: g.durationHours })}</td>
                    <td>
                      <GrantStatusBadge status={g.status} />
                    </td>
                    <td>{formatDateTime(g.requestedAt, lang)}</td>
                    <td>{period(g, lang, t)}</td>
                    <td>{g.decisionNote ?? ''}</td>
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

export function GrantStatusBadge({ status }: { status: SupportGrant['status'] }) {
  const { t } = useTranslation();
  return <span className={`badge badge-support-${status}`}>{t(`support.status.${status}`)}</span>;
}

/** "from – to" of a grant, with its roles; empty while undecided or denied. */
export function period(
  g: SupportGrant,
  lang: string,
  t: (k: string, o?: Record<string, unknown>) => string,
): string {
  if (!g.startsAt || !g.endsAt) return '';
  return t('support.grant.periodValue', {
    from: formatDateTime(g.startsAt, lang),
    to: formatDateTime(g.revokedAt ?? g.endsAt, lang),
    roles: g.roles.map((r) => t(`support.roles.${r}`)).join(', '),
  });
}
