import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { type CryptoKey, splitPemCertificates } from '#platform/crypto/certs.ts';
import { withCertificates } from './cms-der.ts';

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
  const { cert, der } = parseCertificate(signer.certificatePem);
  const chain = splitPemCertificates(signer.chainPem).map((p) => parseCertificate(p).der);
  const digest = createHash('sha256').update(content).digest();
  const signedData = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }),
    signerInfos: [
      new pkijs.SignerInfo({
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
      }),
    ],
  });
  await signedData.sign(signer.privateKey, 0, 'SHA-256');
  const contentInfo = new pkijs.ContentInfo({
    contentType: OID.signedData,
    content: signedData.toSchema(true),
  });
  // The certificates go in as their own bytes (see cms-der.ts).
  return withCertificates(new Uint8Array(contentInfo.toSchema().toBER(false)), [der, ...chain]);
}
