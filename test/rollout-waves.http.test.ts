import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { FastifyInstance } from 'fastify';
import { cliActor, noRequest } from '#platform/context.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { newId } from '#platform/ids.ts';
import { changeEntityState } from '#modules/rollout/lifecycle.service.ts';
import { importProvince } from '#modules/tenancy/tenancy.service.ts';
import {
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  type TestEnv,
  tokenHeaders,
} from '#test/helpers/harness.ts';

// Issue 6: calls, waves, the roll-out rule's proposal, assignments and entity states, through the
// console API, on the province's real municipalities (data/seed).

// The shipped data, read here directly (not through the product's loader).
type Muni = { ine: string; name: string; population: number; dir3: string; comarca: string };
const SEED = path.resolve(import.meta.dirname, '../data/seed/lleida_municipis.csv');
const csv = (
  parse(fs.readFileSync(SEED, 'utf8'), { columns: true, skip_empty_lines: true }) as Record<string, string>[]
).map(
  (r): Muni => ({
    ine: r.ine_code!,
    name: r.name_display!,
    population: Number(r.population_2025),
    dir3: r.dir3_derived!,
    comarca: r.comarca_2025 || r.comarca_name!,
  }),
);
const byIne = new Map(csv.map((m) => [m.ine, m]));

// The fixture: accepted requests of the first call with no system (the wave's candidates) …
const NO_SYSTEM_CALL1 = [
  '25032', // Arsèguel 87
  '25097', // Fulleda 87
  '25143', // Montornès de Segarra 87
  '25114', // Ivorra 100
  '25136', // La Molsosa 100
  '25022', // Alòs de Balaguer 118
  '25089', // Farrera 118
  '25001', // Abella de la Conca 156
  '25092', // La Floresta 159  (tie with Castell de Mur: INE code decides)
  '25904', // Castell de Mur 159
  '25002', // Àger
  '25003', // Agramunt
];
// … and the others, each excluded for one reason.
const WITH_PROVIDER_CALL1 = ['25071', '25031', '25111']; // Cava (the smallest), Arres, Guixers
const NO_SYSTEM_CALL2 = ['25045']; // Bausen: filed after the first call's deadline
const SUBMITTED_ONLY = '25087'; // Esterri de Cardós: request not accepted yet
const REJECTED = '25061'; // Cabó
const REQUESTED_WITHOUT_REQUEST = '25060'; // Cabanabona: state requested, no request row
const IN_OTHER_WAVE = '25222'; // Tiurana: already in an earlier wave
const K = 9;

let env: TestEnv;
let app: FastifyInstance;
let op: Record<string, string>;
let support: Record<string, string>;
let staff: Record<string, string>;
let call1: { id: string };
let call2: { id: string };
const cli = () => ({ actor: cliActor, request: noRequest, clock: env.clock });

async function api(method: 'GET' | 'POST' | 'PUT', url: string, headers = op, payload?: object) {
  const res = await app.inject(
    payload === undefined ? { method, url, headers } : { method, url, headers, payload },
  );
  return { status: res.statusCode, body: res.body ? res.json() : null };
}

async function request(
  ine: string,
  o: { callId: string | null; provider?: string | null; status?: 'accepted' | 'submitted' | 'rejected' },
) {
  await env.db.platform(async (tx) => {
    const t = await tx
      .selectFrom('tenants')
      .select(['id', 'population'])
      .where('ine', '=', ine)
      .executeTakeFirstOrThrow();
    const now = env.clock.now();
    const status = o.status ?? 'accepted';
    await tx
      .insertInto('enrolment_requests')
      .values({
        id: newId(),
        entity_id: t.id,
        entity_kind: 'ajuntament',
        emd_name: null,
        emd_dir3: null,
        parent_entity_id: null,
        mayor_name: 'Alcaldessa',
        mayor_email: `alcaldia${ine}@example.cat`,
        mayor_phone: null,
        secretary_name: 'Secretari',
        secretary_email: `secretaria${ine}@example.cat`,
        secretary_phone: null,
        population: t.population ?? 0,
        current_provider: o.provider ?? null,
        adhesion_act_kind: 'ple_resolution',
        adhesion_act_date: '2026-09-15',
        files: JSON.stringify([]),
        request_signature: JSON.stringify({}),
        language: 'ca',
        status,
        status_reason: status === 'rejected' ? 'no és competent' : null,
        call_id: o.callId,
        registry_tenant_id: null,
        registry_entry_id: null,
        registry_number: `REG-${ine}`,
        filed_by: 'ciutada',
        submitted_at: now,
        decided_at: status === 'submitted' ? null : now,
        decided_by: status === 'submitted' ? null : 'operadora',
        updated_at: now,
      })
      .execute();
    if (status === 'accepted') await changeEntityState(tx, cli(), t.id, 'requested');
  });
}

