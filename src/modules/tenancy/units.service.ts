import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';

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
