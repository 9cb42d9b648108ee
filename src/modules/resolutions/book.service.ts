import { createHash } from 'node:crypto';
import type { Ctx } from '#platform/context.ts';
import { madridYear } from '#platform/db/counters.ts';
import type { Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { formatCsv } from '#modules/csv/csv.ts';
import { registerCsv } from '#modules/csv/csv.service.ts';
import { getDocumentRow, insertDocument } from '#modules/documents/documents.service.ts';
import { createExpedient } from '#modules/expedients/expedients.service.ts';
import { positionsOfUser } from '#modules/positions/positions.service.ts';
import { type ActiveSeal, getActiveSeal, type KeyConfig } from '#modules/seals/seals.service.ts';
import {
  type CircuitView,
  createDraft,
  draftView,
  type PlannedSlot,
  planCircuit,
  type StepInput,
  startCircuit,
  type Turn,
} from '#modules/signatures/circuits.service.ts';
import type { BookIndexEntry, DiligenceFacts } from './book.pdf.ts';
import { canManageBook, canReadBook } from './resolutions.policy.ts';

/**
 * The yearly book's diligences and its sealed compilation (ROF art. 198–200; README.md here).
 *
 * Diligences. `POST …/resolutions/book/{year}/opening|closing` renders the diligence (TD12),
 * records it as a draft in the book's case file and starts a circuit with one `sign` step whose
 * signer is the secretary position (signed by its acting holder, "per substitució" when a
 * substitute acts), through the ordinary signature circuits: the secretary signs it from the
 * inbox. The circuit hook (`markDiligenceSigned`) records the signature in the same transaction.
 * A rejected or cancelled diligence may be requested again.
 *
 * Decisions:
 * - Numbering never waits for the opening diligence: the mayor's signature must not fail for the
 *   book's paperwork, and the decree's date is its deciding signature's (LBRL art. 56; ROF art.
 *   196–200 make the book a register of what was decided). The opening diligence states that the
 *   book starts at YYYY/000001, whether or not decrees were numbered before it was signed.
 * - Closing is refused until the Europe/Madrid year has ended (no number of that year can be
 *   taken after it), until the opening diligence is signed, and while a numbered decree of the
 *   year waits for the secretary's transcription (409 with the numbers). A numbered decree whose
 *   transcription was rejected or cancelled keeps its number and is named in the closing diligence.
 */

/** Who transcribes and attests: the secretary (RD 128/2018 art. 3.2.e). */
export const SECRETARY_KINDS = ['secretary', 'secretary_intervenor'] as const;

export type DiligenceKind = 'opening' | 'closing';

export function assertYear(year: number): void {
  if (!Number.isInteger(year) || year < 1900 || year > 9999)
    throw new AppError('VALIDATION_FAILED', 'year is a four-digit year');
}

/** The entity's secretary position (the oldest if several), or 422. */
async function secretaryPosition(tx: Tx, ctx: Ctx) {
  const p = await tx
    .selectFrom('positions')
    .select(['id', 'title', 'kind'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('kind', 'in', [...SECRETARY_KINDS])
    .orderBy('created_at')
    .executeTakeFirst();
  if (!p)
    throw new AppError(
      'RESOLUTION_BOOK_NO_SECRETARY',
      'The entity has no secretary (or secretary-intervenor) position to sign the diligence',
    );
  return p;
}

/** Whether the caller acts today as the entity's secretary (holder or substitute). */
async function actsAsSecretary(tx: Tx, ctx: Ctx): Promise<boolean> {
  if (!ctx.actor.id) return false;
  const mine = await positionsOfUser(tx, ctx, ctx.actor.id, ctx.clock.now());
  return mine.some((p) => (SECRETARY_KINDS as readonly string[]).includes(p.kind));
}

export async function assertManageBook(tx: Tx, ctx: Ctx): Promise<void> {
  if (!canManageBook(ctx, await actsAsSecretary(tx, ctx)))
    throw new AppError(
      'FORBIDDEN',
      "Only an administrator or the entity's secretary manages the book of resolutions",
    );
}

export function assertReadBook(ctx: Ctx): void {
  if (!canReadBook(ctx)) throw new AppError('FORBIDDEN', 'You may not read the book of resolutions');
}

async function liveDiligence(tx: Tx, ctx: Ctx, year: number, kind: DiligenceKind, lock = false) {
  let q = tx
    .selectFrom('resolution_diligences')
    .selectAll()
    .where('tenant_id', '=', ctx.tenant.id)
    .where('year', '=', year)
    .where('kind', '=', kind)
    .where('stopped_at', 'is', null);
  if (lock) q = q.forUpdate();
  return q.executeTakeFirst();
}

type DiligenceRow = NonNullable<Awaited<ReturnType<typeof liveDiligence>>>;

export type DiligenceView = {
  kind: DiligenceKind;
  year: number;
  state: 'draft' | 'pending' | 'signed' | 'rejected' | 'cancelled';
  documentId: string;
  expedientId: string;
  requestedAt: string;
  signedAt: string | null;
  signerPosition: string | null;
  bySubstitution: boolean | null;
  firstNumber: string | null;
  lastNumber: string | null;
  decreeCount: number | null;
};

async function diligenceView(tx: Tx, ctx: Ctx, r: DiligenceRow): Promise<DiligenceView> {
  let state: DiligenceView['state'] = 'signed';
  if (!r.signed_at) {
    const d = await draftView(tx, ctx, r.document_id);
    state =
      d.state === 'in_circuit' || d.state === 'final' ? 'pending' : d.state === 'draft' ? 'draft' : d.state;
  }
  return {
    kind: r.kind,
    year: r.year,
    state,
    documentId: r.document_id,
    expedientId: r.expedient_id,
    requestedAt: new Date(r.requested_at).toISOString(),
    signedAt: r.signed_at ? new Date(r.signed_at).toISOString() : null,
    signerPosition: r.signer_position,
    bySubstitution: r.by_substitution,
    firstNumber: r.first_number,
    lastNumber: r.last_number,
    decreeCount: r.decree_count,
  };
}

type NumberedRow = {
  document_id: string;
  number: string;
  decided_at: Date;
  transcribed_at: Date | null;
};

async function numberedOfYear(tx: Tx, ctx: Ctx, year: number): Promise<NumberedRow[]> {
  const rows = await tx
    .selectFrom('resolutions')
    .select(['document_id', 'number', 'decided_at', 'transcribed_at'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('year', '=', year)
    .where('number', 'is not', null)
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({
    document_id: r.document_id,
    number: r.number!,
    decided_at: new Date(r.decided_at!),
    transcribed_at: r.transcribed_at ? new Date(r.transcribed_at) : null,
  }));
}

/** Transcribed, waiting for the secretary (circuit active), or never to be (circuit stopped). */
async function transcriptionState(tx: Tx, ctx: Ctx, r: NumberedRow): Promise<BookIndexEntry['state']> {
  if (r.transcribed_at) return 'transcribed';
  const d = await draftView(tx, ctx, r.document_id);
  if (d.state === 'final') return 'transcribed';
  return d.state === 'in_circuit' ? 'pending' : 'not_transcribed';
}

export type DiligencePlan =
  | { resume: string }
  | {
      facts: DiligenceFacts;
      positionId: string;
      expedientId: string | null;
      replaces: string | null;
    };

/**
 * Everything that could refuse a diligence, and what it will say. `resume` names a diligence
 * recorded earlier whose circuit never started (the process died in between): its circuit is
 * started instead of writing another.
 */
export async function planDiligence(
  tx: Tx,
  ctx: Ctx,
  year: number,
  kind: DiligenceKind,
  expedientId: string | null,
): Promise<DiligencePlan> {
  assertYear(year);
  await assertManageBook(tx, ctx);
  const now = ctx.clock.now();
  const current = madridYear(now);
  const existing = await liveDiligence(tx, ctx, year, kind, true);
  let replaces: string | null = null;
  if (existing) {
    const v = await diligenceView(tx, ctx, existing);
    if (v.state === 'signed')
      throw new AppError(
        kind === 'opening' ? 'RESOLUTION_BOOK_ALREADY_OPEN' : 'RESOLUTION_BOOK_ALREADY_CLOSED',
        `The ${kind} diligence of ${year} is signed already`,
      );
    if (v.state === 'pending')
      throw new AppError(
        'RESOLUTION_DILIGENCE_PENDING',
        `The ${kind} diligence of ${year} is waiting for the secretary's signature`,
        { documentId: existing.document_id },
      );
    if (v.state === 'draft') return { resume: existing.document_id };
    replaces = existing.id;
  }
  const secretary = await secretaryPosition(tx, ctx);
  const entity = { name: ctx.tenant.name, dir3: ctx.tenant.dir3 };
  if (kind === 'opening') {
    if (year > current + 1)
      throw new AppError(
        'VALIDATION_FAILED',
        `The book of ${year} cannot be opened yet (at most next year's)`,
      );
    return {
      facts: { kind, year, date: now, secretary: secretary.title, entity },
      positionId: secretary.id,
      expedientId,
      replaces,
    };
  }
  if (year >= current)
    throw new AppError(
      'RESOLUTION_BOOK_YEAR_NOT_ENDED',
      `The book of ${year} is closed once the year has ended (Europe/Madrid)`,
    );
  const opening = await liveDiligence(tx, ctx, year, 'opening');
  if (!opening?.signed_at)
    throw new AppError(
      'RESOLUTION_BOOK_NOT_OPEN',
      `The opening diligence of ${year} is not signed: the book is opened before it is closed`,
    );
  const rows = await numberedOfYear(tx, ctx, year);
  const pending: string[] = [];
  const notTranscribed: string[] = [];
  for (const r of rows) {
    if (r.transcribed_at) continue;
    const s = await transcriptionState(tx, ctx, r);
    if (s === 'pending') pending.push(r.number);
    if (s === 'not_transcribed') notTranscribed.push(r.number);
  }
  if (pending.length > 0)
    throw new AppError(
      'RESOLUTION_BOOK_TRANSCRIPTION_PENDING',
      `Numbered decrees of ${year} wait for the secretary's transcription: ${pending.join(', ')}`,
      { numbers: pending },
    );
  const first = rows[0];
  const last = rows.at(-1);
  return {
    facts: {
      kind,
      year,
      date: now,
      secretary: secretary.title,
      entity,
      closing: {
        count: rows.length,
        first: first ? { number: first.number, date: first.decided_at } : null,
        last: last ? { number: last.number, date: last.decided_at } : null,
        notTranscribed,
      },
    },
    positionId: secretary.id,
    expedientId: expedientId ?? opening.expedient_id,
    replaces,
  };
}

/**
 * Records the rendered diligence (its file is stored) as a TD12 draft in the book's case file —
 * the one given, else the opening's, else a new case file "Llibre de resolucions YYYY" — after the
 * plan's checks pass again. Returns the draft's id.
 */
export async function recordDiligence(
  tx: Tx,
  ctx: Ctx,
  year: number,
  kind: DiligenceKind,
  expedientId: string | null,
  planned: Exclude<DiligencePlan, { resume: string }>,
  file: { sha256: string; size: number },
): Promise<string> {
  const plan = await planDiligence(tx, ctx, year, kind, expedientId);
  if ('resume' in plan || plan.positionId !== planned.positionId || plan.replaces !== planned.replaces)
    throw new AppError('CONFLICT', 'The book changed while the diligence was being prepared: try again');
  if (plan.facts.closing && JSON.stringify(plan.facts.closing) !== JSON.stringify(planned.facts.closing))
    throw new AppError('CONFLICT', 'The book changed while the diligence was being prepared: try again');
  const now = ctx.clock.now();
  if (plan.replaces)
    await tx
      .updateTable('resolution_diligences')
      .set({ stopped_at: now })
      .where('tenant_id', '=', ctx.tenant.id)
      .where('id', '=', plan.replaces)
      .execute();
  const target =
    plan.expedientId ??
    (
      await createExpedient(tx, ctx, {
        title: `Llibre de resolucions ${year}`,
        accessLevel: 'internal',
      })
    ).id;
  const title = `${kind === 'opening' ? "Diligència d'obertura" : 'Diligència de tancament'} del llibre de resolucions ${year}`;
  const draft = await createDraft(tx, ctx, target, {
    title,
    fileName: `diligencia-${kind === 'opening' ? 'obertura' : 'tancament'}-${year}.pdf`,
    mimeType: 'application/pdf',
    sha256: file.sha256,
    size: file.size,
    documentType: 'TD12',
    elaborationState: 'EE01',
    origin: 'administration',
  });
  const closing = plan.facts.closing;
  await tx
    .insertInto('resolution_diligences')
    .values({
      tenant_id: ctx.tenant.id,
      id: newId(),
      year,
      kind,
      document_id: draft.id,
      expedient_id: target,
      position_id: plan.positionId,
      first_number: closing?.first?.number ?? null,
      last_number: closing?.last?.number ?? null,
      decree_count: closing ? closing.count : null,
      requested_by: ctx.actor.id!,
      requested_at: now,
      signed_at: null,
      signed_by: null,
      signer_position: null,
      by_substitution: null,
      stopped_at: null,
    })
    .execute();
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: kind === 'opening' ? 'resolution_book.opening_request' : 'resolution_book.closing_request',
    objectType: 'document',
    objectId: draft.id,
    details: {
      year,
      expedientId: target,
      positionId: plan.positionId,
      ...(closing
        ? { count: closing.count, first: closing.first?.number ?? null, last: closing.last?.number ?? null }
        : {}),
      ...(plan.replaces ? { replaces: plan.replaces } : {}),
    },
  });
  return draft.id;
}

/** The diligence's circuit: one sign step, the secretary position. */
export async function diligenceSteps(tx: Tx, ctx: Ctx, documentId: string): Promise<StepInput[]> {
  const r = await tx
    .selectFrom('resolution_diligences')
    .select('position_id')
    .where('tenant_id', '=', ctx.tenant.id)
    .where('document_id', '=', documentId)
    .executeTakeFirstOrThrow();
  return [{ kind: 'sign', mode: 'all', signers: [{ positionId: r.position_id }] }];
}

export async function planDiligenceCircuit(
  tx: Tx,
  ctx: Ctx,
  documentId: string,
): Promise<{ steps: StepInput[]; baseSha256: string; slots: PlannedSlot[]; title: string }> {
  const steps = await diligenceSteps(tx, ctx, documentId);
  const plan = await planCircuit(tx, ctx, documentId, steps);
  const doc = await getDocumentRow(tx, ctx, documentId);
  return { steps, baseSha256: plan.baseSha256, slots: plan.slots, title: doc?.title ?? '' };
}

export async function startDiligenceCircuit(
  tx: Tx,
  ctx: Ctx,
  documentId: string,
  steps: StepInput[],
  prepared: { baseSha256: string; sha256: string; size: number },
): Promise<CircuitView> {
  return startCircuit(tx, ctx, documentId, steps, prepared);
}

export async function getDiligence(tx: Tx, ctx: Ctx, year: number, kind: DiligenceKind) {
  const r = await liveDiligence(tx, ctx, year, kind);
  return r ? diligenceView(tx, ctx, r) : null;
}

/**
 * Circuit hook, in the transaction that records a signature: the secretary's signature of a
 * diligence opens or closes the book.
 */
export async function markDiligenceSigned(tx: Tx, ctx: Ctx, turn: Turn): Promise<void> {
  const r = await tx
    .updateTable('resolution_diligences')
    .set({
      signed_at: ctx.clock.now(),
      signed_by: ctx.actor.id,
      signer_position: turn.positionTitle,
      by_substitution: turn.bySubstitution,
    })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('document_id', '=', turn.documentId)
    .where('stopped_at', 'is', null)
    .where('signed_at', 'is', null)
    .returning(['year', 'kind'])
    .executeTakeFirst();
  if (!r) return;
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: r.kind === 'opening' ? 'resolution_book.open' : 'resolution_book.close',
    objectType: 'document',
    objectId: turn.documentId,
    details: { year: r.year, position: turn.positionTitle, bySubstitution: turn.bySubstitution },
  });
}

