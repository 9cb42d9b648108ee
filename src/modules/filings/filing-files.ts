import { open } from 'node:fs/promises';
import { AppError } from '#platform/errors.ts';
import { SCAN_TYPES } from '#modules/registry/desk.service.ts';

/**
 * What a citizen may attach to a generic request in the seu (issue 5 item 4): PDF, JPEG, PNG and
 * office documents (Word and Excel OOXML, OpenDocument text and spreadsheet). Each file is checked
 * twice: its declared type must be one of these, and its content must be one (a renamed
 * executable is refused). PDF, JPEG and PNG are recognised by their first bytes (the desk's scan
 * types); office documents are ZIP packages, recognised by the entries their format requires.
 */

/** At most this many attachments per request. */
export const MAX_FILING_ATTACHMENTS = 5;
/** Each attachment at most 10 MiB. */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
/** All the attachments of one request together at most 25 MiB. */
export const MAX_FILING_BYTES = 25 * 1024 * 1024;

type ZipRule = {
  /** OOXML: entries the package must contain. */
  entries?: string[];
  /** ODF: the uncompressed first entry `mimetype` must hold exactly this. */
  odfMimetype?: string;
};

export type FilingFileType = {
  /** Usual file name extensions (for the form's accept attribute). */
  extensions: string[];
  /** PDF and images: the content starts with one of these byte sequences. */
  magic?: number[][];
  /** Office documents: a ZIP package with these entries. */
  zip?: ZipRule;
};

const scan = (mime: string) => SCAN_TYPES[mime]!.magic;

export const FILING_TYPES: Record<string, FilingFileType> = {
  'application/pdf': { extensions: ['pdf'], magic: scan('application/pdf') },
  'image/jpeg': { extensions: ['jpg', 'jpeg'], magic: scan('image/jpeg') },
  'image/png': { extensions: ['png'], magic: scan('image/png') },
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': {
    extensions: ['docx'],
    zip: { entries: ['[Content_Types].xml', 'word/document.xml'] },
  },
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
    extensions: ['xlsx'],
    zip: { entries: ['[Content_Types].xml', 'xl/workbook.xml'] },
  },
  'application/vnd.oasis.opendocument.text': {
    extensions: ['odt'],
    zip: { odfMimetype: 'application/vnd.oasis.opendocument.text' },
  },
  'application/vnd.oasis.opendocument.spreadsheet': {
    extensions: ['ods'],
    zip: { odfMimetype: 'application/vnd.oasis.opendocument.spreadsheet' },
  },
};

const accepted = () => Object.keys(FILING_TYPES).join(', ');

/** FILE_TYPE_NOT_ACCEPTED unless the declared type is one a request may carry (checked before reading the file). */
export function assertFilingDeclaredType(declared: string, fileName: string): FilingFileType {
  const t = Object.hasOwn(FILING_TYPES, declared) ? FILING_TYPES[declared] : undefined;
  if (!t)
    throw new AppError(
      'FILE_TYPE_NOT_ACCEPTED',
      `${fileName}: an attachment must be one of ${accepted()}; got ${declared}`,
      { fileName, declaredType: declared },
    );
  return t;
}

async function readAt(path: string, position: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, position);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/**
 * The entry names of a ZIP file, read from its central directory (null if it is not a readable
 * ZIP). Small files only (the attachments' limit keeps them so); ZIP64 is not needed at that size.
 */
export async function zipEntryNames(path: string, size: number): Promise<string[] | null> {
  if (size < 22) return null;
  const tailLength = Math.min(size, 22 + 0xffff);
  const tail = await readAt(path, size - tailLength, tailLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return null;
  const count = tail.readUInt16LE(eocd + 10);
  const cdSize = tail.readUInt32LE(eocd + 12);
  const cdOffset = tail.readUInt32LE(eocd + 16);
  if (cdOffset + cdSize > size || cdSize > 4 * 1024 * 1024) return null;
  const cd = await readAt(path, cdOffset, cdSize);
  const names: string[] = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) return null;
    const nameLength = cd.readUInt16LE(p + 28);
    const extraLength = cd.readUInt16LE(p + 30);
    const commentLength = cd.readUInt16LE(p + 32);
    if (p + 46 + nameLength > cd.length) return null;
    names.push(cd.subarray(p + 46, p + 46 + nameLength).toString('utf8'));
    p += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

/** ODF (ISO/IEC 26300 part 3): the first entry is `mimetype`, stored uncompressed, no extra field. */
async function odfMimetype(path: string): Promise<string | null> {
  const head = await readAt(path, 0, 30 + 8 + 100);
  if (head.length < 38 || head.readUInt32LE(0) !== LOCAL) return null;
  const method = head.readUInt16LE(8);
  const nameLength = head.readUInt16LE(26);
  const extraLength = head.readUInt16LE(28);
  const dataLength = head.readUInt32LE(18);
  if (method !== 0 || nameLength !== 8 || head.subarray(30, 38).toString('latin1') !== 'mimetype')
    return null;
  const start = 38 + extraLength;
  if (dataLength > 100 || start + dataLength > head.length) return null;
  return head.subarray(start, start + dataLength).toString('latin1');
}

/**
 * FILE_TYPE_NOT_ACCEPTED unless the staged file's content is of its declared type: PDF, JPEG and
 * PNG by their first bytes; office documents as ZIP packages with the entries their format needs.
 */
export async function assertFilingContent(
  declared: string,
  fileName: string,
  tmpPath: string,
  size: number,
): Promise<void> {
  const t = assertFilingDeclaredType(declared, fileName);
  const refuse = () =>
    new AppError('FILE_TYPE_NOT_ACCEPTED', `${fileName}: the file's content is not ${declared}`, {
      fileName,
      declaredType: declared,
    });
  if (t.magic) {
    const head = await readAt(tmpPath, 0, 16);
    if (!t.magic.some((m) => m.every((b, i) => head[i] === b))) throw refuse();
    return;
  }
  const rule = t.zip!;
  const head = await readAt(tmpPath, 0, 4);
  if (head.length < 4 || head.readUInt32LE(0) !== LOCAL) throw refuse();
  const names = await zipEntryNames(tmpPath, size);
  if (!names) throw refuse();
  if (rule.entries && !rule.entries.every((e) => names.includes(e))) throw refuse();
  if (rule.odfMimetype && (await odfMimetype(tmpPath)) !== rule.odfMimetype) throw refuse();
}
