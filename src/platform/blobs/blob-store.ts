import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../errors.ts';
import { placeDurably, writeDurably } from './blob-writer.ts';

/** A file written to the store's temporary area, hashed while streaming, not yet in the store. */
export type StagedBlob = { tmpPath: string; sha256: string; size: number };

/**
 * Content-addressed file store: each file once, under its SHA-256 (`ab/cd/abcd…`).
 * Writes go to a temporary file that is fsynced and renamed into place, so a row never
 * points to a half-written file (the writer thread takes those steps: blob-writer.ts); reads are
 * verified against the hash.
 */
export class BlobStore {
  readonly root: string;
  readonly tmpDir: string;

  constructor(root: string) {
    this.root = root;
    this.tmpDir = path.join(root, 'tmp');
    fs.mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
  }

  pathOf(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return path.join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  /** Streams into a temporary file, computing SHA-256 and size; removes the file on any error. */
  async stage(source: Readable, opts: { maxBytes?: number } = {}): Promise<StagedBlob> {
    const tmpPath = path.join(this.tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}.part`);
    const hash = createHash('sha256');
    let size = 0;
    const max = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > max) {
          cb(new AppError('PAYLOAD_TOO_LARGE', `The file is larger than ${Math.floor(max / 1048576)} MiB`));
          return;
        }
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    // flush: the stream fsyncs the file before it closes it, so it is on disk when the pipeline ends.
    const out = fs.createWriteStream(tmpPath, { flags: 'wx', mode: 0o600, flush: true });
    try {
      await pipeline(source, meter, out);
    } catch (e) {
      await fsp.rm(tmpPath, { force: true });
      throw e;
    }
    return { tmpPath, sha256: hash.digest('hex'), size };
  }

  /** Moves a staged file into the store (or drops it if the same content is there already). */
  async commit(staged: StagedBlob): Promise<{ created: boolean }> {
    return { created: await placeDurably(staged.tmpPath, this.pathOf(staged.sha256)) };
  }

  async discard(staged: StagedBlob): Promise<void> {
    await fsp.rm(staged.tmpPath, { force: true });
  }

  /** Writes a buffer into the store (small generated files): one call to the writer thread. */
  async put(data: Buffer | string): Promise<{ sha256: string; size: number }> {
    const bytes = Buffer.from(data);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const tmpPath = path.join(this.tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}.part`);
    await writeDurably(tmpPath, this.pathOf(sha256), bytes);
    return { sha256, size: bytes.length };
  }

  exists(sha256: string): boolean {
    return fs.existsSync(this.pathOf(sha256));
  }

  /**
   * A read stream that fails with BLOB_CORRUPT at the end if the content does not match its
   * hash (the client sees an aborted transfer rather than silently wrong bytes).
   */
  openVerified(sha256: string): Readable {
    const p = this.pathOf(sha256);
    if (!fs.existsSync(p)) throw new AppError('DOCUMENT_FILE_MISSING', 'The stored file is missing');
    const hash = createHash('sha256');
    const check = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
      flush(cb) {
        const got = hash.digest('hex');
        cb(got === sha256 ? null : new AppError('BLOB_CORRUPT', `Stored file ${sha256} is corrupt (${got})`));
      },
    });
    return fs.createReadStream(p).pipe(check);
  }

  async readVerified(sha256: string): Promise<Buffer> {
    const data = await fsp.readFile(this.pathOf(sha256));
    const got = createHash('sha256').update(data).digest('hex');
    if (got !== sha256) throw new AppError('BLOB_CORRUPT', `Stored file ${sha256} is corrupt`);
    return data;
  }

  /** Removes temporary files left by a crash (never those younger than maxAgeMs: uploads in progress). */
  async sweepTmp(maxAgeMs = 24 * 3600_000): Promise<number> {
    let n = 0;
    for (const f of await fsp.readdir(this.tmpDir)) {
      const p = path.join(this.tmpDir, f);
      const st = await fsp.stat(p).catch(() => null);
      if (st && Date.now() - st.mtimeMs > maxAgeMs) {
        await fsp.rm(p, { force: true });
        n++;
      }
    }
    return n;
  }

  /** Every stored hash (for backups). */
  async *list(): AsyncGenerator<string> {
    for (const a of await fsp.readdir(this.root)) {
      if (!/^[0-9a-f]{2}$/.test(a)) continue;
      for (const b of await fsp.readdir(path.join(this.root, a))) {
        for (const f of await fsp.readdir(path.join(this.root, a, b))) {
          if (/^[0-9a-f]{64}$/.test(f)) yield f;
        }
      }
    }
  }
}
