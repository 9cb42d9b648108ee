import type { Ctx } from '#platform/context.ts';
import { madridYear } from '#platform/db/counters.ts';
import type { Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { isUuid } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import {
  type DocumentRow,
  type DocumentType,
  type DocumentView,
  type ElaborationState,
  assertDocumentMetadata,
  getDocumentRow,
  insertDocument,
  SHA256_URI,
  toDocumentView,
} from '#modules/documents/documents.service.ts';
import { visibleTo } from './expedients.repository.ts';
import { loadExpedient, loadWritableExpedient } from './expedients.service.ts';

export type IncorporateInput = {
  title: string;
  fileName: string;
  mimeType: string;
  sha256: string;
  size: number;
  documentType: DocumentType;
  elaborationState: ElaborationState;
  origin: 'administration' | 'citizen';
  originalEniId?: string | null;
  /** A new version of a document of this case file; the old one stays, immutable. */
  supersedesId?: string | null;
};

export type IncorporatedDocument = DocumentView & { order: number; expedientId: string };

/** Checks, before a file is streamed, that the case file exists for the caller and accepts documents. */
export async function assertAcceptsDocuments(tx: Tx, ctx: Ctx, expedientId: string): Promise<void> {
  await loadWritableExpedient(tx, ctx, expedientId);
}

/**
 * Everything that could refuse an incorporation, checked before the file enters the store (so a
 * refused upload leaves no file behind) and again inside the incorporating transaction.
 */
export async function checkIncorporation(
  tx: Tx,
  ctx: Ctx,
  expedientId: string,
  input: Pick<IncorporateInput, 'supersedesId' | 'elaborationState' | 'originalEniId'>,
) {
  const exp = await loadWritableExpedient(tx, ctx, expedientId); // locks the case file: orders follow one another
  assertDocumentMetadata(input);
  if (input.supersedesId) {
    const inIndex = isUuid(input.supersedesId)
      ? await tx
          .selectFrom('index_entries')
          .select('position')
          .where('tenant_id', '=', ctx.tenant.id)
          .where('expedient_id', '=', exp.id)
          .where('document_id', '=', input.supersedesId)
          .executeTakeFirst()
      : undefined;
    if (!inIndex)
      throw new AppError('DOCUMENT_NOT_FOUND', 'The document to supersede is not in this case file');
  }
  return exp;
}

/**
 * Incorporates a document (content already in the blob store) into a case file at the next
 * order number of its index. Once incorporated it is immutable (LPACAP art. 26; NTI): the
 * database refuses UPDATE and DELETE of its row.
 */
export async function incorporateDocument(
  tx: Tx,
  ctx: Ctx,
  expedientId: string,
  input: IncorporateInput,
): Promise<IncorporatedDocument> {
  const exp = await checkIncorporation(tx, ctx, expedientId, input);
  const now = ctx.clock.now();
  const doc = await insertDocument(tx, ctx, { ...input, incorporatedAt: now, year: madridYear(now) });
  return addToIndex(tx, ctx, exp.id, doc, input.supersedesId ?? null, now);
}

/**
 * Incorporates an existing draft document (a `documents` row not yet incorporated, e.g. one whose
 * signature circuit has just completed) at the next order of the case file's index. From then on
 * it is immutable like any other (the database trigger).
 */
export async function incorporateExistingDocument(
  tx: Tx,
  ctx: Ctx,
  expedientId: string,
  documentId: string,
): Promise<IncorporatedDocument> {
  const exp = await loadWritableExpedient(tx, ctx, expedientId); // locks the case file: orders follow one another
  const now = ctx.clock.now();
  const updated = await tx
    .updateTable('documents')
    .set({ incorporated_at: now })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', documentId)
    .where('incorporated_at', 'is', null)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1)
    throw new AppError('DOCUMENT_NOT_FOUND', 'No draft document to incorporate');
  const row = await getDocumentRow(tx, ctx, documentId);
  if (!row) throw new AppError('DOCUMENT_NOT_FOUND', 'Document not found');
  return addToIndex(tx, ctx, exp.id, toDocumentView(row), row.supersedes_id, now);
}

