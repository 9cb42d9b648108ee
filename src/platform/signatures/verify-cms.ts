import { constants, createHash, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import {
  children,
  DerError,
  expect,
  integer,
  octets,
  oid,
  parse,
  sameInteger,
  smallInteger,
  TAG,
  type Tlv,
  time,
} from './der.ts';
import { decideTrust, type TrustAnchors, type TrustStatus } from './trust.ts';

/**
 * Verification of CMS signatures (CAdES detached `.p7s`, and the CMS inside PDF signatures):
 * integrity (the message digest of the signed content, and the signature over the signed
 * attributes with the signer's key), the signer's certificate and path, and trust
 * (trust.ts). Everything is checked with Node's crypto on the bytes as they were signed, read
 * with the small DER reader of der.ts (pkijs is ~15 ms slower per signature).
 */

export type { TrustStatus } from './trust.ts';

/** A certificate as a report shows it. */
export type CertificateView = {
  subject: string;
  issuer: string;
  serialNumber: string;
  validFrom: string;
  validTo: string;
  fingerprintSha256: string;
  /**
   * The certificate declares itself an EU qualified certificate: it carries the QCStatement
   * QcCompliance (ETSI EN 319 412-5, OID 0.4.0.1862.1.1) in a qcStatements extension. A claim
   * of the certificate, meaningful only when its path is trusted.
   */
  qcCompliance: boolean;
};

/** The signer's identity as read from the subject of their certificate. */
export type SignerFacts = {
  commonName: string | null;
  organization: string | null;
  /** The subject's serialNumber attribute (a NIF for people; Catalan and Spanish seals often put a DIR3 or NIF here). */
  serialNumber: string | null;
  organizationIdentifier: string | null;
  /** A DIR3 code found among the subject's attributes (letter(s) and digits, 9 characters), if any. */
  dir3: string | null;
};

export type Coverage = {
  /** `whole`, or `revision n` (the bytes up to the end of the n-th revision of a PDF). */
  label: string;
  scope: 'whole' | 'revision';
  /** 1-based revision covered; for detached signatures 1. */
  revision: number;
  /** Revisions in the file (PDF: each ending with %%EOF). */
  revisions: number;
  coveredBytes: number;
  totalBytes: number;
  /** For a partial coverage: whether everything after the covered bytes is appended incremental updates. */
  laterChangesIncremental: boolean | null;
};

export type SignatureReport = {
  /** The signer's common name (or the subject when there is none). */
  signer: string | null;
  signerFacts: SignerFacts | null;
  /** The signature's format, e.g. `PAdES-B-B`, `CAdES-BES`, `XAdES-BES`. */
  format: string;
  integrity: 'valid' | 'invalid';
  /** Why integrity failed (null when valid). */
  integrityProblem: string | null;
  trust: TrustStatus;
  trustReason: string;
  /** The time the signer claims: the signing-time attribute, else the PDF's /M; null when none. */
  signedAt: string | null;
  /** The claims separately: PDF /M and CMS/XAdES signing-time. */
  claimedTimes: { pdfM: string | null; signingTime: string | null };
  coverage: Coverage;
  certificate: CertificateView | null;
  /** The certificate path, signer first, trust anchor last when one was reached. */
  chain: CertificateView[];
  /** PDF only: /Reason, /Name and the position (see verify-pdf.ts); null elsewhere. */
  reason: string | null;
  name: string | null;
  position: string | null;
};

export type VerifyOptions = {
  anchors: TrustAnchors;
  /** When the signature is proven to have existed (see trust.ts); defaults to now. */
  existedAt?: Date;
  crls?: Uint8Array[];
  now?: Date;
};

/** A CMS or PDF that cannot be read as a signature at all (the HTTP layer maps it to a 422). */
export class SignatureFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignatureFormatError';
  }
}

export const OID = {
  signedData: '1.2.840.113549.1.7.2',
  data: '1.2.840.113549.1.7.1',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  subjectKeyIdentifier: '2.5.29.14',
} as const;

const DIGESTS: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Signature algorithms whose hash the OID fixes (else the SignerInfo's digest algorithm is used). */
const SIGNATURE_HASH: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};
const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const RSA_PSS = '1.2.840.113549.1.1.10';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';

/** DER of the OIDs id-pe-qcStatements (1.3.6.1.5.5.7.1.3) and id-etsi-qcs-QcCompliance (0.4.0.1862.1.1). */
const QC_STATEMENTS_OID = Buffer.from('06082b06010505070103', 'hex');
const QC_COMPLIANCE_OID = Buffer.from('060604008e460101', 'hex');

