import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { sql } from 'kysely';
import type { Actor, Clock, Ctx, RequestMeta } from '#platform/context.ts';
import {
  type CryptoKey,
  certificateFacts,
  createSelfSignedCa,
  exportPkcs8,
  generateSigningKeyPair,
  importSigningKey,
  issueSigningCertificate,
  Pkcs12Error,
  readPkcs12,
} from '#platform/crypto/certs.ts';
import { deriveKek, unwrapKey, wrapKey } from '#platform/crypto/keywrap.ts';
import type { Database, Tx } from '#platform/db/database.ts';
import { PLATFORM_TENANT, type SealSource } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { newId } from '#platform/ids.ts';
import { loadMasterKey } from '#modules/audit/audit.checkpoint.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';

/** Where the master key is (AppDeps.config has it). */
export type KeyConfig = { env: string; masterKeyFile: string };
export type SealDeps = { config: KeyConfig; db: Database; clock: Clock };

/** HKDF purpose of the key that wraps every stored private key (seals and the installation CA). */
export const PRIVATE_KEY_PURPOSE = 'private-keys';
export const CA_COMMON_NAME = 'Lligall installation CA (demo — not qualified)';
const CA_YEARS = 10;
const SEAL_YEARS = 2;

/** Associated data binding a wrapped key to its row (a blob copied to another row does not open). */
export const caKeyBinding = (id: string) => `installation-ca:${id}`;
export const sealKeyBinding = (tenantId: string, id: string) => `seal:${tenantId}:${id}`;

/**
 * The wrapping key of the master key file as it is now. Every receipt's seal asks for it: reading
 * the file and deriving the key cost more than checking the file's identity (one stat), so the
 * derived key is kept while the file is the same (same inode, size and modification time).
 */
let kekCache: { file: string; stamp: string; kek: Buffer } | null = null;

