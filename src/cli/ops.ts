import fs from 'node:fs';
import path from 'node:path';
import { type Command, CommanderError } from 'commander';
import type { AppDeps } from '../app.ts';
import { createBackup } from '#platform/backup/backup.ts';
import { restoreBackup } from '#platform/backup/restore.ts';
import { cliActor, noRequest } from '#platform/context.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { checkpointsDir, type SealResult, sealCheckpoints } from '#modules/audit/audit.checkpoint.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { type ChainVerification, verifyAudit } from '#modules/audit/audit.verify.ts';
import { withApp } from './admin.ts';
import type { Out } from './main.ts';

/** Exit code of a check that ran and found the data not sound (audit chain broken). */
export const EXIT_INTEGRITY = 3;

/** Operations commands: audit verification, backup and restore. */
export function registerOpsCommands(program: Command, out: Out): void {
  const audit = program.command('audit').description('The hash-chained audit log');
  audit
    .command('verify')
    .description(
      'Prove every audit chain (links, heads, sealed checkpoints); one line per chain; ' +
        `exit ${EXIT_INTEGRITY} naming the entity and first bad sequence number if any chain fails. ` +
        'Seals new checkpoints for the chains that verify.',
    )
    .option('--tenant <dir3>', "only this entity's chain (DIR3 code), or 'platform'")
    .option('--no-seal', 'do not seal new checkpoints after verifying')
    .action((o: { tenant?: string; seal: boolean }) =>
      withApp(async (deps) => {
        const results = await verifyAudit(deps, { tenantDir3: o.tenant, seal: o.seal });
        const failed = printVerification(out, results);
        await audited(deps, 'audit.verify', {
          chains: results.length,
          failed: results
            .filter((r) => !r.ok)
            .map((r) => ({ tenantId: r.tenantId, firstBadSeq: r.firstBadSeq ?? null })),
        });
        if (failed > 0)
          throw new CommanderError(EXIT_INTEGRITY, 'lligall.audit.broken', `${failed} audit chains failed`);
      }),
    );
  audit
    .command('checkpoint')
    .description('Seal a checkpoint of every audit chain whose head moved since its last checkpoint')
    .action(() =>
      withApp(async (deps) => {
        const results = await sealCheckpoints(deps);
        printSeals(out, results);
        const refused = results.filter((r) => r.status === 'refused').length;
        if (refused > 0) {
          throw new CommanderError(
            EXIT_INTEGRITY,
            'lligall.audit.unsealed',
            `${refused} chains could not be sealed`,
          );
        }
      }),
    );

  program
    .command('backup')
    .description(
      'Write the database, the blobs and the audit checkpoints to one consistent, verifiable archive (tar.gz). ' +
        'The master key is not in it: keep a copy of LLIGALL_MASTER_KEY_FILE apart.',
    )
    .argument('<file>', 'archive to create (must not exist)')
    .action((file: string) =>
      withApp(async (deps) => {
        // Seal the current heads first, so the archive carries checkpoints of what it holds.
        const seals = await sealCheckpoints(deps);
        for (const s of seals.filter((x) => x.status === 'refused')) {
          out.error(`warning: audit chain ${s.tenantId} could not be sealed: ${s.reason}`);
        }
        const r = await createBackup(
          {
            db: deps.db,
            blobs: deps.blobs,
            clock: deps.clock,
            files: { checkpoints: checkpointsDir(deps.blobs) },
          },
          file,
          { workDir: workDir(deps) },
        );
        out.log(
          `backup written: ${r.file}\n` +
            `  ${r.tables} tables, ${r.rows} rows, ${r.blobs} blobs (${r.blobBytes} bytes), ${r.files} checkpoint files\n` +
            `  ${r.bytes} bytes, sha256 ${r.sha256}`,
        );
        await audited(deps, 'backup.create', {
          file: path.basename(r.file),
          sha256: r.sha256,
          rows: r.rows,
          blobs: r.blobs,
        });
      }),
    );

  program
    .command('restore')
    .description(
      'Restore an archive made by "lligall backup" into an empty installation (a new data directory, or an ' +
        'empty database migrated with "lligall migrate"), verifying every hash before writing; then verify the audit log',
    )
    .argument('<file>', 'archive made by lligall backup')
    .action((file: string) =>
      withApp(async (deps) => {
        const r = await restoreBackup(
          { db: deps.db, blobs: deps.blobs, files: { checkpoints: checkpointsDir(deps.blobs) } },
          file,
          { workDir: workDir(deps) },
        );
        out.log(
          `restored backup of ${r.createdAt} (${r.sourceKind}): ${r.tables} tables, ${r.rows} rows, ` +
            `${r.blobs} blobs (${r.blobBytes} bytes), ${r.files} checkpoint files`,
        );
        if (!fs.existsSync(deps.config.masterKeyFile)) {
          out.error(
            `warning: no master key at ${deps.config.masterKeyFile}. Copy the master key of the installation that ` +
              'made the backup there (LLIGALL_MASTER_KEY_FILE), then run "lligall audit verify".',
          );
          return;
        }
        const results = await verifyAudit(deps);
        const failed = printVerification(out, results);
        await audited(deps, 'backup.restore', {
          file: path.basename(file),
          createdAt: r.createdAt,
          rows: r.rows,
          blobs: r.blobs,
        });
        if (failed > 0) {
          throw new CommanderError(
            EXIT_INTEGRITY,
            'lligall.audit.broken',
            `${failed} audit chains failed after restore`,
          );
        }
      }),
    );
}

