import type { Tx } from '#platform/db/database.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import type { ChecklistItemKind } from '#platform/db/schema/rollout.ts';
import { AppError } from '#platform/errors.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { assertOperator, type PlatformCtx } from './lifecycle.service.ts';
import { CHECKLIST_ITEMS, type ChecklistItem } from './rollout.model.ts';

/** Whether the entity's wave requires the certification of migrated files. */
async function needsCertification(tx: Tx, entityId: string): Promise<boolean> {
  const wave = await tx
    .selectFrom('rollout_assignments as a')
    .innerJoin('rollout_waves as w', 'w.id', 'a.wave_id')
    .select('w.requires_certification')
    .where('a.entity_id', '=', entityId)
    .executeTakeFirst();
  return wave?.requires_certification ?? false;
}

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
  const certification = await needsCertification(tx, entityId);
  return CHECKLIST_ITEMS.filter((i) => !have.has(i) && (i !== 'certification' || certification));
}

export type ChecklistItemView = {
  item: ChecklistItem;
  required: boolean;
  status: 'missing' | ChecklistItemKind;
  documentName: string | null;
  documentSha256: string | null;
  fact: string | null;
  reference: string | null;
  bypassReason: string | null;
  recordedAt: string | null;
  recordedBy: string | null;
};

export type ChecklistView = { items: ChecklistItemView[]; missing: ChecklistItem[] };

/** Every item of the checklist, in order, with what was recorded for it. */
export async function getChecklist(tx: Tx, entityId: string): Promise<ChecklistView> {
  const rows = await tx
    .selectFrom('golive_checklist')
    .selectAll()
    .where('entity_id', '=', entityId)
    .execute();
  const byItem = new Map(rows.map((r) => [r.item, r]));
  const certification = await needsCertification(tx, entityId);
  const items = CHECKLIST_ITEMS.map((item): ChecklistItemView => {
    const r = byItem.get(item);
    return {
      item,
      required: item !== 'certification' || certification,
      status: r?.kind ?? 'missing',
      documentName: r?.document_name ?? null,
      documentSha256: r?.document_sha256 ?? null,
      fact: r?.fact ?? null,
      reference: r?.reference ?? null,
      bypassReason: r?.bypass_reason ?? null,
      recordedAt: r ? new Date(r.recorded_at).toISOString() : null,
      recordedBy: r?.recorded_by ?? null,
    };
  });
  return { items, missing: items.filter((i) => i.required && i.status === 'missing').map((i) => i.item) };
}

/** A checklist item named in a URL or a CLI argument; CHECKLIST_ITEM_UNKNOWN otherwise. */
export function checklistItem(item: string): ChecklistItem {
  if (!(CHECKLIST_ITEMS as readonly string[]).includes(item))
    throw new AppError('CHECKLIST_ITEM_UNKNOWN', `"${item}" is not an item of the go-live checklist`, {
      items: CHECKLIST_ITEMS,
    });
  return item as ChecklistItem;
}

/**
 * What is recorded for an item: a recorded fact (`fact`, e.g. "Decret 2026/000012 de 3 de març",
 * with an optional reference) or a document kept in the blob store (its SHA-256 and file name;
 * the caller has stored the file first).
 */
export type ChecklistEntry =
  | { kind: 'fact'; fact: string; reference?: string | null }
  | { kind: 'document'; sha256: string; name: string; reference?: string | null };

function text(v: string | null | undefined, what: string, max: number): string | null {
  if (v === undefined || v === null) return null;
  const t = v.trim();
  if (t.length === 0) return null;
  if (t.length > max) throw new AppError('VALIDATION_FAILED', `${what} has more than ${max} characters`);
  return t;
}

/**
 * Records (or replaces) an item as a fact or a document; operator only, audited on the platform
 * chain with what was there before. `certification` is not recorded by hand: it is passed by the
 * ENI import's validation or bypassed with a reason (bypassCertification).
 */
