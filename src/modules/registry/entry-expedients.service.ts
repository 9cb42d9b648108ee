import { sql } from 'kysely';
import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import type { ExpedientsTable, RegistryDirection } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { isUuid } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import type { DocumentType, ElaborationState } from '#modules/documents/documents.service.ts';
import { incorporateDocument } from '#modules/expedients/expedient-documents.service.ts';
import {
  type AccessLevel,
  createExpedient,
  loadExpedient,
  loadWritableExpedient,
  type PartyRole,
} from '#modules/expedients/expedients.service.ts';
import { canLinkEntry } from './desk.policy.ts';
import { canReadRegistry } from './registry.policy.ts';

/**
 * Bringing a registry entry into case files (LPACAP art. 70: the file gathers the documents that
 * lead to the decision). The entry's documents — its attachments in order, then the authentic
 * copies made at the desk — join the case file's index through the expedients module, each with
 * its SHA-256. An entry may go into several case files, each once; the link is permanent.
 */

export type NewExpedientFromEntry = {
  title: string;
  classification?: string | null;
  unitId?: string | null;
  accessLevel?: AccessLevel;
  /** The role of the entry's party in the new case file; default applicant (E) or interested (S). */
  partyRole?: PartyRole;
};

export type LinkInput =
  | { expedientId: string; new?: undefined }
  | { new: NewExpedientFromEntry; expedientId?: undefined };

export type LinkResult = {
  entryId: string;
  entryNumber: string;
  createdExpedient: boolean;
  expedient: { id: string; number: string; eniId: string; title: string; state: ExpedientsTable['state'] };
  linkedAt: string;
  linkedBy: string;
  incorporated: {
    sourceDocumentId: string;
    documentId: string;
    order: number;
    eniId: string;
    title: string;
    sha256: string;
  }[];
};

export type EntryExpedient = {
  expedientId: string;
  /** Null when the case file is restricted and not shared with the caller. */
  number: string | null;
  title: string | null;
  state: ExpedientsTable['state'] | null;
  createdFromEntry: boolean;
  linkedAt: string;
  linkedBy: string;
};

export type ExpedientEntry = {
  entryId: string;
  number: string;
  direction: RegistryDirection;
  heading: string;
  registeredAt: string;
  createdFromEntry: boolean;
  linkedAt: string;
  linkedBy: string;
};

const iso = (t: Date | string) => new Date(t).toISOString();

/** The entry (id, number, direction, party), or NOT_FOUND (another entity's id looks the same). */
export async function findEntry(tx: Tx, ctx: Ctx, id: string) {
  const row = isUuid(id)
    ? await tx
        .selectFrom('registry_entries')
        .select(['id', 'number', 'direction', 'party_id', 'heading', 'registered_at'])
        .where('tenant_id', '=', ctx.tenant.id)
        .where('id', '=', id)
        .executeTakeFirst()
    : undefined;
  if (!row) throw new AppError('NOT_FOUND', `Registry entry ${id} not found`);
  return row;
}

type EntryDocument = {
  id: string;
  title: string;
  file_name: string;
  mime_type: string;
  size_bytes: string | number;
  sha256: string;
  document_type: string;
  elaboration_state: string;
  original_eni_id: string | null;
  origin: 'administration' | 'citizen';
};

/**
 * The entry's documents: its attachments in order, the desk's authentic copies in the order made
 * (each as its sealed copy when it has one), then its receipt.
 */
