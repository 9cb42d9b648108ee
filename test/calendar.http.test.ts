import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { cliActor, noRequest, systemActor } from '#platform/context.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { applySeed } from '#modules/calendar/calendar.repository.ts';
import { readCalendarSeed } from '#modules/calendar/calendar.seed.ts';
import {
  effectiveRegistryTimeFor,
  municipalityYear,
  setRegionalDay,
  setRegionalYear,
  setLocalDay,
  setLocalYear,
  withdrawLocal,
} from '#modules/calendar/calendar.service.ts';
import { formatMadrid } from '#modules/calendar/civil-date.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { type CreateTenantInput, createTenant } from '#modules/tenancy/tenancy.service.ts';
import {
  loginHeaders,
  makeServer,
  makeUser,
  openTestEnv,
  type TestEnv,
  tokenHeaders,
} from '#test/helpers/harness.ts';

let env: TestEnv;
let app: FastifyInstance;
let lleida: Tenant;
let abella: Tenant;
let boi: Tenant;
let les: Tenant;
let emd: Tenant;
let adminLleida: Record<string, string>;
let handlerLleida: Record<string, string>;
let adminAbella: Record<string, string>;
let adminBoi: Record<string, string>;
let adminEmd: Record<string, string>;
let viewerLes: Record<string, string>;

const sys = () => ({ actor: systemActor, request: noRequest, clock: env.clock });
const operator = () => ({ actor: cliActor, request: noRequest, clock: env.clock });

async function tenant(input: Omit<CreateTenantInput, 'status'>): Promise<Tenant> {
  return env.db.platform((tx) => createTenant(tx, sys(), { ...input, status: 'live' }));
}

before(async () => {
  env = await openTestEnv();
  app = await makeServer(env);
  lleida = await tenant({
    kind: 'ajuntament',
    name: 'Lleida',
    dir3: 'L01251207',
    ine: '25120',
    comarca: 'Segrià',
  });
  abella = await tenant({
    kind: 'ajuntament',
    name: 'Abella de la Conca',
    dir3: 'L01250019',
    ine: '25001',
    comarca: 'Pallars Jussà',
  });
  boi = await tenant({
    kind: 'ajuntament',
    name: 'La Vall de Boí',
    dir3: 'L01250432',
    ine: '25043',
    comarca: 'Alta Ribagorça',
  });
  les = await tenant({ kind: 'ajuntament', name: 'Les', dir3: 'L01251214', ine: '25121', comarca: 'Aran' });
  // An EMD inside Lleida (test data: the shipped data has no list of EMDs nor their DIR3 codes).
  emd = await tenant({ kind: 'emd', name: 'EMD de Prova', dir3: 'L05000901', parentRef: 'L01251207' });
  adminLleida = await loginHeaders(
    app,
    env,
    await makeUser(env, { tenant: lleida, roles: ['admin'], totp: true }),
  );
  handlerLleida = await tokenHeaders(env, await makeUser(env, { tenant: lleida, roles: ['handler'] }));
  adminAbella = await loginHeaders(
    app,
    env,
    await makeUser(env, { tenant: abella, roles: ['admin'], totp: true }),
  );
  adminBoi = await loginHeaders(app, env, await makeUser(env, { tenant: boi, roles: ['admin'], totp: true }));
  adminEmd = await loginHeaders(app, env, await makeUser(env, { tenant: emd, roles: ['admin'], totp: true }));
  viewerLes = await tokenHeaders(env, await makeUser(env, { tenant: les, roles: ['viewer'] }));
});
after(async () => {
  await app.close();
  await env.close();
});

type Res = {
  statusCode: number;
  headers: Record<string, unknown>;
  json(): Record<string, unknown>;
  body: string;
};
function assertProblem(res: Res, status: number, code: string): Record<string, unknown> {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.json();
  assert.equal(body.code, code);
  return body;
}

const get = (url: string, headers: Record<string, string>) => app.inject({ method: 'GET', url, headers });
const deadline = (entity: string, query: string, headers: Record<string, string>) =>
  get(`/api/v1/entities/${entity}/calendar/deadline?${query}`, headers);