async function addToIndex(
  tx: Tx,
  ctx: Ctx,
  expedientId: string,
  doc: DocumentView,
  supersedesId: string | null,
  now: Date,
): Promise<IncorporatedDocument> {
  const exp = { id: expedientId };
  const last = await tx
    .selectFrom('index_entries')
    .select((eb) => eb.fn.max('position').as('max'))
    .where('tenant_id', '=', ctx.tenant.id)
    .where('expedient_id', '=', exp.id)
    .executeTakeFirst();
  const order = Number(last?.max ?? 0) + 1;
  await tx
    .insertInto('index_entries')
    .values({
      tenant_id: ctx.tenant.id,
      expedient_id: exp.id,
      position: order,
      document_id: doc.id,
      incorporated_at: now,
      hash_function: SHA256_URI,
    })
    .execute();
  await tx
    .updateTable('expedients')
    .set({ updated_at: now })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', exp.id)
    .execute();
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'expedient.document_incorporate',
    objectType: 'expedient',
    objectId: exp.id,
    details: { documentId: doc.id, order, sha256: doc.sha256, supersedesId },
  });
  return { ...doc, order, expedientId: exp.id };
}

export type IndexView = {
  expedientId: string;
  eniId: string;
  number: string;
  entries: {
    order: number;
    documentId: string;
    eniId: string;
    title: string;
    documentType: string;
    sha256: string;
    hashFunction: string;
    incorporatedAt: string;
    supersedesId: string | null;
  }[];
};

/** The case file's index (NTI): each document with its order, identifier, hash and incorporation date. */
export async function getIndex(tx: Tx, ctx: Ctx, expedientId: string): Promise<IndexView> {
  const exp = await loadExpedient(tx, ctx, expedientId, { auditRead: true });
  const rows = await tx
    .selectFrom('index_entries as i')
    .innerJoin('documents as d', (j) =>
      j.onRef('d.tenant_id', '=', 'i.tenant_id').onRef('d.id', '=', 'i.document_id'),
    )
    .select([
      'i.position',
      'i.document_id',
      'i.incorporated_at',
      'i.hash_function',
      'd.eni_id',
      'd.title',
      'd.document_type',
      'd.sha256',
      'd.supersedes_id',
    ])
    .where('i.tenant_id', '=', ctx.tenant.id)
    .where('i.expedient_id', '=', exp.id)
    .orderBy('i.position')
    .execute();
  return {
    expedientId: exp.id,
    eniId: exp.eni_id,
    number: exp.number,
    entries: rows.map((r) => ({
      order: r.position,
      documentId: r.document_id,
      eniId: r.eni_id,
      title: r.title,
      documentType: r.document_type,
      sha256: r.sha256,
      hashFunction: r.hash_function,
      incorporatedAt: new Date(r.incorporated_at).toISOString(),
      supersedesId: r.supersedes_id,
    })),
  };
}

/**
 * A document the caller may read: it is in the index of at least one case file the caller can
 * see. Reading or downloading a document of a restricted case file is audited.
 */
export async function readDocument(
  tx: Tx,
  ctx: Ctx,
  id: string,
  purpose: 'read' | 'download',
): Promise<DocumentRow & { expedientIds: string[] }> {
  if (!isUuid(id)) throw new AppError('DOCUMENT_NOT_FOUND', 'Document not found');
  const holders = await tx
    .selectFrom('index_entries as i')
    .innerJoin('expedients', (j) =>
      j.onRef('expedients.tenant_id', '=', 'i.tenant_id').onRef('expedients.id', '=', 'i.expedient_id'),
    )
    .select(['expedients.id', 'expedients.access_level'])
    .where('i.tenant_id', '=', ctx.tenant.id)
    .where('i.document_id', '=', id)
    .where(visibleTo(ctx.actor.id ?? '00000000-0000-0000-0000-000000000000'))
    .execute();
  const row = holders.length > 0 ? await getDocumentRow(tx, ctx, id) : undefined;
  if (!row) throw new AppError('DOCUMENT_NOT_FOUND', 'Document not found');
  if (holders.some((h) => h.access_level === 'restricted')) {
    await recordEvent(tx, {
      tenantId: ctx.tenant.id,
      actor: ctx.actor,
      request: ctx.request,
      clock: ctx.clock,
      action: `document.${purpose}`,
      objectType: 'document',
      objectId: id,
      details: { expedientIds: holders.map((h) => h.id) },
    });
  }
  return { ...row, expedientIds: holders.map((h) => h.id) };
}

export function documentViewWithHolders(r: DocumentRow & { expedientIds: string[] }) {
  return { ...toDocumentView(r), expedientIds: r.expedientIds };
}
