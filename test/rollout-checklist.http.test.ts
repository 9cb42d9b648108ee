/**
 * The go-live checklist (issue 6, Build item 3) through the console API. Acceptance line: an entity
 * cannot become live while a checklist item is missing; the bypass of the certification gate
 * requires a reason and appears in the audit trail. Items are recorded as facts (JSON) or as PDF
 * documents (multipart, at most 10 MiB, stored in the blob store with their SHA-256).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { EntityStatus } from '#platform/db/schema.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { newId } from '#platform/ids.ts';
import { changeEntityState } from '#modules/rollout/lifecycle.service.ts';
import { CHECKLIST_ITEMS } from '#modules/rollout/rollout.model.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  blobFiles,
  loginHeaders,
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  type TestEnv,
  type TestUser,
} from '#test/helpers/harness.ts';

let env: TestEnv;
let app: FastifyInstance;
let operatorUser: TestUser;
let operator: Record<string, string>;
let support: Record<string, string>;
let migrated: Tenant;
let fresh: Tenant;

/** A wave of a call, with the entity assigned to it. */
async function assign(entity: Tenant, requiresCertification: boolean): Promise<void> {
  const now = env.clock.now();
  await env.db.platform(async (tx) => {
    const callId = newId();
    const waveId = newId();
    await tx
      .insertInto('rollout_calls')
      .values({
        id: callId,
        name: `Convocatòria ${callId}`,
        opens_on: '2026-01-01',
        closes_on: '2026-06-30',
        created_at: now,
        created_by: 'test',
      })
      .execute();
    await tx
      .insertInto('rollout_waves')
      .values({
        id: waveId,
        call_id: callId,
        name: `Onada ${waveId}`,
        planned_start: '2026-09-01',
        planned_end: '2026-12-31',
        requires_certification: requiresCertification,
        capacity: 10,
        created_at: now,
        created_by: 'test',
      })
      .execute();
    await tx
      .insertInto('rollout_assignments')
      .values({ entity_id: entity.id, wave_id: waveId, position: 1, assigned_at: now, assigned_by: 'test' })
      .execute();
  });
}

/** Asks for a state change: helper B's route when it is there, else the lifecycle service itself. */
async function setState(
  entity: Tenant,
  to: EntityStatus,
): Promise<{ status: number; body: Record<string, unknown> }> {
  if (app.hasRoute({ method: 'POST', url: '/api/v1/console/entities/:ref/state' })) {
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/console/entities/${entity.dir3}/state`,
      headers: operator,
      payload: { to },
    });
    return { status: res.statusCode, body: res.json() };
  }
  try {
    const t = await env.db.platform((tx) =>
      changeEntityState(
        tx,
        {
          actor: {
            kind: 'user',
            id: operatorUser.id,
            label: operatorUser.username,
            platformRoles: ['operator'],
          },
          request: { ip: null, userAgent: null },
          clock: env.clock,
        },
        entity.dir3,
        to,
      ),
    );
    return { status: 200, body: { status: t.status } };
  } catch (e) {
    const err = e as { code: string; details?: Record<string, unknown> };
    return { status: 409, body: { code: err.code, ...err.details } };
  }
}

function checklist(entity: Tenant, headers = operator) {
  return app.inject({ method: 'GET', url: `/api/v1/console/entities/${entity.dir3}/checklist`, headers });
}

function putFact(entity: Tenant, item: string, fact: string, reference?: string) {
  return app.inject({
    method: 'PUT',
    url: `/api/v1/console/entities/${entity.dir3}/checklist/${item}`,
    headers: operator,
    payload: { fact, ...(reference ? { reference } : {}) },
  });
}

/** A multipart body with a `reference` field and a `document` file part. */
function multipart(file: Buffer, fileName: string, reference?: string) {
  const boundary = `----lligall${newId()}`;
  const parts: Buffer[] = [];
  if (reference)
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="reference"\r\n\r\n${reference}\r\n`,
      ),
    );
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="document"; filename="${fileName}"\r\nContent-Type: application/pdf\r\n\r\n`,
    ),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { payload: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

function putDocument(entity: Tenant, item: string, file: Buffer, fileName: string, reference?: string) {
  const { payload, contentType } = multipart(file, fileName, reference);
  return app.inject({
    method: 'PUT',
    url: `/api/v1/console/entities/${entity.dir3}/checklist/${item}`,
    headers: { ...operator, 'content-type': contentType },
    payload,
  });
}

function bypass(entity: Tenant, payload: Record<string, unknown>) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/console/entities/${entity.dir3}/checklist/certification/bypass`,
    headers: operator,
    payload,
  });
}

