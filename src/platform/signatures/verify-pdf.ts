import { createHash } from 'node:crypto';
import {
  type Coverage,
  type CmsSignerResult,
  parseSignedData,
  SignatureFormatError,
  type SignatureReport,
  type VerifyOptions,
  verifySignedData,
} from './verify-cms.ts';

/**
 * Verification of every signature of a PDF (PAdES, adbe.pkcs7.detached, document timestamps).
 *
 * The PDF is not parsed as a whole: a byte scan finds each signature dictionary by its
 * /ByteRange. That is sound because a signature's /Contents must lie, as a hex string, exactly in
 * the gap its /ByteRange leaves (it cannot be inside a compressed object stream: the covered
 * bytes are the file's own bytes), so each real signature is found at a checked place. Several
 * signatures (incremental updates) each have their own /ByteRange; each is verified over its
 * own bytes, and its coverage says which revision it covers.
 *
 * Position convention: Lligall writes a signer's position (càrrec) in the signature's /Reason as
 * "<reason> — <position>" (an em dash between spaces; the text after the last one; written by
 * pdf-lib's PDFString the em dash becomes the byte 0x14, also accepted), or in an entry
 * `/LligallPosition (text)` of the signature dictionary, which wins when present.
 */

/** Files larger than this are refused (the verification reads the whole file into memory). */
export const MAX_PDF_BYTES = 256 * 1024 * 1024;
/** At most this many signatures are verified in one file. */
export const MAX_PDF_SIGNATURES = 200;

/** One signature dictionary as found by the scan. */
export type PdfSignatureField = {
  byteRange: [number, number, number, number];
  /** The CMS (DER) decoded from /Contents, trailing zero padding removed. */
  contents: Buffer;
  subFilter: string | null;
  filter: string | null;
  /** /M: the claimed signing time. */
  signedAt: Date | null;
  name: string | null;
  reason: string | null;
  location: string | null;
  /** /LligallPosition, if present. */
  position: string | null;
};

const WS = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);

function latin1(buf: Buffer, from: number, to: number): string {
  return buf.toString('latin1', Math.max(0, from), Math.min(buf.length, to));
}

/** PDFDocEncoding's differences from Latin-1 in 0x80–0xA0 (PDF 32000-1 Annex D). */
const PDFDOC_HIGH =
  '\u2022\u2020\u2021\u2026\u2014\u2013\u0192\u2044\u2039\u203a\u2212\u2030\u201e\u201c\u201d\u2018' +
  '\u2019\u201a\u2122\ufb01\ufb02\u0141\u0152\u0160\u0178\u017d\u0131\u0142\u0153\u0161\u017e\ufffd\u20ac';

/** Text of a PDF string's bytes: UTF-16BE or UTF-8 with their BOM, else PDFDocEncoding. */
export function decodePdfText(bytes: Buffer): string {
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2));
    swapped.swap16();
    return swapped.toString('utf16le');
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8');
  let s = '';
  for (const b of bytes) s += b >= 0x80 && b <= 0xa0 ? PDFDOC_HIGH[b - 0x80] : String.fromCharCode(b);
  return s;
}

/** Reads a literal `( … )` or hex `< … >` string at `i` of `t` (Latin-1 text); null if none. */
function readPdfString(t: string, i: number): Buffer | null {
  while (i < t.length && WS.has(t.charCodeAt(i))) i++;
  if (t[i] === '<' && t[i + 1] !== '<') {
    const end = t.indexOf('>', i);
    if (end < 0) return null;
    let hex = t.slice(i + 1, end).replace(/\s+/g, '');
    if (!/^[0-9a-fA-F]*$/.test(hex)) return null;
    if (hex.length % 2) hex += '0';
    return Buffer.from(hex, 'hex');
  }
  if (t[i] !== '(') return null;
  const out: number[] = [];
  let depth = 1;
  for (let j = i + 1; j < t.length; j++) {
    const c = t[j]!;
    if (c === '\\') {
      const n = t[++j];
      if (n === undefined) return null;
      const esc: Record<string, number> = { n: 10, r: 13, t: 9, b: 8, f: 12, '(': 40, ')': 41, '\\': 92 };
      if (n in esc) out.push(esc[n]!);
      else if (/[0-7]/.test(n)) {
        let oct = n;
        while (oct.length < 3 && /[0-7]/.test(t[j + 1] ?? '')) oct += t[++j];
        out.push(Number.parseInt(oct, 8) & 0xff);
      } else if (n === '\r') {
        if (t[j + 1] === '\n') j++;
      } else if (n !== '\n') out.push(n.charCodeAt(0));
      continue;
    }
    if (c === '(') depth++;
    if (c === ')' && --depth === 0) return Buffer.from(out);
    out.push(c.charCodeAt(0));
  }
  return null;
}