// ───────────────────────────── status ─────────────────────────────

export type BookStatus = {
  year: number;
  opening: DiligenceView | null;
  closing: DiligenceView | null;
  decrees: number;
  transcribed: number;
  pendingTranscription: string[];
  notTranscribed: string[];
  latestExport: { documentId: string; csv: string; createdAt: string; decrees: number; pages: number } | null;
};

export async function bookStatus(tx: Tx, ctx: Ctx, year: number): Promise<BookStatus> {
  assertYear(year);
  assertReadBook(ctx);
  const rows = await numberedOfYear(tx, ctx, year);
  const pending: string[] = [];
  const not: string[] = [];
  let transcribed = 0;
  for (const r of rows) {
    const s = await transcriptionState(tx, ctx, r);
    if (s === 'transcribed') transcribed++;
    else if (s === 'pending') pending.push(r.number);
    else not.push(r.number);
  }
  const latest = await latestExport(tx, ctx, year);
  return {
    year,
    opening: await getDiligence(tx, ctx, year, 'opening'),
    closing: await getDiligence(tx, ctx, year, 'closing'),
    decrees: rows.length,
    transcribed,
    pendingTranscription: pending,
    notTranscribed: not,
    latestExport: latest
      ? {
          documentId: latest.document_id,
          csv: formatCsv(latest.csv),
          createdAt: new Date(latest.created_at).toISOString(),
          decrees: latest.decree_count,
          pages: latest.page_count,
        }
      : null,
  };
}

