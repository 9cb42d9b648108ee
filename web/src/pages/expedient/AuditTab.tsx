import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { type AuditEvent, api, entityPath, type Expedient } from '../../api.ts';
import { ErrorAlert, Loading } from '../../components/ErrorAlert.tsx';
import { formatDateTime } from '../../format.ts';

function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The event's details as "key: value" lines (values as the server recorded them). */
function Details({ details }: { details: unknown }) {
  if (!details || typeof details !== 'object') return null;
  const entries = Object.entries(details as Record<string, unknown>);
  if (entries.length === 0) return null;
  return (
    <ul className="details">
      {entries.map(([k, v]) => (
        <li key={k}>
          <span className="details-key">{k}</span>: <code>{show(v)}</code>
        </li>
      ))}
    </ul>
  );
}

/** The audit trail of the case file: who did what and when, from the entity's hash-chained log. */
export function AuditTab({ slug, expedient: x }: { slug: string; expedient: Expedient }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const audit = useQuery({
    queryKey: ['audit', slug, x.id],
    queryFn: () => api<AuditEvent[]>(`${entityPath(slug)}/expedients/${encodeURIComponent(x.id)}/audit`),
  });
  return (
    <div>
      <h2>{t('tabs.audit')}</h2>
      {audit.isPending ? <Loading /> : null}
      <ErrorAlert error={audit.error} />
      {audit.data && audit.data.length === 0 ? <p className="empty">{t('audit.none')}</p> : null}
      {audit.data && audit.data.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{t('tabs.audit')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('audit.seq')}</th>
                <th scope="col">{t('audit.at')}</th>
                <th scope="col">{t('audit.actor')}</th>
                <th scope="col">{t('audit.action')}</th>
                <th scope="col">{t('audit.details')}</th>
              </tr>
            </thead>
            <tbody>
              {audit.data.map((e) => (
                <tr key={e.seq}>
                  <td>{e.seq}</td>
                  <td className="nowrap">{formatDateTime(e.at, lang)}</td>
                  <td>{e.actor}</td>
                  <td>
                    <ActionLabel action={e.action} />
                  </td>
                  <td>
                    <Details details={e.details} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

/** The action in words when the catalogue has it, with the stable action code underneath. */
function ActionLabel({ action }: { action: string }) {
  const { t } = useTranslation();
  const label = t(`auditAction.${action}`, { defaultValue: '' });
  if (!label) return <code>{action}</code>;
  return (
    <>
      {label}
      <br />
      <code className="muted">{action}</code>
    </>
  );
}
