import { sql } from 'kysely';
import type { Actor, Clock, RequestMeta } from '#platform/context.ts';
import { asTenant, beforeCommit, deferOrRun, type Tx, txTenant } from '#platform/db/database.ts';
import { newId } from '#platform/ids.ts';
import canonicalize from 'canonicalize';
import { type ChainedEvent, GENESIS_HASH } from './audit.chain.ts';

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

/** An event recorded in a transaction and not yet written: its values but its place in the chain. */
type Draft = { event: Omit<ChainedEvent, 'seq'>; scope: string | undefined };

/** Each open transaction's events, in the order they were recorded, until it writes them at commit. */
const drafts = new WeakMap<Tx, Draft[]>();

/**
 * How this process's chain appends went since it started (exposed as a metric): `withCommit`, sent
 * with the transaction's COMMIT (deferToCommit); `alone`, as a statement of their own (PGlite, or a
 * chain written under another tenant than the transaction's).
 */
export const chainAppends = { withCommit: 0, alone: 0 };

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
      await asTenant(tx, scope, () => appendToChain(tx, tenantId, g.events, false));
    } else await appendToChain(tx, tenantId, g.events, true);
  }
}

/**
 * The statement that appends events to a tenant's chain: it locks the chain's head (the row in
 * audit_heads, held until commit; a chain without one starts from the genesis hash, and two first
 * appends at once meet on the events' key), chains the events after it and moves it. The database
 * computes each hash, sha256(prev_hash ‖ canonical JSON), from the canonical JSON made here with
 * the place of `seq` left open (`pre` and `post`), because only it knows the head once it holds
 * the lock: so the statement needs nothing read first and can go with the COMMIT.
 */
function appendStatement(tenantId: string, events: Draft['event'][]) {
  const rows = events.map((e, i) => {
    const canonical = canonicalize({ ...e, seq: 0 });
    if (canonical === undefined) throw new Error('audit event cannot be canonicalised');
    // The top-level "seq" is the last one: only tenantId and userAgent, strings, sort after it,
    // and a string cannot hold an unescaped quote.
    const at = canonical.lastIndexOf('"seq":0,');
    return {
      n: i + 1,
      id: e.id,
      at: e.at,
      actor_id: e.actorId,
      actor_label: e.actorLabel,
      action: e.action,
      object_type: e.objectType,
      object_id: e.objectId,
      ip: e.ip,
      user_agent: e.userAgent,
      details: e.details,
      pre: canonical.slice(0, at + '"seq":'.length),
      post: canonical.slice(at + '"seq":0'.length),
    };
  });
  return sql`
    WITH RECURSIVE
      h AS (SELECT seq, hash FROM audit_heads WHERE tenant_id = ${tenantId}::uuid FOR UPDATE),
      ev AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS e(n int, id uuid,
          at timestamptz, actor_id uuid, actor_label text, action text, object_type text,
          object_id text, ip text, user_agent text, details jsonb, pre text, post text)),
      c (n, seq, hash) AS (
        SELECT 0, coalesce((SELECT seq FROM h), 0::bigint), coalesce((SELECT hash FROM h), ${GENESIS_HASH}::text)
        UNION ALL
        SELECT c.n + 1, c.seq + 1,
          encode(sha256(convert_to(c.hash || ev.pre || (c.seq + 1)::text || ev.post, 'UTF8')), 'hex')
        FROM c JOIN ev ON ev.n = c.n + 1),
      ins AS (
        INSERT INTO audit_events (tenant_id, seq, id, at, actor_id, actor_label, action, object_type,
          object_id, ip, user_agent, details, prev_hash, hash)
        SELECT ${tenantId}::uuid, c.seq, ev.id, ev.at, ev.actor_id, ev.actor_label, ev.action,
          ev.object_type, ev.object_id, ev.ip, ev.user_agent, ev.details, p.hash, c.hash
        FROM ev JOIN c ON c.n = ev.n JOIN c p ON p.n = ev.n - 1)
    INSERT INTO audit_heads (tenant_id, seq, hash)
    SELECT ${tenantId}::uuid, seq, hash FROM c ORDER BY n DESC LIMIT 1
    ON CONFLICT (tenant_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`;
}

/** Appends events to a tenant's chain: with the transaction's COMMIT where it can (deferToCommit), or now. */
async function appendToChain(tx: Tx, tenantId: string, events: Draft['event'][], mayDefer: boolean) {
  const query = appendStatement(tenantId, events).compile(tx);
  let deferred = false;
  if (mayDefer) deferred = await deferOrRun(tx, query);
  else await tx.executeQuery(query);
  chainAppends[deferred ? 'withCommit' : 'alone']++;
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
