import {
  ParseSpeeds,
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFHexString,
  PDFName,
  PDFNumber,
  type PDFObject,
  PDFRef,
  PDFStream,
  PDFString,
} from 'pdf-lib';
import { AppError } from '#platform/errors.ts';
import type { TrustAnchors } from '#platform/signatures/trust.ts';
import {
  SignatureFormatError,
  type SignatureReport,
  verifyCmsDetached,
  MAX_CMS_BYTES,
} from '#platform/signatures/verify-cms.ts';
import { findPdfSignatures, verifyPdf } from '#platform/signatures/verify-pdf.ts';
import { verifyXades } from '#platform/signatures/verify-xades.ts';
import type { Turn } from './circuits.service.ts';

/**
 * Signing by upload (issue 4, item 2b): a signer whose turn it is signs elsewhere (their own
 * card, AutoFirma, a desktop tool) and uploads the result, which is verified here, on arrival,
 * before anything is recorded. The rules, each with its own refusal code:
 *
 * - **Shape.** In a PAdES circuit the upload is the current draft (the prepared PDF with the
 *   earlier signatures) with exactly one signature appended as an incremental update: the draft's
 *   bytes are a byte-for-byte prefix, there is one new /ByteRange, it covers the whole uploaded
 *   file, it is the value of the signer's own field, and the appended revision redefines no
 *   earlier object but that field's widget, the AcroForm (keeping every field), the catalog (only
 *   its /AcroForm, /DSS, /Extensions and /Metadata may change), the XMP metadata and the document
 *   information — so no page, content stream, font, annotation or document action changes
 *   (SIGNATURE_UPLOAD_NOT_APPENDED). The revision must use a classic xref table, like Lligall's
 *   own, so the next signer's revision can be appended after it. In a CAdES/XAdES circuit the
 *   upload is one detached signature (`.p7s` DER or PEM; `.xsig`: XAdES — signed properties
 *   binding the signing certificate, not a plain XML-DSig — with a detached reference) over the
 *   document's exact bytes (SIGNATURE_UPLOAD_INVALID otherwise).
 * - **Integrity** valid, by the same verifiers as the verification report (SIGNATURE_UPLOAD_INVALID).
 * - **Trust.** What a secretary expects: a certificate from a CA this installation trusts
 *   (`lligall trust add`; in demo installations also the installation CA), valid now — `trusted`
 *   and nothing else (SIGNATURE_UNTRUSTED; an untrusted or expired certificate is not accepted
 *   on the operator's behalf at upload time).
 * - **Identity.** The certificate must carry the caller's NIF, which the operator records on the
 *   user (`lligall user set-nif`): the subject's serialNumber, bare (`12345678Z`) or with the
 *   ETSI EN 319 412-1 semantics prefix (`IDCES-12345678Z`), or the Spanish convention in the
 *   common name (`… - NIF 12345678Z`). A user without a NIF cannot sign by upload
 *   (SIGNATURE_SIGNER_MISMATCH).
 */

/** The largest PDF accepted by upload is the configured upload limit; detached signatures at most this. */
export const MAX_DETACHED_UPLOAD_BYTES = MAX_CMS_BYTES;

const NIF_RE = /^[0-9XYZKLM][0-9]{7}[A-Z]$/;

/** The NIF a certificate subject names, if any (see the module comment for where it is looked for). */
export function nifOfCertificate(facts: SignatureReport['signerFacts']): string[] {
  const found = new Set<string>();
  const sn = facts?.serialNumber?.toUpperCase().replace(/\s+/g, '') ?? '';
  const bare = sn.replace(/^(IDC|PAS|TIN|PNO)[A-Z]{2}-/, '').replace(/^NIF[:-]?/, '');
  if (NIF_RE.test(bare)) found.add(bare);
  const cn = facts?.commonName?.toUpperCase() ?? '';
  const m = /\bNIF[:\s-]+([0-9XYZKLM][0-9]{7}[A-Z])\b/.exec(cn);
  if (m) found.add(m[1]!);
  return [...found];
}

export type UploadVerification = {
  /** The report of the uploaded signature, as the verification route shows it. */
  report: SignatureReport;
};

type VerifyDeps = { anchors: TrustAnchors; now: Date };

function assertAccepted(report: SignatureReport, nif: string | null): void {
  if (report.integrity !== 'valid')
    throw new AppError(
      'SIGNATURE_UPLOAD_INVALID',
      `The uploaded signature is not intact: ${report.integrityProblem ?? 'integrity check failed'}`,
      { integrityProblem: report.integrityProblem },
    );
  if (report.trust !== 'trusted')
    throw new AppError(
      'SIGNATURE_UNTRUSTED',
      `The signing certificate is not accepted (${report.trust}): ${report.trustReason}`,
      { trust: report.trust, issuer: report.certificate?.issuer ?? null },
    );
  if (!nif)
    throw new AppError(
      'SIGNATURE_SIGNER_MISMATCH',
      'You have no NIF recorded: the operator records it before you can sign by upload',
    );
  const names = nifOfCertificate(report.signerFacts);
  if (!names.includes(nif))
    throw new AppError(
      'SIGNATURE_SIGNER_MISMATCH',
      'The signing certificate is not yours: it does not carry your NIF',
      {
        subject: report.certificate?.subject ?? null,
      },
    );
}

