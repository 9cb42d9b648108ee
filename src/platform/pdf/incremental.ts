import { createHash, randomBytes } from 'node:crypto';
import {
  ParseSpeeds,
  PDFArray,
  PDFDict,
  PDFDocument,
  type PDFFont,
  PDFHexString,
  PDFName,
  type PDFObject,
  PDFRef,
  PDFStream,
  PDFString,
  rgb,
} from 'pdf-lib';
import { embedFonts, textWidth } from './layout.ts';
import { type Signer, signDigestWith } from './signer.ts';

/**
 * Several PAdES-B-B signatures on one PDF (ETSI EN 319 142-1), each an incremental update
 * (ISO 32000-1 §7.5.6) so that no byte an earlier signature covers is ever rewritten:
 *
 * - `preparePdfForSignatures` runs once, before the first signature: it adds one empty signature
 *   field per future signature, draws each stamp area's frame and label (e.g. "L'alcalde") as page
 *   content, and saves the whole document once, without object streams (classic xref tables, so
 *   every later revision is a plain appended section).
 * - `appendSignature` appends a revision with the signature dictionary (/SubFilter
 *   /ETSI.CAdES.detached, /ByteRange over the whole file including this revision, /Contents
 *   holding the CMS), the field's new /V, and the stamp text (name, position, date, CSV,
 *   verification address: `appearanceLines`) as the **widget's appearance stream** — so the text is
 *   part of the revision the signature covers and later revisions cannot alter it without
 *   showing up as a change. The stamp text uses its own DejaVu subset font, so any name prints.
 * - `appendStamp` appends a revision that writes text onto a page (a decree's number and date,
 *   stamped after the deciding signature and before the attesting one, which then covers it).
 *
 * The revision is written by hand: pdf-lib loads the document (later definitions of an object
 * override earlier ones, as in the file's own xref chain), the change is made through pdf-lib,
 * and only the objects that are new or whose serialisation changed are written, followed by an
 * xref section for them and a trailer whose /Prev points at the previous xref section.
 */

/** A rectangle in the page's default user space (points, origin at the bottom left, unrotated). */
export type Rect = { x: number; y: number; width: number; height: number };

export type SignatureSlot = {
  /** The signature field's name (/T), unique in the document. */
  fieldName: string;
  /** Zero-based page index. */
  page: number;
  /** The whole stamp area: the label band at its top, the signature's appearance below it. */
  rect: Rect;
  /** Lines printed at the top of the area when the document is prepared (e.g. the position that signs). */
  label: string[];
};

export type AppendSignatureOptions = {
  fieldName: string;
  signer: Signer;
  reason: string;
  location: string;
  /** The signer's name as viewers show it (/Name). */
  name: string;
  /** The claimed signing time (/M); PAdES-B-B carries no signing-time attribute in the CMS. */
  signingTime: Date;
  /** The stamp text drawn in the field's area: name, position, date, CSV, verification address… */
  appearanceLines: string[];
  contactInfo?: string;
  /** Bytes reserved for the CMS (default 16384: an RSA-4096 signature and a chain of 4–5 certificates). */
  contentsBytes?: number;
};

export class PdfSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PdfSignatureError';
  }
}

const LABEL_SIZE = 7.5;
const LABEL_LEADING = LABEL_SIZE * 1.25;
const PADDING = 3;
const DEFAULT_CONTENTS_BYTES = 16384;

function labelBand(lines: number): number {
  return lines === 0 ? 0 : PADDING + lines * LABEL_LEADING;
}

async function load(pdfBytes: Uint8Array): Promise<PDFDocument> {
  const doc = await PDFDocument.load(pdfBytes, { updateMetadata: false, parseSpeed: ParseSpeeds.Fastest });
  if (doc.isEncrypted) throw new PdfSignatureError('Encrypted PDF documents cannot be signed');
  return doc;
}

function fieldName(dict: PDFDict): string | undefined {
  const t = dict.lookup(PDFName.of('T'));
  return t instanceof PDFString || t instanceof PDFHexString ? t.decodeText() : undefined;
}

