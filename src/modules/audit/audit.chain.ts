import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** The hash that precedes the first event of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The values of an audit event that its hash covers, exactly as stored. */
export type ChainedEvent = {
  tenantId: string;
  seq: number;
  id: string;
  at: string; // ISO 8601, millisecond precision, UTC
  actorId: string | null;
  actorLabel: string;
  action: string;
  objectType: string | null;
  objectId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
};

/** hash = sha256(prev_hash ‖ RFC 8785 canonical JSON of the event) (ARCHITECTURE data rule 5). */
export function chainHash(prevHash: string, event: ChainedEvent): string {
  const canonical = canonicalize(event);
  if (canonical === undefined) throw new Error('audit event cannot be canonicalised');
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}

export type StoredEvent = ChainedEvent & { prevHash: string; hash: string };

/** The first sequence number at which a chain breaks, or null if every link holds. */
export function findBreak(events: StoredEvent[]): { seq: number; reason: string } | null {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  for (const e of events) {
    if (e.seq !== expectedSeq) return { seq: expectedSeq, reason: `event ${expectedSeq} is missing` };
    if (e.prevHash !== prev) return { seq: e.seq, reason: 'previous-hash link does not match' };
    if (chainHash(prev, e) !== e.hash) return { seq: e.seq, reason: 'content does not match its hash' };
    prev = e.hash;
    expectedSeq++;
  }
  return null;
}
