import {
  constants,
  createHash,
  createPublicKey,
  KeyObject,
  privateEncrypt,
  verify as rawVerify,
} from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { type CryptoKey, splitPemCertificates } from '#platform/crypto/certs.ts';
import { pemToDer } from './cades.ts';
import { withCertificates } from './cms-der.ts';

/**
 * Signing without the private key in the process. A signature is made in three steps:
 *
 * 1. `prepareCadesSignedAttributes(digest, certificate)` builds the CAdES-B-B signed attributes
 *    (content-type, message-digest, ESS signing-certificate-v2; no signing-time, which PAdES
 *    forbids) and returns their DER encoding as a SET — the bytes the signature value covers.
 * 2. Whoever holds the key signs SHA-256 of those bytes: a remote signing service (the Cloud
 *    Signature Consortium API's `signatures/signHash` takes exactly that hash), a smart card, or
 *    `localSigner` below.
 * 3. `assemble(signatureValue, chain)` checks the value against the certificate's public key and
 *    returns the detached CMS ContentInfo (DER).
 *
 * RSASSA-PKCS1-v1_5 with SHA-256 only (what the CSC services and NSS/pdfsig/openssl all accept).
 */

/** Who signs: the certificate and chain to embed, and a function that signs a SHA-256 digest. */
export type Signer = {
  /** The signer's certificate (PEM). */
  certificatePem: string;
  /** The issuers' certificates (PEM, concatenated), embedded so verifiers can build the chain. */
  chainPem: string;
  /**
   * Returns the RSASSA-PKCS1-v1_5 signature value over a SHA-256 digest (32 bytes): the
   * DigestInfo is made and padded by the signer, as CSC `signHash` with
   * `signAlgo` 1.2.840.113549.1.1.11 (sha256WithRSAEncryption) does.
   */
  signDigest(sha256Digest: Buffer): Promise<Buffer>;
};

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  rsaEncryption: '1.2.840.113549.1.1.1',
} as const;

/** DER prefix of a DigestInfo for SHA-256 (RFC 8017 §9.2 note 1). */
const SHA256_DIGEST_INFO_PREFIX = Buffer.from('3031300d060960864801650304020105000420', 'hex');

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

type ParsedCertificate = { cert: pkijs.Certificate; der: Buffer; publicKey: KeyObject };
const parsed = new Map<string, ParsedCertificate>();

function publicKeyOf(der: Buffer): KeyObject {
  // Node reads an X.509 certificate's public key from its PEM.
  return createPublicKey(
    `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`,
  );
}

function certificateOf(pem: string): ParsedCertificate {
  let p = parsed.get(pem);
  if (!p) {
    const der = pemToDer(pem);
    const cert = pkijs.Certificate.fromBER(toArrayBuffer(der));
    const publicKey = publicKeyOf(der);
    if (publicKey.asymmetricKeyType !== 'rsa')
      throw new Error(`Only RSA signing certificates are supported (got ${publicKey.asymmetricKeyType})`);
    p = { cert, der, publicKey };
    if (parsed.size > 1000) parsed.clear();
    parsed.set(pem, p);
  }
  return p;
}

/** ESS SigningCertificateV2 (RFC 5035): the signer's certificate by its SHA-256 and issuer/serial. */
function signingCertificateV2(cert: pkijs.Certificate, der: Buffer): asn1js.Sequence {
  const certHash = createHash('sha256').update(der).digest();
  const issuerSerial = new asn1js.Sequence({
    value: [
      new pkijs.GeneralNames({ names: [new pkijs.GeneralName({ type: 4, value: cert.issuer })] }).toSchema(),
      cert.serialNumber,
    ],
  });
  // hashAlgorithm is omitted: its DEFAULT is id-sha256.
  const essCertIdV2 = new asn1js.Sequence({
    value: [new asn1js.OctetString({ valueHex: toArrayBuffer(certHash) }), issuerSerial],
  });
  return new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertIdV2] })] });
}

export type PreparedCades = {
  /** DER of the signed attributes as a SET (tag 0x31): the signature value covers SHA-256 of these bytes. */
  toBeSigned: Buffer;
  /** SHA-256 of `toBeSigned`: what `Signer.signDigest` and CSC `signHash` take. */
  toBeSignedDigest: Buffer;
  /**
   * The detached CMS ContentInfo (DER) with this signature value. Throws when the value does not
   * verify with the certificate's public key (a remote service that signed something else).
   */
  assemble(signatureValue: Buffer, chainPem: string): Buffer;
};

/**
 * Options of a CAdES signature. `signingTime`: the claimed time as a signing-time attribute —
 * required by a standalone CAdES-B-B (ETSI EN 319 122-1 §5.2.1), forbidden inside PAdES (the
 * PDF's /M carries it), so only detached `.p7s` signatures pass it.
 */
export type CadesOptions = { signingTime?: Date };