const dir3 = (ine: string) => byIne.get(ine)!.dir3;

before(async () => {
  env = await openTestEnv();
  app = await makeServer(env);
  await env.db.platform((tx) => importProvince(tx, cli()));
  op = await tokenHeaders(env, await makeUser(env, { platformRoles: ['operator'], totp: true }));
  support = await tokenHeaders(env, await makeUser(env, { platformRoles: ['support'], totp: true }));
  const entity = await makeTenant(env);
  staff = await tokenHeaders(env, await makeUser(env, { tenant: entity, roles: ['admin'], totp: true }));

  const c1 = await api('POST', '/api/v1/console/calls', op, {
    name: 'Convocatòria 2026',
    opensOn: '2026-09-01',
    closesOn: '2026-10-31',
  });
  assert.equal(c1.status, 201, JSON.stringify(c1.body));
  call1 = c1.body;
  const c2 = await api('POST', '/api/v1/console/calls', op, {
    name: 'Convocatòria 2027',
    opensOn: '2026-11-01',
    closesOn: '2027-03-31',
  });
  assert.equal(c2.status, 201);
  call2 = c2.body;

  for (const ine of NO_SYSTEM_CALL1) await request(ine, { callId: call1.id });
  for (const [i, ine] of WITH_PROVIDER_CALL1.entries())
    await request(ine, { callId: call1.id, provider: ['Gestiona', 'Absis', 'Sedipualba'][i]! });
  for (const ine of NO_SYSTEM_CALL2) await request(ine, { callId: call2.id });
  await request(SUBMITTED_ONLY, { callId: call1.id, status: 'submitted' });
  await request(REJECTED, { callId: call1.id, status: 'rejected' });
  await request(IN_OTHER_WAVE, { callId: call1.id });
  await env.db.platform((tx) => changeEntityState(tx, cli(), dir3(REQUESTED_WITHOUT_REQUEST), 'requested'));
});

after(async () => {
  await app?.close();
  await env?.close();
});

