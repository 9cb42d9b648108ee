import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Private keys at rest: AES-256-GCM under a key-encryption key (KEK) derived with HKDF-SHA256 from
 * the master key (which lives in a file named by the configuration, never in the database). The
 * master key is never used directly: each purpose has its own HKDF `info`, so a key derived for
 * one use cannot open another's data.
 *
 * A wrapped blob is `version (1 byte) ‖ nonce (12 bytes) ‖ ciphertext ‖ GCM tag (16 bytes)`. The
 * caller may bind a blob to its row with associated data (e.g. the row's id): the same blob moved
 * to another row then fails to unwrap. Unwrapping a modified blob, or with another master key,
 * throws {@link KeyUnwrapError}; it never returns garbage.
 *
 * Rotation of the master key (`lligall key rotate`):
 * 1. Back up the database and the current master key file.
 * 2. Create the new master key file beside the old one (32 random bytes, owner-only).
 * 3. In one transaction, unwrap every stored private key with the old KEK and wrap it again with
 *    the new KEK (same associated data), so either every key moves or none does.
 * 4. Point LLIGALL_MASTER_KEY_FILE at the new file (or move it into place) and restart; keep the
 *    old file with the backups until they expire, since those backups still need it.
 */
export const WRAP_VERSION = 1;
const NONCE = 12;
const TAG = 16;

export class KeyUnwrapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyUnwrapError';
  }
}

/** The 32-byte KEK for one purpose (HKDF-SHA256, no salt; `info` = "lligall/key-wrap/<purpose>/v1"). */
export function deriveKek(masterKey: Buffer, purpose: string): Buffer {
  if (masterKey.length < 32) throw new Error('The master key must hold at least 32 bytes');
  if (!/^[a-z0-9-]+$/.test(purpose)) throw new Error(`Bad key-wrap purpose ${purpose}`);
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `lligall/key-wrap/${purpose}/v1`, 32));
}

/** Encrypts `plaintext` (e.g. a PKCS#8 private key) under `kek`. */
export function wrapKey(kek: Buffer, plaintext: Uint8Array, associatedData: string = ''): Buffer {
  if (kek.length !== 32) throw new Error('The key-encryption key must be 32 bytes');
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', kek, nonce, { authTagLength: TAG });
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.of(WRAP_VERSION), nonce, body, cipher.getAuthTag()]);
}

/** Decrypts a blob made by {@link wrapKey}; throws KeyUnwrapError on any mismatch. */
export function unwrapKey(kek: Buffer, blob: Uint8Array, associatedData: string = ''): Buffer {
  const b = Buffer.from(blob);
  if (b.length < 1 + NONCE + TAG + 1) throw new KeyUnwrapError('The wrapped key is truncated');
  if (b[0] !== WRAP_VERSION) throw new KeyUnwrapError(`Unknown wrapped-key version ${b[0]}`);
  const nonce = b.subarray(1, 1 + NONCE);
  const tag = b.subarray(b.length - TAG);
  const body = b.subarray(1 + NONCE, b.length - TAG);
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, nonce, { authTagLength: TAG });
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new KeyUnwrapError(
      'The wrapped key does not open: it was changed, or it was wrapped under another master key',
    );
  }
}
