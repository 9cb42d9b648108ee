import { type Insertable, type Selectable, sql, type Updateable } from 'kysely';
import type { Tx } from '#platform/db/database.ts';
import type { PartiesTable } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { escapeLike, FOLD_SQL_FROM, FOLD_SQL_TO } from '#platform/db/search.ts';

export type PartyRow = Selectable<PartiesTable>;

/** The unique (tenant_id, identifier) constraint of the parties table. */
function isIdentifierConflict(e: unknown): boolean {
  const err = e as { code?: unknown; constraint?: unknown; message?: unknown };
  if (err?.code !== '23505') return false;
  const where = `${String(err.constraint ?? '')} ${String(err.message ?? '')}`;
  return where.includes('identifier');
}

function identifierTaken(identifier: string): AppError {
  return new AppError(
    'PARTY_IDENTIFIER_TAKEN',
    `A party with identifier ${identifier} already exists in this entity`,
  );
}

export async function findPartyById(
  tx: Tx,
  tenantId: string,
  id: string,
  opts: { forUpdate?: boolean } = {},
) {
  let q = tx.selectFrom('parties').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id);
  if (opts.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function findPartyByIdentifierRow(tx: Tx, tenantId: string, identifier: string) {
  return tx
    .selectFrom('parties')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('identifier', '=', identifier)
    .executeTakeFirst();
}

export async function findPartyIdByIdentifier(
  tx: Tx,
  tenantId: string,
  identifier: string,
): Promise<string | undefined> {
  const r = await tx
    .selectFrom('parties')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('identifier', '=', identifier)
    .executeTakeFirst();
  return r?.id;
}

/** Inserts a party; a concurrent insert of the same identifier surfaces as PARTY_IDENTIFIER_TAKEN. */
export async function insertParty(tx: Tx, row: Insertable<PartiesTable>): Promise<void> {
  try {
    await tx.insertInto('parties').values(row).execute();
  } catch (e) {
    if (isIdentifierConflict(e)) throw identifierTaken(row.identifier);
    throw e;
  }
}

export async function updatePartyRow(
  tx: Tx,
  tenantId: string,
  id: string,
  set: Updateable<PartiesTable>,
): Promise<void> {
  try {
    await tx.updateTable('parties').set(set).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  } catch (e) {
    if (isIdentifierConflict(e)) throw identifierTaken(String(set.identifier ?? ''));
    throw e;
  }
}

export type PartySearch = {
  /** Words that must all appear (folded) in the name, surnames or identifier. */
  words: string[];
  /** The query as an identifier (normalised), matched as a substring of the stored identifier. */
  identifierLike: string | null;
  /** Exact identifier (normalised). */
  identifier: string | null;
  limit: number;
  offset: number;
};

/** One page of the entity's parties, ordered by name, and the total that match. */
export async function searchParties(
  tx: Tx,
  tenantId: string,
  s: PartySearch,
): Promise<{ rows: PartyRow[]; total: number }> {
  const folded = sql<string>`translate(lower(name || ' ' || coalesce(surname1, '') || ' ' || coalesce(surname2, '') || ' ' || identifier), ${FOLD_SQL_FROM}, ${FOLD_SQL_TO})`;
  let q = tx.selectFrom('parties').where('tenant_id', '=', tenantId);
  if (s.identifier !== null) q = q.where('identifier', '=', s.identifier);
  if (s.words.length > 0) {
    q = q.where((eb) => {
      const allWords = eb.and(s.words.map((w) => eb(folded, 'like', `%${escapeLike(w)}%`)));
      return s.identifierLike
        ? eb.or([allWords, eb('identifier', 'like', `%${escapeLike(s.identifierLike)}%`)])
        : allWords;
    });
  }
  const rows = await q
    .selectAll()
    .orderBy('name')
    .orderBy('surname1')
    .orderBy('surname2')
    .orderBy('id')
    .limit(s.limit)
    .offset(s.offset)
    .execute();
  const count = await q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return { rows, total: Number(count.n) };
}
