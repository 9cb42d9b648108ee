import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodePDFRawStream,
  type PDFArray,
  PDFDict,
  PDFDocument,
  PDFName,
  type PDFRawStream,
  rgb,
} from 'pdf-lib';
import { embedFonts, TextFlow } from '#platform/pdf/layout.ts';
import { pdftotext } from '#test/helpers/pdf-tools.ts';

async function document(lines: string[]): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const flow = new TextFlow(doc, await embedFonts(doc));
  for (const l of lines) {
    flow.text(l, { font: 'bold' });
    flow.text(l);
  }
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}

describe('the text flow shares its base glyphs between documents', () => {
  it('a document with letters outside the base set and the next ones without them both extract as written', async () => {
    const plainText = ["Sol·licitud d'accés — «Vielha e Mijaran» 12,50 €"];
    const before = await document(plainText);
    const other = await document(['Łukasz Ωμέγα Дмитрий Çeşme', "l'Ajuntament de la Seu d'Urgell"]);
    const plain = await document(plainText);
    const again = await document(['Ωμέγα only here']);
    assert.match(pdftotext(other), /Łukasz Ωμέγα Дмитрий Çeşme[\s\S]*Łukasz Ωμέγα Дмитрий Çeşme/);
    assert.match(pdftotext(other), /l'Ajuntament de la Seu d'Urgell/);
    const t = pdftotext(plain);
    assert.match(t, /Sol·licitud d'accés — «Vielha e Mijaran» 12,50 €/);
    assert.doesNotMatch(t, /[ŁΩД]/);
    assert.match(pdftotext(again), /Ωμέγα only here/);
    // The glyphs another document added are not in this one's fonts: its subsets are the base ones.
    assert.equal(plain.length, before.length);
  });

  it('wraps long text within the page and cuts a word longer than a line', async () => {
    const word = 'x'.repeat(400);
    const long = Array.from({ length: 60 }, (_, i) => `paraula${i}`).join(' ');
    const t = pdftotext(await document([long, word]));
    assert.match(t, /paraula0 paraula1/);
    assert.match(t, /paraula59/);
    const lines = t.split('\n').filter((l) => l.trim());
    assert.ok(lines.length >= 6, 'the long text takes several lines');
    assert.equal(
      lines.filter((l) => /^\s*x+\s*$/.test(l)).reduce((n, l) => n + l.trim().length, 0),
      800,
    );
  });

  it('names each font once in a page’s resources, however many lines are drawn in it', async () => {
    const doc = await PDFDocument.create();
    const flow = new TextFlow(doc, await embedFonts(doc));
    for (let i = 0; i < 30; i++) flow.field(`Camp ${i}`, `Valor ${i}`);
    flow.footer(['peu'], (n, t) => `${n}/${t}`);
    const saved = await PDFDocument.load(await doc.save());
    const fonts = saved.getPages().map((page) => {
      const resources = page.node.Resources()!;
      const font = resources.lookup(PDFName.of('Font'), PDFDict);
      return font.keys().length;
    });
    assert.deepEqual(fonts, [2]);
    assert.match(pdftotext(Buffer.from(await doc.save())), /Camp 29\s+Valor 29/);
  });

  it('tabs become spaces as pdf-lib writes them, and pdf-lib can still draw on a flow page, on top', async () => {
    const doc = await PDFDocument.create();
    const fonts = await embedFonts(doc);
    const flow = new TextFlow(doc, fonts);
    flow.text('Columna\tvalor\vfinal');
    flow.rule();
    flow.text('Text de la pàgina');
    const page = doc.getPage(0);
    page.drawRectangle({ x: 50, y: 700, width: 300, height: 40, color: rgb(1, 1, 1) });
    page.drawText('Segell afegit després', { x: 60, y: 715, size: 12, font: fonts.bold });
    const saved = Buffer.from(await doc.save({ useObjectStreams: false }));
    const t = pdftotext(saved);
    assert.match(t, /Columna {4}valorfinal/);
    assert.match(t, /Segell afegit després/);
    assert.match(t, /Text de la pàgina/);
    // The page's content streams, in order: the flow's (text, then the rule), then pdf-lib's box
    // and text, which therefore paint over the flow's.
    const loaded = await PDFDocument.load(saved);
    const contents = loaded.getPage(0).node.Contents() as PDFArray;
    const streams = contents
      .asArray()
      .map((ref) =>
        Buffer.from(decodePDFRawStream(loaded.context.lookup(ref) as PDFRawStream).decode()).toString(
          'latin1',
        ),
      );
    assert.equal(streams.length, 2);
    assert.match(streams[0]!, /Tj ET\n[\s\S]* m [\d.]+ [\d.]+ l S Q\n[\s\S]*Tj ET/);
    assert.match(streams[1]!, /300 40 l\n[\s\S]*\nf\n[\s\S]*Tj/);
  });
});
