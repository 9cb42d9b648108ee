import type { Tx } from '#platform/db/database.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import type { PlatformCtx } from './identity.service.ts';

const NIF_RE = /^[0-9XYZ][0-9]{7}[A-Z]$|^[KLM][0-9]{7}[A-Z]$/;
/** The mod-23 table of the NIF check letter (RD 1553/2005 art. 11). */
const NIF_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

/**
 * A person's NIF or NIE as stored on a user: upper case, without spaces, dots or hyphens, check
 * letter verified (K/L/M NIFs, which have no fixed number rule, only by shape). Throws
 * VALIDATION_FAILED otherwise.
 */
export function normaliseNif(raw: string): string {
  const v = raw.toUpperCase().replace(/[\s.-]/g, '');
  if (!NIF_RE.test(v))
    throw new AppError(
      'VALIDATION_FAILED',
      'A NIF is 8 digits and a letter; a NIE X, Y or Z, 7 digits and a letter',
    );
  if (/^[KLM]/.test(v)) return v;
  const digits = `${'XYZ'.indexOf(v[0]!) >= 0 ? 'XYZ'.indexOf(v[0]!) : v[0]}${v.slice(1, 8)}`;
  if (NIF_LETTERS[Number(digits) % 23] !== v[8])
    throw new AppError('VALIDATION_FAILED', 'The NIF check letter is wrong');
  return v;
}

/**
 * Records (or, with null, clears) a user's NIF: what a certificate must carry for a signature
 * uploaded by that user to count as theirs (src/modules/signatures/circuits.upload.ts). Set by
 * the operator, never by the user (a user who could set another person's NIF could pass that
 * person's signature off as their own act); audited on the platform chain.
 */
export async function setUserNif(
  tx: Tx,
  ctx: PlatformCtx,
  username: string,
  nif: string | null,
): Promise<{ id: string; nif: string | null }> {
  const value = nif === null ? null : normaliseNif(nif);
  const user = await tx
    .selectFrom('users')
    .select(['id', 'nif'])
    .where('username', '=', username)
    .executeTakeFirst();
  if (!user) throw new AppError('USER_NOT_FOUND', `No user ${username}`);
  if (value) {
    const other = await tx
      .selectFrom('users')
      .select('username')
      .where('nif', '=', value)
      .where('id', '!=', user.id)
      .executeTakeFirst();
    if (other) throw new AppError('CONFLICT', 'Another user has that NIF');
  }
  await tx.updateTable('users').set({ nif: value }).where('id', '=', user.id).execute();
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    ...ctx,
    action: 'user.set_nif',
    objectType: 'user',
    objectId: user.id,
    details: { username, nif: value, previous: user.nif },
  });
  return { id: user.id, nif: value };
}
