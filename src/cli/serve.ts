import type { Command } from 'commander';
import { isEmbedded, loadConfig } from '../config.ts';
import { openApp } from '../app.ts';
import { formatCredentials, seedDemo, seedDemoUnits } from '../demo.ts';
import { buildServer } from '../server.ts';
import { registerJobs } from '../worker.ts';
import { buildProgram, main, type Out } from './main.ts';
import { startRelay } from './relay.ts';

export function registerServeCommand(program: Command, out: Out): void {
  program
    .command('serve')
    .description('Run the HTTP server (API + web app) and/or the job worker')
    .option('--role <role>', 'api | worker | all', 'all')
    .option('--port <port>', 'port (default: PORT or 8080)')
    .option('--demo', 'seed the demo entity and users on first start (never with LLIGALL_ENV=production)')
    .action(async (o) => {
      const env = { ...process.env };
      if (o.port) env.PORT = String(o.port);
      if (o.demo && !env.LLIGALL_ENV) env.LLIGALL_ENV = 'demo';
      const config = loadConfig(env);
      if (!['api', 'worker', 'all'].includes(o.role)) throw new Error('--role must be api, worker or all');
      const deps = await openApp(config);
      let creds = null;
      if (config.env === 'demo') {
        creds = await seedDemo(deps);
        await seedDemoUnits(deps);
      }
      const app = o.role === 'worker' ? null : await buildServer(deps);
      // Every role sends jobs; worker and all also run them (and pg-boss's maintenance and schedules).
      await registerJobs(deps);
      await deps.jobs.start({ worker: o.role !== 'api', ...(app ? { log: app.log } : {}) });
      // Embedded database: CLI commands run meanwhile come through this socket (see relay.ts).
      // Every command family is loaded now, as the server starts: a relayed command then opens
      // no module file while the server runs.
      if (isEmbedded(config)) await buildProgram(out);
      const closeRelay = isEmbedded(config) ? await startRelay(deps, main) : null;
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        out.log(`lligall: ${signal}, shutting down`);
        await closeRelay?.();
        await app?.close(); // in-flight requests finish (and may still send jobs)
        await deps.jobs.stop(); // running jobs finish (up to 30 s)
        await deps.db.close(); // PGlite: close cleanly so the data directory stays consistent
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));
      if (app) {
        const address = await app.listen({ port: config.port, host: config.host });
        const shown = address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost');
        out.log(`Lligall (${config.env}, ${deps.db.kind}) listening on ${shown}`);
        if (creds) out.log(formatCredentials(creds, shown));
      }
    });
}
