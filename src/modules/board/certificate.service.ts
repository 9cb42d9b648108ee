import { PDFDocument } from 'pdf-lib';
import type { BlobStore } from '#platform/blobs/blob-store.ts';
import {
  type Actor,
  type Clock,
  type Ctx,
  noRequest,
  type RequestMeta,
  systemActor,
} from '#platform/context.ts';
import { madridYear } from '#platform/db/counters.ts';
import type { Database, Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { embedFonts, TextFlow } from '#platform/pdf/layout.ts';
import { signPdfDocument } from '#platform/pdf/pades.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { addDays, madridDateOf } from '#modules/calendar/civil-date.ts';
import { formatCsv, newCsv } from '#modules/csv/csv.ts';
import { registerCsv } from '#modules/csv/csv.service.ts';
import { getDocumentRow, insertDocument } from '#modules/documents/documents.service.ts';
import { incorporateDocument } from '#modules/expedients/expedient-documents.service.ts';
import { findAuthorisingResolution } from '#modules/seals/resolutions.service.ts';
import {
  type ActiveSeal,
  ensureEntitySeal,
  getActiveSeal,
  type KeyConfig,
} from '#modules/seals/seals.service.ts';
import { findTenantById } from '#modules/tenancy/tenancy.repository.ts';
import { canPublish } from './board.policy.ts';
import {
  loadPublicationRow,
  neverVisible,
  type PublicationRow,
  realEnd,
  recordEnd,
} from './board.service.ts';
import {
  CERTIFICATE_MESSAGES,
  type CertificateLanguage,
  certificateLanguage,
} from './certificate.messages.ts';
import { outagesBetween } from './incidents.service.ts';

/**
 * The certificate of publication (Llei 26/2010 art. 58; DOMAIN "Seu electrònica"): once a
 * publication has ended — its period ran out, or it was withdrawn — a PDF in the entity's
 * language states its real start, its real end and every outage of the seu that overlapped the
 * period; sealed PAdES-B-B with the entity's seal (an automated action, LRJSP art. 41.2), with a
 * CSV, incorporated into the case file (TD11, certificate) and audited. Issued by the sweeper
 * at the end, or on demand by staff afterwards; idempotent (the first one recorded stands).
 *
 * Modelled on the registry receipt: read in one transaction, render and seal outside any, write
 * the file, then record the document, its CSV and the certificate in a second transaction.
 */

export type CertificateDeps = {
  db: Database;
  blobs: BlobStore;
  clock: Clock;
  config: KeyConfig & { publicUrl: string | undefined; port: number };
};

export type CertificateRef = {
  documentId: string;
  csv: string;
  issuedAt: string;
  incorporated: boolean;
  created: boolean;
};

function verificationUrl(config: { publicUrl: string | undefined; port: number }): string {
  const origin = config.publicUrl?.replace(/\/+$/, '') ?? `http://localhost:${config.port}`;
  return `${origin}/verify`;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function fmt(locale: string): Intl.DateTimeFormat {
  const key = locale;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, {
      timeZone: 'Europe/Madrid',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    formats.set(key, f);
  }
  return f;
}
const localeOf = (lang: CertificateLanguage) => (lang === 'es' ? 'es-ES' : 'ca-ES');

/** A civil date as the language writes it (27/03/2026). */
function civil(d: string, lang: CertificateLanguage): string {
  return fmt(localeOf(lang)).format(new Date(`${d}T12:00:00Z`));
}

const clockTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Madrid',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/**
 * An instant in Madrid time, written the same way in every language: `27/03/2026 09:00:00`. As an
 * end, midnight is written 24:00:00 of the day before (the day's end, LPACAP art. 30).
 */
function instant(t: Date, lang: CertificateLanguage, asEnd = false): string {
  const time = clockTime.format(t);
  if (asEnd && time === '00:00:00') return `${civil(addDays(madridDateOf(t), -1), lang)} 24:00:00`;
  return `${civil(madridDateOf(t), lang)} ${time}`;
}

type Outage = { startedAt: Date; endedAt: Date | null; description: string };

type Facts = {
  entity: { name: string; dir3: string };
  lang: CertificateLanguage;
  publication: PublicationRow;
  document: { title: string; sha256: string };
  outages: Outage[];
  csv: string;
  verifyUrl: string;
  qualified: boolean;
  resolution: string | null;
  issuedAt: Date;
};

/** Lays out the certificate (unsigned). */
export async function renderCertificate(f: Facts): Promise<PDFDocument> {
  const m = CERTIFICATE_MESSAGES[f.lang];
  const p = f.publication;
  const doc = await PDFDocument.create();
  doc.setTitle(`${m.title} — ${p.public_title}`);
  doc.setAuthor(f.entity.name);
  doc.setLanguage(f.lang === 'oc-aranes' ? 'oc' : f.lang);
  doc.setCreator('Lligall');
  doc.setProducer('Lligall');
  doc.setCreationDate(f.issuedAt);
  doc.setModificationDate(f.issuedAt);
  const flow = new TextFlow(doc, await embedFonts(doc));
  const tz = ` (${m.timeZone})`;
  flow.text(`${f.entity.name} (DIR3 ${f.entity.dir3})`, { font: 'bold', size: 11, gapAfter: 4 });
  flow.text(m.title, { font: 'bold', size: 16, gapAfter: 6 });
  flow.text(m.intro, { size: 9, gapAfter: 6 });
  if (!f.qualified) flow.text(m.notQualified, { font: 'bold', size: 9, gapAfter: 4 });
  flow.rule();
  flow.field(m.entity, `${f.entity.name} — DIR3 ${f.entity.dir3}`);
  flow.field(m.publication, p.id);
  flow.field(m.publicTitle, p.public_title);
  flow.field(m.summary, p.public_summary);
  flow.field(m.expedient, p.expedient_number);
  flow.field(m.document, `${f.document.title} — SHA-256 ${f.document.sha256}`);
  flow.rule();
  flow.field(m.startDate, civil(p.start_date, f.lang));
  flow.field(
    m.term,
    p.term_amount !== null && p.term_unit ? m.terms[p.term_unit](p.term_amount) : m.terms.endDate,
  );
  flow.field(m.lastDay, civil(p.end_date, f.lang));
  flow.field(m.realStart, instant(new Date(p.visible_from), f.lang) + tz);
  flow.field(m.realEnd, instant(realEnd(p), f.lang, true) + tz);
  flow.text(
    p.withdrawn_at && p.withdrawal_reason && new Date(p.withdrawn_at) < new Date(p.visible_until)
      ? m.endedBy.withdrawal(p.withdrawal_reason)
      : m.endedBy.period,
    { size: 10, gapAfter: 4 },
  );
  flow.rule();
  flow.text(m.outages, { font: 'bold', size: 11, gapAfter: 4 });
  if (f.outages.length === 0) flow.text(m.noOutages, { size: 10 });
  for (const o of f.outages)
    flow.text(
      m.outageLine(
        instant(o.startedAt, f.lang),
        o.endedAt ? instant(o.endedAt, f.lang) : m.ongoing,
        o.description,
      ) + tz,
      { size: 10, gapAfter: 2 },
    );
  flow.rule();
  flow.field(m.csv, formatCsv(f.csv));
  flow.field(m.verifyAt, f.verifyUrl);
  flow.text(m.sealedBy(f.entity.name), { size: 9 });
  if (f.resolution) flow.text(m.authorisedBy(f.resolution), { size: 9 });
  flow.footer(
    [
      `${f.entity.name} · ${m.title} · CSV ${formatCsv(f.csv)}`,
      `${m.verifyAt} ${f.verifyUrl}${f.qualified ? '' : ` · ${m.notQualifiedShort}`}`,
    ],
    m.page,
  );
  return doc;
}

function certificateRef(r: PublicationRow, created: boolean): CertificateRef | null {
  if (!r.certificate_document_id || !r.certificate_csv || !r.certificate_issued_at) return null;
  return {
    documentId: r.certificate_document_id,
    csv: formatCsv(r.certificate_csv),
    issuedAt: new Date(r.certificate_issued_at).toISOString(),
    incorporated: r.certificate_incorporated ?? false,
    created,
  };
}

/** Who issues it: the system (the automated action), acting with a case handler's powers. */
function systemCtx(tenant: Ctx['tenant'], clock: Clock): Ctx {
  return { tenant, actor: systemActor, roles: ['handler'], request: noRequest, clock };
}

type Prepared =
  | { existing: CertificateRef }
  | { existing: null; noSeal: true }
  | {
      existing: null;
      noSeal: false;
      ctx: Ctx;
      seal: ActiveSeal;
      facts: Omit<Facts, 'csv' | 'issuedAt'>;
    };

async function prepare(deps: CertificateDeps, tenantId: string, publicationId: string): Promise<Prepared> {
  return deps.db.tenant(tenantId, async (tx) => {
    const tenant = await findTenantById(tx, tenantId);
    if (!tenant) throw new AppError('ENTITY_NOT_FOUND', 'Entity not found');
    const ctx = systemCtx(
      { id: tenant.id, dir3: tenant.dir3, slug: tenant.slug, name: tenant.name, status: tenant.status },
      deps.clock,
    );
    let r = await loadPublicationRow(tx, tenantId, publicationId, { forUpdate: true });
    const existing = certificateRef(r, false);
    if (existing) return { existing };
    if (realEnd(r).getTime() > deps.clock.now().getTime())
      throw new AppError(
        'BOARD_PUBLICATION_NOT_ENDED',
        `The publication is on the board until ${realEnd(r).toISOString()}`,
      );
    if (neverVisible(r))
      throw new AppError(
        'BOARD_NEVER_PUBLISHED',
        'The publication was withdrawn before its start: it was never visible',
      );
    r = await recordEnd(tx, ctx, r);
    const seal = await getActiveSeal(tx, ctx, deps.config).catch((e: unknown) => {
      if (e instanceof AppError && e.code === 'NOT_FOUND') return null;
      throw e;
    });
    if (!seal) return { existing: null, noSeal: true };
    const doc = await getDocumentRow(tx, ctx, r.document_id);
    const resolution = await findAuthorisingResolution(tx, ctx, 'certificate_issue');
    return {
      existing: null,
      noSeal: false,
      ctx,
      seal,
      facts: {
        entity: { name: tenant.name, dir3: tenant.dir3 },
        lang: certificateLanguage(tenant.language),
        publication: r,
        document: { title: doc?.title ?? '', sha256: doc?.sha256 ?? '' },
        outages: await outagesBetween(tx, ctx, new Date(r.visible_from), realEnd(r)),
        verifyUrl: verificationUrl(deps.config),
        qualified: seal.qualified,
        resolution: resolution
          ? `${resolution.title} (${resolution.reference}, ${resolution.approvedOn})`
          : null,
      },
    };
  });
}

/**
 * Issues the certificate of an ended publication if it has none (idempotent; call it outside
 * any transaction). `by` is the staff member who asked for it (on demand), audited with it.
 */
export async function issueCertificate(
  deps: CertificateDeps,
  tenantId: string,
  publicationId: string,
  by?: { actor: Actor; request: RequestMeta },
): Promise<CertificateRef> {
  let prepared = await prepare(deps, tenantId, publicationId);
  if (prepared.existing) return prepared.existing;
  if (prepared.noSeal) {
    if (deps.config.env === 'production')
      throw new AppError(
        'SEAL_UNAVAILABLE',
        'The entity has no active seal: import it with "lligall seal import"',
      );
    await ensureEntitySeal(deps, tenantId);
    prepared = await prepare(deps, tenantId, publicationId);
    if (prepared.existing) return prepared.existing;
    if (prepared.noSeal) throw new AppError('SEAL_UNAVAILABLE', 'The entity has no active seal');
  }
  const { ctx, seal, facts } = prepared;
  const m = CERTIFICATE_MESSAGES[facts.lang];
  const csv = newCsv();
  const issuedAt = new Date(deps.clock.now().getTime());
  const pdf = await signPdfDocument(await renderCertificate({ ...facts, csv, issuedAt }), seal, {
    name: ctx.tenant.name,
    reason: m.reason,
    location: ctx.tenant.dir3,
    contactInfo: facts.verifyUrl,
    signingTime: issuedAt,
  });
  // The file first, then the rows that point at it.
  const blob = await deps.blobs.put(pdf);
  return deps.db.tenant(tenantId, async (tx) => {
    const r = await loadPublicationRow(tx, tenantId, publicationId, { forUpdate: true });
    const existing = certificateRef(r, false);
    if (existing) return existing;
    const doc = {
      title: `${m.title} — ${r.expedient_number}`,
      fileName: `${m.fileName}-${r.id.slice(0, 8)}.pdf`,
      mimeType: 'application/pdf',
      sha256: blob.sha256,
      size: blob.size,
      documentType: 'TD11' as const,
      elaborationState: 'EE01' as const,
      origin: 'administration' as const,
    };
    let documentId: string;
    let incorporated = true;
    try {
      documentId = (await incorporateDocument(tx, ctx, r.expedient_id, doc)).id;
    } catch (e) {
      // A case file closed meanwhile (or restricted, hence invisible to the system): the certificate
      // is still kept as an immutable document with its CSV, and the publication points at it.
      if (
        !(e instanceof AppError) ||
        !['EXPEDIENT_CLOSED', 'EXPEDIENT_NOT_FOUND', 'FORBIDDEN'].includes(e.code)
      )
        throw e;
      incorporated = false;
      documentId = (
        await insertDocument(tx, ctx, { ...doc, incorporatedAt: issuedAt, year: madridYear(issuedAt) })
      ).id;
    }
    await registerCsv(tx, ctx, csv, documentId, seal.id);
    await tx
      .updateTable('board_publications')
      .set({
        certificate_document_id: documentId,
        certificate_csv: csv,
        certificate_issued_at: issuedAt,
        certificate_incorporated: incorporated,
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', r.id)
      .execute();
    await tx
      .deleteFrom('board_due')
      .where('tenant_id', '=', tenantId)
      .where('publication_id', '=', r.id)
      .execute();
    await recordEvent(tx, {
      tenantId,
      actor: by?.actor ?? ctx.actor,
      request: by?.request ?? ctx.request,
      clock: ctx.clock,
      action: 'board.certificate_issue',
      objectType: 'board_publication',
      objectId: r.id,
      details: {
        documentId,
        csv,
        sha256: blob.sha256,
        sealId: seal.id,
        incorporated,
        expedientId: r.expedient_id,
        realStart: new Date(r.visible_from).toISOString(),
        realEnd: realEnd(r).toISOString(),
        outages: facts.outages.length,
      },
    });
    return {
      documentId,
      csv: formatCsv(csv),
      issuedAt: issuedAt.toISOString(),
      incorporated,
      created: true,
    };
  });
}

/** Staff may ask for the certificate of one of the entity's publications (checked in their transaction). */
export async function assertCanCertify(tx: Tx, ctx: Ctx, publicationId: string): Promise<void> {
  if (!canPublish(ctx)) throw new AppError('FORBIDDEN', 'You may not ask for certificates of publication');
  await loadPublicationRow(tx, ctx.tenant.id, publicationId);
}

/** The certificate's document (for download), or BOARD_CERTIFICATE_NOT_READY. */
export async function getCertificateDocument(
  tx: Tx,
  ctx: Ctx,
  publicationId: string,
): Promise<{ sha256: string; fileName: string; size: number }> {
  if (!canPublish(ctx)) throw new AppError('FORBIDDEN', 'You may not read certificates of publication');
  const r = await loadPublicationRow(tx, ctx.tenant.id, publicationId);
  if (!r.certificate_document_id)
    throw new AppError(
      'BOARD_CERTIFICATE_NOT_READY',
      'The certificate of this publication has not been issued yet',
    );
  const d = await getDocumentRow(tx, ctx, r.certificate_document_id);
  if (!d)
    throw new AppError(
      'BOARD_CERTIFICATE_NOT_READY',
      'The certificate of this publication has not been issued yet',
    );
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'board.certificate_download',
    objectType: 'board_publication',
    objectId: r.id,
    details: { documentId: d.id },
  });
  return { sha256: d.sha256, fileName: d.file_name, size: Number(d.size_bytes) };
}

/**
 * The sweeper (board.jobs.ts; reads deps.clock): every publication whose real end has passed
 * gets its end recorded and its certificate issued. A publication withdrawn before its start has
 * nothing to certify: its end is recorded and it leaves the list. One that fails (no seal in
 * production, a broken file store) stays on the list and is tried again at the next sweep.
 */
export async function sweepBoard(
  deps: CertificateDeps,
): Promise<{ certified: number; ended: number; failed: number }> {
  const now = deps.clock.now();
  const due = await deps.db.platform((tx) =>
    tx
      .selectFrom('board_due')
      .select(['tenant_id', 'publication_id'])
      .where('due_at', '<=', now)
      .orderBy('due_at')
      .limit(500)
      .execute(),
  );
  const out = { certified: 0, ended: 0, failed: 0 };
  for (const d of due) {
    try {
      const never = await deps.db.tenant(d.tenant_id, async (tx) => {
        const tenant = await findTenantById(tx, d.tenant_id);
        if (!tenant) return false;
        const ctx = systemCtx(
          { id: tenant.id, dir3: tenant.dir3, slug: tenant.slug, name: tenant.name, status: tenant.status },
          deps.clock,
        );
        const r = await loadPublicationRow(tx, d.tenant_id, d.publication_id, { forUpdate: true });
        if (realEnd(r).getTime() > now.getTime()) return false;
        await recordEnd(tx, ctx, r);
        if (!neverVisible(r)) return false;
        await tx
          .deleteFrom('board_due')
          .where('tenant_id', '=', d.tenant_id)
          .where('publication_id', '=', d.publication_id)
          .execute();
        return true;
      });
      out.ended++;
      if (never) continue;
      await issueCertificate(deps, d.tenant_id, d.publication_id);
      out.certified++;
    } catch (e) {
      out.failed++;
      console.error(`board: publication ${d.publication_id} of ${d.tenant_id} not certified: ${String(e)}`);
    }
  }
  return out;
}
