import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import type { Acting } from '#modules/citizens/citizens.model.ts';
import { actingDetails } from '#modules/citizens/seu-scope.ts';
import { formatCsv } from '#modules/csv/csv.ts';
import {
  type AttachmentInput,
  assertEntryInput,
  type CreatedEntry,
  type EntryInput,
  type EntryView,
  makeEntry,
} from '#modules/registry/registry.service.ts';
import { MAX_FILING_ATTACHMENTS } from './filing-files.ts';
import { FILING_MESSAGES, type FilingLanguage } from './filings.messages.ts';
import {
  findIndexDocument,
  findPartyExpedient,
  findPartyFilingReceipt,
  findPartyId,
  listIndexDocuments,
  listPartyExpedients,
  listPartyFilings,
  type PartyExpedientRow,
} from './folder.repository.ts';

/**
 * The generic request (instància genèrica, LPACAP art. 66) filed in the seu, and "La meva
 * carpeta": what the acting subject filed and the case files they are a party of.
 *
 * A filing is an input registry entry on the electronic channel (LPACAP art. 16), made by the
 * seu's electronic registry with the registry office's powers, in the citizen's name (the audit
 * actor is the citizen). Its interested party is the acting subject, matched by identifier to the
 * entity's parties and created from the login's name when absent; a representative's filing says
 * so in the filed text (which the receipt transcribes) and in the audit event.
 */

export const FILING_LANGUAGES = ['ca', 'es', 'oc-aranes'] as const;
/** "Exposo": the facts and reasons (LPACAP art. 66.1.c), at most this many characters. */
export const EXPOSO_MAX = 10_000;
/** "Sol·licito": what is requested, at most this many characters. */
export const SOLICITO_MAX = 4_000;
/** The entry's summary (extracte) is the request, cut to this length. */
const SUMMARY_MAX = 500;

export type FilingText = { exposo: string; solicito: string; language: FilingLanguage };

/** Plain text: line breaks and tabs, no other control characters (NUL, escapes, bidi overrides). */
function hasControlCharacters(v: string): boolean {
  for (const ch of v) {
    const c = ch.codePointAt(0)!;
    if (c === 0x0a || c === 0x09) continue;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
    if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) return true;
  }
  return false;
}

function clean(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  return raw.replace(/\r\n?/g, '\n').normalize('NFC').trim();
}

/**
 * Checks the request's text (both parts required, length-limited, plain text) and its language.
 * VALIDATION_FAILED lists every problem, with `details.fields` naming the fields at fault.
 */
export function checkFilingText(
  raw: { exposo?: unknown; solicito?: unknown; language?: unknown },
  defaultLanguage: FilingLanguage,
): FilingText {
  const problems: string[] = [];
  const fields: string[] = [];
  const one = (name: 'exposo' | 'solicito', max: number): string => {
    const v = clean(raw[name]);
    if (v === null || v.length === 0) {
      problems.push(`${name} is required`);
      fields.push(name);
    } else if (v.length > max) {
      problems.push(`${name} must have at most ${max} characters (it has ${v.length})`);
      fields.push(name);
    } else if (hasControlCharacters(v)) {
      problems.push(`${name} must be plain text (no control characters)`);
      fields.push(name);
    }
    return v ?? '';
  };
  const exposo = one('exposo', EXPOSO_MAX);
  const solicito = one('solicito', SOLICITO_MAX);
  let language = defaultLanguage;
  if (raw.language !== undefined && raw.language !== '') {
    if (!(FILING_LANGUAGES as readonly unknown[]).includes(raw.language)) {
      problems.push(`language must be one of ${FILING_LANGUAGES.join(', ')}`);
      fields.push('language');
    } else language = raw.language as FilingLanguage;
  }
  if (problems.length) throw new AppError('VALIDATION_FAILED', problems.join('; '), { fields });
  return { exposo, solicito, language };
}

/** The language a citizen files in unless the form says: their login's, else Catalan. */
export function defaultFilingLanguage(acting: Acting): FilingLanguage {
  return acting.citizen.language ?? 'ca';
}

/** The text filed (the entry's text, transcribed by the receipt): who files for whom, exposo, sol·licito. */
export function filedText(acting: Acting, text: FilingText): string {
  const m = FILING_MESSAGES[text.language];
  const lines: string[] = [];
  if (acting.representation)
    lines.push(
      m.onBehalf({
        representative: acting.citizen.name,
        representativeId: acting.citizen.identifier,
        subject: acting.subject.name,
        subjectId: acting.subject.identifier,
        power: acting.representation.id,
      }),
      '',
    );
  lines.push(`${m.exposo}:`, text.exposo, '', `${m.solicito}:`, text.solicito);
  return lines.join('\n');
}

