import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api, apiUrl, entityPath, type Expedient, type Party } from '../../api.ts';
import { ErrorAlert, Loading } from '../../components/ErrorAlert.tsx';
import { Field } from '../../components/Field.tsx';
import { formatDateTime, madridLocalToIso } from '../../format.ts';
import type { Appeal, AttemptOutcome, NotificationChannel, StaffNotification } from '../../staffSeu.ts';
import { useExpedientIndex } from './indexQuery.ts';

const notificationsKey = (slug: string, id: string) => ['notifications', slug, id] as const;

/**
 * The notifications of the case file (LPACAP art. 40–46): each one's recipient, channel, state,
 * dates and evidence; paper attempts (art. 42.2) and sending a failed one for publication (art. 44);
 * and the form to notify the case file's interested parties.
 */
export function NotificationsTab({
  slug,
  expedient: x,
  canNotify,
  canRecordAttempts,
}: {
  slug: string;
  expedient: Expedient;
  canNotify: boolean;
  canRecordAttempts: boolean;
}) {
  const { t } = useTranslation();
  const list = useQuery({
    queryKey: notificationsKey(slug, x.id),
    queryFn: () =>
      api<{ items: StaffNotification[] }>(
        `${entityPath(slug)}/expedients/${encodeURIComponent(x.id)}/notifications`,
      ),
  });
  const items = list.data?.items ?? [];
  return (
    <div>
      <h2>{t('tabs.notifications')}</h2>
      {list.isPending ? <Loading /> : null}
      <ErrorAlert error={list.error} />
      {list.data && items.length === 0 ? <p className="empty">{t('notifications.none')}</p> : null}
      {items.length > 0 ? (
        <ul className="notification-list" aria-label={t('notifications.listLabel')}>
          {items.map((n) => (
            <li key={n.id}>
              <NotificationCard
                slug={slug}
                notification={n}
                canRecordAttempts={canRecordAttempts}
                canPublish={canNotify}
              />
            </li>
          ))}
        </ul>
      ) : null}
      {canNotify && x.state === 'E01' ? <NotifyForm slug={slug} expedient={x} /> : null}
    </div>
  );
}

