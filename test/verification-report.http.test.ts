import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { PDFDocument } from 'pdf-lib';
import { type Ctx, noRequest } from '#platform/context.ts';
import {
  createSelfSignedCa,
  generateSigningKeyPair,
  issueSigningCertificate,
} from '#platform/crypto/certs.ts';
import { signPdfDocument } from '#platform/pdf/pades.ts';
import { appointHolder, createPosition } from '#modules/positions/positions.service.ts';
import { getInstallationCaPem } from '#modules/seals/seals.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  currentTotp,
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  type TestEnv,
  type TestUser,
  tokenHeaders,
} from '#test/helpers/harness.ts';
import { multipart } from '#test/helpers/multipart.ts';
import { nssDbTrusting, pdfsig, pdftotext } from '#test/helpers/pdf-tools.ts';

/**
 * GET /entities/{entity}/documents/{id}/verification.pdf, on the backend the suite runs on
 * (LLIGALL_TEST_BACKEND=postgres for PostgreSQL): the verification report as a PDF sealed with
 * the entity's seal — judged by pdfsig (valid, trusted with the installation CA in NSS) and read
 * back with pdftotext — in the caller's language, with a CSV the public verification resolves;
 * access and audit as for the JSON report, another entity's caller gets 404.
 */

let env: TestEnv;
let app: FastifyInstance;
let tenant: Tenant;
let other: Tenant;
let base: string;
let creator: TestUser;
let secretary: TestUser;
let mayor: TestUser;
let outsider: TestUser;
const H = new Map<string, Record<string, string>>();
let otherHeaders: Record<string, string>;
let expedient: { id: string; number: string };
let restricted: { id: string; number: string };
/** A PDF signed through a circuit by the secretary and the mayor, with their demo keys. */
let circuitDoc: string;
/** A PDF signed by a certificate of a CA nobody trusts here. */
let foreignDoc: string;
let secretaryPos = '';

const DAY = 86400_000;
const h = (u: TestUser) => H.get(u.id)!;
const CSV_RE = /[0-9A-HJKMNP-TV-Z]{5}(?:-[0-9A-HJKMNP-TV-Z]{5}){3}/;
/** The text with its line breaks and layout spaces as single spaces (long values wrap). */
const flat = (s: string) => s.replace(/\s+/g, ' ');
/** The report's CSV, as its footer prints it. */
const csvOf = (text: string) => text.match(new RegExp(`CSV (${CSV_RE.source})`))?.[1];

async function pdf(text: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage().drawText(text, { x: 50, y: 780, size: 12 });
  return Buffer.from(await doc.save());
}

async function upload(
  expedientId: string,
  title: string,
  data: Buffer,
  opts: { draft?: boolean; type?: string } = {},
): Promise<string> {
  const type = opts.type ?? 'application/pdf';
  const form = multipart(
    { title, documentType: 'TD11', ...(opts.draft ? { draft: 'true' } : {}) },
    { name: type === 'application/pdf' ? 'doc.pdf' : 'doc.txt', type, data },
  );
  const res = await app.inject({
    method: 'POST',
    url: `${base}/expedients/${expedientId}/documents`,
    headers: { ...h(creator), ...form.headers },
    payload: form.body,
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id;
}

async function report(
  id: string,
  opts: { headers?: Record<string, string>; at?: string; query?: string } = {},
) {
  return app.inject({
    method: 'GET',
    url: `${opts.at ?? base}/documents/${id}/verification.pdf${opts.query ?? ''}`,
    headers: opts.headers ?? h(creator),
  });
}

/** The text of each signature's section, in order ("Signatura 1 de 2 …" up to the next). */
function signatureBlocks(text: string, heading: RegExp): string[] {
  const starts = [...text.matchAll(new RegExp(heading.source, 'g'))].map((m) => m.index!);
  return starts.map((s, i) => text.slice(s, starts[i + 1] ?? text.length));
}

async function foreignSignedPdf(): Promise<Buffer> {
  const keys = await generateSigningKeyPair();
  const now = env.clock.now();
  const caPem = await createSelfSignedCa({
    subject: [
      ['C', 'ES'],
      ['O', 'Prestador aliè'],
      ['CN', 'Unknown CA'],
    ],
    keys,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 365 * DAY),
  });
  const signerKeys = await generateSigningKeyPair();
  const certificatePem = await issueSigningCertificate({
    subject: [
      ['C', 'ES'],
      ['serialNumber', '12345678Z'],
      ['CN', 'Maria Soler Vidal'],
    ],
    publicKey: signerKeys.publicKey,
    issuerCertificatePem: caPem,
    issuerPrivateKey: keys.privateKey,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 365 * DAY),
  });
  const doc = await PDFDocument.create();
  doc.addPage().drawText('Sol·licitud signada fora', { x: 50, y: 780, size: 12 });
  return signPdfDocument(
    doc,
    { certificatePem, chainPem: caPem, privateKey: signerKeys.privateKey },
    {
      name: 'Maria Soler Vidal',
      reason: 'Sol·licitud',
      location: 'Tremp',
      contactInfo: '',
      signingTime: now,
    },
  );
}

