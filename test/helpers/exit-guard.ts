/**
 * Preloaded into every test file's process by scripts/test.ts (`--import`). A file whose tests
 * have all finished but whose process stays alive (a handle left open: a socket, a timer, a
 * database) would otherwise stall the whole run until the runner's watchdog kills it, and every
 * result of that pass would be lost. Once the file's last test and hooks are done, this waits
 * LLIGALL_TEST_EXIT_GRACE_MS (15 s by default) — an unref'd timer, so a file that exits by
 * itself is never delayed — then names the file and what keeps it alive on stderr, writes a
 * marker the runner counts, and ends the process with the exit code its tests set.
 *
 * Tests registered after a top-level await longer than the grace would be cut off; no test
 * file does that (they register their suites synchronously).
 */
import fs from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';

const grace = Number(process.env.LLIGALL_TEST_EXIT_GRACE_MS || 15_000);

// Where each timer was set (a short stack), so that a timer keeping a file alive names the code
// that set it. Only global setTimeout/setInterval are wrapped (cheap; no async hooks).
type Timer = NodeJS.Timeout & { _destroyed?: boolean };
const origins = new Set<{ timer: WeakRef<Timer>; at: string }>();
for (const name of ['setTimeout', 'setInterval'] as const) {
  const original = globalThis[name] as (...args: unknown[]) => Timer;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    const timer = original.apply(this, args);
    const at = (new Error().stack ?? '')
      .split('\n')
      .slice(2, 6)
      .map((l) => l.trim())
      .join(' < ');
    if (origins.size < 20_000) origins.add({ timer: new WeakRef(timer), at });
    return timer;
  };
  // Keep util.promisify.custom and any other own property of the original.
  for (const key of Reflect.ownKeys(original)) {
    const d = Object.getOwnPropertyDescriptor(original, key);
    if (d && !(key in wrapped && ['length', 'name', 'prototype'].includes(String(key))))
      Object.defineProperty(wrapped, key, d);
  }
  (globalThis as Record<string, unknown>)[name] = wrapped;
}
const liveTimers = () => {
  const out: string[] = [];
  for (const o of origins) {
    const t = o.timer.deref();
    if (!t || t._destroyed) origins.delete(o);
    else if (t.hasRef()) out.push(`timer set ${o.at}`);
  }
  return out;
};

after(() => {
  setTimeout(() => {
    const file = path.relative(process.cwd(), process.argv[1] ?? '?');
    const handles = [...process.getActiveResourcesInfo(), ...liveTimers()].join('; ');
    process.stderr.write(
      `\n[exit-guard] ${file}: every test finished ${grace / 1000} s ago but the process did not exit; ` +
        `still open: ${handles}. Ending it.\n`,
    );
    const marker = process.env.LLIGALL_TEST_EXIT_GUARD_LOG;
    if (marker) fs.appendFileSync(marker, `${file}\t${handles}\n`);
    process.exit(process.exitCode ?? 0);
  }, grace).unref();
});
