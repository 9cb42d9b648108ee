import { createHash, createPrivateKey, createPublicKey, randomBytes, webcrypto } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import * as pkijs from 'pkijs';

/**
 * Keys and X.509 certificates with Node's webcrypto: RSA-2048 keys (RSASSA-PKCS1-v1_5 with
 * SHA-256, which every verifier including NSS/pdfsig accepts), self-signed CA certificates,
 * end-entity certificates issued by such a CA, PKCS#12 reading, and the public facts of a
 * certificate. No domain words: callers name the subjects.
 */
const crypto = webcrypto;

export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
x509.cryptoProvider.set(crypto);
pkijs.setEngine('node-webcrypto', new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto }));

export const RSA_SHA256: webcrypto.RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};

/** One relative distinguished name per entry, in order; keys are short names (CN, O, C, serialNumber) or OIDs. */
export type DistinguishedName = [string, string][];

const NAME_OIDS: Record<string, string> = {
  CN: '2.5.4.3',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  C: '2.5.4.6',
  L: '2.5.4.7',
  serialNumber: '2.5.4.5',
  organizationIdentifier: '2.5.4.97',
};

function toName(dn: DistinguishedName): x509.JsonName {
  return dn.map(([k, v]) => ({ [NAME_OIDS[k] ?? k]: [v] }));
}

export async function generateSigningKeyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(RSA_SHA256, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

/** A positive, random 128-bit serial number (hex). */
function newSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x40;
  return b.toString('hex');
}

export async function createSelfSignedCa(opts: {
  subject: DistinguishedName;
  keys: CryptoKeyPair;
  notBefore: Date;
  notAfter: Date;
}): Promise<string> {
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerial(),
    name: new x509.Name(toName(opts.subject)),
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    signingAlgorithm: RSA_SHA256,
    keys: opts.keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(opts.keys.publicKey),
    ],
  });
  return cert.toString('pem');
}

/**
 * An end-entity certificate for signing: key usage digitalSignature + nonRepudiation (critical),
 * not a CA, and no extended key usage (`openssl cms -verify` refuses a signer whose EKU lacks
 * emailProtection).
 */
export async function issueSigningCertificate(opts: {
  subject: DistinguishedName;
  publicKey: CryptoKey;
  issuerCertificatePem: string;
  issuerPrivateKey: CryptoKey;
  notBefore: Date;
  notAfter: Date;
}): Promise<string> {
  const issuer = new x509.X509Certificate(opts.issuerCertificatePem);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: newSerial(),
    subject: new x509.Name(toName(opts.subject)),
    issuer: issuer.subjectName,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    signingAlgorithm: RSA_SHA256,
    publicKey: opts.publicKey,
    signingKey: opts.issuerPrivateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(opts.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer),
    ],
  });
  return cert.toString('pem');
}

export async function exportPkcs8(key: CryptoKey): Promise<Buffer> {
  return Buffer.from(await crypto.subtle.exportKey('pkcs8', key));
}

/**
 * A PKCS#8 private key as a webcrypto signing key: RSA keys as RSASSA-PKCS1-v1_5/SHA-256, EC keys
 * (P-256, P-384) as ECDSA.
 */
export async function importSigningKey(pkcs8: Uint8Array): Promise<CryptoKey> {
  const k = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  if (k.asymmetricKeyType === 'rsa') {
    return crypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, [
      'sign',
    ]);
  }
  if (k.asymmetricKeyType === 'ec') {
    const curve = k.asymmetricKeyDetails?.namedCurve;
    const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : null;
    if (namedCurve)
      return crypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve }, true, ['sign']);
  }
  throw new Error(`Unsupported private key type ${k.asymmetricKeyType}`);
}

/** True when the PKCS#8 private key is the one whose public key the certificate carries. */
export function keyMatchesCertificate(pkcs8: Uint8Array, certificatePem: string): boolean {
  const pub = createPublicKey(createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }));
  const spki = pub.export({ format: 'der', type: 'spki' });
  const cert = new x509.X509Certificate(certificatePem);
  return Buffer.from(cert.publicKey.rawData).equals(spki);
}

