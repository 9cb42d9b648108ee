import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { PLATFORM_TABLES } from '#platform/db/schema.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  backend,
  loginHeaders,
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  type TestEnv,
  tokenHeaders,
} from '#test/helpers/harness.ts';
import { multipart } from '#test/helpers/multipart.ts';

let env: TestEnv;
let app: FastifyInstance;
let a: Tenant;
let b: Tenant;
let userA: Record<string, string>;
let tokenA: Record<string, string>;
const idsB: { expedient: string; document: string; party: string } = {
  expedient: '',
  document: '',
  party: '',
};

before(async () => {
  env = await openTestEnv();
  app = await makeServer(env);
  a = await makeTenant(env);
  b = await makeTenant(env);
  const ua = await makeUser(env, { tenant: a, roles: ['admin', 'handler'], totp: true });
  userA = await loginHeaders(app, env, ua);
  tokenA = await tokenHeaders(env, ua);
  const userB = await loginHeaders(app, env, await makeUser(env, { tenant: b, roles: ['handler'] }));
  const party = await app.inject({
    method: 'POST',
    url: `/api/v1/entities/${b.slug}/parties`,
    headers: userB,
    payload: { identifier: '12345678Z', name: 'Maria', surname1: 'Puig' },
  });
  assert.equal(party.statusCode, 201, party.body);
  idsB.party = party.json().id;
  const exp = await app.inject({
    method: 'POST',
    url: `/api/v1/entities/${b.slug}/expedients`,
    headers: userB,
    payload: { title: 'De B', parties: [{ partyId: idsB.party, role: 'applicant' }] },
  });
  assert.equal(exp.statusCode, 201, exp.body);
  idsB.expedient = exp.json().id;
  const form = multipart(
    { title: 'Doc de B' },
    { name: 'b.txt', type: 'text/plain', data: Buffer.from('secret of B') },
  );
  const doc = await app.inject({
    method: 'POST',
    url: `/api/v1/entities/${b.slug}/expedients/${idsB.expedient}/documents`,
    headers: { ...userB, ...form.headers },
    payload: form.body,
  });
  assert.equal(doc.statusCode, 201, doc.body);
  idsB.document = doc.json().id;
});
after(async () => {
  await app.close();
  await env.close();
});

