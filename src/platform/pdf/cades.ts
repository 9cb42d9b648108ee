import { createHash, KeyObject, sign } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { type CryptoKey, splitPemCertificates } from '#platform/crypto/certs.ts';
import { readTlv, type Tlv, withCertificates } from './cms-der.ts';

/**
 * CAdES-B-B detached signatures (ETSI EN 319 122-1) as PAdES-B-B embeds them (ETSI EN 319 142-1):
 * a CMS SignedData without encapsulated content whose signed attributes are content-type,
 * message-digest and ESS signing-certificate-v2 — and no signing-time, which PAdES forbids (the
 * claimed time goes in the PDF signature dictionary's /M). RSASSA-PKCS1-v1_5 with SHA-256.
 */

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
} as const;

export type SigningIdentity = {
  /** The signer's certificate (PEM). */
  certificatePem: string;
  /** The issuers' certificates (PEM, concatenated), included in the CMS so verifiers can build the chain. */
  chainPem: string;
  privateKey: CryptoKey;
};

export function pemToDer(pem: string): Buffer {
  const b64 = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(b64, 'base64');
}

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** Parsed certificates by PEM: a seal signs thousands of documents with the same two or three. */
const parsedCerts = new Map<string, { cert: pkijs.Certificate; der: Buffer }>();

function parseCertificate(pem: string): { cert: pkijs.Certificate; der: Buffer } {
  let p = parsedCerts.get(pem);
  if (!p) {
    const der = pemToDer(pem);
    p = { cert: pkijs.Certificate.fromBER(toArrayBuffer(der)), der };
    if (parsedCerts.size > 1000) parsedCerts.clear();
    parsedCerts.set(pem, p);
  }
  return p;
}

/** ESS SigningCertificateV2 (RFC 5035) naming the signer's certificate by its SHA-256 and issuer/serial. */
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

/**
 * Signs `content` (the bytes covered by a PDF's /ByteRange, or any file) and returns the DER of a
 * detached CMS ContentInfo.
 */
export async function signCadesDetached(content: Uint8Array, signer: SigningIdentity): Promise<Buffer> {
  const digest = createHash('sha256').update(content).digest();
  const key = `${signer.certificatePem}\n${signer.chainPem}`;
  const template = templates.get(signer.privateKey)?.get(key);
  if (template) return fromTemplate(template, digest, signer.privateKey);
  const built = await withPkijs(digest, signer);
  if (templatable(signer.privateKey)) {
    let byCerts = templates.get(signer.privateKey);
    if (!byCerts) {
      byCerts = new Map();
      templates.set(signer.privateKey, byCerts);
    }
    if (byCerts.size > 16) byCerts.clear();
    byCerts.set(key, templateOf(built, digest));
  }
  return built.der;
}

/** The CMS built with pkijs: the first signature with a key, and every one with a key that has no template. */
export async function withPkijs(
  digest: Uint8Array,
  signer: SigningIdentity,
): Promise<{ der: Buffer; signature: Uint8Array }> {
  const { cert, der } = parseCertificate(signer.certificatePem);
  const chain = splitPemCertificates(signer.chainPem).map((p) => parseCertificate(p).der);
  const signerInfo = new pkijs.SignerInfo({
    version: 1,
    sid: new pkijs.IssuerAndSerialNumber({ issuer: cert.issuer, serialNumber: cert.serialNumber }),
    signedAttrs: new pkijs.SignedAndUnsignedAttributes({
      type: 0,
      attributes: [
        new pkijs.Attribute({
          type: OID.contentType,
          values: [new asn1js.ObjectIdentifier({ value: OID.data })],
        }),
        new pkijs.Attribute({
          type: OID.messageDigest,
          values: [new asn1js.OctetString({ valueHex: toArrayBuffer(digest) })],
        }),
        new pkijs.Attribute({
          type: OID.signingCertificateV2,
          values: [signingCertificateV2(cert, der)],
        }),
      ],
    }),
  });
  const signedData = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }),
    signerInfos: [signerInfo],
  });
  await signedData.sign(signer.privateKey, 0, 'SHA-256');
  const contentInfo = new pkijs.ContentInfo({
    contentType: OID.signedData,
    content: signedData.toSchema(true),
  });
  // The certificates go in as their own bytes (see cms-der.ts).
  return {
    der: withCertificates(new Uint8Array(contentInfo.toSchema().toBER(false)), [der, ...chain]),
    signature: new Uint8Array(signerInfo.signature.valueBlock.valueHexView),
  };
}

