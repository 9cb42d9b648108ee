import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { SeuApiError, seuGet, seuSend } from './api.ts';
import { ErrorNote, Loading, PageTitle, civilDate } from './common.tsx';
import { LoginNeeded, sameOriginApi, useCitizen } from './folder.tsx';
import { formatSize } from './request.tsx';
import { useSeu } from './SeuApp.tsx';

/** A municipality of the province, for the picker (GET /seu/{slug}/enrolment/entities). */
type Municipality = {
  ine: string;
  dir3: string;
  name: string;
  comarca: string | null;
  population: number | null;
  status: string;
};
type Filed = {
  id: string;
  status: 'submitted';
  registryNumber: string;
  receiptCsv: string | null;
  receiptUrl: string;
};

type Kind = 'ajuntament' | 'emd';
type ActKind = 'ple_resolution' | 'mayor_decree';
type FileKey = 'adhesionAct' | 'signedRequest' | 'dpa';
const FILE_KEYS: FileKey[] = ['adhesionAct', 'signedRequest', 'dpa'];
const MAX_FILE_BYTES = 10 * 1024 * 1024;

type Values = {
  kind: Kind;
  ine: string;
  emdName: string;
  emdDir3: string;
  parentIne: string;
  mayorName: string;
  mayorEmail: string;
  mayorPhone: string;
  secretaryName: string;
  secretaryEmail: string;
  secretaryPhone: string;
  population: string;
  currentProvider: string;
  actKind: ActKind;
  actDate: string;
};
const EMPTY: Values = {
  kind: 'ajuntament',
  ine: '',
  emdName: '',
  emdDir3: '',
  parentIne: '',
  mayorName: '',
  mayorEmail: '',
  mayorPhone: '',
  secretaryName: '',
  secretaryEmail: '',
  secretaryPhone: '',
  population: '',
  currentProvider: '',
  actKind: 'ple_resolution',
  actDate: '',
};
type TextField = Exclude<keyof Values, 'kind' | 'actKind'>;

/** The request's language (the registry's tags): the page's language. */
function requestLanguage(lang: string | undefined): 'ca' | 'es' | 'oc-aranes' {
  if (lang === 'es') return 'es';
  if (lang === 'oc') return 'oc-aranes';
  return 'ca';
}

const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

/** What is wrong with the form, field by field (the same rules the server applies, roughly). */
function problems(
  v: Values,
  files: Partial<Record<FileKey, File>>,
): Partial<Record<TextField | FileKey, string>> {
  const p: Partial<Record<TextField | FileKey, string>> = {};
  const req = (f: TextField) => {
    if (v[f].trim() === '') p[f] = 'required';
  };
  if (v.kind === 'ajuntament') req('ine');
  else {
    req('emdName');
    req('emdDir3');
    if (!p.emdDir3 && !/^[A-Za-z0-9]{9}$/.test(v.emdDir3.trim())) p.emdDir3 = 'dir3';
    req('parentIne');
  }
  for (const f of [
    'mayorName',
    'mayorEmail',
    'secretaryName',
    'secretaryEmail',
    'population',
    'actDate',
  ] as const)
    req(f);
  for (const f of ['mayorEmail', 'secretaryEmail'] as const)
    if (!p[f] && !EMAIL.test(v[f].trim())) p[f] = 'email';
  if (!p.population && !/^\d{1,9}$/.test(v.population.trim())) p.population = 'number';
  for (const k of FILE_KEYS) {
    const f = files[k];
    if (!f) p[k] = 'required';
    else if (f.size > MAX_FILE_BYTES) p[k] = 'tooLarge';
  }
  return p;
}

/**
 * The Diputació's enrolment form (issue 6): an entity of the province asks to join Lligall.
 * Three steps: the form (entity, people, act of adhesion, the three PDFs), a review of what will
 * be filed, then the registry number and the receipt. Only on the Diputació's seu.
 */
