/**
 * A small, strict-enough DER/BER reader for what signature verification reads (CMS, X.509
 * fields, timestamps). asn1js + pkijs take ~15 ms to parse one PAdES CMS; this takes well under
 * one, which is what lets a 100 KB PDF verify within the 20 ms target. Every read is bounds
 * checked; malformed input throws DerError, never reads past its buffer.
 */

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

/** One TLV: `tag` is the identifier octet (class, constructed bit, number < 31). */
export type Tlv = {
  tag: number;
  /** The whole element (header + content), as encoded. */
  raw: Buffer;
  /** The content octets (for an indefinite length: up to, not including, the end-of-contents). */
  value: Buffer;
};

export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
} as const;

const MAX_DEPTH = 64;

/** Reads the element at `pos`; returns it and the offset after it. */
export function readTlv(buf: Buffer, pos = 0, depth = 0): { tlv: Tlv; next: number } {
  if (depth > MAX_DEPTH) throw new DerError('nested too deeply');
  if (pos + 2 > buf.length) throw new DerError('truncated');
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not used here');
  let len = buf[pos + 1]!;
  let off = pos + 2;
  if (len === 0x80) {
    if (!(tag & 0x20)) throw new DerError('indefinite length on a primitive');
    let p = off;
    for (;;) {
      if (p + 2 > buf.length) throw new DerError('unterminated indefinite length');
      if (buf[p] === 0 && buf[p + 1] === 0) break;
      p = readTlv(buf, p, depth + 1).next;
    }
    return { tlv: { tag, raw: buf.subarray(pos, p + 2), value: buf.subarray(off, p) }, next: p + 2 };
  }
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n > 4 || off + n > buf.length) throw new DerError('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[off + i]!;
    off += n;
  }
  const end = off + len;
  if (end > buf.length) throw new DerError('truncated');
  return { tlv: { tag, raw: buf.subarray(pos, end), value: buf.subarray(off, end) }, next: end };
}

export function parse(buf: Buffer): Tlv {
  return readTlv(buf, 0).tlv;
}

/** The children of a constructed element. */
export function children(t: Tlv): Tlv[] {
  if (!(t.tag & 0x20)) throw new DerError('not a constructed element');
  const out: Tlv[] = [];
  for (let p = 0; p < t.value.length; ) {
    const r = readTlv(t.value, p, 1);
    out.push(r.tlv);
    p = r.next;
  }
  return out;
}

export function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new DerError(`expected ${what}`);
  return t;
}

export function oid(t: Tlv | undefined): string {
  const v = expect(t, TAG.OID, 'an object identifier').value;
  if (v.length === 0) throw new DerError('empty object identifier');
  const parts: number[] = [];
  let n = 0;
  for (const b of v) {
    n = n * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(n);
      n = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

/** The content of an OCTET STRING (primitive or, in BER, constructed from pieces). */
export function octets(t: Tlv | undefined): Buffer {
  if (t?.tag === TAG.OCTET_STRING) return t.value;
  if (t?.tag === 0x24) return Buffer.concat(children(t).map((c) => octets(c)));
  throw new DerError('expected an octet string');
}

export function integer(t: Tlv | undefined): Buffer {
  return expect(t, TAG.INTEGER, 'an integer').value;
}

export function smallInteger(t: Tlv | undefined): number {
  const v = integer(t);
  if (v.length > 4) throw new DerError('integer too large');
  return v.reduce((n, b) => n * 256 + b, 0);
}

/** UTCTime or GeneralizedTime as a Date. */
export function time(t: Tlv | undefined): Date {
  if (!t || (t.tag !== TAG.UTC_TIME && t.tag !== TAG.GENERALIZED_TIME)) throw new DerError('expected a time');
  const s = t.value.toString('latin1');
  const m =
    t.tag === TAG.UTC_TIME
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(s)
      : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.\d+)?Z$/.exec(s);
  if (!m) throw new DerError(`unsupported time ${s}`);
  let y = Number(m[1]);
  if (t.tag === TAG.UTC_TIME) y += y < 50 ? 2000 : 1900; // RFC 5280 §4.1.2.5.1
  return new Date(Date.UTC(y, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
}

/** Integers compare without their leading zero octets. */
export function sameInteger(a: Buffer, b: Buffer): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length - 1 && a[i] === 0) i++;
  while (j < b.length - 1 && b[j] === 0) j++;
  return a.subarray(i).equals(b.subarray(j));
}
