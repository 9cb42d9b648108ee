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
 * Chain verification, streaming: feed the events of one chain in seq order, one at a time,
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
 *
 * Each batch comes back as one JSON array (`json_agg` of the stored rows) rather than as rows:
 * PGlite spends far more per row and column it returns than per byte (about 5× faster here), and
 * the values are the stored ones either way: the row keeps its column names and goes through
 * `storedEventFromRow`, the one reading of an event as hashed.
 */
export async function* readChain(
  tx: Tx,
  tenantId: string,
  opts: { fromSeq?: number; toSeq?: number; batchSize?: number } = {},
): AsyncGenerator<WalkedEvent[]> {
  const batchSize = opts.batchSize ?? 5000;
  const last = opts.toSeq ?? Number.MAX_SAFE_INTEGER;
  let after = (opts.fromSeq ?? 1) - 1;
  while (after < last) {
    // A bounded seq range, not just "seq > after … limit": each batch then reads at most
    // batchSize index entries whatever plan the statistics suggest (PGlite runs no autovacuum,
    // and without statistics an open range is scanned to the end for every batch).
    const upTo = Math.min(after + batchSize, last);
    const r = await sql<{ j: string | null }>`
      select json_agg(b order by b.seq)::text as j from (
        select e.*, extract(microseconds from e.at)::bigint % 1000 = 0 as at_is_exact
        from audit_events e
        where e.tenant_id = ${tenantId} and e.seq > ${String(after)}::bigint and e.seq <= ${String(upTo)}::bigint
      ) b`.execute(tx);
    const text = r.rows[0]?.j;
    if (!text) {
      // A gap of a whole batch (events deleted): skip to the next event, if any.
      const next = await sql<{ seq: string | null }>`
        select min(seq)::text as seq from audit_events
        where tenant_id = ${tenantId} and seq > ${String(upTo)}::bigint and seq <= ${String(last)}::bigint`.execute(
        tx,
      );
      const seq = next.rows[0]?.seq;
      if (seq === null || seq === undefined) return;
      after = Number(seq) - 1;
      continue;
    }
    const rows = JSON.parse(text) as Record<string, unknown>[];
    const events = rows.map((row) => ({ ...storedEventFromRow(row), atIsExact: row.at_is_exact === true }));
    yield events;
    after = upTo;
  }
}
