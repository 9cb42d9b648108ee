import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, apiUrl } from '../api.ts';
import { ErrorAlert, Loading } from '../components/ErrorAlert.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { formatDateTime } from '../format.ts';
import { ENTITY_STATES, type EntityState, STATE_COLOURS } from './dashboardColours.ts';
import { type ProgressPoint, ProgressChart } from './ProgressChart.tsx';
import { type MapCollection, ProvinceMap, Swatch } from './ProvinceMap.tsx';

type ByState = Record<EntityState, number>;
export type DashboardData = {
  byState: ByState;
  byWave: { waveId: string; name: string; byState: ByState }[];
  byComarca: { comarca: string | null; total: number; byState: ByState }[];
  progress: ProgressPoint[];
  usage: {
    entityId: string;
    dir3: string;
    name: string;
    expedientsOpened30d: number;
    registryEntries30d: number;
    documentsSigned30d: number;
  }[];
  receiptsOwed: {
    entityId: string;
    dir3: string;
    name: string;
    owed: number;
    failing: number;
    oldestSince: string;
    lastError: string | null;
  }[];
  generatedAt: string;
};

const total = (b: ByState) => ENTITY_STATES.reduce((n, s) => n + b[s], 0);

/**
 * The province dashboard (issue 6): where the roll-out stands by state and by wave, how it went
 * day by day, the map of the municipalities by state, the figures by comarca, the use of the
 * entities on the service over the last 30 days, the entities that owe registry receipts their
 * requests could not issue, and the whole as CSV.
 */
