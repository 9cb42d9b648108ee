import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { actingDetails, inSeu } from '#modules/citizens/seu-scope.ts';
import { listResolutions } from '#modules/seals/resolutions.service.ts';
import { checkCitizenSession } from '#modules/citizens/sessions.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { CITIZENS, citizenHeaders, grantPower } from '#test/helpers/citizens.ts';
import {
  loginHeaders,
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  TestClock,
  type TestEnv,
} from '#test/helpers/harness.ts';
import { multipart } from '#test/helpers/multipart.ts';

const { anna, bernat, carla } = CITIZENS;
let env: TestEnv;
let app: FastifyInstance;
let a: Tenant;
let b: Tenant;

before(async () => {
  env = await openTestEnv({ clock: new TestClock('2026-03-02T09:00:00Z') });
  app = await makeServer(env);
  a = await makeTenant(env);
  b = await makeTenant(env);
});
after(async () => {
  await app?.close();
  await env?.close();
});

const seu = (t: Tenant) => `/api/v1/seu/${t.slug}`;
async function me(t: Tenant, who: { identifier: string; name: string }, onBehalfOf?: string) {
  return app.inject({
    method: 'GET',
    url: `${seu(t)}/me${onBehalfOf ? `?onBehalfOf=${onBehalfOf}` : ''}`,
    headers: await citizenHeaders(env, who),
  });
}

/** Runs an act through inSeu as another module would, recording its audit event. */
async function act(
  t: Tenant,
  who: { identifier: string; name: string },
  opts: { onBehalfOf?: string; procedure?: string },
) {
  const headers = await citizenHeaders(env, who);
  const token = headers.cookie!.split('=')[1]!;
  const check = await env.db.platformRead((q) =>
    checkCitizenSession(q, env.identity, token, env.clock.now()),
  );
  const req = { citizen: check.citizen, ip: '127.0.0.1', headers: {} } as unknown as FastifyRequest;
  return inSeu(env, req, t.slug, { requireCitizen: true, ...opts }, async (tx, ctx, acting) => {
    await recordEvent(tx, {
      tenantId: ctx.tenant.id,
      ...ctx,
      action: 'test.act',
      details: actingDetails(acting),
    });
    return { acting, label: ctx.actor.label, kind: ctx.actor.kind, roles: ctx.roles };
  });
}

