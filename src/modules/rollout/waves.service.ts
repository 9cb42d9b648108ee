import { sql } from 'kysely';
import type { Tx } from '#platform/db/database.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { assertCivilDate } from '#modules/calendar/civil-date.ts';
import { type EntityRef, entityRef, resolveEntity } from './entities.service.ts';
import { applyStateChange, assertOperator, type PlatformCtx } from './lifecycle.service.ts';

/**
 * Calls for enrolment and the waves of the roll-out (issue 6; DOMAIN.md "The Diputació's
 * roll-out"). All platform rows, audited on the platform chain in the caller's transaction.
 */

export type Call = { id: string; name: string; opensOn: string; closesOn: string };

export type WaveEntity = EntityRef & { position: number };

export type Wave = {
  id: string;
  callId: string;
  callName: string;
  name: string;
  plannedStart: string;
  plannedEnd: string;
  requiresCertification: boolean;
  capacity: number | null;
  entities: WaveEntity[];
};

/** The roll-out rule a proposal applied: smallest entities without a system, or those on another provider. */
export type ProposalRule = 'no_system' | 'certification';

export type ProposedEntity = EntityRef & { requestId: string; currentProvider: string | null };

export type Proposal = { rule: ProposalRule; entities: ProposedEntity[] };

/**
 * A `date` column as 'YYYY-MM-DD': the drivers (pg, PGlite) return a JavaScript Date at local
 * midnight, so it is formatted in SQL instead.
 */
const civil = (col: string) => sql<string>`to_char(${sql.ref(col)}, 'YYYY-MM-DD')`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function cleanName(name: string, what: string): string {
  const n = name.trim();
  if (!n || n.length > 200)
    throw new AppError('VALIDATION_FAILED', `The ${what} name must have 1 to 200 characters`);
  return n;
}

async function assertNameFree(tx: Tx, table: 'rollout_calls' | 'rollout_waves', name: string) {
  const taken = await tx.selectFrom(table).select('id').where('name', '=', name).executeTakeFirst();
  if (taken)
    throw new AppError(
      'WAVE_NAME_TAKEN',
      `A ${table === 'rollout_calls' ? 'call' : 'wave'} named "${name}" exists`,
    );
}

// ---- calls ----

/**
 * Opens a call for enrolment. Requests filed while no call was open or announced (call_id null)
 * join it if it closes on or after the day they were filed.
 */
export async function createCall(
  tx: Tx,
  ctx: PlatformCtx,
  input: { name: string; opensOn: string; closesOn: string },
): Promise<Call> {
  assertOperator(ctx);
  const name = cleanName(input.name, 'call');
  const opensOn = assertCivilDate(input.opensOn, 'opening date');
  const closesOn = assertCivilDate(input.closesOn, 'closing date');
  if (closesOn < opensOn) throw new AppError('VALIDATION_FAILED', 'A call cannot close before it opens');
  await assertNameFree(tx, 'rollout_calls', name);
  const id = newId();
  await tx
    .insertInto('rollout_calls')
    .values({
      id,
      name,
      opens_on: opensOn,
      closes_on: closesOn,
      created_at: ctx.clock.now(),
      created_by: ctx.actor.label,
    })
    .execute();
  // Requests filed when no call was open or announced belong to the next call: this one, if it
  // closes on or after the day they were filed (Europe/Madrid).
  const adopted = await tx
    .updateTable('enrolment_requests')
    .set({ call_id: id })
    .where('call_id', 'is', null)
    .where(sql<boolean>`(submitted_at at time zone 'Europe/Madrid')::date <= ${closesOn}::date`)
    .returning('id')
    .execute();
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    ...ctx,
    action: 'rollout.call.create',
    objectType: 'rollout_call',
    objectId: id,
    details: { name, opensOn, closesOn, ...(adopted.length ? { requests: adopted.map((r) => r.id) } : {}) },
  });
  return { id, name, opensOn, closesOn };
}

export async function listCalls(tx: Tx): Promise<Call[]> {
  const rows = await tx
    .selectFrom('rollout_calls')
    .select(['id', 'name', civil('opens_on').as('opens_on'), civil('closes_on').as('closes_on')])
    .orderBy('opens_on')
    .orderBy('name')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, opensOn: r.opens_on, closesOn: r.closes_on }));
}

