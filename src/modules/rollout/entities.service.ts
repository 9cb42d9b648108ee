import { sql } from 'kysely';
import type { Tx } from '#platform/db/database.ts';
import type { EntityKind, EntityStatus } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { findTenantById, findTenantByRef } from '#modules/tenancy/tenancy.repository.ts';
import { missingForLive } from './checklist.service.ts';
import { changeEntityState, listStateChanges, type PlatformCtx } from './lifecycle.service.ts';
import { ENTITY_STATUSES } from './rollout.model.ts';
import { removeFromWave } from './waves.service.ts';

/** An entity as the console lists it (issue 6 API contract: EntityRef). */
export type EntityRef = {
  id: string;
  dir3: string;
  ine: string | null;
  slug: string;
  name: string;
  kind: EntityKind;
  comarca: string | null;
  population: number | null;
  status: EntityStatus;
};

/** An enrolment request as the console summarises it (issue 6 API contract: EnrolmentSummary). */
export type EnrolmentSummary = {
  id: string;
  status: string;
  entityName: string;
  entityKind: 'ajuntament' | 'emd';
  ine: string | null;
  dir3: string | null;
  entityId: string | null;
  population: number;
  currentProvider: string | null;
  submittedAt: string;
  registryNumber: string | null;
  callId: string | null;
  callName: string | null;
};

export type EntityListItem = EntityRef & { waveId: string | null; waveName: string | null };

