import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams, useSearchParams } from 'react-router';
import {
  ApiError,
  api,
  type CalendarYear,
  type Deadline,
  type DeadlineUnit,
  entityPath,
  query,
} from '../api.ts';
import { ErrorAlert, Loading } from '../components/ErrorAlert.tsx';
import { Field } from '../components/Field.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { formatCivilDate, madridToday } from '../format.ts';

const UNITS: DeadlineUnit[] = ['business_days', 'calendar_days', 'months', 'years'];
const RESIDENCE = /^([0-9]{5}|L01[0-9]{6})$/;

/**
 * The entity's calendar: the year's non-business days with their names (weekends are always
 * non-business), and a deadline calculator (LPACAP art. 30) that shows the days it skipped.
 */
export function CalendarPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const { slug = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const thisYear = Number(madridToday().slice(0, 4));
  const requested = Number(params.get('year'));
  const year = Number.isInteger(requested) && requested >= 2000 && requested <= 2100 ? requested : thisYear;
  const headingRef = useRef<HTMLHeadingElement>(null);

  const calendar = useQuery({
    queryKey: ['calendar', slug, year],
    queryFn: () => api<CalendarYear>(`${entityPath(slug)}/calendar/${year}`),
    placeholderData: keepPreviousData,
    retry: false,
  });
  const incomplete = calendar.error instanceof ApiError && calendar.error.code === 'CALENDAR_INCOMPLETE';
  // What is known of an incomplete year, shown under the warning.
  const partial = useQuery({
    queryKey: ['calendar', slug, year, 'partial'],
    queryFn: () =>
      api<CalendarYear>(`${entityPath(slug)}/calendar/${year}${query({ includeIncomplete: 'true' })}`),
    enabled: incomplete,
    retry: false,
  });
  const data = calendar.data?.year === year ? calendar.data : incomplete ? partial.data : undefined;

  function goYear(next: number) {
    setParams(next === thisYear ? {} : { year: String(next) });
    headingRef.current?.focus();
  }

  return (
    <>
      <PageTitle title={t('calendar.title')}>{t('calendar.title')}</PageTitle>
      <p className="lead">{t('calendar.intro')}</p>

      <section aria-labelledby="calendar-year-heading">
        <div className="page-head">
          <h2 id="calendar-year-heading" ref={headingRef} tabIndex={-1}>
            {t('calendar.yearHeading', { year })}
          </h2>
          <nav className="year-switcher" aria-label={t('calendar.yearNav')}>
            <button type="button" className="button secondary" onClick={() => goYear(year - 1)}>
              <span aria-hidden="true">← </span>
              {t('calendar.yearButton', { year: year - 1 })}
            </button>
            {year !== thisYear ? (
              <button type="button" className="button secondary" onClick={() => goYear(thisYear)}>
                {t('calendar.thisYear')}
              </button>
            ) : null}
            <button type="button" className="button secondary" onClick={() => goYear(year + 1)}>
              {t('calendar.yearButton', { year: year + 1 })}
              <span aria-hidden="true"> →</span>
            </button>
          </nav>
        </div>
        {calendar.isFetching && !data ? <Loading /> : null}
        {incomplete ? (
          <div className="alert alert-error" role="alert">
            <p>
              <strong>{t('calendar.incompleteTitle', { year })}</strong>
            </p>
            <p>
              {partial.data?.missing
                ? t(`calendar.missing.${partial.data.missing.layer}`, {
                    year: partial.data.missing.year,
                    place: partial.data.missing.place,
                  })
                : t('errors.CALENDAR_INCOMPLETE')}
            </p>
            <p>{t('calendar.incompleteConsequence')}</p>
          </div>
        ) : (
          <ErrorAlert error={calendar.error} />
        )}
        {data ? (
          <>
            <p>
              {t('calendar.place', { place: data.place, entity: data.entity.name })} {t('calendar.weekends')}
            </p>
            {data.days.length === 0 ? (
              <p className="empty">{t('calendar.noDays')}</p>
            ) : (
              <div className="table-wrap">
                <table>
                  <caption>
                    {t('calendar.tableCaption', { year: data.year, entity: data.entity.name })}
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('calendar.date')}</th>
                      <th scope="col">{t('calendar.holiday')}</th>
                      <th scope="col">{t('calendar.scope')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.days.map((d) => (
                      <tr key={d.date}>
                        <th scope="row" className="nowrap">
                          <time dateTime={d.date}>{formatCivilDate(d.date, lang)}</time>
                          {d.weekend ? <span className="block muted">{t('calendar.onWeekend')}</span> : null}
                        </th>
                        <td>
                          {d.holidays.map((h) => (
                            <span key={`${h.scope}-${h.name}`} className="block">
                              {h.name}
                            </span>
                          ))}
                        </td>
                        <td>
                          {d.holidays.map((h) => (
                            <span key={`${h.scope}-${h.name}`} className="block">
                              {t(`calendar.scopeName.${h.scope}`, h.scope)}
                            </span>
                          ))}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        ) : null}
      </section>

      <DeadlineCalculator slug={slug} />
    </>
  );
}

type Form = { start: string; amount: string; unit: DeadlineUnit; residence: string };

function DeadlineCalculator({ slug }: { slug: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const [form, setForm] = useState<Form>({
    start: madridToday(),
    amount: '10',
    unit: 'business_days',
    residence: '',
  });
  const [asked, setAsked] = useState<Form | null>(null);
  const [errors, setErrors] = useState<Partial<Record<'start' | 'amount' | 'residence', string>>>({});
  const refs = {
    start: useRef<HTMLInputElement>(null),
    amount: useRef<HTMLInputElement>(null),
    residence: useRef<HTMLInputElement>(null),
  };
  const result = useQuery({
    queryKey: ['deadline', slug, asked],
    queryFn: () =>
      api<Deadline>(
        `${entityPath(slug)}/calendar/deadline${query({
          start: asked?.start,
          amount: asked?.amount,
          unit: asked?.unit,
          residence: asked?.residence.trim().toUpperCase() || undefined,
        })}`,
      ),
    enabled: asked !== null,
    retry: false,
  });

  function submit(e: React.FormEvent) {
    e.preventDefault();
    const next: typeof errors = {};
    if (!/^\d{4}-\d{2}-\d{2}$/.test(form.start)) next.start = 'deadline.startRequired';
    const n = Number(form.amount);
    if (!Number.isInteger(n) || n < 1 || n > 3660) next.amount = 'deadline.amountInvalid';
    if (form.residence.trim() && !RESIDENCE.test(form.residence.trim().toUpperCase()))
      next.residence = 'deadline.residenceInvalid';
    setErrors(next);
    const first = (['start', 'amount', 'residence'] as const).find((k) => next[k]);
    if (first) {
      refs[first].current?.focus();
      return;
    }
    setAsked({ ...form });
  }
  const set = (k: keyof Form) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    setForm((f) => ({ ...f, [k]: e.target.value }));
  const d = result.data;

  return (
    <section aria-labelledby="deadline-heading" className="card">
      <h2 id="deadline-heading">{t('deadline.heading')}</h2>
      <p className="hint">{t('deadline.explain')}</p>
      <form className="form" noValidate onSubmit={submit}>
        <div className="grid-2">
          <Field
            label={t('deadline.start')}
            hint={t('deadline.startHint')}
            required
            error={errors.start ? t(errors.start) : null}
          >
            {(p) => (
              <input
                {...p}
                ref={refs.start}
                type="date"
                name="start"
                value={form.start}
                onChange={set('start')}
              />
            )}
          </Field>
          <Field label={t('deadline.amount')} required error={errors.amount ? t(errors.amount) : null}>
            {(p) => (
              <input
                {...p}
                ref={refs.amount}
                type="number"
                inputMode="numeric"
                min={1}
                max={3660}
                name="amount"
                value={form.amount}
                onChange={set('amount')}
              />
            )}
          </Field>
        </div>
        <div className="grid-2">
          <Field label={t('deadline.unit')}>
            {(p) => (
              <select {...p} name="unit" value={form.unit} onChange={set('unit')}>
                {UNITS.map((u) => (
                  <option key={u} value={u}>
                    {t(`deadline.units.${u}`)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field
            label={t('deadline.residence')}
            hint={t('deadline.residenceHint')}
            error={errors.residence ? t(errors.residence) : null}
          >
            {(p) => (
              <input
                {...p}
                ref={refs.residence}
                name="residence"
                autoCapitalize="characters"
                spellCheck={false}
                value={form.residence}
                onChange={set('residence')}
              />
            )}
          </Field>
        </div>
        <button type="submit" className="button primary">
          {t('deadline.submit')}
        </button>
      </form>
      <div aria-live="polite">
        {result.isFetching ? <Loading /> : null}
        <ErrorAlert error={result.error} />
        {d && asked ? (
          <div className="deadline-result">
            <h3>{t('deadline.resultHeading')}</h3>
            <p className="deadline-end">{t('deadline.endsOn', { date: formatCivilDate(d.end, lang) })}</p>
            {d.nominalEnd !== d.end ? (
              <p>{t('deadline.moved', { date: formatCivilDate(d.nominalEnd, lang) })}</p>
            ) : null}
            <p className="muted">
              {t('deadline.counted', {
                amount: d.amount,
                unit: t(`deadline.units.${d.unit}`),
                start: formatCivilDate(d.start, lang),
              })}{' '}
              {t('deadline.places', { places: d.places.join(', ') })}
            </p>
            {d.nonBusinessDaysSkipped.length === 0 ? (
              <p>{t('deadline.noneSkipped')}</p>
            ) : (
              <div className="table-wrap">
                <table>
                  <caption>
                    {t('deadline.skippedCaption', { count: d.nonBusinessDaysSkipped.length })}
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('calendar.date')}</th>
                      <th scope="col">{t('deadline.reason')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.nonBusinessDaysSkipped.map((s) => (
                      <tr key={s.date}>
                        <th scope="row" className="nowrap">
                          <time dateTime={s.date}>{formatCivilDate(s.date, lang)}</time>
                        </th>
                        <td>
                          {s.reasons.map((r) => (
                            <span key={`${r.scope}-${r.name}-${r.place ?? ''}`} className="block">
                              {r.scope === 'weekend'
                                ? t('deadline.weekend')
                                : `${r.name} (${t(`calendar.scopeName.${r.scope}`, r.scope)}${r.place ? ` · ${r.place}` : ''})`}
                            </span>
                          ))}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </div>
        ) : null}
      </div>
    </section>
  );
}
