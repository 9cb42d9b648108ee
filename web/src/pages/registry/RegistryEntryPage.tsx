import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useParams } from 'react-router';
import { api, apiUrl, type CreatedRegistryEntry, entityPath, type RegistryEntry } from '../../api.ts';
import { ErrorAlert, Loading } from '../../components/ErrorAlert.tsx';
import { Field } from '../../components/Field.tsx';
import { PageTitle } from '../../components/PageTitle.tsx';
import { formatBytes, formatDateTime } from '../../format.ts';
import { DeskActions } from './DeskActions.tsx';
import { registryKey, usePartyNames, useRegistryRights, useUnits } from './registryCommon.ts';

/** While the receipt is being issued, look again every few seconds. */
const RECEIPT_POLL_MS = 3000;

/**
 * One registry entry with every field of art. 16.3 (times in Europe/Madrid), its attachments with
 * their SHA-256, its receipt (justificant) and its annotations; entries never change, an
 * annotation is how they are corrected.
 */
export function RegistryEntryPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const { slug = '', id = '' } = useParams();
  const location = useLocation();
  const created = (location.state as { created?: CreatedRegistryEntry } | null)?.created;
  const rights = useRegistryRights(slug);
  const units = useUnits(slug);
  const unitName = (uid: string | null) =>
    uid ? (units.data?.find((u) => u.id === uid)?.name ?? uid) : null;
  const base = `${entityPath(slug)}/registry/${encodeURIComponent(id)}`;

  const entry = useQuery({
    queryKey: registryKey(slug, id),
    queryFn: () => api<RegistryEntry>(base),
    refetchInterval: (q) => (q.state.data?.receipt === null ? RECEIPT_POLL_MS : false),
  });

  // The entry names the party by its given name; the register has the full name.
  const partyNames = usePartyNames(slug, [entry.data?.partyId ?? null]);

  if (entry.isPending) return <Loading />;
  if (entry.error || !entry.data) {
    return (
      <>
        <p className="breadcrumb">
          <Link to={`/e/${slug}/registry`}>{t('registry.title')}</Link>
        </p>
        <PageTitle title={t('registryEntry.notFound')}>{t('registryEntry.notFound')}</PageTitle>
        <ErrorAlert error={entry.error} />
      </>
    );
  }
  const x = entry.data;
  // The server's reason when the effective time is not set; the creation answer carries it.
  const note = x.effectiveAtNote ?? (created?.id === x.id ? created.effectiveAtNote : null);
  const dash = '—';

  return (
    <>
      <p className="breadcrumb">
        <Link to={`/e/${slug}/registry`}>{t('registry.title')}</Link>
      </p>
      <div className="page-head">
        <div>
          <p className="eyebrow">
            {t(`registryEntry.label.${x.direction}`)} {x.number}
          </p>
          <PageTitle title={`${x.number} · ${x.heading}`}>{x.heading}</PageTitle>
        </div>
      </div>
      {created?.id === x.id ? (
        <p role="status" className="alert alert-info">
          {t('registryEntry.created', { number: x.number })}
        </p>
      ) : null}

      <section aria-labelledby="entry-data-heading">
        <h2 id="entry-data-heading">{t('registryEntry.data')}</h2>
        <dl className="data-list">
          <dt>{t('registry.number')}</dt>
          <dd>{x.number}</dd>
          <dt>{t('registry.direction')}</dt>
          <dd>{t(`registry.dir.${x.direction}`)}</dd>
          <dt>{t('registry.heading')}</dt>
          <dd>{x.heading}</dd>
          <dt>{t('registry.summary')}</dt>
          <dd className="pre-line">{x.summary}</dd>
          <dt>{t('registry.channel')}</dt>
          <dd>{t(`registry.channelName.${x.channel}`, x.channel)}</dd>
          <dt>{t('registry.office')}</dt>
          <dd>{unitName(x.officeId) ?? dash}</dd>
          <dt>{t('registry.presentedAt')}</dt>
          <dd>
            {formatDateTime(x.presentedAt, lang)}{' '}
            <span className="muted">{t('registryEntry.madridTime')}</span>
          </dd>
          <dt>{t('registry.registeredAt')}</dt>
          <dd>
            {formatDateTime(x.registeredAt, lang)}{' '}
            <span className="muted">{t('registryEntry.madridTime')}</span>
          </dd>
          <dt>{t('registry.effectiveAt')}</dt>
          <dd>
            {x.effectiveAt ? (
              <>
                {formatDateTime(x.effectiveAt, lang)}{' '}
                <span className="muted">{t('registryEntry.madridTime')}</span>
              </>
            ) : (
              <>
                {t('registryEntry.effectiveNotSet')}
                {note ? (
                  <span className="block muted">
                    {t('errors.detail')}: <span lang="en">{note}</span>
                  </span>
                ) : null}
              </>
            )}
          </dd>
          <dt>{t('registry.party')}</dt>
          <dd>
            {x.party ? (partyNames.get(x.party.id) ?? `${x.party.name} (${x.party.identifier})`) : dash}
          </dd>
          <dt>{t('registry.sendingBody')}</dt>
          <dd>{x.sendingBody ?? dash}</dd>
          <dt>{t('registry.recipientUnit')}</dt>
          <dd>{unitName(x.recipientUnitId) ?? dash}</dd>
          <dt>{t('registry.recipientPerson')}</dt>
          <dd>{x.recipientPerson ?? dash}</dd>
          <dt>{t('registry.language')}</dt>
          <dd>{t(`languageName.${x.language}`, x.language)}</dd>
          <dt>{t('registryEntry.createdBy')}</dt>
          <dd>{x.createdBy}</dd>
        </dl>
        <p className="hint">{t('registryEntry.timesExplained')}</p>
        {x.text ? (
          <>
            <h3>{t('registry.text')}</h3>
            <div className="card pre-line entry-text">{x.text}</div>
          </>
        ) : null}
      </section>

      <Receipt base={base} entry={x} />

      <section aria-labelledby="entry-attachments-heading">
        <h2 id="entry-attachments-heading">{t('registry.attachments')}</h2>
        {x.attachments.length === 0 ? (
          <p className="empty">{t('registryEntry.noAttachments')}</p>
        ) : (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">
                {t('registryEntry.attachmentsCaption', { number: x.number })}
              </caption>
              <thead>
                <tr>
                  <th scope="col">{t('index.order')}</th>
                  <th scope="col">{t('registryEntry.document')}</th>
                  <th scope="col">{t('registryEntry.size')}</th>
                  <th scope="col">{t('index.hash')}</th>
                  <th scope="col">
                    <span className="visually-hidden">{t('documents.download')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {x.attachments.map((a) => (
                  <tr key={a.documentId}>
                    <td>{a.position}</td>
                    <td>
                      {a.title}
                      {a.fileName !== a.title ? <span className="block muted">{a.fileName}</span> : null}
                    </td>
                    <td className="nowrap">{formatBytes(a.size, lang)}</td>
                    <td>
                      <code className="hash">{a.sha256}</code>
                    </td>
                    <td>
                      <a
                        className="button small secondary"
                        href={apiUrl(`${base}/attachments/${a.position}/content`)}
                        download={a.fileName}
                        aria-label={`${t('documents.download')}: ${a.title}`}
                      >
                        {t('documents.download')}
                      </a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <DeskActions slug={slug} entry={x} isOffice={rights.isOffice} />

      <Annotations slug={slug} base={base} entry={x} canAnnotate={rights.canAnnotate} />
    </>
  );
}

/** The receipt (justificant, art. 16.3): a sealed PDF with a CSV, issued right after the entry. */
function Receipt({ base, entry: x }: { base: string; entry: RegistryEntry }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  // A server without receipts does not send the field: say nothing.
  if (x.receipt === undefined) return null;
  return (
    <section aria-labelledby="entry-receipt-heading">
      <h2 id="entry-receipt-heading">{t('receipt.heading')}</h2>
      {x.receipt === null ? (
        <p role="status" className="alert alert-info">
          {t('receipt.issuing')}
        </p>
      ) : (
        <div className="card">
          <dl className="data-list">
            <dt>{t('receipt.csv')}</dt>
            <dd>
              <code>{x.receipt.csv}</code>
            </dd>
            <dt>{t('receipt.issuedAt')}</dt>
            <dd>{formatDateTime(x.receipt.issuedAt, lang)}</dd>
          </dl>
          <p>
            <a className="button primary" href={apiUrl(`${base}/receipt`)} download>
              {t('receipt.download', { number: x.number })}
            </a>
          </p>
        </div>
      )}
    </section>
  );
}

function Annotations({
  slug,
  base,
  entry: x,
  canAnnotate,
}: {
  slug: string;
  base: string;
  entry: RegistryEntry;
  canAnnotate: boolean;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const queryClient = useQueryClient();
  const [text, setText] = useState('');
  const [missing, setMissing] = useState(false);
  const [added, setAdded] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);
  const errorId = 'annotation-error';
  const annotate = useMutation({
    mutationFn: () => api<RegistryEntry>(`${base}/annotations`, { json: { text: text.trim() } }),
    onMutate: () => setAdded(false),
    onSuccess: (view) => {
      queryClient.setQueryData(registryKey(slug, x.id), view);
      setText('');
      setAdded(true);
    },
  });
  return (
    <section aria-labelledby="entry-annotations-heading">
      <h2 id="entry-annotations-heading">{t('annotations.heading')}</h2>
      <p className="hint">{t('annotations.explain')}</p>
      {x.annotations.length === 0 ? (
        <p className="empty">{t('annotations.none')}</p>
      ) : (
        <ol className="annotation-list">
          {x.annotations.map((a) => (
            <li key={a.id}>
              <p className="muted">
                {formatDateTime(a.createdAt, lang)} · {a.createdBy}
              </p>
              <p className="pre-line">{a.text}</p>
            </li>
          ))}
        </ol>
      )}
      {canAnnotate ? (
        <form
          className="card form"
          noValidate
          aria-describedby={annotate.error ? errorId : undefined}
          onSubmit={(e) => {
            e.preventDefault();
            const empty = !text.trim();
            setMissing(empty);
            if (empty) return ref.current?.focus();
            annotate.mutate();
          }}
        >
          <p role="status" className="status-message">
            {added ? t('annotations.added') : ''}
          </p>
          <ErrorAlert error={annotate.error} id={errorId} />
          <Field label={t('annotations.text')} required error={missing ? t('annotations.required') : null}>
            {(p) => (
              <textarea
                {...p}
                ref={ref}
                name="annotation"
                rows={3}
                maxLength={4000}
                value={text}
                onChange={(e) => setText(e.target.value)}
              />
            )}
          </Field>
          <button type="submit" className="button primary" disabled={annotate.isPending}>
            {annotate.isPending ? t('common.saving') : t('annotations.submit')}
          </button>
        </form>
      ) : null}
    </section>
  );
}
