import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { type Document, DOMParser, type Element, XMLSerializer } from '@xmldom/xmldom';
import * as xadesjs from 'xadesjs';
import { decideTrust } from './trust.ts';
import {
  certificateView,
  SignatureFormatError,
  type SignatureReport,
  signerFacts,
  type VerifyOptions,
} from './verify-cms.ts';

/**
 * Verification of XAdES (and plain XML-DSig) signatures, detached over a given file or
 * enveloped in the XML: each reference's digest (a detached reference is checked against the
 * file), the signature value with the signer's key, the XAdES signing-certificate digest, and
 * trust as for CMS (trust.ts).
 *
 * Untrusted XML is parsed with @xmldom/xmldom, which fetches nothing; before that any DTD
 * (`<!DOCTYPE`, `<!ENTITY`) is refused outright, so no entity expansion (billion laughs) and no
 * external entity can happen, and any parse error stops verification.
 */

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const XADES = 'http://uri.etsi.org/01903/v1.3.2#';
const XADES141 = 'http://uri.etsi.org/01903/v1.4.1#';

/** XML signature files larger than this are refused. */
export const MAX_XML_BYTES = 16 * 1024 * 1024;

const DIGEST_URIS: Record<string, string> = {
  'http://www.w3.org/2000/09/xmldsig#sha1': 'sha1',
  'http://www.w3.org/2001/04/xmlenc#sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384': 'sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'sha512',
};

let ready = false;
function setUp(): void {
  if (ready) return;
  xadesjs.Application.setEngine('NodeJS', webcrypto as never);
  xadesjs.setNodeDependencies({ DOMParser, XMLSerializer });
  ready = true;
}

/** Parses untrusted XML: no DTD, no entities, errors are fatal. */
export function parseUntrustedXml(input: Uint8Array | string): Document {
  const text =
    typeof input === 'string'
      ? input
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  if (text.length > MAX_XML_BYTES) throw new SignatureFormatError('The XML is too large');
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) {
    throw new SignatureFormatError('XML with a document type declaration (DTD) is refused');
  }
  let problem: string | null = null;
  let doc: Document | null = null;
  try {
    doc = new DOMParser({
      onError: (level: string, msg: string) => {
        if (level !== 'warning') problem ??= msg;
      },
    }).parseFromString(text.replace(/^\uFEFF/, ''), 'application/xml');
  } catch (e) {
    problem ??= (e as Error).message;
  }
  if (problem || !doc?.documentElement) {
    throw new SignatureFormatError(`The XML cannot be read: ${problem ?? 'no root element'}`);
  }
  return doc;
}

function first(el: Element | Document, ns: string[], local: string): Element | null {
  for (const n of ns) {
    const found = el.getElementsByTagNameNS(n, local);
    if (found.length) return found[0]!;
  }
  return null;
}

function certFromBase64(b64: string): X509Certificate {
  return new X509Certificate(Buffer.from(b64.replace(/\s+/g, ''), 'base64'));
}

/** The XAdES SigningCertificate(V2) digest check against the signer's certificate; null when fine or absent. */
function signingCertificateProblem(sig: Element, signer: X509Certificate): string | null {
  const sc =
    first(sig, [XADES, XADES141], 'SigningCertificateV2') ?? first(sig, [XADES], 'SigningCertificate');
  if (!sc) return null;
  const alg = first(sc, [DSIG], 'DigestMethod')?.getAttribute('Algorithm') ?? '';
  const value = first(sc, [DSIG], 'DigestValue')?.textContent?.replace(/\s+/g, '') ?? '';
  const hash = DIGEST_URIS[alg];
  if (!hash) return 'the XAdES signing certificate uses an unknown digest';
  return createHash(hash).update(signer.raw).digest('base64') === value
    ? null
    : 'the XAdES signing certificate names another certificate than the one that signed';
}

