import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import zlib from 'node:zlib';
import fontkit from '@pdf-lib/fontkit';
import {
  type Color,
  cleanText,
  lineSplit,
  PDFContext,
  type PDFDict,
  type PDFDocument,
  type PDFFont,
  PDFHexString,
  PDFName,
  type PDFPage,
  type PDFRawStream,
  type PDFRef,
  PDFStream,
  rgb,
  setFillingColor,
} from 'pdf-lib';
import './native-deflate.ts';

/**
 * A small flowing-text writer for the documents Lligall issues (receipts, evidence): A4 pages,
 * the DejaVu fonts (Unicode, so every name in Catalan, Spanish, Aranese or any other language is
 * written as is — pdf-lib's standard fonts are WinAnsi only), word wrapping, page breaks and a
 * footer repeated on every page. Fonts: DejaVu (npm `dejavu-fonts-ttf`; Bitstream Vera licence,
 * DejaVu changes public domain), embedded as subsets with their ToUnicode maps so text extraction
 * (pdftotext, screen readers) gives the original text.
 */

const require = createRequire(import.meta.url);
const FONT_DIR = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const fontCache = new Map<string, Buffer>();

function fontBytes(file: string): Buffer {
  let b = fontCache.get(file);
  if (!b) {
    b = fs.readFileSync(path.join(FONT_DIR, file));
    fontCache.set(file, b);
  }
  return b;
}

/**
 * fontkit parses a 700 KB TrueType file in tens of milliseconds; pdf-lib would parse it again for
 * every document. The parsed fonts are kept (keyed by their bytes, which never change) and each
 * document still gets its own subset.
 */
const parsed = new WeakMap<Uint8Array, unknown>();
const cachingFontkit = {
  create(data: Uint8Array, postscriptName?: string) {
    let f = parsed.get(data);
    if (!f) {
      f = fontkit.create(data, postscriptName);
      parsed.set(data, f);
    }
    return f;
  },
} as unknown as typeof fontkit;

/** DejaVu Sans has tabular digits, so hashes line up without a monospaced font (one font fewer to subset). */
export type Fonts = { regular: PDFFont; bold: PDFFont; mono: PDFFont };

/**
 * pdf-lib encodes text by running fontkit's full OpenType layout (shaping) on every string,
 * which costs milliseconds per line. Our documents need no shaping (no ligatures, no complex
 * scripts): each character maps to its glyph through the font's cmap, and the glyph joins the
 * document's subset exactly as pdf-lib does it (so widths and the ToUnicode map stay right).
 */
type SubsetEmbedder = {
  font: { glyphForCodePoint(cp: number): { id: number } };
  subset: { includeGlyph(g: { id: number }): number; glyphs: number[] };
  glyphs: unknown[];
  glyphIdMap: Map<number, number>;
  glyphCache: { invalidate(): void };
  encodeText(text: string): PDFHexString;
  serializeFont(): Promise<Uint8Array>;
  embedFontStream(context: PDFContext): Promise<PDFRef>;
  embedUnicodeCmap(context: PDFContext): PDFRef;
};

/**
 * Glyphs every subset starts with, in this order: the printable ASCII range and the letters and
 * signs of Catalan, Spanish and Aranese. Most documents use no other, so their subsets are the
 * same glyphs with the same ids, and the subset font file and its ToUnicode map — encoding a
 * TrueType subset and deflating it cost several milliseconds — are made once per process (below).
 * A document with other characters (a name in another script) extends its own subset as before.
 */
const BASE_GLYPHS = `${Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('')}ÀÁÇÈÉÍÏÑÒÓÚÜàáçèéíïñòóúü·’‘“”«»—–…€ªº¡¿`;

/** Deflated font files and ToUnicode maps by font and subset glyph list (the same bytes for the same glyphs). */
const subsetStreams = new Map<string, Uint8Array>();
const MAX_SUBSET_STREAMS = 256;

function remember(key: string, bytes: Uint8Array): Uint8Array {
  if (subsetStreams.size >= MAX_SUBSET_STREAMS) subsetStreams.clear();
  subsetStreams.set(key, bytes);
  return bytes;
}

/**
 * Every document's subset starts with the same glyphs (BASE_GLYPHS), so their subset ids, their
 * hex codes and the subset's state after them are the same in every document: worked out for the
 * first document with each font and copied into the next ones (a copy of a few arrays instead of
 * some three hundred glyph lookups), and text made only of those characters is encoded from a
 * table without asking the font.
 */