async function findCall(tx: Tx, ref: string) {
  const call = await tx
    .selectFrom('rollout_calls')
    .selectAll()
    .where(UUID.test(ref) ? 'id' : 'name', '=', ref)
    .executeTakeFirst();
  if (!call) throw new AppError('CALL_NOT_FOUND', `No call ${ref}`);
  return call;
}

// ---- waves ----

export async function createWave(
  tx: Tx,
  ctx: PlatformCtx,
  input: {
    callId: string;
    name: string;
    plannedStart: string;
    plannedEnd: string;
    requiresCertification: boolean;
    capacity: number | null;
  },
): Promise<Wave> {
  assertOperator(ctx);
  const call = await findCall(tx, input.callId);
  const name = cleanName(input.name, 'wave');
  const plannedStart = assertCivilDate(input.plannedStart, 'planned start');
  const plannedEnd = assertCivilDate(input.plannedEnd, 'planned end');
  if (plannedEnd < plannedStart)
    throw new AppError('VALIDATION_FAILED', 'A wave cannot end before it starts');
  if (input.capacity !== null && (!Number.isInteger(input.capacity) || input.capacity < 1))
    throw new AppError('VALIDATION_FAILED', 'The capacity must be a whole number from 1 (or none)');
  await assertNameFree(tx, 'rollout_waves', name);
  const id = newId();
  await tx
    .insertInto('rollout_waves')
    .values({
      id,
      call_id: call.id,
      name,
      planned_start: plannedStart,
      planned_end: plannedEnd,
      requires_certification: input.requiresCertification,
      capacity: input.capacity,
      created_at: ctx.clock.now(),
      created_by: ctx.actor.label,
    })
    .execute();
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    ...ctx,
    action: 'rollout.wave.create',
    objectType: 'rollout_wave',
    objectId: id,
    details: {
      callId: call.id,
      name,
      plannedStart,
      plannedEnd,
      requiresCertification: input.requiresCertification,
      capacity: input.capacity,
    },
  });
  return getWave(tx, id);
}

async function waveEntities(tx: Tx, waveIds: string[]): Promise<Map<string, WaveEntity[]>> {
  const out = new Map<string, WaveEntity[]>();
  if (waveIds.length === 0) return out;
  const rows = await tx
    .selectFrom('rollout_assignments as a')
    .innerJoin('tenants as t', 't.id', 'a.entity_id')
    .select([
      'a.wave_id',
      'a.position',
      't.id',
      't.dir3',
      't.ine',
      't.slug',
      't.name',
      't.kind',
      't.comarca',
      't.population',
      't.status',
    ])
    .where('a.wave_id', 'in', waveIds)
    .orderBy('a.position')
    .orderBy('t.name')
    .execute();
  for (const r of rows) {
    const list = out.get(r.wave_id) ?? [];
    list.push({ ...entityRef(r), position: r.position });
    out.set(r.wave_id, list);
  }
  return out;
}

/** Every wave (by planned start, then name) with its entities in the operator's order and their states. */
export async function listWaves(tx: Tx, filter: { ids?: string[] } = {}): Promise<Wave[]> {
  let q = tx
    .selectFrom('rollout_waves as w')
    .innerJoin('rollout_calls as c', 'c.id', 'w.call_id')
    .select([
      'w.id',
      'w.call_id',
      'w.name',
      'w.requires_certification',
      'w.capacity',
      civil('w.planned_start').as('planned_start'),
      civil('w.planned_end').as('planned_end'),
      'c.name as call_name',
    ])
    .orderBy('w.planned_start')
    .orderBy('w.name');
  if (filter.ids) q = q.where('w.id', 'in', filter.ids);
  const rows = await q.execute();
  const entities = await waveEntities(
    tx,
    rows.map((r) => r.id),
  );
  return rows.map((r) => ({
    id: r.id,
    callId: r.call_id,
    callName: r.call_name,
    name: r.name,
    plannedStart: r.planned_start,
    plannedEnd: r.planned_end,
    requiresCertification: r.requires_certification,
    capacity: r.capacity,
    entities: entities.get(r.id) ?? [],
  }));
}

