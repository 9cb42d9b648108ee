import fs from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';

/** What an archive entry is, judged by its path alone. */
export type EntryPath =
  | { kind: 'manifest' }
  | { kind: 'table'; name: string }
  | { kind: 'blob'; sha256: string }
  | { kind: 'file'; area: string; relative: string }
  | { kind: 'dir' };

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const AREA = /^[a-z][a-z0-9-]*$/;

/**
 * Classifies an entry path, or returns null for a path a backup never contains: absolute paths,
 * `..` or `.` segments, backslashes, control characters, or anything outside the layout
 * `manifest.json`, `db/<table>.jsonl`, `blobs/<sha256>`, `files/<area>/<path>`.
 */
export function classifyEntryPath(p: string, isDir: boolean): EntryPath | null {
  if (p.length === 0 || p.length > 1024) return null;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (p.startsWith('/') || p.includes('\\') || /[\u0000-\u001f\u007f]/.test(p)) return null;
  const trimmed = isDir ? p.replace(/\/$/, '') : p;
  const parts = trimmed.split('/');
  if (parts.some((s) => s === '' || s === '.' || s === '..' || !SEGMENT.test(s))) return null;
  if (isDir) {
    if (parts[0] === 'db' || parts[0] === 'blobs') return parts.length === 1 ? { kind: 'dir' } : null;
    if (parts[0] === 'files' && (parts.length === 1 || AREA.test(parts[1]!))) return { kind: 'dir' };
    return null;
  }
  if (parts.length === 1 && parts[0] === 'manifest.json') return { kind: 'manifest' };
  if (parts.length === 2 && parts[0] === 'db') {
    const m = /^([a-z_][a-z0-9_$]*)\.jsonl$/.exec(parts[1]!);
    return m ? { kind: 'table', name: m[1]! } : null;
  }
  if (parts.length === 2 && parts[0] === 'blobs' && /^[0-9a-f]{64}$/.test(parts[1]!)) {
    return { kind: 'blob', sha256: parts[1]! };
  }
  if (parts.length >= 3 && parts[0] === 'files' && AREA.test(parts[1]!)) {
    return { kind: 'file', area: parts[1]!, relative: parts.slice(2).join('/') };
  }
  return null;
}

/** Tells the reader to stop: everything wanted has been read. */
export class StopReading extends Error {
  constructor() {
    super('stop reading');
  }
}

/** An archive entry's header fields. */
export type EntryInfo = { path: string; type: string; size: number };

/**
 * Streams the entries of a (gzipped) tar archive to `onEntry`, one at a time, with backpressure:
 * the next entry is read only as the current one is consumed. A rejection of `onEntry` stops the
 * whole read with that error (throwing StopReading stops it successfully); the streams of entries
 * still being consumed are destroyed with the error, and the read settles only once every
 * `onEntry` has, so their partial output can be cleaned up by them.
 */
export async function readArchive(
  file: string,
  onEntry: (info: EntryInfo, data: Readable) => Promise<void>,
): Promise<void> {
  const source = fs.createReadStream(file);
  const parser = new Parser({
    strict: true,
    // Entry sizes are checked against the manifest as they stream, which bounds what is written;
    // the ratio guard would refuse legitimate, highly compressible files.
    maxDecompressionRatio: Number.POSITIVE_INFINITY,
  });
  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const tasks: Promise<void>[] = [];
    const active = new Map<ReadEntry, PassThrough>();
    const finish = (e?: unknown) => {
      if (settled) return;
      settled = true;
      source.destroy();
      if (e === undefined || e instanceof StopReading) {
        resolve();
        return;
      }
      const err = e instanceof Error ? e : new Error(String(e));
      for (const [entry, data] of active) {
        entry.unpipe(data as unknown as NodeJS.WritableStream);
        data.destroy(err);
      }
      void Promise.allSettled(tasks).then(() => reject(err));
    };
    parser.on('entry', (entry: ReadEntry) => {
      if (settled) {
        entry.resume();
        return;
      }
      const data = new PassThrough();
      // Its consumer sees a destroy error through its own read; unconsumed, it must not crash the process.
      data.on('error', () => {});
      active.set(entry, data);
      entry.pipe(data as unknown as NodeJS.WritableStream);
      const info = { path: entry.path, type: entry.type, size: entry.size ?? 0 };
      tasks.push(
        onEntry(info, data).then(
          () => {
            active.delete(entry);
          },
          (e: unknown) => {
            active.delete(entry);
            data.resume();
            finish(e);
          },
        ),
      );
    });
    parser.on('error', (e: unknown) => finish(e));
    parser.on('end', () => {
      void Promise.allSettled(tasks).then(() => finish());
    });
    source.on('error', (e) => finish(e));
    source.pipe(parser as unknown as NodeJS.WritableStream);
  });
}
