/**
 * Preloaded into every test file's process by scripts/test.ts (`--import`). A file whose tests
 * have all finished but whose process stays alive (a handle left open: a socket, a timer, a
 * database) would otherwise stall the whole run until the runner's watchdog kills it, and every
 * result of that pass would be lost. Once the file's last test and hooks are done, this waits
 * LLIGALL_TEST_EXIT_GRACE_MS (30 s by default) — an unref'd timer, so a file that exits by
 * itself is never delayed — then names the file and what keeps it alive on stderr, writes a
 * marker the runner counts, and ends the process with the exit code its tests set.
 *
 * Tests registered after a top-level await longer than the grace would be cut off; no test
 * file does that (they register their suites synchronously).
 */
import fs from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';

const grace = Number(process.env.LLIGALL_TEST_EXIT_GRACE_MS || 30_000);

after(() => {
  setTimeout(() => {
    const file = path.relative(process.cwd(), process.argv[1] ?? '?');
    // What each open timer would run names the code that left it (the first line of its callback).
    const timers = (process as unknown as { _getActiveHandles(): unknown[] })
      ._getActiveHandles()
      .filter(
        (h): h is { _onTimeout: () => void; _idleTimeout: number } =>
          typeof (h as { _onTimeout?: unknown })._onTimeout === 'function',
      )
      .map((h) => `timer ${h._idleTimeout} ms: ${String(h._onTimeout).replace(/\s+/g, ' ').slice(0, 160)}`);
    const handles = [...process.getActiveResourcesInfo(), ...timers].join(', ');
    process.stderr.write(
      `\n[exit-guard] ${file}: every test finished ${grace / 1000} s ago but the process did not exit; ` +
        `still open: ${handles}. Ending it.\n`,
    );
    const marker = process.env.LLIGALL_TEST_EXIT_GUARD_LOG;
    if (marker) fs.appendFileSync(marker, `${file}\t${handles}\n`);
    process.exit(process.exitCode ?? 0);
  }, grace).unref();
});
