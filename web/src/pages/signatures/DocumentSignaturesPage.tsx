import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams, useSearchParams } from 'react-router';
import { ApiError, api, apiUrl, entityPath } from '../../api.ts';
import { ErrorAlert, Loading } from '../../components/ErrorAlert.tsx';
import { MemberSelect, memberLabel, useMembers } from '../../components/MemberSelect.tsx';
import { PageTitle } from '../../components/PageTitle.tsx';
import { SecondFactorDialog } from '../../components/SecondFactorDialog.tsx';
import { formatDateTime } from '../../format.ts';
import { useMe } from '../../session.ts';
import {
  type Circuit,
  type CircuitSigner,
  docPath,
  INBOX_KEY,
  type SecondFactor,
  type StepInput,
  type StepKind,
  type StepMode,
  type VerificationReport,
} from '../../signatures.ts';

type Position = {
  id: string;
  title: string;
  actingToday: { userId: string; name: string; bySubstitution: boolean } | null;
};

const circuitKey = (slug: string, id: string) => ['circuit', slug, id] as const;
const verificationKey = (slug: string, id: string) => ['verification', slug, id] as const;

/** A user's "Name (username)" from the entity's members; a former member is said so, never shown by id. */
function useMemberName(slug: string) {
  const { t } = useTranslation();
  const members = useMembers(slug);
  return (userId: string) => {
    const m = members.data?.find((x) => x.id === userId);
    if (m) return memberLabel(t, m);
    return members.data ? t('members.former') : '…';
  };
}

function usePositions(slug: string) {
  return useQuery({
    queryKey: ['positions', slug],
    queryFn: () => api<{ items: Position[] }>(`${entityPath(slug)}/positions`).then((r) => r.items),
  });
}

/** A document's signatures: its circuit (or the editor to start one) and its verification report. */
export function DocumentSignaturesPage() {
  const { t } = useTranslation();
  const { slug = '', id = '' } = useParams();
  const [params] = useSearchParams();
  // Reached from the case file's index: an incorporated document takes no new circuit.
  const indexed = params.get('indexed') === '1';
  const circuit = useQuery({
    queryKey: circuitKey(slug, id),
    queryFn: () =>
      api<Circuit>(`${docPath(slug, id)}/circuit`).catch((e: unknown) => {
        if (e instanceof ApiError && e.code === 'NOT_FOUND') return null;
        throw e;
      }),
  });
  return (
    <>
      <PageTitle title={t('signatures.document.title')}>{t('signatures.document.title')}</PageTitle>
      <p>
        <a
          href={apiUrl(`${docPath(slug, id)}/${indexed ? 'content' : 'draft/content'}`)}
          target="_blank"
          rel="noreferrer"
        >
          {t('signatures.document.readDraft')}
        </a>
      </p>
      {circuit.isPending ? (
        <Loading />
      ) : circuit.error ? (
        <ErrorAlert error={circuit.error} />
      ) : circuit.data ? (
        <CircuitPanel slug={slug} id={id} circuit={circuit.data} />
      ) : indexed ? (
        <p>{t('signatures.document.noCircuit')}</p>
      ) : (
        <CircuitEditor slug={slug} id={id} />
      )}
      <VerificationPanel slug={slug} id={id} />
    </>
  );
}

type DraftStep = { key: number; kind: StepKind; mode: StepMode; signers: string[] };
let nextKey = 1;
const newStep = (): DraftStep => ({ key: nextKey++, kind: 'sign', mode: 'all', signers: [] });
const encodePos = (id: string) => `position:${id}`;