export function DashboardPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const dashboard = useQuery({
    queryKey: ['console', 'dashboard'],
    queryFn: () => api<DashboardData>('/console/dashboard'),
    retry: false,
  });
  const map = useQuery({
    queryKey: ['console', 'map'],
    queryFn: () => api<MapCollection>('/console/map'),
    retry: false,
    staleTime: 60_000,
  });
  const d = dashboard.data;
  const stateHead = ENTITY_STATES.map((s) => (
    <th key={s} scope="col">
      {t(`dashboard.state.${s}`)}
    </th>
  ));
  const stateCells = (b: ByState) => ENTITY_STATES.map((s) => <td key={s}>{b[s]}</td>);

  return (
    <>
      <PageTitle title={t('dashboard.title')}>{t('dashboard.title')}</PageTitle>
      <p className="lead">{t('dashboard.intro')}</p>
      <p>
        <a href={apiUrl('/console/dashboard.csv')} download>
          {t('dashboard.csv')}
        </a>
      </p>
      {dashboard.isPending ? <Loading /> : null}
      <ErrorAlert error={dashboard.error} />
      {d ? (
        <>
          <p className="muted">{t('dashboard.generatedAt', { when: formatDateTime(d.generatedAt, lang) })}</p>

          <section aria-labelledby="dashboard-states">
            <h2 id="dashboard-states">{t('dashboard.byState.heading')}</h2>
            <div className="table-wrap">
              <table data-testid="dashboard-by-state">
                <caption className="visually-hidden">{t('dashboard.byState.heading')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('dashboard.byState.state')}</th>
                    <th scope="col">{t('dashboard.byState.count')}</th>
                  </tr>
                </thead>
                <tbody>
                  {ENTITY_STATES.map((s) => (
                    <tr key={s} data-status={s}>
                      <th scope="row">
                        <span style={{ display: 'inline-flex', alignItems: 'center', gap: '0.4rem' }}>
                          <Swatch colour={STATE_COLOURS[s]} />
                          {t(`dashboard.state.${s}`)}
                        </span>
                      </th>
                      <td>{d.byState[s]}</td>
                    </tr>
                  ))}
                  <tr data-status="total">
                    <th scope="row">{t('dashboard.total')}</th>
                    <td>{total(d.byState)}</td>
                  </tr>
                </tbody>
              </table>
            </div>
          </section>

          <section aria-labelledby="dashboard-waves">
            <h2 id="dashboard-waves">{t('dashboard.byWave.heading')}</h2>
            {d.byWave.length === 0 ? (
              <p>{t('dashboard.byWave.empty')}</p>
            ) : (
              <div className="table-wrap">
                <table data-testid="dashboard-by-wave">
                  <caption className="visually-hidden">{t('dashboard.byWave.heading')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('dashboard.byWave.wave')}</th>
                      <th scope="col">{t('dashboard.total')}</th>
                      {stateHead}
                    </tr>
                  </thead>
                  <tbody>
                    {d.byWave.map((w) => (
                      <tr key={w.waveId}>
                        <th scope="row">{w.name}</th>
                        <td>{total(w.byState)}</td>
                        {stateCells(w.byState)}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>

          <section aria-labelledby="dashboard-progress">
            <h2 id="dashboard-progress">{t('dashboard.progress.heading')}</h2>
            <ProgressChart points={d.progress} />
          </section>

          <section aria-labelledby="dashboard-map">
            <h2 id="dashboard-map">{t('dashboard.map.heading')}</h2>
            {map.isPending ? <Loading /> : null}
            <ErrorAlert error={map.error} />
            {map.data ? <ProvinceMap collection={map.data} counts={d.byState} /> : null}
          </section>

          <section aria-labelledby="dashboard-comarques">
            <h2 id="dashboard-comarques">{t('dashboard.byComarca.heading')}</h2>
            <div className="table-wrap">
              <table data-testid="dashboard-by-comarca">
                <caption className="visually-hidden">{t('dashboard.byComarca.heading')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('dashboard.byComarca.comarca')}</th>
                    <th scope="col">{t('dashboard.total')}</th>
                    {stateHead}
                  </tr>
                </thead>
                <tbody>
                  {d.byComarca.map((c) => (
                    <tr key={c.comarca ?? ''}>
                      <th scope="row">{c.comarca ?? t('dashboard.byComarca.none')}</th>
                      <td>{c.total}</td>
                      {stateCells(c.byState)}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>

          <section aria-labelledby="dashboard-usage">
            <h2 id="dashboard-usage">{t('dashboard.usage.heading')}</h2>
            {d.usage.length === 0 ? (
              <p>{t('dashboard.usage.empty')}</p>
            ) : (
              <div className="table-wrap">
                <table data-testid="dashboard-usage">
                  <caption className="visually-hidden">{t('dashboard.usage.heading')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('dashboard.usage.entity')}</th>
                      <th scope="col">{t('dashboard.usage.dir3')}</th>
                      <th scope="col">{t('dashboard.usage.expedients')}</th>
                      <th scope="col">{t('dashboard.usage.registry')}</th>
                      <th scope="col">{t('dashboard.usage.signed')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.usage.map((u) => (
                      <tr key={u.entityId}>
                        <th scope="row">{u.name}</th>
                        <td>{u.dir3}</td>
                        <td>{u.expedientsOpened30d}</td>
                        <td>{u.registryEntries30d}</td>
                        <td>{u.documentsSigned30d}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>

          <section aria-labelledby="dashboard-receipts">
            <h2 id="dashboard-receipts">{t('dashboard.receipts.heading')}</h2>
            <p className="muted">{t('dashboard.receipts.intro')}</p>
            {d.receiptsOwed.length === 0 ? (
              <p data-testid="dashboard-receipts-none">{t('dashboard.receipts.none')}</p>
            ) : (
              <div className="table-wrap">
                <table data-testid="dashboard-receipts">
                  <caption className="visually-hidden">{t('dashboard.receipts.heading')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('dashboard.usage.entity')}</th>
                      <th scope="col">{t('dashboard.usage.dir3')}</th>
                      <th scope="col">{t('dashboard.receipts.owed')}</th>
                      <th scope="col">{t('dashboard.receipts.failing')}</th>
                      <th scope="col">{t('dashboard.receipts.since')}</th>
                      <th scope="col">{t('dashboard.receipts.lastError')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.receiptsOwed.map((r) => (
                      <tr key={r.entityId}>
                        <th scope="row">{r.name}</th>
                        <td>{r.dir3}</td>
                        <td>{r.owed}</td>
                        <td>{r.failing}</td>
                        <td>{formatDateTime(r.oldestSince, lang)}</td>
                        <td>{r.lastError ?? '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      ) : null}
    </>
  );
}
