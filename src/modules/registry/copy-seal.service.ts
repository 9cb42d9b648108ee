import path from 'node:path';
import { degrees, PDFDocument, type PDFFont, type PDFPage, rgb } from 'pdf-lib';
import type { BlobStore } from '#platform/blobs/blob-store.ts';
import { type Clock, type Ctx, noRequest, systemActor } from '#platform/context.ts';
import { madridYear } from '#platform/db/counters.ts';
import type { Database, Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import type { Jobs } from '#platform/jobs/jobs.ts';
import { A4, embedFonts, textWidth } from '#platform/pdf/layout.ts';
import { signPdfDocument } from '#platform/pdf/pades.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { formatCsv, newCsv } from '#modules/csv/csv.ts';
import { registerCsv } from '#modules/csv/csv.service.ts';
import { type DocumentType, insertDocument } from '#modules/documents/documents.service.ts';
import {
  type ActiveSeal,
  ensureEntitySeal,
  getActiveSeal,
  type KeyConfig,
} from '#modules/seals/seals.service.ts';
import { type CopySealMessages, copySealMessages } from './copy-seal.messages.ts';
import { verificationUrl } from './receipt.service.ts';

/**
 * The seal of the authentic copies made at the registry desk (NTI EE03; LPACAP art. 27.2 and
 * 27.3.a; LRJSP art. 42): the official's copy of a paper original becomes, as a NEW document that
 * supersedes it (documents.supersedes_id — the copy row and its file never change), a PDF with a
 * visible stamp on every page and the entity's PAdES-B-B seal, with a CSV registered in the CSV
 * index, so anyone can verify it at the seu.
 *
 * - PDF scans: the scan's own pages, each extended by a strip at its (visual) foot that carries
 *   the stamp, so no part of the scanned image is covered.
 * - JPEG and PNG scans: the image on an A4 page (portrait or landscape, as the image), with the
 *   stamp at the foot — a PDF copy of the image (the copy's format changes, its content does not).
 * - TIFF scans stay `not_applicable`: no pure-JavaScript TIFF decoder is part of the product (no
 *   native builds); the official copy is kept as scanned and is not sealed.
 *
 * It runs after the digitisation commits (slow work never runs inside a transaction): the route
 * seals at once and the `registry.copy-seal` job, enqueued with the digitisation, seals if the
 * process died in between. Sealing is idempotent: the first sealed copy recorded wins. A scan
 * that cannot be sealed (an encrypted or broken PDF, a broken image) is not an error of the
 * system: the copy stays `pending`, the attempt is audited (`registry.paper_original_seal_fail`)
 * and the outcome carries the problem code SCAN_NOT_SEALABLE; nothing is retried for it.
 */

export const COPY_SEAL_JOB = 'registry.copy-seal';
/** The request normally seals within a second, and the job then finds it done. */
export const COPY_SEAL_JOB_DELAY_SECONDS = 10;
export type CopySealJobData = { tenantId: string; paperOriginalId: string };

/** Enqueues the seal's safety net in the digitisation's own transaction. */
export async function enqueueCopySeal(jobs: Jobs, tx: Tx, data: CopySealJobData): Promise<void> {
  await jobs.send(tx, COPY_SEAL_JOB, data, {
    startAfterSeconds: COPY_SEAL_JOB_DELAY_SECONDS,
    singletonKey: data.paperOriginalId,
  });
}

export type CopySealDeps = {
  db: Database;
  blobs: BlobStore;
  clock: Clock;
  config: KeyConfig & { publicUrl: string | undefined; port: number };
};

/** The scans that get a sealed PDF copy. */
export const SEALABLE_SCAN_TYPES = ['application/pdf', 'image/jpeg', 'image/png'] as const;
export function isSealableScan(mimeType: string): boolean {
  return (SEALABLE_SCAN_TYPES as readonly string[]).includes(mimeType);
}

export type CopySealOutcome =
  | { status: 'sealed'; documentId: string; csv: string; sha256: string; created: boolean }
  | { status: 'not_applicable' }
  | { status: 'failed'; problem: { code: 'SCAN_NOT_SEALABLE'; detail: string } };

/** A scan that cannot become a sealed PDF (its content, not the system): not retried. */
class ScanNotSealable extends Error {}

/** The automated action acts with the registry office's powers, as "system". */
function systemCtx(tenant: Ctx['tenant'], clock: Clock): Ctx {
  return { tenant, actor: systemActor, roles: ['registrar'], request: noRequest, clock };
}

async function readPaperOriginal(tx: Tx, tenantId: string, id: string) {
  return tx
    .selectFrom('paper_originals as p')
    .innerJoin('documents as d', (j) =>
      j.onRef('d.tenant_id', '=', 'p.tenant_id').onRef('d.id', '=', 'p.copy_document_id'),
    )
    .innerJoin('authorised_officials as o', (j) =>
      j.onRef('o.tenant_id', '=', 'p.tenant_id').onRef('o.id', '=', 'p.official_id'),
    )
    .innerJoin('registry_entries as e', (j) =>
      j.onRef('e.tenant_id', '=', 'p.tenant_id').onRef('e.id', '=', 'p.entry_id'),
    )
    .select([
      'p.id',
      'p.entry_id',
      'p.seal_status',
      'p.sealed_document_id',
      'p.digitised_at',
      'o.name as official_name',
      'e.number as entry_number',
      'd.id as copy_id',
      'd.title',
      'd.file_name',
      'd.mime_type',
      'd.sha256',
      'd.document_type',
    ])
    .where('p.tenant_id', '=', tenantId)
    .where('p.id', '=', id)
    .executeTakeFirst();
}

async function sealedOutcome(tx: Tx, tenantId: string, documentId: string): Promise<CopySealOutcome> {
  const row = await tx
    .selectFrom('documents as d')
    .leftJoin('csv_index as c', (j) =>
      j.onRef('c.tenant_id', '=', 'd.tenant_id').onRef('c.document_id', '=', 'd.id'),
    )
    .select(['d.id', 'd.sha256', 'c.csv'])
    .where('d.tenant_id', '=', tenantId)
    .where('d.id', '=', documentId)
    .executeTakeFirstOrThrow();
  return {
    status: 'sealed',
    documentId: row.id,
    csv: row.csv ? formatCsv(row.csv) : '',
    sha256: row.sha256,
    created: false,
  };
}

const dateFormat = new Map<string, Intl.DateTimeFormat>();
function madridDateTime(t: Date, lang: string): string {
  const locale = lang === 'es' ? 'es-ES' : 'ca-ES';
  let f = dateFormat.get(locale);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, {
      timeZone: 'Europe/Madrid',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    dateFormat.set(locale, f);
  }
  return f.format(t);
}

function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/(\s+)/)) {
    if (word === '') continue;
    const candidate = line + word;
    if (textWidth(font, candidate, size) <= width || line.trim() === '') {
      line = candidate;
      continue;
    }
    out.push(line.trimEnd());
    line = /^\s+$/.test(word) ? '' : word;
  }
  if (line.trim()) out.push(line.trimEnd());
  return out;
}

