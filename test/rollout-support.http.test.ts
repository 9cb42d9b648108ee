import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { multipart } from '#test/helpers/multipart.ts';
import {
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  TestClock,
  type TestEnv,
  type TestUser,
  tokenHeaders,
} from '#test/helpers/harness.ts';

/**
 * Issue 6, support access — the acceptance line: a support technician without a grant gets 404 on
 * the entity's data; with a grant, access works until it expires and each access appears in the
 * entity's audit trail; after expiry, 404 again.
 */

let env: TestEnv;
let app: FastifyInstance;
let a: Tenant;
let b: Tenant;
let adminA: TestUser;
let handlerA: TestUser;
let adminB: TestUser;
let tech: TestUser;
let operator: TestUser;
let ordinary: TestUser;
const H = new Map<string, Record<string, string>>();
const h = (u: TestUser) => H.get(u.id)!;
let expedientId: string;

before(async () => {
  env = await openTestEnv({ clock: new TestClock('2026-11-30T09:00:00Z') });
  app = await makeServer(env);
  a = await makeTenant(env);
  b = await makeTenant(env);
  adminA = await makeUser(env, { tenant: a, roles: ['admin'], totp: true, name: 'Secretària A' });
  handlerA = await makeUser(env, { tenant: a, roles: ['handler'] });
  adminB = await makeUser(env, { tenant: b, roles: ['admin'], totp: true });
  tech = await makeUser(env, { platformRoles: ['support'], totp: true, name: 'Tècnica del Consell' });
  operator = await makeUser(env, { platformRoles: ['operator'], totp: true });
  ordinary = await makeUser(env, { tenant: b, roles: ['handler'] });
  await env.db.owner(async (tx) => {
    await sql`UPDATE users SET email = 'secretaria@a.example' WHERE id = ${adminA.id}`.execute(tx);
    await sql`UPDATE users SET email = 'handler@a.example' WHERE id = ${handlerA.id}`.execute(tx);
    await sql`UPDATE tenants SET language = 'es' WHERE id = ${a.id}`.execute(tx);
  });
  for (const u of [adminA, handlerA, adminB, tech, operator, ordinary])
    H.set(u.id, await tokenHeaders(env, u));
  const exp = await app.inject({
    method: 'POST',
    url: `/api/v1/entities/${a.slug}/expedients`,
    headers: h(handlerA),
    payload: { title: 'Llicència d’obres menors' },
  });
  assert.equal(exp.statusCode, 201, exp.body);
  expedientId = exp.json().id;
});
after(async () => {
  await app?.close();
  await env?.close();
});

const get = (u: TestUser, url: string) => app.inject({ method: 'GET', url, headers: h(u) });
const post = (u: TestUser, url: string, payload: unknown = {}) =>
  app.inject({ method: 'POST', url, headers: h(u), payload: payload as Record<string, unknown> });
const grants = (t: Tenant) => `/api/v1/entities/${t.slug}/support-grants`;
const dataUrls = () => [
  `/api/v1/entities/${a.slug}/expedients`,
  `/api/v1/entities/${a.slug}/expedients/${expedientId}`,
  `/api/v1/entities/${a.dir3}/members`,
];

