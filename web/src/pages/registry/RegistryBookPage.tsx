import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, entityPath, type Page, type Party, query, type RegistryEntrySummary } from '../../api.ts';
import { ErrorAlert, Loading } from '../../components/ErrorAlert.tsx';
import { Field } from '../../components/Field.tsx';
import { PageTitle } from '../../components/PageTitle.tsx';
import { Pagination } from '../../components/Pagination.tsx';
import { PartyPicker } from '../../components/PartyPicker.tsx';
import { formatDateTime, formatNumber } from '../../format.ts';
import { DIRECTIONS, usePartyNames, useRegistryRights, useUnits } from './registryCommon.ts';

type Filters = { direction: string; from: string; to: string; q: string; office: string; party: string };
const KEYS: (keyof Filters)[] = ['direction', 'from', 'to', 'q', 'office', 'party'];
const EMPTY: Filters = { direction: '', from: '', to: '', q: '', office: '', party: '' };

function filtersFrom(params: URLSearchParams): Filters {
  const f = { ...EMPTY };
  for (const k of KEYS) f[k] = params.get(k) ?? '';
  return f;
}

/**
 * The registry book (llibre de registre) of the entity: entries in the order of art. 31.2.b
 * (effective time, then number), filtered by direction, dates, text, office and party.
 */
