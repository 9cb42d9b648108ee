import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { noRequest, type Ctx } from '#platform/context.ts';
import type { AppError } from '#platform/errors.ts';
import { actingHolder, positionsOfUser } from '#modules/positions/positions.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  loginHeaders,
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  TestClock,
  type TestEnv,
  type TestUser,
} from '#test/helpers/harness.ts';

let env: TestEnv;
let app: FastifyInstance;
let tenant: Tenant;
let other: Tenant;
let admin: Record<string, string>;
let handler: Record<string, string>;
let otherAdmin: Record<string, string>;
let mayorA: TestUser;
let mayorB: TestUser;
let deputy: TestUser;
let councillor: TestUser;
let base: string;
const ids = { mayor: '', deputy: '', councillor: '', otherPosition: '' };

function ctxOf(t: Tenant): Ctx {
  return {
    tenant: { id: t.id, dir3: t.dir3, slug: t.slug, name: t.name, status: t.status },
    actor: { kind: 'system', id: null, label: 'test', platformRoles: [] },
    roles: ['viewer'],
    request: noRequest,
    clock: env.clock,
  };
}

const acting = (positionId: string, at: string) =>
  env.db.tenant(tenant.id, (tx) => actingHolder(tx, ctxOf(tenant), positionId, new Date(at)));

async function post(url: string, headers: Record<string, string>, payload: unknown) {
  return app.inject({ method: 'POST', url, headers, payload: payload as Record<string, unknown> });
}

before(async () => {
  env = await openTestEnv({ clock: new TestClock('2026-03-20T10:00:00Z') });
  app = await makeServer(env);
  tenant = await makeTenant(env);
  other = await makeTenant(env);
  const adminUser = await makeUser(env, { tenant, roles: ['admin'], totp: true });
  admin = await loginHeaders(app, env, adminUser);
  handler = await loginHeaders(app, env, await makeUser(env, { tenant, roles: ['handler'] }));
  otherAdmin = await loginHeaders(
    app,
    env,
    await makeUser(env, { tenant: other, roles: ['admin'], totp: true }),
  );
  mayorA = await makeUser(env, { tenant, roles: ['signer'] });
  mayorB = await makeUser(env, { tenant, roles: ['signer'] });
  deputy = await makeUser(env, { tenant, roles: ['signer'] });
  councillor = await makeUser(env, { tenant, roles: ['signer'] });
  base = `/api/v1/entities/${tenant.slug}/positions`;
  const o = await post(`/api/v1/entities/${other.slug}/positions`, otherAdmin, {
    kind: 'mayor',
    title: 'Alcaldessa',
  });
  assert.equal(o.statusCode, 201, o.body);
  ids.otherPosition = o.json().id;
});

after(async () => {
  await app?.close();
  await env?.close();
});