function CircuitEditor({ slug, id }: { slug: string; id: string }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const positions = usePositions(slug);
  const [steps, setSteps] = useState<DraftStep[]>(() => [newStep()]);
  const [invalid, setInvalid] = useState(false);
  const start = useMutation({
    mutationFn: (body: { steps: StepInput[] }) =>
      api<Circuit>(`${docPath(slug, id)}/circuit`, { json: body }),
    onSuccess: (c) => {
      qc.setQueryData(circuitKey(slug, id), c);
      void qc.invalidateQueries({ queryKey: INBOX_KEY });
    },
  });
  const update = (i: number, patch: Partial<DraftStep>) =>
    setSteps((s) => s.map((x, j) => (j === i ? { ...x, ...patch } : x)));
  const errorId = useId();
  return (
    <section aria-labelledby="circuit-editor" className="card">
      <h2 id="circuit-editor">{t('signatures.editor.title')}</h2>
      <p>{t('signatures.editor.intro')}</p>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (steps.some((s) => s.signers.length === 0)) {
            setInvalid(true);
            return;
          }
          setInvalid(false);
          start.mutate({
            steps: steps.map((s) => ({
              kind: s.kind,
              mode: s.mode,
              signers: s.signers.map((x) =>
                x.startsWith('position:') ? { positionId: x.slice(9) } : x.slice('user:'.length),
              ),
            })),
          });
        }}
      >
        <ol className="steps">
          {steps.map((s, i) => (
            <li key={s.key}>
              <StepEditor
                index={i}
                step={s}
                slug={slug}
                positions={positions.data ?? []}
                onChange={(patch) => update(i, patch)}
                onRemove={steps.length > 1 ? () => setSteps((x) => x.filter((_, j) => j !== i)) : undefined}
              />
            </li>
          ))}
        </ol>
        {invalid ? (
          <p className="field-error" role="alert" id={errorId}>
            {t('signatures.editor.needSigners')}
          </p>
        ) : null}
        <ErrorAlert error={start.error} />
        <div className="actions">
          <button
            type="button"
            className="button secondary"
            onClick={() => setSteps((s) => [...s, newStep()])}
          >
            {t('signatures.editor.addStep')}
          </button>
          <button type="submit" className="button primary" disabled={start.isPending}>
            {t('signatures.editor.start')}
          </button>
        </div>
      </form>
    </section>
  );
}

