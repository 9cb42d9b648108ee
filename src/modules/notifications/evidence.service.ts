import { PDFDocument } from 'pdf-lib';
import { type Clock, type Ctx, noRequest, systemActor } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import { madridYear } from '#platform/db/counters.ts';
import type { EvidenceKey } from '#platform/db/schema/notifications.ts';
import { AppError } from '#platform/errors.ts';
import { embedFonts, TextFlow } from '#platform/pdf/layout.ts';
import { signPdfDocument } from '#platform/pdf/pades.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { formatCsv, newCsv } from '#modules/csv/csv.ts';
import { registerCsv } from '#modules/csv/csv.service.ts';
import { insertDocument } from '#modules/documents/documents.service.ts';
import { incorporateExistingDocument } from '#modules/expedients/expedient-documents.service.ts';
import { type ReceiptDeps, verificationUrl } from '#modules/registry/receipt.service.ts';
import { findAuthorisingResolution } from '#modules/seals/resolutions.service.ts';
import { type ActiveSeal, ensureEntitySeal, getActiveSeal } from '#modules/seals/seals.service.ts';
import { findTenantById } from '#modules/tenancy/tenancy.repository.ts';
import { EVIDENCE_MESSAGES, type EvidenceLanguage, type EvidenceMessages } from './evidence.messages.ts';
import {
  type ActedBy,
  type Appeal,
  type AttemptView,
  iso,
  type NotifiedDocument,
  parseJson,
} from './notifications.model.ts';
import { listAttempts } from './notifications.service.ts';

/**
 * The evidence of every outcome of a notification (accepted, rejected, deemed rejected, delivered,
 * rejected on paper, failed) and the edict of its publication (art. 44): an A4 PDF in the
 * entity's language, sealed PAdES-B-B with the entity's seal (an automated action, LRJSP art. 41,
 * authorised by a `notification_evidence` resolution when the entity has one), with a CSV, stored
 * as a document incorporated into the notification's case file.
 *
 * Like the registry's receipt it is issued after the outcome's transaction commits: the outcome and
 * its evidence row are written together (the outcome is never lost), the request issues the PDF
 * right after, and the `notifications.evidence` job does if that process died in between.
 * Idempotent: an evidence row is filled once.
 */

export type EvidenceDeps = ReceiptDeps;