/** The first string value of `/key` in the dictionary text (skipping entries whose value is not a string). */
function stringEntry(dict: string, key: string): string | null {
  const re = new RegExp(`/${key}(?=[\\s(<])`, 'g');
  for (let m = re.exec(dict); m; m = re.exec(dict)) {
    const s = readPdfString(dict, m.index + key.length + 1);
    if (s) return decodePdfText(s);
  }
  return null;
}

function nameEntry(dict: string, key: string): string | null {
  const m = new RegExp(`/${key}\\s*/([^\\s/<>\\[\\]()]+)`).exec(dict);
  return m?.[1] ?? null;
}

/** A PDF date (`D:YYYYMMDDHHmmSSOHH'mm'`) as a Date; null when malformed. */
export function parsePdfDate(s: string | null): Date | null {
  const m = s && /^D?:?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz+-])?(\d{2})?'?(\d{2})?'?/.exec(s);
  if (!m) return null;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', se = '00', sign, oh = '00', om = '00'] = m;
  let t = Date.UTC(+y!, +mo - 1, +d, +h, +mi, +se);
  if (sign === '+' || sign === '-') t -= (sign === '+' ? 1 : -1) * (+oh * 60 + +om) * 60_000;
  return Number.isNaN(t) ? null : new Date(t);
}

const OBJ_RE = /\d+\s+\d+\s+obj\b/g;
const WINDOW = 64 * 1024;

/** The dictionary text around a /ByteRange: from its `n g obj` to its `endobj`, without the /Contents hex. */
function dictionaryText(buf: Buffer, at: number, gap: [number, number]): string {
  const lo = Math.min(at, gap[0]);
  const hi = Math.max(at, gap[1]);
  const before = latin1(buf, lo - WINDOW, lo);
  let start = Math.max(0, lo - WINDOW);
  for (let m = OBJ_RE.exec(before); m; m = OBJ_RE.exec(before)) start = lo - before.length + m.index;
  OBJ_RE.lastIndex = 0;
  let end = buf.indexOf('endobj', hi, 'latin1');
  if (end < 0 || end - hi > WINDOW) end = Math.min(buf.length, hi + WINDOW);
  return latin1(buf, start, gap[0]) + latin1(buf, gap[1], end);
}

function readByteRange(buf: Buffer, at: number): [number, number, number, number] | null {
  const t = latin1(buf, at + '/ByteRange'.length, at + '/ByteRange'.length + 120);
  const m = /^\s*\[\s*(\d{1,12})\s+(\d{1,12})\s+(\d{1,12})\s+(\d{1,12})\s*\]/.exec(t);
  if (!m) return null;
  return [+m[1]!, +m[2]!, +m[3]!, +m[4]!];
}

/** Strips the zero padding after a DER SEQUENCE (signers reserve more room than the CMS needs). */
export function trimDer(b: Buffer): Buffer {
  if (b[0] !== 0x30 || b.length < 2) return b;
  const l = b[1]!;
  if (l < 0x80) return b.subarray(0, 2 + l);
  const n = l & 0x7f;
  if (n === 0 || n > 4 || b.length < 2 + n) return b; // indefinite length (BER): leave as is
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + b[2 + i]!;
  return b.subarray(0, Math.min(b.length, 2 + n + len));
}

