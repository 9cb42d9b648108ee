import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { compactId, isUuid, newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';

/** NTI TipoDocumental (DOMAIN: Documents). */
export const DOCUMENT_TYPES = [
  'TD01',
  'TD02',
  'TD03',
  'TD04',
  'TD05',
  'TD06',
  'TD07',
  'TD08',
  'TD09',
  'TD10',
  'TD11',
  'TD12',
  'TD13',
  'TD14',
  'TD15',
  'TD16',
  'TD17',
  'TD18',
  'TD19',
  'TD20',
  'TD99',
] as const;
/** NTI EstadoElaboracion: EE01 original, EE02 authentic copy with format change, EE03 of paper, EE04 partial, EE99 other. */
export const ELABORATION_STATES = ['EE01', 'EE02', 'EE03', 'EE04', 'EE99'] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];
export type ElaborationState = (typeof ELABORATION_STATES)[number];

/** The SHA-256 algorithm URI used in the ENI index (xmlenc). */
export const SHA256_URI = 'http://www.w3.org/2001/04/xmlenc#sha256';

/** NTI Documento: `ES_<DIR3>_<YYYY>_<id>`, `<id>` ≤ 30 of [A-Za-z0-9._-]; ours is the UUID in 26 base-32 characters. */
export function documentEniId(dir3: string, year: number, id: string): string {
  return `ES_${dir3}_${year}_${compactId(id)}`;
}

export type DocumentRow = {
  id: string;
  eni_id: string;
  title: string;
  file_name: string;
  mime_type: string;
  size_bytes: string;
  sha256: string;
  document_type: string;
  elaboration_state: string;
  original_eni_id: string | null;
  origin: 'administration' | 'citizen';
  captured_at: Date;
  organ: string[];
  format: string;
  supersedes_id: string | null;
  incorporated_at: Date | null;
  created_at: Date;
};

export type DocumentView = {
  id: string;
  eniId: string;
  title: string;
  fileName: string;
  mimeType: string;
  size: number;
  sha256: string;
  hashFunction: string;
  documentType: string;
  elaborationState: string;
  originalEniId: string | null;
  origin: 'administration' | 'citizen';
  capturedAt: string;
  organ: string[];
  format: string;
  supersedesId: string | null;
  incorporatedAt: string | null;
  createdAt: string;
};

export function toDocumentView(r: DocumentRow): DocumentView {
  return {
    id: r.id,
    eniId: r.eni_id,
    title: r.title,
    fileName: r.file_name,
    mimeType: r.mime_type,
    size: Number(r.size_bytes),
    sha256: r.sha256,
    hashFunction: SHA256_URI,
    documentType: r.document_type,
    elaborationState: r.elaboration_state,
    originalEniId: r.original_eni_id,
    origin: r.origin,
    capturedAt: new Date(r.captured_at).toISOString(),
    organ: r.organ,
    format: r.format,
    supersedesId: r.supersedes_id,
    incorporatedAt: r.incorporated_at ? new Date(r.incorporated_at).toISOString() : null,
    createdAt: new Date(r.created_at).toISOString(),
  };
}

export type NewDocument = {
  title: string;
  fileName: string;
  mimeType: string;
  sha256: string;
  size: number;
  documentType: DocumentType;
  elaborationState: ElaborationState;
  originalEniId?: string | null;
  origin: 'administration' | 'citizen';
  supersedesId?: string | null;
  /** Set for a document incorporated into a case file now; null for a draft. */
  incorporatedAt: Date | null;
  year: number;
};

/**
 * Records a document whose content is already in the blob store (files are written before the
 * rows that point at them). ENI metadata: the organ is the entity's DIR3; the capture date is now.
 */
export async function insertDocument(tx: Tx, ctx: Ctx, d: NewDocument): Promise<DocumentView> {
  const values = newDocumentRow(ctx, d);
  const row = (await tx
    .insertInto('documents')
    .values(values)
    .returning(DOCUMENT_COLUMNS)
    .executeTakeFirstOrThrow()) as DocumentRow;
  await recordDocumentCreated(tx, ctx, values);
  return toDocumentView(row);
}