const STAMP_SIZE = 6.5;
const STAMP_LEADING = STAMP_SIZE * 1.3;
const STAMP_PAD = 5;
const STAMP_MARGIN = 14;

/** Where a point of the stamp strip (u along the visual foot, v up from it) lies in page space. */
type Place = (u: number, v: number) => { x: number; y: number };

/**
 * Draws the stamp lines in a strip of height `strip` at the visual foot of the page. With
 * `extend`, the page's boxes grow by the strip on that side first (nothing of the scan is
 * covered); otherwise the strip is inside the page (the image pages we lay out ourselves).
 * Handles pages shown rotated (/Rotate 90, 180, 270): the stamp reads upright as displayed.
 */
function stampPage(page: PDFPage, font: PDFFont, lines: string[], strip: number, extend: boolean): void {
  const rotation = ((page.getRotation().angle % 360) + 360) % 360;
  const crop = page.getCropBox();
  let { x: x0, y: y0 } = crop;
  let x1 = crop.x + crop.width;
  let y1 = crop.y + crop.height;
  if (extend) {
    if (rotation === 90) x1 += strip;
    else if (rotation === 180) y1 += strip;
    else if (rotation === 270) x0 -= strip;
    else y0 -= strip;
    const media = page.getMediaBox();
    const mx0 = Math.min(media.x, x0);
    const my0 = Math.min(media.y, y0);
    const mx1 = Math.max(media.x + media.width, x1);
    const my1 = Math.max(media.y + media.height, y1);
    page.setMediaBox(mx0, my0, mx1 - mx0, my1 - my0);
    page.setCropBox(x0, y0, x1 - x0, y1 - y0);
  }
  let place: Place;
  let visualWidth: number;
  if (rotation === 90) {
    place = (u, v) => ({ x: x1 - v, y: y0 + u });
    visualWidth = y1 - y0;
  } else if (rotation === 180) {
    place = (u, v) => ({ x: x1 - u, y: y1 - v });
    visualWidth = x1 - x0;
  } else if (rotation === 270) {
    place = (u, v) => ({ x: x0 + v, y: y1 - u });
    visualWidth = y1 - y0;
  } else {
    place = (u, v) => ({ x: x0 + u, y: y0 + v });
    visualWidth = x1 - x0;
  }
  const rotate = degrees(rotation === 0 ? 0 : rotation);
  const corner = place(0, 0);
  page.drawRectangle({
    x: corner.x,
    y: corner.y,
    width: visualWidth,
    height: strip,
    rotate,
    color: rgb(1, 1, 1),
    borderColor: rgb(0.55, 0.55, 0.55),
    borderWidth: 0.4,
  });
  let v = strip - STAMP_PAD - STAMP_SIZE;
  for (const line of lines) {
    const at = place(STAMP_MARGIN, v);
    page.drawText(line, { x: at.x, y: at.y, size: STAMP_SIZE, font, rotate, color: rgb(0.1, 0.1, 0.1) });
    v -= STAMP_LEADING;
  }
}

