import fs from 'node:fs';
import path from 'node:path';
import {
  type AuditDeps,
  checkpointsDir,
  checkSeal,
  listCheckpointChains,
  listCheckpointSeqs,
  loadCheckpoint,
  loadMasterKey,
  sealCheckpoint,
  sealKey,
  writeFileAtomic,
} from '#modules/audit/audit.checkpoint.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import type { Actor, RequestMeta } from '#platform/context.ts';
import { deriveKek, KeyUnwrapError, unwrapKey, wrapKey } from '#platform/crypto/keywrap.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { INTEGRATION_SECRET_PURPOSE, muxSecretBinding } from '#platform/crypto/key-purposes.ts';
import { caKeyBinding, PRIVATE_KEY_PURPOSE, sealKeyBinding } from './seals.service.ts';

export type RotationResult = {
  /** Private keys re-wrapped now / found already under the new key (a resumed rotation). */
  keysRewrapped: number;
  keysAlreadyRotated: number;
  /** Integration secrets (each entity's MUX HS256 key) re-wrapped now / found already under the new key. */
  secretsRewrapped: number;
  secretsAlreadyRotated: number;
  checkpointsResealed: number;
  checkpointsAlreadyRotated: number;
};

/**
 * Rotates the master key (`lligall key rotate --new-key-file F`). Procedure for the operator:
 *
 * 1. Back up the database, the blobs and the current master key file.
 * 2. `lligall key init` with LLIGALL_MASTER_KEY_FILE pointing at a new path makes the new key
 *    (or make 32 random bytes owner-only yourself).
 * 3. `lligall key rotate --new-key-file <new>` with the configuration still naming the old key:
 *    - every audit checkpoint's seal is checked under the old key first; one that does not check
 *      stops the rotation before anything changes (re-sealing must never launder a tampered file);
 *    - in ONE database transaction (as the owner, every tenant), every secret wrapped under the
 *      master key is unwrapped with the old key and wrapped with the new one — the private keys
 *      (the installation CA's and every entity's seals, purpose `private-keys`) and the
 *      integration secrets (every entity's MUX HS256 key, purpose `integration-secrets`) — and
 *      the rotation is audited on the platform chain; a secret that opens under neither key
 *      stops it before anything changes;
 *    - after the commit, every checkpoint is re-sealed with the new key (atomic file writes).
 * 4. Point LLIGALL_MASTER_KEY_FILE at the new file and restart. Keep the old key with the backups
 *    made before the rotation: they still need it.
 *
 * It is safe to run again after an interruption: a key or checkpoint already under the new key is
 * recognised and left alone.
 */
