import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../errors.ts';
import { placeDurably, writeDurably } from './blob-writer.ts';

/** An upload written to the store's temporary area, hashed while streaming, not yet in the store. */
export type StagedBlob = { tmpPath: string; data?: undefined; sha256: string; size: number };
/** A small upload held in memory, hashed, not yet in the store. */
export type HeldBlob = { tmpPath?: undefined; data: Buffer; sha256: string; size: number };
/** What `receive` gives: a small upload in memory, a larger one staged. */
export type ReceivedBlob = StagedBlob | HeldBlob;

/**
 * `receive` holds uploads up to this size in memory until they are committed: the writer thread
 * then writes each in one call, instead of a temporary file opened, written, fsynced and closed
 * from the main thread (most registry attachments are this small). Larger ones stream to disk.
 */
export const IN_MEMORY_MAX = 256 * 1024;

/** Counts and hashes an upload's bytes; over `maxBytes` it refuses with PAYLOAD_TOO_LARGE. */
function meter(maxBytes = Number.POSITIVE_INFINITY) {
  const hash = createHash('sha256');
  const m = {
    size: 0,
    take(chunk: Buffer): Buffer {
      m.size += chunk.length;
      if (m.size > maxBytes)
        throw new AppError(
          'PAYLOAD_TOO_LARGE',
          `The file is larger than ${Math.floor(maxBytes / 1048576)} MiB`,
        );
      hash.update(chunk);
      return chunk;
    },
    digest: () => hash.digest('hex'),
  };
  return m;
}

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

  /** Streams an upload into a temporary file, computing SHA-256 and size; removes the file on any error. */
  async stage(source: Readable, opts: { maxBytes?: number } = {}): Promise<StagedBlob> {
    return this.#toFile(source[Symbol.asyncIterator]() as AsyncIterator<Buffer>, [], meter(opts.maxBytes));
  }

  /** Reads an upload whole: held in memory up to IN_MEMORY_MAX, otherwise staged as `stage` does. */
  async receive(source: Readable, opts: { maxBytes?: number } = {}): Promise<ReceivedBlob> {
    const m = meter(opts.maxBytes);
    const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const held: Buffer[] = [];
    try {
      while (m.size <= IN_MEMORY_MAX) {
        const r = await it.next();
        if (r.done) return { data: Buffer.concat(held, m.size), sha256: m.digest(), size: m.size };
        held.push(m.take(r.value));
      }
    } catch (e) {
      await it.return?.();
      throw e;
    }
    return this.#toFile(it, held, m);
  }

  /** The bytes `held` already taken, then the rest of `it`, into a temporary file. */
  async #toFile(it: AsyncIterator<Buffer>, held: Buffer[], m: ReturnType<typeof meter>): Promise<StagedBlob> {
    const tmpPath = this.#tmpName();
    async function* bytes() {
      yield* held.splice(0);
      for (let r = await it.next(); !r.done; r = await it.next()) yield m.take(r.value);
    }
    // flush: the stream fsyncs the file before it closes it, so it is on disk when the pipeline ends.
    const out = fs.createWriteStream(tmpPath, { flags: 'wx', mode: 0o600, flush: true });
    try {
      await pipeline(bytes(), out);
    } catch (e) {
      await it.return?.().catch(() => undefined);
      // The file is removed once the stream has closed it: a stream destroyed while it was still
      // opening creates the file after the error, and a removal before that would leave it behind.
      if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
      await fsp.rm(tmpPath, { force: true });
      throw e;
    }
    return { tmpPath, sha256: m.digest(), size: m.size };
  }

  /** Puts a received upload into the store (or drops it if the same content is there already). */
  async commit(staged: ReceivedBlob): Promise<{ created: boolean }> {
    const dest = this.pathOf(staged.sha256);
    if (staged.data) return { created: await writeDurably(this.#tmpName(), dest, staged.data) };
    return { created: await placeDurably(staged.tmpPath, dest) };
  }

  async discard(staged: ReceivedBlob): Promise<void> {
    if (staged.tmpPath) await fsp.rm(staged.tmpPath, { force: true });
  }

  #tmpName(): string {
    return path.join(this.tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}.part`);
  }

  /** Writes a buffer into the store (small generated files): one call to the writer thread. */
  async put(data: Buffer | string): Promise<{ sha256: string; size: number }> {
    const bytes = Buffer.from(data);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await writeDurably(this.#tmpName(), this.pathOf(sha256), bytes);
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
