import type { Actor, Clock, RequestMeta } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import { newId } from '#platform/ids.ts';
import { type ChainedEvent, chainHash, GENESIS_HASH } from './audit.chain.ts';

export type AuditInput = {
  tenantId: string;
  actor: Actor;
  request: { ip: string | null; userAgent: string | null } | RequestMeta;
  clock: Clock;
  /** Dotted verb, e.g. `expedient.create`, `document.read`. */
  action: string;
  objectType?: string | null;
  objectId?: string | null;
  details?: Record<string, unknown>;
};

/**
 * The chain head each open transaction holds (locked until it ends), by tenant, as its last event
 * left it: the next event of the same transaction needs no statement to read it. A transaction that
 * rolls back to a savepoint after an event must call forgetAuditHeads (the head it knew is undone).
 */
const heldHeads = new WeakMap<Tx, Map<string, { seq: number; hash: string }>>();

/** After ROLLBACK TO SAVEPOINT: the chain heads this transaction knew may have been undone. */
export function forgetAuditHeads(tx: Tx): void {
  heldHeads.delete(tx);
}

/**
 * Appends one event to the tenant's hash chain, in the caller's transaction, so the change and
 * its audit event commit together. Takes the chain head with FOR UPDATE: call it last in a use
 * case (lock order: counters first, audit head last). A second event of the same transaction
 * appends to the head the first one left, in one statement.
 */
export async function recordEvent(tx: Tx, input: AuditInput): Promise<{ seq: number; hash: string }> {
  const held = heldHeads.get(tx)?.get(input.tenantId);
  // One statement takes (or creates) the chain head and locks it until commit.
  const head =
    held ??
    (await tx
      .insertInto('audit_heads')
      .values({ tenant_id: input.tenantId, seq: 0, hash: GENESIS_HASH })
      .onConflict((oc) => oc.column('tenant_id').doUpdateSet((eb) => ({ seq: eb.ref('audit_heads.seq') })))
      .returning(['seq', 'hash'])
      .executeTakeFirstOrThrow());
  const seq = Number(head.seq) + 1;
  const at = new Date(input.clock.now().getTime()); // millisecond precision: what we hash is what we store
  const event: ChainedEvent = {
    tenantId: input.tenantId,
    seq,
    id: newId(),
    at: at.toISOString(),
    actorId: input.actor.id,
    actorLabel: input.actor.label,
    action: input.action,
    objectType: input.objectType ?? null,
    objectId: input.objectId ?? null,
    ip: input.request.ip,
    userAgent: input.request.userAgent,
    details: JSON.parse(JSON.stringify(input.details ?? {})),
  };
  const hash = chainHash(head.hash, event);
  const row = {
    tenant_id: event.tenantId,
    id: event.id,
    at: event.at,
    actor_id: event.actorId,
    actor_label: event.actorLabel,
    action: event.action,
    object_type: event.objectType,
    object_id: event.objectId,
    ip: event.ip,
    user_agent: event.userAgent,
    details: JSON.stringify(event.details),
    prev_hash: head.hash,
    hash,
  };
  if (held) {
    // The new head and the event in one statement. The head moves only from the one this
    // transaction left; were it not so (a bug: a savepoint undone without forgetAuditHeads), the
    // event's seq would be null and the statement, with the transaction, would fail.
    await tx
      .with('h', (db) =>
        db
          .updateTable('audit_heads')
          .set({ seq, hash })
          .where('tenant_id', '=', input.tenantId)
          .where('seq', '=', String(head.seq))
          .where('hash', '=', head.hash)
          .returning('seq'),
      )
      .insertInto('audit_events')
      .values((eb) => ({ ...row, seq: eb.selectFrom('h').select('h.seq') }))
      .execute();
  } else {
    // The event and the new head in one statement.
    await tx
      .with('ev', (db) => db.insertInto('audit_events').values({ ...row, seq }))
      .updateTable('audit_heads')
      .set({ seq, hash })
      .where('tenant_id', '=', input.tenantId)
      .execute();
  }
  const heads = heldHeads.get(tx) ?? new Map<string, { seq: number; hash: string }>();
  heads.set(input.tenantId, { seq, hash });
  heldHeads.set(tx, heads);
  return { seq, hash };
}

export type AuditEventView = {
  seq: number;
  at: string;
  actor: string;
  action: string;
  objectType: string | null;
  objectId: string | null;
  ip: string | null;
  details: Record<string, unknown>;
};

/** The audit trail of one object (e.g. a case file and its documents), newest first. */
export async function listEventsForObjects(
  tx: Tx,
  tenantId: string,
  objects: { type: string; id: string }[],
  limit = 200,
): Promise<AuditEventView[]> {
  if (objects.length === 0) return [];
  const rows = await tx
    .selectFrom('audit_events')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where((eb) =>
      eb.or(objects.map((o) => eb.and([eb('object_type', '=', o.type), eb('object_id', '=', o.id)]))),
    )
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
    at: new Date(r.at).toISOString(),
    actor: r.actor_label,
    action: r.action,
    objectType: r.object_type,
    objectId: r.object_id,
    ip: r.ip,
    details: r.details as unknown as Record<string, unknown>,
  }));
}

/** Reads the stored events of one chain in order, as hashed (used by verification). */
export function storedEventFromRow(r: Record<string, unknown>) {
  return {
    tenantId: String(r.tenant_id),
    seq: Number(r.seq),
    id: String(r.id),
    at: new Date(r.at as string | Date).toISOString(),
    actorId: (r.actor_id as string | null) ?? null,
    actorLabel: String(r.actor_label),
    action: String(r.action),
    objectType: (r.object_type as string | null) ?? null,
    objectId: (r.object_id as string | null) ?? null,
    ip: (r.ip as string | null) ?? null,
    userAgent: (r.user_agent as string | null) ?? null,
    details: (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as Record<string, unknown>,
    prevHash: String(r.prev_hash),
    hash: String(r.hash),
  };
}
