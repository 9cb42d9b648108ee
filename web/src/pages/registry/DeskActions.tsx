import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import {
  type AccessLevel,
  api,
  apiUrl,
  type EntryExpedient,
  type EntryLinkResult,
  entityPath,
  type ExpedientSummary,
  type Page,
  type PaperOriginal,
  query,
  type RegistryEntry,
} from '../../api.ts';
import { ErrorAlert, Loading } from '../../components/ErrorAlert.tsx';
import { Field } from '../../components/Field.tsx';
import { StateBadge } from '../../components/StateBadge.tsx';
import { formatBytes, formatDateTime } from '../../format.ts';
import { DOCUMENT_TYPES } from '../../nti.ts';
import { rolesIn, useMe } from '../../session.ts';

const ACCESS_LEVELS: AccessLevel[] = ['public', 'internal', 'restricted'];
/** The scan types the desk takes (the server also checks the first bytes). */
const SCAN_ACCEPT = 'application/pdf,image/jpeg,image/png,image/tiff';

/**
 * The office desk's acts on an entry: bring it into a case file (an existing one or a new one
 * opened from it), digitise paper originals into authentic copies (EE03, art. 27) and mark them
 * returned to the filer (art. 16.5).
 */
export function DeskActions({ slug, entry }: { slug: string; entry: RegistryEntry; isOffice: boolean }) {
  const { data: me } = useMe();
  const roles = rolesIn(me, slug);
  const canLink = roles.includes('admin') || roles.includes('handler');
  const canDesk = canLink || roles.includes('registrar');
  const base = `${entityPath(slug)}/registry/${encodeURIComponent(entry.id)}`;
  return (
    <>
      <EntryExpedients slug={slug} base={base} entry={entry} canLink={canLink} />
      <PaperOriginals slug={slug} base={base} entry={entry} canDesk={canDesk} />
    </>
  );
}

