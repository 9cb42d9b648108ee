import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { api } from '../api.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { Field } from '../components/Field.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { Shell } from '../components/Shell.tsx';
import { ME_KEY } from '../queryClient.ts';
import { useMe } from '../session.ts';

/** Groups of four characters are easier to copy by hand into an authenticator app. */
function grouped(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

/** Two-factor enrolment: the server makes a secret, the user adds it to an app and proves it with a code. */
export function TotpEnrolPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { data: me } = useMe();
  const [code, setCode] = useState('');
  const [formatError, setFormatError] = useState(false);
  const start = useMutation({
    mutationFn: () => api<{ secret: string; uri: string }>('/me/totp', { method: 'POST' }),
  });
  const confirm = useMutation({
    mutationFn: (c: string) => api<void>('/me/totp/confirm', { json: { code: c } }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ME_KEY });
      navigate('/', { replace: true });
    },
  });
  const errorId = 'totp-confirm-error';

  return (
    <Shell>
      <div className="narrow">
        <PageTitle title={t('totp.title')}>{t('totp.title')}</PageTitle>
        {me?.mustEnrolTotp ? <p className="alert alert-info">{t('totp.required')}</p> : null}
        {me?.totpEnabled && !me.mustEnrolTotp ? (
          <>
            <p>{t('totp.alreadyEnabled')}</p>
            <p>
              <Link to="/">{t('common.home')}</Link>
            </p>
          </>
        ) : (
          <>
            <p className="lead">{t('totp.intro')}</p>
            {!start.data ? (
              <div className="card">
                <ErrorAlert error={start.error} />
                <button
                  type="button"
                  className="button primary"
                  onClick={() => start.mutate()}
                  disabled={start.isPending}
                >
                  {t('totp.start')}
                </button>
              </div>
            ) : (
              <div className="card">
                <h2>{t('totp.step1')}</h2>
                <p>{t('totp.secretHelp')}</p>
                <p className="secret">
                  <span className="visually-hidden">{t('totp.secret')}: </span>
                  <code>{grouped(start.data.secret)}</code>
                </p>
                <details>
                  <summary>{t('totp.uriLabel')}</summary>
                  <p className="uri">
                    <code>{start.data.uri}</code>
                  </p>
                </details>
                <h2>{t('totp.step2')}</h2>
                <form
                  className="form"
                  noValidate
                  onSubmit={(e) => {
                    e.preventDefault();
                    const ok = /^[0-9]{6}$/.test(code);
                    setFormatError(!ok);
                    if (ok) confirm.mutate(code);
                  }}
                >
                  <ErrorAlert error={confirm.error} id={errorId} />
                  <Field
                    label={t('totp.code')}
                    hint={t('login.totpHint')}
                    required
                    error={formatError ? t('login.totpFormat') : null}
                    invalid={!!confirm.error}
                    describedBy={confirm.error ? errorId : undefined}
                  >
                    {(p) => (
                      <input
                        {...p}
                        name="code"
                        inputMode="numeric"
                        autoComplete="one-time-code"
                        maxLength={6}
                        className="input-code"
                        value={code}
                        onChange={(e) => setCode(e.target.value.replace(/\D/g, ''))}
                      />
                    )}
                  </Field>
                  <button type="submit" className="button primary" disabled={confirm.isPending}>
                    {t('totp.confirm')}
                  </button>
                </form>
              </div>
            )}
          </>
        )}
      </div>
    </Shell>
  );
}