export function certificateView(c: X509Certificate): CertificateView {
  return {
    qcCompliance: c.raw.includes(QC_STATEMENTS_OID) && c.raw.includes(QC_COMPLIANCE_OID),
    subject: c.subject.replace(/\n/g, ', '),
    issuer: c.issuer.replace(/\n/g, ', '),
    serialNumber: c.serialNumber.toLowerCase(),
    validFrom: new Date(c.validFrom).toISOString(),
    validTo: new Date(c.validTo).toISOString(),
    fingerprintSha256: c.fingerprint256.replace(/:/g, '').toLowerCase(),
  };
}

/** The subject's attributes as Node prints them (`key=value` lines; JSON-quoted when special). */
function subjectAttributes(c: X509Certificate): [string, string][] {
  return c.subject.split('\n').flatMap((line): [string, string][] =>
    line.split(/\+(?=[A-Za-z0-9.]+=)/).map((part) => {
      const i = part.indexOf('=');
      let v = part.slice(i + 1);
      if (v.startsWith('"')) {
        try {
          v = JSON.parse(v) as string;
        } catch {
          // keep the text as printed
        }
      }
      return [part.slice(0, i), v];
    }),
  );
}

export function signerFacts(c: X509Certificate): SignerFacts {
  const attrs = subjectAttributes(c);
  const get = (...keys: string[]) => attrs.find(([k]) => keys.includes(k))?.[1] ?? null;
  return {
    commonName: get('CN'),
    organization: get('O'),
    serialNumber: get('serialNumber', '2.5.4.5'),
    organizationIdentifier: get('organizationIdentifier', '2.5.4.97'),
    dir3: attrs.map(([, v]) => v).find((v) => /^[A-Z][A-Z0-9]\d{7}$/.test(v)) ?? null,
  };
}

type SignerId = { issuer: Buffer; serial: Buffer } | { ski: Buffer };

type ParsedSignerInfo = {
  sid: SignerId;
  digestAlgorithm: string;
  /** The signed attributes as encoded ([0] IMPLICIT SET), or null. */
  signedAttrs: Buffer | null;
  attrs: Map<string, Tlv[]>;
  signatureAlgorithm: string;
  signatureParams: Tlv | undefined;
  signature: Buffer;
};

/** A CMS SignedData as verification reads it. */
export type ParsedSignedData = {
  eContentType: string;
  eContent: Buffer | null;
  /** The certificates it carries, DER. */
  certificates: Buffer[];
  signerInfos: ParsedSignerInfo[];
};

function parseSignerInfo(t: Tlv): ParsedSignerInfo {
  const k = children(expect(t, TAG.SEQUENCE, 'a SignerInfo'));
  let i = 1;
  const sidT = k[i++];
  let sid: SignerId;
  if (sidT?.tag === TAG.SEQUENCE) {
    const [issuer, serial] = children(sidT);
    sid = { issuer: expect(issuer, TAG.SEQUENCE, 'an issuer name').raw, serial: integer(serial) };
  } else if (sidT?.tag === 0x80) {
    sid = { ski: sidT.value };
  } else throw new DerError('expected a signer identifier');
  const digestAlgorithm = oid(children(expect(k[i++], TAG.SEQUENCE, 'a digest algorithm'))[0]);
  let signedAttrs: Buffer | null = null;
  const attrs = new Map<string, Tlv[]>();
  if (k[i]?.tag === 0xa0) {
    const sa = k[i++]!;
    signedAttrs = sa.raw;
    for (const a of children(sa)) {
      const [type, values] = children(expect(a, TAG.SEQUENCE, 'an attribute'));
      attrs.set(oid(type), children(expect(values, TAG.SET, 'attribute values')));
    }
  }
  const alg = children(expect(k[i++], TAG.SEQUENCE, 'a signature algorithm'));
  return {
    sid,
    digestAlgorithm,
    signedAttrs,
    attrs,
    signatureAlgorithm: oid(alg[0]),
    signatureParams: alg[1],
    signature: octets(k[i]),
  };
}

