import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { totpCode } from '#modules/identity/totp.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  loginHeaders,
  makeServer,
  makeTenant,
  makeToken,
  makeUser,
  ORIGIN,
  openTestEnv,
  TestClock,
  type TestEnv,
  tokenHeaders,
} from '#test/helpers/harness.ts';

let env: TestEnv;
let app: FastifyInstance;
let tenant: Tenant;
let base: string;

before(async () => {
  env = await openTestEnv({
    clock: new TestClock('2026-03-02T09:00:00Z'),
    config: { loginMaxFailures: 3, loginLockMinutes: 15 },
  });
  app = await makeServer(env);
  tenant = await makeTenant(env);
  base = `/api/v1/entities/${tenant.slug}`;
});
after(async () => {
  await app.close();
  await env.close();
});

const login = (payload: Record<string, string>, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/session',
    payload,
    headers: { host: 'localhost:80', ...headers },
  });

describe('sessions and CSRF', () => {
  it('refuses a cookie-authenticated change from another origin, or with no origin at all', async () => {
    const h = await loginHeaders(app, env, await makeUser(env, { tenant }));
    const evil = await app.inject({
      method: 'POST',
      url: `${base}/expedients`,
      headers: { ...h, origin: 'https://evil.example' },
      payload: { title: 'x' },
    });
    assert.equal(evil.statusCode, 403);
    assert.equal(evil.json().code, 'CSRF_REJECTED');
    const { origin: _o, ...noOrigin } = h;
    const bare = await app.inject({
      method: 'POST',
      url: `${base}/expedients`,
      headers: noOrigin,
      payload: { title: 'x' },
    });
    assert.equal(bare.json().code, 'CSRF_REJECTED');
    const same = await app.inject({
      method: 'POST',
      url: `${base}/expedients`,
      headers: h,
      payload: { title: 'x' },
    });
    assert.equal(same.statusCode, 201, same.body);
    const read = await app.inject({
      method: 'GET',
      url: `${base}/expedients`,
      headers: { ...h, origin: 'https://evil.example' },
    });
    assert.equal(read.statusCode, 200, 'reads are not state changes');
    const loginFromEvil = await login({ username: 'x', password: 'y' }, { origin: 'https://evil.example' });
    assert.equal(loginFromEvil.json().code, 'CSRF_REJECTED');
  });

  it('sets an HttpOnly SameSite=Lax cookie; logout ends the session; an idle session expires', async () => {
    const user = await makeUser(env, { tenant });
    const res = await login({ username: user.username, password: user.password });
    const cookie = res.cookies.find((c) => c.name === 'lligall_session')!;
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    const h = { cookie: `lligall_session=${cookie.value}`, origin: ORIGIN, host: 'localhost:80' };
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/me', headers: h })).statusCode, 200);
    env.clock.advance(31 * 60_000); // idle timeout is 30 minutes
    const idle = await app.inject({ method: 'GET', url: '/api/v1/me', headers: h });
    assert.equal(idle.statusCode, 401);
    const h2 = await loginHeaders(app, env, user);
    const out = await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: h2 });
    assert.equal(out.statusCode, 204);
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/me', headers: h2 })).statusCode, 401);
  });

  it('delays and then locks an account after repeated wrong passwords', async () => {
    const user = await makeUser(env, { tenant });
    const t0 = Date.now();
    const first = await login({ username: user.username, password: 'wrong-password' });
    assert.equal(first.json().code, 'INVALID_CREDENTIALS');
    assert.ok(Date.now() - t0 >= 200, 'a failed login is answered after a delay');
    assert.equal(
      (await login({ username: user.username, password: 'wrong-password' })).json().code,
      'INVALID_CREDENTIALS',
    );
    const third = await login({ username: user.username, password: 'wrong-password' });
    assert.equal(third.statusCode, 429);
    assert.equal(third.json().code, 'LOGIN_LOCKED');
    assert.ok(Number(third.headers['retry-after']) > 0);
    const right = await login({ username: user.username, password: user.password });
    assert.equal(right.json().code, 'LOGIN_LOCKED', 'even the right password is refused while locked');
    env.clock.advance(16 * 60_000);
    assert.equal((await login({ username: user.username, password: user.password })).statusCode, 200);
    const unknown = await login({ username: 'nobody-here', password: 'whatever-123' });
    assert.equal(unknown.json().code, 'INVALID_CREDENTIALS');
  });
});