describe('tenant isolation', () => {
  it('every table has row-level security enabled and forced, or is on the platform allowlist', async () => {
    const r = await env.db.owner((tx) =>
      sql<{ relname: string; rls: boolean; forced: boolean; has_tenant: boolean }>`
        select c.relname, c.relrowsecurity as rls, c.relforcerowsecurity as forced,
               exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped) as has_tenant
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p')`.execute(tx),
    );
    assert.ok(r.rows.length >= 10);
    const allow = new Set<string>(PLATFORM_TABLES);
    const offenders = r.rows
      .filter((t) => !allow.has(t.relname) && !(t.rls && t.forced && t.has_tenant))
      .map((t) => t.relname);
    assert.deepEqual(offenders, []);
  });

  it('the application role is NOSUPERUSER NOBYPASSRLS and is who tenant transactions run as', async () => {
    const role = env.config.dbAppRole;
    const r = await env.db.owner((tx) =>
      sql<{
        rolsuper: boolean;
        rolbypassrls: boolean;
      }>`select rolsuper, rolbypassrls from pg_roles where rolname = ${role}`.execute(tx),
    );
    assert.deepEqual(r.rows[0], { rolsuper: false, rolbypassrls: false });
    const who = await env.db.tenant(a.id, (tx) => sql<{ u: string }>`select current_user as u`.execute(tx));
    assert.equal(who.rows[0]!.u, role);
    if (backend() === 'postgres') {
      const session = await env.db.platform((tx) => sql<{ u: string }>`select session_user as u`.execute(tx));
      assert.equal(
        session.rows[0]!.u,
        role,
        'on PostgreSQL the server connects as the application role itself',
      );
    }
  });

  it('SQL as the application role with app.tenant = A sees no row of B and cannot write one', async () => {
    for (const table of [
      'expedients',
      'documents',
      'parties',
      'index_entries',
      'expedient_parties',
      'audit_events',
      'counters',
    ] as const) {
      const rows = await env.db.tenant(a.id, (tx) =>
        sql<{ n: string }>`select count(*) as n from ${sql.table(table)} where tenant_id = ${b.id}`.execute(
          tx,
        ),
      );
      assert.equal(Number(rows.rows[0]!.n), 0, table);
      const mine = await env.db.tenant(b.id, (tx) =>
        sql<{ n: string }>`select count(*) as n from ${sql.table(table)}`.execute(tx),
      );
      if (table !== 'counters') assert.ok(Number(mine.rows[0]!.n) > 0, `B has rows in ${table}`);
    }
    await assert.rejects(
      env.db.tenant(a.id, (tx) =>
        sql`insert into units (tenant_id, id, name, kind, created_at) values (${b.id}, ${'0193a000-0000-7000-8000-00000000abcd'}, 'x', 'unit', now())`.execute(
          tx,
        ),
      ),
      /row-level security/,
    );
    const upd = await env.db.tenant(a.id, (tx) =>
      sql`update expedients set title = 'hacked' where tenant_id = ${b.id}`.execute(tx),
    );
    assert.equal(Number(upd.numAffectedRows ?? 0), 0);
  });

  it("a user of A gets 404 for every id of B, route by route, and never B's data", async () => {
    const routes: [string, string, unknown?][] = [
      ['GET', `/expedients/${idsB.expedient}`],
      ['GET', `/expedients/${idsB.expedient}/index`],
      ['GET', `/expedients/${idsB.expedient}/audit`],
      ['GET', `/expedients/${idsB.expedient}/registry-entries`],
      ['POST', `/expedients/${idsB.expedient}/close`],
      ['POST', `/expedients/${idsB.expedient}/reopen`, { reason: 'por qué no' }],
      ['POST', `/expedients/${idsB.expedient}/parties`, { partyId: idsB.party, role: 'interested' }],
      ['POST', `/expedients/${idsB.expedient}/access`, { userId: '0193a000-0000-7000-8000-000000000001' }],
      ['GET', `/documents/${idsB.document}`],
      ['GET', `/documents/${idsB.document}/content`],
      ['PUT', `/documents/${idsB.document}`, {}],
      ['DELETE', `/documents/${idsB.document}`],
      ['GET', `/parties/${idsB.party}`],
      ['PATCH', `/parties/${idsB.party}`, { name: 'x' }],
    ];
    for (const headers of [userA, tokenA]) {
      for (const [method, path, payload] of routes) {
        // Under A's own path: the id does not exist there.
        const own = await app.inject({
          method: method as 'GET',
          url: `/api/v1/entities/${a.slug}${path}`,
          headers,
          ...(payload ? { payload: payload as object } : {}),
        });
        assert.equal(own.statusCode, 404, `${method} ${path} under A: ${own.body}`);
        assert.doesNotMatch(own.body, /secret of B|De B|Puig/);
        // Under B's path: A's user is not a member of B.
        const other = await app.inject({
          method: method as 'GET',
          url: `/api/v1/entities/${b.slug}${path}`,
          headers,
          ...(payload ? { payload: payload as object } : {}),
        });
        assert.equal(other.statusCode, 404, `${method} ${path} under B: ${other.body}`);
        assert.equal(other.json().code, 'ENTITY_NOT_FOUND');
      }
    }
    const upload = multipart({}, { name: 'x.txt', type: 'text/plain', data: Buffer.from('x') });
    const up = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${a.slug}/expedients/${idsB.expedient}/documents`,
      headers: { ...userA, ...upload.headers },
      payload: upload.body,
    });
    assert.equal(up.statusCode, 404);
    const withParty = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${a.slug}/expedients`,
      headers: userA,
      payload: { title: 'x', parties: [{ partyId: idsB.party, role: 'applicant' }] },
    });
    assert.equal(withParty.statusCode, 404);
    assert.equal(withParty.json().code, 'PARTY_NOT_FOUND');
    const list = await app.inject({
      method: 'GET',
      url: `/api/v1/entities/${a.slug}/expedients?party=12345678Z`,
      headers: userA,
    });
    assert.equal(list.json().total, 0);
    const entities = await app.inject({ method: 'GET', url: '/api/v1/entities', headers: userA });
    assert.deepEqual(
      entities.json().map((e: { dir3: string }) => e.dir3),
      [a.dir3],
    );
  });
});
