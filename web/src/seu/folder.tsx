import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Route, Routes, useLocation, useParams, useSearchParams } from 'react-router';
import {
  type CitizenMe,
  type MyExpedient,
  type MyExpedientDetail,
  type MyFiling,
  type MyNotification,
  type MyNotificationContent,
  type Representation,
  SeuApiError,
  seuGet,
  seuSend,
} from './api.ts';
import { civilDate, ErrorNote, Loading, madrid, PageTitle } from './common.tsx';
import { GenericRequestPage } from './request.tsx';
import { useSeu } from './SeuApp.tsx';

/**
 * "La meva carpeta" (issue 5, item 3): the citizen logged in to the seu through OpenID Connect
 * sees their filings with their receipts, their case files with their state and documents, their
 * notifications (sender and subject until they choose to open one) and their representations;
 * a representative acts for a represented person with `onBehalfOf` (kept in the address).
 */

export function when(iso: string | null): string {
  if (!iso) return '';
  const m = madrid(iso);
  return `${m.date} ${m.time.slice(0, 5)}`;
}

/** Only a same-origin API path from the server's answer becomes a link. */
export function sameOriginApi(url: string): string | null {
  return url.startsWith('/api/') && !url.startsWith('//') ? url : null;
}

export function useActingFor(): { onBehalfOf: string | null; query: string; search: string } {
  const [params] = useSearchParams();
  const v = params.get('onBehalfOf');
  const onBehalfOf = v && /^[0-9A-Za-z]{5,20}$/.test(v) ? v.toUpperCase() : null;
  return {
    onBehalfOf,
    query: onBehalfOf ? `onBehalfOf=${encodeURIComponent(onBehalfOf)}` : '',
    search: onBehalfOf ? `?onBehalfOf=${encodeURIComponent(onBehalfOf)}` : '',
  };
}

