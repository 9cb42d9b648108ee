import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import {
  type FilingForm,
  type FilingPreview,
  type FilingResult,
  SeuApiError,
  seuGet,
  seuSend,
} from './api.ts';
import { ErrorNote, Loading, PageTitle } from './common.tsx';
import { LoginNeeded, sameOriginApi, useActingFor, useCitizen, when, withQuery } from './folder.tsx';
import { useSeu } from './SeuApp.tsx';

/** The language of the filing (the registry's tags): the page's language. */
function filingLanguage(lang: string | undefined): 'ca' | 'es' | 'oc-aranes' {
  if (lang === 'es') return 'es';
  if (lang === 'oc') return 'oc-aranes';
  return 'ca';
}

export function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.ceil(bytes / 1024)} kB`;
  return `${bytes} B`;
}

type Step = 'edit' | 'review' | 'done';

/**
 * The generic request (instància genèrica): exposo / sol·licito and attachments, a review step
 * showing what will be registered (the server's preview, nothing stored), then the filing, its
 * entry number and its sealed receipt to download at once.
 */
export function GenericRequestPage() {
  const { t, i18n } = useTranslation();
  const { slug, base, info } = useSeu();
  const me = useCitizen();
  const { onBehalfOf, query } = useActingFor();
  const form = useQuery({
    queryKey: ['seu-filing-form', slug],
    queryFn: () => seuGet<FilingForm>(`/seu/${encodeURIComponent(slug)}/filings/form`),
  });
  const [exposo, setExposo] = useState('');
  const [solicito, setSolicito] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [missing, setMissing] = useState<{ exposo: boolean; solicito: boolean }>({
    exposo: false,
    solicito: false,
  });
  const [step, setStep] = useState<Step>('edit');
  const stepHeading = useRef<HTMLHeadingElement>(null);
  const exposoRef = useRef<HTMLTextAreaElement>(null);
  const solicitoRef = useRef<HTMLTextAreaElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);

  function body(): FormData {
    const fd = new FormData();
    // Text fields first, then the files (the server refuses a field after a file).
    fd.append('exposo', exposo);
    fd.append('solicito', solicito);
    fd.append('language', filingLanguage(i18n.resolvedLanguage));
    if (onBehalfOf) fd.append('onBehalfOf', onBehalfOf);
    for (const f of files) fd.append('file', f, f.name);
    return fd;
  }
  const path = `/seu/${encodeURIComponent(slug)}/filings`;
  const preview = useMutation({
    mutationFn: () => seuSend<FilingPreview>(`${path}/preview`, body()),
    onSuccess: () => setStep('review'),
  });
  const submit = useMutation({
    mutationFn: () => seuSend<FilingResult>(path, body()),
    onSuccess: () => setStep('done'),
  });
  useEffect(() => {
    if (step !== 'edit') stepHeading.current?.focus();
  }, [step]);

  function review(e: React.FormEvent) {
    e.preventDefault();
    const m = { exposo: exposo.trim() === '', solicito: solicito.trim() === '' };
    setMissing(m);
    if (m.exposo) return exposoRef.current?.focus();
    if (m.solicito) return solicitoRef.current?.focus();
    preview.mutate();
  }

  if (me.isPending || form.isPending) return <Loading />;
  const title = t('seu.request.title');
  if (me.data === null)
    return (
      <>
        <PageTitle title={title} entity={info.entity.name} />
        <LoginNeeded returnTo={`${base}/carpeta/sollicitud`} />
      </>
    );
  const f = form.data;
  const accept = f
    ? f.types.flatMap((x) => [x.mimeType, ...x.extensions.map((e) => `.${e}`)]).join(',')
    : undefined;
  const extensions = f ? f.types.flatMap((x) => x.extensions).join(', ') : '';
  const problem = preview.error ?? submit.error;

  return (
    <>
      <PageTitle title={title} entity={info.entity.name} />
      <ErrorNote error={me.error ?? form.error} />
      {me.data ? (
        <p>
          {t('seu.request.filer', { name: me.data.acting.name, id: me.data.acting.identifier })}
          {me.data.acting.representation ? ` ${t('seu.request.representing', { name: me.data.name })}` : ''}
        </p>
      ) : null}
      <p className="seu-muted">
        {t('seu.request.steps', { step: step === 'edit' ? 1 : step === 'review' ? 2 : 3 })}
      </p>
      {problem ? <FilingProblem error={problem} /> : null}

      {step === 'edit' && f ? (
        <form className="seu-card seu-form" noValidate onSubmit={review}>
          <label htmlFor="exposo">{t('seu.request.exposo')}</label>
          <p id="exposo-hint" className="seu-hint">
            {t('seu.request.exposoHint', { max: f.exposoMaxLength })}
          </p>
          {missing.exposo ? (
            <p id="exposo-error" className="seu-error">
              {t('seu.request.required')}
            </p>
          ) : null}
          <textarea
            id="exposo"
            ref={exposoRef}
            required
            maxLength={f.exposoMaxLength}
            aria-describedby={missing.exposo ? 'exposo-hint exposo-error' : 'exposo-hint'}
            aria-invalid={missing.exposo ? true : undefined}
            value={exposo}
            onChange={(e) => setExposo(e.target.value)}
          />
          <label htmlFor="solicito">{t('seu.request.solicito')}</label>
          <p id="solicito-hint" className="seu-hint">
            {t('seu.request.solicitoHint', { max: f.solicitoMaxLength })}
          </p>
          {missing.solicito ? (
            <p id="solicito-error" className="seu-error">
              {t('seu.request.required')}
            </p>
          ) : null}
          <textarea
            id="solicito"
            ref={solicitoRef}
            required
            maxLength={f.solicitoMaxLength}
            aria-describedby={missing.solicito ? 'solicito-hint solicito-error' : 'solicito-hint'}
            aria-invalid={missing.solicito ? true : undefined}
            value={solicito}
            onChange={(e) => setSolicito(e.target.value)}
          />
          <label htmlFor="files">{t('seu.request.files')}</label>
          <p id="files-hint" className="seu-hint">
            {t('seu.request.filesHint', {
              types: extensions,
              max: f.maxAttachments,
              each: formatSize(f.maxAttachmentBytes),
              total: formatSize(f.maxTotalBytes),
            })}
          </p>
          <input
            id="files"
            ref={fileRef}
            type="file"
            multiple
            accept={accept}
            aria-describedby="files-hint files-chosen"
            onChange={(e) => setFiles(Array.from(e.target.files ?? []))}
          />
          <div id="files-chosen" aria-live="polite">
            {files.length === 0 ? (
              <p className="seu-muted">{t('seu.request.noFiles')}</p>
            ) : (
              <ul>
                {files.map((x) => (
                  <li key={`${x.name}-${x.size}`}>
                    {x.name} ({formatSize(x.size)})
                  </li>
                ))}
              </ul>
            )}
          </div>
          <button type="submit" className="seu-button" disabled={preview.isPending}>
            {t('seu.request.review')}
          </button>
        </form>
      ) : null}

      {step === 'review' && preview.data ? (
        <section aria-labelledby="review-h" className="seu-card">
          <h2 id="review-h" ref={stepHeading} tabIndex={-1}>
            {t('seu.request.reviewTitle')}
          </h2>
          <p>{t('seu.request.reviewIntro')}</p>
          <dl className="seu-data">
            <dt>{t('seu.request.party')}</dt>
            <dd>
              {preview.data.party.name} ({preview.data.party.identifier})
            </dd>
            {preview.data.representation ? (
              <>
                <dt>{t('seu.request.representative')}</dt>
                <dd>{preview.data.representation.representative}</dd>
              </>
            ) : null}
            <dt>{t('seu.request.heading')}</dt>
            <dd>{preview.data.heading}</dd>
          </dl>
          <h3>{t('seu.request.text')}</h3>
          <p className="seu-pre seu-subcard">{preview.data.text}</p>
          <h3>{t('seu.request.files')}</h3>
          {preview.data.attachments.length === 0 ? (
            <p>{t('seu.request.noFiles')}</p>
          ) : (
            <ol>
              {preview.data.attachments.map((a) => (
                <li key={a.position}>
                  {a.fileName} ({formatSize(a.size)}){' '}
                  <span className="seu-muted seu-wrap-any">SHA-256 {a.sha256}</span>
                </li>
              ))}
            </ol>
          )}
          <p className="seu-actions">
            <button
              type="button"
              className="seu-button"
              disabled={submit.isPending}
              onClick={() => submit.mutate()}
            >
              {t('seu.request.submit')}
            </button>{' '}
            <button
              type="button"
              className="seu-button secondary"
              onClick={() => {
                setStep('edit');
                preview.reset();
              }}
            >
              {t('seu.request.edit')}
            </button>
          </p>
          {submit.isPending ? <Loading /> : null}
        </section>
      ) : null}

      {step === 'done' && submit.data ? (
        <section aria-labelledby="done-h" className="seu-card">
          <h2 id="done-h" ref={stepHeading} tabIndex={-1}>
            {t('seu.request.doneTitle', { number: submit.data.number })}
          </h2>
          <p role="status">
            {t('seu.request.done', { number: submit.data.number, when: when(submit.data.presentedAt) })}
          </p>
          {submit.data.receipt && sameOriginApi(submit.data.receiptUrl) ? (
            <p>
              <a className="seu-button" href={withQuery(submit.data.receiptUrl, query)} download>
                {t('seu.folder.receipt', { number: submit.data.number })}
              </a>{' '}
              <span className="seu-muted">(CSV {submit.data.receipt.csv})</span>
            </p>
          ) : (
            <p>{t('seu.folder.receiptPending')}</p>
          )}
        </section>
      ) : null}
    </>
  );
}

function FilingProblem({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!(error instanceof SeuApiError)) return <ErrorNote error={error} />;
  const details = (error as SeuApiError & { details?: { fileName?: string } }).details ?? {};
  const known = [
    'VALIDATION_FAILED',
    'FILE_TYPE_NOT_ACCEPTED',
    'FILING_ATTACHMENT_TOO_LARGE',
    'FILING_ATTACHMENTS_TOO_LARGE',
    'FILING_TOO_MANY_ATTACHMENTS',
    'FILING_ATTACHMENT_EMPTY',
    'CITIZEN_LOGIN_REQUIRED',
  ];
  if (!known.includes(error.code)) return <ErrorNote error={error} />;
  return (
    <div className="seu-alert" role="alert">
      <p>{t(`seu.request.problem.${error.code}`, { file: details.fileName ?? '' })}</p>
    </div>
  );
}
