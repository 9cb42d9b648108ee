import { PDFDocument } from 'pdf-lib';
import type { BlobStore } from '#platform/blobs/blob-store.ts';
import { type Clock, type Ctx, noRequest, systemActor } from '#platform/context.ts';
import { madridYear, nextNumberAt } from '#platform/db/counters.ts';
import { madridDateOf } from '#modules/calendar/civil-date.ts';
import type { Database, Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { isUuid } from '#platform/ids.ts';
import type { Jobs } from '#platform/jobs/jobs.ts';
import { appendStamp, type Rect } from '#platform/pdf/incremental.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { getDocumentRow } from '#modules/documents/documents.service.ts';
import {
  addStampRevision,
  type CircuitHooks,
  type CircuitStart,
  type SignerRef,
  type Turn,
} from '#modules/signatures/circuits.service.ts';
import { findTenantById } from '#modules/tenancy/tenancy.repository.ts';
import { markDiligenceSigned } from './book.service.ts';
import { extractsOf, queueExtracts } from './extracts.service.ts';

/**
 * The book of resolutions (ROF art. 196–200; DOMAIN "Resolutions book"). See README.md here.
 * A resolution is a TD01 PDF draft whose circuit was started with `resolution: {summary}`; its
 * deciding step (mayor/president, or a councillor/deputy mayor by delegation) and the secretary's
 * transcription step right after it are found from the positions the steps name. The decree
 * number is taken in the transaction that records the deciding signature; the number and date
 * are stamped onto the PDF after that commit (the route at once, the `resolutions.stamp` job if
 * the process died), and the secretary cannot sign until the stamp is there.
 */

export const DECREE_SERIES = 'decree';
export const STAMP_JOB = 'resolutions.stamp';
/** The request normally stamps within a second; the job then finds it done. */
export const STAMP_JOB_DELAY_SECONDS = 10;
export type StampJobData = { tenantId: string; documentId: string };

/** Who decides: the mayor/president, or a deputy mayor or councillor acting by delegation (LBRL art. 21.3, 23.4). */
const DECIDING_KINDS = ['mayor', 'deputy_mayor', 'councillor'];
/** Who transcribes (attests) it into the book: the secretary (RD 128/2018 art. 3.2.e). */
const TRANSCRIBING_KINDS = ['secretary', 'secretary_intervenor'];

/** Where the number and date go: the top of the signature page the circuit added, above the stamp areas. */
const STAMP_RECT: Rect = { x: 40, y: 752, width: 515, height: 27 };

export type ResolutionDeps = { db: Database; blobs: BlobStore; clock: Clock; jobs: Jobs };

export type BookEntry = {
  number: string;
  signedAt: string;
  title: string;
  summary: string;
  position: string | null;
  bySubstitution: boolean;
  expedientId: string;
  documentId: string;
  stamped: boolean;
  /** The extracts for the State and the Generalitat: all sent (the last sending), and the limit (LBRL art. 56.1). */
  extract: { sentAt: string | null; due: string } | null;
};

async function positionOfRef(tx: Tx, ctx: Ctx, ref: SignerRef) {
  if (typeof ref !== 'object' || !isUuid(ref.positionId)) return undefined;
  return tx
    .selectFrom('positions')
    .select(['id', 'kind', 'title'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', ref.positionId)
    .executeTakeFirst();
}

function invalid(message: string): never {
  throw new AppError('RESOLUTION_CIRCUIT_INVALID', message);
}

/** The deciding and transcription steps (1-based) of a resolution's circuit, or 422. */
async function locateSteps(tx: Tx, ctx: Ctx, start: CircuitStart) {
  if (start.documentType !== 'TD01') invalid('A resolution is a document of type TD01 (Resolución)');
  const { steps } = start;
  let deciding = 0;
  let positionId = '';
  for (const [i, s] of steps.entries()) {
    if (s.kind !== 'sign' || s.signers.length !== 1) continue;
    const p = await positionOfRef(tx, ctx, s.signers[0]!);
    if (p && DECIDING_KINDS.includes(p.kind)) {
      deciding = i + 1;
      positionId = p.id;
      break;
    }
  }
  if (!deciding)
    invalid(
      'A resolution needs a deciding step: a sign step with one signer, the mayor/president position or a deputy mayor or councillor position acting by delegation',
    );
  const t = steps[deciding];
  const tp =
    t && t.kind === 'sign' && t.signers.length === 1
      ? await positionOfRef(tx, ctx, t.signers[0]!)
      : undefined;
  if (!tp || !TRANSCRIBING_KINDS.includes(tp.kind))
    invalid(
      "The step right after the deciding one is the secretary's transcription: a sign step with the secretary position",
    );
  if (deciding + 1 !== steps.length) invalid("The secretary's transcription is the circuit's last step");
  return { deciding, transcription: deciding + 1, positionId };
}

/** Positions that decide only by delegation of the mayor (LBRL art. 21.3, 23.4): they need one in force. */
const BY_DELEGATION_KINDS = ['deputy_mayor', 'councillor'];

/**
 * Whether the deciding position may decide today: the mayor/president holds the power by law; a
 * deputy mayor or councillor only through a delegation decree in force on this day (Europe/Madrid).
 * Returns the reason it may not, or null.
 */
async function missingDelegation(tx: Tx, ctx: Ctx, positionId: string): Promise<string | null> {
  const p = await tx
    .selectFrom('positions')
    .select(['kind', 'title'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', positionId)
    .executeTakeFirst();
  if (!p || !BY_DELEGATION_KINDS.includes(p.kind)) return null;
  const today = madridDateOf(ctx.clock.now());
  const d = await tx
    .selectFrom('position_delegations')
    .select('id')
    .where('tenant_id', '=', ctx.tenant.id)
    .where('position_id', '=', positionId)
    .where('valid_from', '<=', today)
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>=', today)]))
    .executeTakeFirst();
  return d
    ? null
    : `${p.title} decides only by delegation of the mayor, and has no delegation decree in force on ${today}`;
}

async function loadResolution(tx: Tx, ctx: Ctx, documentId: string, lock = false) {
  let q = tx
    .selectFrom('resolutions')
    .selectAll()
    .where('tenant_id', '=', ctx.tenant.id)
    .where('document_id', '=', documentId);
  if (lock) q = q.forUpdate();
  return q.executeTakeFirst();
}

/** The hooks the resolutions book adds to signature circuits (wired in src/routes.ts). */
export function resolutionHooks(deps: ResolutionDeps): CircuitHooks & {
  afterSigned: (tenantId: string, documentId: string) => Promise<void>;
} {
  return {
    async checkStart(tx, ctx, start) {
      if (!start.resolution) return;
      if (!start.resolution.summary.trim()) invalid('A resolution has a summary');
      const { positionId } = await locateSteps(tx, ctx, start);
      const missing = await missingDelegation(tx, ctx, positionId);
      if (missing) invalid(missing);
    },
    async onStart(tx, ctx, start) {
      if (!start.resolution) return;
      const { deciding, transcription, positionId } = await locateSteps(tx, ctx, start);
      const doc = await getDocumentRow(tx, ctx, start.documentId);
      if (!doc) throw new AppError('DOCUMENT_NOT_FOUND', 'Document not found');
      await tx
        .insertInto('resolutions')
        .values({
          tenant_id: ctx.tenant.id,
          document_id: start.documentId,
          circuit_id: start.circuitId,
          expedient_id: start.expedientId,
          title: doc.title,
          summary: start.resolution.summary.trim(),
          deciding_step: deciding,
          transcription_step: transcription,
          created_by: ctx.actor.id!,
          created_at: ctx.clock.now(),
          year: null,
          seq: null,
          number: null,
          decided_at: null,
          decided_by: null,
          position_id: positionId,
          position_title: null,
          by_substitution: null,
          stamped_at: null,
          stamped_version: null,
        })
        .execute();
    },
    async assertSignable(tx, ctx, turn) {
      const r = await loadResolution(tx, ctx, turn.documentId);
      // A delegation revoked or ended since the circuit started: the councillor no longer decides.
      if (r?.position_id && turn.stepNo === r.deciding_step && !r.number) {
        const missing = await missingDelegation(tx, ctx, r.position_id);
        if (missing) throw new AppError('RESOLUTION_NO_DELEGATION', missing);
      }
      if (r && turn.stepNo > r.deciding_step && !r.stamped_at)
        throw new AppError(
          'RESOLUTION_NOT_STAMPED',
          'The decree number and date are being stamped onto the document: sign in a moment',
        );
    },
    async onSigned(tx, ctx, turn) {
      await takeNumber(deps.jobs, tx, ctx, turn);
      await markTranscribed(tx, ctx, turn);
      await markDiligenceSigned(tx, ctx, turn);
    },
    async afterSigned(tenantId, documentId) {
      await stampDecree(deps, tenantId, documentId);
    },
  };
}

export function formatDecreeNumber(year: number, seq: number): string {
  return `${year}/${String(seq).padStart(6, '0')}`;
}

/**
 * In the transaction that records the deciding signature: the decree number (counter first, then
 * the audit head), its date read from the database clock after the counter's lock (a later
 * number never gets an earlier date), the book row, and the stamp's job.
 */
async function takeNumber(jobs: Jobs, tx: Tx, ctx: Ctx, turn: Turn): Promise<void> {
  const r = await loadResolution(tx, ctx, turn.documentId);
  if (!r || turn.stepNo !== r.deciding_step || r.number) return;
  const year = madridYear(ctx.clock.now());
  const skew = ctx.clock.now().getTime() - Date.now(); // zero outside tests (an injected clock)
  const taken = await nextNumberAt(tx, ctx.tenant.id, DECREE_SERIES, year);
  const seq = taken.value;
  const number = formatDecreeNumber(year, seq);
  const decidedAt = new Date(taken.at.getTime() + skew);
  await tx
    .updateTable('resolutions')
    .set({
      year,
      seq,
      number,
      decided_at: decidedAt,
      decided_by: ctx.actor.id,
      position_title: turn.positionTitle,
      by_substitution: turn.bySubstitution,
    })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('document_id', '=', turn.documentId)
    .where('number', 'is', null)
    .execute();
  await queueExtracts(jobs, tx, ctx, turn.documentId, decidedAt);
  await jobs.send(
    tx,
    STAMP_JOB,
    { tenantId: ctx.tenant.id, documentId: turn.documentId } satisfies StampJobData,
    { startAfterSeconds: STAMP_JOB_DELAY_SECONDS, singletonKey: turn.documentId },
  );
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'resolution.number',
    objectType: 'document',
    objectId: turn.documentId,
    details: {
      number,
      decidedAt: decidedAt.toISOString(),
      position: turn.positionTitle,
      expedientId: r.expedient_id,
    },
  });
}

/** The secretary's transcription signature is recorded: the decree is in the book for good. */
async function markTranscribed(tx: Tx, ctx: Ctx, turn: Turn): Promise<void> {
  const r = await loadResolution(tx, ctx, turn.documentId);
  if (!r || turn.stepNo !== r.transcription_step || !r.number || r.transcribed_at) return;
  await tx
    .updateTable('resolutions')
    .set({ transcribed_at: ctx.clock.now() })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('document_id', '=', turn.documentId)
    .where('transcribed_at', 'is', null)
    .execute();
}

const madridDate = new Intl.DateTimeFormat('ca-ES', {
  timeZone: 'Europe/Madrid',
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
});
/** dd/mm/yyyy in Europe/Madrid: the decree's date as printed. */
export function decreeDate(at: Date): string {
  return madridDate.format(at);
}

export function stampLines(r: {
  number: string;
  decidedAt: Date;
  position: string | null;
  bySubstitution: boolean;
}) {
  const who = r.position ? ` · ${r.position}${r.bySubstitution ? ' (per substitució)' : ''}` : '';
  return [`Decret núm. ${r.number}`, `Data del decret: ${decreeDate(r.decidedAt)}${who}`];
}

export type StampOutcome = 'stamped' | 'already' | 'not_decided' | 'moot';

/**
 * Stamps the decree's number and date onto its PDF as an incremental revision, after the deciding
 * signature's commit (the route at once; the job if the process died). Idempotent: a second call
 * finds it stamped; a concurrent one loses on the content check and finds it stamped on retry.
 */
export async function stampDecree(
  deps: ResolutionDeps,
  tenantId: string,
  documentId: string,
): Promise<StampOutcome> {
  const tenant = await deps.db.platform((tx) => findTenantById(tx, tenantId));
  if (!tenant) return 'moot';
  const ctx: Ctx = {
    tenant: { id: tenant.id, dir3: tenant.dir3, slug: tenant.slug, name: tenant.name, status: tenant.status },
    actor: systemActor,
    roles: [],
    request: noRequest,
    clock: deps.clock,
  };
  const state = await deps.db.tenant(tenantId, async (tx) => {
    const r = await loadResolution(tx, ctx, documentId);
    if (!r) return { outcome: 'moot' as const };
    if (!r.number || !r.decided_at) return { outcome: 'not_decided' as const };
    if (r.stamped_at) return { outcome: 'already' as const };
    const doc = await getDocumentRow(tx, ctx, documentId);
    if (!doc) return { outcome: 'moot' as const };
    return { outcome: 'todo' as const, r, sha256: doc.sha256 };
  });
  if (state.outcome !== 'todo') return state.outcome;
  const { r, sha256 } = state;
  const pdf = await deps.blobs.readVerified(sha256);
  const pages = (await PDFDocument.load(pdf, { updateMetadata: false })).getPageCount();
  const lines = stampLines({
    number: r.number!,
    decidedAt: new Date(r.decided_at!),
    position: r.position_title,
    bySubstitution: r.by_substitution ?? false,
  });
  const stamped = await appendStamp(pdf, pages - 1, STAMP_RECT, lines);
  const stored = await deps.blobs.put(stamped); // the file before the rows
  return deps.db.tenant(tenantId, async (tx) => {
    const version = await addStampRevision(tx, ctx, documentId, sha256, stored, r.decided_by!);
    if (version === null) {
      const again = await loadResolution(tx, ctx, documentId);
      return again?.stamped_at ? 'already' : 'moot';
    }
    await tx
      .updateTable('resolutions')
      .set({ stamped_at: ctx.clock.now(), stamped_version: version })
      .where('tenant_id', '=', tenantId)
      .where('document_id', '=', documentId)
      .where('stamped_at', 'is', null)
      .execute();
    await recordEvent(tx, {
      tenantId,
      actor: ctx.actor,
      request: ctx.request,
      clock: ctx.clock,
      action: 'resolution.stamp',
      objectType: 'document',
      objectId: documentId,
      details: { number: r.number, version, sha256: stored.sha256 },
    });
    return 'stamped';
  });
}

/** The book of a year (Europe/Madrid): every numbered decree in order. Any member of the entity reads it. */
export async function listBook(tx: Tx, ctx: Ctx, year: number): Promise<BookEntry[]> {
  if (!Number.isInteger(year) || year < 1900 || year > 9999)
    throw new AppError('VALIDATION_FAILED', 'year is a four-digit year');
  const rows = await tx
    .selectFrom('resolutions')
    .selectAll()
    .where('tenant_id', '=', ctx.tenant.id)
    .where('year', '=', year)
    .where('number', 'is not', null)
    .orderBy('seq')
    .execute();
  const extracts = await extractsOf(
    tx,
    ctx,
    rows.map((r) => r.document_id),
  );
  return rows.map((r) => ({
    number: r.number!,
    signedAt: new Date(r.decided_at!).toISOString(),
    title: r.title,
    summary: r.summary,
    position: r.position_title,
    bySubstitution: r.by_substitution ?? false,
    expedientId: r.expedient_id,
    documentId: r.document_id,
    stamped: r.stamped_at !== null,
    extract: summariseExtract(extracts.get(r.document_id)),
  }));
}

function summariseExtract(list: { sentAt: string | null; due: string }[] | undefined): BookEntry['extract'] {
  if (!list || list.length === 0) return null;
  const sent = list.map((x) => x.sentAt);
  return {
    sentAt: sent.every((x) => x !== null) ? [...(sent as string[])].sort().at(-1)! : null,
    due: list[0]!.due,
  };
}
