import {
  constants,
  createHash,
  createPrivateKey,
  privateEncrypt,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import type { Clock } from '#platform/context.ts';
import {
  certificateFacts,
  exportPkcs8,
  generateSigningKeyPair,
  issueSigningCertificate,
} from '#platform/crypto/certs.ts';
import { deriveKek, unwrapKey, wrapKey } from '#platform/crypto/keywrap.ts';
import type { Database, Tx } from '#platform/db/database.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { newId } from '#platform/ids.ts';
import { loadMasterKey } from '#modules/audit/audit.checkpoint.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { checkSecondFactor } from '#modules/identity/second-factor.ts';
import { ensureInstallationCa, type KeyConfig, PRIVATE_KEY_PURPOSE } from '#modules/seals/seals.service.ts';
import {
  type CredentialInfo,
  OID,
  type RemoteSigningService,
  type SecondFactor,
  type SignatureActivation,
} from './csc.types.ts';

/**
 * Lligall's own CSC v2 signing service, for tests, development and demo mode only (never with
 * LLIGALL_ENV=production: see `assertNotProduction`). Each user gets one RSA-2048 key issued by
 * the installation CA, labelled "(demo — no qualificat)": a key kept by the application is not
 * under the signer's sole control, so these signatures are never qualified (DOMAIN: "Signatures").
 * The private keys are wrapped under the master key like seal keys, bound to their row.
 *
 * `credentials/authorize` needs the user's current TOTP code (or, for a user without TOTP, the
 * password) and issues a SAD that lives SAD_SECONDS, signs once, and only the hashes it was
 * issued for. The SAD is stored by its SHA-256 only.
 */
export type LocalCscDeps = { config: KeyConfig; db: Database; clock: Clock };

export const SAD_SECONDS = 300;
const KEY_YEARS = 2;
/** At most this many hashes per SAD (CSC `multisign`): a batch of documents confirmed once. */
export const MULTISIGN = 100;
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

export const demoKeyBinding = (userId: string, id: string) => `demo-signing-key:${userId}:${id}`;
const sadId = (sad: string) => createHash('sha256').update(sad, 'utf8').digest('hex');
const kek = (config: KeyConfig) => deriveKek(loadMasterKey(config), PRIVATE_KEY_PURPOSE);

export function assertNotProduction(env: string): void {
  if (env === 'production')
    throw new AppError('FORBIDDEN', 'The local CSC signing service does not exist in production');
}

type Meta = { ip: string | null; userAgent: string | null };
type Who = { userId: string; label: string; request: Meta };

function audit(
  tx: Tx,
  deps: LocalCscDeps,
  who: Who,
  action: string,
  id: string,
  details: Record<string, unknown>,
) {
  return recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    actor: { kind: 'user', id: who.userId, label: who.label, platformRoles: [] },
    request: who.request,
    clock: deps.clock,
    action,
    objectType: 'demo_signing_key',
    objectId: id,
    details,
  });
}

/**
 * The user's demo credential, created on first need (idempotent, also with several processes).
 * Opens its own platform transactions (the installation CA too): call it outside any.
 */