async function auditActions(
  tenantId: string,
): Promise<{ action: string; details: Record<string, unknown> }[]> {
  const rows = await env.db.owner((tx) =>
    tx
      .selectFrom('audit_events')
      .select(['action', 'details'])
      .where('tenant_id', '=', tenantId)
      .orderBy('seq')
      .execute(),
  );
  return rows.map((r) => ({ action: r.action, details: r.details as unknown as Record<string, unknown> }));
}

describe('GET /calendar/{year}', () => {
  it('lists 2026’s non-business days of Lleida with names and scopes: Easter, the national and Catalan days and its two local days', async () => {
    const res = await get(`/api/v1/entities/${lleida.dir3}/calendar/2026`, handlerLleida);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as {
      complete: boolean;
      weekendsAreNonBusiness: boolean;
      place: string;
      days: { date: string; weekend: boolean; holidays: { name: string; scope: string }[] }[];
    };
    assert.equal(body.complete, true);
    assert.equal(body.weekendsAreNonBusiness, true);
    assert.equal(body.place, 'Lleida (INE 25120)');
    const byDate = new Map(body.days.map((d) => [d.date, d]));
    assert.deepEqual(byDate.get('2026-04-03')?.holidays, [{ name: 'Viernes Santo', scope: 'national' }]);
    assert.deepEqual(byDate.get('2026-04-06')?.holidays, [{ name: 'Lunes de Pascua', scope: 'catalonia' }]);
    assert.deepEqual(byDate.get('2026-05-11')?.holidays, [{ name: 'Festa local', scope: 'local' }]);
    assert.deepEqual(byDate.get('2026-09-29')?.holidays, [{ name: 'Festa local', scope: 'local' }]);
    assert.equal(
      byDate.get('2026-08-15')?.weekend,
      true,
      'a holiday on a Saturday is listed, marked weekend',
    );
    assert.equal(body.days.length, 14, '12 national and Catalan days and 2 local days');
    assert.ok(!byDate.has('2026-05-25'), 'Abella de la Conca’s local day is not Lleida’s');
  });

  it('a year without data (2027) is 422 CALENDAR_INCOMPLETE naming the year, unless includeIncomplete asks for what is known', async () => {
    const res = await get(`/api/v1/entities/${lleida.slug}/calendar/2027`, handlerLleida);
    const p = assertProblem(res, 422, 'CALENDAR_INCOMPLETE');
    assert.equal(p.year, 2027);
    assert.match(String(p.detail), /2027/);
    const partial = await get(
      `/api/v1/entities/${lleida.slug}/calendar/2027?includeIncomplete=true`,
      handlerLleida,
    );
    assert.equal(partial.statusCode, 200, partial.body);
    assert.equal(partial.json().complete, false);
    assert.equal((partial.json().missing as { layer: string }).layer, 'regional');
  });

  it('a municipality whose 2026 local days were not published (La Vall de Boí) is incomplete; the Val d’Aran (Les) too until its substitution is entered', async () => {
    const boiRes = await get(`/api/v1/entities/${boi.dir3}/calendar/2026?includeIncomplete=true`, adminBoi);
    assert.equal(boiRes.statusCode, 200, boiRes.body);
    assert.equal(boiRes.json().complete, false);
    assert.equal((boiRes.json().missing as { layer: string }).layer, 'local');
    const lesRes = await get(`/api/v1/entities/${les.dir3}/calendar/2026`, viewerLes);
    const p = assertProblem(lesRes, 422, 'CALENDAR_INCOMPLETE');
    assert.equal(p.layer, 'regional');
    assert.match(String(p.detail), /Aran/);
  });
});

