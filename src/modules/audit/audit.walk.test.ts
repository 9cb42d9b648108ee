import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chainHash, GENESIS_HASH } from './audit.chain.ts';
import { chainedFields, createChainWalker, type WalkedEvent } from './audit.walk.ts';

function chain(n: number): WalkedEvent[] {
  const out: WalkedEvent[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const e = {
      tenantId: '01900000-0000-7000-8000-000000000001',
      seq,
      id: `01900000-0000-7000-8000-${String(seq).padStart(12, '0')}`,
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
      actorId: null,
      actorLabel: 'system',
      action: 'test.event',
      objectType: null,
      objectId: null,
      ip: null,
      userAgent: null,
      details: { seq, text: 'l·l' },
    };
    const hash = chainHash(prev, e);
    out.push({ ...e, prevHash: prev, hash, atIsExact: true });
    prev = hash;
  }
  return out;
}

/** Walks events; the first problem, or null. `sealed` maps seq → the hash a checkpoint recorded. */
function walk(
  events: WalkedEvent[],
  sealed: Map<number, string> = new Map(),
  start?: { seq: number; hash: string },
) {
  const sut = createChainWalker(start);
  for (const e of events) {
    const p = sut.step(e, sealed.get(sut.last.seq + 1));
    if (p) return p;
  }
  return null;
}

function recompute(events: WalkedEvent[], from: number): void {
  let prev = from === 1 ? GENESIS_HASH : events[from - 2]!.hash;
  for (const e of events.slice(from - 1)) {
    e.prevHash = prev;
    e.hash = chainHash(prev, chainedFields(e));
    prev = e.hash;
  }
}

test('a sound chain has no break, and the walker ends at its head', () => {
  const events = chain(20);
  const sut = createChainWalker();
  for (const e of events) assert.equal(sut.step(e), null);
  assert.deepEqual(sut.last, { seq: 20, hash: events[19]!.hash });
});

test('a missing event is named', () => {
  const events = chain(10);
  events.splice(4, 1);
  assert.deepEqual(walk(events), { seq: 5, reason: 'event 5 is missing' });
});

test('changed content is named', () => {
  const events = chain(10);
  events[6]!.details = { seq: 7, text: 'changed' };
  assert.equal(walk(events)?.seq, 7);
});

test('a broken previous-hash link is named', () => {
  const events = chain(10);
  events[3]!.prevHash = 'f'.repeat(64);
  assert.match(walk(events)?.reason ?? '', /previous-hash link/);
});

test('a timestamp with sub-millisecond digits is named', () => {
  const events = chain(5);
  events[2]!.atIsExact = false;
  assert.equal(walk(events)?.seq, 3);
});

test('a rewrite with every later hash recomputed passes the links but not the sealed hashes', () => {
  const events = chain(10);
  const sealed = new Map(events.map((e) => [e.seq, e.hash]));
  events[3]!.details = { forged: true };
  recompute(events, 4);
  assert.equal(walk(events), null);
  assert.deepEqual(walk(events, sealed)?.seq, 4);
});

test('walking from a checkpoint verifies only what follows it', () => {
  const events = chain(10);
  const start = { seq: 6, hash: events[5]!.hash };
  assert.equal(walk(events.slice(6), new Map(), start), null);
  assert.equal(walk(events.slice(6), new Map(), { seq: 6, hash: 'e'.repeat(64) })?.seq, 7);
});

test('only the hashed fields are hashed', () => {
  const [e] = chain(1);
  assert.equal(chainHash(GENESIS_HASH, chainedFields(e!)), e!.hash);
  assert.notEqual(chainHash(GENESIS_HASH, e!), e!.hash);
});
