import { verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { children, expect, integer, oid, parse, sameInteger, TAG, time } from './der.ts';

/**
 * Certificate paths and trust for signature verification (no domain words).
 *
 * The rule, for a signer certificate L found in a signature:
 *
 * 1. **Path**: from L, each next certificate is one that issued the previous (names and key
 *    identifiers match, and its key verifies the previous certificate's signature) and is a CA;
 *    candidates are the certificates carried in the signature, then the trust anchors; at most
 *    10 steps. A path that reaches a trust anchor (by equality or because the anchor issued the
 *    last certificate) is complete. No such path → `untrusted`.
 * 2. **Times**: a PAdES-B-B/CAdES-B-B signature has no proof of its time, only the time the
 *    signer claims (/M or signing-time). Every certificate of the path must be valid at the
 *    claimed time (when there is one) and at the *proof time*: the earliest time the verifier
 *    can prove the signature existed — the caller's `existedAt` (e.g. when Lligall stored the
 *    document, recorded in its own audited database), else now. Otherwise → `expired`. So a
 *    seal that expires after a receipt was stored keeps that receipt `trusted`, while a file
 *    uploaded today signed with a certificate that expired last year is `expired`, whatever
 *    time it claims.
 * 3. **Revocation**: only when CRLs are given. A CRL counts if its issuer issued L and its
 *    signature verifies with that issuer's key; if it lists L's serial → `revoked`. Without
 *    CRLs there is no revocation check (never `revoked`).
 * 4. Anything that cannot be decided (no signer certificate, an unparseable certificate) →
 *    `unknown`.
 */

export type TrustStatus = 'trusted' | 'untrusted' | 'expired' | 'revoked' | 'unknown';

/** The trust anchors of an installation, parsed once. */
export type TrustAnchors = { certificates: X509Certificate[]; fingerprints: Set<string> };

export function prepareTrustAnchors(pems: string[]): TrustAnchors {
  const certificates: X509Certificate[] = [];
  for (const pem of pems) {
    for (const block of pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
      certificates.push(new X509Certificate(block));
    }
  }
  return { certificates, fingerprints: new Set(certificates.map((c) => c.fingerprint256)) };
}

export type TrustInput = {
  signer: X509Certificate;
  /** Other certificates the signature carries (possible intermediates). */
  pool: X509Certificate[];
  anchors: TrustAnchors;
  /** The time the signer claims (signing-time attribute, PDF /M), if any. */
  claimedAt: Date | null;
  /** When the signature is proven to have existed; defaults to now. */
  existedAt: Date;
  /** DER or PEM certificate revocation lists. */
  crls?: Uint8Array[];
};

export type TrustResult = { trust: TrustStatus; reason: string; path: X509Certificate[] };

const MAX_PATH = 10;

function issued(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

function validAt(c: X509Certificate, t: Date): boolean {
  return new Date(c.validFrom).getTime() <= t.getTime() && t.getTime() <= new Date(c.validTo).getTime();
}

/** The path from the signer to an anchor, leaf first, anchor last; or the partial path and null. */
export function buildPath(
  signer: X509Certificate,
  pool: X509Certificate[],
  anchors: TrustAnchors,
): { path: X509Certificate[]; anchored: boolean } {
  const path = [signer];
  let cur = signer;
  for (let i = 0; i < MAX_PATH; i++) {
    if (anchors.fingerprints.has(cur.fingerprint256)) return { path, anchored: true };
    const anchor = anchors.certificates.find((a) => issued(cur, a));
    if (anchor) {
      path.push(anchor);
      return { path, anchored: true };
    }
    const next = pool.find(
      (c) => c.ca && !path.some((p) => p.fingerprint256 === c.fingerprint256) && issued(cur, c),
    );
    if (!next) return { path, anchored: false };
    path.push(next);
    cur = next;
  }
  return { path, anchored: false };
}

export async function decideTrust(input: TrustInput): Promise<TrustResult> {
  const { path, anchored } = buildPath(input.signer, input.pool, input.anchors);
  if (!anchored) {
    return { trust: 'untrusted', reason: 'no certificate path to a trusted authority', path };
  }
  if (input.crls?.length) {
    const revoked = listedInCrl(input.signer, path[1] ?? input.signer, input.crls);
    if (revoked) return { trust: 'revoked', reason: revoked, path };
  }
  const times: [string, Date][] = [];
  if (input.claimedAt) times.push(['the claimed signing time', input.claimedAt]);
  times.push(['the time the signature is proven to exist', input.existedAt]);
  for (const [label, t] of times) {
    const bad = path.find((c) => !validAt(c, t));
    if (bad) {
      const who = bad === input.signer ? "the signer's certificate" : `the certificate "${bad.subject}"`;
      return {
        trust: 'expired',
        reason: `${who} was not valid at ${label} (${t.toISOString()})`,
        path,
      };
    }
  }
  return { trust: 'trusted', reason: 'the path reaches a trusted authority and is valid', path };
}

function pemOrDer(b: Uint8Array): Buffer {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (!buf.subarray(0, 64).toString('latin1').includes('-----BEGIN')) return buf;
  return Buffer.from(
    buf
      .toString('latin1')
      .replace(/-----(BEGIN|END) [A-Z509 ]+-----/g, '')
      .replace(/\s+/g, ''),
    'base64',
  );
}

const CRL_HASH: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};

/** The subject Name (DER) of a certificate. */
function subjectDer(c: X509Certificate): Buffer {
  const tbs = children(children(parse(c.raw))[0]!);
  const i = tbs[0]?.tag === 0xa0 ? 1 : 0;
  return tbs[i + 4]!.raw;
}

/** A reason when a CRL issued (and signed) by the signer's issuer lists the signer; else null. */
function listedInCrl(signer: X509Certificate, issuer: X509Certificate, crls: Uint8Array[]): string | null {
  const issuerName = subjectDer(issuer);
  const serial = Buffer.from(
    signer.serialNumber.length % 2 ? `0${signer.serialNumber}` : signer.serialNumber,
    'hex',
  );
  for (const raw of crls) {
    try {
      const [tbsT, algT, sigT] = children(parse(pemOrDer(raw)));
      const tbs = children(tbsT!);
      let i = tbs[0]?.tag === TAG.INTEGER ? 1 : 0;
      i++; // signature algorithm
      if (!tbs[i]!.raw.equals(issuerName)) continue;
      const hash = CRL_HASH[oid(children(algT!)[0])];
      const sig = expect(sigT, TAG.BIT_STRING, 'a signature').value.subarray(1);
      if (!hash || !cryptoVerify(hash, tbsT!.raw, issuer.publicKey, sig)) continue;
      i += 2; // issuer, thisUpdate
      if (tbs[i] && tbs[i]!.tag !== TAG.SEQUENCE && tbs[i]!.tag !== 0xa0) i++; // nextUpdate
      const revoked = tbs[i]?.tag === TAG.SEQUENCE ? children(tbs[i]!) : [];
      for (const entry of revoked) {
        const [userCert, date] = children(entry);
        if (sameInteger(integer(userCert), serial)) {
          return `the signer's certificate is listed in a CRL of its issuer (revoked ${time(date).toISOString()})`;
        }
      }
    } catch {
      // an unreadable CRL decides nothing
    }
  }
  return null;
}
