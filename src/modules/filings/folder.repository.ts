import type { Tx } from '#platform/db/database.ts';
import { isUuid } from '#platform/ids.ts';
import { normalizeIdentifier } from '#modules/parties/identifiers.ts';

/**
 * The citizen-side reads of "La meva carpeta": what one person (a party of the entity, found by
 * identifier) filed and the case files they are a party of. Every query is scoped to the tenant
 * and to that party; the staff services (registry, expedients) decide by staff roles and grants,
 * which do not apply to a citizen, so these reads are kept here, short and read-only.
 */

/** The entity's party with this identifier (NIF/NIE as the ID token gives it), or undefined. */
export async function findPartyId(tx: Tx, tenantId: string, identifier: string): Promise<string | undefined> {
  const r = await tx
    .selectFrom('parties')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('identifier', '=', normalizeIdentifier(identifier))
    .executeTakeFirst();
  return r?.id;
}

export type FilingRow = {
  id: string;
  number: string;
  heading: string;
  summary: string;
  channel: string;
  presented_at: Date | string;
  registered_at: Date | string;
  receipt_csv: string | null;
  receipt_issued_at: Date | string | null;
  attachments: string | number;
};

/** The party's input entries (filings), newest first. */
export async function listPartyFilings(tx: Tx, tenantId: string, partyId: string): Promise<FilingRow[]> {
  return tx
    .selectFrom('registry_entries as e')
    .leftJoin('registry_receipts as r', (j) =>
      j.onRef('r.tenant_id', '=', 'e.tenant_id').onRef('r.entry_id', '=', 'e.id'),
    )
    .select((eb) => [
      'e.id',
      'e.number',
      'e.heading',
      'e.summary',
      'e.channel',
      'e.presented_at',
      'e.registered_at',
      'r.csv as receipt_csv',
      'r.issued_at as receipt_issued_at',
      eb
        .selectFrom('registry_attachments as a')
        .select((x) => x.fn.countAll<string>().as('n'))
        .whereRef('a.tenant_id', '=', 'e.tenant_id')
        .whereRef('a.entry_id', '=', 'e.id')
        .as('attachments'),
    ])
    .where('e.tenant_id', '=', tenantId)
    .where('e.party_id', '=', partyId)
    .where('e.direction', '=', 'E')
    .orderBy('e.registered_at', 'desc')
    .orderBy('e.seq', 'desc')
    .execute() as Promise<FilingRow[]>;
}

/** One of the party's input entries with its receipt document, or undefined (not theirs, or no such entry). */
export async function findPartyFilingReceipt(tx: Tx, tenantId: string, partyId: string, entryId: string) {
  if (!isUuid(entryId)) return undefined;
  return tx
    .selectFrom('registry_entries as e')
    .leftJoin('registry_receipts as r', (j) =>
      j.onRef('r.tenant_id', '=', 'e.tenant_id').onRef('r.entry_id', '=', 'e.id'),
    )
    .leftJoin('documents as d', (j) =>
      j.onRef('d.tenant_id', '=', 'r.tenant_id').onRef('d.id', '=', 'r.document_id'),
    )
    .select(['e.id', 'e.number', 'd.id as document_id', 'd.sha256', 'd.file_name', 'd.size_bytes'])
    .where('e.tenant_id', '=', tenantId)
    .where('e.id', '=', entryId)
    .where('e.party_id', '=', partyId)
    .where('e.direction', '=', 'E')
    .executeTakeFirst();
}

export type PartyExpedientRow = {
  id: string;
  number: string;
  title: string;
  state: 'E01' | 'E02' | 'E03';
  access_level: 'public' | 'internal' | 'restricted';
  opened_at: Date | string;
  closed_at: Date | string | null;
  updated_at: Date | string;
  roles: string[];
};

function expedientsOfParty(tx: Tx, tenantId: string, partyId: string) {
  return tx
    .selectFrom('expedients as x')
    .innerJoin('expedient_parties as p', (j) =>
      j.onRef('p.tenant_id', '=', 'x.tenant_id').onRef('p.expedient_id', '=', 'x.id'),
    )
    .select((eb) => [
      'x.id',
      'x.number',
      'x.title',
      'x.state',
      'x.access_level',
      'x.opened_at',
      'x.closed_at',
      'x.updated_at',
      eb.fn.agg<string[]>('array_agg', ['p.role']).as('roles'),
    ])
    .where('x.tenant_id', '=', tenantId)
    .where('p.party_id', '=', partyId)
    .groupBy([
      'x.id',
      'x.number',
      'x.title',
      'x.state',
      'x.access_level',
      'x.opened_at',
      'x.closed_at',
      'x.updated_at',
    ]);
}

/** The case files the party is a party of (any role), newest first. */
export async function listPartyExpedients(
  tx: Tx,
  tenantId: string,
  partyId: string,
): Promise<PartyExpedientRow[]> {
  return (await expedientsOfParty(tx, tenantId, partyId)
    .orderBy('x.opened_at', 'desc')
    .orderBy('x.id', 'desc')
    .execute()) as PartyExpedientRow[];
}

/** One case file of the party, or undefined (not theirs, or no such case file). */
export async function findPartyExpedient(
  tx: Tx,
  tenantId: string,
  partyId: string,
  expedientId: string,
): Promise<PartyExpedientRow | undefined> {
  if (!isUuid(expedientId)) return undefined;
  return (await expedientsOfParty(tx, tenantId, partyId)
    .where('x.id', '=', expedientId)
    .executeTakeFirst()) as PartyExpedientRow | undefined;
}

export type IndexDocumentRow = {
  position: number;
  incorporated_at: Date | string;
  id: string;
  eni_id: string;
  title: string;
  file_name: string;
  mime_type: string;
  size_bytes: string | number;
  sha256: string;
  document_type: string;
  supersedes_id: string | null;
};

function indexDocuments(tx: Tx, tenantId: string, expedientId: string) {
  return tx
    .selectFrom('index_entries as i')
    .innerJoin('documents as d', (j) =>
      j.onRef('d.tenant_id', '=', 'i.tenant_id').onRef('d.id', '=', 'i.document_id'),
    )
    .select([
      'i.position',
      'i.incorporated_at',
      'd.id',
      'd.eni_id',
      'd.title',
      'd.file_name',
      'd.mime_type',
      'd.size_bytes',
      'd.sha256',
      'd.document_type',
      'd.supersedes_id',
    ])
    .where('i.tenant_id', '=', tenantId)
    .where('i.expedient_id', '=', expedientId);
}

/** The documents incorporated into the case file (its index), in order. */
export async function listIndexDocuments(
  tx: Tx,
  tenantId: string,
  expedientId: string,
): Promise<IndexDocumentRow[]> {
  return (await indexDocuments(tx, tenantId, expedientId)
    .orderBy('i.position')
    .execute()) as IndexDocumentRow[];
}

/** One document of the case file's index, or undefined. */
export async function findIndexDocument(
  tx: Tx,
  tenantId: string,
  expedientId: string,
  documentId: string,
): Promise<IndexDocumentRow | undefined> {
  if (!isUuid(documentId)) return undefined;
  return (await indexDocuments(tx, tenantId, expedientId)
    .where('d.id', '=', documentId)
    .orderBy('i.position')
    .executeTakeFirst()) as IndexDocumentRow | undefined;
}
