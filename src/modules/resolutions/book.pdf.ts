import {
  concatTransformationMatrix,
  drawObject,
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFName,
  type PDFPage,
  PDFRef,
  popGraphicsState,
  pushGraphicsState,
  rgb,
} from 'pdf-lib';
import { AppError } from '#platform/errors.ts';
import { embedFonts, type Fonts, TextFlow, textWidth } from '#platform/pdf/layout.ts';
import { decreeDate } from './resolutions.service.ts';

/**
 * The PDFs of the book of resolutions: the opening and closing diligences (TD12, in Catalan, the
 * language of the entity's book; signed afterwards by the secretary through a circuit), and the
 * yearly book compiled into one PDF (cover, index, the diligences and every decree's pages),
 * sealed by the caller.
 */

export type DiligenceFacts = {
  kind: 'opening' | 'closing';
  entity: { name: string; dir3: string };
  year: number;
  date: Date;
  secretary: string;
  /** Closing only. */
  closing?: {
    count: number;
    first: { number: string; date: Date } | null;
    last: { number: string; date: Date } | null;
    notTranscribed: string[];
  };
};

/** The diligence's own text (exported for the tests of its wording). */
export function diligenceText(f: DiligenceFacts): { title: string; body: string[] } {
  const y = f.year;
  if (f.kind === 'opening')
    return {
      title: "Diligència d'obertura",
      body: [
        `Per fer constar que, en data d'avui, s'obre el llibre de resolucions de l'any ${y} de ${f.entity.name}, en el qual s'inscriuran per ordre correlatiu de numeració, començant pel núm. ${y}/000001, els decrets i les resolucions de l'Alcaldia i de les regidories que actuen per delegació dictats durant l'any ${y} (ROF art. 198–200).`,
      ],
    };
  const c = f.closing!;
  const body =
    c.count === 0 || !c.first || !c.last
      ? [
          `Per fer constar que es tanca el llibre de resolucions de l'any ${y} de ${f.entity.name} sense cap decret inscrit.`,
        ]
      : [
          `Per fer constar que es tanca el llibre de resolucions de l'any ${y} de ${f.entity.name}, que conté ${c.count} ${c.count === 1 ? 'decret' : 'decrets'}: del núm. ${c.first.number}, de ${decreeDate(c.first.date)}, al núm. ${c.last.number}, de ${decreeDate(c.last.date)}, correlatius i sense salts.`,
        ];
  if (c.notTranscribed.length > 0)
    body.push(
      `Van rebre número però no es van transcriure (la signatura de la secretaria es va rebutjar o el circuit es va aturar): ${c.notTranscribed.join(', ')}.`,
    );
  return { title: 'Diligència de tancament', body };
}

/** The diligence as an unsigned A4 PDF; the circuit adds its signature page. */
export async function renderDiligence(f: DiligenceFacts): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const { title, body } = diligenceText(f);
  doc.setTitle(`${title} — Llibre de resolucions ${f.year}`);
  doc.setAuthor(f.entity.name);
  doc.setLanguage('ca');
  doc.setCreator('Lligall');
  doc.setProducer('Lligall');
  doc.setCreationDate(f.date);
  doc.setModificationDate(f.date);
  const flow = new TextFlow(doc, await embedFonts(doc));
  flow.text(`${f.entity.name} (DIR3 ${f.entity.dir3})`, { font: 'bold', size: 11, gapAfter: 10 });
  flow.text(title.toUpperCase(), { font: 'bold', size: 16, gapAfter: 4 });
  flow.text(`Llibre de resolucions de l'any ${f.year}`, { size: 12, gapAfter: 10 });
  flow.rule();
  for (const p of body) flow.text(p, { size: 11, gapAfter: 8 });
  flow.gap(10);
  flow.text(`Data: ${decreeDate(f.date)}`, { size: 11, gapAfter: 4 });
  flow.text(`${f.secretary}, que en dona fe.`, { size: 11, gapAfter: 4 });
  flow.text('(Signatura electrònica a la pàgina de signatures.)', { size: 9 });
  flow.footer(
    [`${f.entity.name} · ${title} · Llibre de resolucions ${f.year}`],
    (n, t) => `Pàgina ${n} de ${t}`,
  );
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}