function summaryOf(solicito: string): string {
  const one = solicito.replace(/\s+/g, ' ').trim();
  return one.length <= SUMMARY_MAX ? one : `${one.slice(0, SUMMARY_MAX - 1)}…`;
}

/** The registry entry a filing makes (direction E, electronic channel, the subject as party). */
export function filingEntryInput(
  acting: Acting,
  text: FilingText,
  attachments: AttachmentInput[],
): EntryInput {
  const self = !acting.representation;
  return {
    direction: 'E',
    channel: 'electronic',
    heading: FILING_MESSAGES[text.language].heading,
    summary: summaryOf(text.solicito),
    text: filedText(acting, text),
    language: text.language,
    party: {
      identifier: acting.subject.identifier,
      name: acting.subject.name,
      // The login's e-mail is the subject's only when they file for themselves.
      ...(self && acting.citizen.email ? { email: acting.citizen.email } : {}),
      language: text.language,
    },
    attachments,
  };
}

/**
 * Everything about a filing that needs no database, checked before any attachment is kept
 * (the party's identifier included: INVALID_IDENTIFIER, 422).
 */
export function checkFiling(acting: Acting, text: FilingText, attachments: AttachmentInput[]): EntryInput {
  if (attachments.length > MAX_FILING_ATTACHMENTS)
    throw new AppError('FILING_TOO_MANY_ATTACHMENTS', `At most ${MAX_FILING_ATTACHMENTS} attachments`);
  const input = filingEntryInput(acting, text, attachments);
  assertEntryInput(input);
  return input;
}

/** The seu's electronic registry registers the filing with the registry office's powers, as the citizen. */
function registryCtx(ctx: Ctx): Ctx {
  return { ...ctx, roles: ['registrar'] };
}

export type SubmittedFiling = { created: CreatedEntry; view: EntryView };

/**
 * Files the request: the input entry with its attachments (already in the blob store), its party
 * (found or created), then the filing's own audit event.
 */
export async function submitFiling(
  tx: Tx,
  ctx: Ctx,
  acting: Acting,
  text: FilingText,
  attachments: AttachmentInput[],
): Promise<SubmittedFiling> {
  const input = checkFiling(acting, text, attachments);
  const made = (await makeEntry(tx, registryCtx(ctx), input)).result();
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'seu.filing_submit',
    objectType: 'registry_entry',
    objectId: made.created.id,
    details: {
      number: made.created.number,
      kind: 'generic_request',
      partyId: made.view.party?.id ?? null,
      attachments: attachments.map((a) => a.sha256),
      ...actingDetails(acting),
    },
  });
  return made;
}

// ---------------------------------------------------------------------------------------------
// La meva carpeta

export type FolderFiling = {
  entryId: string;
  number: string;
  heading: string;
  summary: string;
  channel: string;
  presentedAt: string;
  registeredAt: string;
  attachmentCount: number;
  /** Null while the receipt is being issued (seconds after the filing). */
  receipt: { csv: string; issuedAt: string } | null;
};

export type FolderExpedient = {
  id: string;
  number: string;
  title: string;
  state: 'open' | 'closed';
  openedAt: string;
  closedAt: string | null;
  updatedAt: string;
  /** The subject's roles in the case file. */
  roles: ('applicant' | 'representative' | 'interested')[];
};

export type FolderDocument = {
  id: string;
  order: number;
  eniId: string;
  title: string;
  fileName: string;
  mimeType: string;
  size: number;
  sha256: string;
  documentType: string;
  incorporatedAt: string;
  /** The earlier version this document replaces, if any. */
  supersedesId: string | null;
};

const iso = (t: Date | string) => new Date(t).toISOString();

function notFound(what: string): AppError {
  return new AppError('NOT_FOUND', `${what} not found`);
}

/** The entity's party the subject is, or null when the entity has none (nothing filed yet). */
async function subjectPartyId(tx: Tx, ctx: Ctx, acting: Acting): Promise<string | null> {
  return (await findPartyId(tx, ctx.tenant.id, acting.subject.identifier)) ?? null;
}

/** The subject's filings (input entries whose party they are, whatever the channel), newest first. */
export async function listMyFilings(tx: Tx, ctx: Ctx, acting: Acting): Promise<FolderFiling[]> {
  const partyId = await subjectPartyId(tx, ctx, acting);
  if (!partyId) return [];
  const rows = await listPartyFilings(tx, ctx.tenant.id, partyId);
  return rows.map((r) => ({
    entryId: r.id,
    number: r.number,
    heading: r.heading,
    summary: r.summary,
    channel: r.channel,
    presentedAt: iso(r.presented_at),
    registeredAt: iso(r.registered_at),
    attachmentCount: Number(r.attachments),
    receipt:
      r.receipt_csv && r.receipt_issued_at
        ? { csv: formatCsv(r.receipt_csv), issuedAt: iso(r.receipt_issued_at) }
        : null,
  }));
}