/**
 * insertDocument in two halves, for a caller that inserts the document in one statement with the
 * rows that point at it (a receipt and its CSV): the checked row, then, once it is inserted, its
 * audit event.
 */
export function newDocumentRow(ctx: Ctx, d: NewDocument) {
  assertDocumentMetadata(d);
  const id = newId();
  const now = ctx.clock.now();
  return {
    tenant_id: ctx.tenant.id,
    id,
    eni_id: documentEniId(ctx.tenant.dir3, d.year, id),
    title: d.title,
    file_name: d.fileName,
    mime_type: d.mimeType,
    size_bytes: d.size,
    sha256: d.sha256,
    document_type: d.documentType,
    elaboration_state: d.elaborationState,
    original_eni_id: d.originalEniId ?? null,
    origin: d.origin,
    captured_at: now,
    organ: [ctx.tenant.dir3],
    format: extensionOf(d.fileName),
    supersedes_id: d.supersedesId ?? null,
    incorporated_at: d.incorporatedAt,
    created_by: ctx.actor.id,
    created_at: now,
  };
}

export async function recordDocumentCreated(
  tx: Tx,
  ctx: Ctx,
  row: ReturnType<typeof newDocumentRow>,
): Promise<void> {
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'document.create',
    objectType: 'document',
    objectId: row.id,
    details: {
      title: row.title,
      sha256: row.sha256,
      size: row.size_bytes,
      documentType: row.document_type,
      supersedesId: row.supersedes_id,
    },
  });
}

/** ENI metadata rules that do not depend on the database. */
export function assertDocumentMetadata(d: {
  elaborationState: string;
  originalEniId?: string | null | undefined;
}): void {
  if ((d.elaborationState === 'EE02' || d.elaborationState === 'EE04') && !d.originalEniId) {
    // NTI: an authentic copy with format change (EE02) or partial (EE04) names its original.
    throw new AppError(
      'VALIDATION_FAILED',
      `${d.elaborationState} needs originalEniId, the identifier of the original document`,
    );
  }
  if (d.originalEniId && !/^[A-Za-z0-9._-]{1,52}$/.test(d.originalEniId)) {
    throw new AppError('VALIDATION_FAILED', 'originalEniId is not an ENI identifier');
  }
}

/** The columns of a DocumentRow. */
const DOCUMENT_COLUMNS = [
  'id',
  'eni_id',
  'title',
  'file_name',
  'mime_type',
  'size_bytes',
  'sha256',
  'document_type',
  'elaboration_state',
  'original_eni_id',
  'origin',
  'captured_at',
  'organ',
  'format',
  'supersedes_id',
  'incorporated_at',
  'created_at',
] as const;

export async function getDocumentRow(tx: Tx, ctx: Ctx, id: string): Promise<DocumentRow | undefined> {
  if (!isUuid(id)) return undefined;
  return (await tx
    .selectFrom('documents')
    .select(DOCUMENT_COLUMNS)
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', id)
    .executeTakeFirst()) as DocumentRow | undefined;
}

export async function getDocumentView(tx: Tx, ctx: Ctx, id: string): Promise<DocumentView | undefined> {
  const r = await getDocumentRow(tx, ctx, id);
  return r ? toDocumentView(r) : undefined;
}

/** The file's extension in lower case, as its NTI format ("pdf", "docx"); "bin" when it has none. */
export function extensionOf(fileName: string): string {
  const m = /\.([A-Za-z0-9]{1,10})$/.exec(fileName);
  return m ? m[1]!.toLowerCase() : 'bin';
}

/** A file name safe to store and to send back: no path, no control characters, at most 200 characters. */
export function safeFileName(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const clean = [...base]
    .map((c) => (c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127 || '"<>|:*?'.includes(c) ? '_' : c))
    .join('')
    .replace(/^\.+/, '')
    .trim()
    .slice(-200);
  return clean || 'document.bin';
}

/** A MIME type as the client said it, if it looks like one; octet-stream otherwise. */
export function safeMimeType(m: string | undefined): string {
  return m && /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/i.test(m)
    ? m.toLowerCase()
    : 'application/octet-stream';
}

/** Content-Disposition for a download: always an attachment, with an RFC 5987 UTF-8 name. */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}