function StepEditor({
  index,
  step,
  slug,
  positions,
  onChange,
  onRemove,
}: {
  index: number;
  step: DraftStep;
  slug: string;
  positions: Position[];
  onChange: (patch: Partial<DraftStep>) => void;
  onRemove: (() => void) | undefined;
}) {
  const { t } = useTranslation();
  const uid = useId();
  const [position, setPosition] = useState('');
  const [userId, setUserId] = useState('');
  const [userMissing, setUserMissing] = useState(false);
  const nameOf = useMemberName(slug);
  const add = (ref: string) => {
    if (ref && !step.signers.includes(ref)) onChange({ signers: [...step.signers, ref] });
  };
  const label = (ref: string) => {
    if (!ref.startsWith('position:')) return nameOf(ref.slice('user:'.length));
    const p = positions.find((x) => x.id === ref.slice(9));
    return p ? positionLabel(t, p) : ref;
  };
  return (
    <fieldset>
      <legend>{t('signatures.step', { n: index + 1 })}</legend>
      <div className="field">
        <label htmlFor={`${uid}-kind`}>{t('signatures.editor.kind')}</label>
        <select
          id={`${uid}-kind`}
          value={step.kind}
          onChange={(e) => onChange({ kind: e.target.value as StepKind })}
        >
          {(['sign', 'vistiplau', 'review'] as const).map((k) => (
            <option key={k} value={k}>
              {t(`signatures.kind.${k}`)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${uid}-mode`}>{t('signatures.editor.mode')}</label>
        <select
          id={`${uid}-mode`}
          value={step.mode}
          onChange={(e) => onChange({ mode: e.target.value as StepMode })}
        >
          <option value="all">{t('signatures.mode.all')}</option>
          <option value="any">{t('signatures.mode.any')}</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${uid}-pos`}>{t('signatures.editor.position')}</label>
        <select id={`${uid}-pos`} value={position} onChange={(e) => setPosition(e.target.value)}>
          <option value="">{t('signatures.editor.choosePosition')}</option>
          {positions.map((p) => (
            <option key={p.id} value={encodePos(p.id)}>
              {positionLabel(t, p)}
            </option>
          ))}
        </select>
        <button type="button" className="button small" onClick={() => add(position)}>
          {t('signatures.editor.addPosition')}
        </button>
      </div>
      <div className="field">
        <MemberSelect
          slug={slug}
          label={t('signatures.editor.member')}
          error={userMissing ? t('members.required') : null}
          value={userId}
          onChange={(v) => {
            setUserId(v);
            if (v) setUserMissing(false);
          }}
        />
        <button
          type="button"
          className="button small"
          onClick={() => {
            setUserMissing(!userId);
            if (userId) add(`user:${userId}`);
            setUserId('');
          }}
        >
          {t('signatures.editor.addUser')}
        </button>
      </div>
      {step.signers.length === 0 ? (
        <p>{t('signatures.editor.noSigners')}</p>
      ) : (
        <ul aria-label={t('signatures.editor.signersOf', { n: index + 1 })}>
          {step.signers.map((s) => (
            <li key={s}>
              {label(s)}{' '}
              <button
                type="button"
                className="button small"
                aria-label={t('signatures.editor.removeSigner', { name: label(s) })}
                onClick={() => onChange({ signers: step.signers.filter((x) => x !== s) })}
              >
                {t('common.remove')}
              </button>
            </li>
          ))}
        </ul>
      )}
      {onRemove ? (
        <button type="button" className="button small danger" onClick={onRemove}>
          {t('signatures.editor.removeStep', { n: index + 1 })}
        </button>
      ) : null}
    </fieldset>
  );
}

function positionLabel(t: (k: string, o?: Record<string, unknown>) => string, p: Position): string {
  return p.actingToday
    ? t('signatures.editor.positionActing', { title: p.title, name: p.actingToday.name })
    : t('signatures.editor.positionVacant', { title: p.title });
}

function CircuitPanel({ slug, id, circuit }: { slug: string; id: string; circuit: Circuit }) {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const { data: me } = useMe();
  const positions = usePositions(slug);
  const nameOf = useMemberName(slug);
  const [dialog, setDialog] = useState(false);
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState('');
  const [announce, setAnnounce] = useState({ text: '', n: 0 });
  const reasonId = useId();
  // Signing elsewhere: the signed file (PDF, .p7s or .xsig), then the second factor.
  const [uploading, setUploading] = useState(false);
  const [file, setFile] = useState<File | null>(null);
  const [fileMissing, setFileMissing] = useState(false);
  const [uploadDialog, setUploadDialog] = useState(false);
  const fileId = useId();
  const fileErrorId = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  // After an act the buttons that led to it may be gone: focus the circuit, whose status says what
  // happened (after a signature, once its dialog has closed).
  const focusAfterDialog = useRef(false);
  useEffect(() => {
    if (announce.n > 0 && !focusAfterDialog.current) heading.current?.focus();
  }, [announce.n]);
  const refresh = (c: Circuit, message: string) => {
    qc.setQueryData(circuitKey(slug, id), c);
    void qc.invalidateQueries({ queryKey: verificationKey(slug, id) });
    void qc.invalidateQueries({ queryKey: INBOX_KEY });
    setAnnounce((a) => ({ text: message, n: a.n + 1 }));
  };
  const sign = useMutation({
    mutationFn: (f: SecondFactor) => api<Circuit>(`${docPath(slug, id)}/sign`, { json: f }),
    onSuccess: (c) => {
      focusAfterDialog.current = true;
      setDialog(false);
      refresh(c, t('signatures.circuit.signedNow'));
    },
  });
  const upload = useMutation({
    mutationFn: (f: SecondFactor) => {
      const form = new FormData();
      if (f.totp) form.append('totp', f.totp);
      if (f.password) form.append('password', f.password);
      if (file) form.append('file', file);
      return api<Circuit>(`${docPath(slug, id)}/sign/upload`, { form });
    },
    onSuccess: (c) => {
      focusAfterDialog.current = true;
      setUploadDialog(false);
      setUploading(false);
      setFile(null);
      refresh(c, t('signatures.circuit.signedNow'));
    },
  });
  const reject = useMutation({
    mutationFn: () => api<Circuit>(`${docPath(slug, id)}/reject`, { json: { reason } }),
    onSuccess: (c) => {
      setRejecting(false);
      refresh(c, t('signatures.circuit.rejectedNow'));
    },
  });
  const cancel = useMutation({
    mutationFn: () => api<Circuit>(`${docPath(slug, id)}/circuit/cancel`, { json: {} }),
    onSuccess: (c) => refresh(c, t('signatures.circuit.cancelledNow')),
  });
  const remind = useMutation({
    mutationFn: () =>
      api<{ recipients: string[] }>(`${docPath(slug, id)}/circuit/remind`, { method: 'POST' }),
    onSuccess: (r) =>
      setAnnounce((a) => ({
        text: t('signatures.circuit.remindedNow', { count: r.recipients.length }),
        n: a.n + 1,
      })),
  });
  const acting = (s: CircuitSigner) =>
    s.userId ?? positions.data?.find((p) => p.id === s.positionId)?.actingToday?.userId ?? null;
  const current = circuit.steps.find((s) => s.step === circuit.currentStep);
  const myTurn =
    circuit.state === 'active' && !!current && current.signers.some((s) => !s.action && acting(s) === me?.id);
  const isCreator = circuit.state === 'active' && circuit.createdBy === me?.id;
  const positionTitle = (s: CircuitSigner) =>
    s.position ?? positions.data?.find((p) => p.id === s.positionId)?.title ?? null;

  return (
    <section aria-labelledby="circuit-title" className="card">
      <h2 id="circuit-title" ref={heading} tabIndex={-1}>
        {t('signatures.circuit.title')}
      </h2>
      <p>
        {t('signatures.circuit.state')}: <strong>{t(`signatures.state.${circuit.state}`)}</strong>
        {circuit.finishReason ? ` — ${circuit.finishReason}` : ''}
      </p>
      <p role="status">{announce.text}</p>
      <ol className="steps">
        {circuit.steps.map((s) => (
          <li
            key={s.step}
            aria-current={s.step === circuit.currentStep && circuit.state === 'active' ? 'step' : undefined}
          >
            {t('signatures.step', { n: s.step })} · {t(`signatures.kind.${s.kind}`)} ·{' '}
            {t(`signatures.mode.${s.mode}`)}
            <ul>
              {s.signers.map((x) => (
                <li key={`${x.userId ?? ''}/${x.positionId ?? ''}`}>
                  {[positionTitle(x), x.userId ? nameOf(x.userId) : null].filter(Boolean).join(' · ')}
                  {': '}
                  {x.action
                    ? `${t(`signatures.action.${x.action}`, { defaultValue: x.action })} ${formatDateTime(x.actedAt, i18n.language)}${x.bySubstitution ? ` (${t('signatures.bySubstitution')})` : ''}${x.method === 'upload' ? ` · ${t('signatures.circuit.byUpload')}` : ''}${x.reason ? ` — ${x.reason}` : ''}`
                    : t('signatures.action.pending')}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ol>
      <div className="actions">
        {myTurn ? (
          <>
            <button
              type="button"
              className="button primary"
              onClick={() => {
                sign.reset();
                setDialog(true);
              }}
            >
              {current?.kind === 'review'
                ? t('signatures.circuit.confirmReview')
                : t('signatures.circuit.sign')}
            </button>
            {current?.kind === 'review' ? null : (
              <button
                type="button"
                className="button secondary"
                onClick={() => setUploading((u) => !u)}
                aria-expanded={uploading}
              >
                {t('signatures.circuit.upload')}
              </button>
            )}
            <button
              type="button"
              className="button danger"
              onClick={() => setRejecting((r) => !r)}
              aria-expanded={rejecting}
            >
              {t('signatures.circuit.reject')}
            </button>
          </>
        ) : null}
        {isCreator ? (
          <button
            type="button"
            className="button secondary"
            onClick={() => cancel.mutate()}
            disabled={cancel.isPending}
          >
            {t('signatures.circuit.cancel')}
          </button>
        ) : null}
        {isCreator ? (
          <button
            type="button"
            className="button secondary"
            onClick={() => remind.mutate()}
            disabled={remind.isPending}
          >
            {t('signatures.circuit.remind')}
          </button>
        ) : null}
      </div>
      <ErrorAlert error={cancel.error} />
      <ErrorAlert error={remind.error} />
      {uploading && myTurn && current?.kind !== 'review' ? (
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            if (!file) {
              setFileMissing(true);
              return;
            }
            setFileMissing(false);
            upload.reset();
            setUploadDialog(true);
          }}
        >
          <p>{t('signatures.circuit.uploadHint')}</p>
          <div className="field">
            <label htmlFor={fileId}>{t('signatures.circuit.uploadFile')}</label>
            <input
              id={fileId}
              type="file"
              accept=".pdf,.p7s,.xsig,application/pdf,application/pkcs7-signature,application/xml"
              aria-invalid={fileMissing || undefined}
              aria-describedby={fileMissing ? fileErrorId : undefined}
              onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            />
            {fileMissing ? (
              <p className="field-error" role="alert" id={fileErrorId}>
                {t('signatures.circuit.uploadMissing')}
              </p>
            ) : null}
          </div>
          <button type="submit" className="button primary">
            {t('signatures.circuit.uploadContinue')}
          </button>
        </form>
      ) : null}
      {rejecting ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (reason.trim()) reject.mutate();
          }}
        >
          <div className="field">
            <label htmlFor={reasonId}>{t('signatures.circuit.reason')}</label>
            <textarea id={reasonId} value={reason} required onChange={(e) => setReason(e.target.value)} />
          </div>
          <ErrorAlert error={reject.error} />
          <button type="submit" className="button danger" disabled={reject.isPending}>
            {t('signatures.circuit.confirmReject')}
          </button>
        </form>
      ) : null}
      <SecondFactorDialog
        open={dialog}
        title={t('signatures.circuit.signTitle')}
        description={t('signatures.circuit.signText')}
        confirmLabel={
          current?.kind === 'review' ? t('signatures.circuit.confirmReview') : t('signatures.circuit.sign')
        }
        busy={sign.isPending}
        error={sign.error}
        onConfirm={(f) => sign.mutate(f)}
        onClose={() => {
          setDialog(false);
          if (focusAfterDialog.current) heading.current?.focus();
          focusAfterDialog.current = false;
        }}
      />
      <SecondFactorDialog
        open={uploadDialog}
        title={t('signatures.circuit.uploadTitle')}
        description={t('signatures.circuit.uploadText')}
        confirmLabel={t('signatures.circuit.sign')}
        busy={upload.isPending}
        error={upload.error}
        onConfirm={(f) => upload.mutate(f)}
        onClose={() => {
          setUploadDialog(false);
          if (focusAfterDialog.current) heading.current?.focus();
          focusAfterDialog.current = false;
        }}
      />
    </section>
  );
}

/** The verification report: "signed" only when there are signatures and each is valid and trusted. */
export function VerificationPanel({ slug, id }: { slug: string; id: string }) {
  const { t, i18n } = useTranslation();
  const report = useQuery({
    queryKey: verificationKey(slug, id),
    queryFn: () => api<VerificationReport>(`${docPath(slug, id)}/verification`),
  });
  return (
    <section aria-labelledby="verification-title" className="card">
      <h2 id="verification-title">{t('signatures.verification.title')}</h2>
      {report.isPending ? (
        <Loading />
      ) : report.error ? (
        <ErrorAlert error={report.error} />
      ) : (
        <>
          <p>
            <strong>
              {report.data.signed
                ? t('signatures.verification.signed')
                : report.data.signatures.length === 0
                  ? t('signatures.verification.none')
                  : t('signatures.verification.notSigned')}
            </strong>{' '}
            (
            {t('signatures.verification.at', { when: formatDateTime(report.data.verifiedAt, i18n.language) })}
            )
          </p>
          <p>
            <a
              className="button secondary"
              href={apiUrl(`${docPath(slug, id)}/verification.pdf?lang=${encodeURIComponent(i18n.language)}`)}
              download
            >
              {t('signatures.verification.downloadPdf')}
            </a>{' '}
            {t('signatures.verification.pdfNote')}
          </p>
          {report.data.signatures.some((s) => s.demo) ? (
            <div className="alert alert-info" role="note">
              <p>{t('signatures.verification.demoNote')}</p>
            </div>
          ) : null}
          {report.data.signatures.length > 0 ? (
            <table className="table">
              <caption className="visually-hidden">{t('signatures.verification.caption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('signatures.verification.signer')}</th>
                  <th scope="col">{t('signatures.verification.position')}</th>
                  <th scope="col">{t('signatures.verification.time')}</th>
                  <th scope="col">{t('signatures.verification.format')}</th>
                  <th scope="col">{t('signatures.verification.integrity')}</th>
                  <th scope="col">{t('signatures.verification.trust')}</th>
                  <th scope="col">{t('signatures.verification.coverage')}</th>
                  <th scope="col">{t('signatures.verification.file')}</th>
                </tr>
              </thead>
              <tbody>
                {report.data.signatures.map((s, i) => (
                  <tr key={s.detachedSignatureId ?? `${s.coverage.revision}-${s.signedAt ?? ''}-${i}`}>
                    <td>
                      {s.signer ?? '—'}
                      {s.demo ? (
                        <>
                          {' '}
                          <span className="badge badge-demo">{t('signatures.verification.demo')}</span>
                        </>
                      ) : s.qualified ? (
                        <>
                          {' '}
                          <span className="badge">{t('signatures.verification.qualified')}</span>
                        </>
                      ) : null}
                    </td>
                    <td>{s.position ?? '—'}</td>
                    <td>{s.signedAt ? formatDateTime(s.signedAt, i18n.language) : '—'}</td>
                    <td>{s.format}</td>
                    <td>{t(`signatures.integrity.${s.integrity}`)}</td>
                    <td>{t(`signatures.trust.${s.trust}`)}</td>
                    <td>
                      {s.coverage.scope === 'whole'
                        ? t('signatures.verification.whole')
                        : t('signatures.verification.revision', {
                            n: s.coverage.revision,
                            of: s.coverage.revisions,
                          })}
                    </td>
                    <td>
                      {s.detachedSignatureId ? (
                        <a
                          href={apiUrl(
                            `${docPath(slug, id)}/signatures/${encodeURIComponent(s.detachedSignatureId)}`,
                          )}
                        >
                          {t('signatures.verification.download', { format: s.format })}
                        </a>
                      ) : (
                        t('signatures.verification.inside')
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      )}
    </section>
  );
}