export async function ensureDemoCredential(deps: LocalCscDeps, who: Who): Promise<string> {
  assertNotProduction(deps.config.env);
  const find = () =>
    deps.db.platform((tx) =>
      tx.selectFrom('demo_signing_keys').select('id').where('user_id', '=', who.userId).executeTakeFirst(),
    );
  const existing = await find();
  if (existing) return existing.id;
  const user = await deps.db.platform((tx) =>
    tx.selectFrom('users').select(['name', 'username']).where('id', '=', who.userId).executeTakeFirst(),
  );
  if (!user) throw new AppError('USER_NOT_FOUND', 'No such user');
  const ca = await ensureInstallationCa({ ...deps, config: deps.config });
  const now = deps.clock.now();
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + KEY_YEARS);
  const keys = await generateSigningKeyPair();
  const certificatePem = await issueSigningCertificate({
    subject: [
      ['C', 'ES'],
      ['O', 'Lligall'],
      ['OU', 'Signatura de demostració'],
      ['CN', `${user.name || user.username} (demo — no qualificat)`],
    ],
    publicKey: keys.publicKey,
    issuerCertificatePem: ca.certificatePem,
    issuerPrivateKey: ca.privateKey,
    notBefore: now,
    notAfter,
  });
  const id = newId();
  const wrapped = wrapKey(
    kek(deps.config),
    await exportPkcs8(keys.privateKey),
    demoKeyBinding(who.userId, id),
  );
  const facts = certificateFacts(certificatePem);
  await deps.db.platform(async (tx) => {
    const inserted = await tx
      .insertInto('demo_signing_keys')
      .values({
        id,
        user_id: who.userId,
        certificate_pem: certificatePem,
        chain_pem: ca.certificatePem,
        wrapped_key: wrapped,
        valid_from: facts.notBefore,
        valid_to: facts.notAfter,
        created_at: now,
      })
      .onConflict((oc) => oc.column('user_id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted)
      await audit(tx, deps, who, 'csc.credential_create', id, {
        userId: who.userId,
        subject: facts.subject,
        fingerprintSha256: facts.fingerprintSha256,
        qualified: false,
      });
  });
  const row = await find();
  if (!row) throw new AppError('INTERNAL', 'The demo signing key was not stored');
  return row.id;
}

async function credentialRow(tx: Tx, userId: string, credentialId: string) {
  const row = /^[0-9a-f-]{36}$/i.test(credentialId)
    ? await tx
        .selectFrom('demo_signing_keys')
        .selectAll()
        .where('id', '=', credentialId)
        .where('user_id', '=', userId)
        .executeTakeFirst()
    : undefined;
  if (!row)
    throw new AppError(
      'CSC_CREDENTIAL_NOT_FOUND',
      `No credential ${credentialId} of this user`,
      cscError('invalid_request'),
    );
  return row;
}

/** The CSC error name and description, as problem+json extension members (`error`, `error_description`). */
export function cscError(error: string, description?: string): Record<string, unknown> {
  return description ? { error, error_description: description } : { error };
}

export async function listDemoCredentials(tx: Tx, userId: string): Promise<string[]> {
  const rows = await tx.selectFrom('demo_signing_keys').select('id').where('user_id', '=', userId).execute();
  return rows.map((r) => r.id);
}

export async function demoCredentialInfo(
  tx: Tx,
  userId: string,
  credentialId: string,
): Promise<CredentialInfo> {
  const row = await credentialRow(tx, userId, credentialId);
  return {
    certificates: row.certificate_pem + row.chain_pem,
    keyAlgo: [OID.rsaEncryption],
    keyLength: 2048,
    description: 'Clau de demostració de Lligall (no qualificada)',
    authMode: 'explicit',
    multisign: MULTISIGN,
  };
}

function assertHashes(hashes: string[]): void {
  if (hashes.length === 0 || hashes.length > MULTISIGN)
    throw new AppError(
      'VALIDATION_FAILED',
      `hashes must list 1 to ${MULTISIGN} digests`,
      cscError('invalid_request'),
    );
  for (const h of hashes) {
    if (!/^[A-Za-z0-9+/]{43}=$/.test(h) || Buffer.from(h, 'base64').length !== 32)
      throw new AppError(
        'VALIDATION_FAILED',
        'Each hash must be a base64 SHA-256 digest (32 bytes)',
        cscError('invalid_request'),
      );
  }
}

export type AuthorizeOutcome =
  | ({ ok: true } & SignatureActivation)
  | { ok: false; code: 'CSC_OTP_INVALID' | 'CSC_PIN_INVALID'; message: string };

/**
 * CSC `credentials/authorize` (explicit): checks the second factor and issues a SAD for exactly
 * these hashes. A refusal is returned (and audited in this transaction), not thrown, so that the
 * audit commits; the caller turns it into the error.
 */
export async function authorizeDemoCredential(
  tx: Tx,
  deps: LocalCscDeps,
  who: Who,
  input: { credentialId: string; numSignatures: number; hashes: string[]; secondFactor: SecondFactor },
): Promise<AuthorizeOutcome> {
  assertNotProduction(deps.config.env);
  const row = await credentialRow(tx, who.userId, input.credentialId);
  assertHashes(input.hashes);
  const hashes = [...new Set(input.hashes)];
  if (input.numSignatures !== hashes.length)
    throw new AppError(
      'VALIDATION_FAILED',
      'numSignatures must equal the number of distinct hashes',
      cscError('invalid_request'),
    );
  const now = deps.clock.now();
  const check = await checkSecondFactor(
    tx,
    who.userId,
    { totp: input.secondFactor.otp, password: input.secondFactor.pin },
    now,
    { allowPassword: true },
  );
  if (!check.ok) {
    const code = check.code === 'INVALID_CREDENTIALS' ? 'CSC_PIN_INVALID' : 'CSC_OTP_INVALID';
    const message =
      check.code === 'TOTP_REQUIRED'
        ? 'This user confirms with a TOTP code (OTP)'
        : code === 'CSC_PIN_INVALID'
          ? 'The PIN (password) is wrong'
          : 'The OTP (TOTP code) is wrong or was already used';
    await audit(tx, deps, who, 'csc.authorize_refused', row.id, {
      reason: check.code,
      hashes: hashes.length,
    });
    return { ok: false, code, message };
  }
  const sad = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + SAD_SECONDS * 1000);
  await tx
    .insertInto('demo_signing_sads')
    .values({
      id: sadId(sad),
      credential_id: row.id,
      user_id: who.userId,
      hashes,
      num_signatures: hashes.length,
      expires_at: expiresAt,
      used_at: null,
      created_at: now,
    })
    .execute();
  await audit(tx, deps, who, 'csc.authorize', row.id, {
    method: check.method,
    numSignatures: hashes.length,
    hashes,
    expiresAt: expiresAt.toISOString(),
  });
  return { ok: true, sad, expiresIn: SAD_SECONDS };
}

