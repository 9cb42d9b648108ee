import { useTranslation } from 'react-i18next';
import type { Expedient } from '../../api.ts';
import { ErrorAlert, Loading } from '../../components/ErrorAlert.tsx';
import { formatDateTime } from '../../format.ts';
import { useExpedientIndex } from './indexQuery.ts';

/** The index of the case file (ENI): each document in order with its fingerprint. */
export function IndexTab({ slug, expedient: x }: { slug: string; expedient: Expedient }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const index = useExpedientIndex(slug, x.id);
  return (
    <div>
      <h2>{t('tabs.index')}</h2>
      <p>{t('index.explain')}</p>
      {index.isPending ? <Loading /> : null}
      <ErrorAlert error={index.error} />
      {index.data ? (
        <p>
          {t('index.eniId')}: <code>{index.data.eniId}</code>
        </p>
      ) : null}
      {index.data && index.data.entries.length === 0 ? <p className="empty">{t('documents.none')}</p> : null}
      {index.data && index.data.entries.length > 0 ? (
        <div className="table-wrap">
          <table className="index-table">
            <caption className="visually-hidden">{t('tabs.index')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('index.order')}</th>
                <th scope="col">{t('index.documentEniId')}</th>
                <th scope="col">{t('index.title')}</th>
                <th scope="col">{t('index.type')}</th>
                <th scope="col">{t('index.hash')}</th>
                <th scope="col">{t('index.incorporatedAt')}</th>
              </tr>
            </thead>
            <tbody>
              {index.data.entries.map((e) => (
                <tr key={e.documentId}>
                  <td>{e.order}</td>
                  <td>
                    <code className="break">{e.eniId}</code>
                  </td>
                  <td>{e.title}</td>
                  <td>
                    <abbr title={t(`docType.${e.documentType}`, e.documentType)}>{e.documentType}</abbr>
                  </td>
                  <td>
                    <code className="hash" data-hash-function={e.hashFunction}>
                      {e.sha256}
                    </code>
                  </td>
                  <td className="nowrap">{formatDateTime(e.incorporatedAt, lang)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
