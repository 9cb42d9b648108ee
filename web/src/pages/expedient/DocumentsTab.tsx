import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { Link } from 'react-router';
import { useTranslation } from 'react-i18next';
import { api, apiUrl, type DocumentMeta, entityPath, type Expedient } from '../../api.ts';
import { ErrorAlert, Loading } from '../../components/ErrorAlert.tsx';
import { Field } from '../../components/Field.tsx';
import { formatDateTime } from '../../format.ts';
import { DOCUMENT_TYPES, ELABORATION_STATES, ORIGINS } from '../../nti.ts';
import { useExpedientIndex } from './indexQuery.ts';

/** Catalogue keys of the messages, so they follow a change of language. */
type Errors = Partial<Record<'original' | 'file', string>>;

/** The documents incorporated into the case file, with downloads, and the form to incorporate one. */
export function DocumentsTab({
  slug,
  expedient: x,
  canWrite,
}: {
  slug: string;
  expedient: Expedient;
  canWrite: boolean;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const queryClient = useQueryClient();
  const index = useExpedientIndex(slug, x.id);
  const [title, setTitle] = useState('');
  const [documentType, setDocumentType] = useState<string>('TD99');
  const [elaborationState, setElaborationState] = useState<string>('EE01');
  const [origin, setOrigin] = useState<string>('administration');
  const [originalEniId, setOriginalEniId] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [done, setDone] = useState<DocumentMeta | null>(null);
  const [draft, setDraft] = useState(false);
  const [draftDone, setDraftDone] = useState<DocumentMeta | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const originalRef = useRef<HTMLInputElement>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const errorId = 'upload-error';
  // NTI: an authentic copy with a change of format (EE02) or a partial one (EE04) names its original.
  const needsOriginal = elaborationState === 'EE02' || elaborationState === 'EE04';

  const upload = useMutation({
    mutationFn: (file: File) => {
      // The server reads the fields before the file: they must come first.
      const form = new FormData();
      if (title.trim()) form.append('title', title.trim());
      form.append('documentType', documentType);
      form.append('elaborationState', elaborationState);
      form.append('origin', origin);
      if (needsOriginal) form.append('originalEniId', originalEniId.trim());
      // A draft stays out of the index until its signature circuit completes (LPACAP art. 70.4).
      if (draft) form.append('draft', 'true');
      form.append('file', file, file.name);
      return api<DocumentMeta>(`${entityPath(slug)}/expedients/${encodeURIComponent(x.id)}/documents`, {
        form,
      });
    },
    onMutate: () => {
      setDone(null);
      setDraftDone(null);
    },
    onSuccess: async (doc) => {
      if (draft) setDraftDone(doc);
      else setDone(doc);
      setDraft(false);
      setTitle('');
      setOriginalEniId('');
      formRef.current?.reset();
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: ['index', slug, x.id] }),
        queryClient.invalidateQueries({ queryKey: ['expedient', slug, x.id] }),
        queryClient.invalidateQueries({ queryKey: ['audit', slug, x.id] }),
      ]);
    },
  });

  function submit(e: React.FormEvent) {
    e.preventDefault();
    const file = fileRef.current?.files?.[0];
    const next: Errors = {};
    if (needsOriginal && !/^[A-Za-z0-9._-]{1,52}$/.test(originalEniId.trim()))
      next.original = 'documents.originalRequired';
    if (!file) next.file = 'documents.fileRequired';
    setErrors(next);
    if (next.original) return originalRef.current?.focus();
    if (next.file || !file) return fileRef.current?.focus();
    upload.mutate(file);
  }

  const base = `${entityPath(slug)}/documents`;
  const entries = index.data?.entries ?? [];

  return (
    <div>
      <h2>{t('tabs.documents')}</h2>
      {index.isPending ? <Loading /> : null}
      <ErrorAlert error={index.error} />
      {index.data && entries.length === 0 ? <p className="empty">{t('documents.none')}</p> : null}
      {entries.length > 0 ? (
        <ul className="document-list">
          {entries.map((d) => (
            <li key={d.documentId}>
              <span className="doc-order" aria-hidden="true">
                {d.order}
              </span>
              <span className="doc-main">
                <span className="doc-title">{d.title}</span>
                <span className="muted">
                  {t(`docType.${d.documentType}`, d.documentType)} · {formatDateTime(d.incorporatedAt, lang)}
                </span>
              </span>
              <Link
                className="button small secondary"
                to={`/e/${slug}/documents/${encodeURIComponent(d.documentId)}?indexed=1`}
                aria-label={`${t('signatures.document.link')}: ${d.title}`}
              >
                {t('signatures.document.link')}
              </Link>
              <a
                className="button small secondary"
                href={apiUrl(`${base}/${encodeURIComponent(d.documentId)}/content`)}
                download
                aria-label={`${t('documents.download')}: ${d.title}`}
              >
                {t('documents.download')}
              </a>
            </li>
          ))}
        </ul>
      ) : null}

      {canWrite ? (
        <section className="card" aria-labelledby="upload-heading">
          <h3 id="upload-heading">{t('documents.uploadHeading')}</h3>
          <p role="status" className="status-message">
            {done ? t('documents.uploaded', { title: done.title, order: done.order }) : ''}
            {draftDone ? t('signatures.document.draftUploaded', { title: draftDone.title }) : ''}
          </p>
          {draftDone ? (
            <p>
              <Link to={`/e/${slug}/documents/${encodeURIComponent(draftDone.id)}`}>
                {t('signatures.document.prepare', { title: draftDone.title })}
              </Link>
            </p>
          ) : null}
          <form
            ref={formRef}
            className="form"
            noValidate
            onSubmit={submit}
            aria-describedby={upload.error ? errorId : undefined}
          >
            <ErrorAlert error={upload.error} id={errorId} />
            <Field label={t('documents.title')} hint={t('documents.titleHint')}>
              {(p) => (
                <input
                  {...p}
                  name="title"
                  maxLength={500}
                  value={title}
                  onChange={(e) => setTitle(e.target.value)}
                />
              )}
            </Field>
            <div className="grid-3">
              <Field label={t('documents.type')}>
                {(p) => (
                  <select
                    {...p}
                    name="documentType"
                    value={documentType}
                    onChange={(e) => setDocumentType(e.target.value)}
                  >
                    {DOCUMENT_TYPES.map((d) => (
                      <option key={d} value={d}>
                        {d} · {t(`docType.${d}`)}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <Field label={t('documents.elaborationState')}>
                {(p) => (
                  <select
                    {...p}
                    name="elaborationState"
                    value={elaborationState}
                    onChange={(e) => setElaborationState(e.target.value)}
                  >
                    {ELABORATION_STATES.map((s) => (
                      <option key={s} value={s}>
                        {s} · {t(`elaboration.${s}`)}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <Field label={t('documents.origin')}>
                {(p) => (
                  <select {...p} name="origin" value={origin} onChange={(e) => setOrigin(e.target.value)}>
                    {ORIGINS.map((o) => (
                      <option key={o} value={o}>
                        {t(`origin.${o}`)}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            </div>
            {needsOriginal ? (
              <Field
                label={t('documents.originalEniId')}
                hint={t('documents.originalHint')}
                required
                error={errors.original ? t(errors.original) : null}
              >
                {(p) => (
                  <input
                    {...p}
                    ref={originalRef}
                    name="originalEniId"
                    maxLength={52}
                    spellCheck={false}
                    value={originalEniId}
                    onChange={(e) => setOriginalEniId(e.target.value)}
                  />
                )}
              </Field>
            ) : null}
            <Field
              label={t('documents.file')}
              required
              error={errors.file ? t(errors.file) : null}
              hint={t('documents.fileHint')}
            >
              {(p) => <input {...p} ref={fileRef} type="file" name="file" />}
            </Field>
            <div className="checkbox">
              <input
                id="upload-draft"
                type="checkbox"
                checked={draft}
                onChange={(e) => setDraft(e.target.checked)}
              />
              <label htmlFor="upload-draft">{t('signatures.document.asDraft')}</label>
            </div>
            <button type="submit" className="button primary" disabled={upload.isPending}>
              {upload.isPending ? t('documents.uploading') : t('documents.upload')}
            </button>
          </form>
        </section>
      ) : x.state === 'E02' ? (
        <p className="muted">{t('expedient.closedNoChanges')}</p>
      ) : null}
    </div>
  );
}