describe('two-factor authentication (ENS)', () => {
  it('makes an admin without TOTP enrol before anything else', async () => {
    const user = await makeUser(env, { tenant, roles: ['admin'] });
    const res = await login({ username: user.username, password: user.password });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().mustEnrolTotp, true);
    const cookie = res.cookies.find((c) => c.name === 'lligall_session')!;
    const h = { cookie: `lligall_session=${cookie.value}`, origin: ORIGIN, host: 'localhost:80' };
    const blocked = await app.inject({ method: 'GET', url: `${base}/expedients`, headers: h });
    assert.equal(blocked.statusCode, 403);
    assert.equal(blocked.json().code, 'TOTP_ENROLLMENT_REQUIRED');
    const me = await app.inject({ method: 'GET', url: '/api/v1/me', headers: h });
    assert.equal(me.json().mustEnrolTotp, true);
    const start = await app.inject({ method: 'POST', url: '/api/v1/me/totp', headers: h });
    assert.equal(start.statusCode, 200, start.body);
    const { secret, uri } = start.json();
    assert.match(uri, /^otpauth:\/\/totp\//);
    const wrong = await app.inject({
      method: 'POST',
      url: '/api/v1/me/totp/confirm',
      headers: h,
      payload: { code: '000000' },
    });
    assert.equal(wrong.json().code, 'TOTP_INVALID');
    const ok = await app.inject({
      method: 'POST',
      url: '/api/v1/me/totp/confirm',
      headers: h,
      payload: { code: totpCode(secret, env.clock.now()) },
    });
    assert.equal(ok.statusCode, 204, ok.body);
    assert.equal(
      (await app.inject({ method: 'GET', url: `${base}/expedients`, headers: h })).statusCode,
      200,
    );
    // From now on the password alone is not enough.
    const next = await login({ username: user.username, password: user.password });
    assert.equal(next.json().code, 'TOTP_REQUIRED');
  });

  it('asks enrolled users for the code, refuses a wrong or replayed one', async () => {
    const user = await makeUser(env, { tenant, roles: ['admin'], totp: true });
    const none = await login({ username: user.username, password: user.password });
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().code, 'TOTP_REQUIRED');
    env.clock.advance(31_000);
    const code = totpCode(user.totpSecret!, env.clock.now());
    const bad = await login({
      username: user.username,
      password: user.password,
      totp: code === '123456' ? '654321' : '123456',
    });
    assert.equal(bad.json().code, 'TOTP_INVALID');
    assert.equal(
      (await login({ username: user.username, password: user.password, totp: code })).statusCode,
      200,
    );
    const replay = await login({ username: user.username, password: user.password, totp: code });
    assert.equal(replay.json().code, 'TOTP_INVALID');
  });

  it('accepts API bearer tokens on every route without a cookie or origin, and refuses unknown ones', async () => {
    const user = await makeUser(env, { tenant, roles: ['admin', 'handler'] });
    const token = await makeToken(env, user);
    const h = { authorization: `Bearer ${token}` };
    assert.equal(
      (await app.inject({ method: 'GET', url: '/api/v1/me', headers: h })).json().username,
      user.username,
    );
    const created = await app.inject({
      method: 'POST',
      url: `${base}/expedients`,
      headers: h,
      payload: { title: 'Per API' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const bad = await app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: 'Bearer llg_nope' },
    });
    assert.equal(bad.statusCode, 401);
    assert.equal(bad.json().code, 'UNAUTHENTICATED');
  });
});

describe('entities and headers', () => {
  it('refuses logins when every entity of the user is suspended', async () => {
    const suspended = await makeTenant(env, { status: 'suspended' });
    const user = await makeUser(env, { tenant: suspended });
    const res = await login({ username: user.username, password: user.password });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().code, 'ENTITY_SUSPENDED');
  });

  it('staff of an entity still being provisioned do not see it yet: it is not listed and its routes are 404 until pilot', async () => {
    const preparing = await makeTenant(env, { status: 'provisioning' });
    const user = await makeUser(env, { tenant: preparing, roles: ['handler'] });
    const headers = await tokenHeaders(env, user);
    const list = await app.inject({ method: 'GET', url: '/api/v1/entities', headers });
    assert.equal(list.statusCode, 200);
    assert.deepEqual(list.json(), []);
    const res = await app.inject({
      method: 'GET',
      url: `/api/v1/entities/${preparing.dir3}/expedients`,
      headers,
    });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().code, 'ENTITY_NOT_FOUND');
    await env.db.platform((tx) =>
      tx.updateTable('tenants').set({ status: 'pilot' }).where('id', '=', preparing.id).execute(),
    );
    const now = await app.inject({
      method: 'GET',
      url: `/api/v1/entities/${preparing.dir3}/expedients`,
      headers,
    });
    assert.equal(now.statusCode, 200, now.body);
    const listed = await app.inject({ method: 'GET', url: '/api/v1/entities', headers });
    assert.deepEqual(
      (listed.json() as { dir3: string }[]).map((e) => e.dir3),
      [preparing.dir3],
    );
  });

  it('sends security headers and problem+json for unknown routes', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/nope' });
    assert.equal(res.statusCode, 404);
    assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
    assert.equal(res.json().code, 'NOT_FOUND');
    assert.match(res.headers['content-security-policy'] as string, /frame-ancestors 'none'/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    const openapi = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    assert.equal(openapi.statusCode, 200);
    assert.ok(openapi.json().paths['/api/v1/entities/{entity}/expedients']);
    assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /lligall_http_requests_total/);
    assert.match(metrics, /lligall_audit_chain_appends_total\{how="(with_commit|alone)"\} [1-9]/);
  });
});