describe('representation (LPACAP art. 6) in the seu', () => {
  let general: { id: string };

  it('a citizen grants a general power in the seu; the representative sees it and acts for them', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `${seu(a)}/representations`,
      headers: await citizenHeaders(env, { ...anna, email: 'anna@example.org', language: 'es' }),
      payload: {
        representative: { identifier: '00.000.002-w', name: bernat.name, email: 'bernat@example.org' },
        scope: 'general',
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    general = res.json();
    const r = res.json();
    assert.equal(r.origin, 'electronic');
    assert.deepEqual(r.represented, anna);
    assert.equal(r.representative.identifier, bernat.identifier);
    assert.equal(r.validFrom, '2026-03-02');
    assert.equal(r.validTo, '2031-03-02');
    assert.equal(r.inForce, true);
    // Both parties are told, each in their language (the grantor's seu language; the entity's).
    const mails = await env.db.tenant(a.id, (tx) =>
      tx
        .selectFrom('mail_outbox')
        .select(['to_address', 'language', 'template', 'params'])
        .orderBy('to_address')
        .execute(),
    );
    assert.deepEqual(
      mails.map((m) => [m.to_address, m.language, m.template]),
      [
        ['anna@example.org', 'es', 'representation_granted'],
        ['bernat@example.org', 'ca', 'representation_granted'],
      ],
    );
    const params = typeof mails[0]!.params === 'string' ? JSON.parse(mails[0]!.params) : mails[0]!.params;
    assert.equal(params.validTo, '02/03/2031');
    assert.equal(params.representativeName, bernat.name);
    assert.match(params.scope, /todos los procedimientos/);

    const mine = await me(a, bernat);
    assert.equal(mine.statusCode, 200, mine.body);
    assert.equal(mine.json().identifier, bernat.identifier);
    assert.equal(mine.json().acting.identifier, bernat.identifier);
    assert.equal(mine.json().acting.representation, null);
    assert.deepEqual(
      mine.json().represents.map((p: { identifier: string }) => p.identifier),
      [anna.identifier],
    );

    const forAnna = await me(a, bernat, anna.identifier);
    assert.equal(forAnna.statusCode, 200, forAnna.body);
    assert.equal(forAnna.json().acting.identifier, anna.identifier);
    assert.equal(forAnna.json().acting.name, anna.name);
    assert.equal(forAnna.json().acting.representation.id, general.id);

    const done = await act(a, bernat, { onBehalfOf: anna.identifier });
    assert.equal(done.kind, 'citizen');
    assert.deepEqual(done.roles, []);
    assert.equal(done.label, `citizen:${bernat.identifier} for:${anna.identifier}`);
    const ev = await env.db.tenant(a.id, (tx) =>
      tx
        .selectFrom('audit_events')
        .selectAll()
        .where('action', '=', 'test.act')
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirstOrThrow(),
    );
    assert.equal(ev.actor_label, `citizen:${bernat.identifier} for:${anna.identifier}`);
    assert.deepEqual((ev.details as { onBehalfOf: unknown }).onBehalfOf, {
      identifier: anna.identifier,
      name: anna.name,
      representationId: general.id,
    });

    const lists = await app.inject({
      method: 'GET',
      url: `${seu(a)}/representations`,
      headers: await citizenHeaders(env, bernat),
    });
    assert.equal(lists.statusCode, 200);
    assert.deepEqual(lists.json().granted, []);
    assert.deepEqual(
      lists.json().held.map((x: { id: string }) => x.id),
      [general.id],
    );
  });

  it('a citizen is no staff: a staff-only service refuses the citizen actor', async () => {
    const headers = await citizenHeaders(env, anna);
    const token = headers.cookie!.split('=')[1]!;
    const check = await env.db.platformRead((q) =>
      checkCitizenSession(q, env.identity, token, env.clock.now()),
    );
    const req = { citizen: check.citizen, ip: '127.0.0.1', headers: {} } as unknown as FastifyRequest;
    await assert.rejects(
      inSeu(env, req, a.slug, { requireCitizen: true }, (tx, ctx) => listResolutions(tx, ctx)),
      { code: 'FORBIDDEN' },
    );
  });

  it('someone without a power, or in another entity, gets 404 without a hint; no session is 401', async () => {
    const res = await me(a, carla, anna.identifier);
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().code, 'NOT_FOUND');
    const other = await me(b, bernat, anna.identifier);
    assert.equal(other.statusCode, 404);
    assert.equal(other.json().code, 'NOT_FOUND');
    const unknown = await me(a, bernat, '00000009X');
    assert.equal(unknown.statusCode, 404);
    const anon = await app.inject({ method: 'GET', url: `${seu(a)}/me` });
    assert.equal(anon.statusCode, 401);
    assert.equal(anon.json().code, 'CITIZEN_LOGIN_REQUIRED');
    const noEntity = await me({ ...a, slug: 'no-such-entity' }, bernat);
    assert.equal(noEntity.statusCode, 404);
    assert.equal(noEntity.json().code, 'ENTITY_NOT_FOUND');
  });

  it('a power lasts at most five years: a five-years-and-a-day power is refused', async () => {
    const headers = await citizenHeaders(env, anna);
    const tooLong = await app.inject({
      method: 'POST',
      url: `${seu(a)}/representations`,
      headers,
      payload: {
        representative: carla,
        scope: 'general',
        validFrom: '2026-03-02',
        validTo: '2031-03-03',
      },
    });
    assert.equal(tooLong.statusCode, 422, tooLong.body);
    assert.equal(tooLong.json().code, 'REPRESENTATION_TOO_LONG');
    const self = await app.inject({
      method: 'POST',
      url: `${seu(a)}/representations`,
      headers,
      payload: { representative: anna, scope: 'general' },
    });
    assert.equal(self.json().code, 'REPRESENTATION_SELF');
    const badNif = await app.inject({
      method: 'POST',
      url: `${seu(a)}/representations`,
      headers,
      payload: { representative: { identifier: '00000002A', name: 'X' }, scope: 'general' },
    });
    assert.equal(badNif.statusCode, 422);
    assert.equal(badNif.json().code, 'INVALID_IDENTIFIER');
    const foreign = await app.inject({
      method: 'POST',
      url: `${seu(a)}/representations`,
      headers: { ...headers, origin: 'https://evil.example' },
      payload: { representative: carla, scope: 'general' },
    });
    assert.equal(foreign.statusCode, 403);
    assert.equal(foreign.json().code, 'CSRF_REJECTED');
  });

  it('a procedure power covers its procedure only', async () => {
    await grantPower(env, a.id, {
      represented: anna,
      representative: carla,
      scope: 'procedure',
      procedure: 'GEN',
    });
    const ok = await act(a, carla, { onBehalfOf: anna.identifier, procedure: 'GEN' });
    assert.equal(ok.acting?.subject.identifier, anna.identifier);
    assert.equal(ok.acting?.representation?.procedure, 'GEN');
    await assert.rejects(act(a, carla, { onBehalfOf: anna.identifier, procedure: 'LLIC' }), {
      code: 'NOT_FOUND',
    });
    // The whole folder needs a general power.
    assert.equal((await me(a, carla, anna.identifier)).statusCode, 404);
  });

  it('a revoked power stops working at once; only its grantor revokes it', async () => {
    const byOther = await app.inject({
      method: 'POST',
      url: `${seu(a)}/representations/${general.id}/revoke`,
      headers: await citizenHeaders(env, bernat),
      payload: {},
    });
    assert.equal(byOther.statusCode, 404);
    const res = await app.inject({
      method: 'POST',
      url: `${seu(a)}/representations/${general.id}/revoke`,
      headers: await citizenHeaders(env, anna),
      payload: { reason: 'Ja no cal' },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().inForce, false);
    assert.equal((await me(a, bernat, anna.identifier)).statusCode, 404);
    const revoked = await env.db.tenant(a.id, (tx) =>
      tx
        .selectFrom('mail_outbox')
        .select('to_address')
        .where('template', '=', 'representation_revoked')
        .execute(),
    );
    assert.deepEqual(revoked.map((m) => m.to_address).sort(), ['anna@example.org', 'bernat@example.org']);
    const again = await app.inject({
      method: 'POST',
      url: `${seu(a)}/representations/${general.id}/revoke`,
      headers: await citizenHeaders(env, anna),
      payload: {},
    });
    assert.equal(again.json().code, 'REPRESENTATION_ALREADY_REVOKED');
  });

  it('an expired power stops working the day after its last day (Europe/Madrid)', async () => {
    await grantPower(env, b.id, {
      represented: carla,
      representative: bernat,
      validFrom: '2026-03-02',
      validTo: '2026-03-12',
    });
    env.clock.set('2026-03-12T22:59:00Z'); // 23:59 in Madrid, still 12 March
    assert.equal((await me(b, bernat, carla.identifier)).statusCode, 200);
    env.clock.set('2026-03-12T23:00:00Z'); // 00:00 on 13 March
    assert.equal((await me(b, bernat, carla.identifier)).statusCode, 404);
    env.clock.set('2026-03-02T09:00:00Z');
  });
});

