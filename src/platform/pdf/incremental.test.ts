import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PDFDocument } from 'pdf-lib';
import {
  createSelfSignedCa,
  generateSigningKeyPair,
  issueSigningCertificate,
} from '#platform/crypto/certs.ts';
import {
  appendSignature,
  appendStamp,
  PdfSignatureError,
  preparePdfForSignatures,
  type SignatureSlot,
} from '#platform/pdf/incremental.ts';
import { embedFonts, TextFlow } from '#platform/pdf/layout.ts';
import { localSigner, type Signer } from '#platform/pdf/signer.ts';
import {
  nssDbTrusting,
  opensslCmsVerify,
  pdfSignatures,
  pdfsig,
  pdftotext,
  qpdfCheck,
} from '#test/helpers/pdf-tools.ts';

const validity = () => ({
  notBefore: new Date(Date.now() - 3600_000),
  notAfter: new Date(Date.now() + 86400_000),
});

async function testCa() {
  const keys = await generateSigningKeyPair();
  const caPem = await createSelfSignedCa({
    subject: [
      ['C', 'ES'],
      ['CN', 'Lligall test CA'],
    ],
    keys,
    ...validity(),
  });
  return {
    caPem,
    async signer(cn: string): Promise<Signer> {
      const k = await generateSigningKeyPair();
      const certificatePem = await issueSigningCertificate({
        subject: [
          ['C', 'ES'],
          ['CN', cn],
        ],
        publicKey: k.publicKey,
        issuerCertificatePem: caPem,
        issuerPrivateKey: keys.privateKey,
        ...validity(),
      });
      return localSigner({ certificatePem, chainPem: caPem, privateKey: k.privateKey });
    },
  };
}

/** A signer that sees only digests, as a remote CSC service (`signatures/signHash`) does. */
function remote(local: Signer): Signer {
  const service = async (hashB64: string) =>
    (await local.signDigest(Buffer.from(hashB64, 'base64'))).toString('base64');
  return {
    certificatePem: local.certificatePem,
    chainPem: local.chainPem,
    signDigest: async (d) => Buffer.from(await service(d.toString('base64')), 'base64'),
  };
}

async function draft(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const flow = new TextFlow(doc, await embedFonts(doc));
  flow.text('Decret de l’alcaldia — llicència d’obres menors', { font: 'bold', size: 13 });
  for (let i = 0; i < 60; i++) flow.text(`Fonament ${i + 1}: text del decret que ocupa més d’una pàgina.`);
  return Buffer.from(await doc.save());
}

const SLOTS: SignatureSlot[] = [
  { fieldName: 'tecnic', page: 0, rect: { x: 56, y: 40, width: 150, height: 80 }, label: ['La tècnica'] },
  { fieldName: 'alcalde', page: 1, rect: { x: 56, y: 120, width: 230, height: 80 }, label: ["L'alcalde"] },
  {
    fieldName: 'secretari',
    page: 1,
    rect: { x: 300, y: 120, width: 230, height: 80 },
    label: ['El secretari', 'Transcripció i fe pública'],
  },
];

const STAMP = 'Decret núm. 2026/000042 de 2 de març de 2026';

function sign(pdf: Buffer, fieldName: string, signer: Signer, who: string, position: string) {
  return appendSignature(pdf, {
    fieldName,
    signer,
    reason: position,
    location: 'L01250019',
    name: who,
    signingTime: new Date(),
    appearanceLines: [
      `Signat per ${who}`,
      position,
      new Date().toISOString(),
      'CSV: 7K2P-9QWX-4M8D',
      'https://seu.example.cat/verifica',
    ],
  });
}

/** Prepared for 3 slots, signed by 3 certificates, with the decree number stamped between 1 and 2. */
async function circuit(signers?: (s: Signer) => Signer) {
  const ca = await testCa();
  const wrap = signers ?? ((s: Signer) => s);
  const prepared = await preparePdfForSignatures(await draft(), SLOTS);
  const r1 = await sign(
    prepared,
    'alcalde',
    wrap(await ca.signer('Joan Alcalde')),
    'Joan Alcalde',
    'Alcalde',
  );
  const stamped = await appendStamp(r1, 1, { x: 56, y: 220, width: 400, height: 24 }, [STAMP]);
  const r2 = await sign(stamped, 'tecnic', wrap(await ca.signer('Aïda Tècnica')), 'Aïda Tècnica', 'Tècnica');
  const r3 = await sign(
    r2,
    'secretari',
    wrap(await ca.signer('Łukasz Secretari')),
    'Łukasz Secretari',
    'Secretari',
  );
  return { ca, prepared, r1, stamped, r2, r3 };
}

