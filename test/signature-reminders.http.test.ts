import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { PDFDocument } from 'pdf-lib';
import { sweepReminders } from '#modules/signatures/reminders.service.ts';
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
 * Reminders of pending signatures: the circuit's creator (or an administrator) reminds the
 * signers whose act is due, at most once a day per step; a daily sweeper reminds those who have
 * waited three days; the signer's inbox shows the last reminder and how many; every reminder is
 * audited on the document; nobody else may send one, and another entity sees nothing.
 */

let env: TestEnv;
let app: FastifyInstance;
let tenant: Tenant;
let other: Tenant;
let base: string;
let expedientId: string;
let creator: TestUser;
let signerA: TestUser;
let signerB: TestUser;
let admin: TestUser;
let outsider: TestUser;
const H = new Map<string, Record<string, string>>();
const h = (u: TestUser) => H.get(u.id)!;

async function draftInCircuit(title: string): Promise<string> {
  const doc = await PDFDocument.create();
  doc.addPage().drawText(title, { x: 50, y: 780, size: 12 });
  const form = multipart(
    { title, documentType: 'TD13', draft: 'true' },
    { name: 'informe.pdf', type: 'application/pdf', data: Buffer.from(await doc.save()) },
  );
  const d = await app.inject({
    method: 'POST',
    url: `${base}/expedients/${expedientId}/documents`,
    headers: { ...h(creator), ...form.headers },
    payload: form.body,
  });
  assert.equal(d.statusCode, 201, d.body);
  const c = await app.inject({
    method: 'POST',
    url: `${base}/documents/${d.json().id}/circuit`,
    headers: h(creator),
    payload: {
      steps: [
        { kind: 'sign', mode: 'all', signers: [signerA.id, signerB.id] },
        { kind: 'sign', mode: 'all', signers: [creator.id] },
      ],
    },
  });
  assert.equal(c.statusCode, 201, c.body);
  return d.json().id;
}

const remind = (id: string, u: TestUser) =>
  app.inject({ method: 'POST', url: `${base}/documents/${id}/circuit/remind`, headers: h(u) });

async function inboxItem(u: TestUser, documentId: string) {
  const res = await app.inject({ method: 'GET', url: '/api/v1/me/signatures/pending', headers: h(u) });
  assert.equal(res.statusCode, 200, res.body);
  return (
    res.json() as { documentId: string; remindedAt: string | null; reminders: number; since: string }[]
  ).find((i) => i.documentId === documentId);
}

before(async () => {
  env = await openTestEnv();
  env.clock.set('2026-03-02T08:00:00Z');
  app = await makeServer(env);
  tenant = await makeTenant(env);
  other = await makeTenant(env);
  base = `/api/v1/entities/${tenant.slug}`;
  creator = await makeUser(env, { tenant, roles: ['handler', 'signer'], totp: true });
  signerA = await makeUser(env, { tenant, roles: ['handler', 'signer'], totp: true });
  signerB = await makeUser(env, { tenant, roles: ['handler', 'signer'], totp: true });
  admin = await makeUser(env, { tenant, roles: ['admin'], totp: true });
  outsider = await makeUser(env, { tenant: other, roles: ['admin'], totp: true });
  for (const u of [creator, signerA, signerB, admin, outsider]) H.set(u.id, await tokenHeaders(env, u));
  const e = await app.inject({
    method: 'POST',
    url: `${base}/expedients`,
    headers: h(creator),
    payload: { title: 'Informe de secretaria' },
  });
  assert.equal(e.statusCode, 201, e.body);
  expedientId = e.json().id;
});
after(async () => {
  await app?.close();
  await env?.close();
});