describe('the register at the office', () => {
  it('staff record apud acta and notarial powers; viewers read; another entity sees nothing', async () => {
    const registrar = await loginHeaders(app, env, await makeUser(env, { tenant: a, roles: ['registrar'] }));
    const viewer = await loginHeaders(app, env, await makeUser(env, { tenant: a, roles: ['viewer'] }));
    const outsider = await loginHeaders(app, env, await makeUser(env, { tenant: b, roles: ['registrar'] }));
    const url = `/api/v1/entities/${a.slug}/representations`;
    const body = { represented: bernat, representative: carla, scope: 'general', validTo: '2027-03-01' };
    const byViewer = await app.inject({ method: 'POST', url, headers: viewer, payload: body });
    assert.equal(byViewer.statusCode, 403);
    const res = await app.inject({ method: 'POST', url, headers: registrar, payload: body });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().origin, 'apud_acta');
    // The represented person is matched to the entity's party with that NIF.
    const party = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${a.slug}/parties`,
      headers: registrar,
      payload: { identifier: bernat.identifier, name: 'Bernat', surname1: 'Prova', surname2: 'Exemple' },
    });
    assert.equal(party.statusCode, 201, party.body);
    const acting = (await me(a, carla, bernat.identifier)).json().acting;
    assert.equal(acting.identifier, bernat.identifier);
    assert.deepEqual(acting.party, { id: party.json().id, name: 'Bernat Prova Exemple' });
    assert.equal((await me(a, carla)).json().acting.party, null);

    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(2000)]);
    const fields = {
      represented: JSON.stringify(anna),
      representative: JSON.stringify({ identifier: '12345678Z', name: 'Gestoria Prova' }),
      scope: 'procedure',
      procedure: 'GEN',
    };
    const m = multipart(fields, { name: 'escriptura.pdf', type: 'application/pdf', data: pdf });
    const notarial = await app.inject({
      method: 'POST',
      url: `${url}/notarial`,
      headers: { ...registrar, ...m.headers },
      payload: m.body,
    });
    assert.equal(notarial.statusCode, 201, notarial.body);
    assert.equal(notarial.json().origin, 'notarial');
    assert.equal(notarial.json().notarialDocument.size, pdf.length);
    const doc = await app.inject({
      method: 'GET',
      url: `${url}/${notarial.json().id}/document`,
      headers: viewer,
    });
    assert.equal(doc.statusCode, 200);
    assert.deepEqual(doc.rawPayload, pdf);
    const notPdf = multipart(fields, { name: 'foto.pdf', type: 'application/pdf', data: randomBytes(500) });
    const refused = await app.inject({
      method: 'POST',
      url: `${url}/notarial`,
      headers: { ...registrar, ...notPdf.headers },
      payload: notPdf.body,
    });
    assert.equal(refused.statusCode, 415);
    const huge = multipart(fields, {
      name: 'escriptura.pdf',
      type: 'application/pdf',
      data: Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(20 * 1024 * 1024)]),
    });
    const tooLarge = await app.inject({
      method: 'POST',
      url: `${url}/notarial`,
      headers: { ...registrar, ...huge.headers },
      payload: huge.body,
    });
    assert.equal(tooLarge.statusCode, 413, tooLarge.body);
    assert.equal(tooLarge.json().code, 'PAYLOAD_TOO_LARGE');
    const notarials = await env.db.tenant(a.id, (tx) =>
      tx.selectFrom('representations').select('id').where('origin', '=', 'notarial').execute(),
    );
    assert.equal(notarials.length, 1); // the refused uploads recorded nothing

    const list = await app.inject({
      method: 'GET',
      url: `${url}?identifier=${anna.identifier}`,
      headers: viewer,
    });
    assert.equal(list.statusCode, 200);
    assert.ok(list.json().items.length >= 3);
    assert.ok(
      list
        .json()
        .items.every(
          (r: { represented: { identifier: string }; representative: { identifier: string } }) =>
            r.represented.identifier === anna.identifier || r.representative.identifier === anna.identifier,
        ),
    );
    const foreign = await app.inject({ method: 'GET', url, headers: outsider });
    assert.equal(foreign.statusCode, 404);
    const foreignOne = await app.inject({
      method: 'GET',
      url: `/api/v1/entities/${b.slug}/representations/${res.json().id}`,
      headers: outsider,
    });
    assert.equal(foreignOne.statusCode, 404);

    const revoke = await app.inject({
      method: 'POST',
      url: `${url}/${res.json().id}/revoke`,
      headers: registrar,
      payload: { reason: 'Revocació en persona' },
    });
    assert.equal(revoke.statusCode, 200, revoke.body);
    assert.equal((await me(a, carla, bernat.identifier)).statusCode, 404);
  });
});