/**
 * The receipt of one of the subject's filings (its stored PDF), NOT_FOUND for an entry that is not
 * theirs, RECEIPT_NOT_READY while it is being issued.
 */
export async function getMyFilingReceipt(
  tx: Tx,
  ctx: Ctx,
  acting: Acting,
  entryId: string,
): Promise<{ sha256: string; fileName: string; size: number }> {
  const partyId = await subjectPartyId(tx, ctx, acting);
  const r = partyId ? await findPartyFilingReceipt(tx, ctx.tenant.id, partyId, entryId) : undefined;
  if (!r) throw notFound('Filing');
  if (!r.document_id || !r.sha256 || !r.file_name)
    throw new AppError('RECEIPT_NOT_READY', `The receipt of ${r.number} is being issued; retry in a moment`);
  return { sha256: r.sha256, fileName: r.file_name, size: Number(r.size_bytes) };
}

function toFolderExpedient(r: PartyExpedientRow): FolderExpedient {
  return {
    id: r.id,
    number: r.number,
    title: r.title,
    // NTI: E01 open; E02 closed; E03 index closed for sending (no longer processed here).
    state: r.state === 'E01' ? 'open' : 'closed',
    openedAt: iso(r.opened_at),
    closedAt: r.closed_at ? iso(r.closed_at) : null,
    updatedAt: iso(r.updated_at),
    roles: [...new Set(r.roles)].sort() as FolderExpedient['roles'],
  };
}

/** The case files the subject is a party of, newest first. */
export async function listMyExpedients(tx: Tx, ctx: Ctx, acting: Acting): Promise<FolderExpedient[]> {
  const partyId = await subjectPartyId(tx, ctx, acting);
  if (!partyId) return [];
  return (await listPartyExpedients(tx, ctx.tenant.id, partyId)).map(toFolderExpedient);
}

async function myExpedient(tx: Tx, ctx: Ctx, acting: Acting, id: string): Promise<PartyExpedientRow> {
  const partyId = await subjectPartyId(tx, ctx, acting);
  const row = partyId ? await findPartyExpedient(tx, ctx.tenant.id, partyId, id) : undefined;
  if (!row) throw new AppError('EXPEDIENT_NOT_FOUND', 'Case file not found');
  return row;
}

function audit(tx: Tx, ctx: Ctx, acting: Acting, action: string, type: string, id: string, details: object) {
  return recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action,
    objectType: type,
    objectId: id,
    details: { ...details, via: 'seu', ...actingDetails(acting) },
  });
}

/**
 * One of the subject's case files with its documents: every document incorporated into its index
 * (Lligall has no per-document "not shown to parties" mark). An interested party sees their own
 * case file whatever its access level (LPACAP art. 53.1.a); reading a restricted one is audited.
 */
export async function getMyExpedient(
  tx: Tx,
  ctx: Ctx,
  acting: Acting,
  id: string,
): Promise<FolderExpedient & { documents: FolderDocument[] }> {
  const row = await myExpedient(tx, ctx, acting, id);
  const docs = await listIndexDocuments(tx, ctx.tenant.id, row.id);
  if (row.access_level === 'restricted')
    await audit(tx, ctx, acting, 'expedient.read', 'expedient', row.id, {});
  return {
    ...toFolderExpedient(row),
    documents: docs.map((d) => ({
      id: d.id,
      order: d.position,
      eniId: d.eni_id,
      title: d.title,
      fileName: d.file_name,
      mimeType: d.mime_type,
      size: Number(d.size_bytes),
      sha256: d.sha256,
      documentType: d.document_type,
      incorporatedAt: iso(d.incorporated_at),
      supersedesId: d.supersedes_id,
    })),
  };
}

/** A document of one of the subject's case files, to download; every download is audited. */
export async function readMyExpedientDocument(
  tx: Tx,
  ctx: Ctx,
  acting: Acting,
  expedientId: string,
  documentId: string,
): Promise<{ sha256: string; fileName: string; mimeType: string; size: number }> {
  const row = await myExpedient(tx, ctx, acting, expedientId);
  const d = await findIndexDocument(tx, ctx.tenant.id, row.id, documentId);
  if (!d) throw new AppError('DOCUMENT_NOT_FOUND', 'Document not found');
  await audit(tx, ctx, acting, 'document.download', 'document', d.id, { expedientIds: [row.id] });
  return { sha256: d.sha256, fileName: d.file_name, mimeType: d.mime_type, size: Number(d.size_bytes) };
}
