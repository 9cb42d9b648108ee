import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { nifCheckLetter } from '#modules/parties/identifiers.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  loginHeaders,
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  type TestEnv,
  tokenHeaders,
} from '#test/helpers/harness.ts';

let env: TestEnv;
let app: FastifyInstance;
let a: Tenant;
let b: Tenant;
/** A case handler of A, by session cookie. */
let handlerA: Record<string, string>;
/** A viewer of A, by API token. */
let viewerA: Record<string, string>;
/** An administrator of A (TOTP enrolled), by session cookie. */
let adminA: Record<string, string>;
/** A registry clerk of B, by API token. */
let registrarB: Record<string, string>;
let urlA: string;
let urlB: string;

before(async () => {
  env = await openTestEnv();
  app = await makeServer(env);
  a = await makeTenant(env);
  b = await makeTenant(env);
  handlerA = await loginHeaders(app, env, await makeUser(env, { tenant: a, roles: ['handler'] }));
  viewerA = await tokenHeaders(env, await makeUser(env, { tenant: a, roles: ['viewer'] }));
  adminA = await loginHeaders(app, env, await makeUser(env, { tenant: a, roles: ['admin'], totp: true }));
  registrarB = await tokenHeaders(env, await makeUser(env, { tenant: b, roles: ['registrar'] }));
  urlA = `/api/v1/entities/${a.slug}/parties`;
  urlB = `/api/v1/entities/${b.dir3}/parties`;
});
after(async () => {
  await app.close();
  await env.close();
});

let serial = 30_000_000;
function nextNif(): string {
  serial += 104_729;
  const digits = String(serial).padStart(8, '0');
  return digits + nifCheckLetter(digits);
}

async function count(tenant: Tenant): Promise<number> {
  const r = await env.db.owner((tx) =>
    tx
      .selectFrom('parties')
      .where('tenant_id', '=', tenant.id)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
  );
  return Number(r.n);
}

async function auditCount(tenant: Tenant): Promise<number> {
  const r = await env.db.owner((tx) =>
    tx
      .selectFrom('audit_events')
      .where('tenant_id', '=', tenant.id)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
  );
  return Number(r.n);
}

type Res = { statusCode: number; headers: Record<string, unknown>; json(): Record<string, unknown> };
function assertProblem(res: Res, status: number, code: string): void {
  assert.equal(res.statusCode, status, JSON.stringify(res.json()));
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  assert.equal(res.json().code, code);
}

const post = (url: string, headers: Record<string, string>, payload: unknown) =>
  app.inject({ method: 'POST', url, headers, payload: payload as object });
const patch = (url: string, headers: Record<string, string>, payload: unknown) =>
  app.inject({ method: 'PATCH', url, headers, payload: payload as object });
const get = (url: string, headers: Record<string, string>) => app.inject({ method: 'GET', url, headers });

const VIEW_KEYS = [
  'address',
  'createdAt',
  'eNotification',
  'eNotificationChosenAt',
  'eNotificationEvidence',
  'email',
  'id',
  'identifier',
  'identifierType',
  'kind',
  'language',
  'name',
  'phone',
  'preferredChannel',
  'residenceIne',
  'surname1',
  'surname2',
  'updatedAt',
];