function systemCtx(tenant: Ctx['tenant'], clock: Clock): Ctx {
  // The evidence joins the case file with a case handler's powers, as "system".
  return { tenant, actor: systemActor, roles: ['handler'], request: noRequest, clock };
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();
function madridTime(t: string, lang: EvidenceLanguage): string {
  const locale = lang === 'es' ? 'es-ES' : 'ca-ES';
  let f = timeFormats.get(locale);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, {
      timeZone: 'Europe/Madrid',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    timeFormats.set(locale, f);
  }
  return f.format(new Date(t));
}

export type EvidenceFacts = {
  key: EvidenceKey;
  language: EvidenceLanguage;
  entity: { name: string; dir3: string };
  notification: {
    id: string;
    registryNumber: string;
    expedientNumber: string;
    subject: string;
    recipient: { identifier: string; name: string };
    channel: 'electronic' | 'paper';
    madeAvailableAt: string;
    availableUntil: string | null;
    endsAdministrativeRoute: boolean;
    appeals: Appeal[];
  };
  outcomeAt: string;
  actedBy: ActedBy | null;
  attempts: AttemptView[];
  documents: NotifiedDocument[];
  /** Only for the edict: the text published (LOPDGDD AP 7: the identity document number alone). */
  edictText: string | null;
  csv: string;
  verifyUrl: string;
  qualified: boolean;
  resolution: string | null;
};

/** Lays out an evidence or the edict (unsigned). Exported for the tests of its wording. */
export async function renderEvidence(f: EvidenceFacts): Promise<PDFDocument> {
  const m: EvidenceMessages = EVIDENCE_MESSAGES[f.language];
  const n = f.notification;
  const doc = await PDFDocument.create();
  const title = m.titles[f.key];
  doc.setTitle(`${title} — ${n.registryNumber}`);
  doc.setAuthor(f.entity.name);
  doc.setLanguage(f.language === 'oc-aranes' ? 'oc' : f.language);
  doc.setCreator('Lligall');
  doc.setProducer('Lligall');
  const fixed = new Date(f.outcomeAt);
  doc.setCreationDate(fixed);
  doc.setModificationDate(fixed);
  const flow = new TextFlow(doc, await embedFonts(doc));
  flow.text(`${f.entity.name} (DIR3 ${f.entity.dir3})`, { font: 'bold', size: 11, gapAfter: 4 });
  flow.text(title, { font: 'bold', size: 15, gapAfter: 6 });
  if (!f.qualified) flow.text(m.notQualified, { font: 'bold', size: 9, gapAfter: 4 });
  const tz = ` (${m.timeZone})`;
  if (f.key === 'edict') {
    flow.rule();
    flow.text(f.edictText ?? '', { size: 10.5, gapAfter: 6 });
  } else {
    flow.text(m.intro, { size: 9, gapAfter: 6 });
    flow.rule();
    flow.field(m.entity, `${f.entity.name} — DIR3 ${f.entity.dir3}`);
    flow.field(m.notification, n.id);
    flow.field(m.registryNumber, n.registryNumber);
    flow.field(m.expedient, n.expedientNumber);
    flow.field(m.subject, n.subject);
    flow.field(m.recipient, `${n.recipient.name} — ${n.recipient.identifier}`);
    flow.field(m.channel, m.channels[n.channel]);
    flow.field(m.madeAvailableAt, madridTime(n.madeAvailableAt, f.language) + tz);
    if (n.availableUntil)
      flow.field(
        m.availableUntil,
        madridTime(new Date(Date.parse(n.availableUntil) - 1000).toISOString(), f.language) + tz,
      );
    flow.field(m.outcomeAt, madridTime(f.outcomeAt, f.language) + tz);
    if (f.actedBy) {
      const who = `${f.actedBy.name} — ${f.actedBy.identifier}`;
      flow.field(
        m.actedBy,
        f.actedBy.representationId
          ? `${who}, ${m.representation(f.actedBy.representationId, f.actedBy.representedIdentifier ?? '')}`
          : who,
      );
    }
    if (f.attempts.length > 0) {
      flow.rule();
      flow.text(m.attempts, { font: 'bold', size: 11, gapAfter: 4 });
      for (const a of f.attempts) {
        let line = m.attemptLine(
          a.attemptNo,
          madridTime(a.attemptedAt, f.language),
          m.attemptOutcomes[a.outcome],
        );
        if (a.receiver)
          line +=
            a.receiver.kind === 'party'
              ? ` — ${m.receiverParty}`
              : ` — ${m.receiverOther(a.receiver.name ?? '', a.receiver.identityDocument ?? '', a.receiver.relationship)}`;
        flow.text(line, { size: 9.5, gapAfter: 2 });
      }
    }
    flow.rule();
    flow.text(m.legal[f.key], { size: 9.5, gapAfter: 4 });
    flow.rule();
    flow.text(m.documents, { font: 'bold', size: 11, gapAfter: 4 });
    if (f.documents.length === 0) flow.text(m.noDocuments);
    f.documents.forEach((d, i) => {
      flow.text(`${i + 1}. ${d.title} (${d.fileName})`, { size: 9.5 });
      flow.text(`${m.hashNote} ${d.sha256}`, { font: 'mono', size: 8, indent: 14, gapAfter: 3 });
    });
  }
  flow.rule();
  flow.field(m.csv, formatCsv(f.csv));
  flow.field(m.verifyAt, f.verifyUrl);
  flow.text(m.sealedBy(f.entity.name), { size: 9 });
  if (f.resolution) flow.text(m.authorisedBy(f.resolution), { size: 9 });
  flow.footer(
    [
      `${f.entity.name} · ${n.registryNumber} · CSV ${formatCsv(f.csv)}`,
      `${m.verifyAt} ${f.verifyUrl}${f.qualified ? '' : ` · ${m.notQualifiedShort}`}`,
    ],
    m.page,
  );
  return doc;
}

type Prepared =
  | { done: true; documentId: string; csv: string }
  | { done: false; noSeal: true }
  | {
      done: false;
      noSeal: false;
      ctx: Ctx;
      seal: ActiveSeal;
      expedientId: string;
      facts: Omit<EvidenceFacts, 'csv' | 'verifyUrl' | 'qualified'>;
    };

async function prepare(
  deps: EvidenceDeps,
  tenantId: string,
  notificationId: string,
  key: EvidenceKey,
): Promise<Prepared> {
  return deps.db.tenant(tenantId, async (tx) => {
    const tenant = await findTenantById(tx, tenantId);
    if (!tenant) throw new AppError('ENTITY_NOT_FOUND', 'Entity not found');
    const ctx = systemCtx(
      { id: tenant.id, dir3: tenant.dir3, slug: tenant.slug, name: tenant.name, status: tenant.status },
      deps.clock,
    );
    const ev = await tx
      .selectFrom('notification_evidence')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('notification_id', '=', notificationId)
      .where('key', '=', key)
      .executeTakeFirst();
    if (!ev) throw new AppError('NOT_FOUND', `No ${key} outcome for notification ${notificationId}`);
    if (ev.issued_at && ev.document_id && ev.csv)
      return { done: true, documentId: ev.document_id, csv: ev.csv };
    const seal = await getActiveSeal(tx, ctx, deps.config).catch((e: unknown) => {
      if (e instanceof AppError && e.code === 'NOT_FOUND') return null;
      throw e;
    });
    if (!seal) return { done: false, noSeal: true };
    const n = await tx
      .selectFrom('notifications as n')
      .innerJoin('expedients as e', (j) =>
        j.onRef('e.tenant_id', '=', 'n.tenant_id').onRef('e.id', '=', 'n.expedient_id'),
      )
      .selectAll('n')
      .select('e.number as expedient_number')
      .where('n.tenant_id', '=', tenantId)
      .where('n.id', '=', notificationId)
      .executeTakeFirstOrThrow();
    const documents: NotifiedDocument[] = [];
    for (const id of n.document_ids) {
      const d = await tx
        .selectFrom('documents')
        .select(['id', 'title', 'file_name', 'mime_type', 'size_bytes', 'sha256'])
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      if (d)
        documents.push({
          documentId: d.id,
          title: d.title,
          fileName: d.file_name,
          mimeType: d.mime_type,
          size: Number(d.size_bytes),
          sha256: d.sha256,
        });
    }
    const facts = parseJson<Record<string, unknown>>(ev.facts);
    const resolution = await findAuthorisingResolution(tx, ctx, 'notification_evidence');
    return {
      done: false,
      noSeal: false,
      ctx,
      seal,
      expedientId: n.expedient_id,
      facts: {
        key,
        language: ev.language,
        entity: { name: tenant.name, dir3: tenant.dir3 },
        notification: {
          id: n.id,
          registryNumber: n.registry_number,
          expedientNumber: n.expedient_number,
          subject: n.subject,
          recipient: { identifier: n.recipient_identifier, name: n.recipient_name },
          channel: n.channel,
          madeAvailableAt: iso(n.made_available_at)!,
          availableUntil: iso(n.available_until),
          endsAdministrativeRoute: n.ends_administrative_route,
          appeals: parseJson<Appeal[]>(n.appeals),
        },
        outcomeAt: iso(ev.outcome_at)!,
        actedBy: (facts.actedBy as ActedBy | undefined) ?? null,
        attempts: await listAttempts(tx, ctx, n.id),
        documents,
        edictText: typeof facts.edictText === 'string' ? facts.edictText : null,
        resolution: resolution
          ? `${resolution.title} (${resolution.reference}, ${resolution.approvedOn})`
          : null,
      },
    };
  });
}

const FILE_PREFIX: Record<EvidenceKey, string> = {
  accepted: 'evidencia-acceptada',
  rejected: 'evidencia-rebutjada',
  deemed_rejected: 'evidencia-rebutjada-termini',
  delivered: 'evidencia-lliurada',
  rejected_on_paper: 'evidencia-rebutjada-paper',
  failed: 'evidencia-infructuosa',
  edict: 'anunci-notificacio',
};

/**
 * Issues the evidence PDF of one outcome if it is not issued yet (call it outside any transaction).
 * Reads in one transaction, renders and seals outside it, writes the file, then records the
 * document (incorporated into the case file), its CSV and the evidence in a second transaction.
 */
export async function issueEvidence(
  deps: EvidenceDeps,
  tenantId: string,
  notificationId: string,
  key: EvidenceKey,
): Promise<{ documentId: string; csv: string; created: boolean }> {
  let p = await prepare(deps, tenantId, notificationId, key);
  if (!p.done && p.noSeal) {
    // As for the receipt: outside production an entity without a seal gets the demo seal (the
    // evidence then says it is not qualified); in production the job waits for the real one.
    if (deps.config.env === 'production')
      throw new AppError(
        'SEAL_UNAVAILABLE',
        'The entity has no active seal: import it with "lligall seal import"',
      );
    await ensureEntitySeal(deps, tenantId);
    p = await prepare(deps, tenantId, notificationId, key);
  }
  if (p.done) return { documentId: p.documentId, csv: formatCsv(p.csv), created: false };
  if (p.noSeal) throw new AppError('SEAL_UNAVAILABLE', 'The entity has no active seal');
  const { ctx, seal, facts, expedientId } = p;
  const csv = newCsv();
  const issuedAt = new Date(deps.clock.now().getTime());
  const verifyUrl = verificationUrl(deps.config);
  const m = EVIDENCE_MESSAGES[facts.language];
  const pdf = await signPdfDocument(
    await renderEvidence({ ...facts, csv, verifyUrl, qualified: seal.qualified }),
    seal,
    {
      name: ctx.tenant.name,
      reason: `${m.reason} ${facts.notification.registryNumber}`,
      location: ctx.tenant.dir3,
      contactInfo: verifyUrl,
      signingTime: issuedAt,
    },
  );
  // The file first, then the rows that point at it.
  const blob = await deps.blobs.put(pdf);
  return deps.db.tenant(tenantId, async (tx) => {
    const ev = await tx
      .selectFrom('notification_evidence')
      .select(['document_id', 'csv', 'issued_at'])
      .where('tenant_id', '=', tenantId)
      .where('notification_id', '=', notificationId)
      .where('key', '=', key)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (ev.issued_at && ev.document_id && ev.csv)
      return { documentId: ev.document_id, csv: formatCsv(ev.csv), created: false };
    const doc = await insertDocument(tx, ctx, {
      title: `${m.titles[key]} — ${facts.notification.registryNumber}`,
      fileName: `${FILE_PREFIX[key]}-${facts.notification.registryNumber.replaceAll('/', '-')}.pdf`,
      mimeType: 'application/pdf',
      sha256: blob.sha256,
      size: blob.size,
      documentType: key === 'edict' ? 'TD08' : 'TD09',
      elaborationState: 'EE01',
      origin: 'administration',
      incorporatedAt: null,
      year: madridYear(issuedAt),
    });
    await registerCsv(tx, ctx, csv, doc.id, seal.id);
    const incorporated = await incorporate(tx, ctx, expedientId, doc.id);
    await tx
      .updateTable('notification_evidence')
      .set({ document_id: doc.id, csv, seal_id: seal.id, issued_at: issuedAt, incorporated })
      .where('tenant_id', '=', tenantId)
      .where('notification_id', '=', notificationId)
      .where('key', '=', key)
      .execute();
    await recordEvent(tx, {
      tenantId,
      actor: ctx.actor,
      request: ctx.request,
      clock: ctx.clock,
      action: key === 'edict' ? 'notification.edict_issue' : 'notification.evidence_issue',
      objectType: 'notification',
      objectId: notificationId,
      details: { key, documentId: doc.id, csv, sha256: blob.sha256, sealId: seal.id, incorporated },
    });
    return { documentId: doc.id, csv: formatCsv(csv), created: true };
  });
}

/**
 * Into the case file's index. A case file closed (or made restricted) since the notification no
 * longer takes it from the automated action: the evidence stays a sealed document with its CSV,
 * linked from the notification, and `incorporated` says so.
 */
async function incorporate(tx: Tx, ctx: Ctx, expedientId: string, documentId: string): Promise<boolean> {
  try {
    await incorporateExistingDocument(tx, ctx, expedientId, documentId);
    return true;
  } catch (e) {
    if (e instanceof AppError && (e.code === 'EXPEDIENT_CLOSED' || e.code === 'EXPEDIENT_NOT_FOUND'))
      return false;
    throw e;
  }
}

/** Issues each evidence after its outcome committed; a failure is left to the job (logged). */
export async function issueEvidenceAfterCommit(
  deps: EvidenceDeps,
  items: { tenantId: string; notificationId: string; key: EvidenceKey }[],
  log: (e: unknown, item: { notificationId: string; key: EvidenceKey }) => void,
): Promise<void> {
  for (const it of items) {
    try {
      await issueEvidence(deps, it.tenantId, it.notificationId, it.key);
    } catch (e) {
      log(e, it);
    }
  }
}
