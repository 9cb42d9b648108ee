import path from 'node:path';
import type { Command } from 'commander';
import { cliActor, noRequest } from '#platform/context.ts';
import { AppError } from '#platform/errors.ts';
import { configureMux, readSecretFile, showMux } from '#modules/registry/mux/mux.service.ts';
import { withApp } from './admin.ts';
import type { Out } from './main.ts';
import { runningApp } from './relay.ts';

/**
 * `lligall mux …`: how the AOC's MUX v3 authenticates to each entity's registry (guide 5.2: the
 * issuer, subject and HS256 secret agreed with the AOC's Suport a Integradors). The secret is
 * read from a file, stored wrapped under the master key, and never printed.
 */
export function registerMuxCommands(program: Command, out: Out): void {
  const mux = program.command('mux').description('MUX v3 (AOC registry router) intake for an entity');
  mux
    .command('configure')
    .description(
      'Set the issuer, subject and HS256 secret MUX signs its tokens with for this entity (replaces any previous ones; audited)',
    )
    .requiredOption('--entity <ref>', 'the entity (DIR3 or slug)')
    .requiredOption('--issuer <iss>', 'the JWT issuer agreed with the AOC')
    .requiredOption('--subject <sub>', 'the JWT subject agreed with the AOC')
    .requiredOption('--secret-file <file>', 'a file holding the secret (never on the command line)')
    .option(
      '--secret-encoding <enc>',
      'text: the file’s characters are the key; base64url: they encode the key’s bytes',
      'text',
    )
    .action((o) =>
      withApp(async (deps) => {
        if (o.secretEncoding !== 'text' && o.secretEncoding !== 'base64url')
          throw new AppError('VALIDATION_FAILED', '--secret-encoding must be text or base64url');
        // Run through a running server, a relative path would be read from the server's directory.
        if (runningApp.getStore() && !path.isAbsolute(o.secretFile))
          throw new AppError(
            'VALIDATION_FAILED',
            'The server is running: give --secret-file as an absolute path (the server reads it)',
          );
        const secret = readSecretFile(o.secretFile, o.secretEncoding);
        const v = await configureMux(
          deps,
          { actor: cliActor, request: noRequest },
          { entity: o.entity, issuer: o.issuer, subject: o.subject, secret },
        );
        out.log(
          `MUX configured for ${v.entity}: issuer ${v.issuer}, subject ${v.subject}, secret of ${v.secretBytes} bytes stored encrypted`,
        );
      }),
    );
  mux
    .command('show')
    .description('Show the MUX configuration of an entity (never the secret)')
    .requiredOption('--entity <ref>', 'the entity (DIR3 or slug)')
    .option('--json', 'print JSON')
    .action((o) =>
      withApp(async (deps) => {
        const v = await showMux(deps, o.entity);
        if (o.json) {
          out.log(JSON.stringify(v));
          return;
        }
        if (!v) {
          out.log(`MUX is not configured for ${o.entity}`);
          return;
        }
        out.log(`entity      ${v.entity}`);
        out.log(`issuer      ${v.issuer}`);
        out.log(`subject     ${v.subject}`);
        out.log(`secret      (stored encrypted, ${v.secretBytes} bytes)`);
        out.log(`configured  ${v.configuredAt} by ${v.configuredBy}`);
        out.log(`endpoint    POST /api/v1/mux/${v.entity}/registre`);
      }),
    );
}