async function supportAccessEvents(): Promise<Record<string, unknown>[]> {
  const res = await get(adminA, `/api/v1/entities/${a.slug}/audit?action=support.access&limit=1000`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

async function assertHidden(u: TestUser) {
  for (const url of dataUrls()) {
    const res = await get(u, url);
    assert.equal(res.statusCode, 404, `${url}: ${res.body}`);
    assert.equal(res.json().code, 'ENTITY_NOT_FOUND');
  }
}

async function requestAccess(hours = 2, reason = 'Incidència 4711: no es pot tancar un expedient') {
  const res = await post(tech, '/api/v1/console/support-grants', {
    entity: a.dir3,
    reason,
    durationHours: hours,
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json() as Record<string, unknown> & { id: string };
}

describe('support access (issue 6)', () => {
  let grantId: string;

  it('without a grant a technician gets 404 on the entity’s data, exactly as a non-member, and no access is logged', async () => {
    await assertHidden(tech);
    const asTech = await get(tech, `/api/v1/entities/${a.slug}/expedients`);
    const asStranger = await get(ordinary, `/api/v1/entities/${a.slug}/expedients`);
    assert.deepEqual(asTech.json(), asStranger.json());
    const list = await get(tech, grants(a));
    assert.equal(list.statusCode, 404);
    assert.equal((await supportAccessEvents()).length, 0);
  });

  it('an ordinary user cannot ask for access nor see the console’s list (404)', async () => {
    const res = await post(ordinary, '/api/v1/console/support-grants', {
      entity: a.dir3,
      reason: 'x',
      durationHours: 1,
    });
    assert.equal(res.statusCode, 404);
    assert.equal((await get(ordinary, '/api/v1/console/support-grants')).statusCode, 404);
    assert.equal((await get(adminA, '/api/v1/console/support-grants')).statusCode, 404);
  });

  it('a technician asks with a reason and a duration (at most 72 h); the admins get an e-mail in the entity’s language', async () => {
    const tooLong = await post(tech, '/api/v1/console/support-grants', {
      entity: a.dir3,
      reason: 'massa',
      durationHours: 73,
    });
    assert.equal(tooLong.statusCode, 422, tooLong.body);
    assert.equal(tooLong.json().code, 'SUPPORT_GRANT_TOO_LONG');
    const unknown = await post(tech, '/api/v1/console/support-grants', {
      entity: 'L01999999',
      reason: 'x',
      durationHours: 1,
    });
    assert.equal(unknown.json().code, 'ENTITY_NOT_FOUND');

    const g = await requestAccess(2);
    grantId = g.id;
    assert.equal(g.status, 'requested');
    assert.deepEqual(g.entity, { id: a.id, dir3: a.dir3, slug: a.slug, name: a.name });
    assert.equal((g.technician as { id: string }).id, tech.id);
    assert.equal(g.durationHours, 2);
    assert.equal(g.startsAt, null);

    const mails = await env.db.owner((tx) =>
      sql<{ to_address: string; language: string; template: string; params: Record<string, string> }>`
        SELECT to_address, language, template, params FROM mail_outbox WHERE tenant_id = ${a.id}`.execute(tx),
    );
    assert.equal(mails.rows.length, 1, 'only the admin, not the handler');
    const m = mails.rows[0]!;
    assert.equal(m.to_address, 'secretaria@a.example');
    assert.equal(m.language, 'es');
    assert.equal(m.template, 'support_access_requested');
    const params = typeof m.params === 'string' ? JSON.parse(m.params) : m.params;
    assert.equal(params.technicianName, 'Tècnica del Consell');
    assert.equal(params.duration, '2 horas');
    assert.match(params.link, new RegExp(`/app/e/${a.slug}/support-access$`));

    // A request alone opens nothing.
    await assertHidden(tech);
    const own = await get(tech, '/api/v1/console/support-grants');
    assert.deepEqual(
      own.json().map((x: { id: string }) => x.id),
      [grantId],
    );
  });

  it('another entity’s admin can neither see nor decide the request; a member who is not admin is refused', async () => {
    assert.equal((await get(adminB, grants(a))).statusCode, 404);
    const viaOwn = await post(adminB, `${grants(b)}/${grantId}/grant`);
    assert.equal(viaOwn.statusCode, 404);
    assert.equal(viaOwn.json().code, 'SUPPORT_GRANT_NOT_FOUND');
    assert.deepEqual((await get(adminB, grants(b))).json(), []);
    const viaA = await post(adminB, `${grants(a)}/${grantId}/grant`);
    assert.equal(viaA.json().code, 'ENTITY_NOT_FOUND');
    assert.equal((await post(handlerA, `${grants(a)}/${grantId}/grant`)).statusCode, 403);
  });

  it('the admin grants it (viewer by default, never admin); a decided request cannot be decided again', async () => {
    const list = await get(adminA, grants(a));
    assert.equal(list.statusCode, 200, list.body);
    assert.deepEqual(
      list.json().map((x: { id: string; status: string }) => [x.id, x.status]),
      [[grantId, 'requested']],
    );
    const asAdmin = await post(adminA, `${grants(a)}/${grantId}/grant`, { roles: ['admin'] });
    assert.equal(asAdmin.statusCode, 400, asAdmin.body);
    const ok = await post(adminA, `${grants(a)}/${grantId}/grant`, { note: 'Fins a migdia' });
    assert.equal(ok.statusCode, 200, ok.body);
    const g = ok.json();
    assert.equal(g.status, 'granted');
    assert.deepEqual(g.roles, ['viewer']);
    assert.equal(g.startsAt, '2026-11-30T09:00:00.000Z');
    assert.equal(g.endsAt, '2026-11-30T11:00:00.000Z');
    assert.equal(g.decidedBy, adminA.username);
    for (const verb of ['grant', 'deny']) {
      const again = await post(
        adminA,
        `${grants(a)}/${grantId}/${verb}`,
        verb === 'deny' ? { note: 'no' } : {},
      );
      assert.equal(again.statusCode, 409, again.body);
      assert.equal(again.json().code, 'SUPPORT_GRANT_ALREADY_DECIDED');
    }
  });

  it('under the grant the technician reads with its roles (a viewer cannot open a case file), and every request is in the entity’s audit trail', async () => {
    const before = await env.db.owner((tx) =>
      sql<{ n: number }>`SELECT count(*)::int AS n FROM expedients WHERE tenant_id = ${a.id}`.execute(tx),
    );
    env.clock.advance(30 * 60_000);
    const urls = dataUrls();
    for (const url of urls) {
      const res = await get(tech, url);
      assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
    }
    const list = await get(tech, `${urls[0]!}?q=obres`);
    assert.equal(list.json().items[0].id, expedientId);
    const create = await post(tech, `/api/v1/entities/${a.slug}/expedients`, { title: 'No' });
    assert.equal(create.statusCode, 403, create.body);
    assert.equal(create.json().code, 'FORBIDDEN');
    // A registry entry with a file: the grant's roles refuse it before the file is read, and the
    // refusal is an access too.
    const filing = multipart(
      {
        direction: 'E',
        heading: 'Instància',
        summary: 'Prova',
        channel: 'in_person',
        party: JSON.stringify({ identifier: '12345678Z', name: 'Maria Rovira' }),
      },
      { name: 'a.pdf', type: 'application/pdf', data: Buffer.from('%PDF-1.4\n') },
    );
    const entry = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${a.slug}/registry`,
      headers: { ...h(tech), ...filing.headers },
      payload: filing.body,
    });
    assert.equal(entry.statusCode, 403, entry.body);
    assert.equal(entry.json().code, 'FORBIDDEN');
    // The technician never becomes the entity's admin under a grant.
    assert.equal((await get(tech, grants(a))).statusCode, 403);
    const after = await env.db.owner((tx) =>
      sql<{ n: number }>`SELECT count(*)::int AS n FROM expedients WHERE tenant_id = ${a.id}`.execute(tx),
    );
    assert.equal(after.rows[0]!.n, before.rows[0]!.n);

    const events = (await supportAccessEvents()).reverse(); // oldest first
    const requests = urls.length + 1 + 1 + 1 + 1; // the reads, the list again, the refused creation and entry, the refused grants list
    assert.equal(events.length, requests);
    assert.equal((events[urls.length]!.details as { query?: string }).query, 'q=obres');
    for (const e of events) {
      assert.equal(e.actor, tech.username);
      assert.equal((e.details as { grantId: string }).grantId, grantId);
    }
    assert.deepEqual(
      events.map((e) => {
        const d = e.details as { method: string; path: string; refused?: string };
        return [d.method, d.path, d.refused ?? null];
      }),
      [
        ...urls.map((u) => ['GET', u, null]),
        ['GET', urls[0], null],
        ['POST', `/api/v1/entities/${a.slug}/expedients`, 'FORBIDDEN'],
        ['POST', `/api/v1/entities/${a.slug}/registry`, 'FORBIDDEN'],
        ['GET', grants(a), 'FORBIDDEN'],
      ],
    );
    // Not another entity's: B's trail has no support access, and the technician is still a stranger there.
    const bTrail = await get(adminB, `/api/v1/entities/${b.slug}/audit?action=support.`);
    assert.deepEqual(bTrail.json(), []);
    assert.equal((await get(tech, `/api/v1/entities/${b.slug}/expedients`)).statusCode, 404);
  });

  it('after the end of the grant: 404 again, the grant shows as expired and can no longer be revoked', async () => {
    env.clock.set('2026-11-30T10:59:59.999Z');
    assert.equal((await get(tech, dataUrls()[0]!)).statusCode, 200);
    env.clock.set('2026-11-30T11:00:00.000Z');
    const n = (await supportAccessEvents()).length;
    await assertHidden(tech);
    assert.equal((await supportAccessEvents()).length, n, 'a refused stranger is not logged as an access');
    const mine = (await get(tech, '/api/v1/console/support-grants')).json();
    assert.equal(mine[0].status, 'expired');
    const revoke = await post(adminA, `${grants(a)}/${grantId}/revoke`);
    assert.equal(revoke.statusCode, 409);
  });

  it('a revoked grant closes access at once; a denied one never opens it; each decision is in the entity’s trail', async () => {
    const g2 = await requestAccess(4, 'Segona incidència');
    const ok = await post(adminA, `${grants(a)}/${g2.id}/grant`, { roles: ['handler'] });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal((await get(tech, dataUrls()[0]!)).statusCode, 200);
    const created = await post(tech, `/api/v1/entities/${a.slug}/expedients`, { title: 'Obert pel suport' });
    assert.equal(created.statusCode, 201, 'a handler grant lets the technician open a case file');
    const revoked = await post(adminA, `${grants(a)}/${g2.id}/revoke`);
    assert.equal(revoked.statusCode, 200, revoked.body);
    assert.equal(revoked.json().status, 'revoked');
    await assertHidden(tech);

    env.clock.advance(60_000);
    const g3 = await requestAccess(1, 'Tercera');
    const noNote = await post(adminA, `${grants(a)}/${g3.id}/deny`, {});
    assert.equal(noNote.statusCode, 400);
    const denied = await post(adminA, `${grants(a)}/${g3.id}/deny`, { note: 'Ara no, truqueu-nos' });
    assert.equal(denied.json().status, 'denied');
    assert.equal(denied.json().decisionNote, 'Ara no, truqueu-nos');
    await assertHidden(tech);

    const trail = await get(adminA, `/api/v1/entities/${a.slug}/audit?action=support.*`);
    const actions = (trail.json() as { action: string; objectId: string }[])
      .filter((e) => e.action !== 'support.access')
      .map((e) => `${e.action}:${e.objectId === grantId ? 1 : e.objectId === g2.id ? 2 : 3}`)
      .reverse();
    assert.deepEqual(actions, [
      'support.request:1',
      'support.grant:1',
      'support.request:2',
      'support.grant:2',
      'support.revoke:2',
      'support.request:3',
      'support.deny:3',
    ]);
    // The case file opened under the grant is attributed to the technician in the entity's trail.
    const createdEvents = await get(adminA, `/api/v1/entities/${a.slug}/audit?action=expedient.create`);
    assert.ok(createdEvents.json().some((e: { actor: string }) => e.actor === tech.username));

    const all = await get(operator, '/api/v1/console/support-grants');
    assert.deepEqual(
      all.json().map((x: { status: string }) => x.status),
      ['denied', 'revoked', 'expired'],
    );
  });

  it('GET /api/v1/entities lists the entity while a grant is in force (grant roles, support.endsAt), not after; members have no support field', async () => {
    const entities = async (u: TestUser) => {
      const res = await get(u, '/api/v1/entities');
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as { slug: string; roles: string[]; support?: { grantId: string; endsAt: string } }[];
    };
    // Expired, revoked and denied grants (the tests above) give nothing.
    assert.deepEqual(await entities(tech), []);
    const g = await requestAccess(3, 'Quarta: formació');
    assert.deepEqual(await entities(tech), [], 'a grant asked for but not decided opens nothing');
    const ok = await post(adminA, `${grants(a)}/${g.id}/grant`, { roles: ['viewer', 'registrar'] });
    assert.equal(ok.statusCode, 200, ok.body);
    const endsAt = ok.json().endsAt as string;
    assert.equal(new Date(endsAt).getTime(), env.clock.now().getTime() + 3 * 3600_000);

    const during = await entities(tech);
    assert.deepEqual(
      during.map((e) => [e.slug, [...e.roles].sort(), e.support]),
      [[a.slug, ['registrar', 'viewer'], { grantId: g.id, endsAt }]],
    );
    // The entity's data answers as the list says.
    assert.equal((await get(tech, dataUrls()[0]!)).statusCode, 200);

    for (const [u, t, roles] of [
      [adminA, a, ['admin']],
      [handlerA, a, ['handler']],
      [adminB, b, ['admin']],
    ] as const) {
      const mine = await entities(u);
      assert.deepEqual(
        mine.map((e) => [e.slug, e.roles]),
        [[t.slug, roles]],
      );
      assert.ok(
        !('support' in mine[0]!),
        `a member's entry has no support field: ${JSON.stringify(mine[0])}`,
      );
    }

    env.clock.set(new Date(new Date(endsAt).getTime() - 1).toISOString());
    assert.equal((await entities(tech)).length, 1);
    env.clock.set(endsAt);
    assert.deepEqual(await entities(tech), [], 'at endsAt the grant is no longer in force');
    assert.equal((await get(tech, dataUrls()[0]!)).statusCode, 404);
  });
});