export type EntityDetail = EntityRef & {
  wave: { id: string; name: string } | null;
  history: { from: EntityStatus | null; to: EntityStatus; at: string; by: string; reason: string | null }[];
  missingForLive: string[];
  request: EnrolmentSummary | null;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function entityRef(t: {
  id: string;
  dir3: string;
  ine: string | null;
  slug: string;
  name: string;
  kind: EntityKind;
  comarca: string | null;
  population: number | null;
  status: EntityStatus;
}): EntityRef {
  return {
    id: t.id,
    dir3: t.dir3,
    ine: t.ine,
    slug: t.slug,
    name: t.name,
    kind: t.kind,
    comarca: t.comarca,
    population: t.population,
    status: t.status,
  };
}

/** An entity by id, DIR3 code or slug; ENTITY_NOT_FOUND (404) otherwise. */
export async function resolveEntity(tx: Tx, ref: string): Promise<Tenant> {
  const t = UUID.test(ref) ? await findTenantById(tx, ref) : await findTenantByRef(tx, ref);
  if (!t) throw new AppError('ENTITY_NOT_FOUND', `Entity ${ref} not found`);
  return t;
}

export function statusOf(v: string): EntityStatus {
  if ((ENTITY_STATUSES as readonly string[]).includes(v)) return v as EntityStatus;
  throw new AppError('VALIDATION_FAILED', `Unknown state "${v}" (one of ${ENTITY_STATUSES.join(', ')})`);
}

/** The console's list of entities, by name; filters combine. `q` matches name, DIR3, INE or slug. */
export async function listEntities(
  tx: Tx,
  filter: { status?: string; waveId?: string; comarca?: string; q?: string } = {},
): Promise<EntityListItem[]> {
  let q = tx
    .selectFrom('tenants as t')
    .leftJoin('rollout_assignments as a', 'a.entity_id', 't.id')
    .leftJoin('rollout_waves as w', 'w.id', 'a.wave_id')
    .select([
      't.id',
      't.dir3',
      't.ine',
      't.slug',
      't.name',
      't.kind',
      't.comarca',
      't.population',
      't.status',
      'w.id as wave_id',
      'w.name as wave_name',
    ])
    .orderBy('t.name')
    .orderBy('t.dir3');
  if (filter.status) q = q.where('t.status', '=', statusOf(filter.status));
  if (filter.waveId) {
    if (!UUID.test(filter.waveId)) return [];
    q = q.where('a.wave_id', '=', filter.waveId);
  }
  if (filter.comarca) q = q.where('t.comarca', '=', filter.comarca);
  const text = filter.q?.trim();
  if (text) {
    const like = `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) =>
      eb.or([
        eb(sql`lower(t.name)`, 'like', like),
        eb('t.dir3', '=', text.toUpperCase()),
        eb('t.ine', '=', text),
        eb('t.slug', '=', text.toLowerCase()),
      ]),
    );
  }
  const rows = await q.execute();
  return rows.map((r) => ({ ...entityRef(r), waveId: r.wave_id ?? null, waveName: r.wave_name ?? null }));
}

/** The summary of one enrolment request row (shared with the proposal and the CLI). */
export async function enrolmentSummaries(
  tx: Tx,
  filter: { entityId?: string; status?: string; ids?: string[] },
): Promise<EnrolmentSummary[]> {
  let q = tx
    .selectFrom('enrolment_requests as r')
    .leftJoin('tenants as t', 't.id', 'r.entity_id')
    .leftJoin('rollout_calls as c', 'c.id', 'r.call_id')
    .select([
      'r.id',
      'r.status',
      'r.entity_kind',
      'r.emd_name',
      'r.emd_dir3',
      'r.entity_id',
      'r.population',
      'r.current_provider',
      'r.submitted_at',
      'r.registry_number',
      'r.call_id',
      'c.name as call_name',
      't.name as t_name',
      't.ine as t_ine',
      't.dir3 as t_dir3',
    ])
    .orderBy('r.submitted_at')
    .orderBy('r.id');
  if (filter.entityId) q = q.where('r.entity_id', '=', filter.entityId);
  if (filter.status) q = q.where('r.status', '=', filter.status as 'accepted');
  if (filter.ids) {
    if (filter.ids.length === 0) return [];
    q = q.where('r.id', 'in', filter.ids);
  }
  const rows = await q.execute();
  return rows.map((r) => ({
    id: r.id,
    status: r.status,
    entityName: r.t_name ?? r.emd_name ?? '',
    entityKind: r.entity_kind,
    ine: r.t_ine ?? null,
    dir3: r.t_dir3 ?? r.emd_dir3 ?? null,
    entityId: r.entity_id,
    population: r.population,
    currentProvider: r.current_provider?.trim() ? r.current_provider : null,
    submittedAt: r.submitted_at.toISOString(),
    registryNumber: r.registry_number,
    callId: r.call_id,
    callName: r.call_name ?? null,
  }));
}

/** An entity as the console shows it: its wave, its lifecycle, what going live still needs, its accepted request. */
export async function getEntityDetail(tx: Tx, ref: string): Promise<EntityDetail> {
  const t = await resolveEntity(tx, ref);
  const wave = await tx
    .selectFrom('rollout_assignments as a')
    .innerJoin('rollout_waves as w', 'w.id', 'a.wave_id')
    .select(['w.id', 'w.name'])
    .where('a.entity_id', '=', t.id)
    .executeTakeFirst();
  const history = (await listStateChanges(tx, t.id)).map((h) => ({
    from: h.from,
    to: h.to,
    at: h.at,
    by: h.by,
    reason: h.reason,
  }));
  const accepted = await enrolmentSummaries(tx, { entityId: t.id, status: 'accepted' });
  return {
    ...entityRef(t),
    wave: wave ? { id: wave.id, name: wave.name } : null,
    history,
    missingForLive: await missingForLive(tx, t.id),
    request: accepted.at(-1) ?? null,
  };
}

/**
 * An operator's change of an entity's state from the console or the CLI (lifecycle.service.ts
 * decides what is allowed). An entity sent back before `scheduled` leaves its wave (audited).
 */
export async function setEntityState(
  tx: Tx,
  ctx: PlatformCtx,
  ref: string,
  to: string,
  reason: string | null,
): Promise<EntityDetail> {
  const entity = await resolveEntity(tx, ref);
  const target = statusOf(to);
  await changeEntityState(tx, ctx, entity.id, target, { reason });
  if (target === 'requested' || target === 'listed') {
    await removeFromWave(tx, ctx, entity.id);
  }
  return getEntityDetail(tx, entity.id);
}
