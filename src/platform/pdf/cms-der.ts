/**
 * Puts the certificates into a CMS ContentInfo(SignedData) that was encoded without them, by
 * splicing their DER bytes in as they are.
 *
 * pkijs re-encodes every certificate of a SignedData from its parsed fields on each `toSchema`
 * (and asn1js re-serialises the tree): for a seal that signs thousands of receipts with the same
 * two or three certificates, that was a third of the signing time. The certificates' bytes never
 * change, so they are inserted verbatim — which is also the safest thing to do with a certificate
 * (re-encoding one could alter a non-DER original and break its signature).
 *
 * ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT SignedData }
 * SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo SEQUENCE,
 *                           certificates [0] IMPLICIT SET OF Certificate OPTIONAL,
 *                           crls [1] OPTIONAL, signerInfos SET }
 */

export type Tlv = { tag: number; start: number; contentStart: number; end: number };

/** The tag-length-value at `offset` (DER, definite lengths, one-byte tags). */
export function readTlv(der: Uint8Array, offset: number): Tlv {
  const tag = der[offset];
  if (tag === undefined || (tag & 0x1f) === 0x1f) throw new Error('CMS DER: unexpected tag');
  let p = offset + 1;
  const first = der[p++];
  if (first === undefined) throw new Error('CMS DER: truncated length');
  let length = first;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4) throw new Error('CMS DER: unsupported length form');
    length = 0;
    for (let i = 0; i < n; i++) {
      const b = der[p++];
      if (b === undefined) throw new Error('CMS DER: truncated length');
      length = length * 256 + b;
    }
  }
  const end = p + length;
  if (end > der.length) throw new Error('CMS DER: length beyond the data');
  return { tag, start: offset, contentStart: p, end };
}

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthBytes(content.length), content]);
}

/** `contentInfo` (DER, a SignedData with no certificates field) with `certificates` (DER each) added. */
export function withCertificates(contentInfo: Uint8Array, certificates: Uint8Array[]): Buffer {
  const der = Buffer.from(contentInfo.buffer, contentInfo.byteOffset, contentInfo.byteLength);
  const outer = readTlv(der, 0);
  const oid = readTlv(der, outer.contentStart);
  const explicit = readTlv(der, oid.end);
  const signedData = readTlv(der, explicit.contentStart);
  if (outer.tag !== 0x30 || oid.tag !== 0x06 || explicit.tag !== 0xa0 || signedData.tag !== 0x30)
    throw new Error('CMS DER: not a ContentInfo with SignedData');
  const version = readTlv(der, signedData.contentStart);
  const digestAlgorithms = readTlv(der, version.end);
  const encap = readTlv(der, digestAlgorithms.end);
  const rest = der.subarray(encap.end, signedData.end);
  if (version.tag !== 0x02 || digestAlgorithms.tag !== 0x31 || encap.tag !== 0x30)
    throw new Error('CMS DER: unexpected SignedData layout');
  if (rest[0] === 0xa0) throw new Error('CMS DER: the SignedData already has certificates');
  const certs = tlv(0xa0, Buffer.concat(certificates.map((c) => Buffer.from(c))));
  const sdContent = Buffer.concat([der.subarray(signedData.contentStart, encap.end), certs, rest]);
  return tlv(0x30, Buffer.concat([der.subarray(oid.start, oid.end), tlv(0xa0, tlv(0x30, sdContent))]));
}
