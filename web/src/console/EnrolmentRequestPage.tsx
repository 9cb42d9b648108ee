import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api, apiUrl } from '../api.ts';
import { Loading } from '../components/ErrorAlert.tsx';
import { Field } from '../components/Field.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { formatBytes, formatCivilDate, formatDateTime, formatNumber } from '../format.ts';
import { consoleKeys, dayOf, type EnrolmentDetail, type SignatureCheck } from './consoleApi.ts';
import { ConsoleError, EnrolmentStatusBadge } from './consoleUi.tsx';

const requestPath = (id: string) => `/console/enrolment-requests/${encodeURIComponent(id)}`;

/**
 * One enrolment request (issue 6 item 1): its data, its files, the checks of its signatures, and
 * the operator's decision — accept, ask for corrections or reject, the last two with a reason.
 */
export function EnrolmentRequestPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const { id = '' } = useParams();
  const detail = useQuery({
    queryKey: consoleKeys.request(id),
    queryFn: () => api<EnrolmentDetail>(requestPath(id)),
  });
  if (detail.isPending) return <Loading />;
  if (detail.error || !detail.data) {
    return (
      <>
        <PageTitle title={t('console.request.title')}>{t('console.request.title')}</PageTitle>
        <ConsoleError error={detail.error} />
      </>
    );
  }
  const r = detail.data;
  const dash = '—';
  const open = r.status === 'submitted' || r.status === 'corrections_requested';
  return (
    <>
      <p className="breadcrumb">
        <Link to="/console/requests">{t('console.inbox.title')}</Link>
      </p>
      <div className="page-head">
        <div>
          {r.registryNumber ? (
            <p className="eyebrow">
              {t('console.request.registryNumber')} {r.registryNumber}
            </p>
          ) : null}
          <PageTitle title={t('console.request.heading', { name: r.entityName })}>
            {t('console.request.heading', { name: r.entityName })}
          </PageTitle>
        </div>
      </div>
      <p>
        <EnrolmentStatusBadge status={r.status} />
      </p>
      {r.statusReason ? (
        <p className="pre-line">
          <strong>{t('console.request.statusReason')}:</strong> {r.statusReason}
        </p>
      ) : null}
      {r.entityId && r.status === 'accepted' ? (
        <p>
          <Link to={`/console/entities/${encodeURIComponent(r.dir3 || r.entityId)}`}>
            {t('console.request.openEntity', { name: r.entityName })}
          </Link>
        </p>
      ) : null}

      <section aria-labelledby="request-data-heading">
        <h2 id="request-data-heading">{t('console.request.data')}</h2>
        <dl className="data-list">
          <dt>{t('console.request.entity')}</dt>
          <dd>{r.entityName}</dd>
          <dt>{t('console.request.kind')}</dt>
          <dd>{t(`console.entityKind.${r.entityKind}`, r.entityKind)}</dd>
          <dt>{t('console.entity.ine')}</dt>
          <dd>{r.ine ?? dash}</dd>
          <dt>{t('console.entity.dir3')}</dt>
          <dd>{r.dir3 ?? dash}</dd>
          <dt>{t('console.request.population')}</dt>
          <dd>{formatNumber(r.population, lang)}</dd>
          <dt>{t('console.request.provider')}</dt>
          <dd>{r.currentProvider || t('console.request.noProvider')}</dd>
          <dt>{t('console.request.call')}</dt>
          <dd>{r.callName ?? dash}</dd>
          <dt>{t('console.request.mayor')}</dt>
          <dd>
            <ContactText c={r.mayor} />
          </dd>
          <dt>{t('console.request.secretary')}</dt>
          <dd>
            <ContactText c={r.secretary} />
          </dd>
          <dt>{t('console.request.adhesionAct')}</dt>
          <dd>
            {t(`console.request.actKind.${r.adhesionAct.kind}`, r.adhesionAct.kind)},{' '}
            {formatCivilDate(dayOf(r.adhesionAct.date), lang, 'medium')}
          </dd>
          <dt>{t('console.request.submittedAt')}</dt>
          <dd>{formatDateTime(r.submittedAt, lang)}</dd>
          <dt>{t('console.request.registryNumber')}</dt>
          <dd>{r.registryNumber ?? dash}</dd>
          {r.decidedAt ? (
            <>
              <dt>{t('console.request.decidedAt')}</dt>
              <dd>
                {formatDateTime(r.decidedAt, lang)}
                {r.decidedBy ? ` · ${r.decidedBy}` : ''}
              </dd>
            </>
          ) : null}
        </dl>
      </section>

      <section aria-labelledby="request-files-heading">
        <h2 id="request-files-heading">{t('console.request.files')}</h2>
        {r.files.length === 0 ? <p className="empty">{t('console.request.noFiles')}</p> : null}
        {r.files.length > 0 ? (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{t('console.request.files')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('console.request.fileRole')}</th>
                  <th scope="col">{t('console.request.fileName')}</th>
                  <th scope="col">{t('console.request.fileSize')}</th>
                  <th scope="col">{t('console.request.fileHash')}</th>
                </tr>
              </thead>
              <tbody>
                {r.files.map((f) => (
                  <tr key={f.role}>
                    <th scope="row">{t(`console.request.fileRoles.${f.role}`, f.role)}</th>
                    <td>
                      <a href={apiUrl(`${requestPath(r.id)}/files/${f.role}`)} download={f.fileName}>
                        {f.fileName}
                      </a>
                    </td>
                    <td className="nowrap">{formatBytes(f.size, lang)}</td>
                    <td>
                      <code className="hash">{f.sha256}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>

      <section aria-labelledby="request-signatures-heading">
        <h2 id="request-signatures-heading">{t('console.request.signatures')}</h2>
        <SignatureBlock title={t('console.request.fileRoles.signed_request')} check={r.signatures.request} />
        <SignatureBlock title={t('console.request.fileRoles.dpa')} check={r.signatures.dpa} />
      </section>

      <Decision request={r} open={open} />
    </>
  );
}

function ContactText({ c }: { c: EnrolmentDetail['mayor'] }) {
  return (
    <>
      {c.name}
      <span className="block">
        <a href={`mailto:${c.email}`}>{c.email}</a>
        {c.phone ? ` · ${c.phone}` : ''}
      </span>
    </>
  );
}

function SignatureBlock({ title, check }: { title: string; check: SignatureCheck | null | undefined }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  return (
    <div className="card">
      <h3>{title}</h3>
      {!check?.signed ? (
        <p>{t('console.request.sig.notSigned')}</p>
      ) : (
        <dl className="data-list">
          <dt>{t('console.request.sig.integrity')}</dt>
          <dd>{t(`console.request.sig.integrityValue.${check.integrity}`, check.integrity)}</dd>
          <dt>{t('console.request.sig.signer')}</dt>
          <dd>
            {check.signerName ?? '—'}
            {check.signerId ? ` (${check.signerId})` : ''}
          </dd>
          <dt>{t('console.request.sig.trust')}</dt>
          <dd>{check.trust ? t(`console.request.sig.trustValue.${check.trust}`, check.trust) : '—'}</dd>
          <dt>{t('console.request.sig.signedAt')}</dt>
          <dd>{check.signedAt ? formatDateTime(check.signedAt, lang) : '—'}</dd>
        </dl>
      )}
    </div>
  );
}

type Action = 'accept' | 'corrections' | 'reject';

function Decision({ request: r, open }: { request: EnrolmentDetail; open: boolean }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [action, setAction] = useState<Action | null>(null);
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState(false);
  const reasonRef = useRef<HTMLTextAreaElement>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  // The chosen decision's form takes the focus: its reason, or the confirmation of an acceptance.
  useEffect(() => {
    if (action === 'accept') confirmRef.current?.focus();
    else if (action) reasonRef.current?.focus();
  }, [action]);
  const decide = useMutation({
    mutationFn: (a: Action) => {
      const path = a === 'accept' ? 'accept' : a === 'corrections' ? 'request-corrections' : 'reject';
      return api<EnrolmentDetail>(`${requestPath(r.id)}/${path}`, {
        json: a === 'accept' ? {} : { reason: reason.trim() },
      });
    },
    onSuccess: (data) => {
      queryClient.setQueryData(consoleKeys.request(r.id), data);
      setAction(null);
      setReason('');
      void queryClient.invalidateQueries({ queryKey: consoleKeys.requests });
      void queryClient.invalidateQueries({ queryKey: ['console'] });
    },
  });
  function choose(a: Action) {
    decide.reset();
    setMissing(false);
    setAction(a);
  }
  if (!open)
    return decide.isSuccess ? (
      <p role="status" className="alert alert-info">
        {t('console.request.decided', { status: t(`console.requestStatus.${r.status}`) })}
      </p>
    ) : null;
  return (
    <section aria-labelledby="request-decision-heading">
      <h2 id="request-decision-heading">{t('console.request.decision')}</h2>
      {decide.isSuccess ? (
        <p role="status" className="alert alert-info">
          {t('console.request.decided', { status: t(`console.requestStatus.${r.status}`) })}
        </p>
      ) : null}
      <div className="actions">
        <button type="button" className="button" onClick={() => choose('accept')}>
          {t('console.request.accept')}
        </button>
        <button type="button" className="button secondary" onClick={() => choose('corrections')}>
          {t('console.request.askCorrections')}
        </button>
        <button type="button" className="button secondary" onClick={() => choose('reject')}>
          {t('console.request.reject')}
        </button>
      </div>
      {action ? (
        <form
          className="card form"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            if (action !== 'accept') {
              const empty = !reason.trim();
              setMissing(empty);
              if (empty) return reasonRef.current?.focus();
            }
            decide.mutate(action);
          }}
        >
          <ConsoleError error={decide.error} />
          {action === 'accept' ? (
            <p>{t('console.request.acceptConfirmText', { name: r.entityName })}</p>
          ) : (
            <Field
              label={
                action === 'corrections'
                  ? t('console.request.correctionsReason')
                  : t('console.request.rejectReason')
              }
              hint={t('console.request.reasonHint')}
              required
              error={missing ? t('console.request.reasonRequired') : null}
            >
              {(p) => (
                <textarea
                  {...p}
                  ref={reasonRef}
                  rows={4}
                  maxLength={2000}
                  value={reason}
                  onChange={(e) => setReason(e.target.value)}
                />
              )}
            </Field>
          )}
          <div className="actions">
            <button ref={confirmRef} type="submit" className="button primary" disabled={decide.isPending}>
              {action === 'accept'
                ? t('console.request.confirmAccept')
                : action === 'corrections'
                  ? t('console.request.confirmCorrections')
                  : t('console.request.confirmReject')}
            </button>
            <button type="button" className="button secondary" onClick={() => setAction(null)}>
              {t('common.cancel')}
            </button>
          </div>
        </form>
      ) : null}
    </section>
  );
}
