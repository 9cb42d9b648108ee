import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PDFDocument } from 'pdf-lib';
import { embedFonts, TextFlow } from '#platform/pdf/layout.ts';
import { signPdfDocument } from '#platform/pdf/pades.ts';
import {
  nssDbTrusting,
  opensslCmsPrint,
  opensslCmsVerify,
  pdfSignature,
  pdfsig,
  pdftotext,
} from '#test/helpers/pdf-tools.ts';
import { testSigningIdentity } from '#test/helpers/pki.ts';

const identity = () => testSigningIdentity();

async function signedSample(signer: Awaited<ReturnType<typeof identity>>['signer']) {
  const doc = await PDFDocument.create();
  const flow = new TextFlow(doc, await embedFonts(doc));
  flow.text('Sol·licitud de llicència — Aïnhoa Çeşme Łukasz Ωμέγα Дмитрий', { font: 'bold', size: 14 });
  for (let i = 0; i < 90; i++) flow.text(`Línia ${i + 1} d'un text prou llarg per fer saltar de pàgina.`);
  flow.footer(['peu de pàgina'], (n, t) => `${n}/${t}`);
  return signPdfDocument(doc, signer, {
    name: 'Ajuntament de Prova',
    reason: 'Prova',
    location: 'L01259999',
    contactInfo: 'http://localhost/verify',
    signingTime: new Date(),
  });
}

describe('PAdES-B-B signing (ETSI EN 319 142-1), judged by pdfsig and openssl', () => {
  it('pdfsig finds the signature valid and, with the CA in NSS, the certificate trusted; Unicode text extracts as written', async () => {
    const { caPem, signer } = await identity();
    const pdf = await signedSample(signer);
    const nss = nssDbTrusting(caPem);
    const r = pdfsig(pdf, nss);
    assert.match(r.out, /Signature is Valid/);
    assert.match(r.out, /Certificate is Trusted/);
    assert.match(r.out, /ETSI\.CAdES\.detached/);
    assert.match(r.out, /Total document signed/);
    const text = pdftotext(pdf);
    assert.match(text, /Sol·licitud de llicència — Aïnhoa Çeşme Łukasz Ωμέγα\s+Дмитрий/);
    assert.match(text, /Línia 90 d'un text/);
    assert.ok((text.match(/\f/g) ?? []).length >= 2, 'the text flows onto a second page');
  });

  it('without the CA trusted pdfsig does not call the certificate trusted', async () => {
    const { signer } = await identity();
    const r = pdfsig(await signedSample(signer), nssDbTrusting((await identity()).caPem));
    assert.match(r.out, /Signature is Valid/);
    assert.doesNotMatch(r.out, /Certificate is Trusted/);
  });

  it('the CMS carries signing-certificate-v2 and no signing time, and openssl cms -verify accepts it', async () => {
    const { caPem, signer } = await identity();
    const pdf = await signedSample(signer);
    const { cms, signedData } = pdfSignature(pdf);
    const printed = opensslCmsPrint(cms);
    assert.match(
      printed,
      /id-smime-aa-signingCertificateV2|signingCertificateV2|1\.2\.840\.113549\.1\.9\.16\.2\.47/,
    );
    assert.doesNotMatch(printed, /signingTime/);
    assert.match(printed, /messageDigest/);
    const v = opensslCmsVerify(cms, signedData, caPem);
    assert.equal(v.status, 0, v.out);
  });

  it('changing one byte of the signed range makes pdfsig fail', async () => {
    const { caPem, signer } = await identity();
    const pdf = await signedSample(signer);
    const { byteRange } = pdfSignature(pdf);
    const tampered = Buffer.from(pdf);
    const at = byteRange[2]! + Math.floor(byteRange[3]! / 2);
    tampered[at] = tampered[at]! ^ 0x01;
    const r = pdfsig(tampered, nssDbTrusting(caPem));
    assert.doesNotMatch(r.out, /Signature is Valid/);
  });
});
