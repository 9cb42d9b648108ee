import { sql } from 'kysely';
import { PDFDocument } from 'pdf-lib';
import type { BlobStore } from '#platform/blobs/blob-store.ts';
import { type Clock, type Ctx, noRequest, systemActor } from '#platform/context.ts';
import { type Database, deferOrRun, type Tx, txCacheVersion } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { signPdfDocument } from '#platform/pdf/pades.ts';
import { embedFonts, TextFlow } from '#platform/pdf/layout.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { formatCsv, newCsv } from '#modules/csv/csv.ts';
import { csvIndexRow } from '#modules/csv/csv.service.ts';
import { newDocumentRow, recordDocumentCreated } from '#modules/documents/documents.service.ts';
import { findAuthorisingResolution } from '#modules/seals/resolutions.service.ts';
import {
  type ActiveSeal,
  ensureEntitySeal,
  getActiveSeal,
  type KeyConfig,
} from '#modules/seals/seals.service.ts';
import { findUnit } from '#modules/tenancy/units.service.ts';
import { madridDateOf } from '#modules/calendar/civil-date.ts';
import { madridYear } from '#platform/db/counters.ts';
import { RECEIPT_MESSAGES, type ReceiptLanguage } from './receipt.messages.ts';
import { canReadRegistry } from './registry.policy.ts';
import { type EntryView, findReceipt, getEntry, type ReceiptRef } from './registry.service.ts';

type UnitRef = { name: string; dir3: string | null };

/**
 * The receipt (justificant) of a registry entry, LPACAP art. 16.3: an A4 PDF in the filer's
 * language that is an authenticated copy of what was filed (the full text of an online
 * request), with the entity's name and DIR3, the entry number, the presented, registered and
 * effective times, the party, the summary and the attachments with their SHA-256, the CSV and the
 * verification address; sealed PAdES-B-B with the entity's seal (an automated action, art. 41.2)
 * and stored as a document of the entry.
 *
 * It is issued after the entry's transaction commits (slow work never runs inside a
 * transaction): the route issues it at once, and the entry's row on `registry_receipts_due`
 * (added by makeEntry) lets `sweepDueReceipts` issue it if the process died in between.
 * Issuing is idempotent: the first receipt recorded wins (and removes the due row), later
 * attempts return it.
 */

/**
 * The pg-boss job that issued one entry's receipt before registry_receipts_due (migration 0025).
 * Still handled, for jobs enqueued before an upgrade; nothing enqueues it now.
 */
export const RECEIPT_JOB = 'registry.receipt';
export type ReceiptJobData = { tenantId: string; entryId: string };

export type ReceiptDeps = {
  db: Database;
  blobs: BlobStore;
  clock: Clock;
  config: KeyConfig & { publicUrl: string | undefined; port: number };
};

/** Where anyone verifies a CSV: the seu's verification page. */
export function verificationUrl(config: { publicUrl: string | undefined; port: number }): string {
  const origin = config.publicUrl?.replace(/\/+$/, '') ?? `http://localhost:${config.port}`;
  return `${origin}/verify`;
}

/** The automated action acts with the registry office's powers, as "system". */
function systemCtx(tenant: Ctx['tenant'], clock: Clock): Ctx {
  return { tenant, actor: systemActor, roles: ['registrar'], request: noRequest, clock };
}