async function createWave(body: Record<string, unknown>) {
  const r = await api('POST', '/api/v1/console/waves', op, body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

describe('waves and the roll-out rule', () => {
  let wave0: { id: string };
  let wave1: { id: string; name: string };
  let expected: Muni[];

  it('an earlier wave takes one entity (it leaves the candidates)', async () => {
    wave0 = await createWave({
      callId: call1.id,
      name: 'Onada 0 (pilot)',
      plannedStart: '2026-11-02',
      plannedEnd: '2026-11-30',
      requiresCertification: false,
      capacity: null,
    });
    const r = await api('PUT', `/api/v1/console/waves/${wave0.id}/entities`, op, {
      entityIds: [dir3(IN_OTHER_WAVE)],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.entities.map((e: { ine: string; status: string }) => [e.ine, e.status]),
      [[IN_OTHER_WAVE, 'scheduled']],
    );
  });

  it("the proposal for 'no system, at most K' is the K least-populated candidates (ties by INE code), per the shipped data", async () => {
    wave1 = await createWave({
      callId: call1.id,
      name: 'Onada 1',
      plannedStart: '2027-01-11',
      plannedEnd: '2027-02-26',
      requiresCertification: false,
      capacity: K,
    });
    // Expected, from the CSV: the candidates by population 2025, then INE code.
    const eligible = NO_SYSTEM_CALL1.map((ine) => byIne.get(ine)!).sort(
      (a, b) => a.population - b.population || a.ine.localeCompare(b.ine),
    );
    assert.ok(eligible.length > K);
    expected = eligible.slice(0, K);
    // The fixture is meaningful: the cut falls inside a tie of population that the INE code breaks.
    assert.equal(eligible[K - 1]!.population, eligible[K]!.population);
    assert.ok(eligible[K - 1]!.name > eligible[K]!.name, 'INE order differs from name order at the cut');

    const w = await api('GET', `/api/v1/console/waves/${wave1.id}`);
    assert.deepEqual(
      [
        w.body.callName,
        w.body.plannedStart,
        w.body.plannedEnd,
        w.body.capacity,
        w.body.requiresCertification,
      ],
      ['Convocatòria 2026', '2027-01-11', '2027-02-26', K, false],
    );
    const calls = await api('GET', '/api/v1/console/calls');
    assert.deepEqual(
      calls.body.map((c: { name: string; opensOn: string; closesOn: string }) => [
        c.name,
        c.opensOn,
        c.closesOn,
      ]),
      [
        ['Convocatòria 2026', '2026-09-01', '2026-10-31'],
        ['Convocatòria 2027', '2026-11-01', '2027-03-31'],
      ],
    );
    const r = await api('GET', `/api/v1/console/waves/${wave1.id}/proposal`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.rule, 'no_system');
    assert.deepEqual(
      r.body.entities.map((e: { ine: string; population: number }) => [e.ine, e.population]),
      expected.map((m) => [m.ine, m.population]),
    );
    for (const e of r.body.entities) {
      assert.equal(e.currentProvider, null);
      assert.equal(e.status, 'requested');
      assert.ok(e.requestId);
    }
  });

  it('a wave that requires certification proposes the entities on another provider, smallest first', async () => {
    const cert = await createWave({
      callId: call1.id,
      name: 'Onada 2 (certificació)',
      plannedStart: '2027-03-01',
      plannedEnd: '2027-04-30',
      requiresCertification: true,
      capacity: 10,
    });
    const r = await api('GET', `/api/v1/console/waves/${cert.id}/proposal`);
    assert.equal(r.status, 200);
    assert.equal(r.body.rule, 'certification');
    const want = WITH_PROVIDER_CALL1.map((ine) => byIne.get(ine)!).sort(
      (a, b) => a.population - b.population || a.ine.localeCompare(b.ine),
    );
    assert.deepEqual(
      r.body.entities.map((e: { ine: string }) => e.ine),
      want.map((m) => m.ine),
    );
    assert.ok(r.body.entities.every((e: { currentProvider: string | null }) => e.currentProvider));
  });

  it("assigning the operator's list schedules the entities, records their history and is audited", async () => {
    const ids = expected.map((m) => m.dir3);
    const r = await api('PUT', `/api/v1/console/waves/${wave1.id}/entities`, op, { entityIds: ids });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.entities.map((e: { dir3: string; position: number; status: string }) => [
        e.dir3,
        e.position,
        e.status,
      ]),
      ids.map((d, i) => [d, i + 1, 'scheduled']),
    );
    const d = await api('GET', `/api/v1/console/entities/${ids[0]}`);
    assert.equal(d.status, 200);
    assert.equal(d.body.status, 'scheduled');
    assert.deepEqual(d.body.wave, { id: wave1.id, name: 'Onada 1' });
    assert.deepEqual(
      d.body.history.map((h: { from: string; to: string }) => [h.from, h.to]),
      [
        ['listed', 'requested'],
        ['requested', 'scheduled'],
      ],
    );
    assert.equal(d.body.request.status, 'accepted');
    assert.equal(d.body.request.callId, call1.id);
    assert.equal(d.body.request.callName, 'Convocatòria 2026');
    assert.ok(d.body.missingForLive.includes('seu_decree'));
    assert.ok(!d.body.missingForLive.includes('certification'));
    const audited = await env.db.platform((tx) =>
      tx
        .selectFrom('audit_events')
        .select(['action', 'details'])
        .where('tenant_id', '=', PLATFORM_TENANT)
        .where('object_id', '=', wave1.id)
        .where('action', '=', 'rollout.wave.assign')
        .execute(),
    );
    assert.equal(audited.length, 1);
    assert.deepEqual((audited[0]!.details as { added: string[] }).added, ids);
    // A full wave proposes its own list, unchanged (no free place).
    const p = await api('GET', `/api/v1/console/waves/${wave1.id}/proposal`);
    assert.deepEqual(
      p.body.entities.map((e: { dir3: string; requestId: string }) => [e.dir3, Boolean(e.requestId)]),
      ids.map((d) => [d, true]),
    );
    // The schedule and the entity list show it.
    const s = await api('GET', '/api/v1/console/schedule');
    assert.deepEqual(
      s.body.map((w: { name: string; entities: unknown[] }) => [w.name, w.entities.length]),
      [
        ['Onada 0 (pilot)', 1],
        ['Onada 1', K],
        ['Onada 2 (certificació)', 0],
      ],
    );
    const l = await api('GET', `/api/v1/console/entities?waveId=${wave1.id}`);
    assert.deepEqual(l.body.map((e: { dir3: string }) => e.dir3).sort(), [...ids].sort());
    assert.ok(l.body.every((e: { waveName: string }) => e.waveName === 'Onada 1'));
    const urgell = csv
      .filter((m) => m.comarca === 'Alt Urgell')
      .map((m) => m.ine)
      .sort();
    const c = await api('GET', `/api/v1/console/entities?comarca=${encodeURIComponent('Alt Urgell')}`);
    assert.deepEqual(c.body.map((e: { ine: string }) => e.ine).sort(), urgell);
    const cs = await api(
      'GET',
      `/api/v1/console/entities?comarca=${encodeURIComponent('Alt Urgell')}&status=scheduled`,
    );
    assert.deepEqual(
      cs.body.map((e: { ine: string }) => e.ine),
      expected.filter((m) => m.comarca === 'Alt Urgell').map((m) => m.ine),
    );
    const q = await api('GET', '/api/v1/console/entities?status=requested&q=castell%20de%20mur');
    assert.deepEqual(
      q.body.map((e: { ine: string; waveId: null }) => [e.ine, e.waveId]),
      [['25904', null]],
    );
  });

  it('refuses more than the capacity and entities the wave cannot take, changing nothing', async () => {
    const ids = expected.map((m) => m.dir3);
    const full = await api('PUT', `/api/v1/console/waves/${wave1.id}/entities`, op, {
      entityIds: [...ids, dir3('25904')],
    });
    assert.equal(full.status, 409);
    assert.equal(full.body.code, 'WAVE_FULL');
    for (const ine of [
      WITH_PROVIDER_CALL1[0]!,
      NO_SYSTEM_CALL2[0]!,
      SUBMITTED_ONLY,
      REQUESTED_WITHOUT_REQUEST,
      IN_OTHER_WAVE,
    ]) {
      const r = await api('PUT', `/api/v1/console/waves/${wave1.id}/entities`, op, {
        entityIds: [...ids.slice(0, K - 1), dir3(ine)],
      });
      assert.equal(r.status, 409, ine);
      assert.equal(r.body.code, 'WAVE_ENTITY_NOT_ELIGIBLE', ine);
    }
    const w = await api('GET', `/api/v1/console/waves/${wave1.id}`);
    assert.deepEqual(
      w.body.entities.map((e: { dir3: string; status: string }) => [e.dir3, e.status]),
      ids.map((d) => [d, 'scheduled']),
    );
  });

  it('taking an entity out sends it back to requested and lets another in', async () => {
    const ids = expected.map((m) => m.dir3);
    const out = ids[K - 1]!;
    const list = [...ids.slice(0, K - 1), dir3('25904')];
    const r = await api('PUT', `/api/v1/console/waves/${wave1.id}/entities`, op, { entityIds: list });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.entities.map((e: { dir3: string }) => e.dir3),
      list,
    );
    const d = await api('GET', `/api/v1/console/entities/${out}`);
    assert.equal(d.body.status, 'requested');
    assert.equal(d.body.wave, null);
    assert.deepEqual(d.body.history.at(-1).from, 'scheduled');
    assert.deepEqual(d.body.history.at(-1).to, 'requested');
    // The earlier wave (no capacity) proposes its entity, then every candidate left, smallest first.
    const p = await api('GET', `/api/v1/console/waves/${wave0.id}/proposal`);
    const left = NO_SYSTEM_CALL1.filter((ine) => !list.includes(dir3(ine)))
      .map((ine) => byIne.get(ine)!)
      .sort((a, b) => a.population - b.population || a.ine.localeCompare(b.ine));
    assert.deepEqual(
      p.body.entities.map((e: { ine: string }) => e.ine),
      [IN_OTHER_WAVE, ...left.map((m) => m.ine)],
    );
  });
});

describe('calls', () => {
  it('a request filed when no call was open joins the next call opened, not one already closed', async () => {
    await request('25063', { callId: null }); // Canejan
    const past = await api('POST', '/api/v1/console/calls', op, {
      name: 'Convocatòria 2020',
      opensOn: '2020-01-01',
      closesOn: '2020-12-31',
    });
    assert.equal(past.status, 201);
    const callOf = () =>
      env.db.platform((tx) =>
        tx
          .selectFrom('enrolment_requests as r')
          .innerJoin('tenants as t', 't.id', 'r.entity_id')
          .select('r.call_id')
          .where('t.ine', '=', '25063')
          .executeTakeFirstOrThrow(),
      );
    assert.equal((await callOf()).call_id, null);
    const next = await api('POST', '/api/v1/console/calls', op, {
      name: 'Convocatòria 2099',
      opensOn: '2099-01-01',
      closesOn: '2099-12-31',
    });
    assert.equal(next.status, 201);
    assert.equal((await callOf()).call_id, next.body.id);
  });
});

describe('entity states', () => {
  it('a change the roll-out does not allow is 409 STATE_TRANSITION_NOT_ALLOWED', async () => {
    const r = await api('POST', `/api/v1/console/entities/${dir3('25032')}/state`, op, { to: 'live' });
    assert.equal(r.status, 409);
    assert.equal(r.body.code, 'STATE_TRANSITION_NOT_ALLOWED');
    const l = await api('POST', `/api/v1/console/entities/${dir3('25002')}/state`, op, { to: 'pilot' });
    assert.equal(l.body.code, 'STATE_TRANSITION_NOT_ALLOWED');
  });

  it('live without the go-live checklist is 409 CHECKLIST_INCOMPLETE; every step is dated in the history', async () => {
    const ref = dir3('25032');
    for (const to of ['provisioning', 'pilot']) {
      const r = await api('POST', `/api/v1/console/entities/${ref}/state`, op, { to, reason: `pas ${to}` });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.status, to);
    }
    const r = await api('POST', `/api/v1/console/entities/${ref}/state`, op, { to: 'live' });
    assert.equal(r.status, 409);
    assert.equal(r.body.code, 'CHECKLIST_INCOMPLETE');
    const d = await api('GET', `/api/v1/console/entities/${ref}`);
    assert.equal(d.body.status, 'pilot');
    assert.deepEqual(
      d.body.history.map((h: { to: string; reason: string | null }) => [h.to, h.reason]),
      [
        ['requested', null],
        ['scheduled', 'wave Onada 1'],
        ['provisioning', 'pas provisioning'],
        ['pilot', 'pas pilot'],
      ],
    );
    assert.ok(d.body.history.every((h: { at: string; by: string }) => h.at && h.by));
    const bad = await api('POST', `/api/v1/console/entities/${ref}/state`, op, { to: 'flying' });
    assert.equal(bad.status, 400);
  });
});

