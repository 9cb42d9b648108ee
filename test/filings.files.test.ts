import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { AppError } from '#platform/errors.ts';
import { assertFilingContent, FILING_TYPES } from '#modules/filings/filing-files.ts';
import { checkFilingText, EXPOSO_MAX, SOLICITO_MAX } from '#modules/filings/filings.service.ts';

/** Stored ZIP entries in order (as OOXML and ODF packages are laid out). */
function zip(entries: [string, string][]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of entries) {
    const data = Buffer.from(content);
    const n = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt32LE(crc32(data), 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt32LE(crc32(data), 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    centrals.push(central, n);
    offset += 30 + n.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const ODT = 'application/vnd.oasis.opendocument.text';
const ODS = 'application/vnd.oasis.opendocument.spreadsheet';
const docx = zip([
  ['[Content_Types].xml', '<Types/>'],
  ['_rels/.rels', '<Relationships/>'],
  ['word/document.xml', '<w:document/>'],
]);
const xlsx = zip([
  ['[Content_Types].xml', '<Types/>'],
  ['xl/workbook.xml', '<workbook/>'],
]);
const odf = (type: string) =>
  zip([
    ['mimetype', type],
    ['content.xml', '<office:document-content/>'],
  ]);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-filing-files-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
async function check(declared: string, data: Buffer): Promise<string> {
  const p = path.join(dir, `f${n++}`);
  fs.writeFileSync(p, data);
  try {
    await assertFilingContent(declared, 'f', p, data.length);
    return 'accepted';
  } catch (e) {
    if (e instanceof AppError) return e.code;
    throw e;
  }
}

describe('what a generic request may carry, by declared type and by content', () => {
  it('takes PDF, JPEG, PNG, docx, xlsx, odt and ods whose content is what they say', async () => {
    const good: [string, Buffer][] = [
      ['application/pdf', Buffer.from('%PDF-1.4\n%…')],
      ['image/jpeg', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10])],
      ['image/png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0])],
      [DOCX, docx],
      [XLSX, xlsx],
      [ODT, odf(ODT)],
      [ODS, odf(ODS)],
    ];
    assert.deepEqual(Object.keys(FILING_TYPES).sort(), good.map(([t]) => t).sort());
    for (const [type, data] of good) assert.equal(await check(type, data), 'accepted', type);
  });

  it('refuses content that is not its declared type, and types the seu does not take', async () => {
    const bad: [string, Buffer][] = [
      ['application/pdf', Buffer.from('MZ\x90\x00 an executable')],
      ['image/png', Buffer.from([0xff, 0xd8, 0xff, 0xe0])],
      [DOCX, xlsx],
      [XLSX, docx],
      [DOCX, zip([['readme.txt', 'hello']])],
      [ODT, odf(ODS)],
      [
        ODS,
        zip([
          ['content.xml', '<x/>'],
          ['mimetype', ODS],
        ]),
      ],
      [DOCX, Buffer.from('PK\x03\x04 truncated')],
      [DOCX, Buffer.from('%PDF-1.4')],
      ['application/x-msdownload', Buffer.from('MZ')],
      ['image/tiff', Buffer.from([0x49, 0x49, 0x2a, 0x00])],
      ['text/html', Buffer.from('<html>')],
    ];
    for (const [type, data] of bad) assert.equal(await check(type, data), 'FILE_TYPE_NOT_ACCEPTED', type);
  });
});

describe('the request’s text', () => {
  it('keeps line breaks, normalises CRLF and NFC, trims, and takes the language asked', () => {
    const t = checkFilingText(
      { exposo: '  Primer\r\nSegon\tparàgraf  ', solicito: 'Cafe\u0301', language: 'oc-aranes' },
      'ca',
    );
    assert.deepEqual(t, { exposo: 'Primer\nSegon\tparàgraf', solicito: 'Café', language: 'oc-aranes' });
    assert.equal(checkFilingText({ exposo: 'a', solicito: 'b' }, 'es').language, 'es');
  });

  it('refuses missing, too long or non-plain text, naming every field at fault', () => {
    const fields = (raw: Record<string, unknown>) => {
      try {
        checkFilingText(raw, 'ca');
        return null;
      } catch (e) {
        assert.ok(e instanceof AppError && e.code === 'VALIDATION_FAILED');
        return (e.details as { fields: string[] }).fields;
      }
    };
    assert.deepEqual(fields({}), ['exposo', 'solicito']);
    assert.deepEqual(fields({ exposo: '   ', solicito: 'x' }), ['exposo']);
    assert.deepEqual(fields({ exposo: 'x'.repeat(EXPOSO_MAX + 1), solicito: 'x'.repeat(SOLICITO_MAX + 1) }), [
      'exposo',
      'solicito',
    ]);
    assert.equal(fields({ exposo: 'x'.repeat(EXPOSO_MAX), solicito: 'x'.repeat(SOLICITO_MAX) }), null);
    assert.deepEqual(fields({ exposo: 'a\u0000b', solicito: 'c\u202ed' }), ['exposo', 'solicito']);
    assert.deepEqual(fields({ exposo: 'a', solicito: 'b', language: 'fr' }), ['language']);
  });
});
