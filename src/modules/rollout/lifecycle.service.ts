import type { Actor, Clock, RequestMeta } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import { type EntityStatus, PLATFORM_TENANT } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { findTenantById, updateTenant } from '#modules/tenancy/tenancy.repository.ts';
import { getTenantOrThrow } from '#modules/tenancy/tenancy.service.ts';
import { missingForLive } from './checklist.service.ts';
import { STATE_TRANSITIONS } from './rollout.model.ts';

export type PlatformCtx = { actor: Actor; request: RequestMeta; clock: Clock };

export type StateChangeView = {
  id: string;
  from: EntityStatus | null;
  to: EntityStatus;
  at: string;
  by: string;
  reason: string | null;
};

/** Only the Diputació's operators (and the CLI, which acts as one) move entities along the roll-out. */
export function assertOperator(ctx: PlatformCtx): void {
  if (!ctx.actor.platformRoles.includes('operator'))
    throw new AppError('FORBIDDEN', 'Only an operator of the Diputació may do this');
}

/**
 * Moves an entity (DIR3, slug or id) to another state of the roll-out: the change must be one of
 * STATE_TRANSITIONS, `live` needs every go-live checklist item (CHECKLIST_INCOMPLETE, 409, lists
 * the missing ones). Dated and attributed in entity_state_changes, audited on the platform chain,
 * in the caller's transaction. Moving to the state it is already in is refused (STATE_UNCHANGED).
 */
export async function changeEntityState(
  tx: Tx,
  ctx: PlatformCtx,
  ref: string,
  to: EntityStatus,
  opts: { reason?: string | null } = {},
): Promise<Tenant> {
  assertOperator(ctx);
  const entity = /^[0-9a-f-]{36}$/.test(ref)
    ? await findTenantById(tx, ref)
    : await getTenantOrThrow(tx, ref);
  if (!entity) throw new AppError('ENTITY_NOT_FOUND', `Entity ${ref} not found`);
  return applyStateChange(tx, ctx, entity, to, opts.reason ?? null);
}

/** The change itself, for callers that already hold the entity row (provisioning, enrolment). */
export async function applyStateChange(
  tx: Tx,
  ctx: PlatformCtx,
  entity: Tenant,
  to: EntityStatus,
  reason: string | null,
): Promise<Tenant> {
  const from = entity.status;
  if (from === to) throw new AppError('STATE_UNCHANGED', `The entity is already ${to}`);
  if (!STATE_TRANSITIONS[from].includes(to))
    throw new AppError('STATE_TRANSITION_NOT_ALLOWED', `An entity cannot go from ${from} to ${to}`, {
      from,
      to,
      allowed: STATE_TRANSITIONS[from],
    });
  if (to === 'live') {
    const missing = await missingForLive(tx, entity.id);
    if (missing.length > 0)
      throw new AppError(
        'CHECKLIST_INCOMPLETE',
        `The go-live checklist is incomplete: ${missing.join(', ')}`,
        {
          missing,
        },
      );
  }
  const now = ctx.clock.now();
  await updateTenant(tx, entity.id, { status: to }, now);
  await tx
    .insertInto('entity_state_changes')
    .values({
      id: newId(),
      entity_id: entity.id,
      from_status: from,
      to_status: to,
      at: now,
      actor_id: ctx.actor.id,
      actor_label: ctx.actor.label,
      reason,
    })
    .execute();
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    ...ctx,
    action: 'entity.state',
    objectType: 'tenant',
    objectId: entity.id,
    details: { dir3: entity.dir3, from, to, ...(reason ? { reason } : {}) },
  });
  return { ...entity, status: to };
}

/** The entity's lifecycle, oldest first. */
export async function listStateChanges(tx: Tx, entityId: string): Promise<StateChangeView[]> {
  const rows = await tx
    .selectFrom('entity_state_changes')
    .selectAll()
    .where('entity_id', '=', entityId)
    .orderBy('at')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    from: r.from_status,
    to: r.to_status,
    at: r.at.toISOString(),
    by: r.actor_label,
    reason: r.reason,
  }));
}
