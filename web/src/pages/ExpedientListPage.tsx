import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, entityPath, type ExpedientSummary, type Page, query } from '../api.ts';
import { ErrorAlert, Loading } from '../components/ErrorAlert.tsx';
import { Field } from '../components/Field.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { Pagination } from '../components/Pagination.tsx';
import { StateBadge } from '../components/StateBadge.tsx';
import { formatDate, formatNumber } from '../format.ts';

type Filters = { q: string; state: string; year: string; party: string };

function filtersFrom(params: URLSearchParams): Filters {
  return {
    q: params.get('q') ?? '',
    state: params.get('state') ?? '',
    year: params.get('year') ?? '',
    party: params.get('party') ?? '',
  };
}

/** The entity's case files: full-text search, filters by state, year and party, and pages. */
export function ExpedientListPage() {
  const { t, i18n } = useTranslation();
  const { slug = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const applied = filtersFrom(params);
  const page = Math.max(1, Number(params.get('page')) || 1);
  const [form, setForm] = useState<Filters>(applied);
  const resultsRef = useRef<HTMLHeadingElement>(null);
  const paramsKey = params.toString();
  // The form follows the URL (back/forward) when the URL changes.
  useEffect(() => setForm(filtersFrom(new URLSearchParams(paramsKey))), [paramsKey]);

  const list = useQuery({
    queryKey: ['expedients', slug, applied, page],
    queryFn: () =>
      api<Page<ExpedientSummary>>(
        `${entityPath(slug)}/expedients${query({ ...applied, page: page > 1 ? page : undefined })}`,
      ),
    placeholderData: keepPreviousData,
  });

  const thisYear = new Date().getFullYear();
  const years = Array.from({ length: 12 }, (_, i) => String(thisYear - i));
  const lang = i18n.resolvedLanguage ?? 'ca';

  function apply(next: Filters, nextPage = 1) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(next)) if (v.trim()) p.set(k, v.trim());
    if (nextPage > 1) p.set('page', String(nextPage));
    setParams(p);
  }

  const set = (k: keyof Filters) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    setForm((f) => ({ ...f, [k]: e.target.value }));

  return (
    <>
      <div className="page-head">
        <PageTitle title={t('expedients.title')}>{t('expedients.title')}</PageTitle>
        <Link to={`/e/${slug}/expedients/new`} className="button primary">
          {t('expedients.new')}
        </Link>
      </div>
      <search className="filters card" aria-label={t('expedients.searchLabel')}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            apply(form);
          }}
        >
          <div className="filter-grid">
            <Field label={t('expedients.search')} hint={t('expedients.searchHint')} className="filter-q">
              {(p) => <input {...p} type="search" name="q" value={form.q} onChange={set('q')} />}
            </Field>
            <Field label={t('expedients.state')}>
              {(p) => (
                <select {...p} name="state" value={form.state} onChange={set('state')}>
                  <option value="">{t('common.all')}</option>
                  <option value="E01">{t('state.E01')}</option>
                  <option value="E02">{t('state.E02')}</option>
                </select>
              )}
            </Field>
            <Field label={t('expedients.year')}>
              {(p) => (
                <select {...p} name="year" value={form.year} onChange={set('year')}>
                  <option value="">{t('common.all')}</option>
                  {years.map((y) => (
                    <option key={y} value={y}>
                      {y}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label={t('expedients.party')} hint={t('expedients.partyHint')}>
              {(p) => (
                <input
                  {...p}
                  name="party"
                  autoCapitalize="characters"
                  spellCheck={false}
                  value={form.party}
                  onChange={set('party')}
                />
              )}
            </Field>
          </div>
          <div className="actions">
            <button type="submit" className="button primary">
              {t('common.search')}
            </button>
            <button
              type="button"
              className="button secondary"
              onClick={() => {
                const empty = { q: '', state: '', year: '', party: '' };
                setForm(empty);
                apply(empty);
              }}
            >
              {t('common.clearFilters')}
            </button>
          </div>
        </form>
      </search>

      <section aria-labelledby="results-heading" className="results">
        <h2 id="results-heading" className="visually-hidden" ref={resultsRef} tabIndex={-1}>
          {t('expedients.results')}
        </h2>
        <p role="status" className="result-count">
          {list.data
            ? t('expedients.count', {
                count: list.data.total,
                formatted: formatNumber(list.data.total, lang),
              })
            : ''}
        </p>
        {list.isPending ? <Loading /> : null}
        <ErrorAlert error={list.error} />
        {list.data && list.data.items.length > 0 ? (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{t('expedients.tableCaption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('expedient.number')}</th>
                  <th scope="col">{t('expedient.titleField')}</th>
                  <th scope="col">{t('expedient.state')}</th>
                  <th scope="col">{t('expedient.unit')}</th>
                  <th scope="col">{t('expedient.openedAt')}</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((x) => (
                  <tr key={x.id}>
                    <td className="nowrap">
                      <Link to={`/e/${slug}/expedients/${x.id}`}>{x.number}</Link>
                    </td>
                    <td>{x.title}</td>
                    <td>
                      <StateBadge state={x.state} />
                    </td>
                    <td>{x.unit?.name ?? '—'}</td>
                    <td className="nowrap">{formatDate(x.openedAt, lang)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {list.data && list.data.items.length === 0 ? <p className="empty">{t('expedients.none')}</p> : null}
        {list.data ? (
          <Pagination
            page={list.data.page}
            pageSize={list.data.pageSize}
            total={list.data.total}
            onPage={(n) => {
              apply(applied, n);
              // The pressed button may now be disabled: continue from the top of the results.
              resultsRef.current?.focus();
            }}
          />
        ) : null}
      </section>
    </>
  );
}