export type BookIndexEntry = {
  number: string;
  decidedAt: Date;
  position: string | null;
  bySubstitution: boolean;
  summary: string;
  expedientNumber: string;
  state: 'transcribed' | 'pending' | 'not_transcribed';
};

export type BookPart = { kind: 'opening' | 'closing' | 'decree'; pdf: Buffer; entry?: BookIndexEntry };

export type BookFacts = {
  entity: { name: string; dir3: string };
  year: number;
  issuedAt: Date;
  csv: string;
  verifyUrl: string;
  qualified: boolean;
  opening: { signedAt: Date; by: string } | null;
  closing: { signedAt: Date; by: string } | null;
};

const STATE_LABEL: Record<BookIndexEntry['state'], string> = {
  transcribed: 'transcrit',
  pending: 'pendent de transcripció',
  not_transcribed: 'no transcrit',
};

/**
 * Draws each signature widget's appearance into the page's content and removes its annotations:
 * the copied pages keep the visible stamps (who signed, position, date) without carrying signature
 * fields whose byte ranges belong to another file.
 */
function flattenWidgets(page: PDFPage): void {
  const annots = page.node.lookupMaybe(PDFName.of('Annots'), PDFArray);
  if (!annots) return;
  for (let i = 0; i < annots.size(); i++) {
    const a = annots.lookupMaybe(i, PDFDict);
    if (!a || a.lookup(PDFName.of('Subtype')) !== PDFName.of('Widget')) continue;
    const ap = a.lookupMaybe(PDFName.of('AP'), PDFDict);
    const n = ap?.get(PDFName.of('N'));
    const rect = a.lookupMaybe(PDFName.of('Rect'), PDFArray);
    if (!(n instanceof PDFRef) || !rect) continue;
    const r = rect.asRectangle();
    const name = page.node.newXObject('Stamp', n);
    page.pushOperators(
      pushGraphicsState(),
      concatTransformationMatrix(1, 0, 0, 1, r.x, r.y),
      drawObject(name),
      popGraphicsState(),
    );
  }
  page.node.delete(PDFName.of('Annots'));
}

/** Copies every page of `pdf` to the end of `into`; returns how many. */
async function appendPdf(into: PDFDocument, pdf: Buffer, what: string): Promise<number> {
  const src = await PDFDocument.load(pdf, { updateMetadata: false }).catch(() => {
    throw new AppError('INTERNAL', `${what} is not a readable PDF`);
  });
  // Flattened in the source, before copying: the copy then takes no signature dictionaries along.
  for (const p of src.getPages()) flattenWidgets(p);
  const pages = await into.copyPages(src, src.getPageIndices());
  for (const p of pages) into.addPage(p);
  return pages.length;
}

async function renderFront(
  f: BookFacts,
  entries: (BookIndexEntry & { page: number })[],
  diligences: { opening: number | null; closing: number | null },
  fonts: (doc: PDFDocument) => Promise<Fonts>,
): Promise<PDFDocument> {
  const doc = await PDFDocument.create();
  const flow = new TextFlow(doc, await fonts(doc));
  flow.text(`${f.entity.name} (DIR3 ${f.entity.dir3})`, { font: 'bold', size: 12, gapAfter: 20 });
  flow.text(`LLIBRE DE RESOLUCIONS — ANY ${f.year}`, { font: 'bold', size: 20, gapAfter: 10 });
  flow.text(
    `Compilació segellada de ${entries.length} ${entries.length === 1 ? 'decret' : 'decrets'}, amb l'índex i les diligències d'obertura i tancament. Cada decret conserva el seu propi CSV i es pot verificar per separat; aquesta compilació es verifica amb el CSV que figura a peu de pàgina.`,
    { size: 10, gapAfter: 8 },
  );
  if (!f.qualified)
    flow.text('Segell de demostració — no qualificat.', { font: 'bold', size: 9, gapAfter: 6 });
  flow.field('Data de la compilació', decreeDate(f.issuedAt));
  flow.field(
    "Diligència d'obertura",
    f.opening
      ? `signada el ${decreeDate(f.opening.signedAt)} (${f.opening.by})${diligences.opening ? ` · pàg. ${diligences.opening}` : ''}`
      : 'no signada',
  );
  flow.field(
    'Diligència de tancament',
    f.closing
      ? `signada el ${decreeDate(f.closing.signedAt)} (${f.closing.by})${diligences.closing ? ` · pàg. ${diligences.closing}` : ''}`
      : 'el llibre no està tancat',
  );
  flow.field('CSV', f.csv);
  flow.field('Verificació', f.verifyUrl);
  flow.rule();
  flow.text('Índex', { font: 'bold', size: 13, gapAfter: 4 });
  if (entries.length === 0) flow.text('Cap decret.', { size: 10 });
  for (const e of entries) {
    const who = e.position ? `${e.position}${e.bySubstitution ? ' (per substitució)' : ''}` : '—';
    flow.text(
      `Decret ${e.number} · ${decreeDate(e.decidedAt)} · ${who} · Exp. ${e.expedientNumber} · pàg. ${e.page}`,
      { font: 'bold', size: 9 },
    );
    flow.text(`${e.summary}${e.state === 'transcribed' ? '' : ` [${STATE_LABEL[e.state]}]`}`, {
      size: 9,
      indent: 14,
      gapAfter: 3,
    });
  }
  return doc;
}

