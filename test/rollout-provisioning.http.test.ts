/**
 * Provisioning of an entity (issue 6, Build item 3) through the console API: the first run creates
 * the units, the positions, the first administrator with an invitation e-mail, the seu's settings,
 * the seal and the checklist facts, and takes the entity scheduled → provisioning → pilot; the
 * second run creates no row, audit event, certificate or e-mail (acceptance line). The invitation
 * link sets the password once; the administrator then logs in and must enrol TOTP; an expired link
 * is refused and a re-run replaces it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { noRequest, systemActor } from '#platform/context.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { newId } from '#platform/ids.ts';
import { provisionEntity } from '#modules/rollout/provisioning.service.ts';
import { loadMunicipalities } from '#modules/tenancy/province.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { createTenant } from '#modules/tenancy/tenancy.service.ts';
import {
  blobFiles,
  loginHeaders,
  makeServer,
  makeTenant,
  makeUser,
  ORIGIN,
  openTestEnv,
  type TestEnv,
} from '#test/helpers/harness.ts';

let env: TestEnv;
let app: FastifyInstance;
let operator: Record<string, string>;
let ager: Tenant;
let dpaSha: string;

const sys = () => ({ actor: systemActor, request: noRequest, clock: env.clock });
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** A municipality of the shipped data as a tenant in the given state. */
async function municipality(ine: string, status: Tenant['status']): Promise<Tenant> {
  const m = loadMunicipalities().find((x) => x.ine === ine)!;
  return env.db.platform((tx) =>
    createTenant(tx, sys(), {
      kind: 'ajuntament',
      name: m.name,
      dir3: m.dir3,
      ine: m.ine,
      comarca: m.comarca,
      population: m.population2025,
      status,
    }),
  );
}

/** Every table of the database (all schemas but the catalogue's) with its row count. */
async function everyTableCount(): Promise<Record<string, number>> {
  return env.db.owner(async (tx) => {
    const tables = await sql<{ s: string; t: string }>`
      select table_schema as s, table_name as t from information_schema.tables
      where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
      order by 1, 2`.execute(tx);
    const out: Record<string, number> = {};
    for (const { s, t } of tables.rows) {
      const r = await sql<{ n: string }>`select count(*) as n from ${sql.table(`${s}.${t}`)}`.execute(tx);
      out[`${s}.${t}`] = Number(r.rows[0]!.n);
    }
    return out;
  });
}

