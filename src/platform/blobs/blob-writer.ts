import { Worker } from 'node:worker_threads';

type WriteJob =
  | { op: 'put'; tmpPath: string; dest: string; data: Uint8Array }
  | { op: 'place'; tmpPath: string; dest: string };
export type WriteRequest = WriteJob & { id: number };
export type WriteReply =
  | { id: number; created: boolean }
  | { id: number; error: { message: string; code?: string; name: string } };

type Pending = { resolve: (created: boolean) => void; reject: (e: Error) => void };

/**
 * Storing a file durably takes about ten file-system calls (open, write, fsync, close, mkdir,
 * rename, and open, fsync, close of its directory). Through Node's asynchronous API each is a trip
 * to the libuv thread pool and back, which on the main thread cost about 0.13 ms apiece here:
 * 3 ms of every registry entry (its attachment and its receipt). One thread of the process does
 * them with synchronous calls instead, and the main thread sends it one message per file. Calls run
 * one at a time, in the order sent. The thread is started on first use and does not keep the
 * process alive when idle; if it dies, the calls in flight fail and the next call starts another.
 */
class BlobWriter {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #next = 1;
  #dead = false;

  constructor() {
    this.#worker = new Worker(new URL('./blob-writer.worker.ts', import.meta.url));
    this.#worker.unref();
    this.#worker.on('message', (r: WriteReply) => {
      const p = this.#pending.get(r.id);
      if (!p) return;
      this.#pending.delete(r.id);
      if (this.#pending.size === 0) this.#worker.unref();
      if ('error' in r) {
        const e = new Error(r.error.message) as NodeJS.ErrnoException;
        e.name = r.error.name;
        if (r.error.code) e.code = r.error.code;
        p.reject(e);
      } else p.resolve(r.created);
    });
    const fail = (e: Error) => {
      this.#dead = true;
      if (writer === this) writer = null;
      for (const p of this.#pending.values()) p.reject(e);
      this.#pending.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`The blob writer thread exited (code ${code})`)));
  }

  get dead(): boolean {
    return this.#dead;
  }

  call(req: WriteJob): Promise<boolean> {
    const id = this.#next++;
    return new Promise<boolean>((resolve, reject) => {
      // Awaited work keeps the process alive until its answer comes.
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...req, id } as WriteRequest);
    });
  }
}

let writer: BlobWriter | null = null;

function current(): BlobWriter {
  if (!writer || writer.dead) writer = new BlobWriter();
  return writer;
}

/** Writes `data` to `tmpPath` (a new file), fsyncs it and renames it to `dest`; false when `dest` exists already. */
export function writeDurably(tmpPath: string, dest: string, data: Uint8Array): Promise<boolean> {
  return current().call({ op: 'put', tmpPath, dest, data });
}

/** Renames the complete, fsynced `tmpPath` to `dest` durably; when `dest` exists already, removes `tmpPath` and returns false. */
export function placeDurably(tmpPath: string, dest: string): Promise<boolean> {
  return current().call({ op: 'place', tmpPath, dest });
}