function adminCtx(admin: TestUser): Ctx {
  return {
    tenant: { id: tenant.id, dir3: tenant.dir3, slug: tenant.slug, name: tenant.name, status: tenant.status },
    actor: { kind: 'user', id: admin.id, label: admin.username, platformRoles: [] },
    roles: ['admin'],
    request: noRequest,
    clock: env.clock,
  };
}

async function newExpedient(title: string, accessLevel?: string) {
  const res = await app.inject({
    method: 'POST',
    url: `${base}/expedients`,
    headers: h(creator),
    payload: { title, ...(accessLevel ? { accessLevel } : {}) },
  });
  assert.equal(res.statusCode, 201, res.body);
  return { id: res.json().id as string, number: res.json().number as string };
}

async function auditOf(objectId: string, action: string) {
  return env.db.owner((tx) =>
    tx
      .selectFrom('audit_events')
      .select(['action', 'actor_id', 'details'])
      .where('object_id', '=', objectId)
      .where('action', '=', action)
      .orderBy('seq')
      .execute(),
  );
}

before(async () => {
  env = await openTestEnv();
  app = await makeServer(env);
  tenant = await makeTenant(env, { name: 'Ajuntament de la Pobla de Ségur' });
  other = await makeTenant(env);
  base = `/api/v1/entities/${tenant.slug}`;
  const admin = await makeUser(env, { tenant, roles: ['admin'], totp: true });
  creator = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  secretary = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  mayor = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  outsider = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  for (const u of [creator, secretary, mayor, outsider]) H.set(u.id, await tokenHeaders(env, u));
  otherHeaders = await tokenHeaders(
    env,
    await makeUser(env, { tenant: other, roles: ['handler'], totp: true }),
  );
  let mayorPos = '';
  await env.db.tenant(tenant.id, async (tx) => {
    const ctx = adminCtx(admin);
    const s = await createPosition(tx, ctx, { kind: 'secretary', title: 'La secretària' });
    await appointHolder(tx, ctx, s.id, { userId: secretary.id, validFrom: '2020-01-01' });
    const m = await createPosition(tx, ctx, { kind: 'mayor', title: "L'alcalde" });
    await appointHolder(tx, ctx, m.id, { userId: mayor.id, validFrom: '2020-01-01' });
    secretaryPos = s.id;
    mayorPos = m.id;
  });
  expedient = await newExpedient('Certificat d’empadronament');
  restricted = await newExpedient('Expedient disciplinari', 'restricted');

  circuitDoc = await upload(expedient.id, 'Certificat de residència', await pdf('Certificat'), {
    draft: true,
  });
  const started = await app.inject({
    method: 'POST',
    url: `${base}/documents/${circuitDoc}/circuit`,
    headers: h(creator),
    payload: {
      steps: [
        { kind: 'sign', mode: 'all', signers: [{ positionId: secretaryPos }] },
        { kind: 'vistiplau', mode: 'all', signers: [{ positionId: mayorPos }] },
      ],
    },
  });
  assert.equal(started.statusCode, 201, started.body);
  for (const u of [secretary, mayor]) {
    env.clock.advance(31_000); // one TOTP code confirms one act
    const r = await app.inject({
      method: 'POST',
      url: `${base}/documents/${circuitDoc}/sign`,
      headers: h(u),
      payload: { totp: currentTotp(env, u) },
    });
    assert.equal(r.statusCode, 200, r.body);
  }
  foreignDoc = await upload(expedient.id, 'Sol·licitud signada fora', await foreignSignedPdf());
});
after(async () => {
  await app?.close();
  await env?.close();
});

