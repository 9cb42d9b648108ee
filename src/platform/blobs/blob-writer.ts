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
 * 3 ms of every registry entry (its attachment and its receipt). Writer threads of the process do
 * them with synchronous calls instead, and the main thread sends one message per file. A thread
 * runs its calls one at a time; calls go to the first thread until it has SPILL_AFTER waiting, then
 * to another (started when needed, up to MAX_THREADS), so that one slow fsync does not hold up
 * many files behind it. Threads are started on first use and do not keep the process alive
 * when idle; if one dies, its calls in flight fail and the next calls go to the others.
 */
class WriterThread {
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
      for (const p of this.#pending.values()) p.reject(e);
      this.#pending.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`The blob writer thread exited (code ${code})`)));
  }

  get dead(): boolean {
    return this.#dead;
  }

  /** Calls sent and not answered yet. */
  get pending(): number {
    return this.#pending.size;
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

/** Like libuv's default pool: four at most. */
const MAX_THREADS = 4;
/** Calls a thread may have waiting before the next goes to another (one slow fsync holds up those behind it). */
const SPILL_AFTER = 2;
const threads: WriterThread[] = [];

/**
 * The first thread with room, so that under a steady load one thread stays busy (waking a sleeping
 * thread costs more than the call); another is started when all are full, up to MAX_THREADS.
 */
function current(): WriterThread {
  for (let i = threads.length - 1; i >= 0; i--) if (threads[i]!.dead) threads.splice(i, 1);
  const free = threads.find((t) => t.pending < SPILL_AFTER);
  if (free) return free;
  if (threads.length < MAX_THREADS) {
    const t = new WriterThread();
    threads.push(t);
    return t;
  }
  return threads.reduce((a, b) => (b.pending < a.pending ? b : a));
}

/** Writes `data` to `tmpPath` (a new file), fsyncs it and renames it to `dest`; false when `dest` exists already. */
export function writeDurably(tmpPath: string, dest: string, data: Uint8Array): Promise<boolean> {
  return current().call({ op: 'put', tmpPath, dest, data });
}

/** Renames the complete, fsynced `tmpPath` to `dest` durably; when `dest` exists already, removes `tmpPath` and returns false. */
export function placeDurably(tmpPath: string, dest: string): Promise<boolean> {
  return current().call({ op: 'place', tmpPath, dest });
}

/** Writer threads running now (for tests and diagnostics). */
export function writerThreadCount(): number {
  return threads.filter((t) => !t.dead).length;
}