export function RegistryBookPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const { slug = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const applied = filtersFrom(params);
  const page = Math.max(1, Number(params.get('page')) || 1);
  const [form, setForm] = useState<Filters>(applied);
  const [choosingParty, setChoosingParty] = useState(false);
  const resultsRef = useRef<HTMLHeadingElement>(null);
  const paramsKey = params.toString();
  useEffect(() => setForm(filtersFrom(new URLSearchParams(paramsKey))), [paramsKey]);
  const rights = useRegistryRights(slug);
  const units = useUnits(slug);
  const offices = (units.data ?? []).filter((u) => u.kind === 'office');
  const unitName = new Map((units.data ?? []).map((u) => [u.id, u.name]));

  const list = useQuery({
    queryKey: ['registry', slug, applied, page],
    queryFn: () =>
      api<Page<RegistryEntrySummary>>(
        `${entityPath(slug)}/registry${query({ ...applied, page: page > 1 ? page : undefined })}`,
      ),
    placeholderData: keepPreviousData,
  });
  const partyNames = usePartyNames(slug, [...(list.data?.items.map((x) => x.partyId) ?? []), form.party]);

  function apply(next: Filters, nextPage = 1) {
    const p = new URLSearchParams();
    for (const k of KEYS) if (next[k].trim()) p.set(k, next[k].trim());
    if (nextPage > 1) p.set('page', String(nextPage));
    setParams(p);
  }
  const set = (k: keyof Filters) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    setForm((f) => ({ ...f, [k]: e.target.value }));
  const pickParty = (party: Party) => {
    setForm((f) => ({ ...f, party: party.id }));
    setChoosingParty(false);
  };

  return (
    <>
      <div className="page-head">
        <PageTitle title={t('registry.title')}>{t('registry.title')}</PageTitle>
        {rights.directions.length > 0 ? (
          <Link to={`/e/${slug}/registry/new`} className="button primary">
            {t('registry.new')}
          </Link>
        ) : null}
      </div>
      <p className="lead">{t('registry.intro')}</p>
      <search className="filters card" aria-label={t('registry.searchLabel')}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            apply(form);
          }}
        >
          <div className="filter-grid">
            <Field label={t('registry.search')} hint={t('registry.searchHint')} className="filter-q">
              {(p) => <input {...p} type="search" name="q" value={form.q} onChange={set('q')} />}
            </Field>
            <Field label={t('registry.direction')}>
              {(p) => (
                <select {...p} name="direction" value={form.direction} onChange={set('direction')}>
                  <option value="">{t('registry.bothDirections')}</option>
                  {DIRECTIONS.map((d) => (
                    <option key={d} value={d}>
                      {t(`registry.dir.${d}`)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label={t('registry.from')}>
              {(p) => <input {...p} type="date" name="from" value={form.from} onChange={set('from')} />}
            </Field>
            <Field label={t('registry.to')}>
              {(p) => <input {...p} type="date" name="to" value={form.to} onChange={set('to')} />}
            </Field>
            <Field label={t('registry.office')}>
              {(p) => (
                <select {...p} name="office" value={form.office} onChange={set('office')}>
                  <option value="">{t('registry.allOffices')}</option>
                  {offices.map((u) => (
                    <option key={u.id} value={u.id}>
                      {u.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </div>
          <fieldset className="registry-party-filter">
            <legend className="group-label">{t('registry.partyFilter')}</legend>
            {form.party ? (
              <p>
                <strong>{partyNames.get(form.party) ?? form.party}</strong>{' '}
                <button
                  type="button"
                  className="button small secondary"
                  onClick={() => setForm((f) => ({ ...f, party: '' }))}
                >
                  {t('registry.anyParty')}
                </button>
              </p>
            ) : choosingParty ? (
              <PartyPicker slug={slug} pickLabel={t('registry.choose')} onPick={pickParty} />
            ) : (
              <p>
                <span className="muted">{t('registry.anyPartyNow')}</span>{' '}
                <button
                  type="button"
                  className="button small secondary"
                  onClick={() => setChoosingParty(true)}
                >
                  {t('registry.chooseParty')}
                </button>
              </p>
            )}
          </fieldset>
          <div className="actions">
            <button type="submit" className="button primary">
              {t('common.search')}
            </button>
            <button
              type="button"
              className="button secondary"
              onClick={() => {
                setForm(EMPTY);
                setChoosingParty(false);
                apply(EMPTY);
              }}
            >
              {t('common.clearFilters')}
            </button>
          </div>
        </form>
      </search>

      <section aria-labelledby="registry-results-heading" className="results">
        <h2 id="registry-results-heading" className="visually-hidden" ref={resultsRef} tabIndex={-1}>
          {t('registry.results')}
        </h2>
        <p role="status" className="result-count">
          {list.data
            ? t('registry.count', { count: list.data.total, formatted: formatNumber(list.data.total, lang) })
            : ''}
        </p>
        {list.isPending ? <Loading /> : null}
        <ErrorAlert error={list.error} />
        {list.data && list.data.items.length > 0 ? (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{t('registry.tableCaption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('registry.number')}</th>
                  <th scope="col">{t('registry.effectiveAt')}</th>
                  <th scope="col">{t('registry.presentedAt')}</th>
                  <th scope="col">{t('registry.heading')}</th>
                  <th scope="col">{t('registry.party')}</th>
                  <th scope="col">{t('registry.channel')}</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((x) => (
                  <tr key={x.id}>
                    <th scope="row" className="nowrap">
                      <Link to={`/e/${slug}/registry/${x.id}`}>{x.number}</Link>
                      <span className="visually-hidden"> ({t(`registry.dir.${x.direction}`)})</span>
                    </th>
                    <td className="nowrap">
                      {x.effectiveAt ? formatDateTime(x.effectiveAt, lang) : t('registry.effectivePending')}
                    </td>
                    <td className="nowrap">{formatDateTime(x.presentedAt, lang)}</td>
                    <td>
                      {x.heading}
                      {x.officeId && unitName.get(x.officeId) ? (
                        <span className="muted block">{unitName.get(x.officeId)}</span>
                      ) : null}
                    </td>
                    <td>{x.partyId ? (partyNames.get(x.partyId) ?? '…') : '—'}</td>
                    <td>{t(`registry.channelName.${x.channel}`, x.channel)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {list.data && list.data.items.length === 0 ? <p className="empty">{t('registry.none')}</p> : null}
        {list.data ? (
          <Pagination
            page={list.data.page}
            pageSize={list.data.pageSize}
            total={list.data.total}
            onPage={(n) => {
              apply(applied, n);
              resultsRef.current?.focus();
            }}
          />
        ) : null}
      </section>
    </>
  );
}