describe('reminders of pending signatures', () => {
  it('the creator reminds the pending signers: both inboxes show it, it is recorded and audited; a second one the same day is 409', async () => {
    const id = await draftInCircuit('Informe 1');
    const res = await remind(id, creator);
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().kind, 'manual');
    assert.equal(res.json().step, 1);
    assert.deepEqual(res.json().recipients, [signerA.id, signerB.id].sort());
    for (const u of [signerA, signerB]) {
      const item = await inboxItem(u, id);
      assert.equal(item?.reminders, 1);
      assert.equal(item?.remindedAt, env.clock.now().toISOString());
    }
    env.clock.advance(3600_000);
    const again = await remind(id, creator);
    assert.equal(again.statusCode, 409, again.body);
    assert.equal(again.json().code, 'REMINDER_TOO_SOON');
    const list = await app.inject({
      method: 'GET',
      url: `${base}/documents/${id}/circuit/reminders`,
      headers: h(creator),
    });
    assert.equal(list.json().length, 1);
    const audited = await env.db.tenant(tenant.id, async (tx) => {
      const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_events
        WHERE tenant_id = ${tenant.id} AND action = 'signature.remind' AND object_id = ${id}`.execute(tx);
      return r.rows[0]!.n;
    });
    assert.equal(audited, 1);
  });

  it('once one signer has signed, a reminder reaches only the one still pending, who keeps the count of earlier reminders', async () => {
    const id = await draftInCircuit('Informe 2');
    assert.equal((await remind(id, creator)).statusCode, 201);
    env.clock.advance(31_000);
    const signed = await app.inject({
      method: 'POST',
      url: `${base}/documents/${id}/sign`,
      headers: h(signerA),
      payload: { totp: currentTotp(env, signerA) },
    });
    assert.equal(signed.statusCode, 200, signed.body);
    assert.equal(await inboxItem(signerA, id), undefined);
    assert.equal((await inboxItem(signerB, id))?.reminders, 1, 'the earlier reminder is kept');
    env.clock.advance(25 * 3600_000);
    const res = await remind(id, admin);
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual(res.json().recipients, [signerB.id]);
    assert.equal((await inboxItem(signerB, id))?.reminders, 2);
  });

  it('only the creator or an administrator reminds; another entity gets 404; a finished circuit is 409', async () => {
    const id = await draftInCircuit('Informe 3');
    const bySigner = await remind(id, signerA);
    assert.equal(bySigner.statusCode, 403, bySigner.body);
    const byOutsider = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${other.slug}/documents/${id}/circuit/remind`,
      headers: h(outsider),
    });
    assert.equal(byOutsider.statusCode, 404, byOutsider.body);
    const cancel = await app.inject({
      method: 'POST',
      url: `${base}/documents/${id}/circuit/cancel`,
      headers: h(creator),
      payload: { reason: 'ja no cal' },
    });
    assert.equal(cancel.statusCode, 200, cancel.body);
    const late = await remind(id, creator);
    assert.equal(late.statusCode, 409, late.body);
    assert.equal(late.json().code, 'CIRCUIT_NOT_ACTIVE');
  });

  it('the daily sweeper reminds the signers who have waited three days, once, and not those who have waited less', async () => {
    env.clock.advance(48 * 3600_000);
    const old = await draftInCircuit('Informe antic');
    env.clock.advance(2 * 86400_000);
    const recent = await draftInCircuit('Informe recent');
    env.clock.advance(1 * 86400_000 + 60_000);
    await sweepReminders(env);
    assert.equal((await inboxItem(signerA, old))?.reminders, 1, 'three days waiting: reminded');
    assert.equal((await inboxItem(signerA, recent))?.reminders, 0, 'one day waiting: not yet');
    await sweepReminders(env);
    assert.equal((await inboxItem(signerA, old))?.reminders, 1, 'not twice in a row');
    const list = await app.inject({
      method: 'GET',
      url: `${base}/documents/${old}/circuit/reminders`,
      headers: h(creator),
    });
    assert.deepEqual(
      (list.json() as { kind: string }[]).map((r) => r.kind),
      ['automatic'],
    );
  });
});