// ───────────────────────────── sealed export ─────────────────────────────

async function latestExport(tx: Tx, ctx: Ctx, year: number) {
  return tx
    .selectFrom('resolution_book_exports')
    .selectAll()
    .where('tenant_id', '=', ctx.tenant.id)
    .where('year', '=', year)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();
}

/** What the compilation is made of: each source by its content hash (the fingerprint's input). */
export type ExportSource = {
  kind: 'opening' | 'closing' | 'decree';
  documentId: string;
  sha256: string;
  size: number;
  entry?: BookIndexEntry;
};

export type ExportPlan =
  | { existing: { documentId: string; sha256: string; csv: string } }
  | { existing: null; noSeal: true }
  | {
      existing: null;
      noSeal?: false;
      fingerprint: string;
      sources: ExportSource[];
      opening: { signedAt: Date; by: string } | null;
      closing: { signedAt: Date; by: string } | null;
      seal: ActiveSeal;
    };

/** A year's book above this many bytes of sources is refused: the compilation is built in memory. */
export const BOOK_MAX_SOURCE_BYTES = 512 * 1024 * 1024;

/**
 * What the sealed book of a year compiles, and whether the latest edition already is exactly that
 * (same sources, same states): then it is returned instead of a new one. Throws NOT_FOUND from the
 * seal module when the entity has no active seal (the route makes the demo one outside production).
 */
