import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { api, query } from '../api.ts';
import { Loading } from '../components/ErrorAlert.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { formatDateTime, formatNumber } from '../format.ts';
import { ENROLMENT_STATUSES, type EnrolmentSummary, consoleKeys } from './consoleApi.ts';
import { ConsoleError, EnrolmentStatusBadge } from './consoleUi.tsx';

/** The operators' inbox of enrolment requests (issue 6 item 1), filtered by status. */
export function EnrolmentInboxPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? '';
  const filterId = useId();
  const list = useQuery({
    queryKey: [...consoleKeys.requests, status],
    queryFn: () => api<EnrolmentSummary[]>(`/console/enrolment-requests${query({ status })}`),
  });
  const items = list.data ?? [];
  return (
    <>
      <PageTitle title={t('console.inbox.title')}>{t('console.inbox.title')}</PageTitle>
      <p className="lead">{t('console.inbox.intro')}</p>
      <div className="filters card">
        <div className="field">
          <label htmlFor={filterId}>{t('console.inbox.filterStatus')}</label>
          <select
            id={filterId}
            value={status}
            onChange={(e) => setParams(e.target.value ? { status: e.target.value } : {}, { replace: true })}
          >
            <option value="">{t('console.inbox.allStatuses')}</option>
            {ENROLMENT_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`console.requestStatus.${s}`)}
              </option>
            ))}
          </select>
        </div>
      </div>
      <section aria-labelledby="inbox-list-heading">
        <h2 id="inbox-list-heading">{t('console.inbox.listHeading')}</h2>
        {list.isPending ? <Loading /> : null}
        <ConsoleError error={list.error} />
        {list.data && items.length === 0 ? <p className="empty">{t('console.inbox.none')}</p> : null}
        {items.length > 0 ? (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{t('console.inbox.listHeading')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('console.request.entity')}</th>
                  <th scope="col">{t('console.request.kind')}</th>
                  <th scope="col">{t('console.request.population')}</th>
                  <th scope="col">{t('console.request.provider')}</th>
                  <th scope="col">{t('console.request.submittedAt')}</th>
                  <th scope="col">{t('console.request.registryNumber')}</th>
                  <th scope="col">{t('console.request.status')}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((r) => (
                  <tr key={r.id}>
                    <th scope="row">
                      <Link to={`/console/requests/${encodeURIComponent(r.id)}`}>{r.entityName}</Link>
                      {r.callName ? <span className="block muted">{r.callName}</span> : null}
                    </th>
                    <td>{t(`console.entityKind.${r.entityKind}`, r.entityKind)}</td>
                    <td>{formatNumber(r.population, lang)}</td>
                    <td>{r.currentProvider || t('console.request.noProvider')}</td>
                    <td className="nowrap">{formatDateTime(r.submittedAt, lang)}</td>
                    <td className="nowrap">{r.registryNumber ?? '—'}</td>
                    <td>
                      <EnrolmentStatusBadge status={r.status} />
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
