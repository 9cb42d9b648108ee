import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Ctx, noRequest } from '#platform/context.ts';
import { appointHolder, createPosition } from '#modules/positions/positions.service.ts';
import { getInstallationCaPem } from '#modules/seals/seals.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  currentTotp,
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  TestClock,
  type TestEnv,
  type TestUser,
  tokenHeaders,
} from '#test/helpers/harness.ts';
import { multipart } from '#test/helpers/multipart.ts';
import { opensslCmsVerify, pdftotext, xmlsecVerify } from '#test/helpers/pdf-tools.ts';

/**
 * CAdES and XAdES circuits over HTTP (issue 4 item 4), on the backend the suite runs on: a file
 * that is not a PDF is signed in CAdES detached, an XML file in XAdES detached; each signer's
 * signature is its own file linked to the document, which `openssl cms -verify` and
 * `xmlsec1 --verify` accept with the installation CA (and refuse over altered content); the
 * document's bytes never change; the verification report lists the detached signatures with
 * their positions, labelled demo — not qualified; batch signing works on them; another entity
 * sees nothing.
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
const H = new Map<string, Record<string, string>>();
let otherHeaders: Record<string, string>;
let mayorPos: string;
let secretaryPos: string;
let caPem: string;

const h = (u: TestUser) => H.get(u.id)!;

/** A binary file with CR, LF and NUL bytes: `-binary` verification must see it unchanged. */
const BINARY = Buffer.concat([
  Buffer.from('PK\u0003\u0004 full de càlcul\r\nfila 1;10\r\nfila 2;20\n', 'utf8'),
  Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a, 0x00]),
]);
const XML = Buffer.from(
  '<?xml version="1.0" encoding="UTF-8"?>\n<informe xmlns="urn:lligall:test"><titol>Informe tècnic</titol>\r\n<cos>Favorable</cos></informe>\n',
  'utf8',
);

