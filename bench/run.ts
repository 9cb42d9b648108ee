/**
 * `npm run bench -- <name> [options]`: runs one benchmark, which prints its figures.
 * Without a name (or with an unknown one) lists the benchmarks.
 */
import { coreUsage, runCore } from './core.ts';
import { registryUsage, runRegistry } from './registry.ts';
import { runSign, signUsage } from './sign.ts';

type Bench = { summary: string; usage: string; run(argv: string[]): Promise<number> };

const BENCHES: Record<string, Bench> = {
  core: {
    summary:
      'case-file creation rate and p50/p95 of GET /expedients/{id} and of a filtered list, 10,000 case files and 100,000 documents, 10 HTTP clients, on PGlite and PostgreSQL',
    usage: coreUsage,
    run: runCore,
  },
  registry: {
    summary:
      'registry entries per second and p50/p95 latency, each with a 100 KB attachment and its sealed PAdES receipt, 10 HTTP clients, on PGlite and PostgreSQL',
    usage: registryUsage,
    run: runRegistry,
  },
  sign: {
    summary:
      'PAdES-B-B signing time (prepare the fields + append one signature as an incremental update) for a 100 KB and a 5 MB PDF',
    usage: signUsage,
    run: runSign,
  },
};

function list(): void {
  console.log('Usage: npm run bench -- <benchmark> [options]\n\nBenchmarks:');
  for (const [name, b] of Object.entries(BENCHES)) console.log(`  ${name.padEnd(8)} ${b.summary}`);
}

const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h') {
  list();
} else {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`Unknown benchmark "${name}".\n`);
    list();
    process.exitCode = 2;
  } else if (rest.includes('--help') || rest.includes('-h')) {
    console.log(bench.usage);
  } else {
    process.exitCode = await bench.run(rest);
  }
}