describe('the verification report as a sealed PDF (GET …/documents/{id}/verification.pdf)', () => {
  let ca: string;
  let body: Buffer;
  let text: string;

  before(async () => {
    const res = await report(circuitDoc);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], 'application/pdf');
    assert.match(String(res.headers['content-disposition']), /informe-verificacio-ES_.*\.pdf/);
    body = res.rawPayload;
    text = pdftotext(body);
    ca = (await getInstallationCaPem(env.db))!;
    assert.ok(ca);
  });

  it('pdfsig: one signature, the entity’s seal, "Signature is Valid" and, with the installation CA in NSS, "Certificate is Trusted"', () => {
    const r = pdfsig(body, nssDbTrusting(ca));
    assert.equal(r.out.split(/Signature #\d+:/).length - 1, 1, r.out);
    assert.match(r.out, /Signature is Valid/, r.out);
    assert.match(r.out, /Certificate is Trusted/, r.out);
    assert.match(r.out, /ETSI\.CAdES\.detached/);
    assert.match(r.out, /Segell d'òrgan de Ajuntament de la Pobla de Ségur/);
    const untrustedHere = pdfsig(body);
    assert.doesNotMatch(
      untrustedHere.out,
      /Certificate is Trusted/,
      'trust comes from the CA, not from pdfsig',
    );
  });

  it('pdftotext (Catalan): the document, each signature’s signer, position, integrity, trust, coverage and certificate, the demo label and the verdict', async () => {
    const meta = (
      await app.inject({ method: 'GET', url: `${base}/documents/${circuitDoc}`, headers: h(creator) })
    ).json();
    assert.match(text, /Informe de verificació de signatures electròniques/);
    assert.match(text, /Certificat de residència/);
    assert.ok(text.includes(expedient.number), 'the case file number');
    assert.ok(text.includes(meta.eniId), 'the ENI identifier');
    assert.ok(text.includes(meta.sha256), 'the SHA-256 on one line');
    assert.match(flat(text), /Data i hora de la verificació \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2}/);
    const blocks = signatureBlocks(text, /Signatura \d de 2/);
    assert.equal(blocks.length, 2, text);
    const expected = [
      { user: secretary, position: 'La secretària', coverage: /revisió \d de \d/ },
      { user: mayor, position: "L'alcalde", coverage: /tot el document/ },
    ];
    for (const [i, b] of blocks.entries()) {
      const e = expected[i]!;
      assert.match(b, /^Signatura \d de 2 \(demo — no qualificada\)/, b);
      assert.ok(b.includes(`${e.user.username} (demo — no qualificat)`), `signer in ${b}`);
      assert.match(b, new RegExp(`Càrrec\\s+${e.position}`), b);
      assert.match(b, /Integritat\s+vàlida/, b);
      assert.match(b, /Confiança\s+de confiança/, b);
      assert.match(b, /Format\s+PAdES-B-B/, b);
      assert.match(b, e.coverage, b);
      assert.match(b, /Emissor\s+.*Lligall installation CA/, b);
      assert.match(b, /Número de sèrie\s+[0-9a-f]+/, b);
      assert.match(b, /Vigència\s+del \d{2}\/\d{2}\/\d{4} al \d{2}\/\d{2}\/\d{4}/, b);
      assert.match(flat(b), /clau de demostració/);
    }
    assert.match(flat(text), /Les 2 signatures són íntegres i els seus certificats són de confiança/);
    assert.match(flat(text), /Inclou signatures de demostració/);
    assert.match(text, /SEGELL DE DEMOSTRACIÓ — NO QUALIFICAT/, 'the report’s own seal is the demo seal');
  });

  it('its CSV resolves through the public GET /api/v1/verify/{csv}, whose content is the report byte for byte; the report is not in the case file index', async () => {
    const csv = csvOf(text);
    assert.ok(csv, text);
    assert.match(flat(text), new RegExp(`Codi segur de verificació ${csv} \\(CSV\\) d’aquest informe`));
    const v = await app.inject({ method: 'GET', url: `/api/v1/verify/${csv}` });
    assert.equal(v.statusCode, 200, v.body);
    const view = v.json();
    assert.equal(view.csv, csv);
    assert.equal(view.entity.dir3, tenant.dir3);
    assert.equal(view.document.title, 'Informe de verificació de signatures — Certificat de residència');
    assert.equal(view.document.sha256, createHash('sha256').update(body).digest('hex'));
    assert.equal(view.seal.qualified, false);
    const content = await app.inject({ method: 'GET', url: `/api/v1/verify/${csv}/content` });
    assert.equal(content.statusCode, 200);
    assert.ok(content.rawPayload.equals(body));
    const index = await app.inject({
      method: 'GET',
      url: `${base}/expedients/${expedient.id}/index`,
      headers: h(creator),
    });
    const ids = (index.json().entries as { documentId: string }[]).map((e) => e.documentId);
    assert.ok(ids.includes(circuitDoc));
    assert.equal(ids.length, 2, 'the two documents uploaded, no report');
  });

  it('the read is audited as the JSON report’s (document.verify) and the issue with the report’s CSV (document.verification_report)', async () => {
    const csv = csvOf(text)!.replaceAll('-', '');
    const verifies = await auditOf(circuitDoc, 'document.verify');
    assert.ok(verifies.some((e) => e.actor_id === creator.id));
    const issued = await auditOf(circuitDoc, 'document.verification_report');
    const mine = issued.find((e) => (e.details as { csv: string }).csv === csv);
    assert.ok(mine, JSON.stringify(issued));
    assert.equal(mine.actor_id, creator.id);
    assert.equal((mine.details as { signatures: number }).signatures, 2);
    assert.equal((mine.details as { signed: boolean }).signed, true);
  });
});

