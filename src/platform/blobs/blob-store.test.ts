import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { BlobStore } from './blob-store.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-blobs-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe('blob store', () => {
  it('stores a streamed file under its SHA-256, whole, and nothing stays in the temporary area', async () => {
    const store = new BlobStore(root);
    const data = randomBytes(300 * 1024);
    const staged = await store.stage(Readable.from([data.subarray(0, 1000), data.subarray(1000)]));
    assert.equal(staged.sha256, createHash('sha256').update(data).digest('hex'));
    assert.equal(staged.size, data.length);
    assert.deepEqual(await store.commit(staged), { created: true });
    assert.deepEqual(await store.readVerified(staged.sha256), data);
    assert.deepEqual(fs.readdirSync(store.tmpDir), []);
  });

  it('makes a shard directory again when it was removed while the store was open', async () => {
    const store = new BlobStore(root);
    const first = await store.put(Buffer.from('primer'));
    fs.rmSync(path.dirname(store.pathOf(first.sha256)), { recursive: true });
    // Storing the file again needs the directory this store made, and removed since.
    const again = await store.put(Buffer.from('primer'));
    assert.equal(again.sha256, first.sha256);
    assert.deepEqual(await store.readVerified(first.sha256), Buffer.from('primer'));
  });
});
