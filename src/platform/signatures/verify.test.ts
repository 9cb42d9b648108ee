import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createHash, webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { PDFDocument } from 'pdf-lib';
import * as xadesjs from 'xadesjs';
import {
  createSelfSignedCa,
  type CryptoKey,
  generateSigningKeyPair,
  issueSigningCertificate,
  RSA_SHA256,
} from '#platform/crypto/certs.ts';
import { pemToDer, type SigningIdentity, signCadesDetached } from '#platform/pdf/cades.ts';
import { appendSignature, preparePdfForSignatures } from '#platform/pdf/incremental.ts';
import { signPdfDocument } from '#platform/pdf/pades.ts';
import { localSigner } from '#platform/pdf/signer.ts';
import { signXadesDetached as lligallXades } from '#platform/xml/xades.ts';
import { prepareTrustAnchors } from './trust.ts';
import { SignatureFormatError, verifyCmsDetached } from './verify-cms.ts';
import { findPdfSignatures, verifyPdf } from './verify-pdf.ts';
import { verifyXades } from './verify-xades.ts';
import { nssDbTrusting, pdfsig } from '#test/helpers/pdf-tools.ts';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

async function makeCa(
  cn: string,
  notBefore = new Date(Date.now() - DAY),
  notAfter = new Date(Date.now() + 365 * DAY),
) {
  const keys = await generateSigningKeyPair();
  const pem = await createSelfSignedCa({
    subject: [
      ['C', 'ES'],
      ['O', 'Test'],
      ['CN', cn],
    ],
    keys,
    notBefore,
    notAfter,
  });
  return { pem, keys };
}

async function makeSigner(
  ca: { pem: string; keys: { privateKey: CryptoKey } },
  opts: { cn?: string; notBefore?: Date; notAfter?: Date } = {},
): Promise<SigningIdentity> {
  const keys = await generateSigningKeyPair();
  const certificatePem = await issueSigningCertificate({
    subject: [
      ['C', 'ES'],
      ['O', 'Ajuntament de Prova'],
      ['serialNumber', 'L01089999'],
      ['CN', opts.cn ?? "Segell d'òrgan de prova"],
    ],
    publicKey: keys.publicKey,
    issuerCertificatePem: ca.pem,
    issuerPrivateKey: ca.keys.privateKey,
    notBefore: opts.notBefore ?? new Date(Date.now() - DAY),
    notAfter: opts.notAfter ?? new Date(Date.now() + 365 * DAY),
  });
  return { certificatePem, chainPem: ca.pem, privateKey: keys.privateKey };
}

/** A receipt-like PDF of about `kb` kilobytes, signed once (PAdES-B-B). */
async function signedPdf(signer: SigningIdentity, opts: { signingTime?: Date; kb?: number } = {}) {
  const doc = await PDFDocument.create();
  const page = doc.addPage();
  page.drawText("Justificant de registre d'entrada E/2026/000045", { x: 50, y: 780, size: 12 });
  if (opts.kb) {
    // Incompressible bytes make the file the size asked for.
    const filler = new Uint8Array(opts.kb * 1024);
    webcrypto.getRandomValues(filler.subarray(0, Math.min(filler.length, 65536)));
    for (let i = 65536; i < filler.length; i += 65536)
      filler.copyWithin(i, 0, Math.min(65536, filler.length - i));
    await doc.attach(filler, 'annex.bin', { mimeType: 'application/octet-stream' });
  }
  return signPdfDocument(doc, signer, {
    name: 'Ajuntament de Prova',
    reason: 'Justificant de registre \u2014 Secretaria',
    location: 'L01089999',
    contactInfo: 'http://localhost/verify',
    signingTime: opts.signingTime ?? new Date(),
  });
}

function pdfDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `D:${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

/**
 * Appends an incremental update to a PDF holding a second signature dictionary that covers
 * every byte of the new file but its own /Contents (built by hand: append-only, like a real
 * second signature; the earlier bytes are untouched).
 */
async function appendSecondSignature(pdf: Buffer, signer: SigningIdentity, reason: string): Promise<Buffer> {
  const text = pdf.toString('latin1');
  const trailer = text.slice(text.lastIndexOf('trailer'));
  const size = Number(/\/Size\s+(\d+)/.exec(trailer)![1]);
  const root = /\/Root\s+(\d+\s+\d+\s+R)/.exec(trailer)![1];
  const prev = Number(/startxref\s+(\d+)/.exec(text.slice(text.lastIndexOf('startxref')))![1]);
  const placeholder = '0'.repeat(16384 * 2);
  const slot = '0000000000';
  const head = `\n${size} 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 ${slot} ${slot} ${slot}] /Contents <`;
  const tail = `> /M (${pdfDate(new Date())}) /Name (Alcaldia) /Reason (${reason}) >>\nendobj\n`;
  const objOffset = pdf.length + 1;
  const body = `${head}${placeholder}${tail}`;
  const xrefOffset = pdf.length + body.length;
  const xref = `xref\n0 1\n0000000000 65535 f \n${size} 1\n${String(objOffset).padStart(10, '0')} 00000 n \ntrailer\n<< /Size ${size + 1} /Root ${root} /Prev ${prev} >>\nstartxref\n${xrefOffset}\n%%EOF\n`;
  const out = Buffer.concat([pdf, Buffer.from(body + xref, 'latin1')]);
  const gapStart = pdf.length + head.length - 1;
  const gapEnd = gapStart + placeholder.length + 2;
  const br = [0, gapStart, gapEnd, out.length - gapEnd].map((n) => String(n).padEnd(10, ' '));
  const brAt = out.indexOf(`[0 ${slot} ${slot} ${slot}]`, pdf.length, 'latin1');
  out.write(`[0 ${br[1]} ${br[2]} ${br[3]}]`, brAt, 'latin1');
  const cms = await signCadesDetached(
    Buffer.concat([out.subarray(0, gapStart), out.subarray(gapEnd)]),
    signer,
  );
  out.write(cms.toString('hex').padEnd(placeholder.length, '0'), gapStart + 1, 'latin1');
  return out;
}

describe('PDF signature verification', () => {
  it('a PAdES-B-B receipt sealed under a trusted CA: valid, trusted, whole; signer facts, position and times read', async () => {
    const ca = await makeCa('Lligall installation CA (demo — not qualified)');
    const pdf = await signedPdf(await makeSigner(ca));
    const [r, ...more] = await verifyPdf(pdf, { anchors: prepareTrustAnchors([ca.pem]) });
    assert.equal(more.length, 0);
    assert.equal(r!.integrity, 'valid', r!.integrityProblem ?? '');
    assert.equal(r!.trust, 'trusted', r!.trustReason);
    assert.equal(r!.format, 'PAdES-B-B');
    assert.equal(r!.coverage.label, 'whole');
    assert.equal(r!.signer, "Segell d'òrgan de prova");
    assert.equal(r!.signerFacts?.organization, 'Ajuntament de Prova');
    assert.equal(r!.signerFacts?.dir3, 'L01089999');
    assert.equal(r!.position, 'Secretaria');
    assert.equal(r!.chain.length, 2);
    assert.match(r!.chain[1]!.subject, /installation CA/);
    assert.ok(r!.signedAt && r!.claimedTimes.pdfM && r!.claimedTimes.signingTime === null);
  });

  it('pdfsig agrees: valid and trusted with the CA in NSS; both call a tampered copy invalid', async () => {
    const ca = await makeCa('Agreement CA');
    const pdf = await signedPdf(await makeSigner(ca));
    const nss = nssDbTrusting(ca.pem);
    const [ours] = await verifyPdf(pdf, { anchors: prepareTrustAnchors([ca.pem]) });
    const theirs = pdfsig(pdf, nss).out;
    assert.equal(ours!.integrity, 'valid');
    assert.match(theirs, /Signature is Valid/);
    assert.equal(ours!.trust, 'trusted');
    assert.match(theirs, /Certificate is Trusted/);
    const tampered = Buffer.from(pdf);
    const [, , c, d] = findPdfSignatures(pdf)[0]!.byteRange;
    tampered[c + Math.floor(d / 2)]! ^= 0x01;
    const [ours2] = await verifyPdf(tampered, { anchors: prepareTrustAnchors([ca.pem]) });
    assert.equal(ours2!.integrity, 'invalid');
    assert.doesNotMatch(pdfsig(tampered, nss).out, /Signature is Valid/);
  });

  it('signed elsewhere by a certificate of an unknown CA: integrity valid, trust untrusted', async () => {
    const ours = await makeCa('Our CA');
    const theirs = await makeCa('Somebody else CA');
    const pdf = await signedPdf(await makeSigner(theirs));
    const [r] = await verifyPdf(pdf, { anchors: prepareTrustAnchors([ours.pem]) });
    assert.equal(r!.integrity, 'valid');
    assert.equal(r!.trust, 'untrusted');
  });

  it('one byte changed in the signed range: integrity invalid', async () => {
    const ca = await makeCa('CA');
    const pdf = await signedPdf(await makeSigner(ca));
    const [a, b] = findPdfSignatures(pdf)[0]!.byteRange;
    const tampered = Buffer.from(pdf);
    tampered[a + Math.floor(b / 2)]! ^= 0x20;
    const [r] = await verifyPdf(tampered, { anchors: prepareTrustAnchors([ca.pem]) });
    assert.equal(r!.integrity, 'invalid');
    assert.match(r!.integrityProblem!, /changed after signing/);
  });

  it('a signer certificate not valid at the claimed signing time: expired; a stored document keeps trust after its seal expires', async () => {
    const ca = await makeCa('CA', new Date(Date.now() - 3000 * DAY));
    const old = await makeSigner(ca, {
      notBefore: new Date(Date.now() - 800 * DAY),
      notAfter: new Date(Date.now() - 70 * DAY),
    });
    const anchors = prepareTrustAnchors([ca.pem]);
    const late = await signedPdf(old, { signingTime: new Date() });
    const [r] = await verifyPdf(late, { anchors });
    assert.equal(r!.integrity, 'valid');
    assert.equal(r!.trust, 'expired');
    assert.match(r!.trustReason, /claimed signing time/);
    // Signed while valid, checked now (after expiry) without proof of earlier existence: expired.
    const inTime = await signedPdf(old, { signingTime: new Date(Date.now() - 100 * DAY) });
    assert.equal((await verifyPdf(inTime, { anchors }))[0]!.trust, 'expired');
    // …with proof that it existed while valid (e.g. when Lligall stored it): trusted.
    const proven = await verifyPdf(inTime, { anchors, existedAt: new Date(Date.now() - 99 * DAY) });
    assert.equal(proven[0]!.trust, 'trusted');
  });

  it('revoked only when a CRL of the issuer lists the signer', async () => {
    const ca = await makeCa('CRL CA');
    const signer = await makeSigner(ca);
    const pdf = await signedPdf(signer);
    const anchors = prepareTrustAnchors([ca.pem]);
    const caCert = new x509.X509Certificate(ca.pem);
    const crl = await x509.X509CrlGenerator.create({
      issuer: caCert.subjectName,
      thisUpdate: new Date(Date.now() - HOUR),
      nextUpdate: new Date(Date.now() + DAY),
      signingAlgorithm: RSA_SHA256,
      signingKey: ca.keys.privateKey,
      entries: [
        {
          serialNumber: new x509.X509Certificate(signer.certificatePem).serialNumber,
          revocationDate: new Date(Date.now() - HOUR),
        },
      ],
    });
    const emptyCrl = await x509.X509CrlGenerator.create({
      issuer: caCert.subjectName,
      signingAlgorithm: RSA_SHA256,
      signingKey: ca.keys.privateKey,
      entries: [],
    });
    assert.equal((await verifyPdf(pdf, { anchors }))[0]!.trust, 'trusted');
    assert.equal(
      (await verifyPdf(pdf, { anchors, crls: [Buffer.from(emptyCrl.rawData)] }))[0]!.trust,
      'trusted',
    );
    const r = await verifyPdf(pdf, { anchors, crls: [Buffer.from(crl.toString('pem'))] });
    assert.equal(r[0]!.trust, 'revoked');
    // A CRL signed by someone else does not count.
    const other = await makeCa('CRL CA');
    const forged = await x509.X509CrlGenerator.create({
      issuer: caCert.subjectName,
      signingAlgorithm: RSA_SHA256,
      signingKey: other.keys.privateKey,
      entries: [{ serialNumber: new x509.X509Certificate(signer.certificatePem).serialNumber }],
    });
    assert.equal(
      (await verifyPdf(pdf, { anchors, crls: [Buffer.from(forged.rawData)] }))[0]!.trust,
      'trusted',
    );
  });

  it('two signatures, the second an incremental update: the first covers revision 1 (later changes incremental), the second the whole file', async () => {
    const ca = await makeCa('CA');
    const first = await signedPdf(await makeSigner(ca, { cn: 'Secretària' }));
    const both = await appendSecondSignature(
      first,
      await makeSigner(ca, { cn: 'Alcalde' }),
      'Decret \\(Vist i plau\\) \u0014 Alcaldia',
    );
    const rs = await verifyPdf(both, { anchors: prepareTrustAnchors([ca.pem]) });
    assert.equal(rs.length, 2);
    assert.deepEqual(
      rs.map((r) => r.integrity),
      ['valid', 'valid'],
    );
    assert.deepEqual(
      rs.map((r) => r.signer),
      ['Secretària', 'Alcalde'],
    );
    assert.equal(rs[0]!.coverage.label, 'revision 1');
    assert.equal(rs[0]!.coverage.revisions, 2);
    assert.equal(rs[0]!.coverage.laterChangesIncremental, true);
    assert.equal(rs[1]!.coverage.label, 'whole');
    assert.equal(rs[1]!.reason, 'Decret (Vist i plau) \u0014 Alcaldia');
    assert.equal(rs[1]!.position, 'Alcaldia');
    // Tampering with the second revision breaks the second signature only.
    const tampered = Buffer.from(both);
    const at = both.indexOf('/Name (Alcaldia)', first.length, 'latin1') + 7;
    tampered[at] = 'X'.charCodeAt(0);
    const rt = await verifyPdf(tampered, { anchors: prepareTrustAnchors([ca.pem]) });
    assert.deepEqual(
      rt.map((r) => r.integrity),
      ['valid', 'invalid'],
    );
  });

  it('three signatures appended with appendSignature (a circuit): each valid, revisions 2, 3 and whole; pdfsig agrees', async () => {
    const ca = await makeCa('Circuit CA');
    const doc = await PDFDocument.create();
    doc.addPage().drawText('Decret', { x: 50, y: 780, size: 12 });
    const slots = ['tecnic', 'alcalde', 'secretari'].map((fieldName, i) => ({
      fieldName,
      page: 0,
      rect: { x: 50 + i * 170, y: 80, width: 160, height: 70 },
      label: [fieldName],
    }));
    let pdf = await preparePdfForSignatures(Buffer.from(await doc.save()), slots);
    const who = [
      ['tecnic', 'Tècnica municipal', 'Informe \u2014 Tècnica'],
      ['alcalde', 'Alcalde', 'Resolució \u2014 Alcaldia'],
      ['secretari', 'Secretari', 'Transcripció \u2014 Secretaria'],
    ] as const;
    for (const [fieldName, cn, reason] of who) {
      pdf = await appendSignature(pdf, {
        fieldName,
        signer: localSigner(await makeSigner(ca, { cn })),
        reason,
        location: 'L01089999',
        name: cn,
        signingTime: new Date(),
        appearanceLines: [cn],
      });
    }
    const rs = await verifyPdf(pdf, { anchors: prepareTrustAnchors([ca.pem]) });
    assert.deepEqual(
      rs.map((r) => [r.signer, r.integrity, r.trust, r.format, r.coverage.label, r.position]),
      [
        ['Tècnica municipal', 'valid', 'trusted', 'PAdES-B-B', 'revision 2', 'Tècnica'],
        ['Alcalde', 'valid', 'trusted', 'PAdES-B-B', 'revision 3', 'Alcaldia'],
        ['Secretari', 'valid', 'trusted', 'PAdES-B-B', 'whole', 'Secretaria'],
      ],
    );
    assert.ok(rs.slice(0, 2).every((r) => r.coverage.laterChangesIncremental === true));
    const theirs = pdfsig(pdf, nssDbTrusting(ca.pem)).out;
    assert.equal((theirs.match(/Signature is Valid/g) ?? []).length, 3);
    const tampered = Buffer.from(pdf);
    const [a, b] = findPdfSignatures(pdf)[2]!.byteRange;
    tampered[a + b - 200]! ^= 0x01; // inside the last revision only
    const rt = await verifyPdf(tampered, { anchors: prepareTrustAnchors([ca.pem]) });
    assert.deepEqual(
      rt.map((r) => r.integrity),
      ['valid', 'valid', 'invalid'],
    );
    assert.equal((pdfsig(tampered, nssDbTrusting(ca.pem)).out.match(/Signature is Valid/g) ?? []).length, 2);
  });

  it('malformed input gives a clear error or an invalid report, never a crash', async () => {
    const anchors = prepareTrustAnchors([]);
    await assert.rejects(verifyPdf(Buffer.from('hello'), { anchors }), SignatureFormatError);
    assert.deepEqual(await verifyPdf(Buffer.from('%PDF-1.7\n%%EOF\n'), { anchors }), []);
    const ca = await makeCa('CA');
    const pdf = await signedPdf(await makeSigner(ca));
    const [, b] = findPdfSignatures(pdf)[0]!.byteRange;
    const garbled = Buffer.from(pdf);
    garbled.write('3082ffff0102', b + 1, 'latin1'); // a DER header that lies about its length
    const [r] = await verifyPdf(garbled, { anchors });
    assert.equal(r!.integrity, 'invalid');
    assert.equal(r!.trust, 'unknown');
    // Random bytes in the CMS slot, and a truncated file.
    const noisy = Buffer.from(pdf);
    noisy.write(createHash('sha512').update('x').digest('hex'), b + 1, 'latin1');
    assert.equal((await verifyPdf(noisy, { anchors }))[0]!.integrity, 'invalid');
    assert.deepEqual(await verifyPdf(pdf.subarray(0, pdf.length - 100), { anchors }), []);
  });

  it('verifies a signed 100 KB PDF (its time is measured by `npm run bench -- sign`, not here)', async () => {
    const ca = await makeCa('CA');
    const pdf = await signedPdf(await makeSigner(ca), { kb: 100 });
    assert.ok(pdf.length > 100_000);
    const [report] = await verifyPdf(pdf, { anchors: prepareTrustAnchors([ca.pem]) });
    assert.equal(report?.integrity, 'valid');
    assert.equal(report?.trust, 'trusted');
  });
});

describe('CAdES detached verification', () => {
  it('a signature made with signCadesDetached is valid and trusted, DER or PEM; invalid when the content changes', async () => {
    const ca = await makeCa('CA');
    const content = Buffer.from('Informe tècnic favorable.\n'.repeat(100));
    const sig = await signCadesDetached(content, await makeSigner(ca));
    const anchors = prepareTrustAnchors([ca.pem]);
    const [r] = await verifyCmsDetached(sig, content, { anchors });
    assert.equal(r!.integrity, 'valid');
    assert.equal(r!.trust, 'trusted');
    assert.equal(r!.format, 'CAdES-BES');
    const pem = `-----BEGIN PKCS7-----\n${sig.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PKCS7-----\n`;
    assert.equal((await verifyCmsDetached(Buffer.from(pem), content, { anchors }))[0]!.integrity, 'valid');
    const changed = Buffer.from(content);
    changed[10]! ^= 1;
    const [bad] = await verifyCmsDetached(sig, changed, { anchors });
    assert.equal(bad!.integrity, 'invalid');
    await assert.rejects(
      verifyCmsDetached(Buffer.from('not a signature!'), content, { anchors }),
      SignatureFormatError,
    );
  });

  it('a certificate swapped into the CMS is caught (the signature does not verify with its key)', async () => {
    const ca = await makeCa('CA');
    const content = Buffer.from('x');
    const a = await makeSigner(ca);
    const sig = await signCadesDetached(content, a);
    const b = await makeSigner(ca);
    const aDer = pemToDer(a.certificatePem);
    const bDer = pemToDer(b.certificatePem);
    // Same length (same CA, same subject), so the CMS stays well formed.
    assert.equal(aDer.length, bDer.length);
    const swapped = Buffer.from(sig);
    swapped.set(bDer, sig.indexOf(aDer));
    const [r] = await verifyCmsDetached(swapped, content, { anchors: prepareTrustAnchors([ca.pem]) });
    assert.equal(r!.integrity, 'invalid');
  });
});

async function signXadesDetached(
  content: Uint8Array,
  fileName: string,
  signer: SigningIdentity,
): Promise<string> {
  xadesjs.Application.setEngine('NodeJS', webcrypto as never);
  xadesjs.setNodeDependencies({ DOMParser, XMLSerializer });
  const certB64 = pemToDer(signer.certificatePem).toString('base64');
  const signed = new xadesjs.SignedXml();
  const signature = await signed.Sign({ name: 'RSASSA-PKCS1-v1_5' }, signer.privateKey as never, content, {
    references: [{ hash: 'SHA-256', uri: fileName }],
    x509: [certB64],
    signingCertificateV2: certB64,
    signingTime: { value: new Date() },
  });
  return new XMLSerializer().serializeToString(signature.GetXml() as never);
}

describe('XAdES verification', () => {
  it('a detached XAdES-BES over a file: valid and trusted; invalid when the file changes', async () => {
    const ca = await makeCa('CA');
    const content = Buffer.from('%PDF-1.7 fitxer annex');
    const xml = await signXadesDetached(content, 'annex.pdf', await makeSigner(ca));
    const anchors = prepareTrustAnchors([ca.pem]);
    const [r] = await verifyXades(xml, { anchors, detachedContent: content });
    assert.equal(r!.integrity, 'valid', r!.integrityProblem ?? '');
    assert.equal(r!.trust, 'trusted');
    assert.equal(r!.format, 'XAdES-BES (detached)');
    assert.ok(r!.signedAt);
    const [bad] = await verifyXades(xml, {
      anchors,
      detachedContent: Buffer.from('%PDF-1.7 fitxer canviat'),
    });
    assert.equal(bad!.integrity, 'invalid');
    const [untrusted] = await verifyXades(xml, {
      anchors: prepareTrustAnchors([(await makeCa('Other')).pem]),
      detachedContent: content,
    });
    assert.equal(untrusted!.trust, 'untrusted');
  });

  it("Lligall's own XAdES signer (platform/xml/xades.ts): valid and trusted; invalid over another file", async () => {
    const ca = await makeCa('CA');
    const content = Buffer.from('<expedient>índex</expedient>');
    const xml = await lligallXades(content, localSigner(await makeSigner(ca)), { uri: 'index.xml' });
    const anchors = prepareTrustAnchors([ca.pem]);
    const [r] = await verifyXades(xml, { anchors, detachedContent: content });
    assert.equal(r!.integrity, 'valid', r!.integrityProblem ?? '');
    assert.equal(r!.trust, 'trusted');
    const [bad] = await verifyXades(xml, { anchors, detachedContent: Buffer.from('<expedient/>') });
    assert.equal(bad!.integrity, 'invalid');
  });

  it('a changed signed property (signing time) invalidates the signature', async () => {
    const ca = await makeCa('CA');
    const content = Buffer.from('abc');
    const xml = await signXadesDetached(content, 'a.txt', await makeSigner(ca));
    const changed = xml.replace(
      /(<xades:SigningTime>)(\d{4})/,
      (_m, tag: string, y: string) => `${tag}${Number(y) - 1}`,
    );
    assert.notEqual(changed, xml);
    const [r] = await verifyXades(changed, {
      anchors: prepareTrustAnchors([ca.pem]),
      detachedContent: content,
    });
    assert.equal(r!.integrity, 'invalid');
  });

  it('hostile XML (a DOCTYPE with entities) is refused before parsing; broken XML gives a clear error', async () => {
    const anchors = prepareTrustAnchors([]);
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`;
    await assert.rejects(verifyXades(laughs, { anchors }), /DTD/);
    const xxe = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>`;
    await assert.rejects(verifyXades(xxe, { anchors }), SignatureFormatError);
    await assert.rejects(verifyXades('<a><b></a>', { anchors }), SignatureFormatError);
    await assert.rejects(verifyXades('<a/>', { anchors }), /no signature/);
  });
});