/** The AcroForm's terminal fields, with their refs (signature fields are terminal). */
function terminalFields(doc: PDFDocument): { ref: PDFRef; dict: PDFDict; name: string }[] {
  const acroForm = doc.catalog.lookupMaybe(PDFName.of('AcroForm'), PDFDict);
  const fields = acroForm?.lookupMaybe(PDFName.of('Fields'), PDFArray);
  const out: { ref: PDFRef; dict: PDFDict; name: string }[] = [];
  const walk = (arr: PDFArray | undefined, prefix: string) => {
    if (!arr) return;
    for (let i = 0; i < arr.size(); i++) {
      const ref = arr.get(i);
      const dict = doc.context.lookup(ref);
      if (!(ref instanceof PDFRef) || !(dict instanceof PDFDict)) continue;
      const own = fieldName(dict);
      const name = own === undefined ? prefix : prefix ? `${prefix}.${own}` : own;
      const kids = dict.lookupMaybe(PDFName.of('Kids'), PDFArray);
      const kidsAreFields =
        kids !== undefined &&
        kids.size() > 0 &&
        (doc.context.lookup(kids.get(0)) as PDFDict | undefined)?.has(PDFName.of('T'));
      if (kidsAreFields) walk(kids, name);
      else out.push({ ref, dict, name });
    }
  };
  walk(fields, '');
  return out;
}

function fitSize(font: PDFFont, lines: string[], width: number, height: number, max: number): number {
  let size = max;
  if (lines.length) size = Math.min(size, height / (lines.length * 1.2));
  for (const line of lines) {
    const w = textWidth(font, line, 1);
    if (w > 0) size = Math.min(size, width / w);
  }
  return Math.max(size, 3);
}

/**
 * Adds the empty signature fields and draws the stamp areas' frames and labels; returns the
 * document saved whole, without object streams. Refuses a document that already carries a
 * signature (saving it again would break it).
 */
export async function preparePdfForSignatures(pdfBytes: Uint8Array, slots: SignatureSlot[]): Promise<Buffer> {
  const doc = await load(pdfBytes);
  const existing = terminalFields(doc);
  if (
    existing.some((f) => f.dict.lookup(PDFName.of('FT')) === PDFName.of('Sig') && f.dict.has(PDFName.of('V')))
  )
    throw new PdfSignatureError('The document is already signed: it cannot be prepared again');
  const names = new Set(existing.map((f) => f.name));
  for (const s of slots) {
    if (names.has(s.fieldName))
      throw new PdfSignatureError(`Duplicate signature field name "${s.fieldName}"`);
    names.add(s.fieldName);
  }
  const pages = doc.getPages();
  const fonts = await embedFonts(doc);
  const acroForm = doc.catalog.getOrCreateAcroForm();
  // SignaturesExist | AppendOnly (ISO 32000-1 table 219): viewers must save incrementally.
  acroForm.dict.set(PDFName.of('SigFlags'), doc.context.obj(3));
  for (const slot of slots) {
    const page = pages[slot.page];
    if (!page) throw new PdfSignatureError(`Slot "${slot.fieldName}": the document has no page ${slot.page}`);
    const { x, y, width, height } = slot.rect;
    page.drawRectangle({ x, y, width, height, borderColor: rgb(0.55, 0.55, 0.55), borderWidth: 0.5 });
    let ly = y + height - PADDING - LABEL_SIZE;
    for (const line of slot.label) {
      const size = fitSize(fonts.bold, [line], width - 2 * PADDING, LABEL_LEADING, LABEL_SIZE);
      page.drawText(line, { x: x + PADDING, y: ly, size, font: fonts.bold, color: rgb(0.25, 0.25, 0.25) });
      ly -= LABEL_LEADING;
    }
    const band = labelBand(slot.label.length);
    if (band >= height - 8) throw new PdfSignatureError(`Slot "${slot.fieldName}": no room below its label`);
    const widget = doc.context.obj({
      Type: 'Annot',
      Subtype: 'Widget',
      FT: 'Sig',
      T: PDFHexString.fromText(slot.fieldName),
      // The label, for screen readers and viewers' field lists (ISO 32000-1 §12.7.3.1, /TU).
      TU: PDFHexString.fromText(slot.label.join(' — ') || slot.fieldName),
      Rect: [x, y, x + width, y + height - band],
      F: 4,
      P: page.ref,
    });
    const ref = doc.context.register(widget);
    page.node.addAnnot(ref);
    acroForm.addField(ref);
  }
  for (const font of [fonts.regular, fonts.bold]) await font.embed();
  return writeWholeFile(doc);
}

/**
 * The whole document as one revision: every object (no object streams), one classic xref table,
 * the trailer. What pdf-lib's `save({ useObjectStreams: false })` writes, without its byte-by-byte
 * copy of stream contents; the fonts used must have been embedded (`PDFFont.embed`).
 */
