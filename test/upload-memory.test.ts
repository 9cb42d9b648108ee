/**
 * Acceptance: uploading a 400 MB file keeps the server's peak memory under its baseline + 100 MB,
 * leaves no temporary file behind and returns the SHA-256 that `sha256sum` gives; the download is
 * byte-identical. The server is a real `lligall serve` process; nothing here holds the file in memory.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { backend } from '#test/helpers/harness.ts';
import {
  type Installation,
  memoryOf,
  openInstallation,
  provisionEntity,
  resetPeakMemory,
  type ServerProcess,
  startServer,
} from '#test/helpers/installation.ts';

const MiB = 1024 * 1024;
const SIZE_MIB = 400;
const MEMORY_BOUND = 100 * MiB;

/** Writes `mib` MiB: one random 1 MiB block, each copy stamped with its index, so no two MiB are equal. */
async function writeBigFile(file: string, mib: number): Promise<void> {
  const block = randomBytes(MiB);
  const fh = await fsp.open(file, 'wx', 0o600);
  try {
    for (let i = 0; i < mib; i++) {
      block.writeUInt32BE(i, 0);
      block.writeUInt32BE(i, MiB - 4);
      await fh.write(block, 0, MiB);
    }
  } finally {
    await fh.close();
  }
}

type Answer = { status: number; headers: http.IncomingHttpHeaders; body: string };

/** Streams a multipart upload (fields, then the file read from disk) with `http.request`. */
async function uploadFromDisk(
  url: string,
  token: string,
  file: string,
  fields: Record<string, string>,
): Promise<Answer> {
  const boundary = `----lligall${randomBytes(12).toString('hex')}`;
  let head = '';
  for (const [k, v] of Object.entries(fields)) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
  }
  head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${path.basename(file)}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const size = (await fsp.stat(file)).size;
  const length = Buffer.byteLength(head) + size + Buffer.byteLength(tail);
  async function* body() {
    yield Buffer.from(head);
    yield* fs.createReadStream(file, { highWaterMark: 256 * 1024 });
    yield Buffer.from(tail);
  }
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(length),
      },
    });
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.once('error', reject);
    });
    req.once('error', reject);
    pipeline(Readable.from(body()), req).catch(reject);
  });
}

/** Downloads and hashes while streaming. */
async function downloadHash(
  url: string,
  token: string,
): Promise<{ status: number; sha256: string; size: number; header: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
        const hash = createHash('sha256');
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          hash.update(c);
        });
        res.once('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            sha256: hash.digest('hex'),
            size,
            header: String(res.headers['x-content-sha256'] ?? ''),
          }),
        );
        res.once('error', reject);
      })
      .once('error', reject);
  });
}

/** Runs `work` while sampling the server's RSS; returns the peak seen over the baseline. */
async function peakDuring<T>(
  pid: number,
  work: () => Promise<T>,
): Promise<{ result: T; baseline: number; peak: number }> {
  const baseline = memoryOf(pid).rss;
  const hwmReset = resetPeakMemory(pid);
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, memoryOf(pid).rss);
  }, 20);
  try {
    const result = await work();
    const m = memoryOf(pid);
    peak = Math.max(peak, m.rss, hwmReset ? m.hwm : 0);
    return { result, baseline, peak };
  } finally {
    clearInterval(timer);
  }
}

const mb = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

describe(`a ${SIZE_MIB} MB upload through a lligall server process (${backend()})`, () => {
  let inst: Installation;
  let server: ServerProcess | undefined;
  let entity: Awaited<ReturnType<typeof provisionEntity>>;
  let bigFile: string;

  before(async () => {
    inst = await openInstallation(backend(), { LLIGALL_MAX_UPLOAD_MB: '512' });
    // On PGlite the commands run before the server: the embedded database belongs to one process.
    entity = await provisionEntity(inst);
    server = await startServer(inst);
    bigFile = path.join(inst.newDataDir(), 'gran.bin');
  });
  after(async () => {
    await server?.stop();
    await inst?.close();
  });

  it('streams it: bounded memory, no temporary file, the sha256sum hash, a byte-identical download', async (t) => {
    const base = `${server!.url}/api/v1/entities/${entity.dir3}`;
    const auth = { authorization: `Bearer ${entity.token}`, 'content-type': 'application/json' };
    const created = await fetch(`${base}/expedients`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ title: 'Projecte amb plànols grans' }),
    });
    assert.equal(created.status, 201);
    const expedientId = ((await created.json()) as { id: string }).id;

    // Warm-up: the same code paths with a small file, so that the baseline includes them.
    const warmUp = async () => {
      const small = path.join(path.dirname(bigFile), 'petit.bin');
      await writeBigFile(small, 2);
      for (let i = 0; i < 3; i++) {
        const r = await uploadFromDisk(`${base}/expedients/${expedientId}/documents`, entity.token, small, {
          title: `Escalfament ${i}`,
        });
        assert.equal(r.status, 201, r.body);
        const d = await downloadHash(
          `${base}/documents/${(JSON.parse(r.body) as { id: string }).id}/content`,
          entity.token,
        );
        assert.equal(d.status, 200);
      }
      await fsp.rm(small);
    };
    await Promise.all([writeBigFile(bigFile, SIZE_MIB), warmUp()]);
    const expected = (await promisify(execFile)('sha256sum', [bigFile])).stdout.split(' ')[0]!;
    assert.match(expected, /^[0-9a-f]{64}$/);

    const up = await peakDuring(server!.pid, () =>
      uploadFromDisk(`${base}/expedients/${expedientId}/documents`, entity.token, bigFile, {
        title: 'Plànols',
        documentType: 'TD99',
      }),
    );
    assert.equal(up.result.status, 201, up.result.body);
    const doc = JSON.parse(up.result.body) as { id: string; sha256: string; size: number };
    assert.equal(doc.sha256, expected, 'the server computed a different SHA-256 than sha256sum');
    assert.equal(doc.size, SIZE_MIB * MiB);
    assert.ok(
      up.peak - up.baseline < MEMORY_BOUND,
      `upload: peak RSS ${mb(up.peak)} is ${mb(up.peak - up.baseline)} over the baseline ${mb(up.baseline)} (bound ${mb(MEMORY_BOUND)})`,
    );

    t.diagnostic(`upload: baseline ${mb(up.baseline)}, peak ${mb(up.peak)} (+${mb(up.peak - up.baseline)})`);
    const tmpDir = path.join(inst.dataDir, 'blobs', 'tmp');
    assert.deepEqual(fs.readdirSync(tmpDir), [], 'a temporary file was left behind');
    const stored = path.join(inst.dataDir, 'blobs', expected.slice(0, 2), expected.slice(2, 4), expected);
    assert.equal(fs.statSync(stored).size, SIZE_MIB * MiB);
    await fsp.rm(bigFile);

    const down = await peakDuring(server!.pid, () =>
      downloadHash(`${base}/documents/${doc.id}/content`, entity.token),
    );
    t.diagnostic(
      `download: baseline ${mb(down.baseline)}, peak ${mb(down.peak)} (+${mb(down.peak - down.baseline)})`,
    );
    assert.equal(down.result.status, 200);
    assert.equal(down.result.size, SIZE_MIB * MiB);
    assert.equal(down.result.header, expected);
    assert.equal(down.result.sha256, expected, 'the download differs from the upload');
    assert.ok(
      down.peak - down.baseline < MEMORY_BOUND,
      `download: peak RSS ${mb(down.peak)} is ${mb(down.peak - down.baseline)} over the baseline ${mb(down.baseline)}`,
    );
  });
});