describe('the report’s language, an untrusted signature, isolation and restricted case files', () => {
  it('Spanish (?lang=es) and Aranese (Accept-Language: oc): the same facts in their words, demo labelled in each', async () => {
    const es = await report(circuitDoc, { query: '?lang=es' });
    assert.equal(es.statusCode, 200, es.body);
    assert.equal(es.headers['content-language'], 'es');
    const esText = pdftotext(es.rawPayload);
    assert.match(esText, /Informe de verificación de firmas electrónicas/);
    const esBlocks = signatureBlocks(esText, /Firma \d de 2/);
    assert.equal(esBlocks.length, 2);
    for (const b of esBlocks) {
      assert.match(b, /\(demo — no cualificada\)/);
      assert.match(b, /Integridad\s+válida/);
      assert.match(b, /Confianza\s+de confianza/);
    }
    assert.match(esText, /Cargo\s+La secretària/);
    const oc = await report(circuitDoc, {
      headers: { ...h(creator), 'accept-language': 'oc-ES, es;q=0.5' },
    });
    assert.equal(oc.statusCode, 200, oc.body);
    const ocText = pdftotext(oc.rawPayload);
    assert.match(ocText, /Informe de verificacion de signatures electroniques/);
    const ocBlocks = signatureBlocks(ocText, /Signatura \d de 2/);
    assert.equal(ocBlocks.length, 2);
    for (const b of ocBlocks) {
      assert.match(b, /\(demo — non qualificada\)/);
      assert.match(b, /Integritat\s+valida/);
      assert.match(b, /Carg\s+/);
    }
    const bad = await report(circuitDoc, { query: '?lang=fr' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'VALIDATION_FAILED');
  });

  it('a signature by a certificate of an unknown CA: valid, not trusted, no demo label; the verdict says not signed', async () => {
    const res = await report(foreignDoc);
    assert.equal(res.statusCode, 200, res.body);
    const t = pdftotext(res.rawPayload);
    const [b] = signatureBlocks(t, /Signatura 1 de 1/);
    assert.ok(b, t);
    assert.match(b, /Signant\s+Maria Soler Vidal/);
    assert.match(b, /Integritat\s+vàlida/);
    assert.match(b, /Confiança\s+no de confiança/);
    assert.match(b, /Abast\s+tot el document/);
    assert.doesNotMatch(t, /demo — no qualificada/);
    assert.match(
      flat(t),
      /El document NO consta com a signat: les signatures són íntegres, però almenys un certificat no és de confiança/,
    );
  });

  it("another entity's caller gets 404 (through their entity and through this one) and no report is issued; without a session 401", async () => {
    const before = await env.db.owner((tx) =>
      tx
        .selectFrom('csv_index')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow(),
    );
    const viaOwn = await report(circuitDoc, { headers: otherHeaders, at: `/api/v1/entities/${other.slug}` });
    assert.equal(viaOwn.statusCode, 404, viaOwn.body);
    assert.equal(viaOwn.json().code, 'DOCUMENT_NOT_FOUND');
    const viaTheirs = await report(circuitDoc, { headers: otherHeaders });
    assert.equal(viaTheirs.statusCode, 404, viaTheirs.body);
    assert.equal(viaTheirs.json().code, 'ENTITY_NOT_FOUND');
    assert.equal((await report('0190f0a0-0000-7000-8000-000000000000')).statusCode, 404);
    const anonymous = await app.inject({
      method: 'GET',
      url: `${base}/documents/${circuitDoc}/verification.pdf`,
    });
    assert.equal(anonymous.statusCode, 401);
    const afterwards = await env.db.owner((tx) =>
      tx
        .selectFrom('csv_index')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow(),
    );
    assert.equal(Number(afterwards.n), Number(before.n));
  });

  it('a text file signed through a circuit (detached CAdES): its signature is in the report with its position and the demo label', async () => {
    const id = await upload(expedient.id, 'Nota interior', Buffer.from('Nota interior de la secretaria\n'), {
      draft: true,
      type: 'text/plain',
    });
    const started = await app.inject({
      method: 'POST',
      url: `${base}/documents/${id}/circuit`,
      headers: h(creator),
      payload: { steps: [{ kind: 'sign', mode: 'all', signers: [{ positionId: secretaryPos }] }] },
    });
    assert.equal(started.statusCode, 201, started.body);
    env.clock.advance(31_000);
    const signed = await app.inject({
      method: 'POST',
      url: `${base}/documents/${id}/sign`,
      headers: h(secretary),
      payload: { totp: currentTotp(env, secretary) },
    });
    assert.equal(signed.statusCode, 200, signed.body);
    const res = await report(id);
    assert.equal(res.statusCode, 200, res.body);
    const t = pdftotext(res.rawPayload);
    const [b] = signatureBlocks(t, /Signatura 1 de 1/);
    assert.ok(b, t);
    assert.match(b, /^Signatura 1 de 1 \(demo — no qualificada\)/);
    assert.ok(b.includes(`${secretary.username} (demo — no qualificat)`), b);
    assert.match(b, /Càrrec\s+La secretària/);
    assert.match(b, /Format\s+CAdES/);
    assert.match(b, /Integritat\s+vàlida/);
    assert.match(b, /Confiança\s+de confiança/);
  });

  it('a restricted case file: a colleague not named on it gets 404; its handler gets the report and the read is audited (document.read)', async () => {
    const id = await upload(restricted.id, 'Informe reservat', Buffer.from('text'), { type: 'text/plain' });
    const hidden = await report(id, { headers: h(outsider) });
    assert.equal(hidden.statusCode, 404, hidden.body);
    assert.equal(hidden.json().code, 'DOCUMENT_NOT_FOUND');
    const readsBefore = (await auditOf(id, 'document.read')).length;
    const res = await report(id);
    assert.equal(res.statusCode, 200, res.body);
    const t = pdftotext(res.rawPayload);
    assert.ok(t.includes(restricted.number));
    assert.match(flat(t), /El document no conté cap signatura electrònica/);
    const reads = await auditOf(id, 'document.read');
    assert.equal(reads.length, readsBefore + 1);
    assert.equal(reads.at(-1)!.actor_id, creator.id);
    assert.equal((await auditOf(id, 'document.verification_report')).length, 1);
  });

  it('in production an entity without a seal gets 409 SEAL_UNAVAILABLE and no report is stored (no demo seal is made)', async () => {
    const unsealed = await makeTenant(env);
    const clerk = await tokenHeaders(env, await makeUser(env, { tenant: unsealed, roles: ['handler'] }));
    const at = `/api/v1/entities/${unsealed.slug}`;
    const exp = await app.inject({
      method: 'POST',
      url: `${at}/expedients`,
      headers: clerk,
      payload: { title: 'Sense segell' },
    });
    assert.equal(exp.statusCode, 201, exp.body);
    const form = multipart(
      { title: 'Nota', documentType: 'TD99' },
      { name: 'nota.txt', type: 'text/plain', data: Buffer.from('nota') },
    );
    const up = await app.inject({
      method: 'POST',
      url: `${at}/expedients/${exp.json().id}/documents`,
      headers: { ...clerk, ...form.headers },
      payload: form.body,
    });
    assert.equal(up.statusCode, 201, up.body);
    const count = (table: 'csv_index' | 'seals') =>
      env.db.owner((tx) =>
        tx
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .where('tenant_id', '=', unsealed.id)
          .executeTakeFirstOrThrow()
          .then((r) => Number(r.n)),
      );
    const previous = env.config.env;
    env.config.env = 'production';
    let res: Awaited<ReturnType<typeof report>>;
    try {
      res = await report(up.json().id, { headers: clerk, at });
    } finally {
      env.config.env = previous;
    }
    assert.equal(res.statusCode, 409, res.body);
    assert.equal(res.json().code, 'SEAL_UNAVAILABLE');
    assert.equal(await count('csv_index'), 0);
    assert.equal(await count('seals'), 0);
  });

  // Last: it spends this client's allowance for the minute.
  it('a client gets at most 30 reports a minute (429 RATE_LIMITED), and a refused request stores nothing', async () => {
    const stored = () =>
      env.db.owner((tx) =>
        tx
          .selectFrom('csv_index')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('tenant_id', '=', tenant.id)
          .executeTakeFirstOrThrow()
          .then((r) => Number(r.n)),
      );
    const before = await stored();
    let issued = 0;
    let limited: Awaited<ReturnType<typeof report>> | null = null;
    // At most two windows' worth: the limit is per minute of real time.
    for (let i = 0; i < 61 && !limited; i++) {
      const res = await report(foreignDoc);
      if (res.statusCode === 429) limited = res;
      else {
        assert.equal(res.statusCode, 200, res.body);
        issued++;
      }
    }
    assert.ok(limited, 'no 429 after 61 reports');
    assert.equal(limited.json().code, 'RATE_LIMITED');
    assert.ok(issued <= 30 * 2);
    assert.equal(await stored(), before + issued);
  });
});
