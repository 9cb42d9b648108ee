import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { extractSignature } from '@signpdf/utils';
import { trimDer } from '#platform/signatures/verify-pdf.ts';

/**
 * The independent tools that judge our PDFs and signatures (Debian's poppler-utils, NSS tools and
 * openssl), never our own code: pdfsig, pdftotext, certutil, openssl cms.
 */

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `lligall-${prefix}-`));
}

/** An NSS database that trusts `caPem` (what pdfsig uses to decide "Certificate is Trusted"). */
export function nssDbTrusting(caPem: string): string {
  const dir = tmpDir('nss');
  fs.writeFileSync(path.join(dir, 'ca.pem'), caPem);
  execFileSync('certutil', ['-N', '-d', `sql:${dir}`, '--empty-password']);
  execFileSync('certutil', [
    '-A',
    '-d',
    `sql:${dir}`,
    '-n',
    'lligall-ca',
    '-t',
    'CT,C,C',
    '-i',
    path.join(dir, 'ca.pem'),
  ]);
  return dir;
}

/** pdfsig's report (stdout + stderr) and exit status. */
export function pdfsig(pdf: Buffer, nssDir?: string): { out: string; status: number | null } {
  const dir = tmpDir('pdfsig');
  const file = path.join(dir, 'doc.pdf');
  fs.writeFileSync(file, pdf);
  const args = nssDir ? ['-nssdir', `sql:${nssDir}`, file] : [file];
  const r = spawnSync('pdfsig', args, { encoding: 'utf8' });
  return { out: `${r.stdout}${r.stderr}`, status: r.status };
}

export function pdftotext(pdf: Buffer): string {
  const dir = tmpDir('pdftotext');
  const file = path.join(dir, 'doc.pdf');
  fs.writeFileSync(file, pdf);
  return execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
}

/** The CMS (DER) of the PDF's first signature and the bytes it covers. */
export function pdfSignature(pdf: Buffer): { cms: Buffer; signedData: Buffer; byteRange: number[] } {
  const s = extractSignature(pdf) as { ByteRange: number[]; signature: string; signedData: Buffer };
  // @signpdf strips every trailing "00" of /Contents, which also cuts a CMS whose last byte is 0x00
  // (one signature in 256): the CMS is read from the raw /Contents up to its own DER length instead.
  const [a, b, c] = s.ByteRange as [number, number, number, number];
  const cms = cmsFromContents(pdf.subarray(a + b + 1, c - 1).toString('latin1'));
  return { cms, signedData: s.signedData, byteRange: s.ByteRange };
}

/** The DER CMS in a signature's /Contents hex: as long as its outer SEQUENCE says, padding dropped. */
const cmsFromContents = (hex: string): Buffer => trimDer(Buffer.from(hex, 'hex'));

/** `openssl cms -cmsout -print` of a DER CMS. */
export function opensslCmsPrint(cms: Buffer): string {
  const dir = tmpDir('cms');
  const file = path.join(dir, 'sig.der');
  fs.writeFileSync(file, cms);
  return execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', file], {
    encoding: 'utf8',
  });
}

/** `openssl cms -verify` of a detached CMS over `content`, trusting `caPem`; returns the exit status and output. */
export function opensslCmsVerify(
  cms: Buffer,
  content: Buffer,
  caPem: string,
): { status: number | null; out: string } {
  const dir = tmpDir('cmsv');
  fs.writeFileSync(path.join(dir, 'sig.der'), cms);
  fs.writeFileSync(path.join(dir, 'content'), content);
  fs.writeFileSync(path.join(dir, 'ca.pem'), caPem);
  const r = spawnSync(
    'openssl',
    [
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      path.join(dir, 'sig.der'),
      '-content',
      path.join(dir, 'content'),
      '-CAfile',
      path.join(dir, 'ca.pem'),
      '-out',
      '/dev/null',
    ],
    { encoding: 'utf8' },
  );
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/**
 * Every signature of a PDF in file order: its /ByteRange, the CMS (DER) from /Contents, the bytes
 * it covers, and the revision it signs (the file up to the end of its byte range).
 */
export function pdfSignatures(
  pdf: Buffer,
): { byteRange: number[]; cms: Buffer; signedData: Buffer; revision: Buffer }[] {
  const text = pdf.toString('latin1');
  const out: { byteRange: number[]; cms: Buffer; signedData: Buffer; revision: Buffer }[] = [];
  for (const m of text.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)) {
    const br = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
    const [a, b, c, d] = br as [number, number, number, number];
    const cms = cmsFromContents(text.slice(a + b + 1, c - 1));
    const signedData = Buffer.concat([pdf.subarray(a, a + b), pdf.subarray(c, c + d)]);
    out.push({ byteRange: br, cms, signedData, revision: pdf.subarray(0, c + d) });
  }
  return out;
}

/** `qpdf --check`: exit status 0 when the file's structure (every xref section and object) is sound. */
export function qpdfCheck(pdf: Buffer): { status: number | null; out: string } {
  const dir = tmpDir('qpdf');
  const file = path.join(dir, 'doc.pdf');
  fs.writeFileSync(file, pdf);
  const r = spawnSync('qpdf', ['--check', file], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/**
 * `xmlsec1 --verify` of an XML signature trusting `caPem`; `files` are written next to it (the
 * detached content its references name) and xmlsec1 runs in that directory.
 */
export function xmlsecVerify(
  signatureXml: string,
  caPem: string,
  files: Record<string, Buffer> = {},
): { status: number | null; out: string } {
  const dir = tmpDir('xmlsec');
  fs.writeFileSync(path.join(dir, 'sig.xml'), signatureXml);
  fs.writeFileSync(path.join(dir, 'ca.pem'), caPem);
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  const r = spawnSync(
    'xmlsec1',
    [
      '--verify',
      '--trusted-pem',
      'ca.pem',
      '--id-attr:Id',
      'http://uri.etsi.org/01903/v1.3.2#:SignedProperties',
      'sig.xml',
    ],
    { encoding: 'utf8', cwd: dir },
  );
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}
