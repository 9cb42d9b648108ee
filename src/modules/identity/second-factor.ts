import type { Tx } from '#platform/db/database.ts';
import { dummyHash, verifyPassword } from './passwords.ts';
import { checkTotp } from './totp.ts';

/**
 * A fresh confirmation of the user's identity for an act that needs one (a signature, the
 * activation of a remote signing key): the current TOTP code, accepted once (its time step must
 * be newer than the last one used, as at login); or — only where the caller allows it, in demo
 * mode for a user without TOTP — the password.
 */
export type SecondFactorInput = { totp?: string | undefined; password?: string | undefined };

export type SecondFactorResult =
  | { ok: true; method: 'totp' | 'password' }
  | {
      ok: false;
      /** TOTP_REQUIRED: the user has TOTP and sent no code (or only a password). */
      code: 'TOTP_REQUIRED' | 'TOTP_INVALID' | 'INVALID_CREDENTIALS';
    };

/**
 * Checks the second factor of `userId` in the caller's transaction (platform tables: `users`),
 * locking the user's row so that one TOTP code confirms one act. Returns the failure instead of
 * throwing, so that the caller can audit it in a transaction that commits.
 */
export async function checkSecondFactor(
  tx: Tx,
  userId: string,
  input: SecondFactorInput,
  now: Date,
  opts: { allowPassword: boolean },
): Promise<SecondFactorResult> {
  const user = await tx
    .selectFrom('users')
    .select(['id', 'password_hash', 'totp_secret', 'totp_enabled_at', 'totp_last_step', 'disabled'])
    .where('id', '=', userId)
    .forUpdate()
    .executeTakeFirst();
  if (!user || user.disabled) {
    await verifyPassword(await dummyHash(), input.password ?? '');
    return { ok: false, code: 'INVALID_CREDENTIALS' };
  }
  if (user.totp_enabled_at && user.totp_secret) {
    if (!input.totp) return { ok: false, code: 'TOTP_REQUIRED' };
    const step = checkTotp(user.totp_secret, input.totp, now);
    if (step === null || (user.totp_last_step !== null && step <= Number(user.totp_last_step)))
      return { ok: false, code: 'TOTP_INVALID' };
    await tx.updateTable('users').set({ totp_last_step: step }).where('id', '=', user.id).execute();
    return { ok: true, method: 'totp' };
  }
  if (!opts.allowPassword || !input.password) return { ok: false, code: 'TOTP_REQUIRED' };
  if (!(await verifyPassword(user.password_hash, input.password)))
    return { ok: false, code: 'INVALID_CREDENTIALS' };
  return { ok: true, method: 'password' };
}
