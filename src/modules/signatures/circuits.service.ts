import type { Ctx } from '#platform/context.ts';
import { madridYear } from '#platform/db/counters.ts';
import type { Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { isUuid, newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import {
  assertDocumentMetadata,
  type DocumentType,
  type DocumentView,
  type ElaborationState,
  extensionOf,
  getDocumentRow,
  insertDocument,
  toDocumentView,
} from '#modules/documents/documents.service.ts';
import { incorporateExistingDocument } from '#modules/expedients/expedient-documents.service.ts';
import { loadExpedient, loadWritableExpedient } from '#modules/expedients/expedients.service.ts';
import { checkSecondFactor } from '#modules/identity/second-factor.ts';
import { actingHolder, positionsOfUser } from '#modules/positions/positions.service.ts';

/**
 * Signature circuits (portasignatures), first slice: PDF drafts signed in PAdES-B-B, one
 * incremental revision per signature (DOMAIN "Signatures"; ARCHITECTURE: nothing slow inside a
 * transaction). Each use case that signs runs in three parts: a transaction that checks the turn
 * (`planSignature`), the signing itself outside any transaction (circuits.signing.ts: the CSC
 * service authorises with the signer's second factor and signs the hash), and a transaction that
 * records the act (`recordSignature`) after re-checking that nothing moved in between.
 *
 * Decisions (documented in docs/api.md):
 * - A draft is a `documents` row not yet incorporated plus a `document_drafts` row; it is
 *   replaced with `PUT …/documents/{id}/content` while in state `draft`. Every content it has
 *   had is a `document_versions` row pointing at its own blob (blobs are never overwritten); the
 *   document row points to the newest. When the circuit completes it is incorporated into the
 *   case file's index and becomes immutable.
 * - A stopped circuit (rejected or cancelled) stops its draft too: the next attempt is a new draft.
 * - Signers are users or positions (`{positionId}`): a position is signed by its acting holder at
 *   the moment of signing, "per substitució" when a substitute acts.
 * - A `vistiplau` step is the mayor's/president's signature (ROF art. 205): its signers must be
 *   the mayor position or its acting holder.
 * - Formats (issue 4 item 4): a PDF draft is prepared once and each signature is a PAdES-B-B
 *   incremental revision; any other file is signed in CAdES detached (`.p7s`) and an XML file in
 *   XAdES detached (`.xsig`): the document's bytes never change and each signature is its own
 *   file, a `document_signatures` row (migration 0016) linked to the document and to the act.
 * - Each act records how its signature was made (`circuit_signers.method`): `csc` (the signer's
 *   remote signing service) or `upload` (signed elsewhere, verified on arrival: circuits.upload.ts).
 */

export type StepKind = 'sign' | 'vistiplau' | 'review';
/** The signature format of a circuit, decided by the draft's type when it starts. */
export type CircuitFormat = 'PAdES' | 'CAdES' | 'XAdES';
/** How an act's signature was made. */
export type SigningMethod = 'csc' | 'upload';

const XML_TYPES = new Set(['application/xml', 'text/xml']);

/** PDF → PAdES; XML (application/xml, text/xml, *+xml) → XAdES detached; anything else → CAdES detached. */
export function formatOfMimeType(mimeType: string): CircuitFormat {
  if (mimeType === 'application/pdf') return 'PAdES';
  if (XML_TYPES.has(mimeType) || mimeType.endsWith('+xml')) return 'XAdES';
  return 'CAdES';
}
export type SignerRef = string | { positionId: string };
export type StepInput = { kind: StepKind; mode: 'all' | 'any'; signers: SignerRef[] };

/** `resolution` in the circuit request: the document is a resolution (decree) for the book (src/modules/resolutions). */
export type ResolutionRequest = { summary: string };

/** What a circuit is started with, as hooks see it. */
export type CircuitStart = {
  documentId: string;
  expedientId: string;
  documentType: string;
  steps: StepInput[];
  resolution: ResolutionRequest | null;
};

/**
 * What another module adds to a circuit's own transactions (the resolutions book): signatures
 * does not import it (ARCHITECTURE: resolutions ─► signatures); src/routes.ts wires them.
 * - `checkStart` runs in the planning transaction, `onStart` in the one that starts the circuit;
 * - `assertSignable` refuses a turn that may not be signed yet (both when planning and recording);
 * - `onSigned` runs in the transaction that records a signature (or conformity), before its audit
 *   event and before the circuit advances (lock order: a counter before the audit head).
 */
export type CircuitHooks = {
  checkStart?: (tx: Tx, ctx: Ctx, start: CircuitStart) => Promise<void>;
  onStart?: (tx: Tx, ctx: Ctx, start: CircuitStart & { circuitId: string }) => Promise<void>;
  assertSignable?: (tx: Tx, ctx: Ctx, turn: Turn) => Promise<void>;
  onSigned?: (tx: Tx, ctx: Ctx, turn: Turn) => Promise<void>;
};

export const MAX_STEPS = 20;
/** The signature page holds this many stamp areas (two columns of seven). */
export const MAX_SIGNATURES = 14;

const KIND_LABEL: Record<StepKind, string> = {
  sign: 'Signatura',
  vistiplau: 'Vist i plau',
  review: 'Conformitat',
};

type AuditDetails = Record<string, unknown>;

/** Every step and refusal is recorded on the document and on its case file. */
export async function auditBoth(
  tx: Tx,
  ctx: Ctx,
  expedientId: string,
  documentId: string,
  action: string,
  details: AuditDetails,
) {
  const base = { tenantId: ctx.tenant.id, actor: ctx.actor, request: ctx.request, clock: ctx.clock, action };
  await recordEvent(tx, { ...base, objectType: 'document', objectId: documentId, details });
  await recordEvent(tx, {
    ...base,
    objectType: 'expedient',
    objectId: expedientId,
    details: { documentId, ...details },
  });
}

function actorId(ctx: Ctx): string {
  if (!ctx.actor.id) throw new AppError('FORBIDDEN', 'Only a user acts on signature circuits');
  return ctx.actor.id;
}

// ───────────────────────────── drafts ─────────────────────────────

export type NewDraft = {
  title: string;
  fileName: string;
  mimeType: string;
  sha256: string;
  size: number;
  documentType: DocumentType;
  elaborationState: ElaborationState;
  origin: 'administration' | 'citizen';
  originalEniId?: string | null;
};

export type DraftView = DocumentView & {
  expedientId: string;
  draft: true;
  state: 'draft' | 'in_circuit' | 'final' | 'rejected' | 'cancelled';
  version: number;
};

/** Checks, before the file is stored, that the case file takes a draft from the caller. */
export async function checkDraft(
  tx: Tx,
  ctx: Ctx,
  expedientId: string,
  input: { elaborationState: string; originalEniId?: string | null },
) {
  await loadWritableExpedient(tx, ctx, expedientId);
  assertDocumentMetadata(input);
}

/** A draft in a case file: not in its index (LPACAP art. 70.4), replaceable until its circuit starts. */
export async function createDraft(
  tx: Tx,
  ctx: Ctx,
  expedientId: string,
  input: NewDraft,
): Promise<DraftView> {
  const me = actorId(ctx);
  const exp = await loadWritableExpedient(tx, ctx, expedientId);
  const now = ctx.clock.now();
  const doc = await insertDocument(tx, ctx, {
    ...input,
    supersedesId: null,
    incorporatedAt: null,
    year: madridYear(now),
  });
  await tx
    .insertInto('document_drafts')
    .values({
      tenant_id: ctx.tenant.id,
      document_id: doc.id,
      expedient_id: exp.id,
      state: 'draft',
      created_by: me,
      created_at: now,
      updated_at: now,
    })
    .execute();
  await tx
    .insertInto('document_versions')
    .values({
      tenant_id: ctx.tenant.id,
      document_id: doc.id,
      version: 1,
      sha256: input.sha256,
      size_bytes: input.size,
      kind: 'upload',
      created_by: me,
      created_at: now,
    })
    .execute();
  await auditBoth(tx, ctx, exp.id, doc.id, 'document.draft_create', {
    sha256: input.sha256,
    title: input.title,
  });
  return { ...doc, expedientId: exp.id, draft: true, state: 'draft', version: 1 };
}

type DraftRow = {
  document_id: string;
  expedient_id: string;
  state: DraftView['state'];
  created_by: string;
};

/** The draft (any state) if the caller may see its case file; 404 otherwise. */
export async function loadDraft(tx: Tx, ctx: Ctx, documentId: string, lock = false): Promise<DraftRow> {
  if (!isUuid(documentId)) throw new AppError('DOCUMENT_NOT_FOUND', 'Document not found');
  let q = tx
    .selectFrom('document_drafts')
    .select(['document_id', 'expedient_id', 'state', 'created_by'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('document_id', '=', documentId);
  if (lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  if (!row) throw new AppError('DOCUMENT_NOT_FOUND', 'Document not found');
  return row;
}

/** Whether the caller may see a draft: they see its case file, or they are in its circuit. */
export async function assertCanSeeDraft(tx: Tx, ctx: Ctx, draft: DraftRow): Promise<void> {
  try {
    await loadExpedient(tx, ctx, draft.expedient_id);
    return;
  } catch (e) {
    if (!(e instanceof AppError) || e.code !== 'EXPEDIENT_NOT_FOUND') throw e;
  }
  const me = ctx.actor.id;
  const inCircuit = me
    ? await tx
        .selectFrom('signature_circuits as c')
        .innerJoin('circuit_signers as s', (j) =>
          j.onRef('s.tenant_id', '=', 'c.tenant_id').onRef('s.circuit_id', '=', 'c.id'),
        )
        .select('c.id')
        .where('c.tenant_id', '=', ctx.tenant.id)
        .where('c.document_id', '=', draft.document_id)
        .where((eb) => eb.or([eb('s.user_id', '=', me), eb('s.acted_by', '=', me)]))
        .executeTakeFirst()
    : undefined;
  if (!inCircuit) throw new AppError('DOCUMENT_NOT_FOUND', 'Document not found');
}

async function nextVersion(tx: Tx, ctx: Ctx, documentId: string): Promise<number> {
  const r = await tx
    .selectFrom('document_versions')
    .select((eb) => eb.fn.max('version').as('max'))
    .where('tenant_id', '=', ctx.tenant.id)
    .where('document_id', '=', documentId)
    .executeTakeFirst();
  return Number(r?.max ?? 0) + 1;
}

/** Points the draft's row at new content and keeps the version (the old blob stays). */
async function addVersion(
  tx: Tx,
  ctx: Ctx,
  documentId: string,
  content: { sha256: string; size: number; fileName?: string; mimeType?: string },
  kind: 'replace' | 'prepare' | 'signature',
): Promise<number> {
  const version = await nextVersion(tx, ctx, documentId);
  const now = ctx.clock.now();
  await tx
    .insertInto('document_versions')
    .values({
      tenant_id: ctx.tenant.id,
      document_id: documentId,
      version,
      sha256: content.sha256,
      size_bytes: content.size,
      kind,
      created_by: actorId(ctx),
      created_at: now,
    })
    .execute();
  await tx
    .updateTable('documents')
    .set({
      sha256: content.sha256,
      size_bytes: content.size,
      ...(content.fileName ? { file_name: content.fileName, format: extensionOf(content.fileName) } : {}),
      ...(content.mimeType ? { mime_type: content.mimeType } : {}),
    })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', documentId)
    .where('incorporated_at', 'is', null)
    .execute();
  await tx
    .updateTable('document_drafts')
    .set({ updated_at: now })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('document_id', '=', documentId)
    .execute();
  return version;
}

/** Checks that the draft's content may still be replaced (before the new file is stored). */
export async function checkDraftReplaceable(tx: Tx, ctx: Ctx, documentId: string): Promise<DraftRow> {
  const draft = await loadDraft(tx, ctx, documentId, true);
  await loadWritableExpedient(tx, ctx, draft.expedient_id);
  if (draft.state !== 'draft')
    throw new AppError(
      'DRAFT_NOT_EDITABLE',
      'The circuit has started (or ended): the content no longer changes',
    );
  return draft;
}

/** `PUT …/documents/{id}/content`: new content for a draft whose circuit has not started. */
export async function replaceDraftContent(
  tx: Tx,
  ctx: Ctx,
  documentId: string,
  content: { sha256: string; size: number; fileName: string; mimeType: string },
): Promise<DraftView> {
  const draft = await checkDraftReplaceable(tx, ctx, documentId);
  const version = await addVersion(tx, ctx, documentId, content, 'replace');
  await auditBoth(tx, ctx, draft.expedient_id, documentId, 'document.draft_replace', {
    sha256: content.sha256,
    version,
  });
  return draftView(tx, ctx, documentId);
}

export async function draftView(tx: Tx, ctx: Ctx, documentId: string): Promise<DraftView> {
  const draft = await loadDraft(tx, ctx, documentId);
  const row = await getDocumentRow(tx, ctx, documentId);
  if (!row) throw new AppError('DOCUMENT_NOT_FOUND', 'Document not found');
  return {
    ...toDocumentView(row),
    expedientId: draft.expedient_id,
    draft: true,
    state: draft.state,
    version: (await nextVersion(tx, ctx, documentId)) - 1,
  };
}

/** The draft's current content (sha256, type, name) for a caller who may see it. */
export async function readDraftContent(tx: Tx, ctx: Ctx, documentId: string) {
  const draft = await loadDraft(tx, ctx, documentId);
  await assertCanSeeDraft(tx, ctx, draft);
  const row = await getDocumentRow(tx, ctx, documentId);
  if (!row) throw new AppError('DOCUMENT_NOT_FOUND', 'Document not found');
  return row;
}

// ───────────────────────────── circuits ─────────────────────────────

/** One stamp area to prepare: the field name and the label printed above it. */
export type PlannedSlot = { fieldName: string; label: string[] };

type ResolvedSigner = { userId: string | null; positionId: string | null; label: string };

async function userName(tx: Tx, userId: string): Promise<string | undefined> {
  const u = await tx
    .selectFrom('users')
    .select(['name', 'username'])
    .where('id', '=', userId)
    .executeTakeFirst();
  return u ? u.name || u.username : undefined;
}

async function positionOf(tx: Tx, ctx: Ctx, positionId: string) {
  const p = isUuid(positionId)
    ? await tx
        .selectFrom('positions')
        .select(['id', 'kind', 'title'])
        .where('tenant_id', '=', ctx.tenant.id)
        .where('id', '=', positionId)
        .executeTakeFirst()
    : undefined;
  if (!p) throw new AppError('POSITION_NOT_FOUND', `No position ${positionId} in this entity`);
  return p;
}

async function resolveSigner(tx: Tx, ctx: Ctx, kind: StepKind, ref: SignerRef): Promise<ResolvedSigner> {
  const now = ctx.clock.now();
  if (typeof ref === 'object') {
    const p = await positionOf(tx, ctx, ref.positionId);
    if (kind === 'vistiplau' && p.kind !== 'mayor')
      throw new AppError(
        'CIRCUIT_VISTIPLAU_NOT_MAYOR',
        `A vistiplau is signed by the mayor/president, not by ${p.title}`,
      );
    await actingHolder(tx, ctx, p.id, now); // POSITION_VACANT / POSITION_NO_SUBSTITUTE now rather than at its turn
    return { userId: null, positionId: p.id, label: p.title };
  }
  const member = isUuid(ref)
    ? await tx
        .selectFrom('memberships')
        .select('user_id')
        .where('tenant_id', '=', ctx.tenant.id)
        .where('user_id', '=', ref)
        .executeTakeFirst()
    : undefined;
  if (!member) throw new AppError('USER_NOT_FOUND', `User ${ref} is not a member of this entity`);
  if (kind === 'vistiplau') {
    const mayor = (await positionsOfUser(tx, ctx, ref, now)).find((p) => p.kind === 'mayor');
    if (!mayor)
      throw new AppError(
        'CIRCUIT_VISTIPLAU_NOT_MAYOR',
        'A vistiplau is signed by the acting mayor/president',
      );
  }
  return { userId: ref, positionId: null, label: (await userName(tx, ref)) ?? ref };
}

function fieldNameOf(step: number, mode: 'all' | 'any', signer: number): string {
  return mode === 'any' ? `Lligall_sig_${step}` : `Lligall_sig_${step}_${signer}`;
}

function assertStepsShape(steps: StepInput[]): void {
  if (steps.length === 0 || steps.length > MAX_STEPS)
    throw new AppError('VALIDATION_FAILED', `A circuit has 1 to ${MAX_STEPS} steps`);
  let signatures = 0;
  for (const [i, s] of steps.entries()) {
    if (s.signers.length === 0 || s.signers.length > 20)
      throw new AppError('VALIDATION_FAILED', `Step ${i + 1} needs 1 to 20 signers`);
    const keys = s.signers.map((r) => (typeof r === 'string' ? `u:${r}` : `p:${r.positionId}`));
    if (new Set(keys).size !== keys.length)
      throw new AppError('VALIDATION_FAILED', `Step ${i + 1} names a signer twice`);
    if (s.kind !== 'review') signatures += s.mode === 'any' ? 1 : s.signers.length;
  }
  if (signatures > MAX_SIGNATURES)
    throw new AppError('VALIDATION_FAILED', `A circuit carries at most ${MAX_SIGNATURES} signatures`);
}

export type CircuitPlan = {
  expedientId: string;
  baseSha256: string;
  /** PAdES: `slots` are prepared on the PDF; CAdES/XAdES: nothing is prepared (no slots). */
  format: CircuitFormat;
  slots: PlannedSlot[];
  steps: (StepInput & { resolved: ResolvedSigner[] })[];
};

/**
 * First part of starting a circuit: everything that could refuse it, and the stamp areas to
 * prepare (one per signature to come; a review step adds none). The PDF is prepared after this
 * transaction, outside any.
 */
export async function planCircuit(
  tx: Tx,
  ctx: Ctx,
  documentId: string,
  steps: StepInput[],
  resolution: ResolutionRequest | null = null,
  hooks: CircuitHooks = {},
): Promise<CircuitPlan> {
  const draft = await loadDraft(tx, ctx, documentId, true);
  await loadWritableExpedient(tx, ctx, draft.expedient_id);
  if (draft.state !== 'draft')
    throw new AppError('CIRCUIT_ALREADY_EXISTS', 'This draft has had a circuit already; upload a new draft');
  const doc = await getDocumentRow(tx, ctx, documentId);
  if (!doc) throw new AppError('DOCUMENT_NOT_FOUND', 'Document not found');
  const format = formatOfMimeType(doc.mime_type);
  if (resolution && format !== 'PAdES')
    throw new AppError(
      'CIRCUIT_FORMAT_UNSUPPORTED',
      "A resolution is a PDF: its number and date are stamped onto it before the secretary's signature",
    );
  assertStepsShape(steps);
  await hooks.checkStart?.(tx, ctx, {
    documentId,
    expedientId: draft.expedient_id,
    documentType: doc.document_type,
    steps,
    resolution,
  });
  const planned: CircuitPlan['steps'] = [];
  const slots: PlannedSlot[] = [];
  for (const [i, s] of steps.entries()) {
    const resolved: ResolvedSigner[] = [];
    for (const ref of s.signers) resolved.push(await resolveSigner(tx, ctx, s.kind, ref));
    planned.push({ ...s, resolved });
    if (s.kind === 'review' || format !== 'PAdES') continue;
    if (s.mode === 'any')
      slots.push({
        fieldName: fieldNameOf(i + 1, 'any', 0),
        label: [KIND_LABEL[s.kind], resolved.map((r) => r.label).join(' / ')],
      });
    else
      for (const [j, r] of resolved.entries())
        slots.push({ fieldName: fieldNameOf(i + 1, 'all', j + 1), label: [KIND_LABEL[s.kind], r.label] });
  }
  return { expedientId: draft.expedient_id, baseSha256: doc.sha256, format, slots, steps: planned };
}

/**
 * Second part: the prepared PDF is in the blob store (for CAdES/XAdES circuits `prepared` is the
 * draft itself: nothing is prepared); the circuit starts at its first step.
 */
export async function startCircuit(
  tx: Tx,
  ctx: Ctx,
  documentId: string,
  steps: StepInput[],
  prepared: { baseSha256: string; sha256: string; size: number },
  resolution: ResolutionRequest | null = null,
  hooks: CircuitHooks = {},
): Promise<CircuitView> {
  const me = actorId(ctx);
  const plan = await planCircuit(tx, ctx, documentId, steps, resolution, hooks);
  if (plan.baseSha256 !== prepared.baseSha256)
    throw new AppError('CONFLICT', 'The draft changed while the circuit was being prepared: try again');
  const id = newId();
  const now = ctx.clock.now();
  await tx
    .insertInto('signature_circuits')
    .values({
      tenant_id: ctx.tenant.id,
      id,
      document_id: documentId,
      state: 'active',
      current_step: 1,
      format: plan.format,
      created_by: me,
      created_at: now,
      finished_at: null,
      finished_by: null,
      finish_reason: null,
    })
    .execute();
  for (const [i, s] of plan.steps.entries()) {
    await tx
      .insertInto('circuit_steps')
      .values({ tenant_id: ctx.tenant.id, circuit_id: id, step_no: i + 1, kind: s.kind, mode: s.mode })
      .execute();
    for (const [j, r] of s.resolved.entries())
      await tx
        .insertInto('circuit_signers')
        .values({
          tenant_id: ctx.tenant.id,
          circuit_id: id,
          step_no: i + 1,
          signer_no: j + 1,
          user_id: r.userId,
          position_id: r.positionId,
          field_name:
            s.kind === 'review' || plan.format !== 'PAdES' ? null : fieldNameOf(i + 1, s.mode, j + 1),
          action: null,
          acted_by: null,
          acted_at: null,
          by_substitution: null,
          position_title: null,
          reason: null,
          version: null,
        })
        .execute();
  }
  const version = plan.format === 'PAdES' ? await addVersion(tx, ctx, documentId, prepared, 'prepare') : null;
  const doc = await getDocumentRow(tx, ctx, documentId);
  await hooks.onStart?.(tx, ctx, {
    circuitId: id,
    documentId,
    expedientId: plan.expedientId,
    documentType: doc?.document_type ?? '',
    steps,
    resolution,
  });
  await tx
    .updateTable('document_drafts')
    .set({ state: 'in_circuit' })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('document_id', '=', documentId)
    .execute();
  await auditBoth(tx, ctx, plan.expedientId, documentId, 'signature.circuit_start', {
    circuitId: id,
    format: plan.format,
    version,
    sha256: prepared.sha256,
    steps: plan.steps.map((s) => ({
      kind: s.kind,
      mode: s.mode,
      signers: s.resolved.map((r) => (r.userId ? { userId: r.userId } : { positionId: r.positionId })),
    })),
  });
  await refreshInbox(tx, ctx, id);
  return circuitView(tx, ctx, documentId);
}

type CircuitRow = {
  id: string;
  document_id: string;
  state: 'active' | 'completed' | 'rejected' | 'cancelled';
  current_step: number;
  format: CircuitFormat;
  created_by: string;
};

export async function loadCircuit(tx: Tx, ctx: Ctx, documentId: string, lock = false): Promise<CircuitRow> {
  let q = tx
    .selectFrom('signature_circuits')
    .select(['id', 'document_id', 'state', 'current_step', 'format', 'created_by'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('document_id', '=', documentId);
  if (lock) q = q.forUpdate();
  const c = await q.executeTakeFirst();
  if (!c) throw new AppError('NOT_FOUND', 'This document has no signature circuit');
  return c;
}

async function stepOf(tx: Tx, ctx: Ctx, circuitId: string, stepNo: number) {
  const step = await tx
    .selectFrom('circuit_steps')
    .select(['step_no', 'kind', 'mode'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('circuit_id', '=', circuitId)
    .where('step_no', '=', stepNo)
    .executeTakeFirst();
  if (!step) throw new AppError('INTERNAL', `Step ${stepNo} of circuit ${circuitId} is missing`);
  const signers = await tx
    .selectFrom('circuit_signers')
    .selectAll()
    .where('tenant_id', '=', ctx.tenant.id)
    .where('circuit_id', '=', circuitId)
    .where('step_no', '=', stepNo)
    .orderBy('signer_no')
    .execute();
  return { ...step, signers };
}

/** Who may act for a signer entry now: the user, or the position's acting holder. */
async function whoActs(tx: Tx, ctx: Ctx, s: { user_id: string | null; position_id: string | null }) {
  const now = ctx.clock.now();
  if (s.user_id) return { userId: s.user_id, bySubstitution: false };
  try {
    return await actingHolder(tx, ctx, s.position_id!, now);
  } catch (e) {
    if (e instanceof AppError && (e.code === 'POSITION_VACANT' || e.code === 'POSITION_NO_SUBSTITUTE'))
      return null;
    throw e;
  }
}

/**
 * Keeps the platform inbox equal to the pending signers of the circuit's current step. A signer
 * still pending on the same step keeps when their act became due and the reminders they had.
 */
async function refreshInbox(tx: Tx, ctx: Ctx, circuitId: string): Promise<void> {
  const before = await tx
    .deleteFrom('signature_inbox')
    .where('tenant_id', '=', ctx.tenant.id)
    .where('circuit_id', '=', circuitId)
    .returning(['user_id', 'step_no', 'since', 'reminded_at', 'reminders'])
    .execute();
  const kept = new Map(before.map((r) => [`${r.user_id}/${r.step_no}`, r]));
  const c = await tx
    .selectFrom('signature_circuits as c')
    .innerJoin('documents as d', (j) =>
      j.onRef('d.tenant_id', '=', 'c.tenant_id').onRef('d.id', '=', 'c.document_id'),
    )
    .select(['c.id', 'c.state', 'c.current_step', 'c.document_id', 'd.title'])
    .where('c.tenant_id', '=', ctx.tenant.id)
    .where('c.id', '=', circuitId)
    .executeTakeFirstOrThrow();
  if (c.state !== 'active') return;
  const step = await stepOf(tx, ctx, circuitId, c.current_step);
  const users = new Set<string>();
  for (const s of step.signers) {
    if (s.action) continue;
    const who = await whoActs(tx, ctx, s);
    if (who) users.add(who.userId);
  }
  const now = ctx.clock.now();
  for (const userId of users) {
    const was = kept.get(`${userId}/${c.current_step}`);
    await tx
      .insertInto('signature_inbox')
      .values({
        user_id: userId,
        tenant_id: ctx.tenant.id,
        document_id: c.document_id,
        circuit_id: c.id,
        step_no: c.current_step,
        step_kind: step.kind,
        title: c.title,
        since: was?.since ?? now,
        reminded_at: was?.reminded_at ?? null,
        reminders: was?.reminders ?? 0,
      })
      .execute();
  }
}

/** The caller's turn: the circuit, its current step and the signer entry the caller acts for. */
export type Turn = {
  circuitId: string;
  expedientId: string;
  documentId: string;
  documentTitle: string;
  stepNo: number;
  kind: StepKind;
  signerNo: number;
  /** PAdES: the signature field to sign; null in CAdES/XAdES circuits. */
  fieldName: string | null;
  format: CircuitFormat;
  /** The draft's current content: what this act signs. */
  baseSha256: string;
  fileName: string;
  mimeType: string;
  signerName: string;
  /** The position printed with the signature, if the signer acts for one. */
  positionTitle: string | null;
  bySubstitution: boolean;
};

async function findTurn(tx: Tx, ctx: Ctx, documentId: string, lock: boolean): Promise<Turn> {
  const me = actorId(ctx);
  const draft = await loadDraft(tx, ctx, documentId, lock);
  const c = await loadCircuit(tx, ctx, documentId, lock);
  if (c.state !== 'active')
    throw new AppError('CIRCUIT_NOT_ACTIVE', `The circuit is ${c.state}: nobody signs it any more`);
  const step = await stepOf(tx, ctx, c.id, c.current_step);
  const now = ctx.clock.now();
  for (const s of step.signers) {
    if (s.action) continue;
    const who = await whoActs(tx, ctx, s);
    if (!who || who.userId !== me) continue;
    let positionTitle: string | null = null;
    let bySubstitution = who.bySubstitution;
    if (s.position_id) positionTitle = (await positionOf(tx, ctx, s.position_id)).title;
    else {
      const mine = await positionsOfUser(tx, ctx, me, now);
      const p = step.kind === 'vistiplau' ? mine.find((m) => m.kind === 'mayor') : mine[0];
      if (p) {
        positionTitle = p.title;
        bySubstitution = p.bySubstitution;
      }
    }
    const doc = await getDocumentRow(tx, ctx, documentId);
    if (!doc) throw new AppError('DOCUMENT_NOT_FOUND', 'Document not found');
    return {
      circuitId: c.id,
      expedientId: draft.expedient_id,
      documentId,
      documentTitle: doc.title,
      stepNo: step.step_no,
      kind: step.kind,
      signerNo: s.signer_no,
      fieldName: s.field_name,
      format: c.format,
      baseSha256: doc.sha256,
      fileName: doc.file_name,
      mimeType: doc.mime_type,
      signerName: (await userName(tx, me)) ?? ctx.actor.label,
      positionTitle,
      bySubstitution,
    };
  }
  throw new AppError('SIGNATURE_NOT_YOUR_TURN', 'It is not your turn to act on this document');
}

/** First part of `POST …/sign` on a sign or vistiplau step: the caller's turn (else 409). */
export async function planSignature(
  tx: Tx,
  ctx: Ctx,
  documentId: string,
  hooks: CircuitHooks = {},
): Promise<Turn> {
  const turn = await findTurn(tx, ctx, documentId, false);
  await hooks.assertSignable?.(tx, ctx, turn);
  return turn;
}

/**
 * A revision added to a draft in circuit by another module's after-commit work (the decree's
 * number and date stamped before the secretary signs): recorded only if the content is still
 * `baseSha256`; returns the version, or null when the draft moved on (the caller re-reads).
 */
export async function addStampRevision(
  tx: Tx,
  ctx: Ctx,
  documentId: string,
  baseSha256: string,
  content: { sha256: string; size: number },
  createdBy: string,
): Promise<number | null> {
  const draft = await loadDraft(tx, ctx, documentId, true);
  const doc = await getDocumentRow(tx, ctx, documentId);
  if (draft.state !== 'in_circuit' || !doc || doc.sha256 !== baseSha256) return null;
  const version = await nextVersion(tx, ctx, documentId);
  const now = ctx.clock.now();
  await tx
    .insertInto('document_versions')
    .values({
      tenant_id: ctx.tenant.id,
      document_id: documentId,
      version,
      sha256: content.sha256,
      size_bytes: content.size,
      kind: 'stamp',
      created_by: createdBy,
      created_at: now,
    })
    .execute();
  await tx
    .updateTable('documents')
    .set({ sha256: content.sha256, size_bytes: content.size })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', documentId)
    .where('incorporated_at', 'is', null)
    .execute();
  await tx
    .updateTable('document_drafts')
    .set({ updated_at: now })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('document_id', '=', documentId)
    .execute();
  await auditBoth(tx, ctx, draft.expedient_id, documentId, 'document.stamp', {
    version,
    sha256: content.sha256,
  });
  return version;
}

/** The /Reason of the signature: "<act> — <position>" (the verification route reads the position after the last " — "). */
export function reasonOf(turn: Turn): string {
  const act = KIND_LABEL[turn.kind];
  if (!turn.positionTitle) return act;
  return `${act} — ${turn.positionTitle}${turn.bySubstitution ? ' (per substitució)' : ''}`;
}

/** Audits a refused confirmation (wrong TOTP or password) or a refused upload on the document and the case file. */
export async function recordRefusal(
  tx: Tx,
  ctx: Ctx,
  documentId: string,
  code: string,
  details: AuditDetails = {},
): Promise<void> {
  const draft = await loadDraft(tx, ctx, documentId);
  await auditBoth(tx, ctx, draft.expedient_id, documentId, 'signature.refused', { reason: code, ...details });
}

/**
 * The signature an act adds (its file already in the blob store): in a PAdES circuit the new
 * version of the PDF (the revision with the signature), in a CAdES/XAdES circuit the detached
 * signature file. `method` defaults to `csc`.
 */
export type ActSignature = {
  sha256: string;
  size: number;
  method?: SigningMethod;
  /** For an uploaded signature: the certificate it was verified with, kept in the audit trail. */
  certificate?: { subject: string; issuer: string; fingerprintSha256: string; nif: string | null };
};

/** The name a detached signature file gets: the document's name plus `.p7s` or `.xsig`. */
export function detachedFileName(turn: Pick<Turn, 'fileName' | 'format'>): string {
  return `${turn.fileName}.${turn.format === 'XAdES' ? 'xsig' : 'p7s'}`;
}

/**
 * Last part of `POST …/sign`: records the act of the signer whose turn it still is, the new
 * version (a PAdES revision) or detached signature, or, for a review step, the conformity; then
 * advances the circuit.
 */
export async function recordAct(
  tx: Tx,
  ctx: Ctx,
  documentId: string,
  planned: Turn,
  content: ActSignature | null,
  hooks: CircuitHooks = {},
): Promise<CircuitView> {
  const turn = await findTurn(tx, ctx, documentId, true);
  await hooks.assertSignable?.(tx, ctx, turn);
  if (
    turn.circuitId !== planned.circuitId ||
    turn.stepNo !== planned.stepNo ||
    turn.signerNo !== planned.signerNo ||
    turn.baseSha256 !== planned.baseSha256
  )
    throw new AppError('CONFLICT', 'The circuit moved while you were signing: try again');
  if ((turn.kind === 'review') !== (content === null))
    throw new AppError('INTERNAL', 'A signature act needs its signature; a review adds none');
  const now = ctx.clock.now();
  const method = content ? (content.method ?? 'csc') : null;
  const version =
    content && turn.format === 'PAdES' ? await addVersion(tx, ctx, documentId, content, 'signature') : null;
  const action = turn.kind === 'review' ? 'reviewed' : 'signed';
  await tx
    .updateTable('circuit_signers')
    .set({
      action,
      acted_by: actorId(ctx),
      acted_at: now,
      by_substitution: turn.bySubstitution,
      position_title: turn.positionTitle,
      version,
      method,
    })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('circuit_id', '=', turn.circuitId)
    .where('step_no', '=', turn.stepNo)
    .where('signer_no', '=', turn.signerNo)
    .where('action', 'is', null)
    .execute();
  let signatureId: string | null = null;
  if (content && turn.format !== 'PAdES') {
    signatureId = newId();
    await tx
      .insertInto('document_signatures')
      .values({
        tenant_id: ctx.tenant.id,
        id: signatureId,
        document_id: documentId,
        circuit_id: turn.circuitId,
        step_no: turn.stepNo,
        signer_no: turn.signerNo,
        format: turn.format,
        method: method ?? 'csc',
        sha256: content.sha256,
        size_bytes: content.size,
        content_sha256: turn.baseSha256,
        file_name: detachedFileName(turn),
        position_title: turn.positionTitle,
        by_substitution: turn.bySubstitution,
        signed_by: actorId(ctx),
        created_at: now,
      })
      .execute();
  }
  await hooks.onSigned?.(tx, ctx, turn);
  await auditBoth(
    tx,
    ctx,
    turn.expedientId,
    documentId,
    turn.kind === 'review' ? 'signature.review' : 'signature.sign',
    {
      circuitId: turn.circuitId,
      step: turn.stepNo,
      kind: turn.kind,
      position: turn.positionTitle,
      bySubstitution: turn.bySubstitution,
      ...(content
        ? {
            format: turn.format,
            method,
            sha256: content.sha256,
            ...(content.certificate ? { certificate: content.certificate } : {}),
            ...(signatureId ? { signatureId } : { version, field: turn.fieldName }),
          }
        : {}),
    },
  );
  await advance(tx, ctx, turn);
  return circuitView(tx, ctx, documentId);
}

async function advance(tx: Tx, ctx: Ctx, turn: Turn): Promise<void> {
  const step = await stepOf(tx, ctx, turn.circuitId, turn.stepNo);
  const done = step.mode === 'any' || step.signers.every((s) => s.action !== null);
  if (!done) return refreshInbox(tx, ctx, turn.circuitId);
  const next = await tx
    .selectFrom('circuit_steps')
    .select('step_no')
    .where('tenant_id', '=', ctx.tenant.id)
    .where('circuit_id', '=', turn.circuitId)
    .where('step_no', '=', turn.stepNo + 1)
    .executeTakeFirst();
  if (next) {
    await tx
      .updateTable('signature_circuits')
      .set({ current_step: next.step_no })
      .where('tenant_id', '=', ctx.tenant.id)
      .where('id', '=', turn.circuitId)
      .execute();
    return refreshInbox(tx, ctx, turn.circuitId);
  }
  const now = ctx.clock.now();
  await tx
    .updateTable('signature_circuits')
    .set({ state: 'completed', finished_at: now, finished_by: actorId(ctx) })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', turn.circuitId)
    .execute();
  await tx
    .updateTable('document_drafts')
    .set({ state: 'final', updated_at: now })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('document_id', '=', turn.documentId)
    .execute();
  await refreshInbox(tx, ctx, turn.circuitId);
  await auditBoth(tx, ctx, turn.expedientId, turn.documentId, 'signature.circuit_complete', {
    circuitId: turn.circuitId,
  });
  // The last act completes the document: it joins the case file's index and is immutable from now on.
  await incorporateExistingDocument(tx, ctx, turn.expedientId, turn.documentId);
}

/** `POST …/sign` on a review step: a conformity confirmed with a fresh second factor, no signature added. */
export async function checkConfirmation(
  tx: Tx,
  ctx: Ctx,
  input: { totp?: string | undefined; password?: string | undefined },
  allowPassword: boolean,
) {
  return checkSecondFactor(tx, actorId(ctx), input, ctx.clock.now(), { allowPassword });
}

async function stop(
  tx: Tx,
  ctx: Ctx,
  documentId: string,
  state: 'rejected' | 'cancelled',
  reason: string | null,
  turn: Turn | null,
): Promise<CircuitView> {
  const draft = await loadDraft(tx, ctx, documentId, true);
  const c = await loadCircuit(tx, ctx, documentId, true);
  const now = ctx.clock.now();
  if (turn)
    await tx
      .updateTable('circuit_signers')
      .set({
        action: 'rejected',
        acted_by: actorId(ctx),
        acted_at: now,
        reason,
        by_substitution: turn.bySubstitution,
        position_title: turn.positionTitle,
      })
      .where('tenant_id', '=', ctx.tenant.id)
      .where('circuit_id', '=', c.id)
      .where('step_no', '=', turn.stepNo)
      .where('signer_no', '=', turn.signerNo)
      .execute();
  await tx
    .updateTable('signature_circuits')
    .set({ state, finished_at: now, finished_by: actorId(ctx), finish_reason: reason })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', c.id)
    .execute();
  await tx
    .updateTable('document_drafts')
    .set({ state, updated_at: now })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('document_id', '=', documentId)
    .execute();
  await refreshInbox(tx, ctx, c.id);
  await auditBoth(
    tx,
    ctx,
    draft.expedient_id,
    documentId,
    state === 'rejected' ? 'signature.reject' : 'signature.circuit_cancel',
    {
      circuitId: c.id,
      step: c.current_step,
      reason,
      ...(turn ? { position: turn.positionTitle, bySubstitution: turn.bySubstitution } : {}),
    },
  );
  return circuitView(tx, ctx, documentId);
}

/** `POST …/reject`: a signer whose turn it is stops the circuit, with a reason. */
export async function rejectCircuit(
  tx: Tx,
  ctx: Ctx,
  documentId: string,
  reason: string,
): Promise<CircuitView> {
  const text = reason.trim();
  if (text.length === 0 || text.length > 2000)
    throw new AppError('VALIDATION_FAILED', 'reason must have 1 to 2000 characters');
  const turn = await findTurn(tx, ctx, documentId, true);
  return stop(tx, ctx, documentId, 'rejected', text, turn);
}

/** `POST …/circuit/cancel`: only the circuit's creator, while it is active. */
export async function cancelCircuit(
  tx: Tx,
  ctx: Ctx,
  documentId: string,
  reason: string | null,
): Promise<CircuitView> {
  const draft = await loadDraft(tx, ctx, documentId, true);
  await assertCanSeeDraft(tx, ctx, draft);
  const c = await loadCircuit(tx, ctx, documentId, true);
  if (c.created_by !== actorId(ctx))
    throw new AppError('FORBIDDEN', 'Only the creator of the circuit cancels it');
  if (c.state !== 'active') throw new AppError('CIRCUIT_NOT_ACTIVE', `The circuit is ${c.state}`);
  return stop(tx, ctx, documentId, 'cancelled', reason?.trim() || null, null);
}

export type CircuitView = {
  id: string;
  documentId: string;
  expedientId: string;
  state: CircuitRow['state'];
  documentState: DraftView['state'];
  currentStep: number;
  createdBy: string;
  createdAt: string;
  finishedAt: string | null;
  finishReason: string | null;
  /** PAdES (signatures inside the PDF) or CAdES/XAdES (detached signature files). */
  format: CircuitFormat;
  sha256: string;
  steps: {
    step: number;
    kind: StepKind;
    mode: 'all' | 'any';
    signers: {
      userId: string | null;
      positionId: string | null;
      action: 'signed' | 'reviewed' | 'rejected' | null;
      actedBy: string | null;
      actedAt: string | null;
      position: string | null;
      bySubstitution: boolean | null;
      reason: string | null;
      version: number | null;
      method: SigningMethod | null;
    }[];
  }[];
};

export async function circuitView(tx: Tx, ctx: Ctx, documentId: string): Promise<CircuitView> {
  const draft = await loadDraft(tx, ctx, documentId);
  await assertCanSeeDraft(tx, ctx, draft);
  const c = await tx
    .selectFrom('signature_circuits')
    .selectAll()
    .where('tenant_id', '=', ctx.tenant.id)
    .where('document_id', '=', documentId)
    .executeTakeFirst();
  if (!c) throw new AppError('NOT_FOUND', 'This document has no signature circuit');
  const doc = await getDocumentRow(tx, ctx, documentId);
  const steps = await tx
    .selectFrom('circuit_steps')
    .selectAll()
    .where('tenant_id', '=', ctx.tenant.id)
    .where('circuit_id', '=', c.id)
    .orderBy('step_no')
    .execute();
  const signers = await tx
    .selectFrom('circuit_signers')
    .selectAll()
    .where('tenant_id', '=', ctx.tenant.id)
    .where('circuit_id', '=', c.id)
    .orderBy('step_no')
    .orderBy('signer_no')
    .execute();
  const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
  return {
    id: c.id,
    documentId,
    expedientId: draft.expedient_id,
    state: c.state,
    documentState: draft.state,
    currentStep: c.current_step,
    createdBy: c.created_by,
    createdAt: new Date(c.created_at).toISOString(),
    finishedAt: iso(c.finished_at),
    finishReason: c.finish_reason,
    format: c.format,
    sha256: doc?.sha256 ?? '',
    steps: steps.map((s) => ({
      step: s.step_no,
      kind: s.kind,
      mode: s.mode,
      signers: signers
        .filter((x) => x.step_no === s.step_no)
        .map((x) => ({
          userId: x.user_id,
          positionId: x.position_id,
          action: x.action,
          actedBy: x.acted_by,
          actedAt: iso(x.acted_at),
          position: x.position_title,
          bySubstitution: x.by_substitution,
          reason: x.reason,
          version: x.version,
          method: x.method,
        })),
    })),
  };
}

export type InboxItem = {
  entity: { id: string; slug: string; name: string };
  documentId: string;
  circuitId: string;
  step: number;
  kind: string;
  title: string;
  since: string;
  /** The last reminder of this pending act (by the circuit's creator, or automatic), and how many. */
  remindedAt: string | null;
  reminders: number;
};

/** The caller's pending signatures across entities (platform transaction; only entities they still belong to). */
export async function pendingSignatures(tx: Tx, userId: string): Promise<InboxItem[]> {
  const rows = await tx
    .selectFrom('signature_inbox as i')
    .innerJoin('tenants as t', 't.id', 'i.tenant_id')
    .innerJoin('memberships as m', (j) =>
      j.onRef('m.tenant_id', '=', 'i.tenant_id').onRef('m.user_id', '=', 'i.user_id'),
    )
    .select([
      'i.tenant_id',
      't.slug',
      't.name',
      'i.document_id',
      'i.circuit_id',
      'i.step_no',
      'i.step_kind',
      'i.title',
      'i.since',
      'i.reminded_at',
      'i.reminders',
    ])
    .where('i.user_id', '=', userId)
    .where('t.status', '!=', 'suspended')
    .orderBy('i.since')
    .execute();
  return rows.map((r) => ({
    entity: { id: r.tenant_id, slug: r.slug, name: r.name },
    documentId: r.document_id,
    circuitId: r.circuit_id,
    step: r.step_no,
    kind: r.step_kind,
    title: r.title,
    since: new Date(r.since).toISOString(),
    remindedAt: r.reminded_at ? new Date(r.reminded_at).toISOString() : null,
    reminders: r.reminders,
  }));
}

export type DetachedSignatureView = {
  id: string;
  format: 'CAdES' | 'XAdES';
  method: SigningMethod;
  fileName: string;
  sha256: string;
  size: number;
  /** SHA-256 of the document bytes the signature covers. */
  contentSha256: string;
  step: number;
  signedBy: string;
  position: string | null;
  bySubstitution: boolean;
  createdAt: string;
};

/** The detached signatures of a document (CAdES/XAdES circuits), oldest first, for a caller who may see it. */
export async function listDetachedSignatures(
  tx: Tx,
  ctx: Ctx,
  documentId: string,
): Promise<DetachedSignatureView[]> {
  const draft = await loadDraft(tx, ctx, documentId);
  await assertCanSeeDraft(tx, ctx, draft);
  const rows = await tx
    .selectFrom('document_signatures')
    .selectAll()
    .where('tenant_id', '=', ctx.tenant.id)
    .where('document_id', '=', documentId)
    .orderBy('created_at')
    .orderBy('step_no')
    .orderBy('signer_no')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    format: r.format,
    method: r.method,
    fileName: r.file_name,
    sha256: r.sha256,
    size: Number(r.size_bytes),
    contentSha256: r.content_sha256,
    step: r.step_no,
    signedBy: r.signed_by,
    position: r.position_title,
    bySubstitution: r.by_substitution,
    createdAt: new Date(r.created_at).toISOString(),
  }));
}
