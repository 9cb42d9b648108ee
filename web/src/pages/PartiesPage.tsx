import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams, useSearchParams } from 'react-router';
import {
  ApiError,
  api,
  type Channel,
  type ENotification,
  entityPath,
  type Page,
  type Party,
  type PartyKind,
  type PartyLanguage,
  query,
} from '../api.ts';
import { ErrorAlert, Loading } from '../components/ErrorAlert.tsx';
import { Field } from '../components/Field.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { Pagination } from '../components/Pagination.tsx';
import { partyName } from '../components/PartyPicker.tsx';
import { errorMessage, formatNumber } from '../format.ts';

const PARTY_LANGUAGES: PartyLanguage[] = ['ca', 'es', 'oc-aranes'];

/** The register of third parties (tercers): search it, and add a person or organisation. */
export function PartiesPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const { slug = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const page = Math.max(1, Number(params.get('page')) || 1);
  const [text, setText] = useState(q);
  const listRef = useRef<HTMLHeadingElement>(null);

  const list = useQuery({
    queryKey: ['parties', slug, { q, page }],
    queryFn: () =>
      api<Page<Party>>(`${entityPath(slug)}/parties${query({ q, page: page > 1 ? page : undefined })}`),
    placeholderData: keepPreviousData,
  });

  function go(nextQ: string, nextPage = 1) {
    const p = new URLSearchParams();
    if (nextQ.trim()) p.set('q', nextQ.trim());
    if (nextPage > 1) p.set('page', String(nextPage));
    setParams(p);
  }

  return (
    <>
      <PageTitle title={t('register.title')}>{t('register.title')}</PageTitle>
      <p className="lead">{t('register.intro')}</p>
      <div className="two-columns">
        <section aria-labelledby="register-list-heading">
          <h2 id="register-list-heading" ref={listRef} tabIndex={-1}>
            {t('register.listHeading')}
          </h2>
          <search aria-label={t('register.searchLabel')}>
            <form
              className="inline-search"
              onSubmit={(e) => {
                e.preventDefault();
                go(text);
              }}
            >
              <Field label={t('register.search')} hint={t('register.searchHint')}>
                {(p) => (
                  <div className="inline-controls">
                    <input
                      {...p}
                      type="search"
                      name="q"
                      value={text}
                      onChange={(e) => setText(e.target.value)}
                    />
                    <button type="submit" className="button primary">
                      {t('common.search')}
                    </button>
                  </div>
                )}
              </Field>
            </form>
          </search>
          <p role="status" className="result-count">
            {list.data
              ? t('register.count', {
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
                <caption className="visually-hidden">{t('register.listHeading')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('party.identifier')}</th>
                    <th scope="col">{t('party.name')}</th>
                    <th scope="col">{t('party.kind')}</th>
                    <th scope="col">{t('party.contact')}</th>
                    <th scope="col">{t('party.eNotification')}</th>
                  </tr>
                </thead>
                <tbody>
                  {list.data.items.map((p) => (
                    <tr key={p.id}>
                      <td className="nowrap">
                        {p.identifier}{' '}
                        <span className="muted">
                          ({t(`identifierType.${p.identifierType}`, p.identifierType)})
                        </span>
                      </td>
                      <td>{partyName(p)}</td>
                      <td>{t(`partyKind.${p.kind}`, p.kind)}</td>
                      <td>{[p.email, p.phone].filter(Boolean).join(' · ') || '—'}</td>
                      <td>{t(`eNotification.${p.eNotification}`, p.eNotification)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
          {list.data && list.data.items.length === 0 ? <p className="empty">{t('register.none')}</p> : null}
          {list.data ? (
            <Pagination
              page={list.data.page}
              pageSize={list.data.pageSize}
              total={list.data.total}
              onPage={(n) => {
                go(q, n);
                listRef.current?.focus();
              }}
            />
          ) : null}
        </section>
        <CreateParty slug={slug} />
      </div>
    </>
  );
}

type FieldName = 'identifier' | 'name' | 'email' | 'evidence';

/** Server codes that belong to one field, so the message sits next to it. */
const FIELD_OF: Record<string, FieldName> = {
  INVALID_IDENTIFIER: 'identifier',
  PARTY_IDENTIFIER_TAKEN: 'identifier',
};
const DECLARED_TYPES = ['passport', 'dir3', 'other'] as const;

const EMPTY = {
  identifier: '',
  identifierType: '' as '' | (typeof DECLARED_TYPES)[number],
  kind: 'person' as PartyKind,
  name: '',
  surname1: '',
  surname2: '',
  email: '',
  phone: '',
  language: 'ca' as PartyLanguage,
  eNotification: 'none' as ENotification,
  eNotificationEvidence: '',
  preferredChannel: 'paper' as Channel,
};
type Form = typeof EMPTY;

/** The request body: only what was filled in; the server derives the rest (kind from a NIF/CIF…). */
function partyBody(v: Form): Record<string, unknown> {
  const person = v.kind === 'person';
  const body: Record<string, unknown> = {
    identifier: v.identifier.trim(),
    kind: v.kind,
    name: v.name.trim(),
    language: v.language,
  };
  if (v.identifierType) body.identifierType = v.identifierType;
  if (person && v.surname1.trim()) body.surname1 = v.surname1.trim();
  if (person && v.surname2.trim()) body.surname2 = v.surname2.trim();
  if (v.email.trim()) body.email = v.email.trim();
  if (v.phone.trim()) body.phone = v.phone.trim();
  // Organisations must deal electronically (LPACAP art. 14.2): the server sets it. A person chooses (14.1).
  if (person) {
    body.eNotification = v.eNotification;
    if (v.eNotification === 'chosen') body.eNotificationEvidence = v.eNotificationEvidence.trim();
    body.preferredChannel = v.eNotification === 'none' ? v.preferredChannel : 'electronic';
  }
  return body;
}

function CreateParty({ slug }: { slug: string }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [v, setV] = useState<Form>(EMPTY);
  // Catalogue keys, so a message follows a change of language.
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [created, setCreated] = useState<Party | null>(null);
  const refs = {
    identifier: useRef<HTMLInputElement>(null),
    name: useRef<HTMLInputElement>(null),
    email: useRef<HTMLInputElement>(null),
    evidence: useRef<HTMLInputElement>(null),
  };
  const errorId = 'party-create-error';
  const person = v.kind === 'person';

  const create = useMutation({
    mutationFn: () => api<Party>(`${entityPath(slug)}/parties`, { json: partyBody(v) }),
    onMutate: () => setCreated(null),
    onSuccess: async (party) => {
      setCreated(party);
      setV(EMPTY);
      await queryClient.invalidateQueries({ queryKey: ['parties', slug] });
    },
    onError: (err) => {
      const field = err instanceof ApiError ? FIELD_OF[err.code] : undefined;
      if (field) refs[field].current?.focus();
    },
  });

  function submit(e: React.FormEvent) {
    e.preventDefault();
    const next: Partial<Record<FieldName, string>> = {};
    if (!v.identifier.trim()) next.identifier = 'register.identifierRequired';
    if (!v.name.trim()) next.name = 'register.nameRequired';
    if (v.email.trim() && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v.email.trim()))
      next.email = 'register.emailInvalid';
    if (person && v.eNotification === 'chosen' && !v.eNotificationEvidence.trim())
      next.evidence = 'register.evidenceRequired';
    setErrors(next);
    create.reset();
    const first = (['identifier', 'name', 'email', 'evidence'] as const).find((k) => next[k]);
    if (first) {
      refs[first].current?.focus();
      return;
    }
    create.mutate();
  }

  const set = (k: keyof Form) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    setV((old) => ({ ...old, [k]: e.target.value }));
  const serverField = create.error instanceof ApiError ? FIELD_OF[create.error.code] : undefined;
  const formError = serverField ? null : create.error;
  const errorFor = (f: FieldName): string | null => {
    const key = errors[f];
    if (key) return t(key);
    return serverField === f ? errorMessage(t, create.error) : null;
  };

  return (
    <section aria-labelledby="party-create-heading" className="card">
      <h2 id="party-create-heading">{t('register.createHeading')}</h2>
      <p role="status" className="status-message">
        {created ? t('register.created', { name: partyName(created), identifier: created.identifier }) : ''}
      </p>
      <form className="form" noValidate onSubmit={submit} aria-describedby={formError ? errorId : undefined}>
        <ErrorAlert error={formError} id={errorId} />
        <Field
          label={t('party.identifier')}
          hint={t('register.identifierHint')}
          required
          error={errorFor('identifier')}
        >
          {(p) => (
            <input
              {...p}
              ref={refs.identifier}
              name="identifier"
              autoCapitalize="characters"
              spellCheck={false}
              value={v.identifier}
              onChange={set('identifier')}
            />
          )}
        </Field>
        <Field label={t('register.identifierType')}>
          {(p) => (
            <select {...p} name="identifierType" value={v.identifierType} onChange={set('identifierType')}>
              <option value="">{t('register.idType.auto')}</option>
              {DECLARED_TYPES.map((k) => (
                <option key={k} value={k}>
                  {t(`register.idType.${k}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <fieldset className="radio-group inline">
          <legend>{t('party.kind')}</legend>
          {(['person', 'organisation'] as const).map((k) => (
            <div className="radio" key={k}>
              <input
                type="radio"
                id={`kind-${k}`}
                name="kind"
                value={k}
                checked={v.kind === k}
                onChange={set('kind')}
              />
              <label htmlFor={`kind-${k}`}>{t(`partyKind.${k}`)}</label>
            </div>
          ))}
        </fieldset>
        <Field label={person ? t('party.givenName') : t('party.orgName')} required error={errorFor('name')}>
          {(p) => (
            <input {...p} ref={refs.name} name="name" maxLength={200} value={v.name} onChange={set('name')} />
          )}
        </Field>
        {person ? (
          <div className="grid-2">
            <Field label={t('party.surname1')}>
              {(p) => (
                <input {...p} name="surname1" maxLength={100} value={v.surname1} onChange={set('surname1')} />
              )}
            </Field>
            <Field label={t('party.surname2')}>
              {(p) => (
                <input {...p} name="surname2" maxLength={100} value={v.surname2} onChange={set('surname2')} />
              )}
            </Field>
          </div>
        ) : null}
        <div className="grid-2">
          <Field label={t('party.email')} error={errorFor('email')}>
            {(p) => (
              <input
                {...p}
                ref={refs.email}
                type="email"
                name="email"
                autoComplete="off"
                value={v.email}
                onChange={set('email')}
              />
            )}
          </Field>
          <Field label={t('party.phone')}>
            {(p) => (
              <input
                {...p}
                type="tel"
                name="phone"
                autoComplete="off"
                value={v.phone}
                onChange={set('phone')}
              />
            )}
          </Field>
        </div>
        <Field label={t('party.language')}>
          {(p) => (
            <select {...p} name="language" value={v.language} onChange={set('language')}>
              {PARTY_LANGUAGES.map((l) => (
                <option key={l} value={l}>
                  {t(`languageName.${l}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        {person ? (
          <>
            <fieldset className="radio-group" aria-describedby="party-enotif-hint">
              <legend>{t('register.eNotification')}</legend>
              <p className="hint" id="party-enotif-hint">
                {t('register.eNotificationHint')}
              </p>
              {(['none', 'chosen', 'compulsory'] as const).map((k) => (
                <div className="radio" key={k}>
                  <input
                    type="radio"
                    id={`enotif-${k}`}
                    name="eNotification"
                    value={k}
                    checked={v.eNotification === k}
                    onChange={set('eNotification')}
                  />
                  <label htmlFor={`enotif-${k}`}>{t(`register.eNotif.${k}`)}</label>
                </div>
              ))}
            </fieldset>
            {v.eNotification === 'chosen' ? (
              <Field
                label={t('register.evidence')}
                hint={t('register.evidenceHint')}
                required
                error={errorFor('evidence')}
              >
                {(p) => (
                  <input
                    {...p}
                    ref={refs.evidence}
                    name="eNotificationEvidence"
                    maxLength={2000}
                    value={v.eNotificationEvidence}
                    onChange={set('eNotificationEvidence')}
                  />
                )}
              </Field>
            ) : null}
            {v.eNotification === 'none' ? (
              <Field label={t('party.preferredChannel')}>
                {(p) => (
                  <select
                    {...p}
                    name="preferredChannel"
                    value={v.preferredChannel}
                    onChange={set('preferredChannel')}
                  >
                    <option value="paper">{t('channel.paper')}</option>
                    <option value="electronic">{t('channel.electronic')}</option>
                  </select>
                )}
              </Field>
            ) : null}
          </>
        ) : (
          <p className="hint">{t('register.organisationCompulsory')}</p>
        )}
        <button type="submit" className="button primary" disabled={create.isPending}>
          {create.isPending ? t('common.saving') : t('register.submit')}
        </button>
      </form>
    </section>
  );
}