export async function entryDocuments(tx: Tx, ctx: Ctx, entryId: string): Promise<EntryDocument[]> {
  const cols = [
    'd.id',
    'd.title',
    'd.file_name',
    'd.mime_type',
    'd.size_bytes',
    'd.sha256',
    'd.document_type',
    'd.elaboration_state',
    'd.original_eni_id',
    'd.origin',
  ] as const;
  const attachments = await tx
    .selectFrom('registry_attachments as a')
    .innerJoin('documents as d', (j) =>
      j.onRef('d.tenant_id', '=', 'a.tenant_id').onRef('d.id', '=', 'a.document_id'),
    )
    .select(cols)
    .where('a.tenant_id', '=', ctx.tenant.id)
    .where('a.entry_id', '=', entryId)
    .orderBy('a.position')
    .execute();
  // A desk copy joins as its sealed version (stamp, CSV, the entity's seal) once it has one; the
  // copy as scanned otherwise (pending, a scan that cannot be sealed, TIFF).
  const copies = await tx
    .selectFrom('paper_originals as p')
    .innerJoin('documents as d', (j) =>
      j
        .onRef('d.tenant_id', '=', 'p.tenant_id')
        .on('d.id', '=', sql<string>`coalesce(p.sealed_document_id, p.copy_document_id)`),
    )
    .select(cols)
    .where('p.tenant_id', '=', ctx.tenant.id)
    .where('p.entry_id', '=', entryId)
    .orderBy('p.digitised_at')
    .orderBy('p.id')
    .execute();
  const receipt = await tx
    .selectFrom('registry_receipts as r')
    .innerJoin('documents as d', (j) =>
      j.onRef('d.tenant_id', '=', 'r.tenant_id').onRef('d.id', '=', 'r.document_id'),
    )
    .select(cols)
    .where('r.tenant_id', '=', ctx.tenant.id)
    .where('r.entry_id', '=', entryId)
    .execute();
  return [...attachments, ...copies, ...receipt] as EntryDocument[];
}

function audit(tx: Tx, ctx: Ctx, action: string, objectType: string, objectId: string, details: object) {
  return recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action,
    objectType,
    objectId,
    details: details as Record<string, unknown>,
  });
}

/**
 * Links an entry to an existing open case file, or opens a new one from it (the entry's party
 * becomes its party), and incorporates the entry's documents into the case file's index.
 * ENTRY_ALREADY_LINKED (409) for a second link to the same case file; a closed case file answers
 * with the expedients module's EXPEDIENT_CLOSED.
 */
export async function linkEntryToExpedient(
  tx: Tx,
  ctx: Ctx,
  entryId: string,
  input: LinkInput,
): Promise<LinkResult> {
  if (!canLinkEntry(ctx) || !canReadRegistry(ctx))
    throw new AppError('FORBIDDEN', 'You may not bring registry entries into case files');
  if (Boolean(input.expedientId) === Boolean(input.new))
    throw new AppError('VALIDATION_FAILED', 'Give either expedientId or new');
  const entry = await findEntry(tx, ctx, entryId);
  let expedient: LinkResult['expedient'];
  if (input.expedientId) {
    // The expedients module refuses a case file the caller cannot see, change, or that is closed.
    const row = await loadWritableExpedient(tx, ctx, input.expedientId);
    expedient = { id: row.id, number: row.number, eniId: row.eni_id, title: row.title, state: row.state };
  } else {
    const n = input.new!;
    const role: PartyRole = n.partyRole ?? (entry.direction === 'E' ? 'applicant' : 'interested');
    const created = await createExpedient(tx, ctx, {
      title: n.title,
      classification: n.classification ?? null,
      unitId: n.unitId ?? null,
      ...(n.accessLevel ? { accessLevel: n.accessLevel } : {}),
      parties: entry.party_id ? [{ partyId: entry.party_id, role }] : [],
    });
    expedient = {
      id: created.id,
      number: created.number,
      eniId: created.eniId,
      title: created.title,
      state: created.state,
    };
  }
  const now = ctx.clock.now();
  const inserted = await tx
    .insertInto('registry_entry_expedients')
    .values({
      tenant_id: ctx.tenant.id,
      entry_id: entry.id,
      expedient_id: expedient.id,
      created_expedient: Boolean(input.new),
      linked_by: ctx.actor.id,
      linked_by_label: ctx.actor.label,
      linked_at: now,
    })
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0)
    throw new AppError(
      'ENTRY_ALREADY_LINKED',
      `Entry ${entry.number} is already in case file ${expedient.number}`,
      { expedientId: expedient.id },
    );
  const incorporated: LinkResult['incorporated'] = [];
  for (const d of await entryDocuments(tx, ctx, entry.id)) {
    const doc = await incorporateDocument(tx, ctx, expedient.id, {
      title: d.title,
      fileName: d.file_name,
      mimeType: d.mime_type,
      sha256: d.sha256,
      size: Number(d.size_bytes),
      documentType: d.document_type as DocumentType,
      elaborationState: d.elaboration_state as ElaborationState,
      origin: d.origin,
      originalEniId: d.original_eni_id,
    });
    incorporated.push({
      sourceDocumentId: d.id,
      documentId: doc.id,
      order: doc.order,
      eniId: doc.eniId,
      title: doc.title,
      sha256: doc.sha256,
    });
  }
  const documents = incorporated.map((i) => ({ from: i.sourceDocumentId, to: i.documentId, order: i.order }));
  await audit(tx, ctx, 'registry.entry_link_expedient', 'registry_entry', entry.id, {
    number: entry.number,
    expedientId: expedient.id,
    expedientNumber: expedient.number,
    createdExpedient: Boolean(input.new),
    documents,
  });
  await audit(tx, ctx, 'expedient.registry_entry_link', 'expedient', expedient.id, {
    entryId: entry.id,
    entryNumber: entry.number,
    createdExpedient: Boolean(input.new),
    documents,
  });
  return {
    entryId: entry.id,
    entryNumber: entry.number,
    createdExpedient: Boolean(input.new),
    expedient,
    linkedAt: now.toISOString(),
    linkedBy: ctx.actor.label,
    incorporated,
  };
}