function writeWholeFile(doc: PDFDocument): Buffer {
  // The binary comment marks the file as binary for transfer tools (ISO 32000-1 §7.5.2).
  const pieces: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let offset = pieces[0]!.length;
  const offsets = new Map<number, { gen: number; offset: number }>();
  const objects = doc.context
    .enumerateIndirectObjects()
    .sort((a, b) => a[0].objectNumber - b[0].objectNumber);
  for (const [ref, obj] of objects) {
    const parts = serialise(ref, obj);
    offsets.set(ref.objectNumber, { gen: ref.generationNumber, offset });
    pieces.push(...parts);
    offset += totalLength(parts);
  }
  const size = doc.context.largestObjectNumber + 1;
  let xref = `xref\n0 ${size}\n0000000000 65535 f\r\n`;
  for (let n = 1; n < size; n++) {
    const e = offsets.get(n);
    xref += e
      ? `${String(e.offset).padStart(10, '0')} ${String(e.gen).padStart(5, '0')} n\r\n`
      : '0000000000 00001 f\r\n';
  }
  const t = doc.context.trailerInfo;
  const entries = [`/Size ${size}`];
  if (t.Root) entries.push(`/Root ${t.Root.toString()}`);
  if (t.Info) entries.push(`/Info ${t.Info.toString()}`);
  // A file identifier (§14.4) when the document had none: both halves the same for a first save.
  const id = randomBytes(16).toString('hex').toUpperCase();
  entries.push(`/ID ${t.ID ? t.ID.toString() : `[<${id}> <${id}>]`}`);
  pieces.push(
    Buffer.from(`${xref}trailer\n<< ${entries.join(' ')} >>\nstartxref\n${offset}\n%%EOF\n`, 'latin1'),
  );
  return Buffer.concat(pieces);
}

/** Serialisations of every non-stream object, to find after a change which ones it touched. */
function snapshot(doc: PDFDocument): { largest: number; objects: Map<PDFRef, string> } {
  const objects = new Map<PDFRef, string>();
  for (const [ref, obj] of doc.context.enumerateIndirectObjects()) {
    if (!(obj instanceof PDFStream)) objects.set(ref, obj.toString());
  }
  return { largest: doc.context.largestObjectNumber, objects };
}

function changedObjects(doc: PDFDocument, before: ReturnType<typeof snapshot>): [PDFRef, PDFObject][] {
  const out: [PDFRef, PDFObject][] = [];
  for (const [ref, obj] of doc.context.enumerateIndirectObjects()) {
    if (ref.objectNumber > before.largest) out.push([ref, obj]);
    else if (!(obj instanceof PDFStream) && before.objects.get(ref) !== obj.toString()) out.push([ref, obj]);
  }
  return out.sort((a, b) => a[0].objectNumber - b[0].objectNumber);
}

/** The offset the file's last `startxref` points at; it must be a classic xref table. */
function previousXref(pdf: Buffer): number {
  const tail = pdf.subarray(Math.max(0, pdf.length - 1024)).toString('latin1');
  const m = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(tail);
  if (!m) throw new PdfSignatureError('The PDF does not end with startxref/%%EOF');
  const offset = Number(m[1]);
  if (pdf.subarray(offset, offset + 4).toString('latin1') !== 'xref')
    throw new PdfSignatureError(
      'The PDF uses a cross-reference stream: prepare it with preparePdfForSignatures first',
    );
  return offset;
}

const ENDOBJ = Buffer.from('\nendobj\n', 'latin1');
const STREAM = Buffer.from('\nstream\n', 'latin1');
const ENDSTREAM = Buffer.from('\nendstream', 'latin1');

function bytesOf(obj: PDFObject): Buffer {
  const b = Buffer.alloc(obj.sizeInBytes());
  obj.copyBytesInto(b, 0);
  return b;
}

/**
 * `n g obj … endobj`. Stream contents are copied as one block: pdf-lib's own writer copies them
 * byte by byte, which costs tens of milliseconds on a scanned document of a few megabytes.
 */
function serialise(ref: PDFRef, obj: PDFObject): Buffer[] {
  const head = Buffer.from(`${ref.objectNumber} ${ref.generationNumber} obj\n`, 'latin1');
  if (obj instanceof PDFStream) {
    obj.updateDict();
    return [head, bytesOf(obj.dict), STREAM, Buffer.from(obj.getContents()), ENDSTREAM, ENDOBJ];
  }
  return [head, bytesOf(obj), ENDOBJ];
}

function totalLength(pieces: Buffer[]): number {
  let n = 0;
  for (const p of pieces) n += p.length;
  return n;
}

