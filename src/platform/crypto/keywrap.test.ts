import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { deriveKek, KeyUnwrapError, unwrapKey, WRAP_VERSION, wrapKey } from './keywrap.ts';

test('wrap and unwrap round-trip; the blob carries version and nonce and is not the plaintext', () => {
  const kek = deriveKek(randomBytes(32), 'private-keys');
  const secret = randomBytes(100);
  const blob = wrapKey(kek, secret, 'row-1');
  assert.equal(blob[0], WRAP_VERSION);
  assert.equal(blob.length, 1 + 12 + 100 + 16);
  assert.equal(blob.includes(secret.subarray(0, 16)), false);
  assert.deepEqual(unwrapKey(kek, blob, 'row-1'), secret);
  assert.notDeepEqual(wrapKey(kek, secret, 'row-1'), blob, 'a fresh nonce each time');
});

test('unwrap fails loudly on tamper, another master key, another purpose or other associated data', () => {
  const master = randomBytes(32);
  const kek = deriveKek(master, 'private-keys');
  const blob = wrapKey(kek, randomBytes(40), 'row-1');
  for (let i = 0; i < blob.length; i += 7) {
    const bad = Buffer.from(blob);
    bad[i] = bad[i]! ^ 1;
    assert.throws(() => unwrapKey(kek, bad, 'row-1'), KeyUnwrapError);
  }
  assert.throws(() => unwrapKey(deriveKek(randomBytes(32), 'private-keys'), blob, 'row-1'), KeyUnwrapError);
  assert.throws(() => unwrapKey(deriveKek(master, 'other'), blob, 'row-1'), KeyUnwrapError);
  assert.throws(() => unwrapKey(kek, blob, 'row-2'), KeyUnwrapError);
  assert.throws(() => unwrapKey(kek, blob.subarray(0, 20), 'row-1'), KeyUnwrapError);
});