describe('positions', () => {
  it('an admin creates positions; a second mayor is refused', async () => {
    const deputyPos = await post(base, admin, {
      kind: 'deputy_mayor',
      title: "Primer tinent d'alcalde",
      deputyOrder: 1,
    });
    assert.equal(deputyPos.statusCode, 201, deputyPos.body);
    ids.deputy = deputyPos.json().id;
    const mayor = await post(base, admin, {
      kind: 'mayor',
      title: 'Alcalde',
      substitutePositionId: ids.deputy,
    });
    assert.equal(mayor.statusCode, 201, mayor.body);
    ids.mayor = mayor.json().id;
    assert.equal(mayor.json().substitutePositionId, ids.deputy);
    assert.equal(mayor.json().actingToday, null);
    const second = await post(base, admin, { kind: 'mayor', title: 'Alcalde 2' });
    assert.equal(second.statusCode, 409);
    assert.equal(second.json().code, 'CONFLICT');
    const reg = await post(base, admin, {
      kind: 'councillor',
      title: "Regidor d'Urbanisme",
      area: 'Urbanisme',
    });
    assert.equal(reg.statusCode, 201, reg.body);
    ids.councillor = reg.json().id;
    const bogus = await post(base, admin, { kind: 'mayor', title: 'X', bogus: true });
    assert.equal(bogus.statusCode, 400);
  });

  it('a new holder from a date ends the previous one; the acting holder changes at 00:00 Europe/Madrid', async () => {
    const a = await post(`${base}/${ids.mayor}/holders`, admin, {
      userId: mayorA.id,
      validFrom: '2023-06-17',
      appointmentReference: 'Acta del Ple de constitució 17-06-2023',
    });
    assert.equal(a.statusCode, 201, a.body);
    assert.equal(a.json().actingToday.userId, mayorA.id);
    const b = await post(`${base}/${ids.mayor}/holders`, admin, {
      userId: mayorB.id,
      validFrom: '2026-04-01',
    });
    assert.equal(b.statusCode, 201, b.body);
    const holders = b.json().holders;
    assert.deepEqual(
      holders.map((h: { userId: string; validFrom: string; validTo: string | null }) => [
        h.userId,
        h.validFrom,
        h.validTo,
      ]),
      [
        [mayorA.id, '2023-06-17', '2026-03-31'],
        [mayorB.id, '2026-04-01', null],
      ],
    );
    // 2026-03-31T21:59:59Z is 23:59:59 in Madrid (CEST, +02:00) on the 31st; one second later it is 1 April.
    assert.deepEqual(await acting(ids.mayor, '2026-03-31T21:59:59Z'), {
      userId: mayorA.id,
      bySubstitution: false,
    });
    assert.deepEqual(await acting(ids.mayor, '2026-03-31T22:00:00Z'), {
      userId: mayorB.id,
      bySubstitution: false,
    });
    await assert.rejects(
      acting(ids.mayor, '2023-06-16T12:00:00Z'),
      (e: AppError) => e.code === 'POSITION_VACANT',
    );
  });

  it('never two holders on one day', async () => {
    for (const validFrom of ['2026-03-15', '2026-04-01']) {
      const r = await post(`${base}/${ids.mayor}/holders`, admin, { userId: deputy.id, validFrom });
      assert.equal(r.statusCode, 409, r.body);
      assert.equal(r.json().code, 'POSITION_HOLDER_OVERLAP');
    }
    const notMember = await post(`${base}/${ids.mayor}/holders`, admin, {
      userId: '0190f0a0-0000-7000-8000-000000000000',
      validFrom: '2027-01-01',
    });
    assert.equal(notMember.json().code, 'USER_NOT_FOUND');
    const rows = await env.db.owner((tx) =>
      sql<{ n: string }>`select count(*) as n from position_holders where position_id = ${ids.mayor}`.execute(
        tx,
      ),
    );
    assert.equal(Number(rows.rows[0]!.n), 2);
  });

  it('the substitute acts "per substitució" during an absence, and only then', async () => {
    const d = await post(`${base}/${ids.deputy}/holders`, admin, {
      userId: deputy.id,
      validFrom: '2023-07-01',
    });
    assert.equal(d.statusCode, 201, d.body);
    const abs = await post(`${base}/${ids.mayor}/absences`, admin, {
      from: '2026-04-10',
      to: '2026-04-12',
      reason: 'Vacances',
    });
    assert.equal(abs.statusCode, 201, abs.body);
    assert.equal(abs.json().absences[0].reason, 'Vacances');
    const overlap = await post(`${base}/${ids.mayor}/absences`, admin, {
      from: '2026-04-12',
      to: '2026-04-14',
      reason: 'Malaltia',
    });
    assert.equal(overlap.statusCode, 409);
    assert.equal(overlap.json().code, 'POSITION_ABSENCE_OVERLAP');
    // 2026-04-09T22:00Z = 00:00 of the 10th in Madrid: the absence has begun.
    assert.deepEqual(await acting(ids.mayor, '2026-04-09T21:59:00Z'), {
      userId: mayorB.id,
      bySubstitution: false,
    });
    assert.deepEqual(await acting(ids.mayor, '2026-04-09T22:00:00Z'), {
      userId: deputy.id,
      bySubstitution: true,
      substituteFor: mayorB.id,
    });
    assert.deepEqual(await acting(ids.mayor, '2026-04-12T21:59:59Z'), {
      userId: deputy.id,
      bySubstitution: true,
      substituteFor: mayorB.id,
    });
    assert.deepEqual(await acting(ids.mayor, '2026-04-12T22:00:00Z'), {
      userId: mayorB.id,
      bySubstitution: false,
    });
    const mine = await env.db.tenant(tenant.id, (tx) =>
      positionsOfUser(tx, ctxOf(tenant), deputy.id, new Date('2026-04-11T10:00:00Z')),
    );
    assert.deepEqual(
      mine.map((m) => [m.positionId, m.bySubstitution, m.substituteFor ?? null]).sort(),
      [
        [ids.deputy, false, null],
        [ids.mayor, true, mayorB.id],
      ].sort(),
    );
    const mayorNow = await env.db.tenant(tenant.id, (tx) =>
      positionsOfUser(tx, ctxOf(tenant), mayorB.id, new Date('2026-04-11T10:00:00Z')),
    );
    assert.deepEqual(mayorNow, []);
    // A position without a substitute takes no absence: nobody could act.
    const noSub = await post(`${base}/${ids.councillor}/absences`, admin, {
      from: '2026-05-01',
      to: '2026-05-02',
      reason: 'Viatge',
    });
    assert.equal(noSub.json().code, 'POSITION_NO_SUBSTITUTE');
  });

  it('delegations by decree are recorded and listed with the positions a user acts for', async () => {
    await post(`${base}/${ids.councillor}/holders`, admin, {
      userId: councillor.id,
      validFrom: '2023-06-20',
    });
    const del = await post(`${base}/${ids.councillor}/delegations`, admin, {
      areas: ['Urbanisme', 'Obres'],
      powers: 'Llicències d’obres menors i comunicacions prèvies',
      decreeReference: 'Decret 2023/000145',
      decreeDate: '2023-06-20',
    });
    assert.equal(del.statusCode, 201, del.body);
    assert.equal(del.json().delegations[0].decreeReference, 'Decret 2023/000145');
    assert.equal(del.json().delegations[0].validFrom, '2023-06-20');
    const early = await post(`${base}/${ids.councillor}/delegations`, admin, {
      areas: ['Medi ambient'],
      powers: 'Tot',
      decreeReference: 'Decret 2024/000001',
      decreeDate: '2024-01-10',
      validFrom: '2024-01-01',
    });
    assert.equal(early.statusCode, 400);
    const mine = await env.db.tenant(tenant.id, (tx) =>
      positionsOfUser(tx, ctxOf(tenant), councillor.id, new Date('2026-04-11T10:00:00Z')),
    );
    assert.equal(mine.length, 1);
    assert.deepEqual(mine[0]!.delegations[0]!.areas, ['Urbanisme', 'Obres']);
  });

  it('every member reads; only admins manage; every change is audited', async () => {
    const list = await app.inject({ method: 'GET', url: base, headers: handler });
    assert.equal(list.statusCode, 200, list.body);
    assert.deepEqual(
      list.json().items.map((p: { kind: string }) => p.kind),
      ['mayor', 'deputy_mayor', 'councillor'],
    );
    for (const [url, payload] of [
      [base, { kind: 'treasurer', title: 'Tresorer' }],
      [`${base}/${ids.mayor}/holders`, { userId: deputy.id, validFrom: '2027-01-01' }],
      [`${base}/${ids.mayor}/absences`, { from: '2027-01-01', to: '2027-01-02', reason: 'x' }],
      [
        `${base}/${ids.councillor}/delegations`,
        { areas: ['x'], powers: 'x', decreeReference: 'x', decreeDate: '2027-01-01' },
      ],
    ] as const) {
      const r = await post(url, handler, payload);
      assert.equal(r.statusCode, 403, `${url} ${r.body}`);
      assert.equal(r.json().code, 'FORBIDDEN');
    }
    const events = await env.db.owner((tx) =>
      sql<{
        action: string;
      }>`select action from audit_events where tenant_id = ${tenant.id} and action like 'position.%' order by seq`.execute(
        tx,
      ),
    );
    const actions = events.rows.map((r) => r.action);
    assert.equal(actions.filter((a) => a === 'position.create').length, 3);
    assert.equal(actions.filter((a) => a === 'position.holder_appoint').length, 4);
    assert.equal(actions.filter((a) => a === 'position.absence_record').length, 1);
    assert.equal(actions.filter((a) => a === 'position.delegation_record').length, 1);
  });

  it("another entity's positions are 404", async () => {
    const list = await app.inject({
      method: 'GET',
      url: `/api/v1/entities/${other.slug}/positions`,
      headers: admin,
    });
    assert.equal(list.statusCode, 404);
    assert.equal(list.json().code, 'ENTITY_NOT_FOUND');
    for (const sub of ['holders', 'absences', 'delegations']) {
      const payload =
        sub === 'holders'
          ? { userId: deputy.id, validFrom: '2027-01-01' }
          : sub === 'absences'
            ? { from: '2027-01-01', to: '2027-01-02', reason: 'x' }
            : { areas: ['x'], powers: 'x', decreeReference: 'x', decreeDate: '2027-01-01' };
      const r = await post(`${base}/${ids.otherPosition}/${sub}`, admin, payload);
      assert.equal(r.statusCode, 404, r.body);
      assert.equal(r.json().code, 'POSITION_NOT_FOUND');
    }
    await assert.rejects(
      acting(ids.otherPosition, '2026-04-01T10:00:00Z'),
      (e: AppError) => e.code === 'POSITION_NOT_FOUND',
    );
    // A substitute position of another entity is refused too.
    const r = await post(base, admin, {
      kind: 'treasurer',
      title: 'Tresorera',
      substitutePositionId: ids.otherPosition,
    });
    assert.equal(r.json().code, 'POSITION_NOT_FOUND');
  });
});