/** Step 1: the signed attributes for content whose SHA-256 is `contentDigest`. */
export function prepareCadesSignedAttributes(
  contentDigest: Buffer,
  certificatePem: string,
  opts: CadesOptions = {},
): PreparedCades {
  if (contentDigest.length !== 32) throw new Error('contentDigest must be a SHA-256 digest (32 bytes)');
  const { cert, der, publicKey } = certificateOf(certificatePem);
  const signedAttrs = new pkijs.SignedAndUnsignedAttributes({
    type: 0,
    attributes: [
      new pkijs.Attribute({
        type: OID.contentType,
        values: [new asn1js.ObjectIdentifier({ value: OID.data })],
      }),
      new pkijs.Attribute({
        type: OID.messageDigest,
        values: [new asn1js.OctetString({ valueHex: toArrayBuffer(contentDigest) })],
      }),
      ...(opts.signingTime
        ? [
            new pkijs.Attribute({
              type: OID.signingTime,
              values: [new asn1js.UTCTime({ valueDate: opts.signingTime })],
            }),
          ]
        : []),
      new pkijs.Attribute({ type: OID.signingCertificateV2, values: [signingCertificateV2(cert, der)] }),
    ],
  });
  // The signature covers the attributes' DER with the SET OF tag, not the [0] IMPLICIT one they
  // carry inside SignerInfo (RFC 5652 §5.4).
  const toBeSigned = Buffer.from(signedAttrs.toSchema().toBER(false));
  toBeSigned[0] = 0x31;
  const toBeSignedDigest = createHash('sha256').update(toBeSigned).digest();
  return {
    toBeSigned,
    toBeSignedDigest,
    assemble(signatureValue: Buffer, chainPem: string): Buffer {
      const ok = rawVerify('sha256', toBeSigned, publicKey, signatureValue);
      if (!ok) throw new Error('The signature value does not verify with the signing certificate');
      const chain = splitPemCertificates(chainPem).map((p) => certificateOf(p).der);
      const sha256 = new pkijs.AlgorithmIdentifier({ algorithmId: OID.sha256 });
      const signedData = new pkijs.SignedData({
        version: 1,
        digestAlgorithms: [sha256],
        encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }),
        signerInfos: [
          new pkijs.SignerInfo({
            version: 1,
            sid: new pkijs.IssuerAndSerialNumber({ issuer: cert.issuer, serialNumber: cert.serialNumber }),
            digestAlgorithm: sha256,
            signedAttrs,
            signatureAlgorithm: new pkijs.AlgorithmIdentifier({
              algorithmId: OID.sha256WithRSAEncryption,
              algorithmParams: new asn1js.Null(),
            }),
            signature: new asn1js.OctetString({ valueHex: toArrayBuffer(signatureValue) }),
          }),
        ],
      });
      const contentInfo = new pkijs.ContentInfo({
        contentType: OID.signedData,
        content: signedData.toSchema(true),
      });
      // The certificates go in as their own bytes (see cms-der.ts).
      return withCertificates(new Uint8Array(contentInfo.toSchema().toBER(false)), [der, ...chain]);
    },
  };
}

/** A detached CAdES-B-B signature (CMS DER) over `content` by any `Signer`. */
export async function signCadesDetachedWith(
  content: Uint8Array,
  signer: Signer,
  opts: CadesOptions = {},
): Promise<Buffer> {
  const digest = createHash('sha256').update(content).digest();
  return signDigestWith(digest, signer, opts);
}

/** The same, for content already hashed (SHA-256) — e.g. a PDF's /ByteRange hashed while it was written. */
export async function signDigestWith(
  contentDigest: Buffer,
  signer: Signer,
  opts: CadesOptions = {},
): Promise<Buffer> {
  const prepared = prepareCadesSignedAttributes(contentDigest, signer.certificatePem, opts);
  const value = await signer.signDigest(prepared.toBeSignedDigest);
  return prepared.assemble(value, signer.chainPem);
}

/**
 * A signer whose RSA private key is in this process. For the entity's seal (an automated action)
 * and for demo and test keys; a person's signature goes through a remote service under the
 * person's sole control (a `Signer` backed by the CSC API).
 */
export function localSigner(identity: {
  certificatePem: string;
  chainPem: string;
  privateKey: CryptoKey;
}): Signer {
  const key = KeyObject.from(identity.privateKey);
  if (key.asymmetricKeyType !== 'rsa') throw new Error('localSigner needs an RSA private key');
  return {
    certificatePem: identity.certificatePem,
    chainPem: identity.chainPem,
    async signDigest(sha256Digest: Buffer): Promise<Buffer> {
      if (sha256Digest.length !== 32) throw new Error('signDigest takes a SHA-256 digest (32 bytes)');
      // EMSA-PKCS1-v1_5 (RFC 8017 §9.2) over the given digest: the DigestInfo, padded (type 1) and
      // raised to the private exponent — no second hashing.
      const digestInfo = Buffer.concat([SHA256_DIGEST_INFO_PREFIX, sha256Digest]);
      return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, digestInfo);
    },
  };
}