function EntryExpedients({
  slug,
  base,
  entry,
  canLink,
}: {
  slug: string;
  base: string;
  entry: RegistryEntry;
  canLink: boolean;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const queryClient = useQueryClient();
  const [mode, setMode] = useState<'existing' | 'new'>('existing');
  const [search, setSearch] = useState('');
  const [term, setTerm] = useState<string | null>(null);
  const [chosen, setChosen] = useState<ExpedientSummary | null>(null);
  const [title, setTitle] = useState(entry.heading);
  const [classification, setClassification] = useState('');
  const [accessLevel, setAccessLevel] = useState<AccessLevel>('internal');
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<EntryLinkResult | null>(null);
  const titleRef = useRef<HTMLInputElement>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const errorId = 'link-error';

  const linked = useQuery({
    queryKey: ['entry-expedients', slug, entry.id],
    queryFn: () => api<{ items: EntryExpedient[] }>(`${base}/expedients`),
  });
  const found = useQuery({
    queryKey: ['expedients', slug, { q: term, state: 'E01' }, 1],
    queryFn: () =>
      api<Page<ExpedientSummary>>(`${entityPath(slug)}/expedients${query({ q: term, state: 'E01' })}`),
    enabled: term !== null,
  });
  const link = useMutation({
    mutationFn: () =>
      api<EntryLinkResult>(`${base}/expedient`, {
        json:
          mode === 'existing'
            ? { expedientId: chosen?.id }
            : {
                new: {
                  title: title.trim(),
                  ...(classification.trim() ? { classification: classification.trim() } : {}),
                  accessLevel,
                },
              },
      }),
    onMutate: () => setDone(null),
    onSuccess: async (r) => {
      setDone(r);
      setChosen(null);
      await queryClient.invalidateQueries({ queryKey: ['entry-expedients', slug, entry.id] });
      await queryClient.invalidateQueries({ queryKey: ['expedients', slug] });
    },
  });

  function submit(e: React.FormEvent) {
    e.preventDefault();
    link.reset();
    if (mode === 'existing' && !chosen) {
      setProblem('desk.chooseExpedient');
      searchRef.current?.focus();
      return;
    }
    if (mode === 'new' && !title.trim()) {
      setProblem('create.titleRequired');
      titleRef.current?.focus();
      return;
    }
    setProblem(null);
    link.mutate();
  }

  const items = linked.data?.items ?? [];
  return (
    <section aria-labelledby="entry-expedients-heading">
      <h2 id="entry-expedients-heading">{t('desk.expedientsHeading')}</h2>
      {linked.isPending ? <Loading /> : null}
      <ErrorAlert error={linked.error} />
      {linked.data && items.length === 0 ? <p className="empty">{t('desk.noExpedients')}</p> : null}
      {items.length > 0 ? (
        <ul className="document-list">
          {items.map((x) => (
            <li key={x.expedientId}>
              <span className="doc-main">
                <Link to={`/e/${slug}/expedients/${x.expedientId}`}>
                  {x.number ?? x.expedientId} {x.title ? `· ${x.title}` : ''}
                </Link>
                <span className="muted">
                  {x.createdFromEntry ? t('desk.openedFromEntry') : t('desk.broughtInto')} ·{' '}
                  {formatDateTime(x.linkedAt, lang)} · {x.linkedBy}
                </span>
              </span>
              {x.state ? <StateBadge state={x.state} /> : null}
            </li>
          ))}
        </ul>
      ) : null}
      {canLink ? (
        <form
          className="card form"
          noValidate
          onSubmit={submit}
          aria-describedby={link.error ? errorId : undefined}
        >
          <h3>{t('desk.linkHeading')}</h3>
          <p role="status" className="status-message">
            {done
              ? t(done.createdExpedient ? 'desk.opened' : 'desk.linked', {
                  number: done.expedient.number,
                  count: done.incorporated.length,
                })
              : ''}
          </p>
          <ErrorAlert error={link.error} id={errorId} />
          <fieldset className="radio-group inline">
            <legend>{t('desk.linkMode')}</legend>
            {(['existing', 'new'] as const).map((m) => (
              <div className="radio" key={m}>
                <input
                  type="radio"
                  id={`link-mode-${m}`}
                  name="linkMode"
                  checked={mode === m}
                  onChange={() => {
                    setMode(m);
                    setProblem(null);
                  }}
                />
                <label htmlFor={`link-mode-${m}`}>{t(`desk.linkModes.${m}`)}</label>
              </div>
            ))}
          </fieldset>
          {mode === 'existing' ? (
            <>
              {chosen ? (
                <p>
                  <strong>
                    {chosen.number} · {chosen.title}
                  </strong>{' '}
                  <button type="button" className="button small secondary" onClick={() => setChosen(null)}>
                    {t('common.remove')}
                  </button>
                </p>
              ) : (
                <Field
                  label={t('desk.searchExpedient')}
                  hint={t('expedients.searchHint')}
                  error={problem === 'desk.chooseExpedient' ? t(problem) : null}
                >
                  {(p) => (
                    <div className="inline-controls">
                      <input
                        {...p}
                        ref={searchRef}
                        type="search"
                        value={search}
                        onChange={(e) => setSearch(e.target.value)}
                        onKeyDown={(e) => {
                          if (e.key === 'Enter') {
                            e.preventDefault();
                            setTerm(search.trim());
                          }
                        }}
                      />
                      <button
                        type="button"
                        className="button secondary"
                        onClick={() => setTerm(search.trim())}
                      >
                        {t('common.search')}
                      </button>
                    </div>
                  )}
                </Field>
              )}
              <ErrorAlert error={found.error} />
              {!chosen && found.data ? (
                <>
                  <p role="status" className="picker-status">
                    {t('expedients.count', {
                      count: found.data.total,
                      formatted: String(found.data.total),
                    })}
                  </p>
                  <ul className="picker-results">
                    {found.data.items.map((x) => (
                      <li key={x.id}>
                        <span>
                          <strong>{x.number}</strong> {x.title}
                        </span>
                        <button
                          type="button"
                          className="button small"
                          aria-label={`${t('registry.choose')}: ${x.number}`}
                          onClick={() => {
                            setChosen(x);
                            setProblem(null);
                          }}
                        >
                          {t('registry.choose')}
                        </button>
                      </li>
                    ))}
                  </ul>
                </>
              ) : null}
            </>
          ) : (
            <>
              <Field
                label={t('expedient.titleField')}
                required
                error={problem === 'create.titleRequired' ? t(problem) : null}
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
              <div className="grid-2">
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
                <Field label={t('expedient.accessLevel')}>
                  {(p) => (
                    <select
                      {...p}
                      value={accessLevel}
                      onChange={(e) => setAccessLevel(e.target.value as AccessLevel)}
                    >
                      {ACCESS_LEVELS.map((a) => (
                        <option key={a} value={a}>
                          {t(`access.${a}`)}
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
              </div>
              <p className="hint">{t('desk.newHint')}</p>
            </>
          )}
          <button type="submit" className="button primary" disabled={link.isPending}>
            {mode === 'existing' ? t('desk.linkSubmit') : t('desk.openSubmit')}
          </button>
        </form>
      ) : null}
    </section>
  );
}

function PaperOriginals({
  slug,
  base,
  entry,
  canDesk,
}: {
  slug: string;
  base: string;
  entry: RegistryEntry;
  canDesk: boolean;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const queryClient = useQueryClient();
  const key = ['paper-originals', slug, entry.id];
  const list = useQuery({
    queryKey: key,
    queryFn: () => api<{ items: PaperOriginal[] }>(`${base}/paper-originals`),
  });
  const [description, setDescription] = useState('');
  const [title, setTitle] = useState('');
  const [documentType, setDocumentType] = useState('TD99');
  const [errors, setErrors] = useState<Partial<Record<'description' | 'file', string>>>({});
  const [done, setDone] = useState<PaperOriginal | null>(null);
  const descRef = useRef<HTMLInputElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const errorId = 'digitise-error';

  const digitise = useMutation({
    mutationFn: (file: File) => {
      const form = new FormData();
      form.append('description', description.trim());
      if (title.trim()) form.append('title', title.trim());
      form.append('documentType', documentType);
      form.append('file', file, file.name);
      return api<PaperOriginal>(`${base}/digitisations`, { form });
    },
    onMutate: () => setDone(null),
    onSuccess: async (po) => {
      setDone(po);
      setDescription('');
      setTitle('');
      formRef.current?.reset();
      await queryClient.invalidateQueries({ queryKey: key });
    },
  });

  function submit(e: React.FormEvent) {
    e.preventDefault();
    const file = fileRef.current?.files?.[0];
    const next: typeof errors = {};
    if (!description.trim()) next.description = 'desk.descriptionRequired';
    if (!file) next.file = 'desk.scanRequired';
    setErrors(next);
    if (next.description) return descRef.current?.focus();
    if (next.file || !file) return fileRef.current?.focus();
    digitise.mutate(file);
  }

  const items = list.data?.items ?? [];
  return (
    <section aria-labelledby="paper-heading">
      <h2 id="paper-heading">{t('desk.paperHeading')}</h2>
      <p className="hint">{t('desk.paperExplain')}</p>
      {list.isPending ? <Loading /> : null}
      <ErrorAlert error={list.error} />
      {list.data && items.length === 0 ? <p className="empty">{t('desk.noPaper')}</p> : null}
      {items.length > 0 ? (
        <ul className="annotation-list">
          {items.map((po) => (
            <li key={po.id}>
              <p>
                <strong>{po.description}</strong>
              </p>
              <p className="muted">
                {t('desk.copyOf', { title: po.copy.title })} · {po.copy.elaborationState} ·{' '}
                {formatBytes(po.copy.size, lang)} · {t(`desk.seal.${po.sealStatus}`)}
              </p>
              <p>
                <code className="hash">{po.copy.sha256}</code>
              </p>
              <p className="muted">
                {t('desk.digitisedBy', { who: po.digitisedBy, when: formatDateTime(po.digitisedAt, lang) })}
              </p>
              <p>
                <a
                  className="button small secondary"
                  href={apiUrl(`${base}/paper-originals/${encodeURIComponent(po.id)}/content`)}
                  download={po.copy.fileName}
                  aria-label={`${t('documents.download')}: ${po.copy.title}`}
                >
                  {t('documents.download')}
                </a>
              </p>
              {po.returnedAt ? (
                <p>
                  {t('desk.returned', {
                    to: po.returnedTo,
                    when: formatDateTime(po.returnedAt, lang),
                    who: po.returnedBy,
                  })}
                </p>
              ) : canDesk ? (
                <ReturnOriginal
                  base={base}
                  paper={po}
                  onDone={() => queryClient.invalidateQueries({ queryKey: key })}
                />
              ) : (
                <p>{t('desk.notReturned')}</p>
              )}
            </li>
          ))}
        </ul>
      ) : null}
      {canDesk ? (
        <form
          ref={formRef}
          className="card form"
          noValidate
          onSubmit={submit}
          aria-describedby={digitise.error ? errorId : undefined}
        >
          <h3>{t('desk.digitiseHeading')}</h3>
          <p role="status" className="status-message">
            {done ? t('desk.digitised', { title: done.copy.title }) : ''}
          </p>
          <ErrorAlert error={digitise.error} id={errorId} />
          <Field
            label={t('desk.description')}
            hint={t('desk.descriptionHint')}
            required
            error={errors.description ? t(errors.description) : null}
          >
            {(p) => (
              <input
                {...p}
                ref={descRef}
                name="description"
                maxLength={1000}
                value={description}
                onChange={(e) => setDescription(e.target.value)}
              />
            )}
          </Field>
          <div className="grid-2">
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
            <Field label={t('documents.type')}>
              {(p) => (
                <select {...p} value={documentType} onChange={(e) => setDocumentType(e.target.value)}>
                  {DOCUMENT_TYPES.map((d) => (
                    <option key={d} value={d}>
                      {d} · {t(`docType.${d}`)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </div>
          <Field
            label={t('desk.scan')}
            hint={t('desk.scanHint')}
            required
            error={errors.file ? t(errors.file) : null}
          >
            {(p) => <input {...p} ref={fileRef} type="file" name="file" accept={SCAN_ACCEPT} />}
          </Field>
          <button type="submit" className="button primary" disabled={digitise.isPending}>
            {digitise.isPending ? t('documents.uploading') : t('desk.digitiseSubmit')}
          </button>
        </form>
      ) : null}
    </section>
  );
}

function ReturnOriginal({
  base,
  paper,
  onDone,
}: {
  base: string;
  paper: PaperOriginal;
  onDone: () => Promise<void>;
}) {
  const { t } = useTranslation();
  const [to, setTo] = useState('');
  const [missing, setMissing] = useState(false);
  const ref = useRef<HTMLInputElement>(null);
  const back = useMutation({
    mutationFn: () =>
      api<PaperOriginal>(`${base}/paper-originals/${encodeURIComponent(paper.id)}/return`, {
        json: { returnedTo: to.trim() },
      }),
    onSuccess: onDone,
  });
  return (
    <form
      className="inline-search"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const empty = !to.trim();
        setMissing(empty);
        if (empty) return ref.current?.focus();
        back.mutate();
      }}
    >
      <ErrorAlert error={back.error} />
      <Field
        label={t('desk.returnedTo', { description: paper.description })}
        error={missing ? t('desk.returnedToRequired') : null}
      >
        {(p) => (
          <div className="inline-controls">
            <input {...p} ref={ref} maxLength={300} value={to} onChange={(e) => setTo(e.target.value)} />
            <button type="submit" className="button secondary" disabled={back.isPending}>
              {t('desk.returnSubmit')}
            </button>
          </div>
        )}
      </Field>
    </form>
  );
}