/** The SignedData of a DER (or BER) CMS ContentInfo. */
export function parseSignedData(der: Uint8Array): ParsedSignedData {
  try {
    const buf = Buffer.isBuffer(der) ? der : Buffer.from(der.buffer, der.byteOffset, der.byteLength);
    const ci = children(expect(parse(buf), TAG.SEQUENCE, 'a ContentInfo'));
    const type = oid(ci[0]);
    if (type !== OID.signedData) throw new DerError(`content type ${type}`);
    const sd = children(expect(children(expect(ci[1], 0xa0, 'content'))[0], TAG.SEQUENCE, 'SignedData'));
    const encap = children(expect(sd[2], TAG.SEQUENCE, 'encapsulated content'));
    const eContentT = encap[1] ? children(expect(encap[1], 0xa0, 'eContent'))[0] : undefined;
    let i = 3;
    const certificates: Buffer[] = [];
    if (sd[i]?.tag === 0xa0) {
      // Only X.509 certificates (SEQUENCE); other choices (attribute certificates) are ignored.
      for (const c of children(sd[i++]!)) if (c.tag === TAG.SEQUENCE) certificates.push(c.raw);
    }
    if (sd[i]?.tag === 0xa1) i++; // revocation information
    const signerInfos = children(expect(sd[i], TAG.SET, 'signer infos')).map(parseSignerInfo);
    return {
      eContentType: oid(encap[0]),
      eContent: eContentT ? octets(eContentT) : null,
      certificates,
      signerInfos,
    };
  } catch (e) {
    throw new SignatureFormatError(`Not a CMS SignedData: ${(e as Error).message}`);
  }
}

/** issuer (raw Name), serial and subject key identifier of a certificate (DER). */
function certificateIds(der: Buffer): { issuer: Buffer; serial: Buffer; ski: Buffer | null } {
  const tbs = children(children(parse(der))[0]!);
  let i = tbs[0]?.tag === 0xa0 ? 1 : 0;
  const serial = integer(tbs[i]);
  const issuer = expect(tbs[i + 2], TAG.SEQUENCE, 'an issuer').raw;
  i += 6;
  let ski: Buffer | null = null;
  for (; i < tbs.length; i++) {
    if (tbs[i]!.tag !== 0xa3) continue;
    for (const ext of children(children(tbs[i]!)[0]!)) {
      const e = children(ext);
      if (oid(e[0]) === OID.subjectKeyIdentifier) ski = octets(parse(octets(e[e.length - 1])));
    }
  }
  return { issuer, serial, ski };
}

function findSigner(certs: Buffer[], sid: SignerId): Buffer | null {
  for (const der of certs) {
    try {
      const ids = certificateIds(der);
      if (
        'ski' in sid
          ? ids.ski?.equals(sid.ski)
          : ids.issuer.equals(sid.issuer) && sameInteger(ids.serial, sid.serial)
      ) {
        return der;
      }
    } catch {
      // an unreadable certificate cannot be the signer's
    }
  }
  return null;
}

function firstAttr(si: ParsedSignerInfo, o: string): Tlv | undefined {
  return si.attrs.get(o)?.[0];
}

/** Checks ESS signing-certificate(-v2): its first certificate hash must be the signer's. */
function essProblem(si: ParsedSignerInfo, signerDer: Buffer): string | null {
  const v2 = firstAttr(si, OID.signingCertificateV2);
  const a = v2 ?? firstAttr(si, OID.signingCertificate);
  if (!a) return null;
  try {
    const first = children(children(a)[0]!)[0]!;
    const f = children(first);
    let hashAlg = v2 ? 'sha256' : 'sha1';
    let i = 0;
    if (v2 && f[0]?.tag === TAG.SEQUENCE) {
      hashAlg = DIGESTS[oid(children(f[0])[0])] ?? '';
      i = 1;
    }
    if (!hashAlg) return 'the signing-certificate attribute uses an unknown hash';
    if (!octets(f[i]).equals(createHash(hashAlg).update(signerDer).digest())) {
      return 'the signing-certificate attribute names another certificate than the one that signed';
    }
    return null;
  } catch {
    return 'the signing-certificate attribute cannot be read';
  }
}

function pssParams(params: Tlv | undefined): { hash: string; saltLength: number } {
  let hash = 'sha1';
  let saltLength = 20;
  for (const p of params ? children(params) : []) {
    if (p.tag === 0xa0) hash = DIGESTS[oid(children(children(p)[0]!)[0])] ?? hash;
    if (p.tag === 0xa2) saltLength = smallInteger(children(p)[0]);
  }
  return { hash, saltLength };
}

const BAD_SIGNATURE = 'the signature value does not verify with the signer’s key';