describe('GET /calendar/deadline', () => {
  it('art. 30.2/30.3: 5 business days from 1 April 2026 in Lleida end on 10 April, skipping Easter and the weekend', async () => {
    const res = await deadline(lleida.dir3, 'start=2026-04-01&amount=5&unit=business_days', handlerLleida);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as {
      start: string;
      end: string;
      endsAt: string;
      nonBusinessDaysSkipped: { date: string; weekday: string }[];
    };
    assert.equal(body.start, '2026-04-01');
    assert.equal(body.end, '2026-04-10');
    assert.equal(body.endsAt, '2026-04-11T00:00:00+02:00');
    assert.deepEqual(
      body.nonBusinessDaysSkipped.map((d) => `${d.date} ${d.weekday}`),
      ['2026-04-03 Fri', '2026-04-04 Sat', '2026-04-05 Sun', '2026-04-06 Mon'],
    );
  });

  it('art. 30.4/30.5: 31 January + 1 month = 28 February (a Saturday), so 2 March', async () => {
    const res = await deadline(lleida.slug, 'start=2026-01-31&amount=1&unit=months', handlerLleida);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().nominalEnd, '2026-02-28');
    assert.equal(res.json().end, '2026-03-02');
  });

  it('art. 30.6: a party living in La Seu d’Urgell (INE or DIR3) adds its local holiday of 7 July', async () => {
    const alone = await deadline(lleida.dir3, 'start=2026-07-01&amount=5&unit=business_days', handlerLleida);
    assert.equal(alone.json().end, '2026-07-08');
    for (const residence of ['25203', 'L01252038']) {
      const res = await deadline(
        lleida.dir3,
        `start=2026-07-01&amount=5&unit=business_days&residence=${residence}`,
        handlerLleida,
      );
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().end, '2026-07-09');
      assert.deepEqual(res.json().places, ['Lleida (INE 25120)', "La Seu d'Urgell (INE 25203)"]);
    }
  });

  it('art. 30.6: a party living where the local days are not known makes the deadline 422 CALENDAR_INCOMPLETE', async () => {
    const res = await deadline(
      lleida.dir3,
      'start=2026-07-01&amount=5&unit=business_days&residence=25043',
      handlerLleida,
    );
    const p = assertProblem(res, 422, 'CALENDAR_INCOMPLETE');
    assert.equal(p.year, 2026);
    assert.match(String(p.place), /Vall de Bo/);
    const outside = await deadline(
      lleida.dir3,
      'start=2026-07-01&amount=5&unit=business_days&residence=28079',
      handlerLleida,
    );
    assert.match(String(assertProblem(outside, 422, 'CALENDAR_INCOMPLETE').detail), /outside Catalonia/);
  });

  it('refuses bad input: unknown unit, amount 0, impossible date, a DIR3 that is not the municipality’s, unknown parameters', async () => {
    for (const q of [
      'start=2026-04-01&amount=5&unit=hours',
      'start=2026-04-01&amount=0&unit=business_days',
      'start=2026-02-30&amount=1&unit=business_days',
      'start=2026-04-01&amount=1&unit=business_days&residence=L01252030',
      'start=2026-04-01&amount=1&unit=business_days&extra=1',
      'amount=1&unit=business_days',
    ]) {
      assertProblem(await deadline(lleida.dir3, q, handlerLleida), 400, 'VALIDATION_FAILED');
    }
    for (const year of ['0999', '26', 'xxxx']) {
      const res = await get(`/api/v1/entities/${lleida.dir3}/calendar/${year}`, handlerLleida);
      assertProblem(res, 400, 'VALIDATION_FAILED');
    }
  });

  it('a deadline reaching a year without data is 422 CALENDAR_INCOMPLETE', async () => {
    const res = await deadline(lleida.dir3, 'start=2026-12-20&amount=10&unit=business_days', handlerLleida);
    assert.equal(assertProblem(res, 422, 'CALENDAR_INCOMPLETE').year, 2027);
  });
});