function NotificationCard({
  slug,
  notification: n,
  canRecordAttempts,
  canPublish,
}: {
  slug: string;
  notification: StaffNotification;
  canRecordAttempts: boolean;
  canPublish: boolean;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const queryClient = useQueryClient();
  const headingId = useId();
  const [attemptOpen, setAttemptOpen] = useState(false);
  const [published, setPublished] = useState(false);
  const [recorded, setRecorded] = useState<string | null>(null);
  const base = `${entityPath(slug)}/notifications/${encodeURIComponent(n.id)}`;
  const lastAttempt = n.attempts[n.attempts.length - 1];
  const attemptsOpen =
    n.channel === 'paper' &&
    n.state === 'available' &&
    (n.attempts.length === 0 || (n.attempts.length === 1 && lastAttempt?.outcome === 'absent'));
  const publish = useMutation({
    mutationFn: () => api<StaffNotification>(`${base}/publication`, { method: 'POST' }),
    onSuccess: async () => {
      setPublished(true);
      await queryClient.invalidateQueries({ queryKey: notificationsKey(slug, n.expedientId) });
    },
  });

  return (
    <article className="card notification" aria-labelledby={headingId}>
      <h3 id={headingId}>
        {n.subject}
        <span className="block muted">
          {t('notifications.to', { name: n.recipient.name, identifier: n.recipient.identifier })}
        </span>
      </h3>
      <dl className="data-list">
        <dt>{t('notifications.channel')}</dt>
        <dd>
          {t(`notifications.channelName.${n.channel}`)}
          {n.electronicBasis ? ` (${t(`notifications.basis.${n.electronicBasis}`)})` : ''}
        </dd>
        <dt>{t('notifications.state')}</dt>
        <dd>
          <span className={`badge badge-notification-${n.state}`}>
            {t(`notifications.stateName.${n.state}`)}
          </span>
        </dd>
        <dt>{t('notifications.registryEntry')}</dt>
        <dd>{n.registryEntry.number}</dd>
        <dt>{t('notifications.madeAvailable')}</dt>
        <dd>{formatDateTime(n.madeAvailableAt, lang)}</dd>
        {n.availableUntil ? (
          <>
            <dt>{t('notifications.availableUntil')}</dt>
            <dd>{formatDateTime(n.availableUntil, lang)}</dd>
          </>
        ) : null}
        <dt>{t('notifications.notifiedAt')}</dt>
        <dd>{n.notifiedAt ? formatDateTime(n.notifiedAt, lang) : t('notifications.notYet')}</dd>
        {n.accessedAt ? (
          <>
            <dt>{t('notifications.accessedAt')}</dt>
            <dd>{formatDateTime(n.accessedAt, lang)}</dd>
          </>
        ) : null}
        {n.rejectedAt ? (
          <>
            <dt>{t('notifications.rejectedAt')}</dt>
            <dd>{formatDateTime(n.rejectedAt, lang)}</dd>
          </>
        ) : null}
        {n.actedBy ? (
          <>
            <dt>{t('notifications.actedBy')}</dt>
            <dd>
              {n.actedBy.name} ({n.actedBy.identifier})
              {n.actedBy.representedIdentifier
                ? ` · ${t('notifications.onBehalfOf', { identifier: n.actedBy.representedIdentifier })}`
                : ''}
            </dd>
          </>
        ) : null}
        <dt>{t('notifications.endsRoute')}</dt>
        <dd>{n.endsAdministrativeRoute ? t('notifications.yes') : t('notifications.no')}</dd>
        {n.documents.length > 0 ? (
          <>
            <dt>{t('notifications.documents')}</dt>
            <dd>{n.documents.map((d) => d.title).join(', ')}</dd>
          </>
        ) : null}
      </dl>

      {n.attempts.length > 0 ? (
        <>
          <h4>{t('notifications.attempts')}</h4>
          <ul className="attempt-list">
            {n.attempts.map((a) => (
              <li key={a.id}>
                {t('notifications.attemptLine', {
                  no: a.attemptNo,
                  at: formatDateTime(a.attemptedAt, lang),
                  outcome: t(`notifications.outcome.${a.outcome}`),
                })}
                {a.receiver?.kind === 'other'
                  ? ` · ${t('notifications.receivedBy', {
                      name: a.receiver.name ?? '',
                      document: a.receiver.identityDocument ?? '',
                    })}`
                  : ''}
                {a.acknowledgementDocumentId ? (
                  <>
                    {' · '}
                    <a
                      href={apiUrl(
                        `${entityPath(slug)}/documents/${encodeURIComponent(a.acknowledgementDocumentId)}/content`,
                      )}
                      download
                    >
                      {t('notifications.ackDownload', { no: a.attemptNo })}
                    </a>
                  </>
                ) : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}

      {n.evidence.length > 0 ? (
        <>
          <h4>{t('notifications.evidence')}</h4>
          <ul className="evidence-list">
            {n.evidence.map((e) => (
              <li key={e.key}>
                {e.documentId ? (
                  <a href={apiUrl(`${base}/evidence/${e.key}`)} download>
                    {t('notifications.evidenceLink', { what: t(`notifications.evidenceKey.${e.key}`) })}
                  </a>
                ) : (
                  <span>
                    {t(`notifications.evidenceKey.${e.key}`)} · {t('notifications.evidencePending')}
                  </span>
                )}
                {e.csv ? <span className="muted"> · CSV {e.csv}</span> : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}

      {n.publication ? (
        <p>
          {t('notifications.publicationSent', {
            bulletin: n.publication.bulletin,
            at: formatDateTime(n.publication.requestedAt, lang),
          })}
        </p>
      ) : null}

      <p role="status" className="status-message">
        {published ? t('notifications.publishedDone') : ''}
        {recorded ? t('notifications.attemptRecorded', { state: recorded }) : ''}
      </p>
      <ErrorAlert error={publish.error} />
      <div className="actions">
        {canRecordAttempts && attemptsOpen && !attemptOpen ? (
          <button
            type="button"
            className="button small secondary"
            aria-label={`${t('notifications.recordAttempt')}: ${n.recipient.name}`}
            onClick={() => {
              setRecorded(null);
              setAttemptOpen(true);
            }}
          >
            {t('notifications.recordAttempt')}
          </button>
        ) : null}
        {canPublish && n.state === 'failed' ? (
          <button
            type="button"
            className="button small"
            aria-label={`${t('notifications.sendForPublication')}: ${n.recipient.name}`}
            disabled={publish.isPending}
            onClick={() => publish.mutate()}
          >
            {t('notifications.sendForPublication')}
          </button>
        ) : null}
      </div>
      {attemptOpen && attemptsOpen ? (
        <AttemptForm
          slug={slug}
          notification={n}
          second={n.attempts.length === 1}
          onRecorded={setRecorded}
          onClose={() => setAttemptOpen(false)}
        />
      ) : null}
    </article>
  );
}

type AttemptChoice = 'party' | 'other' | 'absent' | 'unknown_address' | 'rejected';
const ATTEMPT_CHOICES: AttemptChoice[] = ['party', 'other', 'absent', 'unknown_address', 'rejected'];
type AttemptErrors = Partial<Record<'at' | 'name' | 'document' | 'over14' | 'file', string>>;

/** One paper attempt (LPACAP art. 42.2): its outcome, time, receiver and scanned acknowledgement. */
function AttemptForm({
  slug,
  notification: n,
  second,
  onRecorded,
  onClose,
}: {
  slug: string;
  notification: StaffNotification;
  second: boolean;
  /** The state after an attempt is recorded, in words (the card announces it: the form may close). */
  onRecorded: (state: string | null) => void;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const base = useId();
  const [choice, setChoice] = useState<AttemptChoice>('absent');
  const [at, setAt] = useState('');
  const [name, setName] = useState('');
  const [document, setDocument] = useState('');
  const [relationship, setRelationship] = useState('');
  const [over14, setOver14] = useState(false);
  const [notes, setNotes] = useState('');
  const [errors, setErrors] = useState<AttemptErrors>({});
  const atRef = useRef<HTMLInputElement>(null);
  const nameRef = useRef<HTMLInputElement>(null);
  const docRef = useRef<HTMLInputElement>(null);
  const over14Ref = useRef<HTMLInputElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const errorId = `${base}-error`;
  const needsFile = choice === 'party' || choice === 'other' || choice === 'rejected';

  const record = useMutation({
    mutationFn: (input: { attemptedAt: string; file: File | undefined }) => {
      // The server reads the text fields before the file: they go first.
      const form = new FormData();
      form.append('attemptedAt', input.attemptedAt);
      const outcome: AttemptOutcome = choice === 'party' || choice === 'other' ? 'delivered' : choice;
      form.append('outcome', outcome);
      if (choice === 'party' || choice === 'other') form.append('receiverKind', choice);
      if (choice === 'other') {
        form.append('receiverName', name.trim());
        form.append('receiverIdentityDocument', document.trim());
        if (relationship.trim()) form.append('receiverRelationship', relationship.trim());
        form.append('receiverOver14', over14 ? 'true' : 'false');
      }
      if (notes.trim()) form.append('notes', notes.trim());
      if (input.file) form.append('acknowledgement', input.file, input.file.name);
      return api<StaffNotification>(
        `${entityPath(slug)}/notifications/${encodeURIComponent(n.id)}/attempts`,
        {
          form,
        },
      );
    },
    onMutate: () => onRecorded(null),
    onSuccess: async (updated) => {
      onRecorded(t(`notifications.stateName.${updated.state}`));
      await queryClient.invalidateQueries({ queryKey: notificationsKey(slug, n.expedientId) });
      await queryClient.invalidateQueries({ queryKey: ['index', slug, n.expedientId] });
    },
  });

  function submit(e: React.FormEvent) {
    e.preventDefault();
    const file = fileRef.current?.files?.[0];
    const next: AttemptErrors = {};
    const iso = madridLocalToIso(at);
    if (!iso) next.at = 'notifications.attemptAtRequired';
    if (choice === 'other') {
      if (!name.trim()) next.name = 'notifications.receiverNameRequired';
      if (!document.trim()) next.document = 'notifications.receiverDocumentRequired';
      if (!over14) next.over14 = 'notifications.over14Required';
    }
    if (needsFile && !file) next.file = 'notifications.ackRequired';
    setErrors(next);
    if (next.at) return atRef.current?.focus();
    if (next.name) return nameRef.current?.focus();
    if (next.document) return docRef.current?.focus();
    if (next.over14) return over14Ref.current?.focus();
    if (next.file) return fileRef.current?.focus();
    if (!iso) return;
    record.mutate({ attemptedAt: iso, file });
  }

  return (
    <section className="subform" aria-labelledby={`${base}-heading`}>
      <h4 id={`${base}-heading`}>
        {second ? t('notifications.secondAttemptHeading') : t('notifications.firstAttemptHeading')}
      </h4>
      {second ? <p className="hint">{t('notifications.secondAttemptRule')}</p> : null}
      <form
        className="form"
        noValidate
        onSubmit={submit}
        aria-describedby={record.error ? errorId : undefined}
      >
        <ErrorAlert error={record.error} id={errorId} />
        <fieldset className="radio-group">
          <legend>{t('notifications.outcomeLegend')}</legend>
          {ATTEMPT_CHOICES.map((c) => (
            <div className="radio" key={c}>
              <input
                type="radio"
                id={`${base}-${c}`}
                name={`${base}-outcome`}
                checked={choice === c}
                onChange={() => setChoice(c)}
              />
              <label htmlFor={`${base}-${c}`}>{t(`notifications.choice.${c}`)}</label>
            </div>
          ))}
        </fieldset>
        <Field
          label={t('notifications.attemptAt')}
          hint={t('notifications.attemptAtHint')}
          required
          error={errors.at ? t(errors.at) : null}
        >
          {(p) => (
            <input
              {...p}
              ref={atRef}
              type="datetime-local"
              value={at}
              onChange={(e) => setAt(e.target.value)}
            />
          )}
        </Field>
        {choice === 'other' ? (
          <>
            <div className="grid-2">
              <Field
                label={t('notifications.receiverName')}
                required
                error={errors.name ? t(errors.name) : null}
              >
                {(p) => (
                  <input
                    {...p}
                    ref={nameRef}
                    maxLength={300}
                    autoComplete="off"
                    value={name}
                    onChange={(e) => setName(e.target.value)}
                  />
                )}
              </Field>
              <Field
                label={t('notifications.receiverDocument')}
                required
                error={errors.document ? t(errors.document) : null}
              >
                {(p) => (
                  <input
                    {...p}
                    ref={docRef}
                    maxLength={30}
                    autoComplete="off"
                    spellCheck={false}
                    value={document}
                    onChange={(e) => setDocument(e.target.value)}
                  />
                )}
              </Field>
            </div>
            <Field label={t('notifications.receiverRelationship')}>
              {(p) => (
                <input
                  {...p}
                  maxLength={100}
                  value={relationship}
                  onChange={(e) => setRelationship(e.target.value)}
                />
              )}
            </Field>
            <div className={`checkbox${errors.over14 ? ' field-invalid' : ''}`}>
              {errors.over14 ? (
                <p className="field-error" id={`${base}-over14-error`}>
                  {t(errors.over14)}
                </p>
              ) : null}
              <input
                ref={over14Ref}
                id={`${base}-over14`}
                type="checkbox"
                checked={over14}
                aria-invalid={errors.over14 ? true : undefined}
                aria-describedby={errors.over14 ? `${base}-over14-error` : undefined}
                onChange={(e) => setOver14(e.target.checked)}
              />
              <label htmlFor={`${base}-over14`}>{t('notifications.over14')}</label>
            </div>
          </>
        ) : null}
        <Field
          label={t('notifications.ackFile')}
          hint={t('notifications.ackHint')}
          required={needsFile}
          error={errors.file ? t(errors.file) : null}
        >
          {(p) => <input {...p} ref={fileRef} type="file" accept="application/pdf,image/jpeg,image/png" />}
        </Field>
        <Field label={t('notifications.notes')}>
          {(p) => (
            <textarea
              {...p}
              rows={2}
              maxLength={2000}
              value={notes}
              onChange={(e) => setNotes(e.target.value)}
            />
          )}
        </Field>
        <div className="actions">
          <button type="submit" className="button primary" disabled={record.isPending}>
            {record.isPending ? t('common.saving') : t('notifications.attemptSubmit')}
          </button>
          <button type="button" className="button secondary" onClick={onClose}>
            {t('common.cancel')}
          </button>
        </div>
      </form>
    </section>
  );
}

type ChannelChoice = 'default' | NotificationChannel;
type AppealRow = Appeal & { key: number };
type NotifyErrors = Partial<Record<'recipients' | 'subject' | 'actText' | 'endsRoute' | 'appeals', string>>;

/** The act notified to one or more of the case file's interested parties, each on a chosen channel. */
function NotifyForm({ slug, expedient: x }: { slug: string; expedient: Expedient }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const queryClient = useQueryClient();
  const base = useId();
  const index = useExpedientIndex(slug, x.id);
  // One entry per person (a party may hold several roles in the case file).
  const parties = x.parties.filter((p, i) => x.parties.findIndex((q) => q.partyId === p.partyId) === i);
  const details = useQueries({
    queries: parties.map((p) => ({
      queryKey: ['party', slug, p.partyId],
      queryFn: () => api<Party>(`${entityPath(slug)}/parties/${encodeURIComponent(p.partyId)}`),
    })),
  });
  const [chosen, setChosen] = useState<Record<string, ChannelChoice>>({});
  const [documentIds, setDocumentIds] = useState<string[]>([]);
  const [subject, setSubject] = useState('');
  const [actText, setActText] = useState('');
  const [endsRoute, setEndsRoute] = useState<boolean | null>(null);
  const [appeals, setAppeals] = useState<AppealRow[]>([{ key: 1, appeal: '', body: '', term: '' }]);
  const nextKey = useRef(2);
  const [errors, setErrors] = useState<NotifyErrors>({});
  const [done, setDone] = useState<number | null>(null);
  const firstPartyRef = useRef<HTMLInputElement>(null);
  const subjectRef = useRef<HTMLInputElement>(null);
  const actRef = useRef<HTMLTextAreaElement>(null);
  const endsRef = useRef<HTMLInputElement>(null);
  const firstAppealRef = useRef<HTMLInputElement>(null);
  const errorId = `${base}-error`;

  const notify = useMutation({
    mutationFn: () =>
      api<{ items: StaffNotification[] }>(
        `${entityPath(slug)}/expedients/${encodeURIComponent(x.id)}/notifications`,
        {
          json: {
            subject: subject.trim(),
            actText: actText.trim(),
            endsAdministrativeRoute: endsRoute === true,
            appeals: appeals
              .filter((a) => a.appeal.trim() || a.body.trim() || a.term.trim())
              .map((a) => ({ appeal: a.appeal.trim(), body: a.body.trim(), term: a.term.trim() })),
            documentIds,
            recipients: Object.entries(chosen).map(([partyId, channel]) =>
              channel === 'default' ? { partyId } : { partyId, channel },
            ),
          },
        },
      ),
    onMutate: () => setDone(null),
    onSuccess: async (res) => {
      setDone(res.items.length);
      setChosen({});
      setDocumentIds([]);
      setSubject('');
      setActText('');
      setEndsRoute(null);
      setAppeals([{ key: nextKey.current++, appeal: '', body: '', term: '' }]);
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: notificationsKey(slug, x.id) }),
        queryClient.invalidateQueries({ queryKey: ['audit', slug, x.id] }),
      ]);
    },
  });

  // Which recipient the API refused for the channel: an electronic choice for a party who neither
  // is obliged nor chose it (the refusal names no one in the UI language; the party's record does).
  const refusedChannel =
    notify.error instanceof ApiError && notify.error.code === 'NOTIFICATION_CHANNEL_NOT_ALLOWED';
  function electronicNotAllowed(partyId: string): boolean {
    const i = parties.findIndex((p) => p.partyId === partyId);
    const party = details[i]?.data;
    const choice = chosen[partyId];
    if (!party || choice === undefined) return false;
    const channel = choice === 'default' ? party.preferredChannel : choice;
    return channel === 'electronic' && party.eNotification === 'none';
  }

  function submit(e: React.FormEvent) {
    e.preventDefault();
    const next: NotifyErrors = {};
    if (Object.keys(chosen).length === 0) next.recipients = 'notifications.recipientsRequired';
    if (!subject.trim()) next.subject = 'notifications.subjectRequired';
    if (!actText.trim()) next.actText = 'notifications.actTextRequired';
    if (endsRoute === null) next.endsRoute = 'notifications.endsRouteRequired';
    if (
      appeals.some((a) => {
        const filled = [a.appeal, a.body, a.term].filter((v) => v.trim()).length;
        return filled > 0 && filled < 3;
      })
    )
      next.appeals = 'notifications.appealIncomplete';
    setErrors(next);
    if (next.recipients) return firstPartyRef.current?.focus();
    if (next.subject) return subjectRef.current?.focus();
    if (next.actText) return actRef.current?.focus();
    if (next.endsRoute) return endsRef.current?.focus();
    if (next.appeals) return firstAppealRef.current?.focus();
    notify.mutate();
  }

  const entries = index.data?.entries ?? [];

  return (
    <section className="card" aria-labelledby={`${base}-heading`}>
      <h3 id={`${base}-heading`}>{t('notifications.notifyHeading')}</h3>
      <p role="status" className="status-message">
        {done !== null ? t('notifications.notified', { count: done }) : ''}
      </p>
      <form
        className="form"
        noValidate
        onSubmit={submit}
        aria-describedby={notify.error ? errorId : undefined}
      >
        <ErrorAlert error={notify.error} id={errorId} />
        <fieldset
          className="radio-group"
          aria-describedby={errors.recipients ? `${base}-recipients-error` : undefined}
        >
          <legend>{t('notifications.recipients')}</legend>
          {errors.recipients ? (
            <p className="field-error" id={`${base}-recipients-error`}>
              {t(errors.recipients)}
            </p>
          ) : null}
          {parties.length === 0 ? <p className="empty">{t('notifications.noParties')}</p> : null}
          {parties.map((p, i) => {
            const party = details[i]?.data;
            const selected = chosen[p.partyId] !== undefined;
            const refused = refusedChannel && electronicNotAllowed(p.partyId);
            const channelId = `${base}-channel-${p.partyId}`;
            const refusedId = `${base}-refused-${p.partyId}`;
            return (
              <div key={p.partyId} className="recipient-row">
                <div className="checkbox">
                  <input
                    ref={i === 0 ? firstPartyRef : undefined}
                    id={`${base}-party-${p.partyId}`}
                    type="checkbox"
                    checked={selected}
                    onChange={(e) =>
                      setChosen((old) => {
                        const copy = { ...old };
                        if (e.target.checked) copy[p.partyId] = 'default';
                        else delete copy[p.partyId];
                        return copy;
                      })
                    }
                  />
                  <label htmlFor={`${base}-party-${p.partyId}`}>
                    {p.name} ({p.identifier}) · {t(`role.${p.role}`, p.role)}
                  </label>
                </div>
                {party ? (
                  <p className="hint">
                    {t(`notifications.eNotification.${party.eNotification}`)} ·{' '}
                    {t('notifications.preferred', {
                      channel: t(`notifications.channelName.${party.preferredChannel}`),
                    })}
                  </p>
                ) : null}
                {selected ? (
                  <div className={`field${refused ? ' field-invalid' : ''}`}>
                    <label htmlFor={channelId}>{t('notifications.channelFor', { name: p.name })}</label>
                    {refused ? (
                      <p className="field-error" id={refusedId}>
                        {t('notifications.channelRefused', { name: p.name })}
                      </p>
                    ) : null}
                    <select
                      id={channelId}
                      value={chosen[p.partyId]}
                      aria-invalid={refused ? true : undefined}
                      aria-describedby={refused ? refusedId : undefined}
                      onChange={(e) =>
                        setChosen((old) => ({ ...old, [p.partyId]: e.target.value as ChannelChoice }))
                      }
                    >
                      <option value="default">
                        {party
                          ? t('notifications.channelDefaultIs', {
                              channel: t(`notifications.channelName.${party.preferredChannel}`),
                            })
                          : t('notifications.channelDefault')}
                      </option>
                      <option value="electronic">{t('notifications.channelName.electronic')}</option>
                      <option value="paper">{t('notifications.channelName.paper')}</option>
                    </select>
                  </div>
                ) : null}
              </div>
            );
          })}
        </fieldset>

        <fieldset className="radio-group">
          <legend>{t('notifications.documentsLegend')}</legend>
          {index.isPending ? <Loading /> : null}
          <ErrorAlert error={index.error} />
          {index.data && entries.length === 0 ? <p className="empty">{t('documents.none')}</p> : null}
          {entries.map((d) => (
            <div className="checkbox" key={d.documentId}>
              <input
                id={`${base}-doc-${d.documentId}`}
                type="checkbox"
                checked={documentIds.includes(d.documentId)}
                onChange={(e) =>
                  setDocumentIds((old) =>
                    e.target.checked ? [...old, d.documentId] : old.filter((v) => v !== d.documentId),
                  )
                }
              />
              <label htmlFor={`${base}-doc-${d.documentId}`}>
                {d.order}. {d.title}{' '}
                <span className="muted">
                  ({t(`docType.${d.documentType}`, d.documentType)} · {formatDateTime(d.incorporatedAt, lang)}
                  )
                </span>
              </label>
            </div>
          ))}
        </fieldset>

        <Field label={t('notifications.subject')} required error={errors.subject ? t(errors.subject) : null}>
          {(p) => (
            <input
              {...p}
              ref={subjectRef}
              maxLength={300}
              value={subject}
              onChange={(e) => setSubject(e.target.value)}
            />
          )}
        </Field>
        <Field
          label={t('notifications.actText')}
          hint={t('notifications.actTextHint')}
          required
          error={errors.actText ? t(errors.actText) : null}
        >
          {(p) => (
            <textarea
              {...p}
              ref={actRef}
              rows={6}
              maxLength={100000}
              value={actText}
              onChange={(e) => setActText(e.target.value)}
            />
          )}
        </Field>

        <fieldset
          className="radio-group"
          aria-describedby={errors.endsRoute ? `${base}-ends-error` : undefined}
        >
          <legend>
            {t('notifications.endsRoute')}
            <span className="required"> ({t('common.required')})</span>
          </legend>
          {errors.endsRoute ? (
            <p className="field-error" id={`${base}-ends-error`}>
              {t(errors.endsRoute)}
            </p>
          ) : null}
          <div className="radio">
            <input
              ref={endsRef}
              type="radio"
              id={`${base}-ends-yes`}
              name={`${base}-ends`}
              checked={endsRoute === true}
              onChange={() => setEndsRoute(true)}
            />
            <label htmlFor={`${base}-ends-yes`}>{t('notifications.endsRouteYes')}</label>
          </div>
          <div className="radio">
            <input
              type="radio"
              id={`${base}-ends-no`}
              name={`${base}-ends`}
              checked={endsRoute === false}
              onChange={() => setEndsRoute(false)}
            />
            <label htmlFor={`${base}-ends-no`}>{t('notifications.endsRouteNo')}</label>
          </div>
        </fieldset>

        <fieldset
          className="appeals"
          aria-describedby={errors.appeals ? `${base}-appeals-error` : `${base}-appeals-hint`}
        >
          <legend>{t('notifications.appeals')}</legend>
          <p className="hint" id={`${base}-appeals-hint`}>
            {t('notifications.appealsHint')}
          </p>
          {errors.appeals ? (
            <p className="field-error" id={`${base}-appeals-error`}>
              {t(errors.appeals)}
            </p>
          ) : null}
          {appeals.map((a, i) => (
            <div className="appeal-row grid-3" key={a.key}>
              <Field label={t('notifications.appeal', { n: i + 1 })}>
                {(p) => (
                  <input
                    {...p}
                    ref={i === 0 ? firstAppealRef : undefined}
                    maxLength={500}
                    value={a.appeal}
                    onChange={(e) =>
                      setAppeals((old) =>
                        old.map((r) => (r.key === a.key ? { ...r, appeal: e.target.value } : r)),
                      )
                    }
                  />
                )}
              </Field>
              <Field label={t('notifications.appealBody', { n: i + 1 })}>
                {(p) => (
                  <input
                    {...p}
                    maxLength={500}
                    value={a.body}
                    onChange={(e) =>
                      setAppeals((old) =>
                        old.map((r) => (r.key === a.key ? { ...r, body: e.target.value } : r)),
                      )
                    }
                  />
                )}
              </Field>
              <Field label={t('notifications.appealTerm', { n: i + 1 })}>
                {(p) => (
                  <input
                    {...p}
                    maxLength={500}
                    value={a.term}
                    onChange={(e) =>
                      setAppeals((old) =>
                        old.map((r) => (r.key === a.key ? { ...r, term: e.target.value } : r)),
                      )
                    }
                  />
                )}
              </Field>
              {appeals.length > 1 ? (
                <button
                  type="button"
                  className="button small secondary"
                  onClick={() => setAppeals((old) => old.filter((r) => r.key !== a.key))}
                >
                  {t('notifications.removeAppeal', { n: i + 1 })}
                </button>
              ) : null}
            </div>
          ))}
          {appeals.length < 10 ? (
            <button
              type="button"
              className="button small secondary"
              onClick={() =>
                setAppeals((old) => [...old, { key: nextKey.current++, appeal: '', body: '', term: '' }])
              }
            >
              {t('notifications.addAppeal')}
            </button>
          ) : null}
        </fieldset>

        <button type="submit" className="button primary" disabled={notify.isPending}>
          {notify.isPending ? t('common.saving') : t('notifications.submit')}
        </button>
      </form>
    </section>
  );
}
