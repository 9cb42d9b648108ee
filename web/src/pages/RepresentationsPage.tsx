import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams, useSearchParams } from 'react-router';
import { api, apiUrl, entityPath, query } from '../api.ts';
import { ErrorAlert, Loading } from '../components/ErrorAlert.tsx';
import { Field } from '../components/Field.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { formatCivilDate, madridToday } from '../format.ts';
import { rolesIn, useMe } from '../session.ts';
import { type Representation, representationStatus } from '../staffSeu.ts';

const representationsKey = (slug: string) => ['representations', slug] as const;

/**
 * The register of powers of attorney (LPACAP art. 6): search by a person's NIF/NIE, each power's
 * scope, origin, validity and status; recording one granted at the office (apud acta) or from a
 * notarial document; revoking one with a reason.
 */
export function RepresentationsPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const { slug = '' } = useParams();
  const { data: me } = useMe();
  const roles = rolesIn(me, slug);
  const canRecord = roles.includes('admin') || roles.includes('registrar') || roles.includes('handler');
  const [params, setParams] = useSearchParams();
  const identifier = params.get('identifier') ?? '';
  const [draft, setDraft] = useState(identifier);
  const searchId = useId();
  const list = useQuery({
    queryKey: [...representationsKey(slug), identifier],
    queryFn: () =>
      api<{ items: Representation[] }>(`${entityPath(slug)}/representations${query({ identifier })}`),
  });
  const items = list.data?.items ?? [];
  const today = madridToday();

  return (
    <>
      <PageTitle title={t('representations.title')}>{t('representations.title')}</PageTitle>
      <p className="lead">{t('representations.intro')}</p>
      <search className="filters card" aria-label={t('representations.searchLabel')}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const v = draft.trim();
            setParams(v ? { identifier: v } : {}, { replace: true });
          }}
        >
          <div className="field">
            <label htmlFor={searchId}>{t('representations.searchIdentifier')}</label>
            <input
              id={searchId}
              value={draft}
              maxLength={32}
              spellCheck={false}
              autoComplete="off"
              onChange={(e) => setDraft(e.target.value)}
            />
          </div>
          <div className="actions">
            <button type="submit" className="button">
              {t('common.search')}
            </button>
            {identifier ? (
              <button
                type="button"
                className="button secondary"
                onClick={() => {
                  setDraft('');
                  setParams({}, { replace: true });
                }}
              >
                {t('common.clearFilters')}
              </button>
            ) : null}
          </div>
        </form>
      </search>
      <section aria-labelledby="representations-list-heading">
        <h2 id="representations-list-heading">
          {identifier ? t('representations.listFor', { identifier }) : t('representations.listHeading')}
        </h2>
        {list.isPending ? <Loading /> : null}
        <ErrorAlert error={list.error} />
        {list.data && items.length === 0 ? <p className="empty">{t('representations.none')}</p> : null}
        {items.length > 0 ? (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{t('representations.listHeading')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('representations.represented')}</th>
                  <th scope="col">{t('representations.representative')}</th>
                  <th scope="col">{t('representations.scope')}</th>
                  <th scope="col">{t('representations.validity')}</th>
                  <th scope="col">{t('representations.status')}</th>
                  <th scope="col">{t('representations.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((r) => {
                  const status = representationStatus(r, today);
                  return (
                    <tr key={r.id}>
                      <th scope="row">
                        {r.represented.name}
                        <span className="block muted">{r.represented.identifier}</span>
                      </th>
                      <td>
                        {r.representative.name}
                        <span className="block muted">{r.representative.identifier}</span>
                      </td>
                      <td>
                        {r.scope === 'general'
                          ? t('representations.scopeGeneral')
                          : t('representations.scopeProcedureIs', { procedure: r.procedure ?? '' })}
                        <span className="block muted">{t(`representations.origin.${r.origin}`)}</span>
                      </td>
                      <td className="nowrap">
                        {t('representations.fromTo', {
                          from: formatCivilDate(r.validFrom, lang, 'medium'),
                          to: formatCivilDate(r.validTo, lang, 'medium'),
                        })}
                      </td>
                      <td>
                        <span className={`badge badge-power-${status}`}>
                          {t(`representations.statusName.${status}`)}
                        </span>
                        {r.revokedReason ? <span className="block muted">{r.revokedReason}</span> : null}
                      </td>
                      <td>
                        {r.notarialDocument ? (
                          <a
                            className="button small secondary"
                            href={apiUrl(
                              `${entityPath(slug)}/representations/${encodeURIComponent(r.id)}/document`,
                            )}
                            download
                            aria-label={`${t('representations.notarialDownload')}: ${r.represented.name}`}
                          >
                            {t('representations.notarialDownload')}
                          </a>
                        ) : null}
                        {canRecord && status !== 'revoked' ? <Revoke slug={slug} representation={r} /> : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
      {canRecord ? <RecordRepresentation slug={slug} /> : null}
    </>
  );
}

function Revoke({ slug, representation: r }: { slug: string; representation: Representation }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState(false);
  const ref = useRef<HTMLInputElement>(null);
  const who = `${r.represented.name} → ${r.representative.name}`;
  const revoke = useMutation({
    mutationFn: () =>
      api<Representation>(`${entityPath(slug)}/representations/${encodeURIComponent(r.id)}/revoke`, {
        json: { reason: reason.trim() },
      }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: representationsKey(slug) }),
  });
  if (!open)
    return (
      <button
        type="button"
        className="button small secondary"
        aria-label={`${t('representations.revoke')}: ${who}`}
        onClick={() => setOpen(true)}
      >
        {t('representations.revoke')}
      </button>
    );
  return (
    <form
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const empty = !reason.trim();
        setMissing(empty);
        if (empty) return ref.current?.focus();
        revoke.mutate();
      }}
    >
      <ErrorAlert error={revoke.error} />
      <Field
        label={t('representations.revokeReason', { who })}
        required
        error={missing ? t('representations.reasonRequired') : null}
      >
        {(p) => (
          <input
            {...p}
            ref={ref}
            maxLength={1000}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
        )}
      </Field>
      <div className="actions">
        <button type="submit" className="button small" disabled={revoke.isPending}>
          {t('representations.revokeConfirm')}
        </button>
        <button type="button" className="button small secondary" onClick={() => setOpen(false)}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}

type Person = { identifier: string; name: string; email: string };
type RecordErrors = Partial<
  Record<
    | 'representedIdentifier'
    | 'representedName'
    | 'representativeIdentifier'
    | 'representativeName'
    | 'procedure'
    | 'validFrom'
    | 'file',
    string
  >
>;

function PersonFields({
  legend,
  value,
  onChange,
  errors,
  refs,
}: {
  legend: string;
  value: Person;
  onChange: (p: Person) => void;
  errors: { identifier?: string | undefined; name?: string | undefined };
  refs: {
    identifier: React.RefObject<HTMLInputElement | null>;
    name: React.RefObject<HTMLInputElement | null>;
  };
}) {
  const { t } = useTranslation();
  return (
    <fieldset className="radio-group">
      <legend>{legend}</legend>
      <div className="grid-3">
        <Field
          label={t('representations.identifier')}
          hint={t('representations.identifierHint')}
          required
          error={errors.identifier ? t(errors.identifier) : null}
        >
          {(p) => (
            <input
              {...p}
              ref={refs.identifier}
              maxLength={32}
              spellCheck={false}
              autoComplete="off"
              value={value.identifier}
              onChange={(e) => onChange({ ...value, identifier: e.target.value })}
            />
          )}
        </Field>
        <Field label={t('representations.name')} required error={errors.name ? t(errors.name) : null}>
          {(p) => (
            <input
              {...p}
              ref={refs.name}
              maxLength={200}
              autoComplete="off"
              value={value.name}
              onChange={(e) => onChange({ ...value, name: e.target.value })}
            />
          )}
        </Field>
        <Field label={t('representations.email')} hint={t('representations.emailHint')}>
          {(p) => (
            <input
              {...p}
              type="email"
              maxLength={254}
              autoComplete="off"
              value={value.email}
              onChange={(e) => onChange({ ...value, email: e.target.value })}
            />
          )}
        </Field>
      </div>
    </fieldset>
  );
}

const EMPTY_PERSON: Person = { identifier: '', name: '', email: '' };
const personJson = (p: Person) => ({
  identifier: p.identifier.trim(),
  name: p.name.trim(),
  ...(p.email.trim() ? { email: p.email.trim() } : {}),
});

function RecordRepresentation({ slug }: { slug: string }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const base = useId();
  const [origin, setOrigin] = useState<'apud_acta' | 'notarial'>('apud_acta');
  const [represented, setRepresented] = useState<Person>(EMPTY_PERSON);
  const [representative, setRepresentative] = useState<Person>(EMPTY_PERSON);
  const [scope, setScope] = useState<'general' | 'procedure'>('general');
  const [procedure, setProcedure] = useState('');
  const [validFrom, setValidFrom] = useState('');
  const [validTo, setValidTo] = useState('');
  const [notes, setNotes] = useState('');
  const [errors, setErrors] = useState<RecordErrors>({});
  const [done, setDone] = useState<Representation | null>(null);
  const refs = {
    representedIdentifier: useRef<HTMLInputElement>(null),
    representedName: useRef<HTMLInputElement>(null),
    representativeIdentifier: useRef<HTMLInputElement>(null),
    representativeName: useRef<HTMLInputElement>(null),
    procedure: useRef<HTMLInputElement>(null),
    validFrom: useRef<HTMLInputElement>(null),
    file: useRef<HTMLInputElement>(null),
  };
  const errorId = `${base}-error`;

  const record = useMutation({
    mutationFn: (file: File | undefined) => {
      if (origin === 'notarial' && file) {
        // The server reads the fields before the file: they go first.
        const form = new FormData();
        form.append('represented', JSON.stringify(personJson(represented)));
        form.append('representative', JSON.stringify(personJson(representative)));
        form.append('scope', scope);
        if (scope === 'procedure') form.append('procedure', procedure.trim());
        if (validFrom) form.append('validFrom', validFrom);
        if (validTo) form.append('validTo', validTo);
        if (notes.trim()) form.append('notes', notes.trim());
        form.append('file', file, file.name);
        return api<Representation>(`${entityPath(slug)}/representations/notarial`, { form });
      }
      return api<Representation>(`${entityPath(slug)}/representations`, {
        json: {
          represented: personJson(represented),
          representative: personJson(representative),
          scope,
          ...(scope === 'procedure' ? { procedure: procedure.trim() } : {}),
          ...(validFrom ? { validFrom } : {}),
          ...(validTo ? { validTo } : {}),
          ...(notes.trim() ? { notes: notes.trim() } : {}),
        },
      });
    },
    onMutate: () => setDone(null),
    onSuccess: async (r) => {
      setDone(r);
      setRepresented(EMPTY_PERSON);
      setRepresentative(EMPTY_PERSON);
      setProcedure('');
      setValidTo('');
      setNotes('');
      if (refs.file.current) refs.file.current.value = '';
      await queryClient.invalidateQueries({ queryKey: representationsKey(slug) });
    },
  });

  function submit(e: React.FormEvent) {
    e.preventDefault();
    const file = refs.file.current?.files?.[0];
    const next: RecordErrors = {};
    if (!represented.identifier.trim()) next.representedIdentifier = 'representations.identifierRequired';
    if (!represented.name.trim()) next.representedName = 'representations.nameRequired';
    if (!representative.identifier.trim())
      next.representativeIdentifier = 'representations.identifierRequired';
    if (!representative.name.trim()) next.representativeName = 'representations.nameRequired';
    if (scope === 'procedure' && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(procedure.trim()))
      next.procedure = 'representations.procedureRequired';
    if (validFrom && !/^\d{4}-\d{2}-\d{2}$/.test(validFrom))
      next.validFrom = 'representations.validFromRequired';
    if (origin === 'notarial' && !file) next.file = 'representations.fileRequired';
    setErrors(next);
    for (const k of Object.keys(refs) as (keyof typeof refs)[]) {
      if (next[k]) return refs[k].current?.focus();
    }
    record.mutate(file);
  }

  return (
    <section className="card" aria-labelledby={`${base}-heading`}>
      <h2 id={`${base}-heading`}>{t('representations.recordHeading')}</h2>
      <p role="status" className="status-message">
        {done
          ? t('representations.recorded', {
              represented: done.represented.name,
              representative: done.representative.name,
            })
          : ''}
      </p>
      <form
        className="form"
        noValidate
        onSubmit={submit}
        aria-describedby={record.error ? errorId : undefined}
      >
        <ErrorAlert error={record.error} id={errorId} />
        <fieldset className="radio-group">
          <legend>{t('representations.originLegend')}</legend>
          {(['apud_acta', 'notarial'] as const).map((o) => (
            <div className="radio" key={o}>
              <input
                type="radio"
                id={`${base}-origin-${o}`}
                name={`${base}-origin`}
                checked={origin === o}
                onChange={() => setOrigin(o)}
              />
              <label htmlFor={`${base}-origin-${o}`}>{t(`representations.originLong.${o}`)}</label>
            </div>
          ))}
        </fieldset>
        <PersonFields
          legend={t('representations.represented')}
          value={represented}
          onChange={setRepresented}
          errors={{ identifier: errors.representedIdentifier, name: errors.representedName }}
          refs={{ identifier: refs.representedIdentifier, name: refs.representedName }}
        />
        <PersonFields
          legend={t('representations.representative')}
          value={representative}
          onChange={setRepresentative}
          errors={{ identifier: errors.representativeIdentifier, name: errors.representativeName }}
          refs={{ identifier: refs.representativeIdentifier, name: refs.representativeName }}
        />
        <fieldset className="radio-group">
          <legend>{t('representations.scope')}</legend>
          <div className="radio">
            <input
              type="radio"
              id={`${base}-scope-general`}
              name={`${base}-scope`}
              checked={scope === 'general'}
              onChange={() => setScope('general')}
            />
            <label htmlFor={`${base}-scope-general`}>{t('representations.scopeGeneralLong')}</label>
          </div>
          <div className="radio">
            <input
              type="radio"
              id={`${base}-scope-procedure`}
              name={`${base}-scope`}
              checked={scope === 'procedure'}
              onChange={() => setScope('procedure')}
            />
            <label htmlFor={`${base}-scope-procedure`}>{t('representations.scopeProcedureLong')}</label>
          </div>
        </fieldset>
        {scope === 'procedure' ? (
          <Field
            label={t('representations.procedure')}
            hint={t('representations.procedureHint')}
            required
            error={errors.procedure ? t(errors.procedure) : null}
          >
            {(p) => (
              <input
                {...p}
                ref={refs.procedure}
                maxLength={64}
                spellCheck={false}
                value={procedure}
                onChange={(e) => setProcedure(e.target.value)}
              />
            )}
          </Field>
        ) : null}
        <div className="grid-2">
          <Field
            label={t('representations.validFrom')}
            hint={t('representations.validFromHint')}
            error={errors.validFrom ? t(errors.validFrom) : null}
          >
            {(p) => (
              <input
                {...p}
                ref={refs.validFrom}
                type="date"
                value={validFrom}
                onChange={(e) => setValidFrom(e.target.value)}
              />
            )}
          </Field>
          <Field label={t('representations.validTo')} hint={t('representations.validToHint')}>
            {(p) => <input {...p} type="date" value={validTo} onChange={(e) => setValidTo(e.target.value)} />}
          </Field>
        </div>
        {origin === 'notarial' ? (
          <Field
            label={t('representations.file')}
            hint={t('representations.fileHint')}
            required
            error={errors.file ? t(errors.file) : null}
          >
            {(p) => <input {...p} ref={refs.file} type="file" accept="application/pdf" />}
          </Field>
        ) : null}
        <Field label={t('representations.notes')}>
          {(p) => (
            <textarea
              {...p}
              rows={2}
              maxLength={2000}
              value={notes}
              onChange={(e) => setNotes(e.target.value)}
            />
          )}
        </Field>
        <button type="submit" className="button primary" disabled={record.isPending}>
          {record.isPending ? t('common.saving') : t('representations.submit')}
        </button>
      </form>
    </section>
  );
}