/**
 * The case files an entry was brought into, oldest link first (for the entry's view). A restricted
 * case file the caller may not see shows only its id and the link.
 */
export async function listEntryExpedients(tx: Tx, ctx: Ctx, entryId: string): Promise<EntryExpedient[]> {
  if (!canReadRegistry(ctx)) throw new AppError('FORBIDDEN', 'You may not consult this registry');
  const links = isUuid(entryId)
    ? await tx
        .selectFrom('registry_entry_expedients')
        .select(['expedient_id', 'created_expedient', 'linked_at', 'linked_by_label'])
        .where('tenant_id', '=', ctx.tenant.id)
        .where('entry_id', '=', entryId)
        .orderBy('linked_at')
        .orderBy('expedient_id')
        .execute()
    : [];
  const out: EntryExpedient[] = [];
  for (const l of links) {
    let seen: { number: string; title: string; state: ExpedientsTable['state'] } | null = null;
    try {
      seen = await loadExpedient(tx, ctx, l.expedient_id);
    } catch (e) {
      if (!(e instanceof AppError) || e.code !== 'EXPEDIENT_NOT_FOUND') throw e;
    }
    out.push({
      expedientId: l.expedient_id,
      number: seen?.number ?? null,
      title: seen?.title ?? null,
      state: seen?.state ?? null,
      createdFromEntry: l.created_expedient,
      linkedAt: iso(l.linked_at),
      linkedBy: l.linked_by_label,
    });
  }
  return out;
}

/** The registry entries a case file was linked to (for the case file's view); the caller must see the case file. */
export async function listExpedientEntries(tx: Tx, ctx: Ctx, expedientId: string): Promise<ExpedientEntry[]> {
  const exp = await loadExpedient(tx, ctx, expedientId, { auditRead: true });
  const rows = await tx
    .selectFrom('registry_entry_expedients as l')
    .innerJoin('registry_entries as e', (j) =>
      j.onRef('e.tenant_id', '=', 'l.tenant_id').onRef('e.id', '=', 'l.entry_id'),
    )
    .select([
      'e.id',
      'e.number',
      'e.direction',
      'e.heading',
      'e.registered_at',
      'l.created_expedient',
      'l.linked_at',
      'l.linked_by_label',
    ])
    .where('l.tenant_id', '=', ctx.tenant.id)
    .where('l.expedient_id', '=', exp.id)
    .orderBy('l.linked_at')
    .orderBy('e.id')
    .execute();
  return rows.map((r) => ({
    entryId: r.id,
    number: r.number,
    direction: r.direction,
    heading: r.heading,
    registeredAt: iso(r.registered_at),
    createdFromEntry: r.created_expedient,
    linkedAt: iso(r.linked_at),
    linkedBy: r.linked_by_label,
  }));
}