/** Every signature dictionary of the PDF, in file order. Throws SignatureFormatError for a non-PDF. */
export function findPdfSignatures(buf: Buffer): PdfSignatureField[] {
  if (buf.length > MAX_PDF_BYTES) {
    throw new SignatureFormatError(`The PDF is larger than ${MAX_PDF_BYTES} bytes`);
  }
  if (buf.indexOf('%PDF-', 0, 'latin1') < 0 || buf.indexOf('%PDF-', 0, 'latin1') > 1024) {
    throw new SignatureFormatError('Not a PDF (no %PDF- header)');
  }
  const found: PdfSignatureField[] = [];
  const seen = new Set<string>();
  for (
    let at = buf.indexOf('/ByteRange', 0, 'latin1');
    at >= 0;
    at = buf.indexOf('/ByteRange', at + 10, 'latin1')
  ) {
    const br = readByteRange(buf, at);
    if (!br) continue; // an unfilled placeholder, or the words in some other context
    const [a, b, c, d] = br;
    const gapStart = a + b;
    if (a !== 0 || gapStart >= c || c + d > buf.length || buf[gapStart] !== 0x3c || buf[c - 1] !== 0x3e) {
      continue;
    }
    const key = br.join(' ');
    if (seen.has(key)) continue;
    seen.add(key);
    if (found.length >= MAX_PDF_SIGNATURES) {
      throw new SignatureFormatError(`The PDF has more than ${MAX_PDF_SIGNATURES} signatures`);
    }
    const hex = latin1(buf, gapStart + 1, c - 1).replace(/\s+/g, '');
    if (!/^[0-9a-fA-F]*$/.test(hex)) continue;
    const dict = dictionaryText(buf, at, [gapStart, c]);
    found.push({
      byteRange: br,
      contents: trimDer(Buffer.from(hex.length % 2 ? `${hex}0` : hex, 'hex')),
      subFilter: nameEntry(dict, 'SubFilter'),
      filter: nameEntry(dict, 'Filter'),
      signedAt: parsePdfDate(stringEntry(dict, 'M')),
      name: stringEntry(dict, 'Name'),
      reason: stringEntry(dict, 'Reason'),
      location: stringEntry(dict, 'Location'),
      position: stringEntry(dict, 'LligallPosition'),
    });
  }
  return found;
}

/** Offsets just after each revision's %%EOF (and its end-of-line). */
function revisionEnds(buf: Buffer): number[] {
  const ends: number[] = [];
  for (let i = buf.indexOf('%%EOF', 0, 'latin1'); i >= 0; i = buf.indexOf('%%EOF', i + 5, 'latin1')) {
    let e = i + 5;
    if (buf[e] === 0x0d) e++;
    if (buf[e] === 0x0a) e++;
    ends.push(e);
  }
  // A linearized file's first-page section ends with its own %%EOF inside the first revision.
  if (ends.length > 1 && latin1(buf, 0, 1024).includes('/Linearized')) ends.shift();
  return ends;
}

function isBlank(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!WS.has(buf[i]!)) return false;
  return true;
}

export function coverageOf(buf: Buffer, br: [number, number, number, number], ends?: number[]): Coverage {
  const covered = br[2] + br[3];
  const revs = ends ?? revisionEnds(buf);
  const revisions = Math.max(1, revs.length);
  const base = { coveredBytes: covered, totalBytes: buf.length, revisions };
  if (covered === buf.length) {
    return { ...base, label: 'whole', scope: 'whole', revision: revisions, laterChangesIncremental: null };
  }
  const revision = Math.max(1, revs.filter((e) => e <= covered + 2).length);
  // The covered bytes must end at a revision's end; what follows must be incremental updates,
  // each with its cross-reference section (xref table or stream) chained to the previous by /Prev.
  const boundary = revs.find((e) => e >= covered - 2 && e <= covered + 2);
  let incremental =
    boundary !== undefined && isBlank(buf, Math.min(boundary, covered), Math.max(boundary, covered));
  if (incremental) {
    let from = covered;
    for (const e of revs.filter((x) => x > covered + 2)) {
      const section = latin1(buf, from, e);
      if (!section.includes('startxref') || !/\/Prev\s+\d+/.test(section)) incremental = false;
      from = e;
    }
    if (!isBlank(buf, from, buf.length)) incremental = false;
  }
  return {
    ...base,
    label: `revision ${revision}`,
    scope: 'revision',
    revision,
    laterChangesIncremental: incremental,
  };
}

