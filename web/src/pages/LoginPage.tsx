import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, useLocation, useNavigate } from 'react-router';
import { ApiError, api } from '../api.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { Field } from '../components/Field.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { Shell } from '../components/Shell.tsx';
import { ME_KEY } from '../queryClient.ts';
import { useMe } from '../session.ts';

type LoginResult = { userId: string; mustEnrolTotp: boolean };

/** Password first; when the account has TOTP, the server asks for the code and we send all three. */
export function LoginPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const location = useLocation();
  const queryClient = useQueryClient();
  const { data: me } = useMe();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [step, setStep] = useState<'password' | 'totp'>('password');
  const [totpFormatError, setTotpFormatError] = useState(false);
  const totpRef = useRef<HTMLInputElement>(null);
  const errorId = 'login-error';

  const login = useMutation({
    mutationFn: (body: { username: string; password: string; totp?: string }) =>
      api<LoginResult>('/session', { json: body }),
    onSuccess: async (result) => {
      await queryClient.invalidateQueries({ queryKey: ME_KEY });
      const from = (location.state as { from?: string } | null)?.from;
      navigate(result.mustEnrolTotp ? '/totp' : (from ?? '/'), { replace: true });
    },
    onError: (err) => {
      if (err instanceof ApiError && err.code === 'TOTP_REQUIRED') setStep('totp');
    },
  });

  useEffect(() => {
    if (step === 'totp') totpRef.current?.focus();
  }, [step]);

  if (me && !login.isPending && !login.isSuccess) return <Navigate to="/" replace />;

  const code = login.error instanceof ApiError ? login.error.code : null;
  // Asking for the code is the next step, not an error.
  const shownError = code === 'TOTP_REQUIRED' ? null : login.error;
  const totpRejected = step === 'totp' && code === 'TOTP_INVALID';

  function submit(e: React.FormEvent) {
    e.preventDefault();
    if (step === 'totp') {
      const valid = /^[0-9]{6}$/.test(totp);
      setTotpFormatError(!valid);
      if (!valid) {
        totpRef.current?.focus();
        return;
      }
      login.mutate({ username, password, totp });
    } else {
      login.mutate({ username, password });
    }
  }

  return (
    <Shell>
      <div className="narrow">
        <PageTitle title={t('login.title')}>{t('login.title')}</PageTitle>
        <p className="lead">{t('login.intro')}</p>
        <form
          className="card form"
          onSubmit={submit}
          noValidate
          aria-describedby={shownError ? errorId : undefined}
        >
          <ErrorAlert error={shownError} id={errorId} />
          {step === 'password' ? (
            <>
              <Field label={t('login.username')} required describedBy={shownError ? errorId : undefined}>
                {(p) => (
                  <input
                    {...p}
                    name="username"
                    autoComplete="username"
                    autoCapitalize="none"
                    spellCheck={false}
                    value={username}
                    onChange={(e) => setUsername(e.target.value)}
                  />
                )}
              </Field>
              <Field label={t('login.password')} required describedBy={shownError ? errorId : undefined}>
                {(p) => (
                  <input
                    {...p}
                    name="password"
                    type="password"
                    autoComplete="current-password"
                    value={password}
                    onChange={(e) => setPassword(e.target.value)}
                  />
                )}
              </Field>
              <button type="submit" className="button primary" disabled={login.isPending}>
                {login.isPending ? t('login.submitting') : t('login.submit')}
              </button>
            </>
          ) : (
            <>
              <p>{t('login.totpIntro')}</p>
              <Field
                label={t('login.totp')}
                hint={t('login.totpHint')}
                required
                error={totpFormatError ? t('login.totpFormat') : null}
                invalid={totpRejected}
                describedBy={shownError ? errorId : undefined}
              >
                {(p) => (
                  <input
                    {...p}
                    ref={totpRef}
                    name="totp"
                    inputMode="numeric"
                    autoComplete="one-time-code"
                    pattern="[0-9]{6}"
                    maxLength={6}
                    className="input-code"
                    value={totp}
                    onChange={(e) => setTotp(e.target.value.replace(/\D/g, ''))}
                  />
                )}
              </Field>
              <div className="actions">
                <button type="submit" className="button primary" disabled={login.isPending}>
                  {t('login.verify')}
                </button>
                <button
                  type="button"
                  className="button secondary"
                  onClick={() => {
                    setStep('password');
                    setTotp('');
                    setTotpFormatError(false);
                    login.reset();
                  }}
                >
                  {t('common.back')}
                </button>
              </div>
            </>
          )}
        </form>
        <section aria-labelledby="login-verify-heading" className="login-verify">
          <h2 id="login-verify-heading">{t('login.verifyHeading')}</h2>
          <p>
            {t('login.verifyIntro')} <Link to="/verify">{t('login.verifyLink')}</Link>
          </p>
        </section>
      </div>
    </Shell>
  );
}
