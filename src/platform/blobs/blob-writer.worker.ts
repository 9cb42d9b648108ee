/**
 * The blob store's file-system steps, on a thread of their own with synchronous calls (see
 * blob-writer.ts). Only Node's built-in modules: this file is a worker's entry point.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import type { WriteReply, WriteRequest } from './blob-writer.ts';

/** Shard directories this thread made or found (never removed while it runs): no mkdir for them again. */
const madeDirs = new Set<string>();
const MAX_MADE_DIRS = 65_536;

function makeDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (madeDirs.size >= MAX_MADE_DIRS) madeDirs.clear();
  madeDirs.add(dir);
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Renames a complete, fsynced temporary file into place (or drops it: the content is there already). */
function place(tmpPath: string, dest: string): boolean {
  if (fs.existsSync(dest)) {
    fs.rmSync(tmpPath, { force: true });
    return false;
  }
  const dir = path.dirname(dest);
  const made = madeDirs.has(dir);
  if (!made) makeDir(dir);
  try {
    fs.renameSync(tmpPath, dest);
  } catch (e) {
    // A directory this thread made is gone (the store was emptied under it): make it again, once.
    if (!made || (e as NodeJS.ErrnoException).code !== 'ENOENT' || !fs.existsSync(tmpPath)) throw e;
    makeDir(dir);
    fs.renameSync(tmpPath, dest);
  }
  // The rename is durable once its directory is.
  fsyncDir(dir);
  return true;
}

/** Writes bytes to a new temporary file, fsyncs it and places it; the temporary file never stays. */
function put(tmpPath: string, dest: string, data: Uint8Array): boolean {
  if (fs.existsSync(dest)) return false;
  try {
    const fd = fs.openSync(tmpPath, 'wx', 0o600);
    try {
      for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off, data.length - off);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    return place(tmpPath, dest);
  } catch (e) {
    fs.rmSync(tmpPath, { force: true });
    throw e;
  }
}

const port = parentPort;
if (!port) throw new Error('blob-writer.worker.ts is a worker thread');
port.on('message', (m: WriteRequest) => {
  let reply: WriteReply;
  try {
    const created = m.op === 'put' ? put(m.tmpPath, m.dest, m.data) : place(m.tmpPath, m.dest);
    reply = { id: m.id, created };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    reply = { id: m.id, error: { message: err.message, code: err.code, name: err.name } };
  }
  port.postMessage(reply);
});
