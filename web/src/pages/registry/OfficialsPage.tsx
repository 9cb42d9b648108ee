import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { type AuthorisedOfficial, api, entityPath, type OfficialScope } from '../../api.ts';
import { ErrorAlert, Loading } from '../../components/ErrorAlert.tsx';
import { Field } from '../../components/Field.tsx';
import { MemberSelect } from '../../components/MemberSelect.tsx';
import { PageTitle } from '../../components/PageTitle.tsx';
import { formatCivilDate, madridToday } from '../../format.ts';
import { rolesIn, useMe } from '../../session.ts';

const SCOPES: OfficialScope[] = ['copies', 'assistance'];

/**
 * The register of authorised officials (funcionaris habilitats, LPACAP art. 12.3 and 27.1): who
 * may make authentic copies and file on a citizen's behalf, and when. Kept by administrators;
 * records are revoked, never deleted.
 */
export function OfficialsPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const { slug = '' } = useParams();
  const { data: me } = useMe();
  const isAdmin = rolesIn(me, slug).includes('admin');
  const key = ['officials', slug];
  const list = useQuery({
    queryKey: key,
    queryFn: () => api<{ items: AuthorisedOfficial[] }>(`${entityPath(slug)}/authorised-officials`),
  });
  const items = list.data?.items ?? [];

  return (
    <>
      <PageTitle title={t('officials.title')}>{t('officials.title')}</PageTitle>
      <p className="lead">{t('officials.intro')}</p>
      <section aria-labelledby="officials-list-heading">
        <h2 id="officials-list-heading">{t('officials.listHeading')}</h2>
        {list.isPending ? <Loading /> : null}
        <ErrorAlert error={list.error} />
        {list.data && items.length === 0 ? <p className="empty">{t('officials.none')}</p> : null}
        {items.length > 0 ? (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{t('officials.listHeading')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('officials.name')}</th>
                  <th scope="col">{t('officials.scopes')}</th>
                  <th scope="col">{t('officials.validity')}</th>
                  <th scope="col">{t('officials.status')}</th>
                  {isAdmin ? (
                    <th scope="col">
                      <span className="visually-hidden">{t('officials.revoke')}</span>
                    </th>
                  ) : null}
                </tr>
              </thead>
              <tbody>
                {items.map((o) => (
                  <tr key={o.id}>
                    <th scope="row">
                      {o.name}
                      <span className="block muted">
                        {o.username}
                        {o.position ? ` · ${o.position}` : ''}
                      </span>
                    </th>
                    <td>{o.scopes.map((s) => t(`officials.scope.${s}`)).join(', ')}</td>
                    <td className="nowrap">
                      {o.validTo
                        ? t('officials.fromTo', {
                            from: formatCivilDate(o.validFrom, lang, 'medium'),
                            to: formatCivilDate(o.validTo, lang, 'medium'),
                          })
                        : t('officials.fromOpen', { from: formatCivilDate(o.validFrom, lang, 'medium') })}
                    </td>
                    <td>
                      {t(`officials.statusName.${o.status}`)}
                      {o.revokedReason ? <span className="block muted">{o.revokedReason}</span> : null}
                    </td>
                    {isAdmin ? (
                      <td>
                        {o.status === 'revoked' ? null : (
                          <Revoke
                            slug={slug}
                            official={o}
                            onDone={() => list.refetch().then(() => undefined)}
                          />
                        )}
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
      {isAdmin && me ? <RegisterOfficial slug={slug} myId={me.id} myName={me.name || me.username} /> : null}
    </>
  );
}

function Revoke({
  slug,
  official,
  onDone,
}: {
  slug: string;
  official: AuthorisedOfficial;
  onDone: () => Promise<void>;
}) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState(false);
  const ref = useRef<HTMLInputElement>(null);
  const revoke = useMutation({
    mutationFn: () =>
      api<AuthorisedOfficial>(
        `${entityPath(slug)}/authorised-officials/${encodeURIComponent(official.id)}/revoke`,
        { json: { reason: reason.trim() } },
      ),
    onSuccess: onDone,
  });
  if (!open) {
    return (
      <button
        type="button"
        className="button small secondary"
        aria-label={`${t('officials.revoke')}: ${official.name}`}
        onClick={() => setOpen(true)}
      >
        {t('officials.revoke')}
      </button>
    );
  }
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
        label={t('officials.revokeReason', { name: official.name })}
        required
        error={missing ? t('officials.reasonRequired') : null}
      >
        {(p) => (
          <input
            {...p}
            ref={ref}
            maxLength={2000}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
        )}
      </Field>
      <div className="actions">
        <button type="submit" className="button small" disabled={revoke.isPending}>
          {t('officials.revokeConfirm')}
        </button>
        <button type="button" className="button small secondary" onClick={() => setOpen(false)}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}

function RegisterOfficial({ slug, myId, myName }: { slug: string; myId: string; myName: string }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [who, setWho] = useState<'me' | 'other'>('me');
  const [userId, setUserId] = useState('');
  const [name, setName] = useState('');
  const [position, setPosition] = useState('');
  const [scopes, setScopes] = useState<OfficialScope[]>(['copies']);
  const [validFrom, setValidFrom] = useState(madridToday());
  const [validTo, setValidTo] = useState('');
  const [errors, setErrors] = useState<Partial<Record<'userId' | 'scopes' | 'validFrom', string>>>({});
  const [done, setDone] = useState<AuthorisedOfficial | null>(null);
  const userRef = useRef<HTMLSelectElement>(null);
  const fromRef = useRef<HTMLInputElement>(null);
  const errorId = 'official-error';
  const register = useMutation({
    mutationFn: () =>
      api<AuthorisedOfficial>(`${entityPath(slug)}/authorised-officials`, {
        json: {
          userId: who === 'me' ? myId : userId,
          scopes,
          validFrom,
          ...(validTo ? { validTo } : {}),
          ...(name.trim() ? { name: name.trim() } : {}),
          ...(position.trim() ? { position: position.trim() } : {}),
        },
      }),
    onMutate: () => setDone(null),
    onSuccess: async (o) => {
      setDone(o);
      setUserId('');
      setName('');
      setPosition('');
      await queryClient.invalidateQueries({ queryKey: ['officials', slug] });
    },
  });

  function submit(e: React.FormEvent) {
    e.preventDefault();
    const next: typeof errors = {};
    if (who === 'other' && !userId) next.userId = 'members.required';
    if (scopes.length === 0) next.scopes = 'officials.scopesRequired';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(validFrom)) next.validFrom = 'officials.validFromRequired';
    setErrors(next);
    if (next.userId) return userRef.current?.focus();
    if (next.validFrom) return fromRef.current?.focus();
    if (next.scopes) return;
    register.mutate();
  }

  return (
    <section aria-labelledby="official-register-heading" className="card">
      <h2 id="official-register-heading">{t('officials.registerHeading')}</h2>
      <p role="status" className="status-message">
        {done ? t('officials.registered', { name: done.name }) : ''}
      </p>
      <form
        className="form"
        noValidate
        onSubmit={submit}
        aria-describedby={register.error ? errorId : undefined}
      >
        <ErrorAlert error={register.error} id={errorId} />
        <fieldset className="radio-group">
          <legend>{t('officials.who')}</legend>
          <div className="radio">
            <input
              type="radio"
              id="official-me"
              name="who"
              checked={who === 'me'}
              onChange={() => setWho('me')}
            />
            <label htmlFor="official-me">{t('officials.me', { name: myName })}</label>
          </div>
          <div className="radio">
            <input
              type="radio"
              id="official-other"
              name="who"
              checked={who === 'other'}
              onChange={() => setWho('other')}
            />
            <label htmlFor="official-other">{t('officials.other')}</label>
          </div>
        </fieldset>
        {who === 'other' ? (
          <MemberSelect
            slug={slug}
            label={t('officials.member')}
            required
            error={errors.userId ? t(errors.userId) : null}
            value={userId}
            onChange={setUserId}
            filter={(m) => m.id !== myId}
            selectRef={userRef}
          />
        ) : null}
        <div className="grid-2">
          <Field label={t('officials.publishedName')} hint={t('officials.publishedNameHint')}>
            {(p) => <input {...p} maxLength={300} value={name} onChange={(e) => setName(e.target.value)} />}
          </Field>
          <Field label={t('officials.position')}>
            {(p) => (
              <input {...p} maxLength={300} value={position} onChange={(e) => setPosition(e.target.value)} />
            )}
          </Field>
        </div>
        <fieldset
          className="radio-group"
          aria-describedby={errors.scopes ? 'official-scopes-error' : undefined}
        >
          <legend>{t('officials.scopes')}</legend>
          {errors.scopes ? (
            <p className="field-error" id="official-scopes-error">
              {t(errors.scopes)}
            </p>
          ) : null}
          {SCOPES.map((s) => (
            <div className="radio" key={s}>
              <input
                type="checkbox"
                id={`official-scope-${s}`}
                checked={scopes.includes(s)}
                onChange={(e) =>
                  setScopes((old) => (e.target.checked ? [...old, s] : old.filter((x) => x !== s)))
                }
              />
              <label htmlFor={`official-scope-${s}`}>{t(`officials.scopeLong.${s}`)}</label>
            </div>
          ))}
        </fieldset>
        <div className="grid-2">
          <Field
            label={t('officials.validFrom')}
            required
            error={errors.validFrom ? t(errors.validFrom) : null}
          >
            {(p) => (
              <input
                {...p}
                ref={fromRef}
                type="date"
                value={validFrom}
                onChange={(e) => setValidFrom(e.target.value)}
              />
            )}
          </Field>
          <Field label={t('officials.validTo')} hint={t('officials.validToHint')}>
            {(p) => <input {...p} type="date" value={validTo} onChange={(e) => setValidTo(e.target.value)} />}
          </Field>
        </div>
        <button type="submit" className="button primary" disabled={register.isPending}>
          {register.isPending ? t('common.saving') : t('officials.submit')}
        </button>
      </form>
    </section>
  );
}
