import type { Ctx } from '#platform/context.ts';
import { madridYear } from '#platform/db/counters.ts';
import type { Tx } from '#platform/db/database.ts';
import type { SealStatus } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { isUuid, newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { DOCUMENT_TYPES, type DocumentType, insertDocument } from '#modules/documents/documents.service.ts';
import { formatCsv } from '#modules/csv/csv.ts';
import { isSealableScan } from './copy-seal.service.ts';
import { canWorkAtDesk } from './desk.policy.ts';
import { findEntry } from './entry-expedients.service.ts';
import { assertOfficialInForce } from './officials.service.ts';

/**
 * The registry desk (OAMR): a citizen files on paper; an authorised official digitises each paper
 * original into an authentic copy (NTI EE03, origin citizen: LPACAP art. 16.5 and 27) linked to
 * the entry, and the original goes back to the filer, once.
 *
 * Sealing: a PDF, JPEG or PNG copy is recorded with seal_status `pending`, with the job that seals
 * it (copy-seal.service.ts) enqueued in the same transaction; right after the commit the route
 * seals it: the entity's PAdES seal with a CSV and a visible stamp (LPACAP 27.3.a, LRJSP 42), as a
 * new document that supersedes the copy (documents.supersedes_id; the copy itself is immutable),
 * and sealed_document_id with seal_status `sealed` — the only change the database allows on that
 * column pair. TIFF copies are `not_applicable` (no pure-JavaScript TIFF decoder in the product).
 */

/** Scans the desk accepts, by declared type and by their first bytes. */
export const SCAN_TYPES: Record<string, { ext: string; magic: number[][] }> = {
  'application/pdf': { ext: 'pdf', magic: [[0x25, 0x50, 0x44, 0x46, 0x2d]] },
  'image/jpeg': { ext: 'jpg', magic: [[0xff, 0xd8, 0xff]] },
  'image/png': { ext: 'png', magic: [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]] },
  'image/tiff': {
    ext: 'tif',
    magic: [
      [0x49, 0x49, 0x2a, 0x00],
      [0x4d, 0x4d, 0x00, 0x2a],
    ],
  },
};

/** FILE_TYPE_NOT_ACCEPTED unless the declared type is a scan type (checked before the file is read). */
export function assertScanDeclaredType(declared: string): { ext: string; magic: number[][] } {
  const t = SCAN_TYPES[declared];
  if (!t)
    throw new AppError(
      'FILE_TYPE_NOT_ACCEPTED',
      `A scan must be one of ${Object.keys(SCAN_TYPES).join(', ')}; got ${declared}`,
    );
  return t;
}

/**
 * FILE_TYPE_NOT_ACCEPTED unless the declared type is a scan type and the file starts as one of
 * that type does (a renamed file is refused).
 */
export function assertScanType(declared: string, head: Buffer): void {
  const t = assertScanDeclaredType(declared);
  if (!t.magic.some((m) => m.every((b, i) => head[i] === b)))
    throw new AppError('FILE_TYPE_NOT_ACCEPTED', `The file's content is not ${declared}`);
}

export type DigitisationInput = {
  /** What the paper original is (e.g. "Instància signada, 2 fulls"). */
  description: string;
  title?: string | null;
  documentType?: DocumentType | null;
};

export type ScannedFile = { fileName: string; mimeType: string; sha256: string; size: number };

export type PaperOriginalView = {
  id: string;
  entryId: string;
  description: string;
  copy: {
    documentId: string;
    eniId: string;
    title: string;
    fileName: string;
    mimeType: string;
    size: number;
    sha256: string;
    documentType: string;
    elaborationState: string;
    origin: string;
  };
  officialId: string;
  digitisedBy: string;
  digitisedAt: string;
  sealStatus: SealStatus;
  sealedDocumentId: string | null;
  /** The sealed copy's CSV (verifiable at the seu), once sealed. */
  sealedCsv: string | null;
  returnedTo: string | null;
  returnedBy: string | null;
  returnedAt: string | null;
};

