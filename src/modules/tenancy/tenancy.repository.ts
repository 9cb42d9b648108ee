import type { Tx } from '#platform/db/database.ts';
import type { EntityKind, EntityStatus } from '#platform/db/schema.ts';

export type Tenant = {
  id: string;
  kind: EntityKind;
  name: string;
  dir3: string;
  ine: string | null;
  slug: string;
  parentId: string | null;
  comarca: string | null;
  population: number | null;
  language: string;
  status: EntityStatus;
  demo: boolean;
};

const COLUMNS = [
  'id',
  'kind',
  'name',
  'dir3',
  'ine',
  'slug',
  'parent_id',
  'comarca',
  'population',
  'language',
  'status',
  'demo',
] as const;

type Row = {
  id: string;
  kind: EntityKind;
  name: string;
  dir3: string;
  ine: string | null;
  slug: string;
  parent_id: string | null;
  comarca: string | null;
  population: number | null;
  language: string;
  status: EntityStatus;
  demo: boolean;
};

function toTenant(r: Row): Tenant {
  return {
    id: r.id,
    kind: r.kind,
    name: r.name,
    dir3: r.dir3,
    ine: r.ine,
    slug: r.slug,
    parentId: r.parent_id,
    comarca: r.comarca,
    population: r.population,
    language: r.language,
    status: r.status,
    demo: r.demo,
  };
}

/** `ref` is a DIR3 code or a slug (both are unique). */
export async function findTenantByRef(tx: Tx, ref: string): Promise<Tenant | undefined> {
  const col = /^[A-Z0-9]{9}$/.test(ref) ? 'dir3' : 'slug';
  const r = await tx.selectFrom('tenants').select(COLUMNS).where(col, '=', ref).executeTakeFirst();
  return r ? toTenant(r) : undefined;
}

export async function findTenantById(tx: Tx, id: string): Promise<Tenant | undefined> {
  const r = await tx.selectFrom('tenants').select(COLUMNS).where('id', '=', id).executeTakeFirst();
  return r ? toTenant(r) : undefined;
}

export async function findTenantByIne(tx: Tx, ine: string): Promise<Tenant | undefined> {
  const r = await tx.selectFrom('tenants').select(COLUMNS).where('ine', '=', ine).executeTakeFirst();
  return r ? toTenant(r) : undefined;
}

export async function listTenants(tx: Tx, filter: { ids?: string[] } = {}): Promise<Tenant[]> {
  let q = tx.selectFrom('tenants').select(COLUMNS).orderBy('name');
  if (filter.ids) {
    if (filter.ids.length === 0) return [];
    q = q.where('id', 'in', filter.ids);
  }
  return (await q.execute()).map(toTenant);
}

export type NewTenant = Omit<Tenant, 'demo'> & { demo?: boolean };

export async function insertTenant(tx: Tx, t: NewTenant, now: Date): Promise<void> {
  await tx
    .insertInto('tenants')
    .values({
      id: t.id,
      kind: t.kind,
      name: t.name,
      dir3: t.dir3,
      ine: t.ine,
      slug: t.slug,
      parent_id: t.parentId,
      comarca: t.comarca,
      population: t.population,
      language: t.language,
      status: t.status,
      demo: t.demo ?? false,
      created_at: now,
      updated_at: now,
    })
    .execute();
}

export async function updateTenant(
  tx: Tx,
  id: string,
  patch: Partial<Pick<Tenant, 'name' | 'dir3' | 'slug' | 'comarca' | 'population' | 'language' | 'status'>>,
  now: Date,
): Promise<void> {
  await tx
    .updateTable('tenants')
    .set({ ...patch, updated_at: now })
    .where('id', '=', id)
    .execute();
}