/** Verifies the signature value over the signed attributes (DER as signed, with the SET tag). */
function signatureProblem(si: ParsedSignerInfo, cert: X509Certificate): string | null {
  if (!si.signedAttrs) return 'the signature has no signed attributes';
  const data = Buffer.from(si.signedAttrs);
  data[0] = 0x31; // signed as SET OF, not as the [0] IMPLICIT it is stored as (RFC 5652 §5.4)
  const algId = si.signatureAlgorithm;
  try {
    if (algId === RSA_PSS) {
      const { hash, saltLength } = pssParams(si.signatureParams);
      const key = { key: cert.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength };
      return cryptoVerify(hash, data, key, si.signature) ? null : BAD_SIGNATURE;
    }
    const hash =
      SIGNATURE_HASH[algId] ??
      (algId === RSA_ENCRYPTION || algId === EC_PUBLIC_KEY ? DIGESTS[si.digestAlgorithm] : undefined);
    if (!hash) return `unsupported signature algorithm ${algId}`;
    return cryptoVerify(hash, data, cert.publicKey, si.signature) ? null : BAD_SIGNATURE;
  } catch (e) {
    return `the signature cannot be checked: ${(e as Error).message}`;
  }
}

/** The message imprint of an RFC 3161 TSTInfo: its hash algorithm and value. */
function tstImprint(tstDer: Buffer): { hash: string | undefined; value: Buffer } {
  const k = children(parse(tstDer));
  const mi = children(expect(k[2], TAG.SEQUENCE, 'a message imprint'));
  return { hash: DIGESTS[oid(children(mi[0]!)[0])], value: octets(mi[1]) };
}

/** The digest the CMS must carry for its content: of the content itself, or (timestamp tokens) of the TSTInfo. */
function contentProblem(
  sd: ParsedSignedData,
  si: ParsedSignerInfo,
  content: Uint8Array | ((hash: string) => Buffer),
): string | null {
  const hash = DIGESTS[si.digestAlgorithm];
  if (!hash) return `unsupported digest algorithm ${si.digestAlgorithm}`;
  const md = firstAttr(si, OID.messageDigest);
  if (!md) return 'the signature has no message-digest attribute';
  const claimed = octets(md);
  const digestOf = (h: string) =>
    typeof content === 'function' ? content(h) : createHash(h).update(content).digest();
  if (sd.eContentType === OID.tstInfo && sd.eContent) {
    // A document timestamp (RFC 3161): the CMS signs the TSTInfo, whose message imprint is the hash of the content.
    if (!claimed.equals(createHash(hash).update(sd.eContent).digest())) {
      return 'the timestamp token does not match its signature';
    }
    const imprint = tstImprint(sd.eContent);
    if (!imprint.hash) return 'unsupported timestamp imprint hash';
    return imprint.value.equals(digestOf(imprint.hash))
      ? null
      : 'the covered bytes were changed after the timestamp';
  }
  if (sd.eContent) return 'the signature encapsulates its content (not a detached signature)';
  return claimed.equals(digestOf(hash)) ? null : 'the signed bytes were changed after signing';
}

export type CmsSignerResult = Omit<
  SignatureReport,
  'coverage' | 'reason' | 'name' | 'position' | 'claimedTimes' | 'signedAt' | 'format'
> & {
  signingTime: Date | null;
  hasSigningCertificateV2: boolean;
  hasSigningCertificate: boolean;
  isTimestamp: boolean;
};

/** Parsed certificates by DER, so a seal's certificates seen in thousands of signatures are parsed once. */
const x509Cache = new Map<string, X509Certificate>();

function toX509(der: Buffer): X509Certificate {
  const key = createHash('sha256').update(der).digest('base64');
  let c = x509Cache.get(key);
  if (!c) {
    c = new X509Certificate(der);
    if (x509Cache.size > 2000) x509Cache.clear();
    x509Cache.set(key, c);
  }
  return c;
}

/**
 * Verifies each SignerInfo of a detached CMS over `content` (the bytes, or a function that
 * hashes them with a given algorithm, so a PDF's byte range need not be copied).
 */