function kek(config: KeyConfig): Buffer {
  const st = fs.statSync(config.masterKeyFile, { throwIfNoEntry: false });
  const stamp = st ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}` : '';
  if (st && kekCache?.file === config.masterKeyFile && kekCache.stamp === stamp) return kekCache.kek;
  const derived = deriveKek(loadMasterKey(config), PRIVATE_KEY_PURPOSE);
  // A file loadMasterKey has just created is stamped on the next call.
  if (st) kekCache = { file: config.masterKeyFile, stamp, kek: derived };
  return derived;
}

function addYears(d: Date, years: number): Date {
  const r = new Date(d);
  r.setUTCFullYear(r.getUTCFullYear() + years);
  return r;
}

// ---------------------------------------------------------------- installation CA

export type InstallationCa = { id: string; certificatePem: string; privateKey: CryptoKey };

/** The installation CA's certificate, or null when none was created (always null in production). */
export async function getInstallationCaPem(db: Database): Promise<string | null> {
  const row = await db.platform((tx) =>
    tx.selectFrom('installation_ca').select('certificate_pem').executeTakeFirst(),
  );
  return row?.certificate_pem ?? null;
}

/**
 * The demo/development certification authority that issues demo seals, created on first need
 * (RSA-2048, self-signed, 10 years). Refused in production: there the operator imports each
 * entity's real seal. Opens its own platform transactions: call it outside any transaction.
 */
export async function ensureInstallationCa(deps: SealDeps): Promise<InstallationCa> {
  const read = () =>
    deps.db.platform((tx) => tx.selectFrom('installation_ca').selectAll().executeTakeFirst());
  let row = await read();
  if (!row) {
    if (deps.config.env === 'production') {
      throw new AppError(
        'FORBIDDEN',
        'There is no installation CA in production: import each entity\'s seal with "lligall seal import"',
      );
    }
    const now = deps.clock.now();
    const keys = await generateSigningKeyPair();
    const certificatePem = await createSelfSignedCa({
      subject: [
        ['C', 'ES'],
        ['O', 'Lligall'],
        ['CN', CA_COMMON_NAME],
      ],
      keys,
      notBefore: now,
      notAfter: addYears(now, CA_YEARS),
    });
    const id = newId();
    const wrapped = wrapKey(kek(deps.config), await exportPkcs8(keys.privateKey), caKeyBinding(id));
    const facts = certificateFacts(certificatePem);
    await deps.db.platform(async (tx) => {
      const inserted = await tx
        .insertInto('installation_ca')
        .values({
          slot: 1,
          id,
          certificate_pem: certificatePem,
          wrapped_key: wrapped,
          valid_from: facts.notBefore,
          valid_to: facts.notAfter,
          created_at: now,
        })
        .onConflict((oc) => oc.column('slot').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (inserted) {
        await recordEvent(tx, {
          tenantId: PLATFORM_TENANT,
          actor: { kind: 'system', id: null, label: 'system', platformRoles: [] },
          request: { ip: null, userAgent: null },
          clock: deps.clock,
          action: 'installation_ca.create',
          objectType: 'installation_ca',
          objectId: id,
          details: { subject: facts.subject, fingerprintSha256: facts.fingerprintSha256 },
        });
      }
    });
    row = await read(); // another process may have created it meanwhile: use theirs
    if (!row) throw new AppError('INTERNAL', 'The installation CA was not stored');
  }
  const pkcs8 = unwrapKey(kek(deps.config), Buffer.from(row.wrapped_key), caKeyBinding(row.id));
  return { id: row.id, certificatePem: row.certificate_pem, privateKey: await importSigningKey(pkcs8) };
}

// ---------------------------------------------------------------- entity seals

export type ActiveSeal = {
  id: string;
  certificatePem: string;
  /** The issuers' certificates (PEM), leaf's issuer first. */
  chainPem: string;
  privateKey: CryptoKey;
  qualified: boolean;
  source: SealSource;
  /** The certificate's validity: a seal is used only within it. */
  validFrom: Date;
  validTo: Date;
};

/**
 * The entity's active seal with its private key unwrapped, for signing in the caller's
 * transaction. NOT_FOUND when the entity has none; CONFLICT when it is outside its validity.
 */
export async function getActiveSeal(tx: Tx, ctx: Ctx, config: KeyConfig): Promise<ActiveSeal> {
  const row = await tx
    .selectFrom('seals')
    .selectAll()
    .where('tenant_id', '=', ctx.tenant.id)
    .where('active', '=', true)
    .executeTakeFirst();
  if (!row) throw new AppError('NOT_FOUND', `The entity ${ctx.tenant.dir3} has no active seal`);
  const now = ctx.clock.now();
  if (now < new Date(row.valid_from) || now > new Date(row.valid_to)) {
    throw new AppError(
      'CONFLICT',
      `The active seal of ${ctx.tenant.dir3} is valid from ${new Date(row.valid_from).toISOString()} to ${new Date(row.valid_to).toISOString()}`,
    );
  }
  return {
    id: row.id,
    certificatePem: row.certificate_pem,
    chainPem: row.chain_pem,
    privateKey: await sealKey(config, row.tenant_id, row.id, Buffer.from(row.wrapped_key)),
    qualified: row.qualified,
    source: row.source,
    validFrom: new Date(row.valid_from),
    validTo: new Date(row.valid_to),
  };
}

/**
 * Unwrapped seal keys of this process, by wrapping key (its hash), seal and wrapped bytes: a seal
 * signs every receipt of its entity, and unwrapping and importing an RSA key costs a millisecond
 * or more each time. A rewrapped key or another master key misses the cache and is unwrapped
 * (and checked) again.
 */
const sealKeys = new Map<string, Promise<CryptoKey>>();

function sealKey(config: KeyConfig, tenantId: string, sealId: string, wrapped: Buffer): Promise<CryptoKey> {
  const binding = sealKeyBinding(tenantId, sealId);
  const wrappingKey = kek(config);
  const kekId = createHash('sha256').update(wrappingKey).digest('base64');
  const cacheKey = `${kekId}\n${binding}\n${wrapped.toString('base64')}`;
  let key = sealKeys.get(cacheKey);
  if (!key) {
    key = importSigningKey(unwrapKey(wrappingKey, wrapped, binding));
    if (sealKeys.size > 1000) sealKeys.clear();
    sealKeys.set(cacheKey, key);
    key.catch(() => sealKeys.delete(cacheKey));
  }
  return key;
}

type InsertSeal = {
  tenantId: string;
  id: string;
  label: string;
  certificatePem: string;
  chainPem: string;
  pkcs8: Buffer;
  source: SealSource;
  qualified: boolean;
  now: Date;
};

async function insertSeal(tx: Tx, config: KeyConfig, s: InsertSeal) {
  const facts = certificateFacts(s.certificatePem);
  return tx
    .insertInto('seals')
    .values({
      tenant_id: s.tenantId,
      id: s.id,
      label: s.label,
      certificate_pem: s.certificatePem,
      chain_pem: s.chainPem,
      wrapped_key: wrapKey(kek(config), s.pkcs8, sealKeyBinding(s.tenantId, s.id)),
      source: s.source,
      qualified: s.qualified,
      fingerprint_sha256: facts.fingerprintSha256,
      valid_from: facts.notBefore,
      valid_to: facts.notAfter,
      active: true,
      created_at: s.now,
      deactivated_at: null,
    })
    .onConflict((oc) => oc.column('tenant_id').where(sql<boolean>`active`).doNothing())
    .returning('id')
    .executeTakeFirst()
    .then((r) => (r ? facts : null));
}

/**
 * Gives the entity a demo seal issued by the installation CA when it has no active seal
 * (idempotent, also with several processes). Subject: C = ES, O = the entity's name,
 * serialNumber = its DIR3, CN = "Segell d'òrgan de <name> (demo — no qualificat)"; 2 years.
 * Opens its own transactions: call it outside any. Returns whether a seal was created.
 */
export async function ensureEntitySeal(deps: SealDeps, tenantId: string): Promise<{ created: boolean }> {
  const hasActive = () =>
    deps.db.tenant(tenantId, (tx) =>
      tx
        .selectFrom('seals')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('active', '=', true)
        .executeTakeFirst(),
    );
  if (await hasActive()) return { created: false };
  const ca = await ensureInstallationCa(deps);
  const tenant = await deps.db.platform((tx) =>
    tx.selectFrom('tenants').select(['name', 'dir3']).where('id', '=', tenantId).executeTakeFirstOrThrow(),
  );
  const now = deps.clock.now();
  const keys = await generateSigningKeyPair();
  const certificatePem = await issueSigningCertificate({
    subject: [
      ['C', 'ES'],
      ['O', tenant.name],
      ['serialNumber', tenant.dir3],
      ['CN', `Segell d'òrgan de ${tenant.name} (demo — no qualificat)`],
    ],
    publicKey: keys.publicKey,
    issuerCertificatePem: ca.certificatePem,
    issuerPrivateKey: ca.privateKey,
    notBefore: now,
    notAfter: addYears(now, SEAL_YEARS),
  });
  const id = newId();
  const pkcs8 = await exportPkcs8(keys.privateKey);
  return deps.db.tenant(tenantId, async (tx) => {
    const facts = await insertSeal(tx, deps.config, {
      tenantId,
      id,
      label: 'Segell de demostració (no qualificat)',
      certificatePem,
      chainPem: ca.certificatePem,
      pkcs8,
      source: 'installation_ca',
      qualified: false,
      now,
    });
    if (!facts) return { created: false }; // another process gave it one meanwhile
    await recordEvent(tx, {
      tenantId,
      actor: { kind: 'system', id: null, label: 'system', platformRoles: [] },
      request: { ip: null, userAgent: null },
      clock: deps.clock,
      action: 'seal.create',
      objectType: 'seal',
      objectId: id,
      details: {
        source: 'installation_ca',
        qualified: false,
        subject: facts.subject,
        fingerprintSha256: facts.fingerprintSha256,
      },
    });
    return { created: true };
  });
}

