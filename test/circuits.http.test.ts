import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { PDFDocument } from 'pdf-lib';
import { type Ctx, noRequest } from '#platform/context.ts';
import { appointHolder, createPosition } from '#modules/positions/positions.service.ts';
import { getInstallationCaPem } from '#modules/seals/seals.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  currentTotp,
  makeTenant,
  makeServer,
  makeUser,
  openTestEnv,
  type TestEnv,
  type TestUser,
  tokenHeaders,
} from '#test/helpers/harness.ts';
import { multipart } from '#test/helpers/multipart.ts';
import { nssDbTrusting, pdfsig } from '#test/helpers/pdf-tools.ts';

/**
 * Signature circuits over HTTP, on the backend the suite runs on (LLIGALL_TEST_BACKEND=postgres
 * for PostgreSQL): a PDF draft signed in turn by three users through their CSC credentials
 * (TOTP each time), checked by pdfsig (valid, trusted with the installation CA) and by the
 * verification route; turns, wrong TOTP, rejection, cancellation, review, inbox, isolation, audit.
 */

let env: TestEnv;
let app: FastifyInstance;
let tenant: Tenant;
let other: Tenant;
let base: string;
let expedientId: string;
let creator: TestUser;
let mayor: TestUser;
let secretary: TestUser;
let councillor: TestUser;
const H = new Map<string, Record<string, string>>();
let otherHeaders: Record<string, string>;
let mayorPos: string;
let secretaryPos: string;

const h = (u: TestUser) => H.get(u.id)!;

async function pdf(text: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage().drawText(text, { x: 50, y: 780, size: 12 });
  return Buffer.from(await doc.save());
}

async function draft(title: string, data?: Buffer, type = 'application/pdf'): Promise<string> {
  const form = multipart(
    { title, documentType: 'TD11', draft: 'true' },
    { name: type === 'application/pdf' ? 'doc.pdf' : 'doc.txt', type, data: data ?? (await pdf(title)) },
  );
  const res = await app.inject({
    method: 'POST',
    url: `${base}/expedients/${expedientId}/documents`,
    headers: { ...h(creator), ...form.headers },
    payload: form.body,
  });
  assert.equal(res.statusCode, 201, res.body);
  assert.equal(res.json().draft, true);
  return res.json().id;
}

async function circuit(id: string, steps: unknown[]) {
  return app.inject({
    method: 'POST',
    url: `${base}/documents/${id}/circuit`,
    headers: h(creator),
    payload: { steps },
  });
}

async function sign(id: string, u: TestUser, totp?: string) {
  env.clock.advance(31_000); // one TOTP code confirms one act
  return app.inject({
    method: 'POST',
    url: `${base}/documents/${id}/sign`,
    headers: h(u),
    payload: { totp: totp ?? currentTotp(env, u) },
  });
}