/** The receipt's document (for download), or RECEIPT_NOT_READY while it is being issued. */
export async function getReceiptDocument(
  tx: Tx,
  ctx: Ctx,
  entryId: string,
): Promise<{ documentId: string; sha256: string; fileName: string; size: number }> {
  if (!canReadRegistry(ctx)) throw new AppError('FORBIDDEN', 'You may not consult this registry');
  const entry = await getEntry(tx, ctx, entryId);
  const r = await tx
    .selectFrom('registry_receipts as r')
    .innerJoin('documents as d', (j) =>
      j.onRef('d.tenant_id', '=', 'r.tenant_id').onRef('d.id', '=', 'r.document_id'),
    )
    .select(['d.id', 'd.sha256', 'd.file_name', 'd.size_bytes'])
    .where('r.tenant_id', '=', ctx.tenant.id)
    .where('r.entry_id', '=', entry.id)
    .executeTakeFirst();
  if (!r)
    throw new AppError(
      'RECEIPT_NOT_READY',
      `The receipt of ${entry.number} is being issued; retry in a moment`,
    );
  return { documentId: r.id, sha256: r.sha256, fileName: r.file_name, size: Number(r.size_bytes) };
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();

function madridTime(t: string, lang: ReceiptLanguage): string {
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

function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1048576) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

type ReceiptFacts = {
  entity: { name: string; dir3: string };
  entry: EntryView;
  office: { name: string; dir3: string | null } | null;
  recipientUnit: { name: string; dir3: string | null } | null;
  csv: string;
  verifyUrl: string;
  qualified: boolean;
  resolution: string | null;
};

/** Lays out the receipt (unsigned). Exported for the tests of its wording. */
export async function renderReceipt(f: ReceiptFacts): Promise<PDFDocument> {
  const lang = (
    ['ca', 'es', 'oc-aranes'].includes(f.entry.language) ? f.entry.language : 'ca'
  ) as ReceiptLanguage;
  const m = RECEIPT_MESSAGES[lang];
  const e = f.entry;
  const doc = await PDFDocument.create();
  const title = e.direction === 'E' ? m.titleE : m.titleS;
  doc.setTitle(`${title} ${e.number}`);
  doc.setAuthor(f.entity.name);
  doc.setLanguage(lang === 'oc-aranes' ? 'oc' : lang);
  doc.setCreator('Lligall');
  doc.setProducer('Lligall');
  const fixed = new Date(e.registeredAt);
  doc.setCreationDate(fixed);
  doc.setModificationDate(fixed);
  const flow = new TextFlow(doc, await embedFonts(doc));
  flow.text(`${f.entity.name} (DIR3 ${f.entity.dir3})`, { font: 'bold', size: 11, gapAfter: 4 });
  flow.text(title, { font: 'bold', size: 16, gapAfter: 6 });
  flow.text(m.intro, { size: 9, gapAfter: 6 });
  if (!f.qualified) flow.text(m.notQualified, { font: 'bold', size: 9, gapAfter: 4 });
  flow.rule();
  const tz = ` (${m.timeZone})`;
  flow.field(m.entity, `${f.entity.name} — DIR3 ${f.entity.dir3}`);
  flow.field(m.number, e.number);
  flow.field(m.presentedAt, madridTime(e.presentedAt, lang) + tz);
  flow.field(m.registeredAt, madridTime(e.registeredAt, lang) + tz);
  flow.field(m.effectiveAt, e.effectiveAt ? madridTime(e.effectiveAt, lang) + tz : m.effectiveUnknown);
  flow.field(m.channel, m.channels[e.channel]);
  if (f.office) flow.field(m.office, f.office.dir3 ? `${f.office.name} (${f.office.dir3})` : f.office.name);
  if (e.party) flow.field(m.party, `${e.party.name} — ${e.party.identifier}`);
  if (e.sendingBody) flow.field(m.sendingBody, e.sendingBody);
  const recipient = [
    f.recipientUnit
      ? f.recipientUnit.dir3
        ? `${f.recipientUnit.name} (${f.recipientUnit.dir3})`
        : f.recipientUnit.name
      : null,
    e.recipientPerson,
  ]
    .filter(Boolean)
    .join(' — ');
  if (recipient) flow.field(m.recipient, recipient);
  flow.field(m.heading, e.heading);
  flow.field(m.summary, e.summary);
  flow.field(m.language, m.languages[lang]);
  if (e.text) {
    flow.rule();
    flow.text(m.filedText, { font: 'bold', size: 11, gapAfter: 4 });
    flow.text(e.text, { size: 10, gapAfter: 4 });
  }
  flow.rule();
  flow.text(m.attachments, { font: 'bold', size: 11, gapAfter: 4 });
  if (e.attachments.length === 0) flow.text(m.noAttachments);
  for (const a of e.attachments) {
    flow.text(m.attachmentLine(a.position, a.fileName, humanSize(a.size)), { size: 9.5 });
    flow.text(`${m.hashNote} ${a.sha256}`, { font: 'mono', size: 8, indent: 14, gapAfter: 3 });
  }
  flow.rule();
  flow.field(m.csv, formatCsv(f.csv));
  // The address alone (the CSV is the line above): a code cut across two lines is hard to type.
  flow.field(m.verifyAt, f.verifyUrl);
  flow.text(m.sealedBy(f.entity.name), { size: 9 });
  if (f.resolution) flow.text(m.authorisedBy(f.resolution), { size: 9 });
  flow.footer(
    [
      `${f.entity.name} · ${e.number} · CSV ${formatCsv(f.csv)}`,
      `${m.verifyAt} ${f.verifyUrl}${f.qualified ? '' : ` · ${m.notQualifiedShort}`}`,
    ],
    m.page,
  );
  return doc;
}

function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: string }).code === '23505';
}