/**
 * Compiles the book: the decrees' and diligences' pages (their signature widgets flattened into
 * the page), preceded by a cover and an index with each decree's first page, and a footer with the
 * compilation's CSV on every page. Returns the unsigned document (the caller seals it) and its
 * page count. Sources are loaded one at a time.
 */
export async function compileBook(
  f: BookFacts,
  parts: BookPart[],
): Promise<{ doc: PDFDocument; pages: number }> {
  const body = await PDFDocument.create();
  const starts: number[] = [];
  let openingAt: number | null = null;
  let closingAt: number | null = null;
  let n = 0;
  for (const [i, part] of parts.entries()) {
    starts[i] = n + 1;
    if (part.kind === 'opening') openingAt = n + 1;
    if (part.kind === 'closing') closingAt = n + 1;
    n += await appendPdf(
      body,
      part.pdf,
      part.entry ? `Decree ${part.entry.number}` : `The ${part.kind} diligence`,
    );
    part.pdf = Buffer.alloc(0); // let the source go: only its copied pages are needed now
  }
  const decreeParts = parts.map((p, i) => ({ p, start: starts[i]! })).filter((x) => x.p.entry);
  // The front matter's length shifts every page number: render until it stops changing.
  let frontPages = 1;
  let front: PDFDocument;
  for (;;) {
    const shift = frontPages;
    front = await renderFront(
      f,
      decreeParts.map((x) => ({ ...x.p.entry!, page: x.start + shift })),
      {
        opening: openingAt === null ? null : openingAt + shift,
        closing: closingAt === null ? null : closingAt + shift,
      },
      embedFonts,
    );
    if (front.getPageCount() === frontPages) break;
    frontPages = front.getPageCount();
  }
  const doc = body;
  const copied = await doc.copyPages(front, front.getPageIndices());
  copied.forEach((p, i) => {
    doc.insertPage(i, p);
  });
  doc.setTitle(`Llibre de resolucions ${f.year} — ${f.entity.name}`);
  doc.setAuthor(f.entity.name);
  doc.setLanguage('ca');
  doc.setCreator('Lligall');
  doc.setProducer('Lligall');
  doc.setCreationDate(f.issuedAt);
  doc.setModificationDate(f.issuedAt);
  const fonts = await embedFonts(doc);
  const total = doc.getPageCount();
  doc.getPages().forEach((page, i) => {
    const line = `${f.entity.name} · Llibre de resolucions ${f.year} · CSV ${f.csv} · ${f.verifyUrl} · pàg. ${i + 1}/${total}`;
    const size = 6.5;
    const { width } = page.getSize();
    const w = textWidth(fonts.regular, line, size);
    page.drawRectangle({ x: 14, y: 6, width: Math.min(w, width - 28) + 6, height: 11, color: rgb(1, 1, 1) });
    page.drawText(line, {
      x: 17,
      y: 9,
      size,
      font: fonts.regular,
      color: rgb(0.15, 0.15, 0.15),
      maxWidth: width - 30,
    });
  });
  return { doc, pages: total };
}