/** A wave by id or name; WAVE_NOT_FOUND (404) otherwise. */
export async function getWave(tx: Tx, ref: string): Promise<Wave> {
  const row = await tx
    .selectFrom('rollout_waves')
    .select('id')
    .where(UUID.test(ref) ? 'id' : 'name', '=', ref)
    .executeTakeFirst();
  if (!row) throw new AppError('WAVE_NOT_FOUND', `No wave ${ref}`);
  const [wave] = await listWaves(tx, { ids: [row.id] });
  return wave!;
}

/**
 * The candidates of a wave by the roll-out rule: entities with an accepted enrolment request of
 * the wave's call (a late request already names the next call), in state `requested` and in no
 * wave. A wave without certification takes those with no case-file system; one that requires
 * certification those on another provider. Least populated first (population 2025, then INE
 * code), at most the wave's capacity. With `limit: false`, every candidate (for eligibility).
 */
async function candidates(
  tx: Tx,
  wave: { callId: string; requiresCertification: boolean; capacity: number | null },
  opts: { limit: boolean },
): Promise<ProposedEntity[]> {
  const noSystem = sql<boolean>`coalesce(trim(r.current_provider), '') = ''`;
  const rows = await tx
    .selectFrom('enrolment_requests as r')
    .innerJoin('tenants as t', 't.id', 'r.entity_id')
    .select([
      'r.id as request_id',
      'r.current_provider',
      't.id',
      't.dir3',
      't.ine',
      't.slug',
      't.name',
      't.kind',
      't.comarca',
      't.population',
      't.status',
    ])
    .where('r.status', '=', 'accepted')
    .where('r.call_id', '=', wave.callId)
    .where('t.status', '=', 'requested')
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('rollout_assignments as a')
            .select('a.entity_id')
            .whereRef('a.entity_id', '=', 't.id'),
        ),
      ),
    )
    .where(wave.requiresCertification ? sql<boolean>`not (${noSystem})` : noSystem)
    .orderBy(sql`t.population asc nulls last`)
    .orderBy(sql`t.ine asc nulls last`)
    .orderBy('t.dir3')
    .orderBy('r.submitted_at', 'desc')
    .execute();
  const seen = new Set<string>();
  const out: ProposedEntity[] = [];
  for (const r of rows) {
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    out.push({
      ...entityRef(r),
      requestId: r.request_id,
      currentProvider: r.current_provider?.trim() || null,
    });
  }
  return opts.limit && wave.capacity !== null ? out.slice(0, wave.capacity) : out;
}

/**
 * The proposal for a wave, as a list the operator can save unchanged (PUT …/entities): the
 * entities already in it, in their order, then its free places filled by the roll-out rule.
 */
export async function proposeWave(tx: Tx, ref: string): Promise<Proposal> {
  const wave = await getWave(tx, ref);
  const free = wave.capacity === null ? null : Math.max(0, wave.capacity - wave.entities.length);
  const fresh = await candidates(tx, { ...wave, capacity: free }, { limit: true });
  const requests = new Map<string, { id: string; provider: string | null }>();
  if (wave.entities.length > 0) {
    const rows = await tx
      .selectFrom('enrolment_requests')
      .select(['id', 'entity_id', 'current_provider'])
      .where('status', '=', 'accepted')
      .where(
        'entity_id',
        'in',
        wave.entities.map((e) => e.id),
      )
      .orderBy('submitted_at')
      .execute();
    for (const r of rows)
      if (r.entity_id) requests.set(r.entity_id, { id: r.id, provider: r.current_provider?.trim() || null });
  }
  const kept: ProposedEntity[] = wave.entities.map(({ position: _, ...e }) => ({
    ...e,
    requestId: requests.get(e.id)?.id ?? '',
    currentProvider: requests.get(e.id)?.provider ?? null,
  }));
  return { rule: wave.requiresCertification ? 'certification' : 'no_system', entities: [...kept, ...fresh] };
}

/**
 * The operator's final list for a wave, in order (ids, DIR3 codes or slugs). Added entities must be
 * candidates of the wave (WAVE_ENTITY_NOT_ELIGIBLE) and go `requested → scheduled`; removed ones
 * go back `scheduled → requested` (one further on cannot leave its wave); more than the capacity
 * is WAVE_FULL. All in the caller's transaction, audited.
 */
