import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import {
  type AccessLevel,
  api,
  entityPath,
  type Expedient,
  type Party,
  type PartyRole,
  type Unit,
} from '../api.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { Field } from '../components/Field.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { PartyPicker, partyName } from '../components/PartyPicker.tsx';

export const PARTY_ROLES: PartyRole[] = ['applicant', 'representative', 'interested'];
export const ACCESS_LEVELS: AccessLevel[] = ['public', 'internal', 'restricted'];

type Picked = { party: Party; role: PartyRole };

/** Opens a new case file: title, classification, responsible unit, access level and its interested parties. */
export function ExpedientCreatePage() {
  const { t } = useTranslation();
  const { slug = '' } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [title, setTitle] = useState('');
  const [classification, setClassification] = useState('');
  const [unitId, setUnitId] = useState('');
  const [accessLevel, setAccessLevel] = useState<AccessLevel>('internal');
  const [parties, setParties] = useState<Picked[]>([]);
  const [titleError, setTitleError] = useState(false);
  const titleRef = useRef<HTMLInputElement>(null);
  const errorId = 'create-error';

  const units = useQuery({
    queryKey: ['units', slug],
    queryFn: () => api<Unit[]>(`${entityPath(slug)}/units`),
  });
  const create = useMutation({
    mutationFn: () =>
      api<Expedient>(`${entityPath(slug)}/expedients`, {
        json: {
          title: title.trim(),
          ...(classification.trim() ? { classification: classification.trim() } : {}),
          ...(unitId ? { unitId } : {}),
          accessLevel,
          ...(parties.length ? { parties: parties.map((p) => ({ partyId: p.party.id, role: p.role })) } : {}),
        },
      }),
    onSuccess: async (x) => {
      await queryClient.invalidateQueries({ queryKey: ['expedients', slug] });
      navigate(`/e/${slug}/expedients/${x.id}`);
    },
  });

  function submit(e: React.FormEvent) {
    e.preventDefault();
    if (!title.trim()) {
      setTitleError(true);
      titleRef.current?.focus();
      return;
    }
    setTitleError(false);
    create.mutate();
  }

  return (
    <>
      <p className="breadcrumb">
        <Link to={`/e/${slug}/expedients`}>{t('expedients.title')}</Link>
      </p>
      <PageTitle title={t('create.title')}>{t('create.title')}</PageTitle>
      <form
        className="card form"
        noValidate
        onSubmit={submit}
        aria-describedby={create.error ? errorId : undefined}
      >
        <ErrorAlert error={create.error} id={errorId} />
        <Field
          label={t('expedient.titleField')}
          required
          error={titleError ? t('create.titleRequired') : null}
        >
          {(p) => (
            <input
              {...p}
              ref={titleRef}
              name="title"
              maxLength={500}
              value={title}
              onChange={(e) => setTitle(e.target.value)}
            />
          )}
        </Field>
        <Field label={t('expedient.classification')} hint={t('create.classificationHint')}>
          {(p) => (
            <input
              {...p}
              name="classification"
              maxLength={100}
              value={classification}
              onChange={(e) => setClassification(e.target.value)}
            />
          )}
        </Field>
        <Field label={t('expedient.unit')}>
          {(p) => (
            <select {...p} name="unitId" value={unitId} onChange={(e) => setUnitId(e.target.value)}>
              <option value="">{t('create.noUnit')}</option>
              {(units.data ?? []).map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <ErrorAlert error={units.error} />
        <fieldset className="radio-group">
          <legend>{t('expedient.accessLevel')}</legend>
          {ACCESS_LEVELS.map((level) => (
            <div key={level} className="radio">
              <input
                type="radio"
                id={`access-${level}`}
                name="accessLevel"
                value={level}
                checked={accessLevel === level}
                onChange={() => setAccessLevel(level)}
                aria-describedby={`access-${level}-hint`}
              />
              <label htmlFor={`access-${level}`}>{t(`access.${level}`)}</label>
              <p className="hint" id={`access-${level}-hint`}>
                {t(`accessHint.${level}`)}
              </p>
            </div>
          ))}
        </fieldset>

        <fieldset className="parties-fieldset">
          <legend>{t('expedient.parties')}</legend>
          {parties.length > 0 ? (
            <ul className="picked-list">
              {parties.map((p, i) => (
                <li key={p.party.id}>
                  <span>
                    <strong>{partyName(p.party)}</strong> <span className="muted">{p.party.identifier}</span>
                  </span>
                  <label className="visually-hidden" htmlFor={`role-${p.party.id}`}>
                    {t('create.roleOf', { name: partyName(p.party) })}
                  </label>
                  <select
                    id={`role-${p.party.id}`}
                    value={p.role}
                    onChange={(e) => {
                      const role = e.target.value as PartyRole;
                      setParties((list) => list.map((x, j) => (j === i ? { ...x, role } : x)));
                    }}
                  >
                    {PARTY_ROLES.map((r) => (
                      <option key={r} value={r}>
                        {t(`role.${r}`)}
                      </option>
                    ))}
                  </select>
                  <button
                    type="button"
                    className="button small secondary"
                    aria-label={`${t('common.remove')}: ${partyName(p.party)}`}
                    onClick={() => setParties((list) => list.filter((_, j) => j !== i))}
                  >
                    {t('common.remove')}
                  </button>
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">{t('create.noParties')}</p>
          )}
          <PartyPicker
            slug={slug}
            exclude={parties.map((p) => p.party.id)}
            pickLabel={t('common.add')}
            onPick={(party) =>
              setParties((list) => [...list, { party, role: list.length === 0 ? 'applicant' : 'interested' }])
            }
          />
          <p className="hint">
            <Link to={`/e/${slug}/parties`}>{t('create.registerLink')}</Link>
          </p>
        </fieldset>

        <div className="actions">
          <button type="submit" className="button primary" disabled={create.isPending}>
            {create.isPending ? t('common.saving') : t('create.submit')}
          </button>
          <Link to={`/e/${slug}/expedients`} className="button secondary">
            {t('common.cancel')}
          </Link>
        </div>
      </form>
    </>
  );
}