export function EnrolmentPage() {
  const { t, i18n } = useTranslation();
  const { slug, base, info } = useSeu();
  const me = useCitizen();
  const entities = useQuery({
    queryKey: ['seu-enrolment-entities', slug],
    queryFn: () => seuGet<Municipality[]>(`/seu/${encodeURIComponent(slug)}/enrolment/entities`),
  });
  const [v, setV] = useState<Values>(EMPTY);
  const [files, setFiles] = useState<Partial<Record<FileKey, File>>>({});
  const [shown, setShown] = useState<Partial<Record<TextField | FileKey, string>>>({});
  const [step, setStep] = useState<'edit' | 'review' | 'done'>('edit');
  const stepHeading = useRef<HTMLHeadingElement>(null);
  const formRef = useRef<HTMLFormElement>(null);

  const submit = useMutation({
    mutationFn: () => {
      const fd = new FormData();
      // Text fields first, then the files (the server refuses a field after a file).
      fd.append('entityKind', v.kind);
      if (v.kind === 'ajuntament') fd.append('ine', v.ine);
      else {
        fd.append('emdName', v.emdName.trim());
        fd.append('emdDir3', v.emdDir3.trim().toUpperCase());
        fd.append('parentIne', v.parentIne);
      }
      fd.append('mayorName', v.mayorName.trim());
      fd.append('mayorEmail', v.mayorEmail.trim());
      fd.append('mayorPhone', v.mayorPhone.trim());
      fd.append('secretaryName', v.secretaryName.trim());
      fd.append('secretaryEmail', v.secretaryEmail.trim());
      fd.append('secretaryPhone', v.secretaryPhone.trim());
      fd.append('population', v.population.trim());
      fd.append('currentProvider', v.currentProvider.trim());
      fd.append('adhesionActKind', v.actKind);
      fd.append('adhesionActDate', v.actDate);
      fd.append('language', requestLanguage(i18n.resolvedLanguage));
      for (const k of FILE_KEYS) fd.append(k, files[k]!, files[k]!.name);
      return seuSend<Filed>(`/seu/${encodeURIComponent(slug)}/enrolment-requests`, fd);
    },
    onSuccess: () => setStep('done'),
  });
  useEffect(() => {
    if (step !== 'edit') stepHeading.current?.focus();
  }, [step]);

  const title = t('seu.enrolment.title');
  if (me.isPending || entities.isPending)
    return (
      <>
        <PageTitle title={title} entity={info.entity.name} />
        <Loading />
      </>
    );
  if (me.data === null)
    return (
      <>
        <PageTitle title={title} entity={info.entity.name} />
        <p>{t('seu.enrolment.intro')}</p>
        <LoginNeeded returnTo={`${base}/alta`} />
      </>
    );

  const list = entities.data ?? [];
  const byIne = new Map(list.map((m) => [m.ine, m]));
  const set = (f: keyof Values, value: string) => setV((x) => ({ ...x, [f]: value }));
  const err = (f: TextField | FileKey) => shown[f];
  const describedBy = (f: TextField | FileKey, hint = false) =>
    [hint ? `enrolment-${f}-hint` : null, err(f) ? `enrolment-${f}-error` : null].filter(Boolean).join(' ') ||
    undefined;
  const errorText = (f: TextField | FileKey) =>
    err(f) ? (
      <p id={`enrolment-${f}-error`} className="seu-error">
        {t(`seu.enrolment.error.${err(f)}`)}
      </p>
    ) : null;

  function text(
    f: TextField,
    opts: { type?: string; required?: boolean; hint?: boolean; autoComplete?: string } = {},
  ) {
    return (
      <>
        <label htmlFor={`enrolment-${f}`}>
          {t(`seu.enrolment.field.${f}`)}
          {opts.required === false ? ` ${t('seu.enrolment.optional')}` : ''}
        </label>
        {opts.hint ? (
          <p id={`enrolment-${f}-hint`} className="seu-hint">
            {t(`seu.enrolment.hint.${f}`)}
          </p>
        ) : null}
        {errorText(f)}
        <input
          id={`enrolment-${f}`}
          name={f}
          type={opts.type ?? 'text'}
          required={opts.required !== false}
          autoComplete={opts.autoComplete}
          aria-invalid={err(f) ? true : undefined}
          aria-describedby={describedBy(f, opts.hint)}
          value={v[f]}
          onChange={(e) => set(f, e.target.value)}
        />
      </>
    );
  }

  function picker(f: 'ine' | 'parentIne') {
    return (
      <>
        <label htmlFor={`enrolment-${f}`}>{t(`seu.enrolment.field.${f}`)}</label>
        {errorText(f)}
        <select
          id={`enrolment-${f}`}
          name={f}
          required
          aria-invalid={err(f) ? true : undefined}
          aria-describedby={describedBy(f)}
          value={v[f]}
          onChange={(e) => {
            const ine = e.target.value;
            const m = byIne.get(ine);
            setV((x) => ({
              ...x,
              [f]: ine,
              ...(f === 'ine' && m?.population != null ? { population: String(m.population) } : {}),
            }));
          }}
        >
          <option value="">{t('seu.enrolment.choose')}</option>
          {list.map((m) => (
            <option key={m.ine} value={m.ine}>
              {m.comarca ? `${m.name} (${m.comarca})` : m.name}
            </option>
          ))}
        </select>
      </>
    );
  }

  function review(e: React.FormEvent) {
    e.preventDefault();
    const p = problems(v, files);
    setShown(p);
    const first = Object.keys(p)[0];
    if (first) {
      formRef.current?.querySelector<HTMLElement>(`#enrolment-${first}`)?.focus();
      return;
    }
    submit.reset();
    setStep('review');
  }

  const entityName =
    v.kind === 'ajuntament'
      ? (byIne.get(v.ine)?.name ?? '')
      : `${v.emdName} (${t('seu.enrolment.kind.emd')}, ${byIne.get(v.parentIne)?.name ?? ''})`;

  return (
    <>
      <PageTitle title={title} entity={info.entity.name} />
      <ErrorNote error={me.error ?? entities.error} />
      <p>{t('seu.enrolment.intro')}</p>
      {me.data ? <p>{t('seu.enrolment.filer', { name: me.data.name, id: me.data.identifier })}</p> : null}
      <p className="seu-muted">
        {t('seu.enrolment.steps', { step: step === 'edit' ? 1 : step === 'review' ? 2 : 3 })}
      </p>
      {submit.error ? <EnrolmentProblem error={submit.error} /> : null}

      {step === 'edit' ? (
        <form ref={formRef} className="seu-card seu-form" noValidate onSubmit={review}>
          <fieldset>
            <legend>{t('seu.enrolment.section.entity')}</legend>
            <fieldset>
              <legend>{t('seu.enrolment.field.kind')}</legend>
              {(['ajuntament', 'emd'] as const).map((k) => (
                <div key={k}>
                  <input
                    type="radio"
                    id={`enrolment-kind-${k}`}
                    name="entityKind"
                    value={k}
                    checked={v.kind === k}
                    onChange={() => set('kind', k)}
                  />{' '}
                  <label htmlFor={`enrolment-kind-${k}`}>{t(`seu.enrolment.kind.${k}`)}</label>
                </div>
              ))}
            </fieldset>
            {v.kind === 'ajuntament' ? (
              picker('ine')
            ) : (
              <>
                {text('emdName')}
                {text('emdDir3', { hint: true })}
                {picker('parentIne')}
              </>
            )}
            {text('population', { type: 'text', hint: true })}
            {text('currentProvider', { required: false, hint: true })}
          </fieldset>
          <fieldset>
            <legend>{t('seu.enrolment.section.mayor')}</legend>
            {text('mayorName', { autoComplete: 'off' })}
            {text('mayorEmail', { type: 'email', autoComplete: 'off' })}
            {text('mayorPhone', { type: 'tel', required: false, autoComplete: 'off' })}
          </fieldset>
          <fieldset>
            <legend>{t('seu.enrolment.section.secretary')}</legend>
            {text('secretaryName', { autoComplete: 'off' })}
            {text('secretaryEmail', { type: 'email', autoComplete: 'off' })}
            {text('secretaryPhone', { type: 'tel', required: false, autoComplete: 'off' })}
          </fieldset>
          <fieldset>
            <legend>{t('seu.enrolment.section.act')}</legend>
            <fieldset>
              <legend>{t('seu.enrolment.field.actKind')}</legend>
              {(['ple_resolution', 'mayor_decree'] as const).map((k) => (
                <div key={k}>
                  <input
                    type="radio"
                    id={`enrolment-actKind-${k}`}
                    name="adhesionActKind"
                    value={k}
                    checked={v.actKind === k}
                    onChange={() => set('actKind', k)}
                  />{' '}
                  <label htmlFor={`enrolment-actKind-${k}`}>{t(`seu.enrolment.actKind.${k}`)}</label>
                </div>
              ))}
            </fieldset>
            {text('actDate', { type: 'date' })}
          </fieldset>
          <fieldset>
            <legend>{t('seu.enrolment.section.files')}</legend>
            <p className="seu-hint">{t('seu.enrolment.hint.files', { max: formatSize(MAX_FILE_BYTES) })}</p>
            {FILE_KEYS.map((k) => (
              <div key={k}>
                <label htmlFor={`enrolment-${k}`}>{t(`seu.enrolment.field.${k}`)}</label>
                <p id={`enrolment-${k}-hint`} className="seu-hint">
                  {t(`seu.enrolment.hint.${k}`)}
                </p>
                {errorText(k)}
                <input
                  id={`enrolment-${k}`}
                  name={k}
                  type="file"
                  accept="application/pdf,.pdf"
                  required
                  aria-invalid={err(k) ? true : undefined}
                  aria-describedby={describedBy(k, true)}
                  onChange={(e) => {
                    const f = e.target.files?.[0];
                    setFiles((x) => {
                      const next = { ...x };
                      if (f) next[k] = f;
                      else delete next[k];
                      return next;
                    });
                  }}
                />
              </div>
            ))}
          </fieldset>
          <button type="submit" className="seu-button">
            {t('seu.enrolment.review')}
          </button>
        </form>
      ) : null}

      {step === 'review' ? (
        <section aria-labelledby="enrolment-review-h" className="seu-card">
          <h2 id="enrolment-review-h" ref={stepHeading} tabIndex={-1}>
            {t('seu.enrolment.reviewTitle')}
          </h2>
          <p>{t('seu.enrolment.reviewIntro')}</p>
          <dl className="seu-data">
            <dt>{t('seu.enrolment.field.kind')}</dt>
            <dd>{t(`seu.enrolment.kind.${v.kind}`)}</dd>
            <dt>{t('seu.enrolment.entity')}</dt>
            <dd>{entityName}</dd>
            {v.kind === 'emd' ? (
              <>
                <dt>{t('seu.enrolment.field.emdDir3')}</dt>
                <dd>{v.emdDir3.trim().toUpperCase()}</dd>
              </>
            ) : null}
            <dt>{t('seu.enrolment.field.population')}</dt>
            <dd>{v.population}</dd>
            <dt>{t('seu.enrolment.field.currentProvider')}</dt>
            <dd>{v.currentProvider.trim() || t('seu.enrolment.noProvider')}</dd>
            <dt>{t('seu.enrolment.section.mayor')}</dt>
            <dd>
              {v.mayorName} · {v.mayorEmail}
              {v.mayorPhone ? ` · ${v.mayorPhone}` : ''}
            </dd>
            <dt>{t('seu.enrolment.section.secretary')}</dt>
            <dd>
              {v.secretaryName} · {v.secretaryEmail}
              {v.secretaryPhone ? ` · ${v.secretaryPhone}` : ''}
            </dd>
            <dt>{t('seu.enrolment.section.act')}</dt>
            <dd>
              {t(`seu.enrolment.actKind.${v.actKind}`)}, {v.actDate ? civilDate(v.actDate) : ''}
            </dd>
            {FILE_KEYS.map((k) => (
              <div key={k}>
                <dt>{t(`seu.enrolment.field.${k}`)}</dt>
                <dd>
                  {files[k]?.name} ({formatSize(files[k]?.size ?? 0)})
                </dd>
              </div>
            ))}
          </dl>
          <p className="seu-actions">
            <button
              type="button"
              className="seu-button"
              disabled={submit.isPending}
              onClick={() => submit.mutate()}
            >
              {t('seu.enrolment.submit')}
            </button>{' '}
            <button
              type="button"
              className="seu-button secondary"
              onClick={() => {
                submit.reset();
                setStep('edit');
              }}
            >
              {t('seu.enrolment.edit')}
            </button>
          </p>
          {submit.isPending ? <Loading /> : null}
        </section>
      ) : null}

      {step === 'done' && submit.data ? (
        <section aria-labelledby="enrolment-done-h" className="seu-card">
          <h2 id="enrolment-done-h" ref={stepHeading} tabIndex={-1}>
            {t('seu.enrolment.doneTitle', { number: submit.data.registryNumber })}
          </h2>
          <p role="status">{t('seu.enrolment.done', { number: submit.data.registryNumber })}</p>
          {submit.data.receiptCsv && sameOriginApi(submit.data.receiptUrl) ? (
            <p>
              <a className="seu-button" href={submit.data.receiptUrl} download>
                {t('seu.enrolment.receipt', { number: submit.data.registryNumber })}
              </a>{' '}
              <span className="seu-muted">(CSV {submit.data.receiptCsv})</span>
            </p>
          ) : (
            <p>{t('seu.folder.receiptPending')}</p>
          )}
        </section>
      ) : null}
    </>
  );
}

const KNOWN_PROBLEMS = [
  'VALIDATION_FAILED',
  'ENROLMENT_FILE_INVALID',
  'ENROLMENT_SIGNATURE_INVALID',
  'ENROLMENT_ENTITY_UNKNOWN',
  'ENROLMENT_DUPLICATE',
  'CITIZEN_LOGIN_REQUIRED',
];

function EnrolmentProblem({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!(error instanceof SeuApiError) || !KNOWN_PROBLEMS.includes(error.code))
    return <ErrorNote error={error} />;
  return (
    <div className="seu-alert" role="alert">
      <p>{t(`seu.enrolment.problem.${error.code}`)}</p>
    </div>
  );
}