async function pending(u: TestUser): Promise<{ documentId: string; entity: { slug: string } }[]> {
  const res = await app.inject({ method: 'GET', url: '/api/v1/me/signatures/pending', headers: h(u) });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
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

before(async () => {
  env = await openTestEnv();
  app = await makeServer(env);
  tenant = await makeTenant(env);
  other = await makeTenant(env);
  base = `/api/v1/entities/${tenant.slug}`;
  const admin = await makeUser(env, { tenant, roles: ['admin'], totp: true });
  creator = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  mayor = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  secretary = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  councillor = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  for (const u of [creator, mayor, secretary, councillor]) H.set(u.id, await tokenHeaders(env, u));
  otherHeaders = await tokenHeaders(
    env,
    await makeUser(env, { tenant: other, roles: ['handler'], totp: true }),
  );
  await env.db.tenant(tenant.id, async (tx) => {
    const ctx = adminCtx(admin);
    const m = await createPosition(tx, ctx, { kind: 'mayor', title: "L'alcalde" });
    await appointHolder(tx, ctx, m.id, { userId: mayor.id, validFrom: '2020-01-01' });
    const s = await createPosition(tx, ctx, { kind: 'secretary', title: 'El secretari' });
    await appointHolder(tx, ctx, s.id, { userId: secretary.id, validFrom: '2020-01-01' });
    const c = await createPosition(tx, ctx, {
      kind: 'councillor',
      title: "Regidor d'urbanisme",
      area: 'Urbanisme',
    });
    await appointHolder(tx, ctx, c.id, { userId: councillor.id, validFrom: '2020-01-01' });
    mayorPos = m.id;
    secretaryPos = s.id;
  });
  const res = await app.inject({
    method: 'POST',
    url: `${base}/expedients`,
    headers: h(creator),
    payload: { title: 'Certificat de residència' },
  });
  assert.equal(res.statusCode, 201, res.body);
  expedientId = res.json().id;
});
after(async () => {
  await app?.close();
  await env?.close();
});

describe('signature circuits (portasignatures)', () => {
  it('a PDF draft signed in turn by three signers: three valid, trusted signatures with their positions; final and in the index', async () => {
    const id = await draft('Certificat del secretari');
    const index0 = await app.inject({
      method: 'GET',
      url: `${base}/expedients/${expedientId}/index`,
      headers: h(creator),
    });
    assert.equal(index0.json().entries.length, 0, 'a draft is not in the index');
    const started = await circuit(id, [
      { kind: 'sign', mode: 'all', signers: [{ positionId: secretaryPos }] },
      { kind: 'sign', mode: 'all', signers: [councillor.id] },
      { kind: 'vistiplau', mode: 'all', signers: [{ positionId: mayorPos }] },
    ]);
    assert.equal(started.statusCode, 201, started.body);
    assert.equal(started.json().state, 'active');
    assert.equal(started.json().currentStep, 1);

    // replaceable no more
    const form = multipart({}, { name: 'x.pdf', type: 'application/pdf', data: await pdf('other') });
    const put = await app.inject({
      method: 'PUT',
      url: `${base}/documents/${id}/content`,
      headers: { ...h(creator), ...form.headers },
      payload: form.body,
    });
    assert.equal(put.statusCode, 409, put.body);
    assert.equal(put.json().code, 'DRAFT_NOT_EDITABLE');

    // inbox: the secretary's turn, nobody else's
    assert.ok((await pending(secretary)).some((p) => p.documentId === id && p.entity.slug === tenant.slug));
    assert.ok(!(await pending(mayor)).some((p) => p.documentId === id));
    assert.ok(!(await pending(councillor)).some((p) => p.documentId === id));

    // out of turn
    const early = await sign(id, mayor);
    assert.equal(early.statusCode, 409, early.body);
    assert.equal(early.json().code, 'SIGNATURE_NOT_YOUR_TURN');

    // wrong TOTP: refused, nothing signed
    const before = (
      await app.inject({ method: 'GET', url: `${base}/documents/${id}/circuit`, headers: h(creator) })
    ).json();
    const wrong = await sign(id, secretary, currentTotp(env, secretary) === '000000' ? '111111' : '000000');
    assert.ok([401, 403].includes(wrong.statusCode), wrong.body);
    assert.equal(wrong.json().code, 'TOTP_INVALID');
    const afterWrong = (
      await app.inject({ method: 'GET', url: `${base}/documents/${id}/circuit`, headers: h(creator) })
    ).json();
    assert.equal(afterWrong.sha256, before.sha256);
    assert.equal(afterWrong.steps[0].signers[0].action, null);

    for (const u of [secretary, councillor, mayor]) {
      const r = await sign(id, u);
      assert.equal(r.statusCode, 200, r.body);
    }
    const done = (
      await app.inject({ method: 'GET', url: `${base}/documents/${id}/circuit`, headers: h(creator) })
    ).json();
    assert.equal(done.state, 'completed');
    assert.equal(done.documentState, 'final');
    assert.deepEqual(
      done.steps.map((s: { signers: { position: string }[] }) => s.signers[0]!.position),
      ['El secretari', "Regidor d'urbanisme", "L'alcalde"],
    );
    assert.equal((await pending(mayor)).length, 0);

    const index = await app.inject({
      method: 'GET',
      url: `${base}/expedients/${expedientId}/index`,
      headers: h(creator),
    });
    assert.ok(
      index.json().entries.some((e: { documentId: string }) => e.documentId === id),
      'final: in the index',
    );
    const immutable = await app.inject({
      method: 'PUT',
      url: `${base}/documents/${id}`,
      headers: h(creator),
    });
    assert.equal(immutable.json().code, 'DOCUMENT_IMMUTABLE');

    const content = await app.inject({
      method: 'GET',
      url: `${base}/documents/${id}/content`,
      headers: h(creator),
    });
    assert.equal(content.statusCode, 200);
    const signed = content.rawPayload;
    const ca = await getInstallationCaPem(env.db);
    assert.ok(ca);
    const report = pdfsig(signed, nssDbTrusting(ca));
    const blocks = report.out.split(/Signature #\d+:/).slice(1);
    assert.equal(blocks.length, 3, report.out);
    for (const b of blocks) {
      assert.match(b, /Signature is Valid/);
      assert.match(b, /Certificate is Trusted/);
    }

    const ver = await app.inject({
      method: 'GET',
      url: `${base}/documents/${id}/verification`,
      headers: h(creator),
    });
    assert.equal(ver.statusCode, 200, ver.body);
    const sigs = ver.json().signatures as { integrity: string; trust: string; position: string }[];
    assert.equal(sigs.length, 3);
    for (const s of sigs) {
      assert.equal(s.integrity, 'valid');
      assert.equal(s.trust, 'trusted');
    }
    assert.deepEqual(
      sigs.map((s) => s.position).sort(),
      ['El secretari', "L'alcalde", "Regidor d'urbanisme"].sort(),
    );

    // a byte of the signed range altered: every signature is invalid
    const tampered = Buffer.from(signed);
    // the binary comment on the header's second line: covered by every /ByteRange, harmless to parsing
    const at = tampered.indexOf('\n%') + 2;
    tampered[at] = tampered[at]! ^ 0x01;
    const bad = pdfsig(tampered)
      .out.split(/Signature #\d+:/)
      .slice(1);
    assert.equal(bad.length, 3);
    for (const b of bad) assert.doesNotMatch(b, /Signature is Valid/);

    // every step in the case file's audit trail
    const trail = await app.inject({
      method: 'GET',
      url: `${base}/expedients/${expedientId}/audit`,
      headers: h(creator),
    });
    assert.equal(trail.statusCode, 200, trail.body);
    const actions = (trail.json() as { action: string; objectType: string }[])
      .filter((e) => e.objectType === 'expedient')
      .map((e) => e.action);
    for (const a of [
      'document.draft_create',
      'signature.circuit_start',
      'signature.refused',
      'signature.circuit_complete',
      'expedient.document_incorporate',
    ])
      assert.ok(actions.includes(a), `${a} in ${actions.join(', ')}`);
    assert.equal(actions.filter((a) => a === 'signature.sign').length, 3);

    // another entity's caller: 404
    for (const url of [
      `/api/v1/entities/${tenant.slug}/documents/${id}/circuit`,
      `/api/v1/entities/${other.slug}/documents/${id}/circuit`,
    ]) {
      const r = await app.inject({ method: 'GET', url, headers: otherHeaders });
      assert.equal(r.statusCode, 404, r.body);
    }
    const foreignSign = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${other.slug}/documents/${id}/sign`,
      headers: otherHeaders,
      payload: {},
    });
    assert.equal(foreignSign.statusCode, 404, foreignSign.body);
  });

  it('a draft is replaceable until its circuit starts; each version is kept', async () => {
    const id = await draft('Informe');
    const form = multipart(
      {},
      { name: 'informe-v2.pdf', type: 'application/pdf', data: await pdf('Informe v2') },
    );
    const put = await app.inject({
      method: 'PUT',
      url: `${base}/documents/${id}/content`,
      headers: { ...h(creator), ...form.headers },
      payload: form.body,
    });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(put.json().version, 2);
    assert.equal(put.json().state, 'draft');
  });

  it('a rejection stops the circuit: later signers get 409 and lose it from their inbox', async () => {
    const id = await draft('Proposta');
    assert.equal(
      (
        await circuit(id, [
          { kind: 'sign', mode: 'all', signers: [secretary.id] },
          { kind: 'sign', mode: 'all', signers: [mayor.id] },
        ])
      ).statusCode,
      201,
    );
    const rej = await app.inject({
      method: 'POST',
      url: `${base}/documents/${id}/reject`,
      headers: h(secretary),
      payload: { reason: 'Falta l’informe tècnic' },
    });
    assert.equal(rej.statusCode, 200, rej.body);
    assert.equal(rej.json().state, 'rejected');
    assert.equal(rej.json().steps[0].signers[0].reason, 'Falta l’informe tècnic');
    const later = await sign(id, mayor);
    assert.equal(later.statusCode, 409, later.body);
    assert.ok(!(await pending(secretary)).some((p) => p.documentId === id));
    const trail = (
      await app.inject({ method: 'GET', url: `${base}/expedients/${expedientId}/audit`, headers: h(creator) })
    ).json() as { action: string; details: { documentId?: string } }[];
    assert.ok(trail.some((e) => e.action === 'signature.reject' && e.details.documentId === id));
  });

  it('the creator cancels; nobody else may; a cancelled circuit is signed by nobody', async () => {
    const id = await draft('Decret');
    assert.equal(
      (await circuit(id, [{ kind: 'sign', mode: 'any', signers: [mayor.id, secretary.id] }])).statusCode,
      201,
    );
    assert.ok((await pending(mayor)).some((p) => p.documentId === id));
    assert.ok((await pending(secretary)).some((p) => p.documentId === id));
    const notCreator = await app.inject({
      method: 'POST',
      url: `${base}/documents/${id}/circuit/cancel`,
      headers: h(mayor),
      payload: {},
    });
    assert.equal(notCreator.statusCode, 403, notCreator.body);
    const cancel = await app.inject({
      method: 'POST',
      url: `${base}/documents/${id}/circuit/cancel`,
      headers: h(creator),
      payload: { reason: 'Error de redacció' },
    });
    assert.equal(cancel.statusCode, 200, cancel.body);
    assert.equal(cancel.json().state, 'cancelled');
    const s = await sign(id, mayor);
    assert.equal(s.statusCode, 409, s.body);
    assert.equal(s.json().code, 'CIRCUIT_NOT_ACTIVE');
    assert.ok(!(await pending(mayor)).some((p) => p.documentId === id));
  });

  it('a review step adds no signature; a vistiplau needs the mayor; a non-PDF draft gets a CAdES circuit', async () => {
    const id = await draft('Informe jurídic');
    const vb = await circuit(id, [{ kind: 'vistiplau', mode: 'all', signers: [secretary.id] }]);
    assert.equal(vb.statusCode, 422, vb.body);
    assert.equal(vb.json().code, 'CIRCUIT_VISTIPLAU_NOT_MAYOR');
    const started = await circuit(id, [
      { kind: 'review', mode: 'all', signers: [councillor.id] },
      { kind: 'sign', mode: 'all', signers: [secretary.id] },
    ]);
    assert.equal(started.statusCode, 201, started.body);
    const sha = started.json().sha256;
    const reviewed = await sign(id, councillor);
    assert.equal(reviewed.statusCode, 200, reviewed.body);
    assert.equal(reviewed.json().sha256, sha, 'a review does not touch the PDF');
    assert.equal(reviewed.json().steps[0].signers[0].action, 'reviewed');
    const signedRes = await sign(id, secretary);
    assert.equal(signedRes.statusCode, 200, signedRes.body);
    const content = await app.inject({
      method: 'GET',
      url: `${base}/documents/${id}/content`,
      headers: h(creator),
    });
    assert.equal(pdfsig(content.rawPayload).out.split(/Signature #\d+:/).length - 1, 1);

    // Other files are signed in CAdES detached (test/circuits-detached.http.test.ts checks them).
    const txt = await draft('Nota', Buffer.from('text'), 'text/plain');
    const cades = await circuit(txt, [{ kind: 'sign', mode: 'all', signers: [secretary.id] }]);
    assert.equal(cades.statusCode, 201, cades.body);
    assert.equal(cades.json().format, 'CAdES');
  });
});