/**
 * CSC `signatures/signHash`, first half in the caller's transaction: consumes the SAD (once, in
 * force, of this credential, covering every hash) and returns the signer to run after commit.
 */
export async function consumeSad(
  tx: Tx,
  deps: LocalCscDeps,
  who: Who,
  input: {
    credentialId: string;
    sad: string;
    hashes: string[];
    signAlgo: string;
    hashAlgo?: string | undefined;
  },
): Promise<() => string[]> {
  assertNotProduction(deps.config.env);
  const row = await credentialRow(tx, who.userId, input.credentialId);
  assertHashes(input.hashes);
  const plainRsa = input.signAlgo === OID.rsaEncryption;
  if (
    !(plainRsa || input.signAlgo === OID.sha256WithRSAEncryption) ||
    (input.hashAlgo && input.hashAlgo !== OID.sha256)
  )
    throw new AppError(
      'CSC_ALGORITHM_UNSUPPORTED',
      `This credential signs SHA-256 hashes with RSA (signAlgo ${OID.sha256WithRSAEncryption}, or ${OID.rsaEncryption} with hashAlgorithmOID ${OID.sha256})`,
      cscError('invalid_request'),
    );
  const sad = await tx
    .selectFrom('demo_signing_sads')
    .selectAll()
    .where('id', '=', sadId(input.sad))
    .forUpdate()
    .executeTakeFirst();
  const invalid = (why: string) => new AppError('CSC_SAD_INVALID', why, cscError('invalid_request', why));
  if (!sad || sad.user_id !== who.userId || sad.credential_id !== row.id)
    throw invalid('Unknown SAD for this credential');
  if (sad.used_at)
    throw new AppError(
      'CSC_SAD_USED',
      'This SAD was used already: authorize again',
      cscError('invalid_request', 'SAD already used'),
    );
  const now = deps.clock.now();
  if (new Date(sad.expires_at) <= now)
    throw new AppError(
      'CSC_SAD_EXPIRED',
      'This SAD has expired: authorize again',
      cscError('invalid_request', 'SAD expired'),
    );
  const allowed = new Set(sad.hashes);
  if (input.hashes.length > sad.num_signatures || input.hashes.some((h) => !allowed.has(h)))
    throw invalid('The SAD was not issued for these hashes');
  await tx.updateTable('demo_signing_sads').set({ used_at: now }).where('id', '=', sad.id).execute();
  await audit(tx, deps, who, 'csc.sign_hash', row.id, { hashes: input.hashes, signAlgo: input.signAlgo });
  const pkcs8 = unwrapKey(kek(deps.config), Buffer.from(row.wrapped_key), demoKeyBinding(who.userId, row.id));
  return () => signDigests(pkcs8, input.hashes);
}