export type ImportSealInput = {
  p12: Uint8Array;
  password: string;
  /** Only the operator's word makes a seal qualified (a T-CAT or other qualified seal certificate). */
  qualified: boolean;
  label?: string;
};

/**
 * Installs a seal from a PKCS#12 file (key and certificate, with its chain) as the entity's active
 * seal, deactivating the previous one; audited. The certificate must be in force, not a CA, and
 * allow digitalSignature or nonRepudiation.
 */
export async function importSeal(
  tx: Tx,
  ctx: Ctx,
  config: KeyConfig,
  input: ImportSealInput,
): Promise<{ id: string; fingerprintSha256: string; subject: string; previous: string[] }> {
  let p12: Awaited<ReturnType<typeof readPkcs12>>;
  try {
    p12 = await readPkcs12(input.p12, input.password);
  } catch (e) {
    if (e instanceof Pkcs12Error) throw new AppError('VALIDATION_FAILED', e.message);
    throw e;
  }
  const facts = certificateFacts(p12.certificatePem);
  const now = ctx.clock.now();
  if (facts.isCa) throw new AppError('VALIDATION_FAILED', 'The certificate is a CA certificate, not a seal');
  if (now < facts.notBefore || now > facts.notAfter) {
    throw new AppError(
      'VALIDATION_FAILED',
      `The certificate is valid from ${facts.notBefore.toISOString()} to ${facts.notAfter.toISOString()}, not now`,
    );
  }
  if (
    facts.keyUsage.length &&
    !facts.keyUsage.some((u) => u === 'digitalSignature' || u === 'nonRepudiation')
  ) {
    throw new AppError(
      'VALIDATION_FAILED',
      `The certificate's key usage (${facts.keyUsage.join(', ')}) does not allow signing`,
    );
  }
  const previous = await tx
    .updateTable('seals')
    .set({ active: false, deactivated_at: now })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('active', '=', true)
    .returning('id')
    .execute();
  const id = newId();
  let stored: Awaited<ReturnType<typeof insertSeal>>;
  try {
    stored = await insertSeal(tx, config, {
      tenantId: ctx.tenant.id,
      id,
      label: input.label ?? (input.qualified ? 'Segell d’òrgan' : 'Segell d’òrgan (no qualificat)'),
      certificatePem: p12.certificatePem,
      chainPem: p12.chainPem.join(''),
      pkcs8: p12.privateKeyPkcs8,
      source: 'pkcs12',
      qualified: input.qualified,
      now,
    });
  } catch (e) {
    if ((e as { code?: string }).code === '23505') {
      throw new AppError('CONFLICT', `This certificate (${facts.fingerprintSha256}) was installed already`);
    }
    throw e;
  }
  if (!stored) throw new AppError('CONFLICT', 'Another seal was installed meanwhile; try again');
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'seal.import',
    objectType: 'seal',
    objectId: id,
    details: {
      source: 'pkcs12',
      qualified: input.qualified,
      subject: facts.subject,
      issuer: facts.issuer,
      fingerprintSha256: facts.fingerprintSha256,
      deactivated: previous.map((p) => p.id),
    },
  });
  return {
    id,
    fingerprintSha256: facts.fingerprintSha256,
    subject: facts.subject,
    previous: previous.map((p) => p.id),
  };
}