function workDir(deps: AppDeps): string {
  return path.join(deps.config.dataDir, 'tmp');
}

/** Owner-level work is audited on the platform chain (ARCHITECTURE data rule 1). */
async function audited(deps: AppDeps, action: string, details: Record<string, unknown>): Promise<void> {
  await deps.db.platform((tx) =>
    recordEvent(tx, {
      tenantId: PLATFORM_TENANT,
      actor: cliActor,
      request: noRequest,
      clock: deps.clock,
      action,
      details,
    }),
  );
}

const label = (r: { tenantId: string; dir3?: string | null }) =>
  r.tenantId === PLATFORM_TENANT ? 'platform' : (r.dir3 ?? 'unknown');

/** One line per chain; returns how many failed. */
export function printVerification(out: Out, results: ChainVerification[]): number {
  let failed = 0;
  for (const r of results) {
    const head = `${label(r).padEnd(9)} ${r.tenantId}  events ${r.events}, checkpoints ${r.checkpoints}`;
    if (r.ok) {
      out.log(`ok    ${head}${r.sealedSeq ? `, sealed ${r.sealedSeq}` : ''}`);
    } else {
      failed++;
      const where = r.firstBadSeq !== undefined ? `first bad seq ${r.firstBadSeq}: ` : '';
      out.log(`FAIL  ${head}: ${where}${r.reason}`);
    }
    for (const w of r.warnings) out.log(`      warning: ${w}`);
  }
  out.log(`${results.length} chains verified, ${failed} failed`);
  if (failed > 0) {
    for (const r of results.filter((x) => !x.ok)) {
      const seq = r.firstBadSeq !== undefined ? ` at seq ${r.firstBadSeq}` : '';
      out.error(`audit chain of ${label(r)} (${r.tenantId}) is broken${seq}`);
    }
  }
  return failed;
}

function printSeals(out: Out, results: SealResult[]): void {
  for (const r of results) {
    out.log(`${r.status.padEnd(9)} ${r.tenantId}  seq ${r.seq}${r.reason ? `: ${r.reason}` : ''}`);
  }
  const n = (s: SealResult['status']) => results.filter((r) => r.status === s).length;
  out.log(`${n('sealed')} sealed, ${n('unchanged')} unchanged, ${n('refused')} refused`);
}