describe('another entity’s calendar', () => {
  it('is 404 for a member of another entity, for reading and for changing, and nothing is written', async () => {
    const before = (await auditActions(lleida.id)).length;
    assertProblem(
      await get(`/api/v1/entities/${lleida.dir3}/calendar/2026`, adminAbella),
      404,
      'ENTITY_NOT_FOUND',
    );
    assertProblem(
      await deadline(lleida.dir3, 'start=2026-04-01&amount=5&unit=business_days', adminAbella),
      404,
      'ENTITY_NOT_FOUND',
    );
    const post = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${lleida.dir3}/calendar/days`,
      headers: adminAbella,
      payload: { date: '2026-06-01', name: 'Intrusa', reason: 'cross-tenant attempt' },
    });
    assertProblem(post, 404, 'ENTITY_NOT_FOUND');
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/entities/${lleida.dir3}/calendar/days/2026-05-11`,
      headers: adminAbella,
      payload: { reason: 'cross-tenant attempt' },
    });
    assertProblem(del, 404, 'ENTITY_NOT_FOUND');
    assert.equal((await auditActions(lleida.id)).length, before);
    const rows = await env.db.tenant(abella.id, (tx) =>
      tx.selectFrom('calendar_entity_days').select('tenant_id').where('tenant_id', '=', lleida.id).execute(),
    );
    assert.deepEqual(rows, [], 'row-level security hides another entity’s days');
  });

  it('unauthenticated requests are 401', async () => {
    assertProblem(await get(`/api/v1/entities/${lleida.dir3}/calendar/2026`, {}), 401, 'UNAUTHENTICATED');
  });
});