/** The position from /LligallPosition, else the text after the last " — " of /Reason. */
export function positionOf(f: Pick<PdfSignatureField, 'position' | 'reason'>): string | null {
  if (f.position?.trim()) return f.position.trim();
  const r = f.reason ?? '';
  // pdf-lib's PDFString keeps only the low byte of each character: its em dash arrives as U+0014.
  const i = Math.max(r.lastIndexOf(' \u2014 '), r.lastIndexOf(' \u0014 '));
  const p = i >= 0 ? r.slice(i + 3).trim() : '';
  return p || null;
}

function pdfFormat(f: PdfSignatureField, r: CmsSignerResult | null): string {
  if (f.subFilter === 'ETSI.RFC3161') return 'PAdES document timestamp (ETSI.RFC3161)';
  if (f.subFilter === 'ETSI.CAdES.detached' && r?.hasSigningCertificateV2 && !r.signingTime)
    return 'PAdES-B-B';
  return `PAdES (${f.subFilter ?? 'no SubFilter'})`;
}

const SUPPORTED_SUBFILTERS = new Set(['ETSI.CAdES.detached', 'adbe.pkcs7.detached', 'ETSI.RFC3161']);

/** Verifies every signature of a PDF; one report per signature, in file order. */
export async function verifyPdf(pdf: Uint8Array, opts: VerifyOptions): Promise<SignatureReport[]> {
  const buf = Buffer.isBuffer(pdf) ? pdf : Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength);
  const fields = findPdfSignatures(buf);
  const ends = fields.length ? revisionEnds(buf) : [];
  const reports: SignatureReport[] = [];
  for (const f of fields) {
    const [a, b, c, d] = f.byteRange;
    const digest = (hash: string) =>
      createHash(hash)
        .update(buf.subarray(a, a + b))
        .update(buf.subarray(c, c + d))
        .digest();
    const base = {
      coverage: coverageOf(buf, f.byteRange, ends),
      reason: f.reason,
      name: f.name,
      position: positionOf(f),
    };
    let result: CmsSignerResult | null = null;
    let problem: string | null = null;
    if (!f.subFilter || !SUPPORTED_SUBFILTERS.has(f.subFilter)) {
      problem = `unsupported signature format /SubFilter /${f.subFilter ?? '(none)'}`;
    } else {
      try {
        const sd = parseSignedData(f.contents);
        // A PDF signature has one signer; a CMS with more is reported by its first.
        result = (await verifySignedData(sd, digest, { ...opts, claimedAt: f.signedAt }))[0] ?? null;
      } catch (e) {
        problem = `the signature value cannot be read: ${(e as Error).message}`;
      }
    }
    const signingTime = result?.signingTime ?? null;
    const signedAt = signingTime ?? f.signedAt;
    const claimedTimes = {
      pdfM: f.signedAt?.toISOString() ?? null,
      signingTime: signingTime?.toISOString() ?? null,
    };
    if (!result) {
      reports.push({
        ...base,
        signer: f.name,
        signerFacts: null,
        format: pdfFormat(f, null),
        integrity: 'invalid',
        integrityProblem: problem,
        trust: 'unknown',
        trustReason: problem ?? 'the signature cannot be read',
        signedAt: signedAt?.toISOString() ?? null,
        claimedTimes,
        certificate: null,
        chain: [],
      });
      continue;
    }
    const { hasSigningCertificate, hasSigningCertificateV2, isTimestamp, signingTime: _st, ...r } = result;
    reports.push({
      ...r,
      ...base,
      format: pdfFormat(f, result),
      signedAt: signedAt?.toISOString() ?? null,
      claimedTimes,
    });
  }
  return reports;
}
