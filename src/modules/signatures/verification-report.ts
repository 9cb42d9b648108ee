import { PDFDocument } from 'pdf-lib';
import type { BlobStore } from '#platform/blobs/blob-store.ts';
import type { Clock, Ctx } from '#platform/context.ts';
import { madridYear } from '#platform/db/counters.ts';
import type { Database, Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { embedFonts, TextFlow } from '#platform/pdf/layout.ts';
import { signPdfDocument } from '#platform/pdf/pades.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { formatCsv, newCsv } from '#modules/csv/csv.ts';
import { registerCsv } from '#modules/csv/csv.service.ts';
import { getDocumentRow, insertDocument } from '#modules/documents/documents.service.ts';
import { visibleTo } from '#modules/expedients/expedients.repository.ts';
import { verificationUrl } from '#modules/registry/receipt.service.ts';
import {
  type ActiveSeal,
  ensureEntitySeal,
  getActiveSeal,
  type KeyConfig,
} from '#modules/seals/seals.service.ts';
import { REPORT_MESSAGES, type ReportLanguage, type ReportMessages } from './verification-report.messages.ts';
import {
  type DocumentToVerify,
  openForVerification,
  type VerificationReport,
  type VerifiedSignature,
  verifyStoredDocument,
} from './verification.service.ts';

/**
 * The verification report of a document's signatures as a sealed PDF (issue 4, item 5): what the
 * JSON report says — each signature's signer, position, claimed time, format, integrity, trust,
 * coverage and certificate, and the verdict — in the caller's language, on A4, sealed PAdES-B-B
 * with the entity's seal (an automated action, LRJSP art. 41–42) and carrying its own CSV.
 *
 * What a secretary expects of it, and so what it is:
 * - Generated on demand: each request verifies the document again and issues a new report stating
 *   that moment (a report is evidence of one verification; an old one is never passed off as new).
 * - Stored: the PDF is kept in the blob store as a document of the entity (TD99, not in any case
 *   file's index) with a csv_index row, so that the CSV printed on it keeps resolving through the
 *   public /verify for as long as the entity keeps its documents — a report handed to a third party
 *   must stay verifiable.
 * - Not added to the case file: incorporating it is an act of the case file's handler (upload the
 *   downloaded report as a document of the case file), not a side effect of consulting it.
 * - Audited: the read as the JSON report audits it (the same step: `document.verify`, plus
 *   `document.read` for a restricted case file), and the issue (`document.verification_report`, with the report's
 *   document, CSV and seal) on the verified document.
 *
 * Three steps, so that nothing slow runs inside a transaction: `openVerificationReport` in the
 * caller's transaction (authorisation, audit of the read, the document's facts, the seal);
 * `issueVerificationReport` after commit (verification, rendering, sealing, storing the file) and
 * then a second transaction that records the document, its CSV and the issue.
 */

export type VerificationReportDeps = {
  db: Database;
  blobs: BlobStore;
  clock: Clock;
  config: KeyConfig & { publicUrl: string | undefined; port: number };
};

type ExpedientRef = { number: string; title: string };

/** What the caller's transaction establishes: who asks, about which document, and the seal to use. */
export type OpenedReport = {
  ctx: Ctx;
  document: DocumentToVerify & {
    title: string;
    eniId: string;
    size: number;
    expedients: ExpedientRef[];
  };
  /** The entity's language: the report's language when the caller states none. */
  entityLanguage: string;
  /** Null when the entity has no active seal yet. */
  seal: ActiveSeal | null;
};

/**
 * In the caller's transaction: `openForVerification` — the JSON report's own step — checks that
 * the caller may read the document and audits the read (DOCUMENT_NOT_FOUND otherwise,
 * `document.read` on a restricted case file, `document.verify` always) and gathers what
 * verification needs; then the facts the report states (title, ENI identifier, size, the case
 * files holding it that the caller sees) and the entity's seal.
 */
export async function openVerificationReport(
  tx: Tx,
  ctx: Ctx,
  config: KeyConfig,
  documentId: string,
): Promise<OpenedReport> {
  const toVerify = await openForVerification(tx, ctx, documentId);
  const row = await getDocumentRow(tx, ctx, toVerify.id);
  if (!row) throw new AppError('DOCUMENT_NOT_FOUND', 'Document not found');
  const expedients = await tx
    .selectFrom('index_entries as i')
    .innerJoin('expedients', (j) =>
      j.onRef('expedients.tenant_id', '=', 'i.tenant_id').onRef('expedients.id', '=', 'i.expedient_id'),
    )
    .select(['expedients.number', 'expedients.title'])
    .where('i.tenant_id', '=', ctx.tenant.id)
    .where('i.document_id', '=', toVerify.id)
    .where(visibleTo(ctx.actor.id ?? '00000000-0000-0000-0000-000000000000'))
    .orderBy('expedients.number')
    .execute();
  const tenant = await tx
    .selectFrom('tenants')
    .select('language')
    .where('id', '=', ctx.tenant.id)
    .executeTakeFirstOrThrow();
  const seal = await getActiveSeal(tx, ctx, config).catch((e: unknown) => {
    if (e instanceof AppError && e.code === 'NOT_FOUND') return null;
    throw e;
  });
  return {
    ctx,
    document: {
      ...toVerify,
      title: row.title,
      eniId: row.eni_id,
      size: Number(row.size_bytes),
      expedients,
    },
    entityLanguage: tenant.language,
    seal,
  };
}

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();

function madrid(t: string, lang: ReportLanguage, withTime = true): string {
  const locale = lang === 'es' ? 'es-ES' : 'ca-ES';
  const key = `${locale}:${withTime}`;
  let f = dateTimeFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, {
      timeZone: 'Europe/Madrid',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      ...(withTime ? { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' } : {}),
    });
    dateTimeFormats.set(key, f);
  }
  return f.format(new Date(t));
}

function size(bytes: number, lang: ReportLanguage): string {
  const locale = lang === 'es' ? 'es-ES' : 'ca-ES';
  const n = new Intl.NumberFormat(locale).format(bytes);
  if (bytes < 1024) return `${n} bytes`;
  const one = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const human = bytes < 1048576 ? `${one.format(bytes / 1024)} KB` : `${one.format(bytes / 1048576)} MB`;
  return `${human} (${n} bytes)`;
}

function verdict(m: ReportMessages, report: VerificationReport, anyDemo: boolean): string[] {
  const lines: string[] = [];
  const sigs = report.signatures;
  if (sigs.length === 0) lines.push(m.verdictNone);
  else if (report.signed) lines.push(m.verdictSigned(sigs.length));
  else if (sigs.some((s) => s.integrity === 'invalid')) lines.push(m.verdictInvalid);
  else lines.push(m.verdictUntrusted);
  if (anyDemo) lines.push(m.verdictDemo);
  return lines;
}

export type ReportFacts = {
  language: ReportLanguage;
  entity: { name: string; dir3: string };
  document: OpenedReport['document'];
  report: VerificationReport;
  csv: string;
  verifyUrl: string;
  /** Whether the seal that seals the report is qualified (else the report says it is a demo seal). */
  qualified: boolean;
  issuedAt: Date;
};

const LABEL_WIDTH = 170;

function signatureSection(
  flow: TextFlow,
  m: ReportMessages,
  f: ReportFacts,
  s: VerifiedSignature,
  i: number,
) {
  const lang = f.language;
  // `demo`: the certificate path ends at the installation CA (a demo key of the local CSC service
  // or a demo seal), held by Lligall, never under the signer's sole control — never qualified.
  const label = s.demo ? ` (${m.demo})` : s.qualified ? ` (${m.qualified})` : '';
  const heading = m.signatureHeading(i + 1, f.report.signatures.length);
  flow.text(`${heading}${label}`, { font: 'bold', size: 11, gapAfter: 3 });
  flow.field(m.signer, s.signer ?? '—', LABEL_WIDTH);
  flow.field(m.position, s.position ?? '—', LABEL_WIDTH);
  flow.field(
    m.signedAt,
    s.signedAt ? `${madrid(s.signedAt, lang)} (${m.timeZone})` : m.signedAtUnknown,
    LABEL_WIDTH,
  );
  flow.field(m.format, s.format, LABEL_WIDTH);
  flow.field(m.integrity, m.integrityValues[s.integrity], LABEL_WIDTH);
  flow.field(m.trust, m.trustValues[s.trust], LABEL_WIDTH);
  const c = s.coverage;
  let coverage = c.scope === 'whole' ? m.coverageWhole : m.coverageRevision(c.revision, c.revisions);
  if (c.scope === 'revision' && c.laterChangesIncremental === true) coverage += ` — ${m.laterIncremental}`;
  if (c.scope === 'revision' && c.laterChangesIncremental === false)
    coverage += ` — ${m.laterNotIncremental}`;
  flow.field(m.coverage, coverage, LABEL_WIDTH);
  if (s.certificate) {
    flow.text(m.certificate, { font: 'bold', size: 10, gapAfter: 1 });
    flow.field(m.subject, s.certificate.subject, LABEL_WIDTH);
    flow.field(m.issuer, s.certificate.issuer, LABEL_WIDTH);
    flow.field(m.serialNumber, s.certificate.serialNumber, LABEL_WIDTH);
    flow.field(
      m.validity,
      m.validityRange(
        madrid(s.certificate.validFrom, lang, false),
        madrid(s.certificate.validTo, lang, false),
      ),
      LABEL_WIDTH,
    );
  } else {
    flow.text(m.noCertificate, { size: 9 });
  }
  if (s.demo) flow.text(m.demoNote, { size: 9, gapAfter: 2 });
  flow.gap(6);
}

/** Lays out the report (unsigned). Exported for the tests of its wording. */
export async function renderVerificationReport(f: ReportFacts): Promise<PDFDocument> {
  const m = REPORT_MESSAGES[f.language];
  const d = f.document;
  const doc = await PDFDocument.create();
  doc.setTitle(m.storedTitle(d.title));
  doc.setAuthor(f.entity.name);
  doc.setLanguage(f.language === 'oc-aranes' ? 'oc' : f.language);
  doc.setCreator('Lligall');
  doc.setProducer('Lligall');
  doc.setCreationDate(f.issuedAt);
  doc.setModificationDate(f.issuedAt);
  const flow = new TextFlow(doc, await embedFonts(doc));
  flow.text(`${f.entity.name} (DIR3 ${f.entity.dir3})`, { font: 'bold', size: 11, gapAfter: 4 });
  flow.text(m.title, { font: 'bold', size: 16, gapAfter: 6 });
  flow.text(m.intro, { size: 9, gapAfter: 6 });
  if (!f.qualified) flow.text(m.notQualified, { font: 'bold', size: 9, gapAfter: 4 });
  flow.rule();
  flow.text(m.documentSection, { font: 'bold', size: 12, gapAfter: 3 });
  flow.field(m.documentTitle, d.title, LABEL_WIDTH);
  flow.field(
    m.expedient,
    d.expedients.length ? d.expedients.map((e) => `${e.number} — ${e.title}`).join('\n') : m.noExpedient,
    LABEL_WIDTH,
  );
  flow.field(m.eniId, d.eniId, LABEL_WIDTH);
  flow.field(m.mimeType, d.mimeType, LABEL_WIDTH);
  flow.field(m.size, size(d.size, f.language), LABEL_WIDTH);
  // On a line of its own, smaller: a hash cut across two lines cannot be compared at a glance.
  flow.text(`${m.sha256}: ${d.sha256}`, { size: 8.5, gapAfter: 3 });
  flow.field(m.verifiedAt, `${madrid(f.report.verifiedAt, f.language)} (${m.timeZone})`, LABEL_WIDTH);
  flow.rule();
  flow.text(m.signaturesSection, { font: 'bold', size: 12, gapAfter: 4 });
  if (f.report.signatures.length === 0) flow.text(m.noSignatures, { gapAfter: 4 });
  for (const [i, s] of f.report.signatures.entries()) signatureSection(flow, m, f, s, i);
  flow.rule();
  flow.text(m.verdict, { font: 'bold', size: 12, gapAfter: 3 });
  for (const line of verdict(
    m,
    f.report,
    f.report.signatures.some((s) => s.demo),
  ))
    flow.text(line, { font: 'bold', size: 10, gapAfter: 2 });
  flow.rule();
  flow.field(m.csv, formatCsv(f.csv), LABEL_WIDTH);
  flow.field(m.verifyAt, f.verifyUrl, LABEL_WIDTH);
  flow.text(m.sealedBy(f.entity.name), { size: 9 });
  flow.footer(
    [
      `${f.entity.name} · ${m.reason} · CSV ${formatCsv(f.csv)}`,
      `${m.verifyAt} ${f.verifyUrl}${f.qualified ? '' : ` · ${m.notQualifiedShort}`}`,
    ],
    m.page,
  );
  return doc;
}

export type IssuedReport = {
  pdf: Buffer;
  /** The stored report's document id (not the verified document's). */
  documentId: string;
  csv: string;
  fileName: string;
};

/** The entity's seal; outside production the installation CA's demo seal when it has none (as receipts do). */
async function sealFor(deps: VerificationReportDeps, opened: OpenedReport): Promise<ActiveSeal> {
  if (opened.seal) return opened.seal;
  if (deps.config.env === 'production')
    throw new AppError(
      'SEAL_UNAVAILABLE',
      'The entity has no active seal to seal the report: import it with "lligall seal import"',
    );
  const { ctx } = opened;
  await ensureEntitySeal(deps, ctx.tenant.id);
  return deps.db.tenant(ctx.tenant.id, (tx) => getActiveSeal(tx, ctx, deps.config));
}

/**
 * Verifies the document, renders the report, seals it, stores the file, then records the report's
 * document, its CSV and the issue in one transaction. Call it outside any transaction.
 */
export async function issueVerificationReport(
  deps: VerificationReportDeps,
  opened: OpenedReport,
  language: ReportLanguage,
): Promise<IssuedReport> {
  const { ctx, document } = opened;
  const report = await verifyStoredDocument(deps, document);
  const seal = await sealFor(deps, opened);
  const m = REPORT_MESSAGES[language];
  const csv = newCsv();
  const issuedAt = new Date(deps.clock.now().getTime());
  const pdfDoc = await renderVerificationReport({
    language,
    entity: { name: ctx.tenant.name, dir3: ctx.tenant.dir3 },
    document,
    report,
    csv,
    verifyUrl: verificationUrl(deps.config),
    qualified: seal.qualified,
    issuedAt,
  });
  const pdf = await signPdfDocument(pdfDoc, seal, {
    name: ctx.tenant.name,
    reason: `${m.reason} ${document.eniId}`,
    location: ctx.tenant.dir3,
    contactInfo: verificationUrl(deps.config),
    signingTime: issuedAt,
  });
  const fileName = `${m.fileStem}-${document.eniId}.pdf`;
  // The file first, then the rows that point at it.
  const blob = await deps.blobs.put(pdf);
  const documentId = await deps.db.tenant(ctx.tenant.id, async (tx) => {
    const stored = await insertDocument(tx, ctx, {
      title: m.storedTitle(document.title),
      fileName,
      mimeType: 'application/pdf',
      sha256: blob.sha256,
      size: blob.size,
      // NTI "Otros": evidence of an automated verification, not a report (informe) of a procedure.
      documentType: 'TD99',
      elaborationState: 'EE01',
      origin: 'administration',
      incorporatedAt: issuedAt,
      year: madridYear(issuedAt),
    });
    await registerCsv(tx, ctx, csv, stored.id, seal.id);
    await recordEvent(tx, {
      tenantId: ctx.tenant.id,
      actor: ctx.actor,
      request: ctx.request,
      clock: ctx.clock,
      action: 'document.verification_report',
      objectType: 'document',
      objectId: document.id,
      details: {
        reportDocumentId: stored.id,
        csv,
        sha256: blob.sha256,
        sealId: seal.id,
        language,
        verifiedSha256: document.sha256,
        signatures: report.signatures.length,
        signed: report.signed,
      },
    });
    return stored.id;
  });
  return { pdf, documentId, csv: formatCsv(csv), fileName };
}
