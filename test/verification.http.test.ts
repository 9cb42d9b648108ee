import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { PDFDocument } from 'pdf-lib';
import { cliActor, noRequest } from '#platform/context.ts';
import {
  createSelfSignedCa,
  generateSigningKeyPair,
  issueSigningCertificate,
} from '#platform/crypto/certs.ts';
import { signPdfDocument } from '#platform/pdf/pades.ts';
import type { SigningIdentity } from '#platform/pdf/cades.ts';
import { ensureEntitySeal, getActiveSeal, operatorCtx } from '#modules/seals/seals.service.ts';
import { addTrustedCa, listTrustedCas, removeTrustedCa } from '#modules/signatures/trusted-cas.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  loginHeaders,
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  type TestEnv,
} from '#test/helpers/harness.ts';
import { multipart } from '#test/helpers/multipart.ts';

/**
 * GET /entities/{entity}/documents/{id}/verification, on the backend the suite runs on
 * (LLIGALL_TEST_BACKEND=postgres for PostgreSQL): the entity's seal (issued by the installation
 * CA) verifies trusted; a CA of someone else untrusted until the operator trusts it; a tampered
 * file invalid; access as for reading the document, another entity's caller gets 404.
 */

let env: TestEnv;
let app: FastifyInstance;
let tenant: Tenant;
let other: Tenant;
let handler: Record<string, string>;
let otherHandler: Record<string, string>;
let base: string;
let expedientId: string;

const DAY = 86400_000;
const opCtx = () => ({ actor: cliActor, request: noRequest, clock: env.clock });

async function receipt(signer: SigningIdentity, reason = 'Justificant de registre \u2014 Registre general') {
  const doc = await PDFDocument.create();
  doc.addPage().drawText("Justificant de registre d'entrada E/2026/000001", { x: 50, y: 780, size: 12 });
  return signPdfDocument(doc, signer, {
    name: tenant.name,
    reason,
    location: tenant.dir3,
    contactInfo: 'http://localhost/verify',
    signingTime: env.clock.now(),
  });
}

