/**
 * The seu electrònica's public API (issue 5, item 3): what an entity's seu publishes without a
 * login — identity, languages (Aranese first in the Val d'Aran), the official time from the
 * server's clock, the calendar of non-business days, seals, the generic request's term and
 * silence — and the administrator's settings (audited; refused for a handler; strict schema).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { noRequest, systemActor } from '#platform/context.ts';
import { ensureEntitySeal } from '#modules/seals/seals.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { type CreateTenantInput, createTenant } from '#modules/tenancy/tenancy.service.ts';
import {
  loginHeaders,
  makeServer,
  makeUser,
  openTestEnv,
  TestClock,
  type TestEnv,
} from '#test/helpers/harness.ts';

let env: TestEnv;
let app: FastifyInstance;
let abella: Tenant;
let arres: Tenant;
let suspended: Tenant;
let listed: Tenant;
let pilot: Tenant;
let admin: Record<string, string>;
let handler: Record<string, string>;
let adminArres: Record<string, string>;

const SETTINGS = {
  contact: {
    address: 'Plaça Major, 1',
    postalCode: '25651',
    town: 'Abella de la Conca',
    phone: '973 68 00 00',
    email: 'ajuntament@abella.example',
    web: null,
  },
  creationAct: {
    reference: "Decret d'Alcaldia 2026/000012",
    date: '2026-01-15',
    url: 'https://example.org/dogc/1',
  },
  genericRequest: {
    maxTermMonths: 2,
    termBasis: 'Ordenança 3/2026',
    silence: 'dismissive',
    silenceBasis: 'Llei 39/2015, art. 24.1',
  },
  accessibility: {
    status: 'partial',
    statementDate: '2026-02-01',
    reviewedOn: null,
    nonAccessibleContent: 'Alguns PDF antics no estan etiquetats.',
    complaintsEmail: 'accessibilitat@abella.example',
    complaintsPhone: null,
    complaintsUrl: null,
  },
  privacy: {
    dpoName: 'Delegat de protecció de dades de la Diputació',
    dpoEmail: 'dpd@abella.example',
    purposes: ['Tramitar les sol·licituds i els expedients'],
    legalBasis: 'RGPD art. 6.1.e',
    retention: null,
    rightsChannel: 'Per la seu electrònica o al registre de l’Ajuntament',
  },
};

async function tenant(input: CreateTenantInput): Promise<Tenant> {
  return env.db.platform((tx) =>
    createTenant(tx, { actor: systemActor, request: noRequest, clock: env.clock }, input),
  );
}

before(async () => {
  env = await openTestEnv({ clock: new TestClock('2026-03-02T09:00:00Z') });
  app = await makeServer(env);
  abella = await tenant({
    kind: 'ajuntament',
    name: 'Ajuntament d’Abella de la Conca',
    dir3: 'L01250019',
    ine: '25001',
    comarca: 'Pallars Jussà',
    status: 'live',
  });
  arres = await tenant({
    kind: 'ajuntament',
    name: 'Ajuntament d’Arres',
    dir3: 'L01250313',
    ine: '25031',
    comarca: 'Aran',
    language: 'oc-aranes',
    status: 'live',
  });
  suspended = await tenant({
    kind: 'ajuntament',
    name: 'Ens Suspès',
    dir3: 'L01999991',
    status: 'suspended',
  });
  listed = await tenant({ kind: 'ajuntament', name: 'Ens Llistat', dir3: 'L01999992', status: 'listed' });
  pilot = await tenant({ kind: 'ajuntament', name: 'Ens en Pilot', dir3: 'L01999993', status: 'pilot' });
  await ensureEntitySeal(env, abella.id);
});

after(async () => {
  await app?.close();
  await env?.close();
});

const get = (url: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url, headers });

describe('the public seu', () => {
  it('publishes identity, languages, the official time from the server’s clock, seals and the generic request with its legal default', async () => {
    env.clock.set('2026-03-02T09:00:00Z');
    const res = await get(`/api/v1/seu/${abella.slug}`);
    assert.equal(res.statusCode, 200, res.body);
    const b = res.json();
    assert.equal(b.entity.name, 'Ajuntament d’Abella de la Conca');
    assert.equal(b.entity.dir3, 'L01250019');
    assert.equal(b.entity.ine, '25001');
    assert.equal(b.entity.kind, 'ajuntament');
    assert.deepEqual(b.languages, ['ca', 'es']);
    assert.equal(b.officialTime.now, '2026-03-02T10:00:00+01:00');
    assert.equal(b.officialTime.date, '2026-03-02');
    assert.equal(b.officialTime.epochMs, Date.parse('2026-03-02T09:00:00Z'));
    // Nothing entered yet: said so (null), never invented.
    assert.equal(b.creationAct, null);
    assert.equal(b.accessibility, null);
    assert.equal(b.privacy, null);
    assert.deepEqual(b.procedures, [
      {
        code: 'generic_request',
        online: true,
        maxTermMonths: 3,
        termBasis: 'Llei 39/2015, art. 21.3',
        silence: 'estimatory',
        silenceBasis: 'Llei 39/2015, art. 24.1',
        legalDefault: true,
      },
    ]);
    assert.equal(b.seals.length, 1);
    assert.equal(b.seals[0].active, true);
    assert.equal(b.seals[0].qualified, false);
    assert.match(b.seals[0].subject, /Abella/);
    assert.ok(!('certificatePem' in b.seals[0]) && !('id' in b.seals[0]));
    assert.deepEqual(b.resolutions, []);
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  it('gives the time from the server’s clock, with the summer offset after the change', async () => {
    env.clock.set('2026-07-10T21:59:30Z');
    const res = await get(`/api/v1/seu/${abella.slug}/time`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      now: '2026-07-10T23:59:30+02:00',
      epochMs: Date.parse('2026-07-10T21:59:30Z'),
      date: '2026-07-10',
      timeZone: 'Europe/Madrid',
    });
    env.clock.set('2026-07-10T22:00:00Z');
    assert.equal((await get(`/api/v1/seu/${abella.slug}/time`)).json().date, '2026-07-11');
  });

  it('puts Aranese first for a Val d’Aran entity', async () => {
    const res = await get(`/api/v1/seu/${arres.slug}`);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().languages, ['oc', 'ca', 'es']);
  });

  it('lists the year’s non-business days with their names: national, Catalan and local', async () => {
    const res = await get(`/api/v1/seu/${abella.slug}/calendar/2026`);
    assert.equal(res.statusCode, 200, res.body);
    const b = res.json();
    assert.equal(b.year, 2026);
    const byDate = new Map<string, { name: string; scope: string }[]>(
      b.days.map((d: { date: string; holidays: { name: string; scope: string }[] }) => [d.date, d.holidays]),
    );
    assert.ok(byDate.get('2026-01-01')?.some((h) => h.scope === 'national'));
    assert.ok(byDate.get('2026-09-11')?.some((h) => h.scope === 'catalonia'));
    assert.ok([...byDate.values()].flat().some((h) => h.scope === 'local'));
    // Who corrected the calendar is not published.
    assert.ok(!('corrections' in b) && !('declaration' in b));
  });

  it('shows the Val d’Aran’s local days for Arres', async () => {
    const b = (await get(`/api/v1/seu/${arres.slug}/calendar/2026`)).json();
    const local = b.days.filter((d: { holidays: { scope: string }[] }) =>
      d.holidays.some((h) => h.scope === 'local'),
    );
    assert.deepEqual(
      local.map((d: { date: string }) => d.date),
      ['2026-01-20', '2026-08-29'],
    );
  });

  it('is 404 for an unknown, a suspended or a not yet live entity (a pilot entity works in Lligall, its seu is not open yet)', async () => {
    for (const slug of ['no-such-entity', suspended.slug, listed.slug, pilot.slug]) {
      for (const path of ['', '/time', '/calendar/2026']) {
        const res = await get(`/api/v1/seu/${slug}${path}`);
        assert.equal(res.statusCode, 404, `${slug}${path}`);
        assert.equal(res.json().code, 'ENTITY_NOT_FOUND');
      }
    }
  });

  it('refuses a malformed year', async () => {
    const res = await get(`/api/v1/seu/${abella.slug}/calendar/20x6`);
    assert.equal(res.statusCode, 400);
  });
});

describe('the administrator’s seu settings', () => {
  before(async () => {
    // Sessions follow the clock: log in after the public tests have moved it.
    env.clock.set('2026-03-03T08:00:00Z');
    admin = await loginHeaders(
      app,
      env,
      await makeUser(env, { tenant: abella, roles: ['admin'], totp: true }),
    );
    handler = await loginHeaders(app, env, await makeUser(env, { tenant: abella, roles: ['handler'] }));
    adminArres = await loginHeaders(
      app,
      env,
      await makeUser(env, { tenant: arres, roles: ['admin'], totp: true }),
    );
  });

  it('an administrator sets what the seu publishes; it is audited and published', async () => {
    const put = await app.inject({
      method: 'PUT',
      url: `/api/v1/entities/${abella.slug}/seu-settings`,
      headers: admin,
      payload: SETTINGS,
    });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(put.json().updatedAt, env.clock.now().toISOString());
    const b = (await get(`/api/v1/seu/${abella.slug}`)).json();
    assert.deepEqual(b.creationAct, SETTINGS.creationAct);
    assert.deepEqual(b.entity.contact, SETTINGS.contact);
    assert.deepEqual(b.accessibility, SETTINGS.accessibility);
    assert.deepEqual(b.privacy, {
      ...SETTINGS.privacy,
      controller: { name: 'Ajuntament d’Abella de la Conca', dir3: 'L01250019', contact: SETTINGS.contact },
    });
    assert.deepEqual(b.procedures[0], {
      code: 'generic_request',
      online: true,
      maxTermMonths: 2,
      termBasis: 'Ordenança 3/2026',
      silence: 'dismissive',
      silenceBasis: 'Llei 39/2015, art. 24.1',
      legalDefault: false,
    });
    const events = await env.db.tenant(abella.id, (tx) =>
      tx
        .selectFrom('audit_events')
        .select(['action', 'details'])
        .where('action', '=', 'seu.settings.update')
        .execute(),
    );
    assert.equal(events.length, 1);
    const details = events[0]!.details as { changed: string[] };
    assert.deepEqual(details.changed.sort(), [
      'accessibility',
      'contact',
      'creationAct',
      'genericRequest',
      'privacy',
    ]);
    // The administrator reads back what was entered.
    const back = await get(`/api/v1/entities/${abella.slug}/seu-settings`, admin);
    assert.equal(back.statusCode, 200);
    assert.deepEqual(back.json().creationAct, SETTINGS.creationAct);
    // Another entity's seu is untouched.
    assert.equal((await get(`/api/v1/seu/${arres.slug}`)).json().creationAct, null);
  });

  it('refuses a handler (403), a stranger (404) and anonymous callers (401), and changes nothing', async () => {
    const h = await app.inject({
      method: 'PUT',
      url: `/api/v1/entities/${abella.slug}/seu-settings`,
      headers: handler,
      payload: { ...SETTINGS, creationAct: null },
    });
    assert.equal(h.statusCode, 403);
    assert.equal(h.json().code, 'FORBIDDEN');
    assert.equal((await get(`/api/v1/entities/${abella.slug}/seu-settings`, handler)).statusCode, 403);
    const other = await app.inject({
      method: 'PUT',
      url: `/api/v1/entities/${abella.slug}/seu-settings`,
      headers: adminArres,
      payload: SETTINGS,
    });
    assert.equal(other.statusCode, 404);
    const anon = await app.inject({
      method: 'PUT',
      url: `/api/v1/entities/${abella.slug}/seu-settings`,
      payload: SETTINGS,
    });
    assert.equal(anon.statusCode, 401);
    assert.deepEqual((await get(`/api/v1/seu/${abella.slug}`)).json().creationAct, SETTINGS.creationAct);
    assert.equal((await get(`/api/v1/seu/${arres.slug}`)).json().creationAct, null);
  });

  it('refuses unknown fields, a term over six months and a malformed date (400), storing nothing', async () => {
    const bad = [
      { ...SETTINGS, extra: true },
      { ...SETTINGS, genericRequest: { ...SETTINGS.genericRequest, maxTermMonths: 7 } },
      { ...SETTINGS, genericRequest: { ...SETTINGS.genericRequest, silence: 'maybe' } },
      { ...SETTINGS, creationAct: { ...SETTINGS.creationAct, date: '15/01/2026' } },
      { ...SETTINGS, privacy: { ...SETTINGS.privacy, purposes: [] } },
      { ...SETTINGS, accessibility: { ...SETTINGS.accessibility, complaintsEmail: 'not an e-mail' } },
      { ...SETTINGS, creationAct: { ...SETTINGS.creationAct, url: 'javascript:alert(1)' } },
    ];
    for (const payload of bad) {
      const res = await app.inject({
        method: 'PUT',
        url: `/api/v1/entities/${abella.slug}/seu-settings`,
        headers: admin,
        payload,
      });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.equal(res.json().code, 'VALIDATION_FAILED');
    }
    const b = (await get(`/api/v1/seu/${abella.slug}`)).json();
    assert.equal(b.procedures[0].maxTermMonths, 2);
    assert.deepEqual(b.creationAct, SETTINGS.creationAct);
  });
});
