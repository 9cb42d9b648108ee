import { type Insertable, type Selectable, sql, type Updateable } from 'kysely';
import type { Tx } from '#platform/db/database.ts';
import type { PartiesTable } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';

export type PartyRow = Selectable<PartiesTable>;

/**
 * Accent folding for search, done the same way in SQL and here: Latin letters with diacritics
 * become their base letter (à, À → a; ç → c; ñ → n), the Catalan middle dot and full stops are
 * dropped (`col·legi`, `col.legi` → `collegi`; `S.L.` → `sl`). Upper-case accented letters are
 * mapped directly, because lower() leaves them alone under the C collation. `translate()` runs
 * the same on PostgreSQL 15 and PGlite and needs no extension (unaccent is not available).
 */
const FOLD_FROM: string[] = [];
const FOLD_TO: string[] = [];
for (let cp = 0xc0; cp <= 0x17f; cp++) {
  const ch = String.fromCodePoint(cp);
  const base = ch.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  if (/^[a-z]$/.test(base)) {
    FOLD_FROM.push(ch);
    FOLD_TO.push(base);
  }
}
FOLD_FROM.push('\u2019');
FOLD_TO.push("'");
/** Characters in `from` without a counterpart in `to` are deleted by translate(). */
const FOLD_SQL_FROM = `${FOLD_FROM.join('')}\u00b7.`;
const FOLD_SQL_TO = FOLD_TO.join('');
const FOLD_MAP = new Map(FOLD_FROM.map((c, i) => [c, FOLD_TO[i]!]));

/** The JavaScript half of the search folding (see FOLD_FROM). */
export function foldForSearch(s: string): string {
  let out = '';
  for (const ch of s.toLowerCase()) {
    if (ch === '\u00b7' || ch === '.') continue;
    out += FOLD_MAP.get(ch) ?? ch;
  }
  return out;
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

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