/** A seal's public facts (what the seu publishes): never any private material. */
export type SealView = {
  id: string;
  label: string;
  subject: string;
  issuer: string;
  serialNumber: string;
  fingerprintSha256: string;
  validFrom: string;
  validTo: string;
  qualified: boolean;
  active: boolean;
  source: SealSource;
  createdAt: string;
  deactivatedAt: string | null;
  certificatePem: string;
};

export async function listSeals(tx: Tx, ctx: Ctx): Promise<SealView[]> {
  const rows = await tx
    .selectFrom('seals')
    .select([
      'id',
      'label',
      'certificate_pem',
      'source',
      'qualified',
      'active',
      'fingerprint_sha256',
      'valid_from',
      'valid_to',
      'created_at',
      'deactivated_at',
    ])
    .where('tenant_id', '=', ctx.tenant.id)
    .orderBy('active', 'desc')
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map((r) => {
    const f = certificateFacts(r.certificate_pem);
    return {
      id: r.id,
      label: r.label,
      subject: f.subject,
      issuer: f.issuer,
      serialNumber: f.serialNumber,
      fingerprintSha256: r.fingerprint_sha256,
      validFrom: new Date(r.valid_from).toISOString(),
      validTo: new Date(r.valid_to).toISOString(),
      qualified: r.qualified,
      active: r.active,
      source: r.source,
      createdAt: new Date(r.created_at).toISOString(),
      deactivatedAt: r.deactivated_at ? new Date(r.deactivated_at).toISOString() : null,
      certificatePem: r.certificate_pem,
    };
  });
}

/** For the CLI: what the service functions need as ctx, for an operator acting on one entity. */
export function operatorCtx(tenant: Ctx['tenant'], actor: Actor, request: RequestMeta, clock: Clock): Ctx {
  return { tenant, actor, roles: [], request, clock };
}
