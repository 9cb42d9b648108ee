import type { Tx } from '#platform/db/database.ts';
import { CHECKLIST_ITEMS, type ChecklistItem } from './rollout.model.ts';

/**
 * The go-live checklist items an entity still lacks. `certification` is required only when the
 * entity's wave requires it; a recorded bypass (with its reason) counts as present.
 */
export async function missingForLive(tx: Tx, entityId: string): Promise<ChecklistItem[]> {
  const rows = await tx
    .selectFrom('golive_checklist')
    .select('item')
    .where('entity_id', '=', entityId)
    .execute();
  const have = new Set(rows.map((r) => r.item));
  const wave = await tx
    .selectFrom('rollout_assignments as a')
    .innerJoin('rollout_waves as w', 'w.id', 'a.wave_id')
    .select('w.requires_certification')
    .where('a.entity_id', '=', entityId)
    .executeTakeFirst();
  const needsCertification = wave?.requires_certification ?? false;
  return CHECKLIST_ITEMS.filter((i) => !have.has(i) && (i !== 'certification' || needsCertification));
}
