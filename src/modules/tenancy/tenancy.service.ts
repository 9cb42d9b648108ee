import type { Actor, Clock, RequestMeta } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import { PLATFORM_TENANT, type EntityKind, type EntityStatus } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { defaultLanguage, loadMunicipalities } from './province.ts';
import { slugify } from './slug.ts';
import {
  findTenantByIne,
  findTenantByRef,
  insertTenant,
  listTenants,
  type Tenant,
  updateTenant,
} from './tenancy.repository.ts';

export type PlatformCtx = { actor: Actor; request: RequestMeta; clock: Clock };

export type CreateTenantInput = {
  kind: EntityKind;
  name: string;
  dir3: string;
  ine?: string | null;
  slug?: string;
  parentRef?: string | null;
  comarca?: string | null;
  population?: number | null;
  language?: string;
  status?: EntityStatus;
  demo?: boolean;
};

const DIR3 = /^[A-Z0-9]{9}$/;

/** Creates an entity (tenant). Runs in a platform transaction; audited on the platform chain. */
export async function createTenant(tx: Tx, ctx: PlatformCtx, input: CreateTenantInput): Promise<Tenant> {
  if (!DIR3.test(input.dir3))
    throw new AppError('VALIDATION_FAILED', `"${input.dir3}" is not a DIR3 code (9 characters A-Z, 0-9)`);
  if (await findTenantByRef(tx, input.dir3))
    throw new AppError('CONFLICT', `An entity with DIR3 ${input.dir3} exists`);
  const slug = input.slug ?? slugify(input.name);
  if (!slug) throw new AppError('VALIDATION_FAILED', 'The name gives an empty slug');
  if (await findTenantByRef(tx, slug)) throw new AppError('CONFLICT', `An entity with slug ${slug} exists`);
  let parentId: string | null = null;
  if (input.parentRef) {
    const parent = await findTenantByRef(tx, input.parentRef);
    if (!parent) throw new AppError('ENTITY_NOT_FOUND', `Parent entity ${input.parentRef} not found`);
    parentId = parent.id;
  }
  if (input.kind === 'emd' && !parentId) {
    throw new AppError('VALIDATION_FAILED', 'An EMD needs its parent municipality (--parent <dir3|slug>)');
  }
  const tenant: Tenant = {
    id: newId(),
    kind: input.kind,
    name: input.name,
    dir3: input.dir3,
    ine: input.ine ?? null,
    slug,
    parentId,
    comarca: input.comarca ?? null,
    population: input.population ?? null,
    language: input.language ?? 'ca',
    status: input.status ?? 'listed',
    demo: input.demo ?? false,
  };
  await insertTenant(tx, tenant, ctx.clock.now());
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    ...ctx,
    action: 'tenant.create',
    objectType: 'tenant',
    objectId: tenant.id,
    details: { dir3: tenant.dir3, name: tenant.name, kind: tenant.kind, status: tenant.status },
  });
  return tenant;
}

/**
 * Creates or updates the province's 231 municipalities from data/seed (INE, DIR3, comarca,
 * population 2025). Idempotent: a second run changes nothing and records nothing.
 */
export async function importProvince(
  tx: Tx,
  ctx: PlatformCtx,
): Promise<{ created: number; updated: number; unchanged: number }> {
  const counts = { created: 0, updated: 0, unchanged: 0 };
  for (const m of loadMunicipalities()) {
    const existing = (await findTenantByIne(tx, m.ine)) ?? (await findTenantByRef(tx, m.dir3));
    if (!existing) {
      await createTenant(tx, ctx, {
        kind: 'ajuntament',
        name: m.name,
        dir3: m.dir3,
        ine: m.ine,
        comarca: m.comarca,
        population: m.population2025,
        language: defaultLanguage(m),
        status: 'listed',
      });
      counts.created++;
      continue;
    }
    const patch: Partial<Tenant> = {};
    if (existing.comarca !== m.comarca) patch.comarca = m.comarca;
    if (existing.population !== m.population2025) patch.population = m.population2025;
    if (existing.dir3 !== m.dir3) patch.dir3 = m.dir3;
    if (Object.keys(patch).length === 0) {
      counts.unchanged++;
      continue;
    }
    await updateTenant(tx, existing.id, patch, ctx.clock.now());
    await recordEvent(tx, {
      tenantId: PLATFORM_TENANT,
      ...ctx,
      action: 'tenant.update',
      objectType: 'tenant',
      objectId: existing.id,
      details: { source: 'import-province', ...patch },
    });
    counts.updated++;
  }
  return counts;
}

export async function getTenantOrThrow(tx: Tx, ref: string): Promise<Tenant> {
  const t = await findTenantByRef(tx, ref);
  if (!t) throw new AppError('ENTITY_NOT_FOUND', `Entity ${ref} not found`);
  return t;
}

export { listTenants, findTenantByRef };
