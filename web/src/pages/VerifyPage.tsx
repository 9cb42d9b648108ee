import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { ApiError, api, apiUrl, type Verification } from '../api.ts';
import { ErrorAlert, Loading } from '../components/ErrorAlert.tsx';
import { Field } from '../components/Field.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { Shell } from '../components/Shell.tsx';
import { formatBytes, formatDateTime } from '../format.ts';
import { useMe } from '../session.ts';

/** A CSV as people type it: spaces dropped, upper case (the server also checks and canonicalises it). */
function normalise(csv: string): string {
  return csv.replace(/\s+/g, '').toUpperCase();
}

/** Only a same-origin path is followed: the link is built from the server's answer. */
function contentHref(v: Verification): string {
  if (v.contentUrl.startsWith('/') && !v.contentUrl.startsWith('//')) return v.contentUrl;
  return apiUrl(`/verify/${encodeURIComponent(v.csv)}/content`);
}

/**
 * Public verification of a document by its secure verification code (CSV, LRJSP art. 42.b): no
 * session needed. `?csv=` fills the field and verifies at once (the link printed on documents).
 */
export function VerifyPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const { data: me } = useMe();
  const [params, setParams] = useSearchParams();
  const csv = normalise(params.get('csv') ?? '');
  const [text, setText] = useState(params.get('csv') ?? '');
  const [missing, setMissing] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const resultRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => setText(params.get('csv') ?? ''), [params]);

  const result = useQuery({
    queryKey: ['verify', csv],
    queryFn: () => api<Verification>(`/verify/${encodeURIComponent(csv)}`),
    enabled: csv !== '',
    retry: false,
    staleTime: 60_000,
  });

  function submit(e: React.FormEvent) {
    e.preventDefault();
    const value = normalise(text);
    setMissing(!value);
    if (!value) {
      inputRef.current?.focus();
      return;
    }
    setParams({ csv: value });
    if (value === csv) void result.refetch();
  }

  const v = result.data;
  const err = result.error;
  const problem = err instanceof ApiError ? err : null;
  const notFound = problem?.code === 'CSV_NOT_FOUND';
  const invalid = problem?.code === 'CSV_INVALID';
  const tooMany = problem?.status === 429;
  const known = notFound || invalid || tooMany;

  return (
    <Shell>
      <div className="narrow">
        <PageTitle title={t('verify.title')}>{t('verify.title')}</PageTitle>
        <p className="lead">{t('verify.intro')}</p>
        <search aria-label={t('verify.title')}>
          <form className="card form" noValidate onSubmit={submit}>
            <Field
              label={t('verify.csv')}
              hint={t('verify.csvHint')}
              required
              error={missing ? t('verify.csvRequired') : null}
              invalid={invalid}
            >
              {(p) => (
                <input
                  {...p}
                  ref={inputRef}
                  name="csv"
                  autoCapitalize="characters"
                  autoComplete="off"
                  spellCheck={false}
                  className="input-csv"
                  value={text}
                  onChange={(e) => setText(e.target.value)}
                />
              )}
            </Field>
            <button type="submit" className="button primary" disabled={result.isFetching}>
              {t('verify.submit')}
            </button>
          </form>
        </search>

        <section aria-labelledby="verify-result-heading" aria-live="polite">
          {csv ? (
            <h2 id="verify-result-heading" ref={resultRef} tabIndex={-1}>
              {t('verify.resultHeading', { csv })}
            </h2>
          ) : (
            <h2 id="verify-result-heading" className="visually-hidden">
              {t('verify.result')}
            </h2>
          )}
          {result.isFetching ? <Loading /> : null}
          {notFound ? (
            <div className="alert alert-error" role="alert">
              <p>{t('verify.notFound')}</p>
            </div>
          ) : null}
          {invalid ? (
            <div className="alert alert-error" role="alert">
              <p>{t('verify.invalid')}</p>
            </div>
          ) : null}
          {tooMany ? (
            <div className="alert alert-error" role="alert">
              <p>{t('verify.tooMany')}</p>
            </div>
          ) : null}
          {!known ? <ErrorAlert error={err} /> : null}
          {v && !result.isFetching ? (
            <div className="card verify-result">
              <p role="status" className="status-message">
                {t('verify.found')}
              </p>
              {!v.seal || v.seal.qualified ? null : (
                <div className="alert alert-error" role="note">
                  <p>
                    <strong>{t('verify.demoSealTitle')}</strong>
                  </p>
                  <p>{t('verify.demoSeal')}</p>
                </div>
              )}
              <dl className="data-list">
                <dt>{t('verify.entity')}</dt>
                <dd>
                  {v.entity.name} <span className="muted">({v.entity.dir3})</span>
                </dd>
                <dt>{t('verify.docTitle')}</dt>
                <dd>{v.document.title}</dd>
                <dt>{t('documents.type')}</dt>
                <dd>
                  {v.document.documentType} ·{' '}
                  {t(`docType.${v.document.documentType}`, v.document.documentType)}
                </dd>
                <dt>{t('verify.fileName')}</dt>
                <dd>{v.document.fileName}</dd>
                <dt>{t('verify.format')}</dt>
                <dd>
                  {v.document.mimeType} · {formatBytes(v.document.size, lang)}
                </dd>
                <dt>{t('index.hash')}</dt>
                <dd>
                  <code className="hash">{v.document.sha256}</code>
                </dd>
                <dt>{t('verify.createdAt')}</dt>
                <dd>{formatDateTime(v.document.createdAt, lang)}</dd>
                <dt>{t('verify.seal')}</dt>
                <dd>
                  {v.seal ? (
                    <>
                      {v.seal.subject}{' '}
                      <span className="muted">
                        ({v.seal.qualified ? t('verify.qualified') : t('verify.notQualified')})
                      </span>
                    </>
                  ) : (
                    t('verify.noSeal')
                  )}
                </dd>
                <dt>{t('receipt.csv')}</dt>
                <dd>
                  <code>{v.csv}</code>
                </dd>
              </dl>
              <p>
                <a className="button primary" href={contentHref(v)} download={v.document.fileName}>
                  {t('verify.download', { title: v.document.title })}
                </a>
              </p>
              <p className="hint">{t('verify.compareHint')}</p>
            </div>
          ) : null}
        </section>
        {me ? null : (
          <p>
            <Link to="/login">{t('verify.toLogin')}</Link>
          </p>
        )}
      </div>
    </Shell>
  );
}