function assertInput(input: DigitisationInput): void {
  const problems: string[] = [];
  if (
    typeof input.description !== 'string' ||
    input.description.trim().length === 0 ||
    input.description.length > 2000
  )
    problems.push('description must have 1 to 2000 characters');
  if (input.title != null && (input.title.trim().length === 0 || input.title.length > 500))
    problems.push('title must have 1 to 500 characters');
  if (input.documentType != null && !(DOCUMENT_TYPES as readonly string[]).includes(input.documentType))
    problems.push(`documentType must be one of ${DOCUMENT_TYPES.join(', ')}`);
  if (problems.length) throw new AppError('VALIDATION_FAILED', problems.join('; '));
}

/**
 * Everything that could refuse a digitisation, checked before the scan enters the store and again
 * when it is recorded: the input, the caller's desk role, the entry, and the caller's record in
 * force in the register of authorised officials for copies (403 OFFICIAL_NOT_AUTHORISED).
 */
export async function checkDigitisation(tx: Tx, ctx: Ctx, entryId: string, input: DigitisationInput) {
  assertInput(input);
  if (!canWorkAtDesk(ctx)) throw new AppError('FORBIDDEN', 'You may not work at this registry’s desk');
  const entry = await findEntry(tx, ctx, entryId);
  const official = await assertOfficialInForce(tx, ctx, 'copies');
  return { entry, official };
}

function select(tx: Tx, ctx: Ctx) {
  return (
    tx
      .selectFrom('paper_originals as p')
      .innerJoin('documents as d', (j) =>
        j.onRef('d.tenant_id', '=', 'p.tenant_id').onRef('d.id', '=', 'p.copy_document_id'),
      )
      // The CSV index is a platform table: scoped to this entity explicitly.
      .leftJoin('csv_index as c', (j) =>
        j.onRef('c.document_id', '=', 'p.sealed_document_id').on('c.tenant_id', '=', ctx.tenant.id),
      )
      .select([
        'c.csv as sealed_csv',
        'p.id',
        'p.entry_id',
        'p.description',
        'p.official_id',
        'p.digitised_by_label',
        'p.digitised_at',
        'p.seal_status',
        'p.sealed_document_id',
        'p.returned_to',
        'p.returned_by',
        'p.returned_at',
        'd.id as document_id',
        'd.eni_id',
        'd.title',
        'd.file_name',
        'd.mime_type',
        'd.size_bytes',
        'd.sha256',
        'd.document_type',
        'd.elaboration_state',
        'd.origin',
      ])
      .where('p.tenant_id', '=', ctx.tenant.id)
  );
}

type Row = Awaited<ReturnType<ReturnType<typeof select>['executeTakeFirstOrThrow']>>;
const iso = (t: Date | string) => new Date(t).toISOString();

function view(r: Row): PaperOriginalView {
  return {
    id: r.id,
    entryId: r.entry_id,
    description: r.description,
    copy: {
      documentId: r.document_id,
      eniId: r.eni_id,
      title: r.title,
      fileName: r.file_name,
      mimeType: r.mime_type,
      size: Number(r.size_bytes),
      sha256: r.sha256,
      documentType: r.document_type,
      elaborationState: r.elaboration_state,
      origin: r.origin,
    },
    officialId: r.official_id,
    digitisedBy: r.digitised_by_label,
    digitisedAt: iso(r.digitised_at),
    sealStatus: r.seal_status,
    sealedDocumentId: r.sealed_document_id,
    sealedCsv: r.sealed_csv ? formatCsv(r.sealed_csv) : null,
    returnedTo: r.returned_to,
    returnedBy: r.returned_by,
    returnedAt: r.returned_at ? iso(r.returned_at) : null,
  };
}

/**
 * Records the authentic copy (EE03) of a paper original, whose scan is already in the blob store,
 * and the original itself, linked to the entry. The copy is made by the caller, an official in
 * force for copies; it is immutable from now on (it is the entry's content, like an attachment).
 */
