import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { PDFDocument } from 'pdf-lib';
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

/**
 * `POST /api/v1/me/signatures/batch`: one second factor for several documents (one CSC
 * authorisation lists every digest), each document recorded on its own so one failure does not
 * stop the others; a wrong or reused code signs nothing; review steps ride on the same confirmation.
 */

let env: TestEnv;
let app: FastifyInstance;
let tenant: Tenant;
let other: Tenant;
let signer: TestUser;
let colleague: TestUser;
const H = new Map<string, Record<string, string>>();
const h = (u: TestUser) => H.get(u.id)!;
const base = () => `/api/v1/entities/${tenant.slug}`;
let expedientId: string;

async function pdf(text: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage().drawText(text, { x: 50, y: 780, size: 12 });
  return Buffer.from(await doc.save());
}

async function draftInCircuit(title: string, steps: unknown[]): Promise<string> {
  const form = multipart(
    { title, documentType: 'TD11', draft: 'true' },
    { name: 'doc.pdf', type: 'application/pdf', data: await pdf(title) },
  );
  const res = await app.inject({
    method: 'POST',
    url: `${base()}/expedients/${expedientId}/documents`,
    headers: { ...h(signer), ...form.headers },
    payload: form.body,
  });
  assert.equal(res.statusCode, 201, res.body);
  const c = await app.inject({
    method: 'POST',
    url: `${base()}/documents/${res.json().id}/circuit`,
    headers: h(signer),
    payload: { steps },
  });
  assert.equal(c.statusCode, 201, c.body);
  return res.json().id;
}

async function batch(items: { entity: string; documentId: string }[], totp: string) {
  return app.inject({
    method: 'POST',
    url: '/api/v1/me/signatures/batch',
    headers: h(signer),
    payload: { items, totp },
  });
}

async function pendingIds(): Promise<string[]> {
  const res = await app.inject({ method: 'GET', url: '/api/v1/me/signatures/pending', headers: h(signer) });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as { documentId: string }[]).map((i) => i.documentId);
}

before(async () => {
  env = await openTestEnv();
  app = await makeServer(env);
  tenant = await makeTenant(env);
  other = await makeTenant(env);
  signer = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  colleague = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  for (const u of [signer, colleague]) H.set(u.id, await tokenHeaders(env, u));
  const res = await app.inject({
    method: 'POST',
    url: `${base()}/expedients`,
    headers: h(signer),
    payload: { title: 'Llicències d’obres' },
  });
  assert.equal(res.statusCode, 201, res.body);
  expedientId = res.json().id;
});
after(async () => {
  await app?.close();
  await env?.close();
});

describe('batch signing from the inbox', () => {
  it('a wrong code signs nothing; a good one signs each, reviews ride along, one failure stops no other; the code is single-use', async () => {
    const sign = [{ kind: 'sign', mode: 'all', signers: [signer.id] }];
    const a = await draftInCircuit('Informe A', sign);
    const b = await draftInCircuit('Informe B', sign);
    const review = await draftInCircuit('Informe C', [{ kind: 'review', mode: 'all', signers: [signer.id] }]);
    const notMine = await draftInCircuit('Informe D', [
      { kind: 'sign', mode: 'all', signers: [colleague.id] },
      { kind: 'sign', mode: 'all', signers: [signer.id] },
    ]);
    const item = (documentId: string) => ({ entity: tenant.slug, documentId });

    env.clock.advance(31_000);
    const wrong = await batch(
      [item(a), item(b)],
      '000000' === currentTotp(env, signer) ? '111111' : '000000',
    );
    assert.equal(wrong.statusCode, 401, wrong.body);
    assert.equal(wrong.json().code, 'TOTP_INVALID');
    assert.deepEqual((await pendingIds()).sort(), [a, b, review].sort(), 'nothing was signed');

    const code = currentTotp(env, signer);
    const res = await batch(
      [item(a), item(notMine), item(review), { entity: other.slug, documentId: b }, item(b)],
      code,
    );
    assert.equal(res.statusCode, 200, res.body);
    const results = res.json().results as { documentId: string; ok: boolean; state: string; code: string }[];
    assert.deepEqual(
      results.map((r) => [r.ok, r.ok ? r.state : r.code]),
      [
        [true, 'completed'],
        [false, 'SIGNATURE_NOT_YOUR_TURN'],
        [true, 'completed'],
        [false, results[3]!.code],
        [true, 'completed'],
      ],
    );
    assert.notEqual(results[3]!.code, null, 'an entity the signer is not in is refused for that item only');
    assert.deepEqual(await pendingIds(), []);

    for (const id of [a, b]) {
      const v = await app.inject({
        method: 'GET',
        url: `${base()}/documents/${id}/verification`,
        headers: h(signer),
      });
      assert.equal(v.statusCode, 200, v.body);
      assert.equal(v.json().signed, true);
      assert.equal(v.json().signatures.length, 1);
      assert.equal(v.json().signatures[0].integrity, 'valid');
      assert.equal(v.json().signatures[0].trust, 'trusted');
    }
    const rv = await app.inject({
      method: 'GET',
      url: `${base()}/documents/${review}/verification`,
      headers: h(signer),
    });
    assert.equal(rv.json().signatures.length, 0, 'a review adds no signature');

    const e = await draftInCircuit('Informe E', sign);
    const reused = await batch([item(e)], code);
    assert.equal(reused.statusCode, 401, reused.body);
    assert.equal(reused.json().code, 'TOTP_INVALID');
    assert.deepEqual(await pendingIds(), [e]);

    const twice = await batch([item(e), item(e)], code);
    assert.equal(twice.statusCode, 400, twice.body);
    assert.equal(twice.json().code, 'VALIDATION_FAILED');
  });
});