async function draft(title: string, name: string, type: string, data: Buffer): Promise<string> {
  const form = multipart({ title, documentType: 'TD11', draft: 'true' }, { name, type, data });
  const res = await app.inject({
    method: 'POST',
    url: `${base}/expedients/${expedientId}/documents`,
    headers: { ...h(creator), ...form.headers },
    payload: form.body,
  });
  assert.equal(res.statusCode, 201, res.body);
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

async function sign(id: string, u: TestUser) {
  env.clock.advance(31_000);
  return app.inject({
    method: 'POST',
    url: `${base}/documents/${id}/sign`,
    headers: h(u),
    payload: { totp: currentTotp(env, u) },
  });
}

type Detached = {
  id: string;
  format: string;
  method: string;
  fileName: string;
  sha256: string;
  position: string;
};

async function detached(id: string, headers = h(creator), at = base) {
  return app.inject({ method: 'GET', url: `${at}/documents/${id}/signatures`, headers });
}

async function file(id: string, sigId: string): Promise<Buffer> {
  const res = await app.inject({
    method: 'GET',
    url: `${base}/documents/${id}/signatures/${sigId}`,
    headers: h(creator),
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.rawPayload;
}

async function content(id: string): Promise<Buffer> {
  const res = await app.inject({
    method: 'GET',
    url: `${base}/documents/${id}/content`,
    headers: h(creator),
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.rawPayload;
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
  // An hour back: the certificates issued now are valid for openssl and xmlsec1 at the real time
  // while each act moves the clock 31 s on (one TOTP code per act).
  env = await openTestEnv({ clock: new TestClock(new Date(Date.now() - 3600_000)) });
  app = await makeServer(env);
  tenant = await makeTenant(env);
  other = await makeTenant(env);
  base = `/api/v1/entities/${tenant.slug}`;
  const admin = await makeUser(env, { tenant, roles: ['admin'], totp: true });
  creator = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  mayor = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  secretary = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  for (const u of [creator, mayor, secretary]) H.set(u.id, await tokenHeaders(env, u));
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
    mayorPos = m.id;
    secretaryPos = s.id;
  });
  const res = await app.inject({
    method: 'POST',
    url: `${base}/expedients`,
    headers: h(creator),
    payload: { title: 'Contractació menor' },
  });
  assert.equal(res.statusCode, 201, res.body);
  expedientId = res.json().id;
});
after(async () => {
  await app?.close();
  await env?.close();
});

describe('CAdES and XAdES circuits (detached signatures)', () => {
  it('a spreadsheet signed by the secretary and the mayor: two .p7s files openssl verifies, the file unchanged, the report lists both as demo', async () => {
    const id = await draft(
      'Pressupost',
      'pressupost.ods',
      'application/vnd.oasis.opendocument.spreadsheet',
      BINARY,
    );
    const started = await circuit(id, [
      { kind: 'sign', mode: 'all', signers: [{ positionId: secretaryPos }] },
      { kind: 'vistiplau', mode: 'all', signers: [{ positionId: mayorPos }] },
    ]);
    assert.equal(started.statusCode, 201, started.body);
    assert.equal(started.json().format, 'CAdES');
    const sha = started.json().sha256;

    const early = await sign(id, mayor);
    assert.equal(early.statusCode, 409, early.body);
    assert.equal(early.json().code, 'SIGNATURE_NOT_YOUR_TURN');
    assert.equal((await detached(id)).json().length, 0, 'nothing signed out of turn');

    const first = await sign(id, secretary);
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.json().sha256, sha, "a detached signature leaves the document's bytes alone");
    assert.equal(first.json().steps[0].signers[0].method, 'csc');
    const second = await sign(id, mayor);
    assert.equal(second.statusCode, 200, second.body);
    assert.equal(second.json().state, 'completed');
    assert.equal(second.json().documentState, 'final');

    const list = (await detached(id)).json() as Detached[];
    assert.deepEqual(
      list.map((s) => [s.format, s.method, s.fileName, s.position]),
      [
        ['CAdES', 'csc', 'pressupost.ods.p7s', 'El secretari'],
        ['CAdES', 'csc', 'pressupost.ods.p7s', "L'alcalde"],
      ],
    );
    const doc = await content(id);
    assert.ok(doc.equals(BINARY), 'the final document is the uploaded file, byte for byte');
    caPem = (await getInstallationCaPem(env.db))!;
    const altered = Buffer.from(BINARY);
    altered[3] = (altered[3] ?? 0) ^ 1;
    for (const s of list) {
      const p7s = await file(id, s.id);
      const ok = opensslCmsVerify(p7s, doc, caPem);
      assert.equal(ok.status, 0, ok.out);
      assert.match(ok.out, /Verification successful/);
      const bad = opensslCmsVerify(p7s, altered, caPem);
      assert.notEqual(bad.status, 0, 'openssl refuses the signature over altered content');
    }

    const report = await app.inject({
      method: 'GET',
      url: `${base}/documents/${id}/verification`,
      headers: h(creator),
    });
    assert.equal(report.statusCode, 200, report.body);
    const r = report.json();
    assert.equal(r.signed, true);
    assert.equal(r.signatures.length, 2);
    assert.deepEqual(
      r.signatures.map((s: { position: string }) => s.position),
      ['El secretari', "L'alcalde"],
    );
    for (const [i, s] of r.signatures.entries()) {
      assert.equal(s.format, 'CAdES-B-B');
      assert.equal(s.integrity, 'valid');
      assert.equal(s.trust, 'trusted');
      assert.equal(s.demo, true, 'the local CSC keys are demo keys');
      assert.equal(s.qualified, false);
      assert.equal(s.detachedSignatureId, list[i]!.id);
      assert.ok(s.signedAt, 'a CAdES-B-B signature claims its time');
    }

    // the sealed PDF report lists the detached signatures too
    const sealed = await app.inject({
      method: 'GET',
      url: `${base}/documents/${id}/verification.pdf?lang=ca`,
      headers: h(creator),
    });
    assert.equal(sealed.statusCode, 200, sealed.body);
    const text = pdftotext(sealed.rawPayload);
    assert.equal(text.match(/CAdES-B-B/g)?.length, 2, text);
    assert.match(text, /demo — no qualificada/);

    // in the case file's index, and every act in its audit trail
    const index = await app.inject({
      method: 'GET',
      url: `${base}/expedients/${expedientId}/index`,
      headers: h(creator),
    });
    assert.ok(
      index.json().entries.some((e: { documentId: string }) => e.documentId === id),
      index.body,
    );
    const trail = await app.inject({
      method: 'GET',
      url: `${base}/expedients/${expedientId}/audit`,
      headers: h(creator),
    });
    const signs = (
      trail.json() as { action: string; objectType: string; details: Record<string, unknown> }[]
    ).filter(
      (e) => e.objectType === 'expedient' && e.action === 'signature.sign' && e.details.documentId === id,
    );
    assert.equal(signs.length, 2);
    for (const e of signs) {
      assert.equal(e.details.format, 'CAdES');
      assert.equal(e.details.method, 'csc');
      assert.ok(list.some((s) => s.id === e.details.signatureId));
    }

    // another entity: nothing
    for (const at of [base, `/api/v1/entities/${other.slug}`]) {
      const res = await detached(id, otherHeaders, at);
      assert.equal(res.statusCode, 404, res.body);
      const f = await app.inject({
        method: 'GET',
        url: `${at}/documents/${id}/signatures/${list[0]!.id}`,
        headers: otherHeaders,
      });
      assert.equal(f.statusCode, 404, f.body);
    }
  });

  it('an XML report signed in XAdES detached: xmlsec1 verifies the .xsig next to the file, with the position as claimed role', async () => {
    const id = await draft('Informe tècnic', 'informe.xml', 'application/xml', XML);
    const started = await circuit(id, [
      { kind: 'sign', mode: 'all', signers: [{ positionId: secretaryPos }] },
    ]);
    assert.equal(started.statusCode, 201, started.body);
    assert.equal(started.json().format, 'XAdES');
    const signed = await sign(id, secretary);
    assert.equal(signed.statusCode, 200, signed.body);
    assert.equal(signed.json().state, 'completed');

    const [sig] = (await detached(id)).json() as Detached[];
    assert.equal(sig!.format, 'XAdES');
    assert.equal(sig!.fileName, 'informe.xml.xsig');
    const xsig = (await file(id, sig!.id)).toString('utf8');
    caPem = (await getInstallationCaPem(env.db))!;
    const ok = xmlsecVerify(xsig, caPem, { 'informe.xml': XML });
    assert.equal(ok.status, 0, ok.out);
    assert.match(ok.out, /OK/);
    const tampered = Buffer.from(XML.toString('utf8').replace('Favorable', 'Desfavorable'));
    const bad = xmlsecVerify(xsig, caPem, { 'informe.xml': tampered });
    assert.notEqual(bad.status, 0, 'xmlsec1 refuses the signature over altered content');

    const report = (
      await app.inject({ method: 'GET', url: `${base}/documents/${id}/verification`, headers: h(creator) })
    ).json();
    assert.equal(report.signatures.length, 1);
    const [s] = report.signatures;
    assert.equal(s.format, 'XAdES-BES (detached)');
    assert.equal(s.integrity, 'valid');
    assert.equal(s.trust, 'trusted');
    assert.equal(s.position, 'El secretari');
    assert.equal(s.demo, true);
    assert.equal(s.qualified, false);
    assert.equal(report.signed, true);
  });

  it('batch signing from the inbox signs a CAdES document too', async () => {
    const a = await draft('Annex 1', 'annex1.txt', 'text/plain', Buffer.from('annex 1\n'));
    const b = await draft('Annex 2', 'annex2.xml', 'application/xml', XML);
    for (const id of [a, b]) {
      const res = await circuit(id, [{ kind: 'sign', mode: 'all', signers: [secretary.id] }]);
      assert.equal(res.statusCode, 201, res.body);
    }
    env.clock.advance(31_000);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/me/signatures/batch',
      headers: h(secretary),
      payload: {
        items: [a, b].map((documentId) => ({ entity: tenant.slug, documentId })),
        totp: currentTotp(env, secretary),
      },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(
      res.json().results.map((r: { ok: boolean; state: string }) => [r.ok, r.state]),
      [
        [true, 'completed'],
        [true, 'completed'],
      ],
    );
    const [p7s] = (await detached(a)).json() as Detached[];
    assert.equal(p7s!.format, 'CAdES');
    const ok = opensslCmsVerify(await file(a, p7s!.id), Buffer.from('annex 1\n'), caPem);
    assert.equal(ok.status, 0, ok.out);
    const [xsig] = (await detached(b)).json() as Detached[];
    assert.equal(xsig!.format, 'XAdES');
  });
});
