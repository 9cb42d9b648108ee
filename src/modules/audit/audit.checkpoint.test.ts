import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  CHECKPOINT_FORMAT,
  type Checkpoint,
  checkSeal,
  loadMasterKey,
  openHashList,
  sealCheckpoint,
  sealKey,
} from './audit.checkpoint.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-cp-unit-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const cp: Checkpoint = {
  format: CHECKPOINT_FORMAT,
  tenantId: '01900000-0000-7000-8000-000000000001',
  seq: 12,
  hash: 'a'.repeat(64),
  fromSeq: 7,
  prevHash: 'b'.repeat(64),
  hashesSha256: 'c'.repeat(64),
  sealedAt: '2026-01-01T00:00:00.000Z',
};

test('a seal holds under its key and breaks on any change or another key', () => {
  const key = sealKey(Buffer.alloc(32, 1));
  const sealed = sealCheckpoint(key, cp);
  assert.match(sealed.seal, /^[0-9a-f]{64}$/);
  assert.equal(checkSeal(key, sealed), true);
  assert.equal(checkSeal(key, JSON.parse(JSON.stringify(sealed))), true);
  for (const change of [
    { seq: 13 },
    { hash: 'd'.repeat(64) },
    { fromSeq: 8 },
    { sealedAt: '2026-01-02T00:00:00.000Z' },
  ]) {
    assert.equal(checkSeal(key, { ...sealed, ...change }), false, JSON.stringify(change));
  }
  assert.equal(checkSeal(sealKey(Buffer.alloc(32, 2)), sealed), false);
  assert.equal(checkSeal(key, { ...sealed, seal: 'nonsense' }), false);
});

test('outside production a missing master key is created, private, and then reused', () => {
  const file = path.join(dir, 'keys', 'master.key');
  const key = loadMasterKey({ env: 'development', masterKeyFile: file });
  assert.equal(key.length, 32);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  assert.deepEqual(loadMasterKey({ env: 'development', masterKeyFile: file }), key);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['master.key']);
});

test('in production a missing master key is an error, and nothing is created', () => {
  const file = path.join(dir, 'prod', 'master.key');
  assert.throws(() => loadMasterKey({ env: 'production', masterKeyFile: file }), /does not exist/);
  assert.equal(fs.existsSync(path.dirname(file)), false);
});

test('a short master key is refused', () => {
  const file = path.join(dir, 'short.key');
  fs.writeFileSync(file, 'too short');
  assert.throws(() => loadMasterKey({ env: 'development', masterKeyFile: file }), /fewer than 32 bytes/);
});

test('a hash list is read by seq, across blocks', async () => {
  const file = path.join(dir, 'list.hashes');
  const hashes = Array.from({ length: 10_000 }, (_, i) => i.toString(16).padStart(64, '0'));
  fs.writeFileSync(file, hashes.map((h) => `${h}\n`).join(''));
  const sut = await openHashList(file, 101, 10_100);
  try {
    assert.equal(await sut.read(100), undefined);
    assert.equal(await sut.read(101), hashes[0]);
    assert.equal(await sut.read(5000), hashes[4899]);
    assert.equal(await sut.read(10_100), hashes[9999]);
    assert.equal(await sut.read(102), hashes[1]);
    assert.equal(await sut.read(10_101), undefined);
  } finally {
    await sut.close();
  }
});