export async function planExport(tx: Tx, ctx: Ctx, year: number, config: KeyConfig): Promise<ExportPlan> {
  assertYear(year);
  await assertManageBook(tx, ctx);
  const rows = await tx
    .selectFrom('resolutions as r')
    .innerJoin('documents as d', (j) =>
      j.onRef('d.tenant_id', '=', 'r.tenant_id').onRef('d.id', '=', 'r.document_id'),
    )
    .innerJoin('expedients as e', (j) =>
      j.onRef('e.tenant_id', '=', 'r.tenant_id').onRef('e.id', '=', 'r.expedient_id'),
    )
    .select([
      'r.document_id',
      'r.number',
      'r.decided_at',
      'r.position_title',
      'r.by_substitution',
      'r.summary',
      'r.transcribed_at',
      'd.sha256',
      'd.size_bytes',
      'e.number as expedient_number',
    ])
    .where('r.tenant_id', '=', ctx.tenant.id)
    .where('r.year', '=', year)
    .where('r.number', 'is not', null)
    .orderBy('r.seq')
    .execute();
  const sources: ExportSource[] = [];
  const opening = await liveDiligence(tx, ctx, year, 'opening');
  const closing = await liveDiligence(tx, ctx, year, 'closing');
  const diligence = async (r: DiligenceRow | undefined, kind: 'opening' | 'closing') => {
    if (!r?.signed_at) return null;
    const d = await getDocumentRow(tx, ctx, r.document_id);
    if (!d) return null;
    return { kind, documentId: d.id, sha256: d.sha256, size: Number(d.size_bytes) };
  };
  const o = await diligence(opening, 'opening');
  if (o) sources.push(o);
  for (const r of rows) {
    const state = await transcriptionState(tx, ctx, {
      document_id: r.document_id,
      number: r.number!,
      decided_at: new Date(r.decided_at!),
      transcribed_at: r.transcribed_at ? new Date(r.transcribed_at) : null,
    });
    sources.push({
      kind: 'decree',
      documentId: r.document_id,
      sha256: r.sha256,
      size: Number(r.size_bytes),
      entry: {
        number: r.number!,
        decidedAt: new Date(r.decided_at!),
        position: r.position_title,
        bySubstitution: r.by_substitution ?? false,
        summary: r.summary,
        expedientNumber: r.expedient_number,
        state,
      },
    });
  }
  const c = await diligence(closing, 'closing');
  if (c) sources.push(c);
  const total = sources.reduce((n, s) => n + s.size, 0);
  if (total > BOOK_MAX_SOURCE_BYTES)
    throw new AppError(
      'RESOLUTION_BOOK_TOO_LARGE',
      `The book of ${year} compiles ${Math.round(total / 1048576)} MB of documents, above the ${BOOK_MAX_SOURCE_BYTES / 1048576} MB a single PDF is built from`,
    );
  const fingerprint = createHash('sha256')
    .update(
      JSON.stringify({
        year,
        sources: sources.map((s) => [s.kind, s.documentId, s.sha256, s.entry?.state ?? null]),
      }),
    )
    .digest('hex');
  const latest = await latestExport(tx, ctx, year);
  if (latest && latest.fingerprint === fingerprint) {
    const d = await getDocumentRow(tx, ctx, latest.document_id);
    if (d) return { existing: { documentId: d.id, sha256: d.sha256, csv: latest.csv } };
  }
  const seal = await getActiveSeal(tx, ctx, config).catch((e: unknown) => {
    if (e instanceof AppError && e.code === 'NOT_FOUND') return null;
    throw e;
  });
  if (!seal) return { existing: null, noSeal: true };
  const by = (r: DiligenceRow | undefined) =>
    r?.signed_at
      ? {
          signedAt: new Date(r.signed_at),
          by: `${r.signer_position ?? ''}${r.by_substitution ? ' (per substitució)' : ''}`,
        }
      : null;
  return {
    existing: null,
    fingerprint,
    sources,
    opening: by(opening),
    closing: by(closing),
    seal,
  };
}