export async function digitisePaperOriginal(
  tx: Tx,
  ctx: Ctx,
  entryId: string,
  input: DigitisationInput,
  file: ScannedFile,
): Promise<PaperOriginalView> {
  const { entry, official } = await checkDigitisation(tx, ctx, entryId, input);
  const now = ctx.clock.now();
  const description = input.description.trim();
  const doc = await insertDocument(tx, ctx, {
    title: input.title?.trim() || `Còpia autèntica: ${description}`.slice(0, 500),
    fileName: file.fileName,
    mimeType: file.mimeType,
    sha256: file.sha256,
    size: file.size,
    documentType: input.documentType ?? 'TD99',
    // NTI: EE03 = authentic copy of a paper document; it was filed by a citizen.
    elaborationState: 'EE03',
    origin: 'citizen',
    incorporatedAt: now,
    year: madridYear(now),
  });
  const id = newId();
  await tx
    .insertInto('paper_originals')
    .values({
      tenant_id: ctx.tenant.id,
      id,
      entry_id: entry.id,
      description,
      copy_document_id: doc.id,
      official_id: official.id,
      digitised_by: ctx.actor.id,
      digitised_by_label: ctx.actor.label,
      digitised_at: now,
      seal_status: isSealableScan(file.mimeType) ? 'pending' : 'not_applicable',
      sealed_document_id: null,
      returned_to: null,
      returned_by: null,
      returned_at: null,
    })
    .execute();
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'registry.paper_original_digitise',
    objectType: 'registry_entry',
    objectId: entry.id,
    details: {
      number: entry.number,
      paperOriginalId: id,
      description,
      copyDocumentId: doc.id,
      sha256: file.sha256,
      officialId: official.id,
    },
  });
  return view(await select(tx, ctx).where('p.id', '=', id).executeTakeFirstOrThrow());
}

/** The paper originals of an entry, in the order they were digitised. */
export async function listPaperOriginals(tx: Tx, ctx: Ctx, entryId: string): Promise<PaperOriginalView[]> {
  if (!canWorkAtDesk(ctx)) throw new AppError('FORBIDDEN', 'You may not consult this registry');
  const entry = await findEntry(tx, ctx, entryId);
  const rows = await select(tx, ctx)
    .where('p.entry_id', '=', entry.id)
    .orderBy('p.digitised_at')
    .orderBy('p.id')
    .execute();
  return rows.map(view);
}

/** One paper original of an entry, or PAPER_ORIGINAL_NOT_FOUND. */
export async function getPaperOriginal(
  tx: Tx,
  ctx: Ctx,
  entryId: string,
  id: string,
): Promise<PaperOriginalView> {
  if (!canWorkAtDesk(ctx)) throw new AppError('FORBIDDEN', 'You may not consult this registry');
  const entry = await findEntry(tx, ctx, entryId);
  const row = isUuid(id)
    ? await select(tx, ctx).where('p.entry_id', '=', entry.id).where('p.id', '=', id).executeTakeFirst()
    : undefined;
  if (!row) throw new AppError('PAPER_ORIGINAL_NOT_FOUND', `Paper original ${id} not found`);
  return view(row);
}

/** Marks a paper original returned to the filer (art. 16.5), once: a second time is 409. */
export async function returnPaperOriginal(
  tx: Tx,
  ctx: Ctx,
  entryId: string,
  id: string,
  input: { returnedTo: string },
): Promise<PaperOriginalView> {
  if (!canWorkAtDesk(ctx)) throw new AppError('FORBIDDEN', 'You may not work at this registry’s desk');
  const returnedTo = typeof input.returnedTo === 'string' ? input.returnedTo.trim() : '';
  if (returnedTo.length === 0 || returnedTo.length > 300)
    throw new AppError('VALIDATION_FAILED', 'returnedTo must have 1 to 300 characters');
  const current = await getPaperOriginal(tx, ctx, entryId, id);
  const r = await tx
    .updateTable('paper_originals')
    .set({ returned_to: returnedTo, returned_by: ctx.actor.label, returned_at: ctx.clock.now() })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', current.id)
    .where('returned_at', 'is', null)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0)
    throw new AppError(
      'PAPER_ORIGINAL_ALREADY_RETURNED',
      `This original was already returned${current.returnedTo ? ` to ${current.returnedTo}` : ''}`,
    );
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'registry.paper_original_return',
    objectType: 'registry_entry',
    objectId: current.entryId,
    details: { paperOriginalId: current.id, returnedTo },
  });
  return view(await select(tx, ctx).where('p.id', '=', current.id).executeTakeFirstOrThrow());
}