function visualWidthOf(page: PDFPage): number {
  const rotation = ((page.getRotation().angle % 360) + 360) % 360;
  const crop = page.getCropBox();
  return rotation === 90 || rotation === 270 ? crop.height : crop.width;
}

type StampFacts = {
  m: CopySealMessages;
  csv: string;
  verifyUrl: string;
  entity: string;
  official: string;
  date: string;
  qualified: boolean;
};

function stampLines(f: StampFacts, font: PDFFont, width: number, n: number, total: number): string[] {
  const text = [
    f.m.stamp({
      csv: formatCsv(f.csv),
      verifyUrl: f.verifyUrl,
      entity: f.entity,
      official: f.official,
      date: f.date,
    }),
    f.qualified ? null : f.m.notQualified,
    f.m.page(n, total),
  ]
    .filter(Boolean)
    .join(' — ');
  return wrap(text, font, STAMP_SIZE, width - 2 * STAMP_MARGIN);
}

const stripHeight = (lines: number) => lines * STAMP_LEADING + 2 * STAMP_PAD;

/** Loads the scanned PDF, or ScanNotSealable (encrypted, broken, no pages). */
async function loadScanPdf(bytes: Buffer): Promise<PDFDocument> {
  let doc: PDFDocument;
  try {
    doc = await PDFDocument.load(bytes, { updateMetadata: false });
  } catch (e) {
    const name = (e as Error).name;
    if (name === 'EncryptedPDFError')
      throw new ScanNotSealable('The scanned PDF is encrypted: scan the paper again without a password');
    throw new ScanNotSealable(`The scanned PDF cannot be read (${(e as Error).message.slice(0, 200)})`);
  }
  if (doc.isEncrypted)
    throw new ScanNotSealable('The scanned PDF is encrypted: scan the paper again without a password');
  if (doc.getPageCount() === 0) throw new ScanNotSealable('The scanned PDF has no pages');
  return doc;
}

type Embedded = Awaited<ReturnType<PDFDocument['embedJpg']>>;

/** A new document with the image embedded and an A4 page for it (landscape for a landscape image). */
async function imageAsPdf(bytes: Buffer, mimeType: string): Promise<{ doc: PDFDocument; image: Embedded }> {
  const doc = await PDFDocument.create();
  let image: Embedded;
  try {
    image = mimeType === 'image/png' ? await doc.embedPng(bytes) : await doc.embedJpg(bytes);
  } catch (e) {
    throw new ScanNotSealable(`The scanned image cannot be read (${(e as Error).message.slice(0, 200)})`);
  }
  if (!(image.width >= 1 && image.height >= 1)) throw new ScanNotSealable('The scanned image is empty');
  doc.addPage(image.width > image.height ? [A4[1], A4[0]] : [A4[0], A4[1]]);
  return { doc, image };
}

