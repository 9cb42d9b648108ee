import { sql } from 'kysely';
import type { Actor, Clock, RequestMeta } from '#platform/context.ts';
import { asTenant, beforeCommit, type Tx, txTenant } from '#platform/db/database.ts';
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

type Head = { seq: number; hash: string };
/** An event recorded in a transaction and not yet written: its values but its place in the chain. */
type Draft = { event: Omit<ChainedEvent, 'seq'>; scope: string | undefined };

/** Each open transaction's events, in the order they were recorded, until it writes them at commit. */
const drafts = new WeakMap<Tx, Draft[]>();

/**
 * The head each tenant's chain will have once the events this process last wrote commit: the
 * guess the next transaction's write checks in its own statement (see writeEvents).
 */
const lastHeads = new Map<string, Head>();
const MAX_LAST_HEADS = 10_000;

/**
 * How this process's chain appends went since it started (exposed as a metric): `guessed`, in one
 * statement on the head it expected; `readHead`, after reading the head first (no guess yet, or
 * another process or a rolled-back transaction had moved it).
 */
export const chainAppends = { guessed: 0, readHead: 0 };

/** The transaction's events so far: discardEventsAfter(tx, mark) forgets the ones recorded after. */
export function auditMark(tx: Tx): number {
  return drafts.get(tx)?.length ?? 0;
}

/** After ROLLBACK TO SAVEPOINT: the events recorded since the mark describe work that was undone. */
export function discardEventsAfter(tx: Tx, mark: number): void {
  drafts.get(tx)?.splice(mark);
}

/**
 * Records one event of the tenant's hash chain in the caller's transaction, so the change and its
 * audit event commit together. The transaction's events are written when its work is done, just
 * before it commits (Database's beforeCommit): the chain head, a per-tenant row lock held until
 * commit, is taken last and for the shortest time, and the events cost one statement per tenant.
 * A transaction that rolls back to a savepoint discards the events recorded after it
 * (auditMark, discardEventsAfter).
 */
export async function recordEvent(tx: Tx, input: AuditInput): Promise<void> {
  const at = new Date(input.clock.now().getTime()); // millisecond precision: what we hash is what we store
  const event: Draft['event'] = {
    tenantId: input.tenantId,
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
  const pending = drafts.get(tx);
  if (pending) pending.push({ event, scope: txTenant(tx) });
  else {
    drafts.set(tx, [{ event, scope: txTenant(tx) }]);
    beforeCommit(tx, () => writeEvents(tx));
  }
}

/** The events of one tenant chained after `head`, as rows, and the head they leave. */
function chain(head: Head, events: Draft['event'][]) {
  let { seq, hash } = head;
  const rows = events.map((e) => {
    const prev = hash;
    seq += 1;
    hash = chainHash(prev, { ...e, seq });
    return {
      tenant_id: e.tenantId,
      seq,
      id: e.id,
      at: e.at,
      actor_id: e.actorId,
      actor_label: e.actorLabel,
      action: e.action,
      object_type: e.objectType,
      object_id: e.objectId,
      ip: e.ip,
      user_agent: e.userAgent,
      details: JSON.stringify(e.details),
      prev_hash: prev,
      hash,
    };
  });
  return { rows, head: { seq, hash } };
}

/** Writes the transaction's recorded events, per tenant in order of first event, each under the tenant it was recorded for. */
async function writeEvents(tx: Tx): Promise<void> {
  const pending = drafts.get(tx) ?? [];
  drafts.delete(tx);
  const groups = new Map<string, { scope: string | undefined; events: Draft['event'][] }>();
  for (const d of pending) {
    const g = groups.get(d.event.tenantId);
    if (g) g.events.push(d.event);
    else groups.set(d.event.tenantId, { scope: d.scope, events: [d.event] });
  }
  for (const [tenantId, g] of groups) {
    // Row-level security: each chain is written as the tenant its events were recorded for.
    if (g.scope !== undefined && g.scope !== txTenant(tx)) {
      const scope = g.scope;
      await asTenant(tx, scope, () => appendToChain(tx, tenantId, g.events));
    } else await appendToChain(tx, tenantId, g.events);
  }
}

/**
 * Appends events to a tenant's chain. The head this process last left is usually still the head
 * by the time this transaction gets its lock: the head moves and the events are added in one
 * statement, which checks the guess. When another process or transaction moved the head since (or
 * the one that left it rolled back) nothing is written, and the head is read and locked first.
 */
async function appendToChain(tx: Tx, tenantId: string, events: Draft['event'][]): Promise<void> {
  const known = lastHeads.get(tenantId);
  if (known) {
    const { rows, head } = chain(known, events);
    // Set before the statement runs: the next transaction of this process guesses after this one.
    remember(tenantId, head);
    const values = rows.map(
      (r) => sql`(${r.tenant_id}::uuid, ${r.seq}::bigint, ${r.id}::uuid, ${r.at}::timestamptz,
        ${r.actor_id}::uuid, ${r.actor_label}::text, ${r.action}::text, ${r.object_type}::text,
        ${r.object_id}::text, ${r.ip}::text, ${r.user_agent}::text, ${r.details}::jsonb,
        ${r.prev_hash}::text, ${r.hash}::text)`,
    );
    // The head is taken whatever it holds, so the update waits for a transaction that is moving it
    // (an expected head another transaction has not committed yet would be invisible to a WHERE
    // on seq, and the guess would fail for nothing); it then moves only if it is the expected one.
    const r = await sql<{ seq: string }>`
      WITH h AS (
        UPDATE audit_heads SET
          seq = CASE WHEN seq = ${known.seq} AND hash = ${known.hash} THEN ${head.seq}::bigint ELSE seq END,
          hash = CASE WHEN seq = ${known.seq} AND hash = ${known.hash} THEN ${head.hash}::text ELSE hash END
        WHERE tenant_id = ${tenantId}
        RETURNING seq, hash)
      INSERT INTO audit_events (tenant_id, seq, id, at, actor_id, actor_label, action, object_type,
        object_id, ip, user_agent, details, prev_hash, hash)
      SELECT v.* FROM h, (VALUES ${sql.join(values)}) AS v
      WHERE h.seq = ${head.seq} AND h.hash = ${head.hash}
      RETURNING seq`.execute(tx);
    if (r.rows.length > 0) {
      chainAppends.guessed++;
      return; // all of them: the guessed head was the head
    }
  }
  chainAppends.readHead++;
  // One statement takes (or creates) the chain head and locks it until commit.
  const current = await tx
    .insertInto('audit_heads')
    .values({ tenant_id: tenantId, seq: 0, hash: GENESIS_HASH })
    .onConflict((oc) => oc.column('tenant_id').doUpdateSet((eb) => ({ seq: eb.ref('audit_heads.seq') })))
    .returning(['seq', 'hash'])
    .executeTakeFirstOrThrow();
  const { rows, head } = chain({ seq: Number(current.seq), hash: current.hash }, events);
  remember(tenantId, head);
  // The events and the new head in one statement.
  await tx
    .with('ev', (db) => db.insertInto('audit_events').values(rows))
    .updateTable('audit_heads')
    .set(head)
    .where('tenant_id', '=', tenantId)
    .execute();
}

function remember(tenantId: string, head: Head): void {
  if (lastHeads.size >= MAX_LAST_HEADS && !lastHeads.has(tenantId)) lastHeads.clear();
  lastHeads.set(tenantId, head);
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
