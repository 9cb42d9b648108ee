/**
 * Builds the web app (web/ → web/dist) when web/dist/index.html is missing or older than any
 * source of the app, so `npm start` on a fresh clone serves /app. Run by `prestart`, and by the
 * browser test before it starts a server. Concurrent callers (two test runs) take turns through
 * a lock directory, and the second one finds the build fresh.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const root = path.resolve(import.meta.dirname, '..');
const webDir = path.join(root, 'web');
const builtIndex = path.join(webDir, 'dist', 'index.html');
/** Everything the build reads besides node_modules. */
const sources = ['src', 'public', 'index.html', 'seu.html', 'vite.config.ts', 'tsconfig.json'].map((p) =>
  path.join(webDir, p),
);
const lockDir = path.join(root, '.tmp', 'web-build.lock');
const STALE_LOCK_MS = 5 * 60_000;

function newestMtime(p: string): number {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, name)));
  return newest;
}

/** Why the web app needs building, or null when web/dist is up to date. */
export function webBuildReason(): string | null {
  if (!fs.existsSync(builtIndex)) return 'web/dist/index.html is missing';
  const built = fs.statSync(builtIndex).mtimeMs;
  const newest = Math.max(...sources.map(newestMtime));
  return newest > built ? 'web/ has changed since the last build' : null;
}

async function withLock<T>(fn: () => T): Promise<T> {
  fs.mkdirSync(path.dirname(lockDir), { recursive: true });
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (fs.statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > STALE_LOCK_MS) fs.rmSync(lockDir, { recursive: true, force: true });
      else await sleep(200);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

/** Builds web/dist if needed; returns whether it built. Throws when the build fails. */
export async function ensureWebBuilt(opts: { quiet?: boolean } = {}): Promise<boolean> {
  if (!webBuildReason()) return false;
  return withLock(() => {
    const reason = webBuildReason();
    if (!reason) return false;
    if (!opts.quiet) console.log(`Building the web app: ${reason}`);
    // Run Vite's entry with this Node (the .bin shim's `env node` could find an older system Node).
    const vite = path.join(root, 'node_modules', '.bin', 'vite');
    if (!fs.existsSync(vite)) {
      throw new Error(
        `${reason}, and Vite is not installed to build it: run \`npm install\` (with dev dependencies), then \`npm run build:web\``,
      );
    }
    const res = spawnSync(
      process.execPath,
      [vite, 'build', '--config', 'web/vite.config.ts', ...(opts.quiet ? ['--logLevel', 'warn'] : [])],
      {
        cwd: root,
        stdio: 'inherit',
      },
    );
    if (res.error) throw res.error;
    if (res.status !== 0) throw new Error(`vite build failed with exit code ${res.status}`);
    return true;
  });
}

if (import.meta.main) {
  try {
    const built = await ensureWebBuilt();
    if (!built) console.log('The web app is up to date (web/dist).');
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
