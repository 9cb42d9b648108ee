import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, NavLink, Outlet, useLocation, useMatch, useNavigate } from 'react-router';
import { api, query } from '../api.ts';
import { Loading } from '../components/ErrorAlert.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { Shell } from '../components/Shell.tsx';
import { useMe } from '../session.ts';
import { type ConsoleEntity, consoleKeys, entityRef, hasConsoleRole, isOperator } from './consoleApi.ts';
import { ConsoleError, EntityStatusBadge } from './consoleUi.tsx';
import './console.css';

/**
 * The Diputació's console (issue 6): operators (roll-out, provisioning) and support technicians.
 * Users without a platform role get a "not found", as the API answers them.
 */
export function ConsoleLayout() {
  const { t } = useTranslation();
  const { data: me, isPending } = useMe();
  const atIndex = useMatch('/console');
  if (isPending) return <Loading />;
  if (!hasConsoleRole(me)) {
    return (
      <Shell>
        <PageTitle title={t('notFound.title')}>{t('notFound.title')}</PageTitle>
        <p>{t('notFound.page')}</p>
      </Shell>
    );
  }
  const operator = isOperator(me);
  // The dashboard is the operators'; a support technician starts at the support access requests.
  if (!operator && atIndex) return <Navigate to="/console/support" replace />;
  return (
    <Shell>
      <nav className="console-nav card" aria-label={t('console.nav.label')}>
        <p className="eyebrow">{t('console.nav.title')}</p>
        <ul>
          {operator ? (
            <>
              <li>
                <NavLink to="/console" end>
                  {t('console.nav.dashboard')}
                </NavLink>
              </li>
              <li>
                <NavLink to="/console/requests">{t('console.nav.requests')}</NavLink>
              </li>
              <li>
                <NavLink to="/console/waves">{t('console.nav.waves')}</NavLink>
              </li>
            </>
          ) : null}
          <li>
            <NavLink to="/console/support">{t('console.nav.support')}</NavLink>
          </li>
        </ul>
        {operator ? <EntitySearch /> : null}
      </nav>
      <Outlet />
    </Shell>
  );
}

const searchKey = (q: string) => [...consoleKeys.entities, 'search', q];
const searchEntities = (q: string) => api<ConsoleEntity[]>(`/console/entities${query({ q })}`);

/** Finds an entity by name, DIR3 or INE code; one match opens it, several are listed. */
function EntitySearch() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const id = useId();
  const [draft, setDraft] = useState('');
  const [q, setQ] = useState('');
  const queryClient = useQueryClient();
  const { pathname } = useLocation();
  // Opening a result (or any other page) closes the list of results.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on each change of page
  useEffect(() => setQ(''), [pathname]);
  return (
    <search className="console-search" aria-label={t('console.search.label')}>
      <form
        className="inline-search"
        onSubmit={async (e) => {
          e.preventDefault();
          const v = draft.trim();
          if (!v) return setQ('');
          const list = await queryClient
            .fetchQuery({ queryKey: searchKey(v), queryFn: () => searchEntities(v) })
            .catch(() => null);
          const only = list?.length === 1 ? list[0] : undefined;
          if (only) {
            setQ('');
            navigate(`/console/entities/${encodeURIComponent(entityRef(only))}`);
          } else setQ(v);
        }}
      >
        <label htmlFor={id}>{t('console.search.field')}</label>
        <input
          id={id}
          value={draft}
          maxLength={100}
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => setDraft(e.target.value)}
        />
        <button type="submit" className="button small">
          {t('common.search')}
        </button>
      </form>
      {q ? <SearchResults q={q} /> : null}
    </search>
  );
}

function SearchResults({ q }: { q: string }) {
  const { t } = useTranslation();
  const results = useQuery({ queryKey: searchKey(q), queryFn: () => searchEntities(q) });
  if (results.isPending) return <Loading />;
  if (results.error) return <ConsoleError error={results.error} />;
  const list = results.data ?? [];
  return (
    <div role="status">
      {list.length === 0 ? (
        <p className="empty">{t('console.search.none', { q })}</p>
      ) : (
        <>
          <p className="result-count">{t('console.search.count', { count: list.length, q })}</p>
          <ul>
            {list.slice(0, 20).map((e) => (
              <li key={e.id}>
                <Link to={`/console/entities/${encodeURIComponent(entityRef(e))}`}>{e.name}</Link>{' '}
                <span className="muted">{e.dir3}</span> <EntityStatusBadge status={e.status} />
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