export async function assignWave(tx: Tx, ctx: PlatformCtx, ref: string, refs: string[]): Promise<Wave> {
  assertOperator(ctx);
  const wave = await getWave(tx, ref);
  // Serialise concurrent assignments of the same wave.
  await tx.updateTable('rollout_waves').set({ name: wave.name }).where('id', '=', wave.id).execute();
  const entities = [];
  for (const r of refs) entities.push(await resolveEntity(tx, r));
  const ids = entities.map((e) => e.id);
  if (new Set(ids).size !== ids.length)
    throw new AppError('VALIDATION_FAILED', 'An entity appears twice in the list');
  if (wave.capacity !== null && ids.length > wave.capacity)
    throw new AppError('WAVE_FULL', `The wave "${wave.name}" takes at most ${wave.capacity} entities`, {
      capacity: wave.capacity,
      given: ids.length,
    });
  const current = new Map(wave.entities.map((e) => [e.id, e]));
  const added = entities.filter((e) => !current.has(e.id));
  const removed = wave.entities.filter((e) => !ids.includes(e.id));
  if (added.length > 0) {
    const eligible = new Set((await candidates(tx, wave, { limit: false })).map((c) => c.id));
    const refused = added.filter((e) => !eligible.has(e.id));
    if (refused.length > 0)
      throw new AppError(
        'WAVE_ENTITY_NOT_ELIGIBLE',
        `Cannot join the wave "${wave.name}": ${refused.map((e) => e.name).join(', ')} (${
          wave.requiresCertification
            ? 'it needs an accepted request of this call, on another provider, in state requested and in no other wave'
            : 'it needs an accepted request of this call, with no system, in state requested and in no other wave'
        })`,
        { entities: refused.map((e) => ({ id: e.id, dir3: e.dir3, name: e.name, status: e.status })) },
      );
  }
  const stuck = removed.filter((e) => e.status !== 'scheduled');
  if (stuck.length > 0)
    throw new AppError(
      'WAVE_ENTITY_NOT_ELIGIBLE',
      `Cannot take out of the wave: ${stuck.map((e) => `${e.name} (${e.status})`).join(', ')}`,
      { entities: stuck.map((e) => ({ id: e.id, dir3: e.dir3, name: e.name, status: e.status })) },
    );
  const now = ctx.clock.now();
  const reason = `wave ${wave.name}`;
  for (const e of removed) {
    await tx.deleteFrom('rollout_assignments').where('entity_id', '=', e.id).execute();
    await applyStateChange(tx, ctx, await resolveEntity(tx, e.id), 'requested', `removed from ${reason}`);
  }
  for (const [i, e] of entities.entries()) {
    if (current.has(e.id)) {
      await tx
        .updateTable('rollout_assignments')
        .set({ position: i + 1 })
        .where('entity_id', '=', e.id)
        .execute();
      continue;
    }
    await tx
      .insertInto('rollout_assignments')
      .values({
        entity_id: e.id,
        wave_id: wave.id,
        position: i + 1,
        assigned_at: now,
        assigned_by: ctx.actor.label,
      })
      .execute();
    await applyStateChange(tx, ctx, e, 'scheduled', reason);
  }
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    ...ctx,
    action: 'rollout.wave.assign',
    objectType: 'rollout_wave',
    objectId: wave.id,
    details: {
      name: wave.name,
      entities: entities.map((e) => e.dir3),
      added: added.map((e) => e.dir3),
      removed: removed.map((e) => e.dir3),
    },
  });
  return getWave(tx, wave.id);
}

/** Takes an entity out of its wave, if it is in one (after an operator sent it back to `requested`). */
export async function removeFromWave(tx: Tx, ctx: PlatformCtx, entityId: string): Promise<void> {
  const a = await tx
    .deleteFrom('rollout_assignments')
    .where('entity_id', '=', entityId)
    .returning(['wave_id'])
    .executeTakeFirst();
  if (!a) return;
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    ...ctx,
    action: 'rollout.wave.remove',
    objectType: 'rollout_wave',
    objectId: a.wave_id,
    details: { entityId },
  });
}