async function loadPdf(bytes: Buffer): Promise<PDFDocument> {
  try {
    return await PDFDocument.load(bytes, { updateMetadata: false, parseSpeed: ParseSpeeds.Fastest });
  } catch (e) {
    throw new AppError(
      'SIGNATURE_UPLOAD_INVALID',
      `The uploaded PDF cannot be read: ${(e as Error).message}`,
    );
  }
}

function refKey(ref: PDFRef): string {
  return `${ref.objectNumber} ${ref.generationNumber}`;
}

function serialised(obj: PDFObject): string {
  if (obj instanceof PDFStream)
    return `${obj.dict.toString()}|${Buffer.from(obj.getContents()).toString('latin1')}`;
  return obj.toString();
}

function fieldWidget(doc: PDFDocument, name: string): { ref: PDFRef; dict: PDFDict } | null {
  const acroForm = doc.catalog.lookupMaybe(PDFName.of('AcroForm'), PDFDict);
  const fields = acroForm?.lookupMaybe(PDFName.of('Fields'), PDFArray);
  for (let i = 0; i < (fields?.size() ?? 0); i++) {
    const ref = fields!.get(i);
    const dict = doc.context.lookup(ref);
    if (!(ref instanceof PDFRef) || !(dict instanceof PDFDict)) continue;
    const t = dict.lookup(PDFName.of('T'));
    const fieldName = t instanceof PDFString || t instanceof PDFHexString ? t.decodeText() : null;
    if (fieldName === name) return { ref, dict };
  }
  return null;
}

function byteRangeOf(dict: PDFDict | undefined): number[] | null {
  const br = dict?.lookupMaybe(PDFName.of('ByteRange'), PDFArray);
  if (!br) return null;
  const out: number[] = [];
  for (let i = 0; i < br.size(); i++) {
    const n = br.lookup(i);
    if (!(n instanceof PDFNumber)) return null;
    out.push(n.asNumber());
  }
  return out;
}

/**
 * Catalog entries a signing tool may add or change without changing what the document shows or
 * does: the form (/AcroForm), PAdES validation data (/DSS, B-LT), extension levels and XMP metadata.
 */
const CATALOG_FREE = new Set(['AcroForm', 'DSS', 'Extensions', 'Metadata'].map((k) => PDFName.of(k)));

/** The catalog's other entries, serialised in key order. */
function catalogBesidesAcroForm(doc: PDFDocument): string {
  return doc.catalog
    .entries()
    .filter(([k]) => !CATALOG_FREE.has(k))
    .map(([k, v]) => `${k.toString()} ${v.toString()}`)
    .sort()
    .join('\n');
}

/** The refs of the AcroForm's top-level fields. */
function fieldRefs(doc: PDFDocument): string[] {
  const fields = doc.catalog
    .lookupMaybe(PDFName.of('AcroForm'), PDFDict)
    ?.lookupMaybe(PDFName.of('Fields'), PDFArray);
  const out: string[] = [];
  for (let i = 0; i < (fields?.size() ?? 0); i++) out.push(String(fields!.get(i)));
  return out;
}

const notAppended = (why: string) =>
  new AppError('SIGNATURE_UPLOAD_NOT_APPENDED', `The uploaded PDF is not the draft signed once: ${why}`);

