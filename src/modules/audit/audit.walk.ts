import { sql } from 'kysely';
import type { Tx } from '#platform/db/database.ts';
import { type ChainedEvent, chainHash, GENESIS_HASH, type StoredEvent } from './audit.chain.ts';
import { storedEventFromRow } from './audit.service.ts';

/** Where a chain stops being provable, and why. */
export type ChainProblem = { seq: number; reason: string };

/** A stored event as read for verification. */
export type WalkedEvent = StoredEvent & {
  /**
   * False when the stored timestamp has digits below the millisecond. The hash covers the time at
   * millisecond precision (what the application writes), so such digits were added afterwards.
   */
  atIsExact: boolean;
};

/**
 * The streaming form of `findBreak`: feed the events of one chain in seq order, one at a time,
 * and get the first broken link. Starting from a sealed point (a checkpoint's seq and hash)
 * verifies only what follows it.
 *
 * `sealed`, when given, is the hash a checkpoint recorded for this seq: an event whose stored
 * hash differs from it was rewritten, even if every later hash was recomputed to match.
 */
export function createChainWalker(start: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH }) {
  let prev = start.hash;
  let lastSeq = start.seq;
  return {
    step(e: WalkedEvent, sealed?: string): ChainProblem | null {
      const expected = lastSeq + 1;
      if (e.seq !== expected) return { seq: expected, reason: `event ${expected} is missing` };
      if (sealed !== undefined && sealed !== e.hash) {
        return {
          seq: e.seq,
          reason: `event ${e.seq} differs from its sealed checkpoint hash (history was rewritten)`,
        };
      }
      if (e.prevHash !== prev)
        return { seq: e.seq, reason: `event ${e.seq}: previous-hash link does not match` };
      if (!e.atIsExact)
        return { seq: e.seq, reason: `event ${e.seq}: timestamp was changed below the millisecond` };
      if (chainHash(prev, chainedFields(e)) !== e.hash)
        return { seq: e.seq, reason: `event ${e.seq}: content does not match its hash` };
      prev = e.hash;
      lastSeq = e.seq;
      return null;
    },
    /** The last event that verified (seq 0 and the genesis hash before the first). */
    get last(): { seq: number; hash: string } {
      return { seq: lastSeq, hash: prev };
    },
  };
}

export type ChainWalker = ReturnType<typeof createChainWalker>;

/**
 * Exactly the fields the hash covers. Hashing a stored event as read (with its prevHash, hash or
 * anything else attached) would canonicalise those too and never match.
 */
export function chainedFields(e: ChainedEvent): ChainedEvent {
  return {
    tenantId: e.tenantId,
    seq: e.seq,
    id: e.id,
    at: e.at,
    actorId: e.actorId,
    actorLabel: e.actorLabel,
    action: e.action,
    objectType: e.objectType,
    objectId: e.objectId,
    ip: e.ip,
    userAgent: e.userAgent,
    details: e.details,
  };
}

/**
 * Reads the events of one chain with fromSeq ≤ seq ≤ toSeq in seq order, in batches (keyset on
 * the primary key), so that a chain of millions of rows never sits in memory. Run it inside one
 * REPEATABLE READ transaction to see one snapshot.
 */
export async function* readChain(
  tx: Tx,
  tenantId: string,
  opts: { fromSeq?: number; toSeq?: number; batchSize?: number } = {},
): AsyncGenerator<WalkedEvent[]> {
  const batchSize = opts.batchSize ?? 2000;
  let after = (opts.fromSeq ?? 1) - 1;
  for (;;) {
    let q = tx
      .selectFrom('audit_events')
      .selectAll()
      .select(sql<boolean>`extract(microseconds from at)::bigint % 1000 = 0`.as('at_is_exact'))
      .where('tenant_id', '=', tenantId)
      .where('seq', '>', String(after))
      .orderBy('seq')
      .limit(batchSize);
    if (opts.toSeq !== undefined) q = q.where('seq', '<=', String(opts.toSeq));
    const rows = await q.execute();
    if (rows.length === 0) return;
    const events = rows.map((r) => ({ ...storedEventFromRow(r), atIsExact: r.at_is_exact === true }));
    yield events;
    after = events[events.length - 1]!.seq;
    if (rows.length < batchSize) return;
  }
}
