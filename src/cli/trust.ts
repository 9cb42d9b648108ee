import fs from 'node:fs';
import type { Command } from 'commander';
import { cliActor, noRequest } from '#platform/context.ts';
import { addTrustedCa, listTrustedCas, removeTrustedCa } from '#modules/signatures/trusted-cas.service.ts';
import { withApp } from './admin.ts';
import type { Out } from './main.ts';

/**
 * `lligall trust …`: the certification authorities whose signatures verification calls
 * `trusted`, besides the installation CA. In production, add the CA certificates of the
 * qualified trust services on the EU trusted lists that the entities meet (AOC, FNMT, …).
 */
export function registerTrustCommands(program: Command, out: Out): void {
  const trust = program
    .command('trust')
    .description('Trusted certification authorities for signature verification (audited)');
  trust
    .command('add')
    .description('Trust a CA certificate (one PEM certificate with basicConstraints CA)')
    .requiredOption('--pem <file>', 'the CA certificate, PEM')
    .requiredOption('--label <label>', 'how the CA is named in lists (e.g. "AOC EC-SECTORPUBLIC")')
    .action((o) =>
      withApp(async (deps) => {
        const ca = await addTrustedCa(
          deps.db,
          { actor: cliActor, request: noRequest, clock: deps.clock },
          { pem: fs.readFileSync(o.pem, 'utf8'), label: o.label },
        );
        out.log(`Trusted ${ca.label}: ${ca.subject} (${ca.fingerprintSha256}) id ${ca.id}`);
      }),
    );
  trust
    .command('list')
    .description('The trusted CAs (with --all, also those removed)')
    .option('--all', 'include removed CAs')
    .option('--json', 'print JSON')
    .action((o) =>
      withApp(async (deps) => {
        const cas = await listTrustedCas(deps.db, { includeRemoved: !!o.all });
        if (o.json) {
          out.log(JSON.stringify(cas, null, 2));
          return;
        }
        if (cas.length === 0) out.log('No trusted CAs besides the installation CA.');
        for (const c of cas) {
          out.log(
            `${c.id}  ${c.label}  ${c.subject}  valid to ${c.validTo.slice(0, 10)}  sha256 ${c.fingerprintSha256}` +
              (c.removedAt ? `  (removed ${c.removedAt})` : ''),
          );
        }
      }),
    );
  trust
    .command('remove')
    .description('Stop trusting a CA (by id or SHA-256 fingerprint); its record stays')
    .argument('<ref>', 'id or SHA-256 fingerprint')
    .action((ref: string) =>
      withApp(async (deps) => {
        const ca = await removeTrustedCa(
          deps.db,
          { actor: cliActor, request: noRequest, clock: deps.clock },
          ref,
        );
        out.log(`No longer trusted: ${ca.label} (${ca.subject})`);
      }),
    );
}