/** An xref section for `entries` (object number → offset, generation), grouped in consecutive runs. */
function xrefSection(entries: { num: number; gen: number; offset: number }[]): string {
  const sorted = [...entries].sort((a, b) => a.num - b.num);
  let out = 'xref\n';
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1]!.num === sorted[j]!.num + 1) j++;
    out += `${sorted[i]!.num} ${j - i + 1}\n`;
    for (let k = i; k <= j; k++) {
      const e = sorted[k]!;
      // Each entry is exactly 20 bytes (ISO 32000-1 §7.5.4).
      out += `${String(e.offset).padStart(10, '0')} ${String(e.gen).padStart(5, '0')} n\r\n`;
    }
    i = j + 1;
  }
  return out;
}

function trailer(doc: PDFDocument, prev: number): string {
  const t = doc.context.trailerInfo;
  const entries = [`/Size ${doc.context.largestObjectNumber + 1}`];
  if (t.Root) entries.push(`/Root ${t.Root.toString()}`);
  if (t.Info) entries.push(`/Info ${t.Info.toString()}`);
  if (t.ID) entries.push(`/ID ${t.ID.toString()}`);
  entries.push(`/Prev ${prev}`);
  return `trailer\n<< ${entries.join(' ')} >>\n`;
}

/**
 * The bytes of a new revision: the changed and new objects, then `last` (written by the caller
 * at a known offset), the xref section and the trailer.
 */
function buildRevision(
  base: Buffer,
  doc: PDFDocument,
  changed: [PDFRef, PDFObject][],
  last?: { ref: PDFRef; bytes: Buffer },
): { bytes: Buffer; lastOffset: number } {
  const prev = previousXref(base);
  const pieces: Buffer[] = [base];
  let offset = base.length;
  if (base[base.length - 1] !== 0x0a) {
    pieces.push(Buffer.from('\n'));
    offset += 1;
  }
  const entries: { num: number; gen: number; offset: number }[] = [];
  for (const [ref, obj] of changed) {
    const parts = serialise(ref, obj);
    entries.push({ num: ref.objectNumber, gen: ref.generationNumber, offset });
    pieces.push(...parts);
    offset += totalLength(parts);
  }
  let lastOffset = -1;
  if (last) {
    const head = Buffer.from(`${last.ref.objectNumber} ${last.ref.generationNumber} obj\n`, 'latin1');
    const piece = Buffer.concat([head, last.bytes, Buffer.from('\nendobj\n', 'latin1')]);
    entries.push({ num: last.ref.objectNumber, gen: last.ref.generationNumber, offset });
    lastOffset = offset + head.length;
    pieces.push(piece);
    offset += piece.length;
  }
  const xrefOffset = offset;
  pieces.push(
    Buffer.from(`${xrefSection(entries)}${trailer(doc, prev)}startxref\n${xrefOffset}\n%%EOF\n`, 'latin1'),
  );
  return { bytes: Buffer.concat(pieces), lastOffset };
}

function findSignatureField(doc: PDFDocument, name: string): PDFDict {
  const field = terminalFields(doc).find((f) => f.name === name);
  if (!field) throw new PdfSignatureError(`The document has no signature field "${name}"`);
  if (field.dict.lookup(PDFName.of('FT')) !== PDFName.of('Sig'))
    throw new PdfSignatureError(`The field "${name}" is not a signature field`);
  if (field.dict.has(PDFName.of('V'))) throw new PdfSignatureError(`The field "${name}" is already signed`);
  if (field.dict.lookup(PDFName.of('Subtype')) !== PDFName.of('Widget'))
    throw new PdfSignatureError(`The field "${name}" has no widget of its own`);
  return field.dict;
}

/** The appearance (Form XObject) of a widget of `width`×`height` showing `lines`. */
async function appearance(doc: PDFDocument, width: number, height: number, lines: string[]): Promise<PDFRef> {
  const fonts = await embedFonts(doc);
  const font = fonts.regular;
  const size = fitSize(font, lines, width - 2 * PADDING, height - 2 * PADDING, 8);
  const leading = size * 1.2;
  let ops = 'q 0 0 0 rg BT\n';
  let y = height - PADDING - size;
  for (const line of lines) {
    ops += `/F1 ${size.toFixed(2)} Tf 1 0 0 1 ${PADDING} ${y.toFixed(2)} Tm ${font.encodeText(line).toString()} Tj\n`;
    y -= leading;
  }
  ops += 'ET Q\n';
  await font.embed();
  const stream = doc.context.flateStream(ops, {
    Type: 'XObject',
    Subtype: 'Form',
    BBox: [0, 0, width, height],
    Resources: { Font: { F1: font.ref } },
  });
  return doc.context.register(stream);
}

