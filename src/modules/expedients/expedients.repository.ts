import { type ExpressionBuilder, sql } from 'kysely';
import type { Tx } from '#platform/db/database.ts';
import { escapeLike, foldForSearch } from '#platform/db/search.ts';
import type { DB, ExpedientsTable } from '#platform/db/schema.ts';

export type ExpedientRow = {
  id: string;
  number: string;
  year: number;
  seq: number;
  eni_id: string;
  title: string;
  classification: string | null;
  unit_id: string | null;
  unit_name: string | null;
  access_level: ExpedientsTable['access_level'];
  state: ExpedientsTable['state'];
  opened_at: Date;
  closed_at: Date | null;
  created_by: string | null;
};

/**
 * Rows the user may see: every non-restricted case file, and restricted ones that name the user,
 * one of the user's units, or whose responsible unit the user belongs to.
 */
export function visibleTo(userId: string) {
  return (eb: ExpressionBuilder<DB, 'expedients'>) =>
    eb.or([
      eb('expedients.access_level', '!=', 'restricted'),
      eb.exists(
        eb
          .selectFrom('expedient_access as a')
          .select(sql`1`.as('one'))
          .whereRef('a.tenant_id', '=', 'expedients.tenant_id')
          .whereRef('a.expedient_id', '=', 'expedients.id')
          .where((w) =>
            w.or([
              w('a.user_id', '=', userId),
              w(
                'a.unit_id',
                'in',
                w.selectFrom('unit_members as m').select('m.unit_id').where('m.user_id', '=', userId),
              ),
            ]),
          ),
      ),
      eb(
        'expedients.unit_id',
        'in',
        eb.selectFrom('unit_members as m2').select('m2.unit_id').where('m2.user_id', '=', userId),
      ),
    ]);
}

function base(tx: Tx, tenantId: string) {
  return tx
    .selectFrom('expedients')
    .leftJoin('units', (j) =>
      j.onRef('units.tenant_id', '=', 'expedients.tenant_id').onRef('units.id', '=', 'expedients.unit_id'),
    )
    .select([
      'expedients.id',
      'expedients.number',
      'expedients.year',
      'expedients.seq',
      'expedients.eni_id',
      'expedients.title',
      'expedients.classification',
      'expedients.unit_id',
      'units.name as unit_name',
      'expedients.access_level',
      'expedients.state',
      'expedients.opened_at',
      'expedients.closed_at',
      'expedients.created_by',
    ])
    .where('expedients.tenant_id', '=', tenantId);
}

export async function getVisibleExpedient(
  tx: Tx,
  tenantId: string,
  userId: string,
  id: string,
  opts: { forUpdate?: boolean; anyAccess?: boolean } = {},
) {
  let q = base(tx, tenantId).where('expedients.id', '=', id);
  if (!opts.anyAccess) q = q.where(visibleTo(userId));
  if (opts.forUpdate) q = q.forUpdate('expedients');
  return (await q.executeTakeFirst()) as ExpedientRow | undefined;
}

export type ExpedientDetailRow = ExpedientRow & {
  parties:
    | {
        party_id: string;
        role: 'applicant' | 'representative' | 'interested';
        identifier: string;
        name: string;
        surname1: string | null;
        surname2: string | null;
      }[]
    | string;
  document_count: string | number;
};

/** The case file with its parties and its number of documents, in one statement. */
export async function getVisibleExpedientDetail(tx: Tx, tenantId: string, userId: string, id: string) {
  return (await base(tx, tenantId)
    .select([
      sql<ExpedientDetailRow['parties']>`coalesce((
        select json_agg(json_build_object('party_id', ep.party_id, 'role', ep.role, 'identifier', p.identifier,
                 'name', p.name, 'surname1', p.surname1, 'surname2', p.surname2) order by ep.added_at)
        from expedient_parties ep join parties p on p.tenant_id = ep.tenant_id and p.id = ep.party_id
        where ep.tenant_id = expedients.tenant_id and ep.expedient_id = expedients.id), '[]')`.as('parties'),
      sql<string>`(select count(*) from index_entries i where i.tenant_id = expedients.tenant_id and i.expedient_id = expedients.id)`.as(
        'document_count',
      ),
    ])
    .where('expedients.id', '=', id)
    .where(visibleTo(userId))
    .executeTakeFirst()) as ExpedientDetailRow | undefined;
}

export type ListFilter = {
  state?: string;
  year?: number;
  q?: string;
  party?: string;
  page: number;
  pageSize: number;
};

export async function listVisibleExpedients(tx: Tx, tenantId: string, userId: string, f: ListFilter) {
  let q = base(tx, tenantId).where(visibleTo(userId));
  if (f.state) q = q.where('expedients.state', '=', f.state as ExpedientsTable['state']);
  if (f.year) q = q.where('expedients.year', '=', f.year);
  if (f.q) {
    // Case and accents are ignored (title_search is the folded title); numbers and ENI identifiers
    // are only searched for when q has a digit (they always have one).
    const folded = `%${escapeLike(foldForSearch(f.q))}%`;
    const raw = escapeLike(f.q);
    q = q.where((eb) =>
      /\d/.test(raw)
        ? eb.or([
            eb('expedients.title_search', 'like', folded),
            eb('expedients.number', 'like', `%${raw}%`),
            eb('expedients.eni_id', 'like', `%${raw.toUpperCase()}%`),
          ])
        : eb('expedients.title_search', 'like', folded),
    );
  }
  if (f.party) {
    const party = f.party;
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('expedient_parties as ep')
          .innerJoin('parties as p', (j) =>
            j.onRef('p.tenant_id', '=', 'ep.tenant_id').onRef('p.id', '=', 'ep.party_id'),
          )
          .select(sql`1`.as('one'))
          .whereRef('ep.tenant_id', '=', 'expedients.tenant_id')
          .whereRef('ep.expedient_id', '=', 'expedients.id')
          .where('p.identifier', '=', party),
      ),
    );
  }
  const page = (sel: typeof q) =>
    sel
      .orderBy('expedients.opened_at', 'desc')
      .orderBy('expedients.id', 'desc')
      .limit(f.pageSize)
      .offset((f.page - 1) * f.pageSize);
  const count = async () =>
    Number(
      (
        await q
          .clearSelect()
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  if (!f.q && !f.party) {
    // No text or party filter: the page comes from the (tenant, opened_at, id) index, the total from a count.
    return { rows: (await page(q).execute()) as ExpedientRow[], total: await count() };
  }
  // A text or party filter scans the entity's case files once: the page and the total in one query.
  const rows = (await page(
    q.select(sql<string>`count(*) over ()`.as('total_count')),
  ).execute()) as (ExpedientRow & {
    total_count: string;
  })[];
  const total = rows.length > 0 ? Number(rows[0]!.total_count) : f.page > 1 ? await count() : 0;
  return { rows: rows as ExpedientRow[], total };
}