function provision(ref: string, body: Record<string, string> = {}, headers = operator) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/console/entities/${ref}/provision`,
    headers,
    payload: body,
  });
}

async function outbox(tenantId: string) {
  return env.db.owner((tx) =>
    tx
      .selectFrom('mail_outbox')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('created_at')
      .execute(),
  );
}

function paramsOf(mail: { params: unknown }): Record<string, string> {
  return (typeof mail.params === 'string' ? JSON.parse(mail.params) : mail.params) as Record<string, string>;
}

function tokenOf(mail: { params: unknown }): string {
  const { link } = paramsOf(mail);
  const m = /\/app\/invitation\/([A-Za-z0-9_-]{43})$/.exec(link ?? '');
  assert.ok(m, `an invitation link: ${link}`);
  return m[1]!;
}

async function actions(tenantId: string): Promise<string[]> {
  const rows = await env.db.owner((tx) =>
    tx.selectFrom('audit_events').select('action').where('tenant_id', '=', tenantId).orderBy('seq').execute(),
  );
  return rows.map((r) => r.action);
}

before(async () => {
  env = await openTestEnv();
  app = await makeServer(env);
  operator = await loginHeaders(app, env, await makeUser(env, { platformRoles: ['operator'], totp: true }));
  ager = await municipality('25002', 'scheduled');
  // The accepted enrolment request, with its signed data processing agreement in the blob store.
  const dpa = await env.blobs.put('%PDF-1.4\n% the signed data processing agreement of Ager\n%%EOF\n');
  dpaSha = dpa.sha256;
  const now = env.clock.now();
  await env.db.platform((tx) =>
    tx
      .insertInto('enrolment_requests')
      .values({
        id: newId(),
        entity_id: ager.id,
        entity_kind: 'ajuntament',
        emd_name: null,
        emd_dir3: null,
        parent_entity_id: null,
        mayor_name: 'Josep Alcalde',
        mayor_email: 'alcaldia@ager.example',
        mayor_phone: null,
        secretary_name: 'Mònica Puig i Ferrer',
        secretary_email: 'secretaria@ager.example',
        secretary_phone: null,
        population: 637,
        current_provider: null,
        adhesion_act_kind: 'mayor_decree',
        adhesion_act_date: '2026-09-01',
        files: JSON.stringify([
          {
            role: 'dpa',
            fileName: 'encarrec-tractament.pdf',
            mimeType: 'application/pdf',
            sha256: dpa.sha256,
            size: dpa.size,
          },
        ]),
        request_signature: JSON.stringify({}),
        language: 'ca',
        status: 'accepted',
        status_reason: null,
        call_id: null,
        registry_tenant_id: null,
        registry_entry_id: null,
        registry_number: 'E/2026/000042',
        filed_by: 'citizen:00000000T',
        submitted_at: now,
        decided_at: now,
        decided_by: 'operator',
        updated_at: now,
      })
      .execute(),
  );
});

after(async () => {
  await app?.close();
  await env?.close();
});

describe('provisioning an entity', () => {
  let token: string;

  it('the first run creates units, positions, the administrator with an invitation, the seal and the checklist facts, and leaves the entity in pilot', async () => {
    const res = await provision(ager.dir3);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.entity.status, 'pilot');
    assert.equal(body.entity.dir3, 'L01250024');
    assert.equal(body.adminUsername, 'monica.puig');
    assert.equal(body.invitationSent, true);
    const done = Object.fromEntries(body.steps.map((s: { step: string; done: string }) => [s.step, s.done]));
    assert.deepEqual(
      { ...done, calendar: 'x' },
      {
        codes: 'existing',
        administrator: 'created',
        invitation: 'created',
        calendar: 'x',
        units: 'created',
        positions: 'created',
        settings: 'created',
        seal: 'created',
        checklist: 'created',
      },
    );

    const units = await env.db.tenant(ager.id, (tx) =>
      tx.selectFrom('units').select(['name', 'kind', 'dir3']).orderBy('name').execute(),
    );
    assert.deepEqual(units, [
      { name: 'Alcaldia', kind: 'organ', dir3: null },
      { name: 'Oficina de Registre General', kind: 'office', dir3: null },
      { name: 'Secretaria-Intervenció', kind: 'unit', dir3: null },
    ]);
    const positions = await env.db.tenant(ager.id, (tx) =>
      tx.selectFrom('positions').select(['kind', 'title']).orderBy('kind').execute(),
    );
    assert.deepEqual(positions, [
      { kind: 'mayor', title: 'Alcalde/essa' },
      { kind: 'secretary_intervenor', title: 'Secretari/ària-interventor/a' },
    ]);

    const admin = await env.db.platform((tx) =>
      tx
        .selectFrom('users as u')
        .innerJoin('memberships as m', 'm.user_id', 'u.id')
        .select(['u.id', 'u.name', 'u.email', 'u.totp_enabled_at', 'm.roles', 'm.tenant_id'])
        .where('u.username', '=', 'monica.puig')
        .execute(),
    );
    assert.equal(admin.length, 1);
    assert.equal(admin[0]!.tenant_id, ager.id);
    assert.equal(admin[0]!.name, 'Mònica Puig i Ferrer');
    assert.equal(admin[0]!.email, 'secretaria@ager.example');
    assert.deepEqual([...admin[0]!.roles].sort(), ['admin', 'handler', 'registrar', 'signer']);
    assert.equal(admin[0]!.totp_enabled_at, null);

    // The invitation e-mail, on behalf of the entity, with a one-time link; only its hash is stored.
    const mails = await outbox(ager.id);
    assert.equal(mails.length, 1);
    assert.equal(mails[0]!.template, 'user_invitation');
    assert.equal(mails[0]!.to_address, 'secretaria@ager.example');
    assert.equal(mails[0]!.language, 'ca');
    token = tokenOf(mails[0]!);
    assert.match(paramsOf(mails[0]!).link!, /^http:\/\/localhost:\d+\/app\/invitation\//);
    assert.equal(paramsOf(mails[0]!).entityName, 'Àger');
    const invitations = await env.db.platform((tx) =>
      tx.selectFrom('user_invitations').selectAll().where('user_id', '=', admin[0]!.id).execute(),
    );
    assert.equal(invitations.length, 1);
    assert.equal(invitations[0]!.token_hash, sha256(token));
    assert.equal(invitations[0]!.entity_id, ager.id);
    const validFor =
      new Date(invitations[0]!.expires_at).getTime() - new Date(invitations[0]!.created_at).getTime();
    assert.equal(validFor, 7 * 86_400_000);
    const stored = JSON.stringify(
      await env.db.owner((tx) => tx.selectFrom('user_invitations').selectAll().execute()),
    );
    assert.ok(!stored.includes(token), 'the token itself is not stored');

    const seals = await env.db.tenant(ager.id, (tx) =>
      tx.selectFrom('seals').select(['active', 'fingerprint_sha256']).execute(),
    );
    assert.equal(seals.length, 1);
    assert.equal(seals[0]!.active, true);
    const settings = await env.db.tenant(ager.id, (tx) =>
      tx.selectFrom('seu_settings').select('tenant_id').execute(),
    );
    assert.equal(settings.length, 1);

    const checklist = await env.db.platform((tx) =>
      tx
        .selectFrom('golive_checklist')
        .selectAll()
        .where('entity_id', '=', ager.id)
        .orderBy('item')
        .execute(),
    );
    assert.deepEqual(
      checklist.map((c) => [c.item, c.kind]),
      [
        ['dpa', 'document'],
        ['seal', 'fact'],
      ],
    );
    assert.equal(checklist[0]!.document_sha256, dpaSha);
    assert.equal(checklist[0]!.document_name, 'encarrec-tractament.pdf');
    assert.equal(checklist[1]!.reference, `sha256:${seals[0]!.fingerprint_sha256}`);

    const history = await env.db.platform((tx) =>
      tx
        .selectFrom('entity_state_changes')
        .select(['from_status', 'to_status', 'actor_label'])
        .where('entity_id', '=', ager.id)
        .orderBy('at')
        .orderBy('to_status', 'desc')
        .execute(),
    );
    assert.deepEqual(
      history.map((h) => [h.from_status, h.to_status]),
      [
        ['scheduled', 'provisioning'],
        ['provisioning', 'pilot'],
      ],
    );

    // Every creation is audited: on the platform chain and on the entity's own.
    const platform = await actions(PLATFORM_TENANT);
    for (const a of [
      'entity.state',
      'user.create',
      'membership.grant',
      'invitation.create',
      'checklist.record',
    ])
      assert.ok(platform.includes(a), `platform audit has ${a}`);
    const own = await actions(ager.id);
    assert.deepEqual(
      own.filter((a) => a !== 'membership.grant' && a !== 'invitation.create').sort(),
      [
        'position.create',
        'position.create',
        'seal.create',
        'seu.settings.update',
        'unit.create',
        'unit.create',
        'unit.create',
      ].sort(),
    );
    assert.ok(own.includes('membership.grant') && own.includes('invitation.create'));
  });

  it('provisioning the same entity a second time creates no row, event, certificate or e-mail', async () => {
    const rowsBefore = await everyTableCount();
    const blobsBefore = blobFiles(env);
    assert.ok(rowsBefore['public.audit_events']! > 0 && rowsBefore['public.mail_outbox'] === 1);
    const res = await provision(ager.slug);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.entity.status, 'pilot');
    assert.equal(body.invitationSent, false);
    assert.equal(body.adminUsername, 'monica.puig');
    for (const s of body.steps) assert.equal(s.done, 'existing', `${s.step} on the second run`);
    // The CLI's path (the function itself) too.
    const again = await provisionEntity(env, ager.id, {
      actor: { kind: 'cli', id: null, label: 'cli', platformRoles: ['operator'] },
      request: noRequest,
      clock: env.clock,
    });
    assert.ok(again.steps.every((s) => s.done === 'existing'));
    assert.deepEqual(await everyTableCount(), rowsBefore);
    assert.deepEqual(blobFiles(env), blobsBefore);
  });

  it('the invitation link sets the password once; the administrator logs in and must enrol TOTP', async () => {
    const headers = { origin: ORIGIN, host: 'localhost:80' };
    const view = await app.inject({ method: 'GET', url: `/api/v1/invitations/${token}`, headers });
    assert.equal(view.statusCode, 200, view.body);
    assert.deepEqual(view.json(), {
      username: 'monica.puig',
      name: 'Mònica Puig i Ferrer',
      entityName: 'Àger',
    });

    const weak = await app.inject({
      method: 'POST',
      url: `/api/v1/invitations/${token}`,
      headers,
      payload: { password: 'short' },
    });
    assert.equal(weak.statusCode, 400);
    assert.equal(weak.json().code, 'VALIDATION_FAILED');

    const password = 'una contrasenya llarga';
    const ok = await app.inject({
      method: 'POST',
      url: `/api/v1/invitations/${token}`,
      headers,
      payload: { password },
    });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json(), { username: 'monica.puig' });

    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/session',
      headers,
      payload: { username: 'monica.puig', password },
    });
    assert.equal(login.statusCode, 200, login.body);
    assert.equal(login.json().mustEnrolTotp, true);
    const cookie = login.cookies.find((c) => c.name === 'lligall_session')!;
    const entities = await app.inject({
      method: 'GET',
      url: '/api/v1/entities',
      headers: { ...headers, cookie: `lligall_session=${cookie.value}` },
    });
    assert.equal(entities.statusCode, 403);
    assert.equal(entities.json().code, 'TOTP_ENROLLMENT_REQUIRED');

    for (const method of ['GET', 'POST'] as const) {
      const used = await app.inject({
        method,
        url: `/api/v1/invitations/${token}`,
        headers,
        ...(method === 'POST' ? { payload: { password: 'una altra contrasenya' } } : {}),
      });
      assert.equal(used.statusCode, 404, `${method} of a used link`);
      assert.equal(used.json().code, 'INVITATION_INVALID');
    }
    const unknown = await app.inject({ method: 'GET', url: '/api/v1/invitations/not-a-token', headers });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().code, 'INVITATION_INVALID');

    const accepted = await env.db.owner((tx) =>
      tx
        .selectFrom('audit_events')
        .select(['tenant_id', 'actor_label'])
        .where('action', '=', 'invitation.accept')
        .execute(),
    );
    assert.deepEqual(accepted.map((a) => a.tenant_id).sort(), [PLATFORM_TENANT, ager.id].sort());
    assert.ok(accepted.every((a) => a.actor_label === 'monica.puig'));

    // A password now exists: a re-run sends no invitation.
    const rerun = await provision(ager.dir3);
    assert.equal(rerun.json().invitationSent, false);
  });

  it('an expired link is refused; a re-run after expiry sends a new one; without a request the operator names the administrator', async () => {
    const alos = await municipality('25003', 'scheduled');
    const noAdmin = await provision(alos.dir3);
    assert.equal(noAdmin.statusCode, 400);
    assert.equal(noAdmin.json().code, 'VALIDATION_FAILED');
    const first = await provision(alos.dir3, {
      adminName: 'Pere Roca',
      adminEmail: 'pere@alos.example',
      adminUsername: 'pere.roca.alos',
    });
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.json().adminUsername, 'pere.roca.alos');
    const oldToken = tokenOf((await outbox(alos.id))[0]!);

    env.clock.advance(7 * 86_400_000 + 60_000);
    const headers = { origin: ORIGIN, host: 'localhost:80' };
    const expired = await app.inject({
      method: 'POST',
      url: `/api/v1/invitations/${oldToken}`,
      headers,
      payload: { password: 'una contrasenya llarga' },
    });
    assert.equal(expired.statusCode, 404);
    assert.equal(expired.json().code, 'INVITATION_INVALID');

    operator = await loginHeaders(app, env, await makeUser(env, { platformRoles: ['operator'], totp: true }));
    const rerun = await provision(alos.dir3);
    assert.equal(rerun.statusCode, 200, rerun.body);
    assert.equal(rerun.json().invitationSent, true);
    assert.equal(rerun.json().steps.find((s: { step: string }) => s.step === 'invitation').done, 'created');
    const mails = await outbox(alos.id);
    assert.equal(mails.length, 2);
    const newToken = tokenOf(mails[1]!);
    assert.notEqual(newToken, oldToken);
    const ok = await app.inject({
      method: 'POST',
      url: `/api/v1/invitations/${newToken}`,
      headers,
      payload: { password: 'una contrasenya llarga' },
    });
    assert.equal(ok.statusCode, 200, ok.body);
  });

  it('two provisionings of one entity at the same time create one of everything', async () => {
    const aitona = await municipality('25006', 'scheduled');
    const body = { adminName: 'Anna Vidal', adminEmail: 'anna@aitona.example' };
    const [a, b] = await Promise.all([provision(aitona.dir3, body), provision(aitona.dir3, body)]);
    assert.equal(a.statusCode, 200, a.body);
    assert.equal(b.statusCode, 200, b.body);
    assert.equal([a.json(), b.json()].filter((r) => r.invitationSent).length, 1);
    const units = await env.db.tenant(aitona.id, (tx) => tx.selectFrom('units').select('kind').execute());
    assert.equal(units.length, 3);
    const positions = await env.db.tenant(aitona.id, (tx) =>
      tx.selectFrom('positions').select('kind').execute(),
    );
    assert.equal(positions.length, 2);
    const seals = await env.db.tenant(aitona.id, (tx) => tx.selectFrom('seals').select('id').execute());
    assert.equal(seals.length, 1);
    const admins = await env.db.platform((tx) =>
      tx.selectFrom('memberships').select('user_id').where('tenant_id', '=', aitona.id).execute(),
    );
    assert.equal(admins.length, 1);
    assert.equal((await outbox(aitona.id)).length, 1);
    const states = await env.db.platform((tx) =>
      tx.selectFrom('entity_state_changes').select('to_status').where('entity_id', '=', aitona.id).execute(),
    );
    assert.deepEqual(states.map((s) => s.to_status).sort(), ['pilot', 'provisioning']);
  });

  it('an entity in pilot is completed without a new administrator; other states are refused; the console is for operators', async () => {
    // An entity in pilot with an administrator who already has a password (created by hand).
    const alpicat = await municipality('25004', 'pilot');
    await makeUser(env, { tenant: alpicat, roles: ['admin'], totp: true, username: 'admin.alpicat' });
    const res = await provision(alpicat.dir3);
    assert.equal(res.statusCode, 200, res.body);
    const done = Object.fromEntries(
      res.json().steps.map((s: { step: string; done: string }) => [s.step, s.done]),
    );
    assert.equal(done.administrator, 'existing');
    assert.equal(done.invitation, 'existing');
    assert.equal(done.units, 'created');
    assert.equal(done.seal, 'created');
    assert.equal(res.json().adminUsername, 'admin.alpicat');
    assert.equal(res.json().entity.status, 'pilot');
    assert.equal((await outbox(alpicat.id)).length, 0);

    // An entity made by hand, without an INE code (as test fixtures are), provisions too.
    const byHand = await makeTenant(env, { status: 'scheduled' });
    const handRun = await provision(byHand.dir3, {
      adminName: 'Joan Prova',
      adminEmail: 'joan@prova.example',
    });
    assert.equal(handRun.statusCode, 200, handRun.body);
    assert.equal(handRun.json().entity.status, 'pilot');
    assert.equal(handRun.json().adminUsername, 'joan.prova');
    // Codes that contradict the province's data are refused.
    const wrong = await env.db.platform((tx) =>
      createTenant(tx, sys(), {
        kind: 'ajuntament',
        name: 'Codi erroni',
        dir3: 'L01259990',
        ine: '25999',
        status: 'scheduled',
      }),
    );
    const wrongRun = await provision(wrong.dir3);
    assert.equal(wrongRun.statusCode, 409);
    assert.equal(wrongRun.json().code, 'PROVISIONING_NOT_ALLOWED');

    const listed = await municipality('25005', 'listed');
    const refused = await app.inject({
      method: 'POST',
      url: `/api/v1/console/entities/${listed.dir3}/provision`,
      headers: operator, // no body: every field has a default
    });
    assert.equal(refused.statusCode, 409, refused.body);
    assert.equal(refused.json().code, 'PROVISIONING_NOT_ALLOWED');
    const counts = await env.db.tenant(listed.id, (tx) => tx.selectFrom('units').select('id').execute());
    assert.equal(counts.length, 0);

    const support = await loginHeaders(
      app,
      env,
      await makeUser(env, { platformRoles: ['support'], totp: true }),
    );
    const bySupport = await provision(alpicat.dir3, {}, support);
    assert.equal(bySupport.statusCode, 404);
    const unknown = await provision('L01999999');
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().code, 'ENTITY_NOT_FOUND');
  });
});
