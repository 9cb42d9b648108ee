import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { BlobStore, IN_MEMORY_MAX } from './blob-store.ts';
import { writerThreadCount } from './blob-writer.ts';

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

  it('streams a file larger than what it stages from memory, whole', async () => {
    const store = new BlobStore(root);
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const parts = [];
    for (let i = 0; i < data.length; i += 64 * 1024) parts.push(data.subarray(i, i + 64 * 1024));
    const staged = await store.stage(Readable.from(parts));
    assert.equal(staged.sha256, createHash('sha256').update(data).digest('hex'));
    assert.equal(staged.size, data.length);
    assert.deepEqual(fs.readFileSync(staged.tmpPath), data);
    assert.deepEqual(await store.commit(staged), { created: true });
    assert.deepEqual(await store.readVerified(staged.sha256), data);
    assert.deepEqual(fs.readdirSync(store.tmpDir), []);
  });

  for (const how of ['stage', 'receive'] as const) {
    for (const [label, max, bytes] of [
      ['below what receive holds in memory', 100 * 1024, 200 * 1024],
      ['above it', 1536 * 1024, 2 * 1024 * 1024],
    ] as const) {
      it(`${how} refuses a file over its limit (${label}) and leaves nothing behind`, async () => {
        const store = new BlobStore(root);
        const data = randomBytes(bytes);
        const parts = [];
        for (let i = 0; i < data.length; i += 64 * 1024) parts.push(data.subarray(i, i + 64 * 1024));
        await assert.rejects(store[how](Readable.from(parts), { maxBytes: max }), {
          code: 'PAYLOAD_TOO_LARGE',
        });
        assert.deepEqual(fs.readdirSync(store.tmpDir), []);
        assert.equal(store.exists(createHash('sha256').update(data).digest('hex')), false);
      });
    }
  }

  it('receive holds a small upload in memory (nothing on disk) until it is committed, then stores it whole', async () => {
    const store = new BlobStore(fs.mkdtempSync(path.join(root, 'held-')));
    const data = randomBytes(IN_MEMORY_MAX);
    const held = await store.receive(Readable.from([data.subarray(0, 5000), data.subarray(5000)]));
    assert.equal(held.tmpPath, undefined);
    assert.deepEqual(held.data, data);
    assert.equal(held.sha256, createHash('sha256').update(data).digest('hex'));
    assert.equal(held.size, data.length);
    assert.deepEqual(fs.readdirSync(store.tmpDir), []);
    assert.equal(store.exists(held.sha256), false);
    assert.deepEqual(await store.commit(held), { created: true });
    assert.deepEqual(await store.readVerified(held.sha256), data);
    assert.deepEqual(await store.commit(held), { created: false });
    assert.deepEqual(fs.readdirSync(store.tmpDir), []);
  });

  it('receive streams a larger upload into a temporary file, whole (the bytes it held first included)', async () => {
    const store = new BlobStore(fs.mkdtempSync(path.join(root, 'big-')));
    const data = randomBytes(IN_MEMORY_MAX * 3 + 11);
    const parts = [];
    for (let i = 0; i < data.length; i += 10_000) parts.push(data.subarray(i, i + 10_000));
    const staged = await store.receive(Readable.from(parts));
    assert.equal(staged.data, undefined);
    assert.deepEqual(fs.readFileSync(staged.tmpPath!), data);
    assert.equal(staged.sha256, createHash('sha256').update(data).digest('hex'));
    assert.deepEqual(await store.commit(staged), { created: true });
    assert.deepEqual(await store.readVerified(staged.sha256), data);
    assert.deepEqual(fs.readdirSync(store.tmpDir), []);
  });

  it('stores many files written at once, each whole, spread over at most four writer threads', async () => {
    const store = new BlobStore(root);
    const files = Array.from({ length: 60 }, (_, i) => randomBytes(1000 + i * 97));
    const stored = await Promise.all(files.map((f) => store.put(f)));
    assert.ok(writerThreadCount() > 1 && writerThreadCount() <= 4, `${writerThreadCount()} threads`);
    for (const [i, f] of files.entries()) assert.deepEqual(await store.readVerified(stored[i]!.sha256), f);
    assert.deepEqual(fs.readdirSync(store.tmpDir), []);
  });

  it("a write the file system refuses fails with the file system's error, and nothing is stored", async () => {
    const dir = fs.mkdtempSync(path.join(root, 'broken-'));
    const store = new BlobStore(dir);
    fs.rmSync(store.tmpDir, { recursive: true });
    fs.writeFileSync(store.tmpDir, ''); // the temporary area is a file, not a directory
    const data = randomBytes(2000);
    await assert.rejects(store.put(data), { code: 'ENOTDIR' });
    assert.equal(store.exists(createHash('sha256').update(data).digest('hex')), false);
    // The writer thread is still there for the next call.
    const ok = new BlobStore(fs.mkdtempSync(path.join(root, 'fine-')));
    const put = await ok.put(data);
    assert.deepEqual(await ok.readVerified(put.sha256), data);
  });

  it('does not keep a process alive once its writes are done', () => {
    const dir = fs.mkdtempSync(path.join(root, 'exit-'));
    const script = path.join(dir, 'put.mts');
    fs.writeFileSync(
      script,
      `import { BlobStore } from ${JSON.stringify(new URL('./blob-store.ts', import.meta.url).pathname)};
      const r = await new BlobStore(${JSON.stringify(dir)}).put(Buffer.from('adéu'));
      console.log(r.sha256);`,
    );
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync(process.execPath, [script], { timeout: 20_000, encoding: 'utf8', env });
    assert.equal(r.signal, null, 'the process ended by itself');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), createHash('sha256').update('adéu').digest('hex'));
  });

  it('stores the same content once: a second commit drops its staged copy', async () => {
    const store = new BlobStore(root);
    const data = randomBytes(5000);
    const a = await store.stage(Readable.from([data]));
    const b = await store.stage(Readable.from([data]));
    assert.deepEqual(await store.commit(a), { created: true });
    assert.deepEqual(await store.commit(b), { created: false });
    assert.deepEqual(fs.readdirSync(store.tmpDir), []);
    assert.deepEqual(await store.readVerified(a.sha256), data);
  });
});