export function withQuery(url: string, query: string): string {
  if (!query) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${query}`;
}

/** The logged-in citizen (null when nobody is logged in to the seu). */
export function useCitizen() {
  const { slug } = useSeu();
  const { query } = useActingFor();
  return useQuery({
    queryKey: ['seu-me', slug, query],
    queryFn: async () => {
      try {
        return await seuGet<CitizenMe>(withQuery(`/seu/${encodeURIComponent(slug)}/me`, query));
      } catch (e) {
        if (e instanceof SeuApiError && e.status === 401) return null;
        throw e;
      }
    },
    staleTime: 0,
  });
}

function Title({ title }: { title: string }) {
  const { info } = useSeu();
  return <PageTitle title={title} entity={info.entity.name} />;
}

export function LoginNeeded({ returnTo }: { returnTo: string }) {
  const { t, i18n } = useTranslation();
  const { slug } = useSeu();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const href = `/api/v1/seu/${encodeURIComponent(slug)}/login?lang=${encodeURIComponent(lang)}&returnTo=${encodeURIComponent(returnTo)}`;
  return (
    <div className="seu-card">
      <p>{t('seu.folder.intro')}</p>
      <p>
        <a className="seu-button" href={href}>
          {t('seu.folder.login')}
        </a>
      </p>
    </div>
  );
}

export function FolderPage() {
  return (
    <Routes>
      <Route index element={<FolderHome />} />
      <Route path="sollicitud" element={<GenericRequestPage />} />
      <Route path="expedients/:id" element={<ExpedientPage />} />
      <Route path="notificacions/:id" element={<NotificationPage />} />
    </Routes>
  );
}

function WhoAmI({ me }: { me: CitizenMe }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const { base } = useSeu();
  const { onBehalfOf } = useActingFor();
  const [, setParams] = useSearchParams();
  const logout = useMutation({
    mutationFn: () => seuSend<void>('/seu/logout', null),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['seu-me'] });
      window.location.assign(`${base}/`);
    },
  });
  return (
    <section aria-labelledby="me-h" className="seu-card">
      <h2 id="me-h">{t('seu.folder.me')}</h2>
      <p>
        {me.name} <span className="seu-muted">({me.identifier})</span>
      </p>
      {me.represents.length > 0 ? (
        <div className="seu-form">
          <label htmlFor="acting-for">{t('seu.folder.actingFor')}</label>
          <select
            id="acting-for"
            value={onBehalfOf ?? ''}
            onChange={(e) => setParams(e.target.value ? { onBehalfOf: e.target.value } : {})}
          >
            <option value="">{t('seu.folder.myself', { name: me.name })}</option>
            {me.represents.map((r) => (
              <option key={r.identifier} value={r.identifier}>
                {r.name} ({r.identifier})
              </option>
            ))}
          </select>
        </div>
      ) : null}
      {me.acting.representation ? (
        <p className="seu-note">
          {t('seu.folder.actingAs', { name: me.acting.name, id: me.acting.identifier })}
        </p>
      ) : null}
      <p>
        <button type="button" className="seu-button secondary" onClick={() => logout.mutate()}>
          {t('seu.folder.logout')}
        </button>
      </p>
      <ErrorNote error={logout.error} />
    </section>
  );
}

function FolderHome() {
  const { t } = useTranslation();
  const { base } = useSeu();
  const me = useCitizen();
  const { search } = useActingFor();
  return (
    <>
      <Title title={t('seu.folder.title')} />
      {me.isPending ? <Loading /> : null}
      <ErrorNote error={me.error} />
      {me.data === null ? <LoginNeeded returnTo={`${base}/carpeta`} /> : null}
      {me.data ? (
        <>
          <WhoAmI me={me.data} />
          <p>
            <Link className="seu-button" to={`${base}/carpeta/sollicitud${search}`}>
              {t('seu.folder.newRequest')}
            </Link>
          </p>
          <Filings />
          <Expedients />
          <Notifications />
          <Representations />
        </>
      ) : null}
    </>
  );
}

function useFolder<T>(key: string, path: string) {
  const { slug } = useSeu();
  const { query } = useActingFor();
  return useQuery({
    queryKey: [key, slug, query],
    queryFn: () => seuGet<T>(withQuery(`/seu/${encodeURIComponent(slug)}${path}`, query)),
    staleTime: 0,
  });
}

function Filings() {
  const { t } = useTranslation();
  const { query } = useActingFor();
  const q = useFolder<{ items: MyFiling[] }>('seu-filings', '/folder/filings');
  return (
    <section aria-labelledby="filings-h" className="seu-card">
      <h2 id="filings-h">{t('seu.folder.filings')}</h2>
      {q.isPending ? <Loading /> : null}
      <ErrorNote error={q.error} />
      {q.data && q.data.items.length === 0 ? <p>{t('seu.folder.noFilings')}</p> : null}
      {q.data && q.data.items.length > 0 ? (
        <ul className="seu-list-plain">
          {q.data.items.map((f) => {
            const href = sameOriginApi(f.receiptUrl);
            return (
              <li key={f.entryId} className="seu-subcard">
                <h3>
                  {f.number} · {f.heading}
                </h3>
                <p>{f.summary}</p>
                <p className="seu-muted">
                  {t('seu.folder.presentedAt', { when: when(f.presentedAt) })} ·{' '}
                  {t('seu.folder.attachments', { count: f.attachmentCount })}
                </p>
                {f.receipt && href ? (
                  <p>
                    <a href={withQuery(href, query)} download>
                      {t('seu.folder.receipt', { number: f.number })}
                    </a>{' '}
                    <span className="seu-muted">(CSV {f.receipt.csv})</span>
                  </p>
                ) : (
                  <p className="seu-muted">{t('seu.folder.receiptPending')}</p>
                )}
              </li>
            );
          })}
        </ul>
      ) : null}
    </section>
  );
}

function Expedients() {
  const { t } = useTranslation();
  const { base } = useSeu();
  const { search } = useActingFor();
  const q = useFolder<{ items: MyExpedient[] }>('seu-expedients', '/folder/expedients');
  return (
    <section aria-labelledby="expedients-h" className="seu-card">
      <h2 id="expedients-h">{t('seu.folder.expedients')}</h2>
      {q.isPending ? <Loading /> : null}
      <ErrorNote error={q.error} />
      {q.data && q.data.items.length === 0 ? <p>{t('seu.folder.noExpedients')}</p> : null}
      {q.data && q.data.items.length > 0 ? (
        <ul className="seu-list-plain">
          {q.data.items.map((x) => (
            <li key={x.id} className="seu-subcard">
              <h3>
                <Link to={`${base}/carpeta/expedients/${encodeURIComponent(x.id)}${search}`}>
                  {x.number} · {x.title}
                </Link>
              </h3>
              <p>
                {t(`seu.folder.state.${x.state}`)} · {t('seu.folder.openedAt', { when: when(x.openedAt) })}
              </p>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function Notifications() {
  const { t } = useTranslation();
  const { base } = useSeu();
  const { search } = useActingFor();
  const q = useFolder<{ items: MyNotification[] }>('seu-notifications', '/notifications');
  return (
    <section aria-labelledby="notifications-h" className="seu-card">
      <h2 id="notifications-h">{t('seu.folder.notifications')}</h2>
      <p className="seu-muted">{t('seu.folder.notificationsIntro')}</p>
      {q.isPending ? <Loading /> : null}
      <ErrorNote error={q.error} />
      {q.data && q.data.items.length === 0 ? <p>{t('seu.folder.noNotifications')}</p> : null}
      {q.data && q.data.items.length > 0 ? (
        <ul className="seu-list-plain">
          {q.data.items.map((n) => (
            <li key={n.id} className="seu-subcard">
              <h3>
                <Link to={`${base}/carpeta/notificacions/${encodeURIComponent(n.id)}${search}`}>
                  {n.subject}
                </Link>
              </h3>
              <p>
                {t('seu.notification.sender')}: {n.sender.name} ·{' '}
                {t(`seu.notification.state.${n.state}`, n.state)}
              </p>
              <p className="seu-muted">
                {t('seu.notification.availableSince', { when: when(n.madeAvailableAt) })}
                {n.availableUntil
                  ? ` · ${t('seu.notification.availableUntil', { when: when(n.availableUntil) })}`
                  : ''}
              </p>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function RepresentationItem({ r, onRevoke }: { r: Representation; onRevoke?: (id: string) => void }) {
  const { t } = useTranslation();
  return (
    <li className="seu-subcard">
      <p>
        <strong>{r.represented.name}</strong> ({r.represented.identifier}) →{' '}
        <strong>{r.representative.name}</strong> ({r.representative.identifier})
      </p>
      <p>
        {r.scope === 'general'
          ? t('seu.folder.scopeGeneral')
          : t('seu.folder.scopeProcedure', { procedure: r.procedure })}{' '}
        ·{' '}
        {t('seu.folder.validity', {
          from: civilDate(r.validFrom.slice(0, 10)),
          to: civilDate(r.validTo.slice(0, 10)),
        })}{' '}
        ·{' '}
        {r.revokedAt
          ? t('seu.folder.revoked')
          : r.inForce
            ? t('seu.folder.inForce')
            : t('seu.folder.notInForce')}
      </p>
      {onRevoke && r.inForce && !r.revokedAt ? (
        <p>
          <button type="button" className="seu-button secondary" onClick={() => onRevoke(r.id)}>
            {t('seu.folder.revoke', { name: r.representative.name })}
          </button>
        </p>
      ) : null}
    </li>
  );
}

function Representations() {
  const { t } = useTranslation();
  const { slug } = useSeu();
  const q = useQuery({
    queryKey: ['seu-representations', slug],
    queryFn: () =>
      seuGet<{ granted: Representation[]; held: Representation[] }>(
        `/seu/${encodeURIComponent(slug)}/representations`,
      ),
    staleTime: 0,
  });
  const revoke = useMutation({
    mutationFn: (id: string) =>
      seuSend<Representation>(
        `/seu/${encodeURIComponent(slug)}/representations/${encodeURIComponent(id)}/revoke`,
        {},
      ),
    onSuccess: () => void q.refetch(),
  });
  return (
    <section aria-labelledby="representations-h" className="seu-card">
      <h2 id="representations-h">{t('seu.folder.representations')}</h2>
      {q.isPending ? <Loading /> : null}
      <ErrorNote error={q.error ?? revoke.error} />
      {q.data ? (
        <>
          <h3>{t('seu.folder.granted')}</h3>
          {q.data.granted.length === 0 ? (
            <p>{t('seu.folder.none')}</p>
          ) : (
            <ul className="seu-list-plain">
              {q.data.granted.map((r) => (
                <RepresentationItem key={r.id} r={r} onRevoke={(id) => revoke.mutate(id)} />
              ))}
            </ul>
          )}
          <GrantPower onDone={() => void q.refetch()} />
          <h3>{t('seu.folder.held')}</h3>
          {q.data.held.length === 0 ? (
            <p>{t('seu.folder.none')}</p>
          ) : (
            <ul className="seu-list-plain">
              {q.data.held.map((r) => (
                <RepresentationItem key={r.id} r={r} />
              ))}
            </ul>
          )}
        </>
      ) : null}
    </section>
  );
}

function BackToFolder() {
  const { t } = useTranslation();
  const { base } = useSeu();
  const { search } = useActingFor();
  return (
    <p>
      <Link to={`${base}/carpeta${search}`}>{t('seu.folder.back')}</Link>
    </p>
  );
}

function ExpedientPage() {
  const { t } = useTranslation();
  const id = useParams().id ?? '';
  const { query } = useActingFor();
  const q = useFolder<MyExpedientDetail>('seu-expedient', `/folder/expedients/${encodeURIComponent(id)}`);
  const loc = useLocation();
  const needLogin = q.error instanceof SeuApiError && q.error.status === 401;
  return (
    <>
      <Title title={q.data ? `${q.data.number} · ${q.data.title}` : t('seu.folder.expedient')} />
      {q.isPending ? <Loading /> : null}
      {needLogin ? <LoginNeeded returnTo={loc.pathname} /> : <ErrorNote error={q.error} />}
      {q.data ? (
        <>
          <dl className="seu-data seu-card">
            <dt>{t('seu.folder.stateLabel')}</dt>
            <dd>{t(`seu.folder.state.${q.data.state}`)}</dd>
            <dt>{t('seu.folder.opened')}</dt>
            <dd>{when(q.data.openedAt)}</dd>
            {q.data.closedAt ? (
              <>
                <dt>{t('seu.folder.closed')}</dt>
                <dd>{when(q.data.closedAt)}</dd>
              </>
            ) : null}
          </dl>
          <section aria-labelledby="docs-h" className="seu-card">
            <h2 id="docs-h">{t('seu.folder.documents')}</h2>
            {q.data.documents.length === 0 ? (
              <p>{t('seu.folder.none')}</p>
            ) : (
              <ol>
                {q.data.documents.map((d) => {
                  const href = sameOriginApi(d.url);
                  return (
                    <li key={d.id}>
                      {href ? (
                        <a href={withQuery(href, query)} download={d.fileName}>
                          {d.title}
                        </a>
                      ) : (
                        d.title
                      )}{' '}
                      <span className="seu-muted">({when(d.incorporatedAt)})</span>
                    </li>
                  );
                })}
              </ol>
            )}
          </section>
        </>
      ) : null}
      <BackToFolder />
    </>
  );
}

function NotificationPage() {
  const { t } = useTranslation();
  const { slug } = useSeu();
  const id = useParams().id ?? '';
  const { query } = useActingFor();
  const qc = useQueryClient();
  const loc = useLocation();
  const path = `/seu/${encodeURIComponent(slug)}/notifications/${encodeURIComponent(id)}`;
  const q = useFolder<MyNotification | MyNotificationContent>(
    'seu-notification',
    `/notifications/${encodeURIComponent(id)}`,
  );
  const [confirmReject, setConfirmReject] = useState(false);
  const contentRef = useRef<HTMLHeadingElement>(null);
  const act = useMutation({
    mutationFn: (what: 'access' | 'reject') =>
      seuSend<MyNotification | MyNotificationContent>(withQuery(`${path}/${what}`, query), {}),
    onSuccess: (data) => {
      qc.setQueryData(['seu-notification', slug, query], data);
      void qc.invalidateQueries({ queryKey: ['seu-notifications'] });
      void q.refetch();
    },
  });
  const n = q.data;
  const content = n && 'actText' in n ? n : null;
  useEffect(() => {
    if (content) contentRef.current?.focus();
  }, [content]);
  const needLogin = q.error instanceof SeuApiError && q.error.status === 401;
  return (
    <>
      <Title title={n ? n.subject : t('seu.notification.title')} />
      {q.isPending ? <Loading /> : null}
      {needLogin ? <LoginNeeded returnTo={loc.pathname} /> : <ErrorNote error={q.error} />}
      {n ? (
        <div className="seu-card">
          <dl className="seu-data">
            <dt>{t('seu.notification.sender')}</dt>
            <dd>{n.sender.name}</dd>
            <dt>{t('seu.notification.reference')}</dt>
            <dd>
              {n.reference.registryNumber} · {n.reference.expedientNumber}
            </dd>
            <dt>{t('seu.notification.stateLabel')}</dt>
            <dd>{t(`seu.notification.state.${n.state}`, n.state)}</dd>
            <dt>{t('seu.notification.madeAvailable')}</dt>
            <dd>{when(n.madeAvailableAt)}</dd>
            {n.accessedAt ? (
              <>
                <dt>{t('seu.notification.accessed')}</dt>
                <dd>{when(n.accessedAt)}</dd>
              </>
            ) : null}
          </dl>
          {!content && n.state === 'available' ? (
            <>
              <p className="seu-note">{t('seu.notification.accessWarning')}</p>
              <p className="seu-actions">
                <button type="button" className="seu-button" onClick={() => act.mutate('access')}>
                  {t('seu.notification.access')}
                </button>{' '}
                {confirmReject ? (
                  <button type="button" className="seu-button secondary" onClick={() => act.mutate('reject')}>
                    {t('seu.notification.rejectConfirm')}
                  </button>
                ) : (
                  <button
                    type="button"
                    className="seu-button secondary"
                    onClick={() => setConfirmReject(true)}
                  >
                    {t('seu.notification.reject')}
                  </button>
                )}
              </p>
              {confirmReject ? <p role="alert">{t('seu.notification.rejectWarning')}</p> : null}
            </>
          ) : null}
          <ErrorNote error={act.error} />
          {content ? (
            <section aria-labelledby="act-h">
              <h2 id="act-h" ref={contentRef} tabIndex={-1}>
                {t('seu.notification.content')}
              </h2>
              <p className="seu-pre">{content.actText}</p>
              <p>
                {content.endsAdministrativeRoute
                  ? t('seu.notification.endsRoute')
                  : t('seu.notification.notEndsRoute')}
              </p>
              {content.appeals.length > 0 ? (
                <>
                  <h3>{t('seu.notification.appeals')}</h3>
                  <ul>
                    {content.appeals.map((a) => (
                      <li key={`${a.appeal}-${a.body}`}>
                        {a.appeal} — {a.body} — {a.term}
                      </li>
                    ))}
                  </ul>
                </>
              ) : null}
              <h3>{t('seu.folder.documents')}</h3>
              <ul>
                {content.documents.map((d) => (
                  <li key={d.documentId}>
                    <a
                      href={withQuery(`/api/v1${path}/documents/${encodeURIComponent(d.documentId)}`, query)}
                      download={d.fileName}
                    >
                      {d.title}
                    </a>
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
        </div>
      ) : null}
      <BackToFolder />
    </>
  );
}

/** Grant a power of attorney electronically (LPACAP art. 6.4): the logged-in citizen is the represented person. */
function GrantPower({ onDone }: { onDone: () => void }) {
  const { t } = useTranslation();
  const { slug } = useSeu();
  const [identifier, setIdentifier] = useState('');
  const [name, setName] = useState('');
  const [scope, setScope] = useState<'general' | 'procedure'>('general');
  const [validTo, setValidTo] = useState('');
  const [missing, setMissing] = useState(false);
  const grant = useMutation({
    mutationFn: () =>
      seuSend<Representation>(`/seu/${encodeURIComponent(slug)}/representations`, {
        representative: { identifier: identifier.trim().toUpperCase(), name: name.trim() },
        scope,
        ...(scope === 'procedure' ? { procedure: 'generic_request' } : {}),
        ...(validTo ? { validTo } : {}),
      }),
    onSuccess: () => {
      setIdentifier('');
      setName('');
      setValidTo('');
      onDone();
    },
  });
  function submit(e: React.FormEvent) {
    e.preventDefault();
    const m = identifier.trim() === '' || name.trim() === '';
    setMissing(m);
    if (!m) grant.mutate();
  }
  return (
    <form className="seu-subcard seu-form" noValidate onSubmit={submit} aria-labelledby="grant-h">
      <h3 id="grant-h">{t('seu.folder.grantTitle')}</h3>
      <p className="seu-hint">{t('seu.folder.grantIntro')}</p>
      {missing ? (
        <p className="seu-error" role="alert">
          {t('seu.folder.grantMissing')}
        </p>
      ) : null}
      <label htmlFor="rep-id">{t('seu.folder.repIdentifier')}</label>
      <input
        id="rep-id"
        autoComplete="off"
        value={identifier}
        onChange={(e) => setIdentifier(e.target.value)}
      />
      <label htmlFor="rep-name">{t('seu.folder.repName')}</label>
      <input id="rep-name" autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} />
      <label htmlFor="rep-scope">{t('seu.folder.repScope')}</label>
      <select
        id="rep-scope"
        value={scope}
        onChange={(e) => setScope(e.target.value === 'procedure' ? 'procedure' : 'general')}
      >
        <option value="general">{t('seu.folder.scopeGeneral')}</option>
        <option value="procedure">{t('seu.folder.scopeGenericRequest')}</option>
      </select>
      <label htmlFor="rep-to">{t('seu.folder.repValidTo')}</label>
      <p id="rep-to-hint" className="seu-hint">
        {t('seu.folder.repValidToHint')}
      </p>
      <input
        id="rep-to"
        type="date"
        aria-describedby="rep-to-hint"
        value={validTo}
        onChange={(e) => setValidTo(e.target.value)}
      />
      <button type="submit" className="seu-button" disabled={grant.isPending}>
        {t('seu.folder.grant')}
      </button>
      <ErrorNote error={grant.error} />
    </form>
  );
}