describe('an administrator’s corrections', () => {
  it('art. 30.2: removing Lleida’s local day of 29 September (with a reason) is audited and changes the deadlines', async () => {
    const q = 'start=2026-09-28&amount=1&unit=business_days';
    assert.equal((await deadline(lleida.dir3, q, handlerLleida)).json().end, '2026-09-30');
    const res = await app.inject({
      method: 'DELETE',
      url: `/api/v1/entities/${lleida.dir3}/calendar/days/2026-09-29`,
      headers: adminLleida,
      payload: { reason: 'Decret d’alcaldia 123/2026: festa traslladada' },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), {
      date: '2026-09-29',
      action: 'remove',
      name: 'Festa local',
      reason: 'Decret d’alcaldia 123/2026: festa traslladada',
    });
    assert.equal((await deadline(lleida.dir3, q, handlerLleida)).json().end, '2026-09-29');
    const events = await auditActions(lleida.id);
    const last = events.at(-1)!;
    assert.equal(last.action, 'calendar.day.remove');
    assert.equal(last.details.reason, 'Decret d’alcaldia 123/2026: festa traslladada');
    assert.equal(last.details.date, '2026-09-29');
  });

  it('art. 30.2: adding a local day is audited, shown in the year with its reason, and skipped by deadlines', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${lleida.dir3}/calendar/days`,
      headers: adminLleida,
      payload: { date: '2026-09-28', name: 'Sant Miquel (trasllat)', reason: 'Decret d’alcaldia 123/2026' },
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal((await auditActions(lleida.id)).at(-1)!.action, 'calendar.day.add');
    const year = await get(`/api/v1/entities/${lleida.dir3}/calendar/2026`, handlerLleida);
    const body = year.json() as {
      days: { date: string; holidays: { scope: string }[] }[];
      corrections: { date: string; action: string; reason: string; by: string }[];
    };
    assert.deepEqual(body.days.find((d) => d.date === '2026-09-28')?.holidays, [
      { name: 'Sant Miquel (trasllat)', scope: 'entity' },
    ]);
    assert.ok(!body.days.some((d) => d.date === '2026-09-29'));
    assert.deepEqual(
      body.corrections.map((c) => [c.date, c.action]),
      [
        ['2026-09-29', 'remove'],
        ['2026-09-28', 'add'],
      ],
    );
    const d = await deadline(lleida.dir3, 'start=2026-09-25&amount=1&unit=business_days', handlerLleida);
    assert.equal(d.json().end, '2026-09-29');
  });

  it('only an administrator may change the calendar, always with a reason; regional days are the operator’s', async () => {
    const post = (headers: Record<string, string>, payload: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: `/api/v1/entities/${lleida.dir3}/calendar/days`, headers, payload });
    assertProblem(
      await post(handlerLleida, { date: '2026-06-01', name: 'X', reason: 'no admin' }),
      403,
      'FORBIDDEN',
    );
    assertProblem(await post(adminLleida, { date: '2026-06-01', name: 'X' }), 400, 'VALIDATION_FAILED');
    assertProblem(
      await post(adminLleida, { date: '2026-06-01', name: 'X', reason: '   ' }),
      400,
      'VALIDATION_FAILED',
    );
    assertProblem(
      await post(adminLleida, { date: '2026-05-11', name: 'X', reason: 'already one' }),
      409,
      'CONFLICT',
    );
    const del = (date: string, payload: Record<string, unknown>) =>
      app.inject({
        method: 'DELETE',
        url: `/api/v1/entities/${lleida.dir3}/calendar/days/${date}`,
        headers: adminLleida,
        payload,
      });
    assertProblem(await del('2026-04-06', { reason: 'not ours' }), 409, 'CONFLICT');
    assertProblem(await del('2026-06-02', { reason: 'an ordinary day' }), 404, 'NOT_FOUND');
    assertProblem(await del('2026-05-11', {}), 400, 'VALIDATION_FAILED');
  });

  it('La Vall de Boí’s administrator enters its two local days and declares 2026 complete: deadlines then work', async () => {
    const q = 'start=2026-03-02&amount=5&unit=business_days';
    assertProblem(await deadline(boi.dir3, q, adminBoi), 422, 'CALENDAR_INCOMPLETE');
    // Test dates: which days La Vall de Boí keeps is data its administrator enters (the DOGC order has none).
    for (const date of ['2026-03-05', '2026-08-10']) {
      const r = await app.inject({
        method: 'POST',
        url: `/api/v1/entities/${boi.dir3}/calendar/days`,
        headers: adminBoi,
        payload: { date, name: 'Festa local', reason: 'Acord del Ple' },
      });
      assert.equal(r.statusCode, 201, r.body);
    }
    assertProblem(await deadline(boi.dir3, q, adminBoi), 422, 'CALENDAR_INCOMPLETE');
    const declare = await app.inject({
      method: 'PUT',
      url: `/api/v1/entities/${boi.dir3}/calendar/2026/completeness`,
      headers: adminBoi,
      payload: { complete: true, reason: 'Acord del Ple: les dues festes locals de 2026' },
    });
    assert.equal(declare.statusCode, 200, declare.body);
    assert.equal((await auditActions(boi.id)).at(-1)!.action, 'calendar.year.declare');
    const res = await deadline(boi.dir3, q, adminBoi);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().end, '2026-03-10');
    assert.equal((await get(`/api/v1/entities/${boi.dir3}/calendar/2026`, adminBoi)).json().complete, true);
  });

  it('an EMD uses its municipality’s local days until it enters its own, which make the year incomplete until declared', async () => {
    const q = 'start=2026-05-08&amount=1&unit=business_days';
    assert.equal((await deadline(emd.dir3, q, adminEmd)).json().end, '2026-05-12', 'Lleida’s 11 May applies');
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${emd.dir3}/calendar/days`,
      headers: adminEmd,
      payload: { date: '2026-06-15', name: 'Festa major del poble', reason: 'Acord de la Junta Veïnal' },
    });
    assert.equal(r.statusCode, 201, r.body);
    assertProblem(await deadline(emd.dir3, q, adminEmd), 422, 'CALENDAR_INCOMPLETE');
    const declare = await app.inject({
      method: 'PUT',
      url: `/api/v1/entities/${emd.dir3}/calendar/2026/completeness`,
      headers: adminEmd,
      payload: { complete: true, reason: 'Una sola festa pròpia' },
    });
    assert.equal(declare.statusCode, 200, declare.body);
    assert.equal(
      (await deadline(emd.dir3, q, adminEmd)).json().end,
      '2026-05-11',
      'its own days replace Lleida’s',
    );
  });
});