before(async () => {
  env = await openTestEnv();
  app = await makeServer(env);
  operatorUser = await makeUser(env, { platformRoles: ['operator'], totp: true });
  operator = await loginHeaders(app, env, operatorUser);
  support = await loginHeaders(app, env, await makeUser(env, { platformRoles: ['support'], totp: true }));
  migrated = await makeTenant(env, { status: 'pilot' });
  fresh = await makeTenant(env, { status: 'pilot' });
  await assign(migrated, true);
  await assign(fresh, false);
});

after(async () => {
  await app?.close();
  await env?.close();
});

describe('the go-live checklist', () => {
  it('lists every item as missing; certification is required only in a wave that requires it', async () => {
    const res = await checklist(migrated);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual(
      body.items.map((i: { item: string }) => i.item),
      [...CHECKLIST_ITEMS],
    );
    assert.ok(
      body.items.every((i: { status: string; required: boolean }) => i.status === 'missing' && i.required),
    );
    assert.deepEqual(body.missing, [...CHECKLIST_ITEMS]);
    const other = (await checklist(fresh)).json();
    assert.equal(other.items.find((i: { item: string }) => i.item === 'certification').required, false);
    assert.ok(!other.missing.includes('certification'));
    assert.equal(
      (await checklist(migrated, support)).statusCode,
      404,
      'support technicians do not see the console',
    );
  });

  it('an entity cannot become live while an item is missing; the certification bypass needs a reason and is audited', async () => {
    const refused = await setState(migrated, 'live');
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'CHECKLIST_INCOMPLETE');
    assert.deepEqual(refused.body.missing, [...CHECKLIST_ITEMS]);

    // Facts for six items, a document for the seventh.
    const facts: Record<string, string> = {
      seu_decree: "Decret d'Alcaldia 2026/000012, de creació de la seu electrònica",
      registry_decree: "Decret d'Alcaldia 2026/000013, de creació del registre electrònic",
      csv_resolution: "Resolució 2026/000014 d'aprovació del CSV i les actuacions automatitzades",
      seal: "Segell d'òrgan instal·lat",
      accessibility_statement: "Declaració d'accessibilitat publicada a la seu",
      processing_record: "Registre d'activitats de tractament aprovat pel Ple",
    };
    for (const [item, fact] of Object.entries(facts)) {
      const r = await putFact(migrated, item, fact, 'BOPL 2026/123');
      assert.equal(r.statusCode, 200, `${item}: ${r.body}`);
    }
    const pdf = Buffer.from('%PDF-1.4\n% avís de privacitat\n%%EOF\n');
    const doc = await putDocument(migrated, 'privacy_notice', pdf, 'avis-privacitat.pdf', 'Web municipal');
    assert.equal(doc.statusCode, 200, doc.body);
    const sha = createHash('sha256').update(pdf).digest('hex');
    const privacy = doc.json().items.find((i: { item: string }) => i.item === 'privacy_notice');
    assert.deepEqual(
      {
        status: privacy.status,
        name: privacy.documentName,
        sha: privacy.documentSha256,
        ref: privacy.reference,
      },
      { status: 'document', name: 'avis-privacitat.pdf', sha, ref: 'Web municipal' },
    );
    assert.ok(
      blobFiles(env).some((f) => f.endsWith(sha)),
      'the document is in the blob store',
    );

    // Still missing: the data processing agreement and the certification.
    const stillMissing = await setState(migrated, 'live');
    assert.equal(stillMissing.status, 409);
    assert.deepEqual(stillMissing.body.missing, ['dpa', 'certification']);
    assert.equal((await putDocument(migrated, 'dpa', pdf, 'encarrec.pdf')).statusCode, 200);
    const onlyCertification = await setState(migrated, 'live');
    assert.equal(onlyCertification.status, 409);
    assert.equal(onlyCertification.body.code, 'CHECKLIST_INCOMPLETE');
    assert.deepEqual(onlyCertification.body.missing, ['certification']);

    // The certification is not recorded by hand; its bypass needs a reason.
    const byHand = await putFact(migrated, 'certification', 'Certificat');
    assert.equal(byHand.statusCode, 400);
    for (const payload of [{}, { reason: '' }, { reason: '   ' }, { reason: null }]) {
      const r = await bypass(migrated, payload);
      assert.equal(r.statusCode, 422, JSON.stringify(payload));
      assert.equal(r.json().code, 'BYPASS_REASON_REQUIRED');
    }
    const noBody = await app.inject({
      method: 'POST',
      url: `/api/v1/console/entities/${migrated.dir3}/checklist/certification/bypass`,
      headers: operator,
    });
    assert.equal(noBody.statusCode, 422, noBody.body);
    assert.equal(noBody.json().code, 'BYPASS_REASON_REQUIRED');
    assert.equal((await setState(migrated, 'live')).status, 409);

    const reason =
      "La importació ENI arriba amb una incidència posterior; l'entitat no té expedients migrats";
    const ok = await bypass(migrated, { reason });
    assert.equal(ok.statusCode, 200, ok.body);
    const cert = ok.json().items.find((i: { item: string }) => i.item === 'certification');
    assert.equal(cert.status, 'bypass');
    assert.equal(cert.bypassReason, reason);
    assert.deepEqual(ok.json().missing, []);

    const events = await env.db.owner((tx) =>
      tx
        .selectFrom('audit_events')
        .select(['actor_label', 'details', 'object_id'])
        .where('tenant_id', '=', PLATFORM_TENANT)
        .where('action', '=', 'checklist.bypass')
        .execute(),
    );
    assert.equal(events.length, 1);
    assert.equal(events[0]!.object_id, migrated.id);
    assert.equal(events[0]!.actor_label, operatorUser.username);
    assert.equal((events[0]!.details as { reason: string }).reason, reason);

    const live = await setState(migrated, 'live');
    assert.equal(live.status, 200, JSON.stringify(live.body));
    assert.equal(live.body.status, 'live');
    const history = await env.db.platform((tx) =>
      tx
        .selectFrom('entity_state_changes')
        .select(['from_status', 'to_status'])
        .where('entity_id', '=', migrated.id)
        .execute(),
    );
    assert.deepEqual(history, [{ from_status: 'pilot', to_status: 'live' }]);
  });

  it('refuses an unknown item, a file that is not a PDF and a document above 10 MiB, writing nothing', async () => {
    const rowsBefore = await env.db.platform((tx) =>
      tx.selectFrom('golive_checklist').select('item').where('entity_id', '=', fresh.id).execute(),
    );
    const blobsBefore = blobFiles(env);
    const unknown = await putFact(fresh, 'horoscope', 'Favorable');
    assert.equal(unknown.statusCode, 422);
    assert.equal(unknown.json().code, 'CHECKLIST_ITEM_UNKNOWN');
    const unknownDoc = await putDocument(fresh, 'horoscope', Buffer.from('%PDF-1.4\n'), 'h.pdf');
    assert.equal(unknownDoc.statusCode, 422);
    const notPdf = await putDocument(fresh, 'seu_decree', Buffer.from('GIF89a not a pdf'), 'decret.pdf');
    assert.equal(notPdf.statusCode, 415);
    assert.equal(notPdf.json().code, 'FILE_TYPE_NOT_ACCEPTED');
    const big = Buffer.alloc(10 * 1024 * 1024 + 1, 0x20);
    big.write('%PDF-1.4\n');
    const tooBig = await putDocument(fresh, 'seu_decree', big, 'decret.pdf');
    assert.equal(tooBig.statusCode, 413);
    const empty = await putFact(fresh, 'seu_decree', ' ');
    assert.equal(empty.statusCode, 400);
    const rowsAfter = await env.db.platform((tx) =>
      tx.selectFrom('golive_checklist').select('item').where('entity_id', '=', fresh.id).execute(),
    );
    assert.deepEqual(rowsAfter, rowsBefore);
    assert.deepEqual(blobFiles(env), blobsBefore);

    // Replacing an entry keeps the previous one in the audit trail.
    await putFact(fresh, 'seu_decree', 'Decret 2026/1');
    const replaced = await putFact(fresh, 'seu_decree', 'Decret 2026/2');
    assert.equal(replaced.json().items[0].fact, 'Decret 2026/2');
    const last = await env.db.owner((tx) =>
      tx
        .selectFrom('audit_events')
        .select('details')
        .where('tenant_id', '=', PLATFORM_TENANT)
        .where('action', '=', 'checklist.record')
        .where('object_id', '=', fresh.id)
        .orderBy('seq', 'desc')
        .executeTakeFirstOrThrow(),
    );
    assert.equal((last.details as { replaced: { fact: string } }).replaced.fact, 'Decret 2026/1');
  });
});