function pdfDate(d: Date): string {
  return PDFString.fromDate(d).toString();
}

function text(s: string): string {
  return PDFHexString.fromText(s).toString();
}

/**
 * Appends one signature as an incremental update and returns the whole file. The CMS is made
 * by `signer` over SHA-256 of the /ByteRange (everything but the /Contents hex string), which
 * includes this revision's xref section and trailer: the signature covers the whole file as it
 * is returned, and each later revision leaves it intact.
 */
export async function appendSignature(pdfBytes: Uint8Array, opts: AppendSignatureOptions): Promise<Buffer> {
  const base = Buffer.from(pdfBytes.buffer, pdfBytes.byteOffset, pdfBytes.byteLength);
  previousXref(base);
  const doc = await load(base);
  const before = snapshot(doc);
  const field = findSignatureField(doc, opts.fieldName);
  const rect = field.lookup(PDFName.of('Rect'), PDFArray).asRectangle();
  const ap = await appearance(doc, rect.width, rect.height, opts.appearanceLines);
  field.set(PDFName.of('AP'), doc.context.obj({ N: ap }));
  const sigRef = doc.context.nextRef();
  field.set(PDFName.of('V'), sigRef);
  // Marks the field as changed by this revision's author; viewers list it as signed.
  field.set(PDFName.of('M'), PDFString.fromDate(opts.signingTime));

  const contentsBytes = opts.contentsBytes ?? DEFAULT_CONTENTS_BYTES;
  const byteRangePlaceholder = `[0 ${'0'.repeat(10)} ${'0'.repeat(10)} ${'0'.repeat(10)}]`;
  const head =
    `<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange ${byteRangePlaceholder}` +
    ` /M ${pdfDate(opts.signingTime)} /Name ${text(opts.name)} /Reason ${text(opts.reason)}` +
    ` /Location ${text(opts.location)}` +
    (opts.contactInfo ? ` /ContactInfo ${text(opts.contactInfo)}` : '') +
    ' /Contents ';
  const sigBytes = Buffer.from(`${head}<${'0'.repeat(contentsBytes * 2)}> >>`, 'latin1');
  const { bytes: out, lastOffset } = buildRevision(base, doc, changedObjects(doc, before), {
    ref: sigRef,
    bytes: sigBytes,
  });

  const contentsStart = lastOffset + head.length;
  const contentsEnd = contentsStart + contentsBytes * 2 + 2;
  const byteRange = [0, contentsStart, contentsEnd, out.length - contentsEnd];
  const brText = `[${byteRange.map((n, i) => (i === 0 ? '0' : String(n).padStart(10, '0'))).join(' ')}]`;
  const brAt = lastOffset + head.indexOf('/ByteRange ') + '/ByteRange '.length;
  out.write(brText, brAt, 'latin1');

  const digest = createHash('sha256')
    .update(out.subarray(0, contentsStart))
    .update(out.subarray(contentsEnd))
    .digest();
  const cms = await signDigestWith(digest, opts.signer);
  if (cms.length > contentsBytes)
    throw new PdfSignatureError(`The CMS (${cms.length} bytes) does not fit the ${contentsBytes} reserved`);
  out.write(cms.toString('hex'), contentsStart + 1, 'latin1');
  return out;
}

/**
 * Appends a revision that writes `lines` onto page `page` (zero-based) inside `rect`, in the
 * DejaVu font at a size that fits; returns the whole file. Earlier signatures stay valid and do
 * not cover the text; signatures appended afterwards do.
 */
export async function appendStamp(
  pdfBytes: Uint8Array,
  page: number,
  rect: Rect,
  lines: string[],
): Promise<Buffer> {
  const base = Buffer.from(pdfBytes.buffer, pdfBytes.byteOffset, pdfBytes.byteLength);
  previousXref(base);
  const doc = await load(base);
  const before = snapshot(doc);
  const target = doc.getPages()[page];
  if (!target) throw new PdfSignatureError(`The document has no page ${page}`);
  const fonts = await embedFonts(doc);
  const size = fitSize(fonts.regular, lines, rect.width - 2 * PADDING, rect.height - 2 * PADDING, 9);
  let y = rect.y + rect.height - PADDING - size;
  for (const line of lines) {
    target.drawText(line, { x: rect.x + PADDING, y, size, font: fonts.regular, color: rgb(0, 0, 0) });
    y -= size * 1.2;
  }
  await fonts.regular.embed();
  return buildRevision(base, doc, changedObjects(doc, before)).bytes;
}