/** Records a new sealed edition (its file is stored), unless an identical one was recorded meanwhile. */
export async function recordExport(
  tx: Tx,
  ctx: Ctx,
  year: number,
  e: {
    fingerprint: string;
    csv: string;
    sealId: string;
    file: { sha256: string; size: number };
    decrees: number;
    pages: number;
    issuedAt: Date;
  },
): Promise<{ documentId: string; sha256: string; csv: string; created: boolean }> {
  const latest = await latestExport(tx, ctx, year);
  if (latest && latest.fingerprint === e.fingerprint) {
    const d = await getDocumentRow(tx, ctx, latest.document_id);
    if (d) return { documentId: d.id, sha256: d.sha256, csv: latest.csv, created: false };
  }
  const doc = await insertDocument(tx, ctx, {
    title: `Llibre de resolucions ${year}`,
    fileName: `llibre-resolucions-${year}.pdf`,
    mimeType: 'application/pdf',
    sha256: e.file.sha256,
    size: e.file.size,
    documentType: 'TD99',
    elaborationState: 'EE01',
    origin: 'administration',
    incorporatedAt: e.issuedAt,
    year,
  });
  await registerCsv(tx, ctx, e.csv, doc.id, e.sealId);
  await tx
    .insertInto('resolution_book_exports')
    .values({
      tenant_id: ctx.tenant.id,
      id: newId(),
      year,
      document_id: doc.id,
      csv: e.csv,
      seal_id: e.sealId,
      fingerprint: e.fingerprint,
      decree_count: e.decrees,
      page_count: e.pages,
      created_by: ctx.actor.id,
      created_at: e.issuedAt,
    })
    .execute();
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'resolution_book.export',
    objectType: 'document',
    objectId: doc.id,
    details: {
      year,
      csv: e.csv,
      sha256: e.file.sha256,
      decrees: e.decrees,
      pages: e.pages,
      fingerprint: e.fingerprint,
      sealId: e.sealId,
    },
  });
  return { documentId: doc.id, sha256: e.file.sha256, csv: e.csv, created: true };
}

/** Audits a download of the sealed book. */
export async function auditBookDownload(tx: Tx, ctx: Ctx, year: number, documentId: string): Promise<void> {
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'resolution_book.download',
    objectType: 'document',
    objectId: documentId,
    details: { year },
  });
}
