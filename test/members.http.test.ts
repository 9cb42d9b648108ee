import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  type TestEnv,
  type TestUser,
  tokenHeaders,
} from '#test/helpers/harness.ts';

let env: TestEnv;
let app: FastifyInstance;
let a: Tenant;
let b: Tenant;
let handler: TestUser;
let admin: TestUser;
let gone: TestUser;
let outsider: TestUser;

before(async () => {
  env = await openTestEnv();
  app = await makeServer(env);
  a = await makeTenant(env);
  b = await makeTenant(env);
  handler = await makeUser(env, { tenant: a, roles: ['handler'] });
  admin = await makeUser(env, { tenant: a, roles: ['admin', 'signer'], totp: true });
  gone = await makeUser(env, { tenant: a, roles: ['handler'] });
  outsider = await makeUser(env, { tenant: b, roles: ['admin'], totp: true });
  await env.db.owner((tx) => sql`UPDATE users SET disabled = true WHERE id = ${gone.id}`.execute(tx));
});
after(async () => {
  await app?.close();
  await env?.close();
});

const list = async (u: TestUser | null, t: Tenant = a) =>
  app.inject({
    method: 'GET',
    url: `/api/v1/entities/${t.slug}/members`,
    headers: u ? await tokenHeaders(env, u) : {},
  });

describe('GET /entities/{entity}/members', () => {
  it('any member lists the entity’s active users with their roles and whether they have TOTP; nothing else about them', async () => {
    const res = await list(handler);
    assert.equal(res.statusCode, 200, res.body);
    const members = res.json() as Record<string, unknown>[];
    const byId = new Map(members.map((m) => [m.id, m]));
    assert.deepEqual(byId.get(admin.id), {
      id: admin.id,
      username: admin.username,
      name: byId.get(admin.id)?.name,
      roles: ['admin', 'signer'],
      totp: true,
    });
    assert.equal(byId.get(handler.id)?.totp, false);
    assert.ok(!byId.has(gone.id), 'a disabled user is not offered');
    assert.ok(!byId.has(outsider.id), 'another entity’s user is not listed');
    for (const m of members)
      assert.deepEqual(Object.keys(m).sort(), ['id', 'name', 'roles', 'totp', 'username']);
  });

  it('another entity’s user gets 404; without credentials 401', async () => {
    const res = await list(outsider);
    assert.equal(res.statusCode, 404, res.body);
    assert.equal(res.json().code, 'ENTITY_NOT_FOUND');
    assert.equal((await list(null)).statusCode, 401);
    const own = await list(outsider, b);
    assert.deepEqual(
      (own.json() as { id: string }[]).map((m) => m.id),
      [outsider.id],
    );
  });
});
