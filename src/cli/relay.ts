import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { AppDeps } from '../app.ts';
import type { Config } from '../config.ts';
import type { Out } from './main.ts';

/**
 * The embedded database belongs to one process. While `lligall serve` holds it, CLI commands go
 * through the server over a Unix socket in the data directory (owner-only), and run there on the
 * server's open database; nothing opens the database files a second time.
 */
export function socketPath(config: Config): string {
  return path.join(config.dataDir, 'lligall.sock');
}

/** Commands that may run inside a running server (never `serve`, `migrate` or `restore`). */
const RELAYABLE = new Set(['tenant', 'user', 'token', 'audit', 'backup', 'mux', 'jobs', 'ca', 'rollout']);

/** The running server's app, for commands relayed to it (see `withApp`). */
export const runningApp = new AsyncLocalStorage<AppDeps>();

type Request = { argv: string[] };
type Response = { stdout: string[]; stderr: string[]; code: number };

export type RunCli = (argv: string[], out: Out) => Promise<number>;

/** Starts the socket server; returns a function that closes it. */
export async function startRelay(deps: AppDeps, run: RunCli): Promise<() => Promise<void>> {
  const file = socketPath(deps.config);
  // A Unix socket path is limited to ~108 bytes: with a deeper data directory there is no relay,
  // and commands stop with the "in use" message instead.
  if (Buffer.byteLength(file) > 100) return async () => undefined;
  fs.rmSync(file, { force: true });
  const server = net.createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > 64 * 1024) sock.destroy();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      void handle(buf.slice(0, nl)).then((res) => sock.end(`${JSON.stringify(res)}\n`));
    });
  });
  const handle = async (line: string): Promise<Response> => {
    const res: Response = { stdout: [], stderr: [], code: 0 };
    const out: Out = { log: (l) => res.stdout.push(l), error: (l) => res.stderr.push(l) };
    try {
      const req = JSON.parse(line) as Request;
      if (
        !Array.isArray(req.argv) ||
        !req.argv.every((a) => typeof a === 'string') ||
        !RELAYABLE.has(req.argv[0] ?? '')
      ) {
        return { ...res, stderr: ['lligall: this command cannot run through the server'], code: 2 };
      }
      res.code = await runningApp.run(deps, () => run(['node', 'lligall', ...req.argv], out));
    } catch (e) {
      res.stderr.push(`lligall: ${(e as Error).message}`);
      res.code = 1;
    }
    return res;
  };
  const oldMask = process.umask(0o177); // the socket is created owner-only
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(file, () => resolve());
    });
  } finally {
    process.umask(oldMask);
  }
  fs.chmodSync(file, 0o600);
  return async () => {
    await new Promise<void>((r) => server.close(() => r()));
    fs.rmSync(file, { force: true });
  };
}

/**
 * When the embedded database is held by a running server, sends the command to it and returns
 * its exit code; returns null when the command should run here.
 */
export async function relayIfServerRunning(config: Config, argv: string[], out: Out): Promise<number | null> {
  const args = argv.slice(2);
  if (config.databaseUrl || !RELAYABLE.has(args[0] ?? '') || args.includes('--help') || args.includes('-h'))
    return null;
  const file = socketPath(config);
  if (!fs.existsSync(file)) return null;
  const res = await new Promise<Response | null>((resolve) => {
    const sock = net.createConnection(file);
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify({ argv: args })}\n`));
    sock.on('data', (c: string) => {
      buf += c;
    });
    sock.on('end', () => {
      try {
        resolve(JSON.parse(buf) as Response);
      } catch {
        resolve(null);
      }
    });
    sock.on('error', () => resolve(null)); // a stale socket: no server behind it
  });
  if (!res) return null;
  for (const l of res.stdout) out.log(l);
  for (const l of res.stderr) out.error(l);
  return res.code;
}
