import fs from 'node:fs';
import type { Command } from 'commander';
import { cliActor, noRequest } from '#platform/context.ts';
import { AppError } from '#platform/errors.ts';
import {
  ensureEntitySeal,
  ensureInstallationCa,
  getInstallationCaPem,
  importSeal,
  listSeals,
  operatorCtx,
} from '#modules/seals/seals.service.ts';
import { rotateMasterKey } from '#modules/seals/rotate.ts';
import { getTenantOrThrow } from '#modules/tenancy/tenancy.service.ts';
import { withApp } from './admin.ts';
import type { Out } from './main.ts';

/**
 * `lligall ca …` and `lligall seal …`: the installation CA (demo and development only) and each
 * entity's seal. In production the operator installs every entity's real seal from a PKCS#12.
 */
export function registerSealCommands(program: Command, out: Out): void {
  const ca = program
    .command('ca')
    .description('The installation CA that issues demo seals (not in production)');
  ca.command('export')
    .description('Print (or write to --out) the installation CA certificate, PEM, for verifiers to trust')
    .option('--out <file>', 'write the PEM to this file instead of printing it')
    .action((o) =>
      withApp(async (deps) => {
        let pem = await getInstallationCaPem(deps.db);
        if (!pem) {
          if (deps.config.env === 'production') {
            throw new AppError(
              'NOT_FOUND',
              'This installation has no CA: production seals come from PKCS#12 files',
            );
          }
          pem = (await ensureInstallationCa(deps)).certificatePem;
        }
        if (o.out) {
          fs.writeFileSync(o.out, pem);
          out.log(`Wrote ${o.out}`);
        } else {
          out.log(pem.trimEnd());
        }
      }),
    );

  // `lligall key` is defined with `key init` (admin.ts); rotation belongs beside it.
  const key =
    program.commands.find((c) => c.name() === 'key') ??
    program.command('key').description('The master key (seals audit checkpoints, encrypts private keys)');
  key
    .command('rotate')
    .description(
      'Re-wrap every stored private key (one transaction) and re-seal every audit checkpoint under a new master key file; ' +
        'then point LLIGALL_MASTER_KEY_FILE at it. Safe to run again after an interruption.',
    )
    .requiredOption(
      '--new-key-file <file>',
      'the new master key (at least 32 bytes, e.g. made by "lligall key init")',
    )
    .action((o) =>
      withApp(async (deps) => {
        const r = await rotateMasterKey(deps, o.newKeyFile, { actor: cliActor, request: noRequest });
        out.log(
          `private keys: ${r.keysRewrapped} re-wrapped, ${r.keysAlreadyRotated} already under the new key; ` +
            `integration secrets (MUX): ${r.secretsRewrapped} re-wrapped, ${r.secretsAlreadyRotated} already under the new key; ` +
            `checkpoints: ${r.checkpointsResealed} re-sealed, ${r.checkpointsAlreadyRotated} already under the new key`,
        );
        out.log(
          `Now set LLIGALL_MASTER_KEY_FILE=${o.newKeyFile} and restart. Keep the old key with older backups.`,
        );
      }),
    );

  const seal = program.command('seal').description("Entities' seals (segells d'òrgan)");
  seal
    .command('import')
    .description("Install an entity's seal from a PKCS#12 file; the previous seal is deactivated (audited)")
    .requiredOption('--entity <ref>', 'entity (DIR3 or slug)')
    .requiredOption('--p12 <file>', 'the PKCS#12 (.p12/.pfx) file')
    .requiredOption('--password-file <file>', 'a file holding the PKCS#12 password (one line)')
    .option('--qualified', 'the certificate is a qualified seal certificate (e.g. T-CAT)', false)
    .option('--label <label>', 'a label for the seal')
    .action((o) =>
      withApp(async (deps) => {
        const p12 = fs.readFileSync(o.p12);
        const password = fs.readFileSync(o.passwordFile, 'utf8').replace(/\r?\n$/, '');
        const t = await deps.db.platform((tx) => getTenantOrThrow(tx, o.entity));
        const r = await deps.db.tenant(t.id, (tx) =>
          importSeal(tx, operatorCtx(t, cliActor, noRequest, deps.clock), deps.config, {
            p12,
            password,
            qualified: o.qualified === true,
            ...(o.label ? { label: o.label } : {}),
          }),
        );
        out.log(`${r.id}\t${r.fingerprintSha256}\t${r.subject}`);
        if (r.previous.length) out.log(`deactivated: ${r.previous.join(', ')}`);
      }),
    );
  seal
    .command('ensure')
    .description('Give the entity a demo seal from the installation CA if it has none (not in production)')
    .requiredOption('--entity <ref>', 'entity (DIR3 or slug)')
    .action((o) =>
      withApp(async (deps) => {
        const t = await deps.db.platform((tx) => getTenantOrThrow(tx, o.entity));
        const r = await ensureEntitySeal(deps, t.id);
        out.log(r.created ? 'demo seal created' : 'the entity has an active seal already');
      }),
    );
  seal
    .command('list')
    .description("List the entity's seals")
    .requiredOption('--entity <ref>', 'entity (DIR3 or slug)')
    .action((o) =>
      withApp(async (deps) => {
        const t = await deps.db.platform((tx) => getTenantOrThrow(tx, o.entity));
        const seals = await deps.db.tenant(t.id, (tx) =>
          listSeals(tx, operatorCtx(t, cliActor, noRequest, deps.clock)),
        );
        for (const s of seals) {
          out.log(
            [
              s.active ? 'active' : 'inactive',
              s.qualified ? 'qualified' : 'not-qualified',
              s.validTo,
              s.fingerprintSha256,
              s.subject,
            ].join('\t'),
          );
        }
      }),
    );
}