/** RSASSA-PKCS1-v1_5 over a precomputed SHA-256 digest: the DigestInfo, padded and raised with the private key. */
export function signDigests(pkcs8: Buffer, hashes: string[]): string[] {
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  return hashes.map((h) =>
    privateEncrypt(
      { key, padding: constants.RSA_PKCS1_PADDING },
      Buffer.concat([SHA256_DIGEST_INFO, Buffer.from(h, 'base64')]),
    ).toString('base64'),
  );
}

/**
 * The local service behind the same interface as a remote one, in process, for one user (the
 * signing module uses it in demo mode without an HTTP round trip). Each call is its own platform
 * transaction; call it outside any.
 */
export class LocalCscService implements RemoteSigningService {
  readonly #deps: LocalCscDeps;
  readonly #who: Who;
  constructor(deps: LocalCscDeps, who: Who) {
    assertNotProduction(deps.config.env);
    this.#deps = deps;
    this.#who = who;
  }

  async listCredentials(userRef?: string): Promise<string[]> {
    if (userRef !== undefined && userRef !== this.#who.userId) return [];
    await ensureDemoCredential(this.#deps, this.#who);
    return this.#deps.db.platform((tx) => listDemoCredentials(tx, this.#who.userId));
  }

  credentialInfo(credentialId: string): Promise<CredentialInfo> {
    return this.#deps.db.platform((tx) => demoCredentialInfo(tx, this.#who.userId, credentialId));
  }

  async authorize(
    credentialId: string,
    numSignatures: number,
    hashes: string[],
    secondFactor: SecondFactor,
  ): Promise<SignatureActivation> {
    const r = await this.#deps.db.platform((tx) =>
      authorizeDemoCredential(tx, this.#deps, this.#who, {
        credentialId,
        numSignatures,
        hashes,
        secondFactor,
      }),
    );
    if (!r.ok)
      throw new AppError(
        r.code,
        r.message,
        cscError(r.code === 'CSC_PIN_INVALID' ? 'invalid_pin' : 'invalid_otp'),
      );
    return { sad: r.sad, expiresIn: r.expiresIn };
  }

  async signHash(credentialId: string, sad: string, hashes: string[], signAlgo: string): Promise<string[]> {
    const sign = await this.#deps.db.platform((tx) =>
      consumeSad(tx, this.#deps, this.#who, { credentialId, sad, hashes, signAlgo }),
    );
    return sign();
  }
}

/** The leaf certificate of a PEM chain (for verifying signatures in tests and reports). */
export function leafCertificate(chainPem: string): X509Certificate {
  return new X509Certificate(chainPem.slice(0, chainPem.indexOf('-----END CERTIFICATE-----') + 25));
}