async function upload(data: Buffer, name = 'justificant.pdf', type = 'application/pdf'): Promise<string> {
  const form = multipart({ title: name, documentType: 'TD99' }, { name, type, data });
  const res = await app.inject({
    method: 'POST',
    url: `${base}/expedients/${expedientId}/documents`,
    headers: { ...handler, ...form.headers },
    payload: form.body,
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id;
}

async function verification(id: string, headers = handler, at = base) {
  return app.inject({ method: 'GET', url: `${at}/documents/${id}/verification`, headers });
}

async function foreignCa() {
  const keys = await generateSigningKeyPair();
  const now = env.clock.now();
  const pem = await createSelfSignedCa({
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
    issuerCertificatePem: pem,
    issuerPrivateKey: keys.privateKey,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 365 * DAY),
  });
  return { pem, signer: { certificatePem, chainPem: pem, privateKey: signerKeys.privateKey } };
}

before(async () => {
  env = await openTestEnv();
  app = await makeServer(env);
  tenant = await makeTenant(env);
  other = await makeTenant(env);
  handler = await loginHeaders(app, env, await makeUser(env, { tenant, roles: ['handler'] }));
  otherHandler = await loginHeaders(app, env, await makeUser(env, { tenant: other, roles: ['handler'] }));
  base = `/api/v1/entities/${tenant.slug}`;
  const res = await app.inject({
    method: 'POST',
    url: `${base}/expedients`,
    headers: handler,
    payload: { title: 'Llicència d’obres' },
  });
  assert.equal(res.statusCode, 201, res.body);
  expedientId = res.json().id;
  await ensureEntitySeal(env, tenant.id);
});
after(async () => {
  await app?.close();
  await env?.close();
});

describe('document verification (GET …/documents/{id}/verification)', () => {
  it("a receipt sealed with the entity's seal (installation CA): valid, trusted, PAdES-B-B, whole; position from /Reason; audited", async () => {
    const seal = await env.db.tenant(tenant.id, (tx) =>
      getActiveSeal(tx, operatorCtx(tenant, cliActor, noRequest, env.clock), env.config),
    );
    const id = await upload(await receipt(seal));
    const res = await verification(id);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.documentId, id);
    assert.equal(body.signed, true);
    assert.equal(body.signatures.length, 1);
    const [s] = body.signatures;
    assert.equal(s.integrity, 'valid');
    assert.equal(s.trust, 'trusted', s.trustReason);
    assert.equal(s.format, 'PAdES-B-B');
    assert.equal(s.coverage.label, 'whole');
    assert.equal(s.position, 'Registre general');
    assert.match(s.signer, /Segell d'òrgan de/);
    assert.equal(s.signerFacts.serialNumber, tenant.dir3);
    assert.match(s.chain.at(-1).subject, /Lligall installation CA/);
    assert.ok(s.certificate.serialNumber && s.certificate.validFrom && s.certificate.validTo);
    const events = await env.db.tenant(tenant.id, (tx) =>
      tx
        .selectFrom('audit_events')
        .select(['action', 'object_id'])
        .where('action', '=', 'document.verify')
        .where('object_id', '=', id)
        .execute(),
    );
    assert.equal(events.length, 1);
  });

  it('signed by a certificate of an unknown CA: integrity valid, trust untrusted — trusted once the operator adds the CA, untrusted again after removal', async () => {
    const foreign = await foreignCa();
    const id = await upload(await receipt(foreign.signer, 'Sol·licitud'));
    const r1 = (await verification(id)).json();
    assert.equal(r1.signatures[0].integrity, 'valid');
    assert.equal(r1.signatures[0].trust, 'untrusted');
    assert.equal(r1.signatures[0].position, null);
    assert.equal(r1.signed, false);
    const ca = await addTrustedCa(env.db, opCtx(), { pem: foreign.pem, label: 'Prestador aliè' });
    assert.ok((await listTrustedCas(env.db)).some((c) => c.id === ca.id));
    await assert.rejects(
      addTrustedCa(env.db, opCtx(), { pem: foreign.pem, label: 'again' }),
      /already trusted/,
    );
    await assert.rejects(
      addTrustedCa(env.db, opCtx(), { pem: foreign.signer.certificatePem, label: 'leaf' }),
      (e: Error & { code?: string }) => e.code === 'TRUSTED_CA_INVALID',
    );
    assert.equal((await verification(id)).json().signatures[0].trust, 'trusted');
    await removeTrustedCa(env.db, opCtx(), ca.fingerprintSha256);
    assert.equal((await verification(id)).json().signatures[0].trust, 'untrusted');
    assert.ok(
      (await listTrustedCas(env.db, { includeRemoved: true })).some((c) => c.id === ca.id && c.removedAt),
    );
    await assert.rejects(
      removeTrustedCa(env.db, opCtx(), ca.id),
      (e: Error & { code?: string }) => e.code === 'TRUSTED_CA_NOT_FOUND',
    );
    const audit = await env.db.platform((tx) =>
      tx.selectFrom('audit_events').select('action').where('object_id', '=', ca.id).orderBy('seq').execute(),
    );
    assert.deepEqual(
      audit.map((a) => a.action),
      ['trusted_ca.add', 'trusted_ca.remove'],
    );
  });

  it('a PDF whose signed bytes were changed: integrity invalid, not signed', async () => {
    const seal = await env.db.tenant(tenant.id, (tx) =>
      getActiveSeal(tx, operatorCtx(tenant, cliActor, noRequest, env.clock), env.config),
    );
    const pdf = Buffer.from(await receipt(seal));
    const at = pdf.indexOf('E/2026/000001', 0, 'latin1');
    if (at > 0) pdf[at + 12] = '2'.charCodeAt(0);
    else pdf[200] = pdf[200]! ^ 1;
    const res = await verification(await upload(pdf));
    const body = res.json();
    assert.equal(body.signatures[0].integrity, 'invalid');
    assert.equal(body.signed, false);
  });

  it('an unsigned file reports no signatures; a broken PDF is 422 SIGNATURE_UNREADABLE', async () => {
    const txt = await upload(Buffer.from('un text'), 'nota.txt', 'text/plain');
    const r = (await verification(txt)).json();
    assert.deepEqual(r.signatures, []);
    assert.equal(r.signed, false);
    const broken = await upload(Buffer.from('not a pdf at all'), 'trencat.pdf', 'application/pdf');
    const res = await verification(broken);
    if (res.statusCode === 201 || res.statusCode === 200) assert.fail(res.body);
    assert.equal(res.statusCode, 422, res.body);
    assert.equal(res.json().code, 'SIGNATURE_UNREADABLE');
  });

  it("another entity's caller gets 404 (through their entity and through this one); an unknown id is 404", async () => {
    const seal = await env.db.tenant(tenant.id, (tx) =>
      getActiveSeal(tx, operatorCtx(tenant, cliActor, noRequest, env.clock), env.config),
    );
    const id = await upload(await receipt(seal));
    const viaOwn = await verification(id, otherHandler, `/api/v1/entities/${other.slug}`);
    assert.equal(viaOwn.statusCode, 404);
    assert.equal(viaOwn.json().code, 'DOCUMENT_NOT_FOUND');
    const viaTheirs = await verification(id, otherHandler);
    assert.equal(viaTheirs.statusCode, 404);
    assert.equal(viaTheirs.json().code, 'ENTITY_NOT_FOUND');
    assert.equal((await verification('0190f0a0-0000-7000-8000-000000000000')).statusCode, 404);
    assert.equal(
      (await app.inject({ method: 'GET', url: `${base}/documents/${id}/verification` })).statusCode,
      401,
    );
  });
});