describe('parties over HTTP', () => {
  it('creates, gets, lists and updates a party', async () => {
    const nif = nextNif();
    const created = await post(urlA, handlerA, {
      identifier: `${nif.slice(0, 8)}-${nif[8]}`,
      name: 'Marta',
      surname1: 'Farré',
      email: 'marta@example.cat',
      address: { street: 'Plaça de la Paeria, 1', postalCode: '25007', municipality: 'Lleida' },
      residenceIne: '25120',
      language: 'ca',
    });
    assert.equal(created.statusCode, 201, created.body);
    const p = created.json();
    assert.deepEqual(Object.keys(p).sort(), VIEW_KEYS, 'the response is the mapped view, not the row');
    assert.equal(p.identifier, nif);
    assert.equal(p.identifierType, 'nif');
    assert.equal(p.kind, 'person');

    const fetched = await get(`${urlA}/${p.id}`, viewerA);
    assert.equal(fetched.statusCode, 200, fetched.body);
    assert.deepEqual(fetched.json(), p);

    const listed = await get(`${urlA}?q=${encodeURIComponent('farre marta')}`, viewerA);
    assert.equal(listed.statusCode, 200, listed.body);
    assert.deepEqual(
      listed.json().items.map((x: { id: string }) => x.id),
      [p.id],
    );
    assert.equal(listed.json().total, 1);
    const byIdentifier = await get(`${urlA}?identifier=${nif.toLowerCase()}&page=1&pageSize=5`, viewerA);
    assert.equal(byIdentifier.statusCode, 200, byIdentifier.body);
    assert.deepEqual(
      [byIdentifier.json().total, byIdentifier.json().page, byIdentifier.json().pageSize],
      [1, 1, 5],
    );

    const changed = await patch(`${urlA}/${p.id}`, handlerA, {
      email: null,
      eNotification: 'chosen',
      eNotificationEvidence: 'Sol·licitud presencial a l’OAMR',
    });
    assert.equal(changed.statusCode, 200, changed.body);
    const u = changed.json();
    assert.equal(u.email, null);
    assert.equal(u.eNotification, 'chosen');
    assert.equal(u.preferredChannel, 'electronic');
    assert.equal(u.eNotificationChosenAt, env.clock.now().toISOString());
    assert.equal(u.surname1, 'Farré');
  });

  it('an administrator may register an organisation, compulsorily notified electronically', async () => {
    const res = await post(urlA, adminA, { identifier: 'b-64717838', name: 'Construccions Segrià SL' });
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual(
      [res.json().kind, res.json().eNotification, res.json().preferredChannel],
      ['organisation', 'compulsory', 'electronic'],
    );
  });

  it('an invalid NIF answers 422 INVALID_IDENTIFIER and adds nothing', async () => {
    const rows = await count(a);
    const events = await auditCount(a);
    const res = await post(urlA, handlerA, { identifier: '12345678A', name: 'Pere' });
    assertProblem(res, 422, 'INVALID_IDENTIFIER');
    assert.equal(res.json().reason, 'check_letter');
    assert.match(String(res.json().detail), /check letter/);
    assertProblem(
      await post(urlA, handlerA, { identifier: '1234567Z', name: 'Pere' }),
      422,
      'INVALID_IDENTIFIER',
    );
    assert.equal(await count(a), rows);
    assert.equal(await auditCount(a), events);
  });

  it('a duplicate identifier answers 409 PARTY_IDENTIFIER_TAKEN', async () => {
    const nif = nextNif();
    const first = await post(urlA, handlerA, { identifier: nif, name: 'Joan' });
    assert.equal(first.statusCode, 201, first.body);
    const rows = await count(a);
    const dup = await post(urlA, handlerA, { identifier: ` ${nif.toLowerCase()} `, name: 'Joan bis' });
    assertProblem(dup, 409, 'PARTY_IDENTIFIER_TAKEN');
    assert.equal(await count(a), rows);
    const other = await post(urlA, handlerA, { identifier: nextNif(), name: 'Laia' });
    assertProblem(
      await patch(`${urlA}/${other.json().id}`, handlerA, { identifier: nif }),
      409,
      'PARTY_IDENTIFIER_TAKEN',
    );
  });

  it('an unknown field answers 400 VALIDATION_FAILED and adds or changes nothing', async () => {
    const rows = await count(a);
    assertProblem(
      await post(urlA, handlerA, { identifier: nextNif(), name: 'Pau', nickname: 'Pauet' }),
      400,
      'VALIDATION_FAILED',
    );
    assertProblem(
      await post(urlA, handlerA, {
        identifier: nextNif(),
        name: 'Pau',
        address: { street: 'Major 1', floor: '2n' },
      }),
      400,
      'VALIDATION_FAILED',
    );
    assertProblem(
      await post(urlA, handlerA, { identifier: nextNif(), name: 'Pau', email: 'not-an-email' }),
      400,
      'VALIDATION_FAILED',
    );
    assertProblem(
      await post(urlA, handlerA, { identifier: nextNif(), name: 'Pau', tenant_id: b.id }),
      400,
      'VALIDATION_FAILED',
    );
    assert.equal(await count(a), rows);

    const p = (await post(urlA, handlerA, { identifier: nextNif(), name: 'Pau' })).json();
    assertProblem(
      await patch(`${urlA}/${p.id}`, handlerA, { name: 'Pau', nickname: 'Pauet' }),
      400,
      'VALIDATION_FAILED',
    );
    assertProblem(await patch(`${urlA}/${p.id}`, handlerA, {}), 400, 'VALIDATION_FAILED');
    assert.equal((await get(`${urlA}/${p.id}`, handlerA)).json().name, 'Pau');
    assertProblem(await get(`${urlA}?sort=name`, handlerA), 400, 'VALIDATION_FAILED');
    assertProblem(await get(`${urlA}?pageSize=1000`, handlerA), 400, 'VALIDATION_FAILED');
  });

  it('a malformed or unknown id answers 404 PARTY_NOT_FOUND', async () => {
    assertProblem(await get(`${urlA}/not-a-uuid`, handlerA), 404, 'PARTY_NOT_FOUND');
    assertProblem(await patch(`${urlA}/not-a-uuid`, handlerA, { name: 'X' }), 404, 'PARTY_NOT_FOUND');
    assertProblem(await patch(`${urlA}/not-a-uuid`, handlerA, { bogus: 1 }), 404, 'PARTY_NOT_FOUND');
    assertProblem(
      await get(`${urlA}/0190f5b4-7c1e-7000-8000-000000000000`, handlerA),
      404,
      'PARTY_NOT_FOUND',
    );
    // the caller is still authenticated first
    const anonymous = await app.inject({ method: 'GET', url: `${urlA}/not-a-uuid` });
    assertProblem(anonymous, 401, 'UNAUTHENTICATED');
  });

  it('a viewer may read but not create (403 FORBIDDEN) or change', async () => {
    const rows = await count(a);
    assertProblem(await post(urlA, viewerA, { identifier: nextNif(), name: 'Roser' }), 403, 'FORBIDDEN');
    assert.equal(await count(a), rows);
    const p = (await post(urlA, handlerA, { identifier: nextNif(), name: 'Roser' })).json();
    assertProblem(await patch(`${urlA}/${p.id}`, viewerA, { name: 'Rosa' }), 403, 'FORBIDDEN');
    assert.equal((await get(`${urlA}/${p.id}`, viewerA)).json().name, 'Roser');
    assert.equal((await get(urlA, viewerA)).statusCode, 200);
  });
});

