import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { ConfigError, loadConfig } from '#src/config.ts';
import { buildServer } from '#src/server.ts';
import { citizenIdentifier } from '#modules/citizens/oidc.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { makeTenant, openTestEnv, type TestEnv } from '#test/helpers/harness.ts';

let env: TestEnv;
let app: FastifyInstance;
let tenant: Tenant;
let base: string;

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

before(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  env = await openTestEnv({ config: { publicUrl: base } });
  app = await buildServer(env, { logger: false });
  await app.listen({ host: '127.0.0.1', port });
  tenant = await makeTenant(env);
});
after(async () => {
  await app?.close();
  await env?.close();
});

/** A browser's cookie jar, just enough for one origin (names are unique across paths here). */
class Browser {
  cookies = new Map<string, string>();
  async get(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0)
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(new URL(url, base), { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
  /** Follows redirects until a response that is not one; returns it and the URLs visited. */
  async follow(url: string): Promise<{ res: Response; visited: string[] }> {
    const visited = [url];
    let res = await this.get(url);
    while (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get('location')!, base);
      visited.push(next.href);
      if (next.origin !== base) break;
      // The seu's own pages (the web app) are not served in this test: stop at them.
      if (next.pathname.startsWith('/seu/')) break;
      res = await this.get(next.href);
    }
    return { res, visited };
  }
}

async function loginAs(browser: Browser, citizen: string, lang = 'ca'): Promise<string[]> {
  const { res, visited } = await browser.follow(`/api/v1/seu/${tenant.slug}/login?lang=${lang}`);
  assert.equal(res.status, 200, `the login page: ${visited.join(' → ')}`);
  const html = await res.text();
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  assert.ok(action, html);
  const posted = await browser.get(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
    body: new URLSearchParams({ citizen }).toString(),
  });
  assert.equal(posted.status, 303);
  const after = await browser.follow(new URL(posted.headers.get('location')!, base).href);
  return [...visited, ...after.visited, html];
}