describe('who may see the console', () => {
  it('entity staff and support technicians get 404 on waves, calls, entities and states', async () => {
    for (const h of [staff, support]) {
      for (const [method, url] of [
        ['GET', '/api/v1/console/waves'],
        ['GET', '/api/v1/console/calls'],
        ['GET', '/api/v1/console/schedule'],
        ['GET', '/api/v1/console/entities'],
        ['GET', `/api/v1/console/entities/${dir3('25001')}`],
      ] as const) {
        const r = await api(method, url, h);
        assert.equal(r.status, 404, `${method} ${url}`);
      }
      const s = await api('POST', `/api/v1/console/entities/${dir3('25001')}/state`, h, { to: 'listed' });
      assert.equal(s.status, 404);
      const w = await api('POST', '/api/v1/console/waves', h, {
        callId: call1.id,
        name: 'Intrusa',
        plannedStart: '2027-01-01',
        plannedEnd: '2027-01-02',
        requiresCertification: false,
        capacity: 1,
      });
      assert.equal(w.status, 404);
    }
    const anon = await app.inject({ method: 'GET', url: '/api/v1/console/waves' });
    assert.equal(anon.statusCode, 401);
  });

  it('bad input gets problem+json with a stable code', async () => {
    const dup = await api('POST', '/api/v1/console/calls', op, {
      name: 'Convocatòria 2026',
      opensOn: '2027-01-01',
      closesOn: '2027-02-01',
    });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.code, 'WAVE_NAME_TAKEN');
    const dates = await api('POST', '/api/v1/console/calls', op, {
      name: 'X',
      opensOn: '2027-02-30',
      closesOn: '2027-03-01',
    });
    assert.equal(dates.status, 400);
    assert.equal(dates.body.code, 'VALIDATION_FAILED');
    const noCall = await api('POST', '/api/v1/console/waves', op, {
      callId: newId(),
      name: 'Òrfena',
      plannedStart: '2027-01-01',
      plannedEnd: '2027-01-02',
      requiresCertification: false,
      capacity: 1,
    });
    assert.equal(noCall.status, 404);
    assert.equal(noCall.body.code, 'CALL_NOT_FOUND');
    const noWave = await api('GET', `/api/v1/console/waves/${newId()}`);
    assert.equal(noWave.body.code, 'WAVE_NOT_FOUND');
  });
});