type BaseSubset = {
  subsetGlyphs: number[];
  mapping: Record<number, number>;
  glyphs: unknown[];
  glyphIdMap: Map<number, number>;
  hexByChar: Map<string, string>;
};
const baseSubsets = new Map<string, BaseSubset>();

function withoutShaping(font: PDFFont, file: string): PDFFont {
  const embedder = (font as unknown as { embedder: SubsetEmbedder }).embedder;
  const subset = embedder.subset as SubsetEmbedder['subset'] & { mapping: Record<number, number> };
  const include = (ch: string): string => {
    const glyph = embedder.font.glyphForCodePoint(ch.codePointAt(0)!);
    const id = subset.includeGlyph(glyph);
    embedder.glyphs[id - 1] = glyph;
    embedder.glyphIdMap.set(glyph.id, id);
    return id.toString(16).padStart(4, '0');
  };
  let base = baseSubsets.get(file);
  // A document starts with the base subset's own arrays, shared, and copies them the first time
  // it adds a glyph or has its font file encoded (fontkit adds the parts of composite glyphs).
  let shared = false;
  const own = () => {
    if (!shared || !base) return;
    subset.glyphs = base.subsetGlyphs.slice();
    subset.mapping = { ...base.mapping };
    embedder.glyphs = base.glyphs.slice();
    embedder.glyphIdMap = new Map(base.glyphIdMap);
    embedder.glyphCache.invalidate();
    shared = false;
  };
  if (base) {
    subset.glyphs = base.subsetGlyphs;
    subset.mapping = base.mapping;
    embedder.glyphs = base.glyphs;
    embedder.glyphIdMap = base.glyphIdMap;
    shared = true;
  } else {
    const hexByChar = new Map<string, string>();
    for (const ch of BASE_GLYPHS) hexByChar.set(ch, include(ch));
    base = {
      subsetGlyphs: subset.glyphs.slice(),
      mapping: { ...subset.mapping },
      glyphs: embedder.glyphs.slice(),
      glyphIdMap: new Map(embedder.glyphIdMap),
      hexByChar,
    };
    baseSubsets.set(file, base);
  }
  embedder.glyphCache.invalidate();
  const { hexByChar } = base;
  embedder.encodeText = (text: string) => {
    let hex = '';
    let added = false;
    for (const ch of text) {
      const known = hexByChar.get(ch);
      if (known !== undefined) hex += known;
      else {
        own();
        hex += include(ch);
        added = true;
      }
    }
    if (added) embedder.glyphCache.invalidate();
    return PDFHexString.of(hex);
  };
  const key = () => `${file}:${embedder.subset.glyphs.join(',')}`;
  const serializeFont = embedder.serializeFont.bind(embedder);
  const embedUnicodeCmap = embedder.embedUnicodeCmap.bind(embedder);
  // A TrueType subset (not CFF): its stream dictionary has no Subtype, as the library writes it.
  embedder.embedFontStream = async (context) => {
    const k = `font:${key()}`;
    let bytes = subsetStreams.get(k);
    if (!bytes) {
      own();
      bytes = remember(k, (context.flateStream(await serializeFont()) as PDFRawStream).contents);
    }
    return context.register(context.stream(bytes, { Filter: 'FlateDecode' }));
  };
  embedder.embedUnicodeCmap = (context) => {
    const k = `cmap:${key()}`;
    // The library's own map, made in a scratch context: only its deflated bytes are kept.
    const bytes =
      subsetStreams.get(k) ??
      (() => {
        const scratch = PDFContext.create();
        return remember(k, (scratch.lookup(embedUnicodeCmap(scratch)) as PDFRawStream).contents);
      })();
    return context.register(context.stream(bytes, { Filter: 'FlateDecode' }));
  };
  return font;
}

export async function embedFonts(doc: PDFDocument): Promise<Fonts> {
  doc.registerFontkit(cachingFontkit);
  const [regular, bold] = await Promise.all([
    doc.embedFont(fontBytes('DejaVuSans.ttf'), { subset: true }).then((f) => withoutShaping(f, 'DejaVuSans')),
    doc
      .embedFont(fontBytes('DejaVuSans-Bold.ttf'), { subset: true })
      .then((f) => withoutShaping(f, 'DejaVuSans-Bold')),
  ]);
  return { regular, bold, mono: regular };
}