function pdfsigBlocks(out: string): string[] {
  return out.split(/^Signature #\d+:/m).slice(1);
}

function byField(blocks: string[], name: string): string {
  const b = blocks.find((x) => x.includes(`Field Name: ${name}\n`));
  assert.ok(b, `pdfsig reports the field ${name}`);
  return b;
}

describe('several PAdES signatures as incremental updates, judged by pdfsig, qpdf and openssl', () => {
  it('three signatures by three certificates: each valid and trusted; 1 and 2 cover a revision, 3 the whole file; qpdf passes', async () => {
    const { ca, prepared, r1, stamped, r2, r3 } = await circuit();
    // Append-only: every earlier file is a prefix of the later ones.
    for (const [a, b] of [
      [prepared, r1],
      [r1, stamped],
      [stamped, r2],
      [r2, r3],
    ] as const)
      assert.ok(b.subarray(0, a.length).equals(a));
    const r = pdfsig(r3, nssDbTrusting(ca.caPem));
    const blocks = pdfsigBlocks(r.out);
    assert.equal(blocks.length, 3, r.out);
    for (const b of blocks) {
      assert.match(b, /Signature is Valid/);
      assert.match(b, /Certificate is Trusted/);
      assert.match(b, /ETSI\.CAdES\.detached/);
    }
    // pdfsig lists signatures in field order; signing order was alcalde, tecnic, secretari.
    assert.match(byField(blocks, 'alcalde'), /Not total document signed/);
    assert.match(byField(blocks, 'tecnic'), /Not total document signed/);
    assert.match(byField(blocks, 'secretari'), /Total document signed/);
    assert.doesNotMatch(byField(blocks, 'secretari'), /Not total/);
    assert.match(r.out, /Łukasz Secretari/);
    const q = qpdfCheck(r3);
    assert.equal(q.status, 0, q.out);
    assert.match(q.out, /No syntax or stream encoding errors/);
    // Each CMS also verifies with openssl over the bytes its /ByteRange names.
    for (const s of pdfSignatures(r3))
      assert.equal(opensslCmsVerify(s.cms, s.signedData, ca.caPem).status, 0);
  });

  it('the stamp appended between signature 1 and 2 is covered by 2 and 3, not by 1; each stamp area shows its text', async () => {
    const { r3 } = await circuit();
    const sigs = pdfSignatures(r3);
    assert.equal(sigs.length, 3);
    const [rev1, rev2, rev3] = sigs.map((s) => pdftotext(s.revision));
    const one = (s: string) => s.replace(/\s+/g, ' ');
    assert.doesNotMatch(one(rev1!), /2026\/000042/);
    assert.match(one(rev1!), /Signat per Joan Alcalde/);
    assert.match(one(rev2!), new RegExp(STAMP));
    assert.match(one(rev3!), new RegExp(STAMP));
    assert.match(one(rev3!), /Signat per Łukasz Secretari/);
    assert.match(one(rev3!), /Transcripció i fe pública/);
    assert.ok(sigs[0]!.revision.length < sigs[1]!.revision.length);
    assert.equal(sigs[2]!.revision.length, r3.length);
  });

  it('one byte changed inside the first revision invalidates all three signatures', async () => {
    const { ca, r3 } = await circuit();
    const [first] = pdfSignatures(r3);
    const at = first!.byteRange[1]! >> 1;
    const tampered = Buffer.from(r3);
    tampered[at] = tampered[at]! ^ 0x01;
    const blocks = pdfsigBlocks(pdfsig(tampered, nssDbTrusting(ca.caPem)).out);
    assert.equal(blocks.length, 3);
    for (const b of blocks) assert.doesNotMatch(b, /Signature is Valid/);
  });

  it('a byte changed in the last revision leaves the earlier signatures valid and breaks the last', async () => {
    const { ca, r2, r3 } = await circuit();
    const tampered = Buffer.from(r3);
    const at = r2.length + 20;
    tampered[at] = tampered[at]! ^ 0x01;
    const blocks = pdfsigBlocks(pdfsig(tampered, nssDbTrusting(ca.caPem)).out);
    assert.match(byField(blocks, 'alcalde'), /Signature is Valid/);
    assert.match(byField(blocks, 'tecnic'), /Signature is Valid/);
    assert.doesNotMatch(byField(blocks, 'secretari'), /Signature is Valid/);
  });

  it('signers that only see digests (a remote CSC service) give the same validity', async () => {
    const { ca, r3 } = await circuit(remote);
    const r = pdfsig(r3, nssDbTrusting(ca.caPem));
    const blocks = pdfsigBlocks(r.out);
    assert.equal(blocks.length, 3, r.out);
    for (const b of blocks) {
      assert.match(b, /Signature is Valid/);
      assert.match(b, /Certificate is Trusted/);
    }
    assert.equal(qpdfCheck(r3).status, 0);
  });

  it('refuses a field already signed, an unknown field, and preparing a signed document again', async () => {
    const ca = await testCa();
    const signer = await ca.signer('Joan Alcalde');
    const prepared = await preparePdfForSignatures(await draft(), SLOTS);
    const r1 = await sign(prepared, 'alcalde', signer, 'Joan', 'Alcalde');
    await assert.rejects(sign(r1, 'alcalde', signer, 'Joan', 'Alcalde'), PdfSignatureError);
    await assert.rejects(sign(r1, 'ningú', signer, 'Joan', 'Alcalde'), PdfSignatureError);
    await assert.rejects(preparePdfForSignatures(r1, SLOTS), PdfSignatureError);
  });
});