export async function recordChecklistItem(
  tx: Tx,
  ctx: PlatformCtx,
  entity: Tenant,
  itemName: string,
  entry: ChecklistEntry,
): Promise<ChecklistView> {
  assertOperator(ctx);
  const item = checklistItem(itemName);
  if (item === 'certification')
    throw new AppError(
      'VALIDATION_FAILED',
      'The certification is passed by the validation of the imported files, or bypassed with a reason',
    );
  const reference = text(entry.reference, 'reference', 500);
  const fact = entry.kind === 'fact' ? text(entry.fact, 'fact', 2000) : null;
  if (entry.kind === 'fact' && !fact) throw new AppError('VALIDATION_FAILED', 'The fact is empty');
  const row = {
    kind: entry.kind,
    document_sha256: entry.kind === 'document' ? entry.sha256 : null,
    document_name: entry.kind === 'document' ? entry.name : null,
    fact,
    reference,
    bypass_reason: null,
    recorded_at: ctx.clock.now(),
    recorded_by: ctx.actor.label,
  };
  const before = await writeItem(tx, entity.id, item, row);
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    ...ctx,
    action: 'checklist.record',
    objectType: 'tenant',
    objectId: entity.id,
    details: {
      dir3: entity.dir3,
      item,
      kind: entry.kind,
      ...(entry.kind === 'document' ? { sha256: entry.sha256, name: entry.name } : { fact }),
      reference,
      ...(before ? { replaced: before } : {}),
    },
  });
  return getChecklist(tx, entity.id);
}

/**
 * Bypasses the certification gate: operator only, with a written reason (BYPASS_REASON_REQUIRED
 * otherwise), recorded as kind `bypass` and audited `checklist.bypass` on the platform chain.
 */
export async function bypassCertification(
  tx: Tx,
  ctx: PlatformCtx,
  entity: Tenant,
  reasonText: string | null | undefined,
): Promise<ChecklistView> {
  assertOperator(ctx);
  const reason = text(reasonText, 'reason', 2000);
  if (!reason)
    throw new AppError('BYPASS_REASON_REQUIRED', 'Bypassing the certification needs a written reason');
  const before = await writeItem(tx, entity.id, 'certification', {
    kind: 'bypass',
    document_sha256: null,
    document_name: null,
    fact: null,
    reference: null,
    bypass_reason: reason,
    recorded_at: ctx.clock.now(),
    recorded_by: ctx.actor.label,
  });
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    ...ctx,
    action: 'checklist.bypass',
    objectType: 'tenant',
    objectId: entity.id,
    details: {
      dir3: entity.dir3,
      item: 'certification',
      reason,
      required: await needsCertification(tx, entity.id),
      ...(before ? { replaced: before } : {}),
    },
  });
  return getChecklist(tx, entity.id);
}

/**
 * Records an item only when nothing is recorded for it yet (provisioning's automatic entries: an
 * operator's own entry is never overwritten); audited. Returns whether it wrote.
 */
export async function recordChecklistItemIfMissing(
  tx: Tx,
  ctx: PlatformCtx,
  entity: Tenant,
  item: ChecklistItem,
  entry: ChecklistEntry,
): Promise<boolean> {
  const existing = await tx
    .selectFrom('golive_checklist')
    .select('item')
    .where('entity_id', '=', entity.id)
    .where('item', '=', item)
    .executeTakeFirst();
  if (existing) return false;
  await recordChecklistItem(tx, ctx, entity, item, entry);
  return true;
}

type ItemRow = {
  kind: ChecklistItemKind;
  document_sha256: string | null;
  document_name: string | null;
  fact: string | null;
  reference: string | null;
  bypass_reason: string | null;
  recorded_at: Date;
  recorded_by: string;
};

/** Inserts or replaces the item; returns a summary of the entry it replaced, if any. */
async function writeItem(
  tx: Tx,
  entityId: string,
  item: ChecklistItem,
  row: ItemRow,
): Promise<Record<string, unknown> | null> {
  const prev = await tx
    .selectFrom('golive_checklist')
    .selectAll()
    .where('entity_id', '=', entityId)
    .where('item', '=', item)
    .forUpdate()
    .executeTakeFirst();
  if (prev) {
    await tx
      .updateTable('golive_checklist')
      .set(row)
      .where('entity_id', '=', entityId)
      .where('item', '=', item)
      .execute();
  } else {
    await tx
      .insertInto('golive_checklist')
      .values({ entity_id: entityId, item, ...row })
      .execute();
  }
  if (!prev) return null;
  return {
    kind: prev.kind,
    sha256: prev.document_sha256,
    name: prev.document_name,
    fact: prev.fact,
    reference: prev.reference,
    bypassReason: prev.bypass_reason,
    recordedAt: new Date(prev.recorded_at).toISOString(),
    recordedBy: prev.recorded_by,
  };
}