/**
 * A seal signs thousands of documents with the same key and certificates, and each of those CMS
 * is the same bytes but for two fields: the content's digest (32 bytes) and the signature, which
 * with RSASSA-PKCS1-v1_5 is as long as the key's modulus, always. The first signature with a key
 * is built by pkijs and kept as a template with the places of those two fields; the next ones
 * copy it, write the digest in, sign the signed attributes (their DER, re-tagged as a SET, as
 * RFC 5652 §5.4 says) and write the signature in. The bytes are those pkijs would produce (a test
 * compares them), without building and serialising the ASN.1 tree again, which was about 1.8 ms
 * of CPU per receipt. Other keys (ECDSA, whose signature's DER length varies) always use pkijs.
 */
type Template = {
  der: Buffer;
  digestAt: number;
  attrs: { start: number; end: number };
  signatureAt: number;
  signatureLength: number;
};
const templates = new WeakMap<CryptoKey, Map<string, Template>>();

function templatable(key: CryptoKey): boolean {
  const alg = key.algorithm as { name: string; hash?: { name: string } };
  return alg.name === 'RSASSA-PKCS1-v1_5' && alg.hash?.name === 'SHA-256';
}

const MESSAGE_DIGEST_OID = Buffer.from('06092a864886f70d010904', 'hex');

/** The places of the digest and of the signature in a CMS built by withPkijs. */
function templateOf(built: { der: Buffer; signature: Uint8Array }, digest: Uint8Array): Template {
  const { der } = built;
  const at = (offset: number, tag: number): Tlv => {
    const t = readTlv(der, offset);
    if (t.tag !== tag) throw new Error(`CMS template: tag ${t.tag} at ${offset}, expected ${tag}`);
    return t;
  };
  const outer = at(0, 0x30);
  const explicit = at(at(outer.contentStart, 0x06).end, 0xa0);
  const signedData = at(explicit.contentStart, 0x30);
  let p = at(signedData.contentStart, 0x02).end; // version
  p = at(p, 0x31).end; // digestAlgorithms
  p = at(p, 0x30).end; // encapContentInfo
  if (der[p] === 0xa0) p = at(p, 0xa0).end; // certificates
  if (der[p] === 0xa1) p = at(p, 0xa1).end; // crls
  const signerInfos = at(p, 0x31);
  const signerInfo = at(signerInfos.contentStart, 0x30);
  p = at(signerInfo.contentStart, 0x02).end; // version
  p = at(p, 0x30).end; // sid
  p = at(p, 0x30).end; // digestAlgorithm
  const attrs = at(p, 0xa0);
  const signature = at(at(attrs.end, 0x30).end, 0x04); // after signatureAlgorithm
  let digestAt = -1;
  for (let q = attrs.contentStart; q < attrs.end; ) {
    const attribute = at(q, 0x30);
    const oid = at(attribute.contentStart, 0x06);
    if (der.subarray(oid.start, oid.end).equals(MESSAGE_DIGEST_OID)) {
      const value = at(at(oid.end, 0x31).contentStart, 0x04);
      digestAt = value.contentStart;
      if (value.end - value.contentStart !== digest.length) throw new Error('CMS template: digest length');
    }
    q = attribute.end;
  }
  const t: Template = {
    der,
    digestAt,
    attrs: { start: attrs.start, end: attrs.end },
    signatureAt: signature.contentStart,
    signatureLength: signature.end - signature.contentStart,
  };
  if (
    digestAt < 0 ||
    !der.subarray(digestAt, digestAt + digest.length).equals(digest) ||
    !der.subarray(t.signatureAt, signature.end).equals(built.signature)
  )
    throw new Error('CMS template: digest or signature not where expected');
  return t;
}

/**
 * The seal's key as a KeyObject, for node:crypto's synchronous sign: about 0.5 ms of CPU on this
 * thread, where webcrypto's asynchronous sign spent the same in the thread pool plus the wake-ups
 * of a pool thread and of this one (some 0.2 ms each on a busy 2-core machine).
 */
const keyObjects = new WeakMap<CryptoKey, KeyObject>();

function fromTemplate(t: Template, digest: Buffer, key: CryptoKey): Buffer {
  const out = Buffer.from(t.der);
  digest.copy(out, t.digestAt);
  // Signed over as a SET OF Attribute (RFC 5652 §5.4), not with the [0] tag it has in SignerInfo.
  const attrs = Buffer.from(out.subarray(t.attrs.start, t.attrs.end));
  attrs[0] = 0x31;
  let keyObject = keyObjects.get(key);
  if (!keyObject) {
    keyObject = KeyObject.from(key);
    keyObjects.set(key, keyObject);
  }
  // RSASSA-PKCS1-v1_5 (an RSA key's default padding) with SHA-256, as templatable() requires.
  const signature = sign('sha256', attrs, keyObject);
  if (signature.length !== t.signatureLength) throw new Error('CMS template: signature length changed');
  signature.copy(out, t.signatureAt);
  return out;
}