describe('operator data and the registry time', () => {
  it('art. 31.2.b: a filing on Sunday 5 April 2026 at 10:00 in Lleida counts from 2026-04-07 00:00 Europe/Madrid', async () => {
    const effective = await env.db.tenant(lleida.id, (tx) =>
      effectiveRegistryTimeFor(tx, lleida.id, new Date('2026-04-05T10:00:00+02:00'), env.clock.now()),
    );
    assert.equal(formatMadrid(effective), '2026-04-07T00:00:00+02:00');
  });

  it('the Val d’Aran substitution is entered by an operator (audited on the platform chain), never by others', async () => {
    await assert.rejects(
      env.db.platform((tx) =>
        setRegionalDay(tx, sys(), { date: '2026-06-17', scope: 'aran', name: "Festa d'Aran", reason: 'x' }),
      ),
      (e: unknown) => e instanceof AppError && e.code === 'FORBIDDEN',
    );
    await assert.rejects(
      env.db.platform((tx) =>
        setRegionalDay(tx, operator(), {
          date: '2026-06-18',
          scope: 'aran',
          name: 'Not a Catalan holiday',
          nonBusiness: false,
          reason: 'x',
        }),
      ),
      (e: unknown) =>
        e instanceof AppError && e.code === 'VALIDATION_FAILED' && /not a Catalan holiday/.test(e.message),
    );
    // Which Catalan day Aran replaces is not in the shipped data: the one below is test data only.
    await env.db.platform(async (tx) => {
      await setRegionalDay(tx, operator(), {
        date: '2026-06-17',
        scope: 'aran',
        name: "Festa d'Aran",
        reason: 'Ordre del calendari laboral 2026',
      });
      await setRegionalDay(tx, operator(), {
        date: '2026-12-26',
        scope: 'aran',
        name: 'Sant Esteve (substituted in Aran)',
        nonBusiness: false,
        reason: 'Ordre del calendari laboral 2026',
      });
      await setRegionalYear(tx, operator(), {
        year: 2026,
        scope: 'aran',
        complete: true,
        reason: 'Ordre del calendari laboral 2026',
      });
    });
    const res = await deadline(les.dir3, 'start=2026-06-16&amount=1&unit=business_days', viewerLes);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().end, '2026-06-18');
    const notAran = await deadline(
      lleida.dir3,
      'start=2026-06-16&amount=1&unit=business_days',
      handlerLleida,
    );
    assert.equal(notAran.json().end, '2026-06-17');
    const platform = await auditActions(PLATFORM_TENANT);
    assert.deepEqual(
      platform.slice(-3).map((e) => e.action),
      ['calendar.regional.set', 'calendar.regional.set', 'calendar.regional.year'],
    );
  });

  it('an operator completes a municipality’s shared local days, and they count for its residents (art. 30.6)', async () => {
    const q = 'start=2026-07-01&amount=5&unit=business_days&residence=L01250432';
    assertProblem(await deadline(lleida.dir3, q, handlerLleida), 422, 'CALENDAR_INCOMPLETE');
    await env.db.platform(async (tx) => {
      await setLocalDay(tx, operator(), {
        ine: '25043',
        date: '2026-07-03',
        name: 'Festa local',
        reason: 'test data',
      });
      await setLocalYear(tx, operator(), { ine: '25043', year: 2026, complete: true, reason: 'test data' });
    });
    const res = await deadline(lleida.dir3, q, handlerLleida);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().end, '2026-07-09');
  });

  it('loading a new version of the shipped data adds what is missing and never brings back a day an operator withdrew', async () => {
    await env.db.platform((tx) =>
      withdrawLocal(tx, operator(), { ine: '25001', date: '2026-05-25', reason: 'test: wrong date' }),
    );
    await env.db.owner((tx) =>
      tx
        .deleteFrom('calendar_local_days')
        .where('ine', '=', '25001')
        .where('date', '=', '2026-10-02')
        .execute(),
    );
    const seed = readCalendarSeed();
    await env.db.platform((tx) => applySeed(tx, { ...seed, sha256: 'f'.repeat(64) }, env.clock.now()));
    const year = await env.db.platform((tx) => municipalityYear(tx, '25001', 2026, env.clock.now()));
    const local = year.days.filter((d) => d.holidays.some((h) => h.scope === 'local')).map((d) => d.date);
    assert.deepEqual(local, ['2026-10-02']);
  });
});