export async function verifySignedData(
  sd: ParsedSignedData,
  content: Uint8Array | ((hash: string) => Buffer),
  opts: VerifyOptions & { claimedAt?: Date | null },
): Promise<CmsSignerResult[]> {
  if (sd.signerInfos.length === 0) throw new SignatureFormatError('The CMS has no signer');
  const pool: X509Certificate[] = [];
  for (const der of sd.certificates) {
    try {
      pool.push(toX509(der));
    } catch {
      // an unreadable extra certificate only narrows the path search
    }
  }
  const results: CmsSignerResult[] = [];
  for (const si of sd.signerInfos) {
    let signingTime: Date | null = null;
    try {
      const st = firstAttr(si, OID.signingTime);
      signingTime = st ? time(st) : null;
    } catch {
      signingTime = null;
    }
    const common = {
      signingTime,
      hasSigningCertificateV2: si.attrs.has(OID.signingCertificateV2),
      hasSigningCertificate: si.attrs.has(OID.signingCertificate),
      isTimestamp: sd.eContentType === OID.tstInfo,
    };
    const der = findSigner(sd.certificates, si.sid);
    let x509: X509Certificate | null = null;
    try {
      x509 = der ? toX509(der) : null;
    } catch {
      x509 = null;
    }
    if (!der || !x509) {
      const why = "the signer's certificate is not in the signature (or cannot be read)";
      results.push({
        ...common,
        signer: null,
        signerFacts: null,
        integrity: 'invalid',
        integrityProblem: why,
        trust: 'unknown',
        trustReason: why,
        certificate: null,
        chain: [],
      });
      continue;
    }
    const problem = contentProblem(sd, si, content) ?? essProblem(si, der) ?? signatureProblem(si, x509);
    const facts = signerFacts(x509);
    const t = await decideTrust({
      signer: x509,
      pool,
      anchors: opts.anchors,
      claimedAt: signingTime ?? opts.claimedAt ?? null,
      existedAt: opts.existedAt ?? opts.now ?? new Date(),
      crls: opts.crls,
    });
    results.push({
      ...common,
      signer: facts.commonName ?? certificateView(x509).subject,
      signerFacts: facts,
      integrity: problem ? 'invalid' : 'valid',
      integrityProblem: problem,
      trust: t.trust,
      trustReason: t.reason,
      certificate: certificateView(x509),
      chain: t.path.map(certificateView),
    });
  }
  return results;
}

/** DER, or PEM (`-----BEGIN PKCS7-----`, `-----BEGIN CMS-----`), or bare base64, to DER. */
export function cmsToDer(input: Uint8Array): Buffer {
  const head = Buffer.from(input.subarray(0, 1)).toString('latin1');
  if (head === '0') return Buffer.from(input); // 0x30: a DER SEQUENCE
  const text = Buffer.from(input).toString('latin1');
  const b64 = text.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new SignatureFormatError('Not a DER or PEM CMS signature');
  return Buffer.from(b64, 'base64');
}

function cadesFormat(r: CmsSignerResult): string {
  if (r.hasSigningCertificateV2 || r.hasSigningCertificate) {
    // ETSI EN 319 122-1 baseline B-B requires signing-time; without it the signature is CAdES-BES (TS 101 733).
    return r.signingTime ? 'CAdES-B-B' : 'CAdES-BES';
  }
  return 'CMS (PKCS#7 detached)';
}

/** Maximum size of a detached CMS signature file. */
export const MAX_CMS_BYTES = 1024 * 1024;

/**
 * A CAdES/CMS detached signature (`.p7s`, DER or PEM) over `content`: one report per signer.
 */
export async function verifyCmsDetached(
  signature: Uint8Array,
  content: Uint8Array,
  opts: VerifyOptions,
): Promise<SignatureReport[]> {
  if (signature.byteLength > MAX_CMS_BYTES) {
    throw new SignatureFormatError(`The signature file is larger than ${MAX_CMS_BYTES} bytes`);
  }
  const sd = parseSignedData(cmsToDer(signature));
  const results = await verifySignedData(sd, content, opts);
  return results.map(
    ({ signingTime, hasSigningCertificate, hasSigningCertificateV2, isTimestamp, ...r }) => ({
      ...r,
      format: cadesFormat({ signingTime, hasSigningCertificate, hasSigningCertificateV2, isTimestamp, ...r }),
      signedAt: signingTime?.toISOString() ?? null,
      claimedTimes: { pdfM: null, signingTime: signingTime?.toISOString() ?? null },
      coverage: {
        label: 'whole',
        scope: 'whole',
        revision: 1,
        revisions: 1,
        coveredBytes: content.byteLength,
        totalBytes: content.byteLength,
        laterChangesIncremental: null,
      },
      reason: null,
      name: null,
      position: null,
    }),
  );
}