/**
 * Text width from per-character advance widths, cached per font across documents. fontkit's full
 * layout (shaping, kerning) costs about a millisecond a call and word wrapping calls it for every
 * word; for the Latin, Greek and Cyrillic text of our documents the sum of advances is the width.
 */
const advanceCache = new Map<string, Map<string, number>>();
export function textWidth(font: PDFFont, text: string, size: number): number {
  let widths = advanceCache.get(font.name);
  if (!widths) {
    widths = new Map();
    advanceCache.set(font.name, widths);
  }
  let total = 0;
  for (const ch of text) {
    let w = widths.get(ch);
    if (w === undefined) {
      w = font.widthOfTextAtSize(ch, 1000);
      widths.set(ch, w);
    }
    total += w;
  }
  return (total * size) / 1000;
}

export const A4: [number, number] = [595.28, 841.89];
const MARGIN = 56;
const FOOTER_HEIGHT = 48;

type Style = { font?: keyof Fonts; size?: number; indent?: number; gapAfter?: number };

/**
 * A page's text and rules, written by TextFlow as PDF content operators straight into the page's
 * own content stream (deflated when the document is saved). pdf-lib's drawText builds an object
 * for every operator and operand, checks its options, and serialises it all again at save: that
 * was most of a receipt's layout time. Drawing with pdf-lib on the same page still works: its
 * content stream comes after this one, so it draws on top.
 */
class FlowContent extends PDFStream {
  #ops = '';
  #deflated: Uint8Array | undefined;
  constructor(dict: PDFDict) {
    super(dict);
    dict.set(PDFName.of('Filter'), PDFName.of('FlateDecode'));
  }
  add(ops: string): void {
    this.#ops += ops;
    this.#deflated = undefined;
  }
  /**
   * Deflated at level 1: on a page of text operators it is under half the CPU of the default
   * level (66 against 176 µs for a receipt's page) for a stream some 25 % larger (1.8 against 1.4 KB).
   */
  override getContents(): Uint8Array {
    this.#deflated ??= zlib.deflateSync(Buffer.from(this.#ops, 'latin1'), { level: 1 });
    return this.#deflated;
  }
  override getContentsSize(): number {
    return this.getContents().length;
  }
  override getContentsString(): string {
    return this.#ops;
  }
  override clone(context?: PDFContext): FlowContent {
    const c = new FlowContent(this.dict.clone(context));
    c.add(this.#ops);
    return c;
  }
}

/** A number as a content stream operand: at most three decimals, never an exponent. */
function num(x: number): string {
  return Number.isInteger(x) ? `${x}` : `${Math.round(x * 1000) / 1000}`;
}

function fillColour(c: Color): string {
  return c.type === 'RGB' ? `${num(c.red)} ${num(c.green)} ${num(c.blue)} rg` : setFillingColor(c).toString();
}

const BLACK = rgb(0, 0, 0);

export class TextFlow {
  readonly doc: PDFDocument;
  readonly fonts: Fonts;
  #page!: PDFPage;
  /** Each page's content stream and font resource names (one name per font and page). */
  readonly #content = new Map<PDFPage, { stream: FlowContent; fontKeys: Map<PDFFont, string> }>();
  #y = 0;
  readonly #pages: PDFPage[] = [];

  constructor(doc: PDFDocument, fonts: Fonts) {
    this.doc = doc;
    this.fonts = fonts;
    this.#newPage();
  }

  get width(): number {
    return A4[0] - 2 * MARGIN;
  }

  #newPage(): void {
    this.#page = this.doc.addPage(A4);
    this.#pages.push(this.#page);
    const stream = new FlowContent(this.doc.context.obj({}));
    this.#page.node.addContentStream(this.doc.context.register(stream));
    this.#content.set(this.#page, { stream, fontKeys: new Map() });
    this.#y = A4[1] - MARGIN;
  }

  #ensure(height: number): void {
    if (this.#y - height < MARGIN + FOOTER_HEIGHT) this.#newPage();
  }

