import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiError, apiUrl } from '../../api.ts';
import { ErrorAlert, Loading } from '../../components/ErrorAlert.tsx';
import { PageTitle } from '../../components/PageTitle.tsx';
import { SecondFactorDialog } from '../../components/SecondFactorDialog.tsx';
import { Shell } from '../../components/Shell.tsx';
import { errorMessage, formatDateTime } from '../../format.ts';
import { rememberedEntity, useEntities } from '../../session.ts';
import {
  type BatchResult,
  docPath,
  fetchInbox,
  INBOX_KEY,
  type InboxItem,
  type SecondFactor,
  signBatch,
} from '../../signatures.ts';

const keyOf = (i: { entity: string; documentId: string }) => `${i.entity}/${i.documentId}`;

/** The caller's pending signatures across entities; several are signed with one confirmation. */
export function SignatureInboxPage() {
  const { t } = useTranslation();
  const { data: entities } = useEntities();
  const remembered = rememberedEntity();
  const entity = entities?.find((e) => e.slug === remembered)?.slug ?? entities?.[0]?.slug;
  return (
    <Shell {...(entity ? { entity } : {})}>
      <PageTitle title={t('signatures.inbox.title')}>{t('signatures.inbox.title')}</PageTitle>
      <Inbox />
    </Shell>
  );
}

function Inbox() {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const inbox = useQuery({ queryKey: INBOX_KEY, queryFn: fetchInbox });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [open, setOpen] = useState(false);
  const [done, setDone] = useState<{ results: BatchResult[]; titles: Map<string, string> } | null>(null);
  // The signed rows leave the table (and maybe the button that opened the dialog): once the
  // dialog has closed, focus goes to the results.
  const focusResults = useRef(false);
  const sign = useMutation({
    mutationFn: (factor: SecondFactor) => {
      const items = (inbox.data ?? [])
        .filter((i) => selected.has(keyOf({ entity: i.entity.slug, documentId: i.documentId })))
        .map((i) => ({ entity: i.entity.slug, documentId: i.documentId }));
      return signBatch(items, factor);
    },
    onSuccess: (r) => {
      const titles = new Map(
        (inbox.data ?? []).map((i) => [keyOf({ entity: i.entity.slug, documentId: i.documentId }), i.title]),
      );
      setDone({ results: r.results, titles });
      focusResults.current = true;
      setSelected(new Set());
      setOpen(false);
      void qc.invalidateQueries({ queryKey: INBOX_KEY });
    },
  });

  if (inbox.isPending) return <Loading />;
  if (inbox.error) return <ErrorAlert error={inbox.error} />;
  const items = inbox.data;
  const allKeys = items.map((i) => keyOf({ entity: i.entity.slug, documentId: i.documentId }));
  const allSelected = items.length > 0 && allKeys.every((k) => selected.has(k));
  const toggle = (k: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(k)) n.delete(k);
      else n.add(k);
      return n;
    });

  return (
    <>
      <Results done={done} />
      {items.length === 0 ? (
        <p>{t('signatures.inbox.empty')}</p>
      ) : (
        <>
          <p>{t('signatures.inbox.intro')}</p>
          <table className="table">
            <caption className="visually-hidden">
              {t('signatures.inbox.caption', { count: items.length })}
            </caption>
            <thead>
              <tr>
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label={t('signatures.inbox.selectAll')}
                    checked={allSelected}
                    onChange={() => setSelected(allSelected ? new Set() : new Set(allKeys))}
                  />
                </th>
                <th scope="col">{t('signatures.inbox.document')}</th>
                <th scope="col">{t('signatures.inbox.entity')}</th>
                <th scope="col">{t('signatures.inbox.step')}</th>
                <th scope="col">{t('signatures.inbox.since')}</th>
                <th scope="col">{t('signatures.inbox.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((i) => (
                <Row
                  key={keyOf({ entity: i.entity.slug, documentId: i.documentId })}
                  item={i}
                  selected={selected}
                  toggle={toggle}
                  lang={i18n.language}
                />
              ))}
            </tbody>
          </table>
          <div className="actions">
            <button
              type="button"
              className="button primary"
              disabled={selected.size === 0}
              onClick={() => {
                sign.reset();
                setOpen(true);
              }}
            >
              {t('signatures.inbox.signSelected')}
            </button>
            <span role="status">{t('signatures.inbox.selected', { count: selected.size })}</span>
          </div>
        </>
      )}
      <SecondFactorDialog
        open={open}
        title={t('signatures.inbox.confirmTitle')}
        description={t('signatures.inbox.confirmText', { count: selected.size })}
        confirmLabel={t('signatures.inbox.confirm', { count: selected.size })}
        busy={sign.isPending}
        error={sign.error}
        onConfirm={(f) => sign.mutate(f)}
        onClose={() => {
          setOpen(false);
          if (focusResults.current) document.getElementById('batch-results')?.focus();
          focusResults.current = false;
        }}
      />
    </>
  );
}

function Row({
  item,
  selected,
  toggle,
  lang,
}: {
  item: InboxItem;
  selected: Set<string>;
  toggle: (k: string) => void;
  lang: string;
}) {
  const { t } = useTranslation();
  const k = keyOf({ entity: item.entity.slug, documentId: item.documentId });
  return (
    <tr>
      <td>
        <input
          type="checkbox"
          aria-label={t('signatures.inbox.select', { title: item.title })}
          checked={selected.has(k)}
          onChange={() => toggle(k)}
        />
      </td>
      <td>
        <Link to={`/e/${item.entity.slug}/documents/${item.documentId}`}>{item.title}</Link>
      </td>
      <td>{item.entity.name}</td>
      <td>
        {t('signatures.step', { n: item.step })} · {t(`signatures.kind.${item.kind}`)}
      </td>
      <td>
        {formatDateTime(item.since, lang)}
        {item.remindedAt ? (
          <>
            <br />
            <span className="badge">
              {t('signatures.inbox.reminded', {
                count: item.reminders,
                date: formatDateTime(item.remindedAt, lang),
              })}
            </span>
          </>
        ) : null}
      </td>
      <td>
        <a
          href={apiUrl(`${docPath(item.entity.slug, item.documentId)}/draft/content`)}
          target="_blank"
          rel="noreferrer"
        >
          {t('signatures.inbox.read', { title: item.title })}
        </a>
      </td>
    </tr>
  );
}

function Results({ done }: { done: { results: BatchResult[]; titles: Map<string, string> } | null }) {
  const { t } = useTranslation();
  if (!done) return <div role="status" aria-live="polite" />;
  const ok = done.results.filter((r) => r.ok).length;
  const failed = done.results.length - ok;
  return (
    <section aria-labelledby="batch-results" className="card">
      <h2 id="batch-results" tabIndex={-1}>
        {t('signatures.inbox.resultsTitle')}
      </h2>
      <p role="status" aria-live="polite">
        {t('signatures.inbox.resultSigned', { count: ok })}
        {failed > 0 ? ` ${t('signatures.inbox.resultFailed', { count: failed })}` : ''}
      </p>
      <ul>
        {done.results.map((r) => (
          <li key={keyOf(r)}>
            {done.titles.get(keyOf(r)) ?? r.documentId}:{' '}
            {r.ok ? (
              <strong>{t('signatures.inbox.signed')}</strong>
            ) : (
              <span className="field-error">
                {errorMessage(t, new ApiError(0, r.code ?? 'INTERNAL', r.message ?? undefined))}
              </span>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