describe('parties across entities', () => {
  let ofB: Record<string, unknown>;

  before(async () => {
    const res = await post(urlB, registrarB, { identifier: nextNif(), name: 'Secret', surname1: 'DeBé' });
    assert.equal(res.statusCode, 201, res.body);
    ofB = res.json();
  });

  it("a user of A gets 404 PARTY_NOT_FOUND for B's party on GET and PATCH, and B's party is unchanged", async () => {
    assertProblem(await get(`${urlA}/${ofB.id}`, handlerA), 404, 'PARTY_NOT_FOUND');
    assertProblem(await get(`${urlA}/${ofB.id}`, viewerA), 404, 'PARTY_NOT_FOUND');
    assertProblem(await patch(`${urlA}/${ofB.id}`, handlerA, { name: 'Hijacked' }), 404, 'PARTY_NOT_FOUND');
    assertProblem(await patch(`${urlA}/${ofB.id}`, adminA, { name: 'Hijacked' }), 404, 'PARTY_NOT_FOUND');
    const still = await get(`${urlB}/${ofB.id}`, registrarB);
    assert.equal(still.statusCode, 200);
    assert.deepEqual(still.json(), ofB);
  });

  it("B's parties never appear in A's list, whatever the query", async () => {
    for (const query of [
      '',
      '?q=secret',
      `?q=${ofB.identifier}`,
      `?identifier=${ofB.identifier}`,
      '?pageSize=100',
    ]) {
      const res = await get(`${urlA}${query}`, handlerA);
      assert.equal(res.statusCode, 200, res.body);
      const ids = res.json().items.map((x: { id: string }) => x.id);
      assert.ok(!ids.includes(ofB.id), `B's party listed in A for "${query}"`);
    }
    const inB = await get(`${urlB}?q=secret`, registrarB);
    assert.deepEqual(
      inB.json().items.map((x: { id: string }) => x.id),
      [ofB.id],
    );
  });

  it("A's users cannot reach B's register through B's URL either", async () => {
    assertProblem(await get(urlB, handlerA), 404, 'ENTITY_NOT_FOUND');
    assertProblem(await get(`${urlB}/${ofB.id}`, handlerA), 404, 'ENTITY_NOT_FOUND');
    assertProblem(
      await post(urlB, handlerA, { identifier: nextNif(), name: 'Intrús' }),
      404,
      'ENTITY_NOT_FOUND',
    );
  });
});

describe('OpenAPI', () => {
  it('documents the parties routes under the parties tag', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const paths = doc.paths as Record<string, Record<string, { tags?: string[] }>>;
    assert.deepEqual(Object.keys(paths['/api/v1/entities/{entity}/parties'] ?? {}).sort(), ['get', 'post']);
    assert.deepEqual(Object.keys(paths['/api/v1/entities/{entity}/parties/{id}'] ?? {}).sort(), [
      'get',
      'patch',
    ]);
    assert.deepEqual(paths['/api/v1/entities/{entity}/parties']!.post!.tags, ['parties']);
  });
});
