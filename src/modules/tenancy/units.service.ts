import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { isUuid, newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';

export type UnitKind = 'organ' | 'unit' | 'office';
export type UnitView = { id: string; name: string; kind: string; dir3: string | null };

/** The entity's bodies, units and registry offices. */
export async function listUnits(tx: Tx, ctx: Ctx): Promise<UnitView[]> {
  return tx
    .selectFrom('units')
    .select(['id', 'name', 'kind', 'dir3'])
    .where('tenant_id', '=', ctx.tenant.id)
    .orderBy('name')
    .execute();
}

/** A unit of this entity (of one kind, if given), or undefined; a malformed id is simply not found. */
export async function findUnit(tx: Tx, ctx: Ctx, id: string, kind?: UnitKind): Promise<UnitView | undefined> {
  if (!isUuid(id)) return undefined;
  let q = tx
    .selectFrom('units')
    .select(['id', 'name', 'kind', 'dir3'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', id);
  if (kind) q = q.where('kind', '=', kind);
  return q.executeTakeFirst();
}

/**
 * Adds a body, unit or registry office (admin). DIR3 codes are optional: they are not in the
 * shipped data, so an administrator enters them; an office's code starts with O.
 */
export async function createUnit(
  tx: Tx,
  ctx: Ctx,
  input: { name: string; kind: UnitKind; dir3?: string | null },
): Promise<UnitView> {
  if (!ctx.roles.includes('admin')) throw new AppError('FORBIDDEN', 'Only an administrator may add units');
  const name = input.name.trim();
  if (!name) throw new AppError('VALIDATION_FAILED', 'The name is empty');
  const dir3 = input.dir3?.trim().toUpperCase() || null;
  if (dir3 && !/^[A-Z0-9]{9}$/.test(dir3))
    throw new AppError('VALIDATION_FAILED', 'A DIR3 code has 9 characters A-Z, 0-9');
  if (dir3 && input.kind === 'office' && !dir3.startsWith('O')) {
    throw new AppError('VALIDATION_FAILED', 'The DIR3 code of a registry office starts with O');
  }
  const id = newId();
  await tx
    .insertInto('units')
    .values({ tenant_id: ctx.tenant.id, id, name, dir3, kind: input.kind, created_at: ctx.clock.now() })
    .execute();
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'unit.create',
    objectType: 'unit',
    objectId: id,
    details: { name, kind: input.kind, dir3 },
  });
  return { id, name, kind: input.kind, dir3 };
}