  /** One line of text (no line breaks) at (x, y), its baseline's start. */
  #draw(
    page: PDFPage,
    text: string,
    font: PDFFont,
    opts: { x: number; y: number; size: number; color?: Color },
  ): void {
    const content = this.#content.get(page)!;
    let key = content.fontKeys.get(font);
    if (key === undefined) {
      key = page.node.newFontDictionary(font.name, font.ref).toString();
      content.fontKeys.set(font, key);
    }
    // font.encodeText also marks the font as used, so its subset is embedded at save.
    const hex = font.encodeText(text).toString();
    const colour = fillColour(opts.color ?? BLACK);
    content.stream.add(
      `BT ${key} ${num(opts.size)} Tf ${colour} ${num(opts.x)} ${num(opts.y)} Td ${hex} Tj ET\n`,
    );
  }

  /** Splits text into lines that fit `width` (words longer than a line are cut). Keeps the text's own line breaks. */
  wrap(text: string, font: PDFFont, size: number, width: number): string[] {
    const out: string[] = [];
    // As pdf-lib's drawText cleans text: tabs as four spaces, no backspaces or vertical tabs.
    for (const paragraph of lineSplit(cleanText(text.replace(/\r\n/g, '\n')))) {
      let line = '';
      let lineWidth = 0; // the width of `line`, kept as words are added
      for (const word of paragraph.split(/(\s+)/)) {
        if (word === '') continue;
        const w = textWidth(font, word, size);
        if (lineWidth + w <= width) {
          line += word;
          lineWidth += w;
          continue;
        }
        if (line.trim()) out.push(line.trimEnd());
        line = /^\s+$/.test(word) ? '' : word;
        lineWidth = line ? w : 0;
        while (lineWidth > width) {
          let cut = line.length - 1;
          while (cut > 1 && textWidth(font, line.slice(0, cut), size) > width) cut--;
          out.push(line.slice(0, cut));
          line = line.slice(cut);
          lineWidth = textWidth(font, line, size);
        }
      }
      out.push(line.trimEnd());
    }
    return out;
  }

  text(text: string, style: Style = {}): void {
    const font = this.fonts[style.font ?? 'regular'];
    const size = style.size ?? 10;
    const indent = style.indent ?? 0;
    const leading = size * 1.35;
    for (const line of this.wrap(text, font, size, this.width - indent)) {
      this.#ensure(leading);
      this.#y -= leading;
      if (line) this.#draw(this.#page, line, font, { x: MARGIN + indent, y: this.#y, size });
    }
    this.#y -= style.gapAfter ?? 0;
  }

  /** A label in bold and its value after it, wrapped under the value's column. */
  field(label: string, value: string, labelWidth = 200): void {
    const size = 10;
    const leading = size * 1.35;
    const lines = this.wrap(value || '—', this.fonts.regular, size, this.width - labelWidth);
    this.#ensure(leading * Math.min(lines.length, 3));
    const labelLines = this.wrap(label, this.fonts.bold, size, labelWidth - 8);
    const n = Math.max(lines.length, labelLines.length);
    for (let i = 0; i < n; i++) {
      this.#ensure(leading);
      this.#y -= leading;
      const l = labelLines[i];
      if (l) this.#draw(this.#page, l, this.fonts.bold, { x: MARGIN, y: this.#y, size });
      const v = lines[i];
      if (v) this.#draw(this.#page, v, this.fonts.regular, { x: MARGIN + labelWidth, y: this.#y, size });
    }
    this.#y -= 2;
  }

  gap(points: number): void {
    this.#y -= points;
  }

  rule(): void {
    this.#ensure(8);
    this.#y -= 4;
    const y = num(this.#y);
    this.#content
      .get(this.#page)!
      .stream.add(`q 0.4 0.4 0.4 RG 0.5 w ${num(MARGIN)} ${y} m ${num(A4[0] - MARGIN)} ${y} l S Q\n`);
    this.#y -= 6;
  }

  /** Draws `lines` at the foot of every page, with "page/total" at the right. */
  footer(lines: string[], pageLabel: (n: number, total: number) => string): void {
    const size = 7.5;
    const total = this.#pages.length;
    this.#pages.forEach((page, i) => {
      let y = MARGIN - 6 + (lines.length - 1) * size * 1.3;
      for (const line of lines) {
        const fitted = this.wrap(line, this.fonts.regular, size, this.width - 60)[0] ?? '';
        this.#draw(page, fitted, this.fonts.regular, { x: MARGIN, y, size, color: rgb(0.2, 0.2, 0.2) });
        y -= size * 1.3;
      }
      const label = pageLabel(i + 1, total);
      this.#draw(page, label, this.fonts.regular, {
        x: A4[0] - MARGIN - textWidth(this.fonts.regular, label, size),
        y: MARGIN - 6,
        size,
      });
    });
  }
}