/** What a receipt needs besides the entry itself: the seal, the units named and the resolution. */
export type ReceiptContext = {
  ctx: Ctx;
  seal: ActiveSeal;
  office: UnitRef | null;
  recipientUnit: UnitRef | null;
  resolution: string | null;
};

/**
 * Reads the receipt's context in the caller's transaction, as the automated action (null when
 * the entity has no active seal yet). The request that makes an entry calls it in the entry's
 * transaction, before the entry's counter is taken, so that it can issue the receipt right after
 * commit without a second read; the job reads it again with the entry.
 */
export async function loadReceiptContext(
  tx: Tx,
  tenant: Ctx['tenant'],
  deps: Pick<ReceiptDeps, 'clock' | 'config'>,
  units: { officeId: string | null; recipientUnitId: string | null },
  opts: { forEntry?: boolean } = {},
): Promise<ReceiptContext | null> {
  const ctx = systemCtx(tenant, deps.clock);
  const now = deps.clock.now();
  // The seal and the resolution as this process last read them for the same version of the seals
  // and resolutions (renewed by every change to them: migration 0026) and the same day.
  const version = txCacheVersion(tx, 'seals');
  const key = version ? `${tenant.id}\n${version}\n${madridDateOf(now)}` : null;
  let found = key ? receiptSeals.get(key) : undefined;
  if (found && (now < found.seal.validFrom || now > found.seal.validTo)) found = undefined;
  if (!found) {
    // No seal is null. In the entry's transaction (forEntry) a seal outside its validity is null too:
    // the entry is made all the same, and issueReceipt's own path deals with the seal after commit.
    const seal = await getActiveSeal(tx, ctx, deps.config).catch((e: unknown) => {
      if (e instanceof AppError && e.code === 'NOT_FOUND') return null;
      if (opts.forEntry && e instanceof AppError && e.code === 'CONFLICT') return null;
      throw e;
    });
    if (!seal) return null;
    const r = await findAuthorisingResolution(tx, ctx, 'registry_receipt');
    found = { seal, resolution: r ? `${r.title} (${r.reference}, ${r.approvedOn})` : null };
    if (key) {
      if (receiptSeals.size >= MAX_RECEIPT_SEALS) receiptSeals.clear();
      receiptSeals.set(key, found);
    }
  }
  const unit = async (id: string | null) => {
    const u = id ? await findUnit(tx, ctx, id) : undefined;
    return u ? { name: u.name, dir3: u.dir3 } : null;
  };
  const office = await unit(units.officeId);
  const recipientUnit = await unit(units.recipientUnitId);
  return { ctx, seal: found.seal, office, recipientUnit, resolution: found.resolution };
}

/**
 * The seal and the authorising resolution of each entity's receipts, by entity, version of the
 * seals (txCacheVersion) and Europe/Madrid day (a resolution is in force by days): read once, not
 * for every entry. Bounded: cleared when it grows past MAX_RECEIPT_SEALS.
 */
const receiptSeals = new Map<string, { seal: ActiveSeal; resolution: string | null }>();
const MAX_RECEIPT_SEALS = 1000;

/**
 * Issues the entry's receipt if it has none (idempotent; call it outside any transaction).
 * Reads what it needs in one transaction, renders and seals the PDF outside it, writes the file,
 * then records the document, its CSV and the receipt in a second transaction. `known` is the
 * entry and its receipt context as the request that made the entry read them in the entry's
 * transaction: the first transaction is then not needed.
 */