/** Lays out the sealed copy (unsigned): the pages with their stamps. Exported for tests of the layout. */
export async function renderSealedCopy(
  scan: Buffer,
  mimeType: string,
  facts: StampFacts & { title: string; at: Date; language: string },
): Promise<PDFDocument> {
  const isPdf = mimeType === 'application/pdf';
  const img = isPdf ? null : await imageAsPdf(scan, mimeType);
  const doc = img ? img.doc : await loadScanPdf(scan);
  const fonts = await embedFonts(doc);
  const pages = doc.getPages();
  if (!img) {
    pages.forEach((page, i) => {
      const lines = stampLines(facts, fonts.regular, visualWidthOf(page), i + 1, pages.length);
      stampPage(page, fonts.regular, lines, stripHeight(lines.length), true);
    });
  } else {
    const page = pages[0]!;
    const [w, h] = [page.getWidth(), page.getHeight()];
    const lines = stampLines(facts, fonts.regular, w, 1, 1);
    const strip = stripHeight(lines.length);
    const { image } = img;
    const margin = 28;
    const boxW = w - 2 * margin;
    const boxH = h - strip - 2 * margin;
    const scale = Math.min(boxW / image.width, boxH / image.height);
    const iw = image.width * scale;
    const ih = image.height * scale;
    page.drawImage(image, { x: (w - iw) / 2, y: strip + margin + (boxH - ih) / 2, width: iw, height: ih });
    stampPage(page, fonts.regular, lines, strip, false);
  }
  doc.setTitle(facts.title);
  doc.setAuthor(facts.entity);
  doc.setSubject(facts.m.reason);
  doc.setLanguage(facts.language === 'oc-aranes' ? 'oc' : facts.language);
  doc.setCreator('Lligall');
  doc.setProducer('Lligall');
  doc.setModificationDate(facts.at);
  if (img) doc.setCreationDate(facts.at);
  return doc;
}

async function auditFailure(
  deps: CopySealDeps,
  ctx: Ctx,
  po: { id: string; entry_id: string; entry_number: string; sha256: string },
  detail: string,
): Promise<void> {
  await deps.db.tenant(ctx.tenant.id, (tx) =>
    recordEvent(tx, {
      tenantId: ctx.tenant.id,
      actor: ctx.actor,
      request: ctx.request,
      clock: ctx.clock,
      action: 'registry.paper_original_seal_fail',
      objectType: 'registry_entry',
      objectId: po.entry_id,
      details: {
        number: po.entry_number,
        paperOriginalId: po.id,
        sha256: po.sha256,
        code: 'SCAN_NOT_SEALABLE',
        detail,
      },
    }),
  );
}

function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: string }).code === '23505';
}

/**
 * Seals the authentic copy of a paper original if it is pending (idempotent; call it outside any
 * transaction). Reads what it needs in one transaction, renders and seals outside it, writes the
 * file, then records the sealed document, its CSV, the paper original's seal and the audit event in
 * a second transaction. PAPER_ORIGINAL_NOT_FOUND for an unknown id (or another entity's).
 */
