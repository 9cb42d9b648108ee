import type { Readable } from 'node:stream';
import type { Database, Tx } from '#platform/db/database.ts';
import type { BlobStore } from '#platform/blobs/blob-store.ts';
import type { Clock, Ctx, RequestMeta } from '#platform/context.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { getDocumentRow } from '#modules/documents/documents.service.ts';
import { listSeals } from '#modules/seals/seals.service.ts';
import { formatCsv, newCsv, parseCsv } from './csv.ts';

/**
 * The CSV index: every document Lligall issues gets a code unique across the installation, and
 * public verification finds the entity and the document from the code alone (a platform table,
 * read without a tenant; the document itself is then read in that entity's transaction).
 */

/** Gives a document its CSV, in the transaction that records the document. */
export async function assignCsv(
  tx: Tx,
  ctx: Ctx,
  documentId: string,
  opts: { sealId?: string | null } = {},
): Promise<string> {
  // 100 random bits: a collision is practically impossible, but the index is the judge.
  for (let attempt = 0; attempt < 5; attempt++) {
    const csv = newCsv();
    const row = await tx
      .insertInto('csv_index')
      .values({
        csv,
        tenant_id: ctx.tenant.id,
        document_id: documentId,
        seal_id: opts.sealId ?? null,
        created_at: ctx.clock.now(),
      })
      .onConflict((oc) => oc.column('csv').doNothing())
      .returning('csv')
      .executeTakeFirst();
    if (row) return csv;
  }
  throw new AppError('INTERNAL', 'Could not draw a unique CSV');
}

/**
 * Records a CSV drawn before the document was rendered (the code is printed on it, so it exists
 * before the row). Fails with a unique violation in the astronomically unlikely case that the code
 * is taken; the caller's retry draws another.
 */
export async function registerCsv(
  tx: Tx,
  ctx: Ctx,
  csv: string,
  documentId: string,
  sealId: string | null,
): Promise<void> {
  await tx
    .insertInto('csv_index')
    .values(csvIndexRow(ctx, csv, documentId, sealId))
    .execute();
}

/** registerCsv's row, for a caller that inserts it in one statement with its document. */
export function csvIndexRow(ctx: Ctx, csv: string, documentId: string, sealId: string | null) {
  return {
    csv,
    tenant_id: ctx.tenant.id,
    document_id: documentId,
    seal_id: sealId,
    created_at: ctx.clock.now(),
  };
}

export type VerifiedDocument = {
  csv: string;
  entity: { name: string; dir3: string };
  document: {
    title: string;
    documentType: string;
    fileName: string;
    mimeType: string;
    size: number;
    sha256: string;
    createdAt: string;
  };
  seal: { subject: string; issuer: string; qualified: boolean; validTo: string } | null;
  contentUrl: string;
};

export type VerifyDeps = { db: Database; blobs: BlobStore; clock: Clock };

const publicActor = { kind: 'system' as const, id: null, label: 'public', platformRoles: [] };

async function auditMiss(deps: VerifyDeps, request: RequestMeta, attempted: string, reason: string) {
  await deps.db.platform((tx) =>
    recordEvent(tx, {
      tenantId: PLATFORM_TENANT,
      actor: publicActor,
      request,
      clock: deps.clock,
      action: 'csv.verify_miss',
      objectType: 'csv',
      objectId: null,
      details: { attempted: attempted.slice(0, 64), reason },
    }),
  );
}

/**
 * Public verification by CSV (LRJSP art. 42.b): the document's metadata, and its content when
 * `withContent`. Every attempt is audited: a hit in the entity's own trail, a miss (malformed or
 * unknown code) in the platform's.
 */
export async function verifyCsv(
  deps: VerifyDeps,
  input: string,
  request: RequestMeta,
  opts: { withContent: boolean },
): Promise<{ view: VerifiedDocument; content: Readable | null }> {
  let csv: string;
  try {
    csv = parseCsv(input);
  } catch (e) {
    await auditMiss(deps, request, input, 'malformed');
    throw e;
  }
  const hit = await deps.db.platformRead((q) =>
    q
      .selectFrom('csv_index')
      .innerJoin('tenants', 'tenants.id', 'csv_index.tenant_id')
      .select([
        'csv_index.tenant_id',
        'csv_index.document_id',
        'csv_index.seal_id',
        'tenants.name',
        'tenants.dir3',
        'tenants.slug',
        'tenants.status',
      ])
      .where('csv_index.csv', '=', csv)
      .executeTakeFirst(),
  );
  if (!hit) {
    await auditMiss(deps, request, csv, 'unknown');
    throw new AppError('CSV_NOT_FOUND', `No document has the CSV ${formatCsv(csv)}`);
  }
  const ctx: Ctx = {
    tenant: { id: hit.tenant_id, dir3: hit.dir3, slug: hit.slug, name: hit.name, status: hit.status },
    actor: publicActor,
    roles: [],
    request,
    clock: deps.clock,
  };
  const { doc, seal } = await deps.db.tenant(hit.tenant_id, async (tx) => {
    const doc = await getDocumentRow(tx, ctx, hit.document_id);
    if (!doc) throw new AppError('CSV_NOT_FOUND', `No document has the CSV ${formatCsv(csv)}`);
    const seal = hit.seal_id ? (await listSeals(tx, ctx)).find((s) => s.id === hit.seal_id) : undefined;
    await recordEvent(tx, {
      tenantId: ctx.tenant.id,
      actor: publicActor,
      request,
      clock: deps.clock,
      action: opts.withContent ? 'csv.verify_content' : 'csv.verify',
      objectType: 'document',
      objectId: doc.id,
      details: { csv },
    });
    return { doc, seal };
  });
  const view: VerifiedDocument = {
    csv: formatCsv(csv),
    entity: { name: hit.name, dir3: hit.dir3 },
    document: {
      title: doc.title,
      documentType: doc.document_type,
      fileName: doc.file_name,
      mimeType: doc.mime_type,
      size: Number(doc.size_bytes),
      sha256: doc.sha256,
      createdAt: new Date(doc.created_at).toISOString(),
    },
    seal: seal
      ? { subject: seal.subject, issuer: seal.issuer, qualified: seal.qualified, validTo: seal.validTo }
      : null,
    contentUrl: `/api/v1/verify/${csv}/content`,
  };
  return { view, content: opts.withContent ? deps.blobs.openVerified(doc.sha256) : null };
}