export async function issueReceipt(
  deps: ReceiptDeps,
  tenantId: string,
  entryId: string,
  known?: { entry: EntryView; context: ReceiptContext },
): Promise<ReceiptRef & { created: boolean }> {
  if (known) return sealAndRecord(deps, tenantId, known.entry, known.context);
  const prepare = () =>
    deps.db.tenant(tenantId, async (tx) => {
      const tenant = await tx
        .selectFrom('tenants')
        .select(['id', 'dir3', 'slug', 'name', 'status'])
        .where('id', '=', tenantId)
        .executeTakeFirstOrThrow();
      const ctx = systemCtx(tenant, deps.clock);
      const existing = await findReceipt(tx, ctx, entryId);
      if (existing) return { existing };
      const entry = await getEntry(tx, ctx, entryId);
      const context = await loadReceiptContext(tx, tenant, deps, entry);
      if (!context) return { existing: null, noSeal: true as const };
      return { existing: null, noSeal: false as const, entry, context };
    });
  let prepared = await prepare();
  if (prepared.noSeal) {
    // An entity without a seal gets the installation CA's demo seal outside production (the
    // receipt then says it is not qualified); in production the operator imports the real one and
    // the receipt waits for it (the receipts sweeper tries again).
    if (deps.config.env === 'production')
      throw new AppError('NOT_FOUND', 'The entity has no active seal: import it with "lligall seal import"');
    await ensureEntitySeal(deps, tenantId);
    prepared = await prepare();
  }
  if (prepared.existing) return { ...prepared.existing, created: false };
  if (prepared.noSeal) throw new AppError('NOT_FOUND', 'The entity has no active seal');
  return sealAndRecord(deps, tenantId, prepared.entry, prepared.context);
}

/** Renders and seals the receipt outside any transaction, stores the file, then records it. */
async function sealAndRecord(
  deps: ReceiptDeps,
  tenantId: string,
  entry: EntryView,
  context: ReceiptContext,
): Promise<ReceiptRef & { created: boolean }> {
  const { ctx, seal } = context;
  const entryId = entry.id;
  const csv = newCsv();
  const issuedAt = new Date(deps.clock.now().getTime());
  const pdfDoc = await renderReceipt({
    entity: { name: ctx.tenant.name, dir3: ctx.tenant.dir3 },
    entry,
    office: context.office,
    recipientUnit: context.recipientUnit,
    csv,
    verifyUrl: verificationUrl(deps.config),
    qualified: seal.qualified,
    resolution: context.resolution,
  });
  const messages = RECEIPT_MESSAGES[entry.language as ReceiptLanguage] ?? RECEIPT_MESSAGES.ca;
  const pdf = await signPdfDocument(pdfDoc, seal, {
    name: ctx.tenant.name,
    reason: `${messages.reason} ${entry.number}`,
    location: ctx.tenant.dir3,
    contactInfo: verificationUrl(deps.config),
    signingTime: issuedAt,
  });
  // The file first, then the rows that point at it.
  const blob = await deps.blobs.put(pdf);
  try {
    // Another process may record this entry's receipt meanwhile (the sweeper, after a crash): the
    // receipt's key refuses the second one, and the first stands (below).
    return await deps.db.tenant(tenantId, async (tx) => {
      const fileName = `justificant-${entry.number.replaceAll('/', '-')}.pdf`;
      const doc = newDocumentRow(ctx, {
        title: `${entry.direction === 'E' ? messages.titleE : messages.titleS} ${entry.number}`,
        fileName,
        mimeType: 'application/pdf',
        sha256: blob.sha256,
        size: blob.size,
        documentType: 'TD99',
        elaborationState: 'EE01',
        origin: 'administration',
        incorporatedAt: issuedAt,
        year: madridYear(issuedAt),
      });
      // The document, its CSV and the receipt in one statement (their keys are checked at its
      // end), which also takes the entry off the list of receipts due; sent with the COMMIT (its
      // key's refusal, below, is then the commit's error).
      const statement = tx
        .with('d', (db) => db.insertInto('documents').values(doc))
        .with('c', (db) => db.insertInto('csv_index').values(csvIndexRow(ctx, csv, doc.id, seal.id)))
        .with('due', (db) =>
          db
            .deleteFrom('registry_receipts_due')
            .where('tenant_id', '=', tenantId)
            .where('entry_id', '=', entry.id),
        )
        .insertInto('registry_receipts')
        .values({
          tenant_id: tenantId,
          entry_id: entry.id,
          document_id: doc.id,
          csv,
          seal_id: seal.id,
          language: entry.language as ReceiptLanguage,
          issued_at: issuedAt,
        })
        .compile();
      await deferOrRun(tx, statement);
      await recordDocumentCreated(tx, ctx, doc);
      await recordEvent(tx, {
        tenantId,
        actor: ctx.actor,
        request: ctx.request,
        clock: ctx.clock,
        action: 'registry.receipt_issue',
        objectType: 'registry_entry',
        objectId: entry.id,
        details: { number: entry.number, documentId: doc.id, csv, sha256: blob.sha256, sealId: seal.id },
      });
      return { documentId: doc.id, csv: formatCsv(csv), issuedAt: issuedAt.toISOString(), created: true };
    });
  } catch (e) {
    // Another process recorded the receipt first: theirs stands.
    if (!isUniqueViolation(e)) throw e;
    const existing = await deps.db.tenant(tenantId, (tx) => findReceipt(tx, ctx, entryId));
    if (!existing) throw e;
    return { ...existing, created: false };
  }
}

