import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, entityPath, type Expedient } from '../../api.ts';
import { ErrorAlert } from '../../components/ErrorAlert.tsx';
import { Field } from '../../components/Field.tsx';
import { StateBadge } from '../../components/StateBadge.tsx';
import { formatDateTime } from '../../format.ts';

/** The case file's metadata, and closing it (reopening is an admin's act, with a reason). */
export function DataTab({
  slug,
  expedient: x,
  canWrite,
  isAdmin,
}: {
  slug: string;
  expedient: Expedient;
  canWrite: boolean;
  isAdmin: boolean;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState(false);
  const base = `${entityPath(slug)}/expedients/${encodeURIComponent(x.id)}`;
  const refresh = async (updated: Expedient) => {
    queryClient.setQueryData(['expedient', slug, x.id], (old: Expedient | undefined) => ({
      ...old,
      ...updated,
    }));
    await queryClient.invalidateQueries({ queryKey: ['expedient', slug, x.id] });
    await queryClient.invalidateQueries({ queryKey: ['expedients', slug] });
  };
  const close = useMutation({
    mutationFn: () => api<Expedient>(`${base}/close`, { method: 'POST' }),
    onSuccess: async (updated) => {
      setConfirming(false);
      await refresh(updated);
    },
  });
  const reopen = useMutation({
    mutationFn: () => api<Expedient>(`${base}/reopen`, { json: { reason: reason.trim() } }),
    onSuccess: async (updated) => {
      setReason('');
      await refresh(updated);
    },
  });

  return (
    <div>
      <h2>{t('tabs.data')}</h2>
      <dl className="data-list">
        <dt>{t('expedient.number')}</dt>
        <dd>{x.number}</dd>
        <dt>{t('expedient.eniId')}</dt>
        <dd>
          <code>{x.eniId}</code>
        </dd>
        <dt>{t('expedient.titleField')}</dt>
        <dd>{x.title}</dd>
        <dt>{t('expedient.classification')}</dt>
        <dd>{x.classification || '—'}</dd>
        <dt>{t('expedient.state')}</dt>
        <dd>
          <StateBadge state={x.state} />
        </dd>
        <dt>{t('expedient.accessLevel')}</dt>
        <dd>{t(`access.${x.accessLevel}`, x.accessLevel)}</dd>
        <dt>{t('expedient.unit')}</dt>
        <dd>{x.unit?.name ?? '—'}</dd>
        <dt>{t('expedient.openedAt')}</dt>
        <dd>{formatDateTime(x.openedAt, lang)}</dd>
        {x.closedAt ? (
          <>
            <dt>{t('expedient.closedAt')}</dt>
            <dd>{formatDateTime(x.closedAt, lang)}</dd>
          </>
        ) : null}
        <dt>{t('expedient.documentCount')}</dt>
        <dd>{x.documentCount}</dd>
      </dl>

      {canWrite && x.state === 'E01' ? (
        <section className="card danger-zone" aria-labelledby="close-heading">
          <h3 id="close-heading">{t('close.heading')}</h3>
          <p>{t('close.explain')}</p>
          <ErrorAlert error={close.error} />
          {confirming ? (
            <div className="actions">
              <button
                type="button"
                className="button danger"
                onClick={() => close.mutate()}
                disabled={close.isPending}
              >
                {t('close.confirm')}
              </button>
              <button type="button" className="button secondary" onClick={() => setConfirming(false)}>
                {t('common.cancel')}
              </button>
            </div>
          ) : (
            <button type="button" className="button secondary" onClick={() => setConfirming(true)}>
              {t('close.button')}
            </button>
          )}
        </section>
      ) : null}

      {isAdmin && x.state === 'E02' ? (
        <section className="card" aria-labelledby="reopen-heading">
          <h3 id="reopen-heading">{t('reopen.heading')}</h3>
          <form
            className="form"
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              const ok = reason.trim().length >= 3;
              setReasonError(!ok);
              if (ok) reopen.mutate();
            }}
          >
            <ErrorAlert error={reopen.error} id="reopen-error" />
            <Field
              label={t('reopen.reason')}
              required
              error={reasonError ? t('reopen.reasonRequired') : null}
              describedBy={reopen.error ? 'reopen-error' : undefined}
            >
              {(p) => <textarea {...p} rows={3} value={reason} onChange={(e) => setReason(e.target.value)} />}
            </Field>
            <button type="submit" className="button primary" disabled={reopen.isPending}>
              {t('reopen.submit')}
            </button>
          </form>
        </section>
      ) : null}
    </div>
  );
}