export async function sealPaperCopy(
  deps: CopySealDeps,
  tenantId: string,
  paperOriginalId: string,
): Promise<CopySealOutcome> {
  const prepare = () =>
    deps.db.tenant(tenantId, async (tx) => {
      const tenant = await tx
        .selectFrom('tenants')
        .select(['id', 'dir3', 'slug', 'name', 'status', 'language'])
        .where('id', '=', tenantId)
        .executeTakeFirstOrThrow();
      const ctx = systemCtx(
        { id: tenant.id, dir3: tenant.dir3, slug: tenant.slug, name: tenant.name, status: tenant.status },
        deps.clock,
      );
      const po = await readPaperOriginal(tx, tenantId, paperOriginalId);
      if (!po) throw new AppError('PAPER_ORIGINAL_NOT_FOUND', `Paper original ${paperOriginalId} not found`);
      if (po.seal_status === 'sealed')
        return { done: await sealedOutcome(tx, tenantId, po.sealed_document_id!) };
      if (po.seal_status === 'not_applicable' || !isSealableScan(po.mime_type))
        return { done: { status: 'not_applicable' } as CopySealOutcome };
      const seal: ActiveSeal | null = await getActiveSeal(tx, ctx, deps.config).catch((e: unknown) => {
        if (e instanceof AppError && e.code === 'NOT_FOUND') return null;
        throw e;
      });
      return { done: null, ctx, language: tenant.language, po, seal };
    });
  let prepared = await prepare();
  if (prepared.done) return prepared.done;
  if (!prepared.seal) {
    // As for receipts: outside production the installation CA's demo seal (the stamp says it is not
    // qualified); in production the copy waits for the entity's real seal (the job retries).
    if (deps.config.env === 'production')
      throw new AppError('NOT_FOUND', 'The entity has no active seal: import it with "lligall seal import"');
    await ensureEntitySeal(deps, tenantId);
    prepared = await prepare();
    if (prepared.done) return prepared.done;
    if (!prepared.seal) throw new AppError('NOT_FOUND', 'The entity has no active seal');
  }
  const { ctx, po, seal, language } = prepared;
  const { m } = copySealMessages(language);
  const csv = newCsv();
  const sealedAt = new Date(deps.clock.now().getTime());
  const scan = await deps.blobs.readVerified(po.sha256);
  let pdf: Buffer;
  try {
    const doc = await renderSealedCopy(scan, po.mime_type, {
      m,
      csv,
      verifyUrl: verificationUrl(deps.config),
      entity: ctx.tenant.name,
      official: po.official_name,
      date: madridDateTime(new Date(po.digitised_at), language),
      qualified: seal.qualified,
      title: po.title,
      at: sealedAt,
      language,
    });
    pdf = await signPdfDocument(doc, seal, {
      name: ctx.tenant.name,
      reason: `${m.reason} (${po.entry_number})`,
      location: ctx.tenant.dir3,
      contactInfo: verificationUrl(deps.config),
      signingTime: sealedAt,
    });
  } catch (e) {
    // A scan pdf-lib cannot rewrite (a damaged object, an unsupported filter) is the scan's problem too.
    const detail =
      e instanceof ScanNotSealable
        ? e.message
        : `The scan cannot be made into a sealed PDF (${(e as Error).message?.slice(0, 200) ?? String(e)})`;
    await auditFailure(deps, ctx, po, detail);
    return { status: 'failed', problem: { code: 'SCAN_NOT_SEALABLE', detail } };
  }
  // The file first, then the rows that point at it.
  const blob = await deps.blobs.put(pdf);
  const base = path.parse(po.file_name).name || 'copia';
  try {
    return await deps.db.tenant(tenantId, async (tx) => {
      // The row is locked: of two concurrent sealers, the second finds the first's seal.
      const current = await tx
        .selectFrom('paper_originals')
        .select(['seal_status', 'sealed_document_id'])
        .where('tenant_id', '=', tenantId)
        .where('id', '=', po.id)
        .forUpdate()
        .executeTakeFirstOrThrow();
      if (current.seal_status === 'sealed') return sealedOutcome(tx, tenantId, current.sealed_document_id!);
      const doc = await insertDocument(tx, ctx, {
        title: po.title,
        fileName: `${base}-${m.fileSuffix}.pdf`,
        mimeType: 'application/pdf',
        sha256: blob.sha256,
        size: blob.size,
        documentType: po.document_type as DocumentType,
        // Still the authentic copy of the paper original (NTI EE03), now sealed with its CSV.
        elaborationState: 'EE03',
        origin: 'citizen',
        supersedesId: po.copy_id,
        incorporatedAt: sealedAt,
        year: madridYear(sealedAt),
      });
      await registerCsv(tx, ctx, csv, doc.id, seal.id);
      // The one change the database allows on a paper original's seal: pending → sealed, once.
      await tx
        .updateTable('paper_originals')
        .set({ seal_status: 'sealed', sealed_document_id: doc.id })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', po.id)
        .execute();
      await recordEvent(tx, {
        tenantId,
        actor: ctx.actor,
        request: ctx.request,
        clock: ctx.clock,
        action: 'registry.paper_original_seal',
        objectType: 'registry_entry',
        objectId: po.entry_id,
        details: {
          number: po.entry_number,
          paperOriginalId: po.id,
          copyDocumentId: po.copy_id,
          sealedDocumentId: doc.id,
          csv,
          sha256: blob.sha256,
          sealId: seal.id,
        },
      });
      return {
        status: 'sealed' as const,
        documentId: doc.id,
        csv: formatCsv(csv),
        sha256: blob.sha256,
        created: true,
      };
    });
  } catch (e) {
    // The CSV drawn was taken (practically impossible): the next attempt (the job) draws another.
    if (!isUniqueViolation(e)) throw e;
    throw new AppError('CONFLICT', 'The sealed copy could not be recorded; it will be retried');
  }
}