export async function rotateMasterKey(
  deps: AuditDeps,
  newKeyFile: string,
  who: { actor: Actor; request: RequestMeta },
): Promise<RotationResult> {
  const oldMaster = loadMasterKey(deps.config);
  let newMaster: Buffer;
  try {
    newMaster = fs.readFileSync(newKeyFile);
  } catch (e) {
    throw new AppError(
      'VALIDATION_FAILED',
      `Cannot read the new master key file ${newKeyFile}: ${(e as Error).message}`,
    );
  }
  if (newMaster.length < 32)
    throw new AppError('VALIDATION_FAILED', `${newKeyFile} holds fewer than 32 bytes`);
  if (newMaster.equals(oldMaster))
    throw new AppError('VALIDATION_FAILED', 'The new master key is the current one');
  if (path.resolve(newKeyFile) === path.resolve(deps.config.masterKeyFile)) {
    throw new AppError('VALIDATION_FAILED', 'The new key file must not be the current one');
  }

  // 1. Checkpoints: every one must check under the old key or (resumed rotation) the new one.
  const oldSeal = sealKey(oldMaster);
  const newSeal = sealKey(newMaster);
  const toReseal: { file: string; tenantId: string; seq: number }[] = [];
  let checkpointsAlreadyRotated = 0;
  for (const tenantId of await listCheckpointChains(deps.blobs)) {
    for (const seq of (await listCheckpointSeqs(deps.blobs, tenantId)) ?? []) {
      const underOld = await loadCheckpoint(deps.blobs, oldSeal, tenantId, seq, { checkHashes: false });
      if (underOld.ok) {
        toReseal.push({
          file: path.join(checkpointsDir(deps.blobs), tenantId, `${String(seq).padStart(20, '0')}.json`),
          tenantId,
          seq,
        });
        continue;
      }
      const underNew = await loadCheckpoint(deps.blobs, newSeal, tenantId, seq, { checkHashes: false });
      if (!underNew.ok) {
        throw new AppError(
          'CONFLICT',
          `Rotation stopped before any change: checkpoint ${underOld.file}: ${underOld.reason}`,
        );
      }
      checkpointsAlreadyRotated++;
    }
  }

  // 2. Everything wrapped under the master key, in one transaction. Each purpose has its own KEK
  // (HKDF info), so each is re-wrapped under the new master key's KEK for the same purpose.
  const keks = (purpose: string) => ({
    old: deriveKek(oldMaster, purpose),
    new: deriveKek(newMaster, purpose),
  });
  const privateKeys = keks(PRIVATE_KEY_PURPOSE);
  const integrationSecrets = keks(INTEGRATION_SECRET_PURPOSE);
  const rewrapWith =
    (k: { old: Buffer; new: Buffer }) =>
    (blob: Buffer, binding: string): Buffer | null => {
      try {
        return wrapKey(k.new, unwrapKey(k.old, blob, binding), binding);
      } catch (e) {
        if (!(e instanceof KeyUnwrapError)) throw e;
        unwrapKey(k.new, blob, binding); // throws when it opens under neither key
        return null;
      }
    };
  const rewrap = rewrapWith(privateKeys);
  const rewrapSecret = rewrapWith(integrationSecrets);
  const counts = await deps.db.owner(async (tx) => {
    let keysRewrapped = 0;
    let keysAlreadyRotated = 0;
    const cas = await tx
      .selectFrom('installation_ca')
      .select(['slot', 'id', 'wrapped_key'])
      .forUpdate()
      .execute();
    for (const ca of cas) {
      const w = rewrap(Buffer.from(ca.wrapped_key), caKeyBinding(ca.id));
      if (!w) keysAlreadyRotated++;
      else {
        await tx.updateTable('installation_ca').set({ wrapped_key: w }).where('slot', '=', ca.slot).execute();
        keysRewrapped++;
      }
    }
    const seals = await tx
      .selectFrom('seals')
      .select(['tenant_id', 'id', 'wrapped_key'])
      .forUpdate()
      .execute();
    for (const s of seals) {
      const w = rewrap(Buffer.from(s.wrapped_key), sealKeyBinding(s.tenant_id, s.id));
      if (!w) keysAlreadyRotated++;
      else {
        await tx
          .updateTable('seals')
          .set({ wrapped_key: w })
          .where('tenant_id', '=', s.tenant_id)
          .where('id', '=', s.id)
          .execute();
        keysRewrapped++;
      }
    }
    let secretsRewrapped = 0;
    let secretsAlreadyRotated = 0;
    const mux = await tx
      .selectFrom('mux_credentials')
      .select(['tenant_id', 'wrapped_secret'])
      .forUpdate()
      .execute();
    for (const m of mux) {
      const w = rewrapSecret(Buffer.from(m.wrapped_secret), muxSecretBinding(m.tenant_id));
      if (!w) secretsAlreadyRotated++;
      else {
        // Only the wrapping changes: configured_by/at still say who agreed the secret with the AOC.
        await tx
          .updateTable('mux_credentials')
          .set({ wrapped_secret: w })
          .where('tenant_id', '=', m.tenant_id)
          .execute();
        secretsRewrapped++;
      }
    }
    await recordEvent(tx, {
      tenantId: PLATFORM_TENANT,
      actor: who.actor,
      request: who.request,
      clock: deps.clock,
      action: 'master_key.rotate',
      details: {
        keysRewrapped,
        keysAlreadyRotated,
        secretsRewrapped,
        secretsAlreadyRotated,
        checkpoints: toReseal.length + checkpointsAlreadyRotated,
      },
    });
    return { keysRewrapped, keysAlreadyRotated, secretsRewrapped, secretsAlreadyRotated };
  });

  // 3. Checkpoints, after the commit (each write is atomic; a rerun finishes an interrupted one).
  for (const c of toReseal) {
    const loaded = await loadCheckpoint(deps.blobs, oldSeal, c.tenantId, c.seq, { checkHashes: false });
    if (!loaded.ok)
      throw new AppError(
        'CONFLICT',
        `Checkpoint ${loaded.file} changed during the rotation: ${loaded.reason}`,
      );
    const { hashesPath: _h, seal: _s, ...body } = loaded.checkpoint;
    const sealed = sealCheckpoint(newSeal, body);
    if (!checkSeal(newSeal, sealed)) throw new AppError('INTERNAL', 'Re-sealing a checkpoint failed');
    await writeFileAtomic(c.file, `${JSON.stringify(sealed, null, 2)}\n`);
  }
  return { ...counts, checkpointsResealed: toReseal.length, checkpointsAlreadyRotated };
}
