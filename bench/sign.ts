/**
 * Signing benchmark: PAdES-B-B on a 100 KB and a 5 MB PDF, in this process (no server, no
 * database). One signature = prepare the document for its signature fields (once per document,
 * a full save) + append one signature as an incremental update (load, appearance, hash of the
 * whole file, CMS). The key is a local RSA-2048 key through the same `Signer` interface a remote
 * service implements (its network time is not counted). Verification (platform/signatures/
 * verify-pdf.ts: integrity, path and trust of every signature) is timed on the signed result.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  PDFDocument,
  PDFName,
  pushGraphicsState,
  popGraphicsState,
  drawObject,
  scale,
  translate,
} from 'pdf-lib';
import {
  createSelfSignedCa,
  generateSigningKeyPair,
  issueSigningCertificate,
} from '#platform/crypto/certs.ts';
import { appendSignature, preparePdfForSignatures, type SignatureSlot } from '#platform/pdf/incremental.ts';
import { embedFonts, TextFlow } from '#platform/pdf/layout.ts';
import { localSigner, type Signer } from '#platform/pdf/signer.ts';
import { prepareTrustAnchors } from '#platform/signatures/trust.ts';
import { verifyPdf } from '#platform/signatures/verify-pdf.ts';

/** Targets (ms per signature, reference 2-core machine). */
const TARGETS: Record<string, number> = { '100 KB': 50, '5 MB': 250 };
/** Verification target (ms, 100 KB; issue 4). */
const VERIFY_TARGETS: Record<string, number> = { '100 KB': 20 };

export const signUsage = `npm run bench -- sign [options]

  --iterations <n>   signatures measured per size after 3 warm-up ones (default 20)`;

/** A PDF of about `bytes`: text pages, then incompressible images (as a scan's) up to the size. */
async function samplePdf(bytes: number): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const flow = new TextFlow(doc, await embedFonts(doc));
  flow.text('Informe tècnic — llicència d’obres', { font: 'bold', size: 14 });
  for (let i = 0; i < 120; i++) flow.text(`Paràgraf ${i + 1}: consideracions tècniques de l’expedient.`);
  let size = (await doc.save({ useObjectStreams: false })).length;
  let n = 0;
  while (size < bytes * 0.98) {
    const side = Math.min(600, Math.floor(Math.sqrt((bytes - size) / 3)));
    if (side < 8) break;
    const image = doc.context.register(
      doc.context.stream(randomBytes(side * side * 3), {
        Type: 'XObject',
        Subtype: 'Image',
        Width: side,
        Height: side,
        ColorSpace: 'DeviceRGB',
        BitsPerComponent: 8,
      }),
    );
    const page = doc.addPage([595.28, 841.89]);
    const name = `Im${n++}`;
    page.node.setXObject(PDFName.of(name), image);
    page.pushOperators(
      pushGraphicsState(),
      translate(56, 200),
      scale(480, 480),
      drawObject(name),
      popGraphicsState(),
    );
    size += side * side * 3 + 400;
  }
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}

async function benchSigner(): Promise<Signer> {
  const validity = { notBefore: new Date(Date.now() - 3600_000), notAfter: new Date(Date.now() + 86400_000) };
  const caKeys = await generateSigningKeyPair();
  const caPem = await createSelfSignedCa({ subject: [['CN', 'Bench CA']], keys: caKeys, ...validity });
  const keys = await generateSigningKeyPair();
  const certificatePem = await issueSigningCertificate({
    subject: [['CN', 'Bench signer']],
    publicKey: keys.publicKey,
    issuerCertificatePem: caPem,
    issuerPrivateKey: caKeys.privateKey,
    ...validity,
  });
  return localSigner({ certificatePem, chainPem: caPem, privateKey: keys.privateKey });
}

const SLOTS: SignatureSlot[] = [
  { fieldName: 'signant1', page: 0, rect: { x: 56, y: 40, width: 230, height: 80 }, label: ['Signant 1'] },
  { fieldName: 'signant2', page: 0, rect: { x: 300, y: 40, width: 230, height: 80 }, label: ['Signant 2'] },
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runSign(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { iterations: { type: 'string', default: '20' } } });
  const iterations = Number(values.iterations);
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error('--iterations must be an integer ≥ 1');
  const signer = await benchSigner();
  const anchors = prepareTrustAnchors([signer.chainPem]);
  const rows: string[][] = [];
  let failed = false;
  for (const [label, bytes] of [
    ['100 KB', 100 * 1024],
    ['5 MB', 5 * 1024 * 1024],
  ] as const) {
    const pdf = await samplePdf(bytes);
    const prepare: number[] = [];
    const append: number[] = [];
    const total: number[] = [];
    const cpu: number[] = [];
    let signed: Buffer | null = null;
    for (let i = 0; i < iterations + 3; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const prepared = await preparePdfForSignatures(pdf, SLOTS);
      const t1 = performance.now();
      signed = await appendSignature(prepared, {
        fieldName: 'signant1',
        signer,
        reason: 'Bench',
        location: 'L01250019',
        name: 'Bench signer',
        signingTime: new Date(),
        appearanceLines: ['Signat per Bench signer', 'Càrrec', new Date().toISOString(), 'CSV: ABCD-EFGH'],
      });
      const t2 = performance.now();
      const c = process.cpuUsage(c0);
      if (i < 3) continue;
      cpu.push((c.user + c.system) / 1000);
      prepare.push(t1 - t0);
      append.push(t2 - t1);
      total.push(t2 - t0);
    }
    const verify: number[] = [];
    for (let i = 0; i < iterations + 3; i++) {
      const t0 = performance.now();
      const [report] = await verifyPdf(signed!, { anchors });
      const t = performance.now() - t0;
      if (report?.integrity !== 'valid' || report.trust !== 'trusted') {
        throw new Error(`The signed ${label} PDF does not verify: ${JSON.stringify(report)}`);
      }
      if (i >= 3) verify.push(t);
    }
    for (const a of [prepare, append, total, cpu, verify]) a.sort((x, y) => x - y);
    const verifyP50 = percentile(verify, 50);
    if (VERIFY_TARGETS[label] !== undefined && verifyP50 > VERIFY_TARGETS[label]!) failed = true;
    const p50 = percentile(total, 50);
    const target = TARGETS[label]!;
    if (p50 > target) failed = true;
    rows.push([
      `${label} (${(pdf.length / 1024).toFixed(0)} KiB)`,
      percentile(prepare, 50).toFixed(1),
      percentile(append, 50).toFixed(1),
      p50.toFixed(1),
      percentile(total, 95).toFixed(1),
      percentile(cpu, 50).toFixed(1),
      `≤ ${target}`,
      verifyP50.toFixed(2),
      VERIFY_TARGETS[label] !== undefined ? `≤ ${VERIFY_TARGETS[label]}` : '—',
    ]);
  }
  const head = [
    'PDF',
    'prepare p50',
    'append p50',
    'sign ms p50',
    'sign p95',
    'sign CPU ms p50',
    'target',
    'verify ms p50',
    'verify target',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(
    `PAdES-B-B signing, ${iterations} signatures per size (ms per signature; sign = prepare + append;` +
      ` CPU = the process's user + system time, steadier than wall time on a busy machine;` +
      ` load average ${os.loadavg()[0]!.toFixed(1)})\n`,
  );
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  if (failed) console.log('\nAbove target (wall time p50).');
  return 0;
}
