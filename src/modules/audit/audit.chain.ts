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