/** The checks of a PAdES upload (see the module comment); returns the new signature's report. */
async function verifyPdfUpload(
  current: Buffer,
  uploaded: Buffer,
  turn: Turn,
  deps: VerifyDeps,
): Promise<SignatureReport> {
  if (uploaded.length <= current.length || !uploaded.subarray(0, current.length).equals(current))
    throw notAppended(
      "the draft's bytes are not its unchanged beginning (download the draft and sign that file)",
    );
  let fields: ReturnType<typeof findPdfSignatures>;
  try {
    fields = findPdfSignatures(uploaded);
  } catch (e) {
    if (e instanceof SignatureFormatError) throw new AppError('SIGNATURE_UPLOAD_INVALID', e.message);
    throw e;
  }
  const fresh = fields.filter((f) => f.byteRange[2] + f.byteRange[3] > current.length);
  if (fresh.length !== 1) throw notAppended(`${fresh.length} new signatures instead of one`);
  const sig = fresh[0]!;
  if (sig.subFilter === 'ETSI.RFC3161') throw notAppended('a document timestamp is not a signature');
  if (sig.byteRange[2] + sig.byteRange[3] !== uploaded.length)
    throw notAppended('bytes were added after the signature');
  const tail = uploaded.subarray(Math.max(current.length, uploaded.length - 1024)).toString('latin1');
  const m = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(tail);
  if (!m || uploaded.subarray(Number(m[1]), Number(m[1]) + 4).toString('latin1') !== 'xref')
    throw notAppended('the appended revision must use a classic cross-reference table');

  const before = await loadPdf(current);
  const after = await loadPdf(uploaded);
  if (!turn.fieldName) throw new AppError('INTERNAL', 'A PAdES turn has a field');
  const widget = fieldWidget(after, turn.fieldName);
  const value = widget?.dict.lookupMaybe(PDFName.of('V'), PDFDict);
  const br = byteRangeOf(value);
  if (!widget || !br || br.join(' ') !== sig.byteRange.join(' '))
    throw notAppended(`the new signature is not in your field "${turn.fieldName}"`);
  const allowed = new Set<string>([refKey(widget.ref)]);
  const acroRef = before.catalog.get(PDFName.of('AcroForm'));
  if (acroRef instanceof PDFRef) allowed.add(refKey(acroRef));
  const metadataRef = before.catalog.get(PDFName.of('Metadata'));
  if (metadataRef instanceof PDFRef) allowed.add(refKey(metadataRef));
  const infoRef = before.context.trailerInfo.Info;
  if (infoRef instanceof PDFRef) allowed.add(refKey(infoRef));
  const rootRef = before.context.trailerInfo.Root;
  if (rootRef instanceof PDFRef) allowed.add(refKey(rootRef));
  if (catalogBesidesAcroForm(before) !== catalogBesidesAcroForm(after))
    throw notAppended('the appended revision changes the document catalog');
  const fieldsAfter = new Set(fieldRefs(after));
  if (fieldRefs(before).some((r) => !fieldsAfter.has(r)))
    throw notAppended('the appended revision removes form fields');
  for (const [ref, obj] of before.context.enumerateIndirectObjects()) {
    if (allowed.has(refKey(ref))) continue;
    const now = after.context.lookup(ref);
    if (!now || serialised(now) !== serialised(obj))
      throw notAppended(
        `the appended revision changes object ${refKey(ref)} (pages, content or annotations)`,
      );
  }
  const reports = await verifyPdf(uploaded, { anchors: deps.anchors, existedAt: deps.now, now: deps.now });
  const i = fields.indexOf(sig);
  const report = reports[i];
  if (!report) throw new AppError('SIGNATURE_UPLOAD_INVALID', 'The new signature cannot be verified');
  if (report.coverage.scope !== 'whole') throw notAppended('the new signature does not cover the whole file');
  return report;
}

/** The checks of a detached upload over the document's exact bytes. */
async function verifyDetachedUpload(
  content: Buffer,
  signature: Buffer,
  turn: Turn,
  deps: VerifyDeps,
): Promise<SignatureReport> {
  const opts = { anchors: deps.anchors, existedAt: deps.now, now: deps.now };
  let reports: SignatureReport[];
  try {
    if (turn.format === 'CAdES') reports = await verifyCmsDetached(signature, content, opts);
    else reports = await verifyXades(signature, { ...opts, detachedContent: content });
  } catch (e) {
    if (e instanceof SignatureFormatError)
      throw new AppError(
        'SIGNATURE_UPLOAD_INVALID',
        `The uploaded file is not a ${turn.format === 'CAdES' ? 'CAdES (.p7s)' : 'XAdES (.xsig)'} signature: ${e.message}`,
      );
    throw e;
  }
  if (reports.length !== 1)
    throw new AppError('SIGNATURE_UPLOAD_INVALID', `Upload one signature (the file holds ${reports.length})`);
  const report = reports[0]!;
  if (turn.format === 'XAdES' && !report.format.startsWith('XAdES'))
    throw new AppError(
      'SIGNATURE_UPLOAD_INVALID',
      'A plain XML signature is not XAdES: it must bind the signing certificate (XAdES SignedProperties)',
    );
  if (turn.format === 'XAdES' && !report.format.includes('detached'))
    throw new AppError(
      'SIGNATURE_UPLOAD_INVALID',
      "The XML signature does not reference the document as a detached file (URI of the document's name)",
    );
  return report;
}

/**
 * Verifies an uploaded signature for `turn` over the draft's current bytes `current`, for a
 * caller whose NIF is `nif`. Throws the refusal (see the module comment) or returns the report.
 */
export async function verifyUploadedSignature(
  current: Buffer,
  uploaded: Buffer,
  turn: Turn,
  nif: string | null,
  deps: VerifyDeps,
): Promise<UploadVerification> {
  const report =
    turn.format === 'PAdES'
      ? await verifyPdfUpload(current, uploaded, turn, deps)
      : await verifyDetachedUpload(current, uploaded, turn, deps);
  assertAccepted(report, nif);
  return { report };
}
