import { useMutation, useQuery } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api } from '../api.ts';
import { Loading } from '../components/ErrorAlert.tsx';
import { Field } from '../components/Field.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { Shell } from '../components/Shell.tsx';
import type { Invitation } from './consoleApi.ts';
import { ConsoleError } from './consoleUi.tsx';

/** The password rule of the server (identity/passwords.ts): 10 to 256 characters. */
const MIN_PASSWORD = 10;
const MAX_PASSWORD = 256;

/**
 * A new user's one-time invitation (issue 6 item 3), with no session: the user sets a password,
 * then logs in, where the login sends an administrator on to enrol TOTP.
 */
export function InvitationPage() {
  const { t } = useTranslation();
  const { token = '' } = useParams();
  const invitation = useQuery({
    queryKey: ['invitation', token],
    queryFn: () => api<Invitation>(`/invitations/${encodeURIComponent(token)}`),
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
  });
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [errors, setErrors] = useState<{ password?: string; repeat?: string }>({});
  const passwordRef = useRef<HTMLInputElement>(null);
  const repeatRef = useRef<HTMLInputElement>(null);
  const errorId = 'invitation-error';
  const accept = useMutation({
    mutationFn: () =>
      api<{ username: string }>(`/invitations/${encodeURIComponent(token)}`, { json: { password } }),
  });

  let body: React.ReactNode;
  if (invitation.isPending) body = <Loading />;
  else if (invitation.error || !invitation.data) body = <ConsoleError error={invitation.error} />;
  else if (accept.isSuccess) {
    body = (
      <div className="card">
        <p role="status" className="alert alert-info">
          {t('console.invitation.done', { username: accept.data.username })}
        </p>
        <p>{t('console.invitation.nextTotp')}</p>
        <p>
          <Link to="/login" className="button primary">
            {t('console.invitation.goLogin')}
          </Link>
        </p>
      </div>
    );
  } else {
    const inv = invitation.data;
    body = (
      <>
        <p className="lead">
          {inv.entityName
            ? t('console.invitation.intro', { name: inv.name, entity: inv.entityName })
            : t('console.invitation.introNoEntity', { name: inv.name })}
        </p>
        <dl className="data-list">
          {inv.entityName ? (
            <>
              <dt>{t('console.invitation.entity')}</dt>
              <dd>{inv.entityName}</dd>
            </>
          ) : null}
          <dt>{t('console.invitation.name')}</dt>
          <dd>{inv.name}</dd>
          <dt>{t('console.invitation.username')}</dt>
          <dd>{inv.username}</dd>
        </dl>
        <form
          className="card form"
          noValidate
          aria-describedby={accept.error ? errorId : undefined}
          onSubmit={(e) => {
            e.preventDefault();
            const errs: typeof errors = {};
            if (password.length < MIN_PASSWORD || password.length > MAX_PASSWORD)
              errs.password = t('console.invitation.passwordRule', { min: MIN_PASSWORD });
            else if (password !== repeat) errs.repeat = t('console.invitation.mismatch');
            setErrors(errs);
            if (errs.password) return passwordRef.current?.focus();
            if (errs.repeat) return repeatRef.current?.focus();
            accept.mutate();
          }}
        >
          <ConsoleError error={accept.error} id={errorId} />
          {/* For password managers: the account the new password belongs to. */}
          <input type="hidden" name="username" autoComplete="username" value={inv.username} />
          <Field
            label={t('console.invitation.password')}
            hint={t('console.invitation.passwordRule', { min: MIN_PASSWORD })}
            required
            error={errors.password ?? null}
          >
            {(p) => (
              <input
                {...p}
                ref={passwordRef}
                type="password"
                name="new-password"
                autoComplete="new-password"
                maxLength={MAX_PASSWORD}
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            )}
          </Field>
          <Field label={t('console.invitation.repeat')} required error={errors.repeat ?? null}>
            {(p) => (
              <input
                {...p}
                ref={repeatRef}
                type="password"
                name="repeat-password"
                autoComplete="new-password"
                maxLength={MAX_PASSWORD}
                value={repeat}
                onChange={(e) => setRepeat(e.target.value)}
              />
            )}
          </Field>
          <button type="submit" className="button primary" disabled={accept.isPending}>
            {accept.isPending ? t('common.saving') : t('console.invitation.submit')}
          </button>
        </form>
      </>
    );
  }

  return (
    <Shell>
      <div className="narrow">
        <PageTitle title={t('console.invitation.title')}>{t('console.invitation.title')}</PageTitle>
        {body}
      </div>
    </Shell>
  );
}