/** How often a worker process looks for receipts due (registry_receipts_due). */
export const RECEIPT_SWEEP_SECONDS = 5;
/** A receipt the sweeper could not issue is tried again after 30 s, doubling, at most hourly. */
const RETRY_FIRST_SECONDS = 30;
const RETRY_MAX_SECONDS = 3600;
/** Receipts claimed per sweep (the rest wait for the next one). */
const SWEEP_BATCH = 100;

/**
 * Issues the receipts that are due and not recorded: entries whose request did not issue theirs
 * (its process died after the commit; the entity had no active seal). Reads deps.clock. Each row
 * taken is pushed forward in the statement that takes it (attempts + 1, due again after the
 * backoff), so sweepers of several processes never take the same entry; recording the receipt
 * removes the row. A failure is kept on the row (last_error, attempts) and tried again later; an
 * entry whose receipt exists already (recorded by someone else meanwhile) just leaves the list.
 */
export async function sweepDueReceipts(
  deps: ReceiptDeps,
): Promise<{ issued: number; failed: { tenantId: string; entryId: string; error: string }[] }> {
  const now = deps.clock.now();
  const taken = await deps.db.platform(async (tx) => {
    const r = await sql<{ tenant_id: string; entry_id: string }>`
      UPDATE registry_receipts_due d
         SET attempts = d.attempts + 1,
             due_at = ${now}::timestamptz + make_interval(secs => least(${RETRY_FIRST_SECONDS} * power(2, d.attempts), ${RETRY_MAX_SECONDS}))
       WHERE (d.tenant_id, d.entry_id) IN (
               SELECT tenant_id, entry_id FROM registry_receipts_due
                WHERE due_at <= ${now} ORDER BY due_at LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED)
      RETURNING d.tenant_id, d.entry_id`.execute(tx);
    return r.rows;
  });
  const out = { issued: 0, failed: [] as { tenantId: string; entryId: string; error: string }[] };
  for (const t of taken) {
    try {
      const r = await issueReceipt(deps, t.tenant_id, t.entry_id);
      if (r.created) out.issued++;
      else
        await deps.db.platform((tx) =>
          tx
            .deleteFrom('registry_receipts_due')
            .where('tenant_id', '=', t.tenant_id)
            .where('entry_id', '=', t.entry_id)
            .execute(),
        );
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      out.failed.push({ tenantId: t.tenant_id, entryId: t.entry_id, error });
      await deps.db.platform((tx) =>
        tx
          .updateTable('registry_receipts_due')
          .set({ last_error: error.slice(0, 1000) })
          .where('tenant_id', '=', t.tenant_id)
          .where('entry_id', '=', t.entry_id)
          .execute(),
      );
    }
  }
  return out;
}