export type CertificateFacts = {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  fingerprintSha256: string;
  keyUsage: string[];
  isCa: boolean;
};

const KEY_USAGE_NAMES: [number, string][] = [
  [x509.KeyUsageFlags.digitalSignature, 'digitalSignature'],
  [x509.KeyUsageFlags.nonRepudiation, 'nonRepudiation'],
  [x509.KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
  [x509.KeyUsageFlags.dataEncipherment, 'dataEncipherment'],
  [x509.KeyUsageFlags.keyAgreement, 'keyAgreement'],
  [x509.KeyUsageFlags.keyCertSign, 'keyCertSign'],
  [x509.KeyUsageFlags.cRLSign, 'cRLSign'],
];

export function certificateFacts(pem: string): CertificateFacts {
  const cert = new x509.X509Certificate(pem);
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: cert.serialNumber,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    fingerprintSha256: createHash('sha256').update(Buffer.from(cert.rawData)).digest('hex'),
    keyUsage: ku ? KEY_USAGE_NAMES.filter(([f]) => (ku.usages & f) !== 0).map(([, n]) => n) : [],
    isCa: bc?.ca ?? false,
  };
}

/** PEM text → the PEM blocks of its certificates, in order. */
export function splitPemCertificates(pem: string): string[] {
  return (
    pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((s) => `${s}\n`) ?? []
  );
}

function toPem(der: ArrayBuffer): string {
  return new x509.X509Certificate(der).toString('pem');
}

/**
 * Reads a PKCS#12 file (password-based privacy and integrity, as `openssl pkcs12 -export` and
 * certification authorities make them): its one private key (PKCS#8 DER), the certificate that
 * matches it, and the other certificates (the chain).
 */
export async function readPkcs12(
  der: Uint8Array,
  password: string,
): Promise<{ privateKeyPkcs8: Buffer; certificatePem: string; chainPem: string[] }> {
  const pwd = new TextEncoder().encode(password).buffer as ArrayBuffer;
  let pfx: pkijs.PFX;
  try {
    pfx = pkijs.PFX.fromBER(Uint8Array.from(der).buffer);
    await pfx.parseInternalValues({ password: pwd, checkIntegrity: true });
  } catch (e) {
    throw new Pkcs12Error(
      `The PKCS#12 file cannot be read (wrong password or damaged file): ${(e as Error).message}`,
    );
  }
  const safe = pfx.parsedValue?.authenticatedSafe;
  if (!safe) throw new Pkcs12Error('The PKCS#12 file has no content');
  await safe.parseInternalValues({
    safeContents: safe.safeContents.map(() => ({ password: pwd })),
  });
  const keys: Buffer[] = [];
  const certs: string[] = [];
  const bags = (safe.parsedValue?.safeContents ?? []).flatMap(
    (c: { value: pkijs.SafeContents }) => c.value.safeBags,
  );
  for (const bag of bags) {
    if (bag.bagValue instanceof pkijs.PKCS8ShroudedKeyBag) {
      await bag.bagValue.parseInternalValues({ password: pwd });
      const info = bag.bagValue.parsedValue;
      if (info) keys.push(Buffer.from(info.toSchema().toBER(false)));
    } else if (bag.bagValue instanceof pkijs.PrivateKeyInfo) {
      keys.push(Buffer.from(bag.bagValue.toSchema().toBER(false)));
    } else if (bag.bagValue instanceof pkijs.CertBag) {
      const c = bag.bagValue.parsedValue;
      if (c instanceof pkijs.Certificate) certs.push(toPem(c.toSchema(true).toBER(false)));
    }
  }
  if (keys.length !== 1)
    throw new Pkcs12Error(`The PKCS#12 file must hold one private key; it holds ${keys.length}`);
  const key = keys[0]!;
  const own = certs.find((c) => keyMatchesCertificate(key, c));
  if (!own) throw new Pkcs12Error('No certificate in the PKCS#12 file matches its private key');
  return { privateKeyPkcs8: key, certificatePem: own, chainPem: certs.filter((c) => c !== own) };
}

export class Pkcs12Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Pkcs12Error';
  }
}
