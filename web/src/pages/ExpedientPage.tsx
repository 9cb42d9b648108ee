import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, entityPath, type Expedient } from '../api.ts';
import { ErrorAlert, Loading } from '../components/ErrorAlert.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { StateBadge } from '../components/StateBadge.tsx';
import { Tabs } from '../components/Tabs.tsx';
import { rolesIn, useMe } from '../session.ts';
import { AuditTab } from './expedient/AuditTab.tsx';
import { DataTab } from './expedient/DataTab.tsx';
import { DocumentsTab } from './expedient/DocumentsTab.tsx';
import { IndexTab } from './expedient/IndexTab.tsx';
import { NotificationsTab } from './expedient/NotificationsTab.tsx';
import { PartiesTab } from './expedient/PartiesTab.tsx';

const TABS = ['data', 'parties', 'documents', 'notifications', 'index', 'audit'] as const;
type Tab = (typeof TABS)[number];

export function expedientKey(slug: string, id: string) {
  return ['expedient', slug, id] as const;
}

/** One case file, with its data, interested parties, documents, index and audit trail as tabs. */
export function ExpedientPage() {
  const { t } = useTranslation();
  const { slug = '', id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const { data: me } = useMe();
  const roles = rolesIn(me, slug);
  const canWrite = roles.includes('admin') || roles.includes('handler');
  const isAdmin = roles.includes('admin');
  const requested = params.get('tab');
  const tab: Tab = TABS.includes(requested as Tab) ? (requested as Tab) : 'data';

  const expedient = useQuery({
    queryKey: expedientKey(slug, id),
    queryFn: () => api<Expedient>(`${entityPath(slug)}/expedients/${encodeURIComponent(id)}`),
  });

  if (expedient.isPending) return <Loading />;
  if (expedient.error || !expedient.data) {
    return (
      <>
        <p className="breadcrumb">
          <Link to={`/e/${slug}/expedients`}>{t('expedients.title')}</Link>
        </p>
        <PageTitle title={t('expedient.notFound')}>{t('expedient.notFound')}</PageTitle>
        <ErrorAlert error={expedient.error} />
      </>
    );
  }
  const x = expedient.data;
  const open = x.state === 'E01';

  return (
    <>
      <p className="breadcrumb">
        <Link to={`/e/${slug}/expedients`}>{t('expedients.title')}</Link>
      </p>
      <div className="page-head">
        <div>
          <p className="eyebrow">
            {t('expedient.label')} {x.number}
          </p>
          <PageTitle title={`${x.number} · ${x.title}`}>{x.title}</PageTitle>
        </div>
        <StateBadge state={x.state} />
      </div>
      <Tabs
        label={t('expedient.tabsLabel')}
        selected={tab}
        onSelect={(next) => setParams(next === 'data' ? {} : { tab: next }, { replace: true })}
        tabs={TABS.map((id) => ({ id, label: t(`tabs.${id}`) }))}
      >
        {tab === 'data' ? <DataTab slug={slug} expedient={x} canWrite={canWrite} isAdmin={isAdmin} /> : null}
        {tab === 'parties' ? <PartiesTab slug={slug} expedient={x} canWrite={canWrite && open} /> : null}
        {tab === 'documents' ? <DocumentsTab slug={slug} expedient={x} canWrite={canWrite && open} /> : null}
        {tab === 'notifications' ? (
          <NotificationsTab
            slug={slug}
            expedient={x}
            canNotify={canWrite}
            canRecordAttempts={canWrite || roles.includes('registrar')}
          />
        ) : null}
        {tab === 'index' ? <IndexTab slug={slug} expedient={x} /> : null}
        {tab === 'audit' ? <AuditTab slug={slug} expedient={x} /> : null}
      </Tabs>
    </>
  );
}