async function verifyOne(
  doc: Document,
  sigEl: Element,
  detached: Uint8Array | undefined,
  opts: VerifyOptions,
): Promise<SignatureReport> {
  const certsB64 = Array.from(sigEl.getElementsByTagNameNS(DSIG, 'X509Certificate')).map(
    (e) => e.textContent ?? '',
  );
  const certs: X509Certificate[] = [];
  for (const b64 of certsB64) {
    try {
      certs.push(certFromBase64(b64));
    } catch {
      // an unreadable certificate cannot be the signer's
    }
  }
  const signingTimeText = first(sigEl, [XADES, XADES141], 'SigningTime')?.textContent?.trim() ?? null;
  const signingTime = signingTimeText ? new Date(signingTimeText) : null;
  const validTime = signingTime && !Number.isNaN(signingTime.getTime()) ? signingTime : null;
  const isXades = !!first(sigEl, [XADES, XADES141], 'SignedProperties');
  const refs = Array.from(sigEl.getElementsByTagNameNS(DSIG, 'Reference'));
  const isDetached = refs.some((r) => {
    const uri = r.getAttribute('URI');
    return uri !== null && uri !== '' && !uri.startsWith('#');
  });
  const format = `${isXades ? 'XAdES-BES' : 'XML-DSig'} (${isDetached ? 'detached' : 'enveloped'})`;
  const base = {
    format,
    signedAt: validTime?.toISOString() ?? null,
    claimedTimes: { pdfM: null, signingTime: validTime?.toISOString() ?? null },
    coverage: {
      label: 'whole',
      scope: 'whole' as const,
      revision: 1,
      revisions: 1,
      coveredBytes: detached?.byteLength ?? 0,
      totalBytes: detached?.byteLength ?? 0,
      laterChangesIncremental: null,
    },
    reason: null,
    name: null,
    position: first(sigEl, [XADES, XADES141], 'ClaimedRole')?.textContent?.trim() || null,
  };
  // The signer: the certificate the XAdES signing-certificate names, else the first one.
  const signer = certs.find((c) => signingCertificateProblem(sigEl, c) === null) ?? certs[0] ?? null;
  if (!signer) {
    const why = "the signer's certificate is not in the signature";
    return {
      ...base,
      signer: null,
      signerFacts: null,
      integrity: 'invalid',
      integrityProblem: why,
      trust: 'unknown',
      trustReason: why,
      certificate: null,
      chain: [],
    };
  }
  let problem: string | null = null;
  if (isDetached && !detached) problem = 'the signed file was not given';
  if (!problem) {
    const signed = new xadesjs.SignedXml(doc as never);
    signed.LoadXml(sigEl as never);
    signed.contentHandler = async (ref: { Uri?: string }) => {
      const uri = ref.Uri;
      if (uri && !uri.startsWith('#')) {
        if (!detached) throw new Error(`no content for ${uri}`);
        return detached;
      }
      return null;
    };
    try {
      const alg = signed.Algorithm as { name: string; hash?: unknown };
      const curve = signer.publicKey.asymmetricKeyDetails?.namedCurve;
      const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : 'P-521';
      const key = await webcrypto.subtle.importKey(
        'spki',
        signer.publicKey.export({ type: 'spki', format: 'der' }),
        (alg.name === 'ECDSA' ? { ...alg, namedCurve } : alg) as webcrypto.RsaHashedImportParams,
        true,
        ['verify'],
      );
      const ok = await signed.Verify({ key: key as never, content: doc.documentElement as never });
      if (!ok) problem = 'the signature value does not verify with the signer’s key';
    } catch (e: unknown) {
      const msg = (e as Error).message;
      problem = /Invalid digest/i.test(msg)
        ? 'the signed content was changed after signing'
        : `the signature cannot be checked: ${msg}`;
    }
  }
  problem ??= signingCertificateProblem(sigEl, signer);
  const t = await decideTrust({
    signer,
    pool: certs.filter((c) => c !== signer),
    anchors: opts.anchors,
    claimedAt: validTime,
    existedAt: opts.existedAt ?? opts.now ?? new Date(),
    crls: opts.crls,
  });
  const facts = signerFacts(signer);
  return {
    ...base,
    signer: facts.commonName ?? certificateView(signer).subject,
    signerFacts: facts,
    integrity: problem ? 'invalid' : 'valid',
    integrityProblem: problem,
    trust: t.trust,
    trustReason: t.reason,
    certificate: certificateView(signer),
    chain: t.path.map(certificateView),
  };
}

/**
 * Verifies every XML signature in `xml`: detached ones over `detachedContent` (the signed file),
 * enveloped ones over the XML itself. One report per ds:Signature, in document order.
 */
export async function verifyXades(
  xml: Uint8Array | string,
  opts: VerifyOptions & { detachedContent?: Uint8Array },
): Promise<SignatureReport[]> {
  setUp();
  const doc = parseUntrustedXml(xml);
  const sigs = Array.from(doc.getElementsByTagNameNS(DSIG, 'Signature'));
  if (sigs.length === 0) throw new SignatureFormatError('The XML holds no signature');
  const reports: SignatureReport[] = [];
  for (const s of sigs) reports.push(await verifyOne(doc, s, opts.detachedContent, opts));
  return reports;
}