describe('seu login through OpenID Connect (code + PKCE) against the demo provider', () => {
  it('a citizen picks a demo person, comes back to their folder with a session, and me says who they are', async () => {
    const browser = new Browser();
    const steps = await loginAs(browser, 'demo-citizen-1', 'oc');
    const html = steps.pop()!;
    assert.match(html, /<html lang="oc">/);
    assert.match(html, /Marta Exemple Demo/);
    // login → provider's authorization endpoint (with PKCE) → login page … → callback → folder
    assert.match(steps[1]!, /\/idp\/auth\?.*code_challenge_method=S256/);
    assert.ok(steps.some((s) => s.includes('/api/v1/seu/callback?')));
    assert.equal(steps.at(-1), `${base}/seu/${tenant.slug}/carpeta`);
    assert.ok(browser.cookies.has('lligall_seu'));
    const me = await browser.get(`/api/v1/seu/${tenant.slug}/me`);
    assert.equal(me.status, 200);
    const body = (await me.json()) as Record<string, string>;
    assert.equal(body.identifier, '11111111H');
    assert.equal(body.name, 'Marta Exemple Demo');
    assert.equal(body.email, 'marta.exemple@example.org');
    assert.equal(body.language, 'ca');
    const anywhere = await browser.get('/api/v1/seu/me');
    assert.equal(((await anywhere.json()) as { identifier: string }).identifier, '11111111H');
    const events = await env.db.owner((tx) =>
      tx
        .selectFrom('audit_events')
        .select(['actor_label', 'action'])
        .where('action', '=', 'citizen.login')
        .execute(),
    );
    assert.ok(events.some((e) => e.actor_label === 'citizen:11111111H'));

    // Logging out ends the session.
    const out = await browser.get('/api/v1/seu/logout', { method: 'POST', headers: { origin: base } });
    assert.equal(out.status, 204);
    assert.equal((await browser.get(`/api/v1/seu/${tenant.slug}/me`)).status, 401);
    assert.equal((await browser.get('/api/v1/seu/me')).status, 401);
  });

  it('a tampered or replayed state is refused, and so is a callback from another browser', async () => {
    const browser = new Browser();
    const start = await browser.get(`/api/v1/seu/${tenant.slug}/login`);
    assert.equal(start.status, 302);
    const auth = new URL(start.headers.get('location')!);
    const state = auth.searchParams.get('state')!;
    const tampered = await browser.get(`/api/v1/seu/callback?code=x&state=${state}x`);
    assert.equal(tampered.status, 400);
    assert.equal(((await tampered.json()) as { code: string }).code, 'OIDC_LOGIN_FAILED');
    assert.ok(!browser.cookies.has('lligall_seu'));

    // A full login whose callback is replayed: the second use of the state is refused.
    const b2 = new Browser();
    const { res } = await b2.follow(`/api/v1/seu/${tenant.slug}/login`);
    const action = /action="([^"]+)"/.exec(await res.text())![1]!;
    const posted = await b2.get(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
      body: 'citizen=demo-citizen-2',
    });
    const resumed = await b2.get(new URL(posted.headers.get('location')!, base).href);
    const callback = new URL(resumed.headers.get('location')!, base);
    assert.equal(callback.pathname, '/api/v1/seu/callback');
    // Another browser (no login cookie) presenting the code is refused.
    const thief = new Browser();
    const stolen = await thief.get(callback.href);
    assert.equal(stolen.status, 400);
    assert.equal(((await stolen.json()) as { code: string }).code, 'OIDC_LOGIN_FAILED');
    // The state was used up by that attempt: the real browser must log in again.
    const late = await b2.get(callback.href);
    assert.equal(late.status, 400);
    assert.ok(!b2.cookies.has('lligall_seu'));
  });

  it('a session ends after 30 idle minutes', async () => {
    const browser = new Browser();
    await loginAs(browser, 'demo-citizen-2');
    const me = await browser.get(`/api/v1/seu/${tenant.slug}/me`);
    assert.equal(((await me.json()) as { identifier: string }).identifier, '22222222J');
    env.clock.advance(29 * 60_000);
    assert.equal((await browser.get(`/api/v1/seu/${tenant.slug}/me`)).status, 200);
    env.clock.advance(31 * 60_000);
    const idle = await browser.get(`/api/v1/seu/${tenant.slug}/me`);
    assert.equal(idle.status, 401);
    assert.equal(((await idle.json()) as { code: string }).code, 'CITIZEN_LOGIN_REQUIRED');
  });

  it('a malformed NIF from the provider opens no session', () => {
    assert.equal(citizenIdentifier('ES-12.345.678-z'), '12345678Z');
    assert.equal(citizenIdentifier('IDCES-X1234567L'), 'X1234567L');
    for (const bad of ['12345678A', '', 'hello', undefined, 42])
      assert.throws(() => citizenIdentifier(bad), { code: 'CITIZEN_IDENTIFIER_INVALID' });
  });

  it('the provider settings are checked at start', () => {
    const base = { LLIGALL_ENV: 'demo', LLIGALL_DATA_DIR: env.dataDir };
    assert.equal(loadConfig(base).oidcIdentifierClaim, 'identifier');
    const ok = loadConfig({
      ...base,
      LLIGALL_OIDC_ISSUER: 'https://idp.example',
      LLIGALL_OIDC_CLIENT_ID: 'x',
    });
    assert.equal(ok.oidcIssuer, 'https://idp.example');
    assert.throws(
      () => loadConfig({ ...base, LLIGALL_OIDC_ISSUER: 'http://idp.example', LLIGALL_OIDC_CLIENT_ID: 'x' }),
      (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.includes('https')),
    );
    assert.throws(
      () => loadConfig({ ...base, LLIGALL_OIDC_ISSUER: 'https://idp.example' }),
      (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.includes('CLIENT_ID')),
    );
    assert.equal(
      loadConfig({ ...base, LLIGALL_OIDC_ISSUER: 'http://127.0.0.1:9/x', LLIGALL_OIDC_CLIENT_ID: 'x' })
        .oidcIssuer,
      'http://127.0.0.1:9/x',
    );
  });

  it('in production there is no demo provider, and login without a configured provider is 503', async () => {
    const prod = await buildServer(
      { ...env, config: { ...env.config, env: 'production' } },
      { logger: false },
    );
    try {
      const idp = await prod.inject({ method: 'GET', url: '/idp/.well-known/openid-configuration' });
      assert.equal(idp.statusCode, 404);
      const page = await prod.inject({ method: 'GET', url: '/idp/interaction/abc' });
      assert.equal(page.statusCode, 404);
      const login = await prod.inject({ method: 'GET', url: `/api/v1/seu/${tenant.slug}/login` });
      assert.equal(login.statusCode, 503);
      assert.equal(login.json().code, 'OIDC_NOT_CONFIGURED');
    } finally {
      await prod.close();
    }
  });
});
