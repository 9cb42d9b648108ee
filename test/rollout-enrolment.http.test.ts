import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { PDFDocument } from 'pdf-lib';
import { noRequest, systemActor } from '#platform/context.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { newId } from '#platform/ids.ts';
import { MAIL_JOB } from '#platform/mail/mail.service.ts';
import type { SigningIdentity } from '#platform/pdf/cades.ts';
import { signPdfDocument } from '#platform/pdf/pades.ts';
import { madridDateOf } from '#modules/calendar/civil-date.ts';
import { callForDate } from '#modules/rollout/enrolment.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { createTenant, importProvince } from '#modules/tenancy/tenancy.service.ts';
import { CITIZENS, citizenHeaders } from '#test/helpers/citizens.ts';
import {
  blobFiles,
  loginHeaders,
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  rowCounts,
  type TestEnv,
} from '#test/helpers/harness.ts';
import { multipart } from '#test/helpers/multipart.ts';
import { testSigningIdentity } from '#test/helpers/pki.ts';

/**
 * Enrolment requests (issue 6 item 1), on the backend the suite runs on: the province's
 * municipalities (imported from data/seed) on the Diputació's seu only; a citizen files a request
 * with real PAdES-signed PDFs → an input entry of the Diputació's registry with the three files and
 * its sealed receipt, the entity listed → requested; an unsigned PDF or a non-PDF is refused and
 * writes nothing; a duplicate is refused; the operators' inbox (others get 404) decides: corrections
 * (a new filing supersedes), reject (entity back to listed), accept (an EMD's tenant is created),
 * each audited on the platform chain and e-mailed to the mayor and the secretary.
 */

let env: TestEnv;
let app: FastifyInstance;
let dip: Tenant;
let operator: Record<string, string>;
let registrar: Record<string, string>;
let outsider: Record<string, string>;
let citizen: Record<string, string>;
let signer: SigningIdentity;
let callId: string;
const SEU = () => `/api/v1/seu/${dip.slug}`;
const CONSOLE = '/api/v1/console/enrolment-requests';
const sys = () => ({ actor: systemActor, request: noRequest, clock: env.clock });

async function pdf(title: string, sign: boolean): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage().drawText(title, { x: 50, y: 780, size: 12 });
  if (!sign) return Buffer.from(await doc.save());
  return signPdfDocument(doc, signer, {
    name: 'Alcaldessa de prova',
    reason: title,
    location: 'Lleida',
    contactInfo: 'alcaldia@example.org',
    signingTime: env.clock.now(),
  });
}

let act: Buffer;
let signedRequest: Buffer;
let signedDpa: Buffer;
let unsigned: Buffer;

function fieldsFor(over: Record<string, string> = {}): Record<string, string> {
  return {
    entityKind: 'ajuntament',
    ine: '25001',
    mayorName: 'Alcaldessa de Prova',
    mayorEmail: 'alcaldia@abella.example.org',
    mayorPhone: '973 000 000',
    secretaryName: 'Secretari de Prova',
    secretaryEmail: 'secretaria@abella.example.org',
    population: '156',
    currentProvider: '',
    adhesionActKind: 'ple_resolution',
    adhesionActDate: '2026-01-15',
    language: 'ca',
    ...over,
  };
}

function fileRequest(
  fields: Record<string, string>,
  files: { adhesionAct?: Buffer; signedRequest?: Buffer; dpa?: Buffer } = {},
  headers = citizen,
) {
  const parts = [
    { field: 'adhesionAct', name: 'acord-ple.pdf', type: 'application/pdf', data: files.adhesionAct ?? act },
    {
      field: 'signedRequest',
      name: 'sollicitud-signada.pdf',
      type: 'application/pdf',
      data: files.signedRequest ?? signedRequest,
    },
    { field: 'dpa', name: 'encarrec-tractament.pdf', type: 'application/pdf', data: files.dpa ?? signedDpa },
  ];
  const form = multipart(fields, parts);
  return app.inject({
    method: 'POST',
    url: `${SEU()}/enrolment-requests`,
    headers: { ...headers, ...form.headers },
    payload: form.body,
  });
}

const get = (url: string, headers: Record<string, string>) => app.inject({ method: 'GET', url, headers });
const post = (url: string, headers: Record<string, string>, payload: object) =>
  app.inject({ method: 'POST', url, headers, payload });

async function entityStatus(ine: string): Promise<string> {
  const r = await env.db.platform((tx) =>
    tx.selectFrom('tenants').select('status').where('ine', '=', ine).executeTakeFirstOrThrow(),
  );
  return r.status;
}

async function requestRow(id: string) {
  return env.db.platform((tx) =>
    tx.selectFrom('enrolment_requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
  );
}

async function platformEvents(action: string, objectId: string) {
  return env.db.platform((tx) =>
    tx
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', PLATFORM_TENANT)
      .where('action', '=', action)
      .where('object_id', '=', objectId)
      .execute(),
  );
}

async function outbox(template: string) {
  return env.db.tenant(dip.id, (tx) =>
    tx
      .selectFrom('mail_outbox')
      .selectAll()
      .where('tenant_id', '=', dip.id)
      .where('template', '=', template)
      .orderBy('to_address')
      .execute(),
  );
}

/** The .eml files the file transport wrote (no SMTP server in tests), by content. */
function emlTexts(): string[] {
  const dir = path.join(env.dataDir, 'mail');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
}

before(async () => {
  env = await openTestEnv();
  app = await makeServer(env);
  ({ signer } = await testSigningIdentity('Alcaldessa de Prova'));
  await env.db.platform(async (tx) => {
    await importProvince(tx, sys());
    dip = await createTenant(tx, sys(), {
      kind: 'diputacio',
      name: 'Diputació de Lleida',
      dir3: 'L02000025',
      status: 'live',
    });
    const today = madridDateOf(env.clock.now());
    const y = Number(today.slice(0, 4));
    callId = newId();
    await tx
      .insertInto('rollout_calls')
      .values([
        {
          id: newId(),
          name: 'Convocatòria passada',
          opens_on: `${y - 2}-01-01`,
          closes_on: `${y - 2}-12-31`,
          created_at: env.clock.now(),
          created_by: 'test',
        },
        {
          id: callId,
          name: 'Convocatòria oberta',
          opens_on: `${y - 1}-01-01`,
          closes_on: `${y + 1}-12-31`,
          created_at: env.clock.now(),
          created_by: 'test',
        },
      ])
      .execute();
  });
  const other = await makeTenant(env);
  operator = await loginHeaders(app, env, await makeUser(env, { platformRoles: ['operator'], totp: true }));
  registrar = await loginHeaders(app, env, await makeUser(env, { tenant: dip, roles: ['registrar'] }));
  outsider = await loginHeaders(
    app,
    env,
    await makeUser(env, { tenant: other, roles: ['admin'], totp: true }),
  );
  citizen = await citizenHeaders(env, { ...CITIZENS.anna, email: 'anna@example.org', language: 'ca' });
  [act, signedRequest, signedDpa, unsigned] = await Promise.all([
    pdf("Acord del Ple d'adhesió", false),
    pdf("Sol·licitud d'alta signada", true),
    pdf('Encàrrec de tractament signat', true),
    pdf('Sol·licitud sense signar', false),
  ]);
});
after(async () => {
  await app?.close();
  await env?.close();
});

describe('enrolment requests', () => {
  let filedId: string;

  it('lists the province’s 231 municipalities by name, on the Diputació’s seu only', async () => {
    const r = await get(`${SEU()}/enrolment/entities`, {});
    assert.equal(r.statusCode, 200, r.body);
    const list = r.json() as { ine: string; dir3: string; name: string; status: string }[];
    assert.equal(list.length, 231);
    assert.deepEqual(list[0], {
      ine: '25001',
      dir3: 'L01250019',
      name: 'Abella de la Conca',
      comarca: 'Pallars Jussà',
      population: 156,
      status: 'listed',
    });
    assert.ok(list.some((m) => m.name === 'Lleida' && m.ine === '25120'));
    const doc = (await get('/api/v1/openapi.json', {})).json();
    assert.ok(doc.paths['/api/v1/seu/{slug}/enrolment-requests'].post, 'documented in the OpenAPI');
    assert.ok(doc.paths['/api/v1/console/enrolment-requests/{id}/reject'].post);
    const other = await makeTenant(env);
    const r404 = await get(`/api/v1/seu/${other.slug}/enrolment/entities`, {});
    assert.equal(r404.statusCode, 404);
    assert.equal(r404.json().code, 'ENTITY_NOT_FOUND');
  });

  it('refuses an unsigned request, or a file that is not a PDF, and writes nothing', async () => {
    const tables = ['registry_entries', 'enrolment_requests', 'entity_state_changes', 'audit_events'];
    const before = await rowCounts(env, tables);
    const blobsBefore = blobFiles(env);
    const r = await fileRequest(fieldsFor(), { signedRequest: unsigned });
    assert.equal(r.statusCode, 422, r.body);
    assert.equal(r.json().code, 'ENROLMENT_SIGNATURE_INVALID');
    const r2 = await fileRequest(fieldsFor(), { dpa: unsigned });
    assert.equal(r2.json().code, 'ENROLMENT_SIGNATURE_INVALID');
    // A signed PDF altered after signing: its only signature is not intact.
    const tampered = Buffer.from(signedDpa);
    const at = tampered.indexOf('Encàrrec') > 0 ? tampered.indexOf('/Producer') : 200;
    tampered[at + 1] = tampered[at + 1]! ^ 0x01;
    const r3 = await fileRequest(fieldsFor(), { dpa: tampered });
    assert.equal(r3.statusCode, 422, r3.body);
    assert.equal(r3.json().code, 'ENROLMENT_SIGNATURE_INVALID');
    const r4 = await fileRequest(fieldsFor(), { adhesionAct: Buffer.from('GIF89a not a pdf') });
    assert.equal(r4.statusCode, 422, r4.body);
    assert.equal(r4.json().code, 'ENROLMENT_FILE_INVALID');
    // 10 MiB is the limit of each file.
    const big = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(10 * 1024 * 1024)]);
    const r4b = await fileRequest(fieldsFor(), { adhesionAct: big });
    assert.equal(r4b.statusCode, 422, r4b.body);
    assert.equal(r4b.json().code, 'ENROLMENT_FILE_INVALID');
    const r5 = await fileRequest(fieldsFor({ ine: '99999' }));
    assert.equal(r5.json().code, 'ENROLMENT_ENTITY_UNKNOWN');
    const r6 = await fileRequest(fieldsFor({ mayorEmail: 'no' }));
    assert.equal(r6.statusCode, 400);
    assert.deepEqual(r6.json().fields, ['mayorEmail']);
    const anon = await fileRequest(fieldsFor(), {}, { origin: citizen.origin!, host: citizen.host! });
    assert.equal(anon.statusCode, 401);
    assert.deepEqual(await rowCounts(env, tables), before);
    assert.deepEqual(blobFiles(env), blobsBefore);
    assert.equal(await entityStatus('25001'), 'listed');
  });

  it('files a request: an input entry of the Diputació’s registry with the three files and its receipt; the entity is requested', async () => {
    const r = await fileRequest(fieldsFor());
    assert.equal(r.statusCode, 201, r.body);
    const body = r.json();
    assert.equal(body.status, 'submitted');
    assert.match(body.registryNumber, /^E\/\d{4}\/\d{6}$/);
    assert.match(body.receiptCsv, /^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
    filedId = body.id;
    const row = await requestRow(filedId);
    assert.equal(row.registry_tenant_id, dip.id);
    assert.equal(row.registry_number, body.registryNumber);
    assert.equal(row.call_id, callId);
    assert.equal(row.current_provider, null);
    const entry = await get(`/api/v1/entities/${dip.slug}/registry/${row.registry_entry_id}`, registrar);
    assert.equal(entry.statusCode, 200, entry.body);
    const e = entry.json();
    assert.equal(e.number, body.registryNumber);
    assert.equal(e.direction, 'E');
    assert.equal(e.channel, 'electronic');
    assert.equal(e.party.identifier, CITIZENS.anna.identifier);
    assert.match(e.heading, /alta/);
    assert.ok(e.text.includes('Abella de la Conca'), e.text);
    assert.deepEqual(
      e.attachments.map((a: { fileName: string; sha256: string }) => [a.fileName, a.sha256]),
      [
        ['acord-ple.pdf', act],
        ['sollicitud-signada.pdf', signedRequest],
        ['encarrec-tractament.pdf', signedDpa],
      ].map(([n, d]) => [
        n,
        createHash('sha256')
          .update(d as Buffer)
          .digest('hex'),
      ]),
    );
    assert.equal(e.receipt.csv, body.receiptCsv);
    const receipt = await get(body.receiptUrl, citizen);
    assert.equal(receipt.statusCode, 200, receipt.body);
    assert.equal(receipt.headers['content-type'], 'application/pdf');
    assert.equal(await entityStatus('25001'), 'requested');
    const changes = await env.db.platform((tx) =>
      tx
        .selectFrom('entity_state_changes as c')
        .innerJoin('tenants as t', 't.id', 'c.entity_id')
        .select(['c.from_status', 'c.to_status', 'c.actor_label'])
        .where('t.ine', '=', '25001')
        .execute(),
    );
    assert.deepEqual(changes, [
      { from_status: 'listed', to_status: 'requested', actor_label: `citizen:${CITIZENS.anna.identifier}` },
    ]);
    assert.equal((await platformEvents('enrolment.submit', filedId)).length, 1);
  });

  it('refuses a second request for the same entity (409)', async () => {
    const r = await fileRequest(fieldsFor({ mayorName: 'Una altra persona' }));
    assert.equal(r.statusCode, 409, r.body);
    assert.equal(r.json().code, 'ENROLMENT_DUPLICATE');
  });

  it('two requests for one entity filed at once: one is registered, the other is a duplicate', async () => {
    const [a, b] = await Promise.all([
      fileRequest(fieldsFor({ ine: '25209' })),
      fileRequest(fieldsFor({ ine: '25209', mayorName: 'Una altra persona' })),
    ]);
    assert.deepEqual([a.statusCode, b.statusCode].sort(), [201, 409], `${a.body} ${b.body}`);
    const rows = await env.db.platform((tx) =>
      tx
        .selectFrom('enrolment_requests as r')
        .innerJoin('tenants as t', 't.id', 'r.entity_id')
        .select('r.id')
        .where('t.ine', '=', '25209')
        .execute(),
    );
    assert.equal(rows.length, 1);
  });

  it('a request belongs to the call open on its filing date (Europe/Madrid), else to the next one', async () => {
    const y = Number(madridDateOf(env.clock.now()).slice(0, 4));
    const [open, between, after, none] = await env.db.platform(async (tx) => {
      const later = newId();
      await tx
        .insertInto('rollout_calls')
        .values({
          id: later,
          name: 'Convocatòria següent',
          opens_on: `${y + 3}-01-01`,
          closes_on: `${y + 3}-06-30`,
          created_at: env.clock.now(),
          created_by: 'test',
        })
        .execute();
      return [
        await callForDate(tx, `${y}-06-01`),
        await callForDate(tx, `${y + 2}-06-01`),
        await callForDate(tx, `${y + 3}-03-01`),
        await callForDate(tx, `${y + 4}-01-01`),
      ].map((id) => (id === later ? 'later' : id === callId ? 'open' : id));
    });
    assert.deepEqual([open, between, after, none], ['open', 'later', 'later', null]);
  });

  it('the inbox is the operators’ only: others get 404', async () => {
    // Staff of an entity (even its administrator) get 404; a citizen's seu login is no staff login (401).
    assert.equal((await get(CONSOLE, citizen)).statusCode, 401);
    for (const h of [outsider, registrar]) {
      assert.equal((await get(CONSOLE, h)).statusCode, 404);
      assert.equal((await get(`${CONSOLE}/${filedId}`, h)).statusCode, 404);
      assert.equal((await post(`${CONSOLE}/${filedId}/accept`, h, {})).statusCode, 404);
    }
    const list = await get(`${CONSOLE}?status=submitted`, operator);
    assert.equal(list.statusCode, 200, list.body);
    const mine = list.json().find((x: { id: string }) => x.id === filedId);
    assert.equal(mine.entityName, 'Abella de la Conca');
    assert.equal(mine.ine, '25001');
    assert.equal(mine.dir3, 'L01250019');
    assert.equal(mine.callName, 'Convocatòria oberta');
    const d = await get(`${CONSOLE}/${filedId}`, operator);
    assert.equal(d.statusCode, 200, d.body);
    const detail = d.json();
    assert.equal(detail.signatures.request.integrity, 'valid');
    assert.deepEqual(
      detail.adhesionAct,
      { kind: 'ple_resolution', date: '2026-01-15' },
      'the civil date as filed',
    );
    assert.equal(detail.signatures.request.signerName, 'Alcaldessa de Prova');
    assert.equal(detail.signatures.dpa.integrity, 'valid');
    assert.deepEqual(
      detail.files.map((f: { role: string }) => f.role),
      ['adhesion_act', 'signed_request', 'dpa'],
    );
    const f = await get(`${CONSOLE}/${filedId}/files/dpa`, operator);
    assert.equal(f.statusCode, 200);
    assert.deepEqual(f.rawPayload, signedDpa);
  });

  it('corrections: e-mailed to the mayor and the secretary, audited; a new filing supersedes the request', async () => {
    const r = await post(`${CONSOLE}/${filedId}/request-corrections`, operator, {
      reason: "Falta la data de l'acord al document.",
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().status, 'corrections_requested');
    assert.equal(r.json().statusReason, "Falta la data de l'acord al document.");
    const mails = await outbox('enrolment_corrections');
    assert.deepEqual(
      mails.map((m) => m.to_address),
      ['alcaldia@abella.example.org', 'secretaria@abella.example.org'],
    );
    assert.equal(await env.jobs.drain(MAIL_JOB), 2);
    const eml = emlTexts().filter((t) => t.includes('secretaria@abella.example.org'));
    assert.equal(eml.length, 1, 'the message was written (file transport)');
    assert.match(eml[0]!, /Subject: .*esmenar/);
    assert.ok(mails[0]!.params.formUrl!.endsWith(`/seu/${dip.slug}/alta`), mails[0]!.params.formUrl);
    assert.equal(mails[0]!.params.reason, "Falta la data de l'acord al document.");
    assert.equal((await platformEvents('enrolment.request_corrections', filedId)).length, 1);
    assert.equal(await entityStatus('25001'), 'requested');

    const again = await fileRequest(fieldsFor({ language: 'es' }));
    assert.equal(again.statusCode, 201, again.body);
    const old = await requestRow(filedId);
    assert.equal(old.status, 'rejected');
    assert.match(old.status_reason!, /Superseded by E\//);
    filedId = again.json().id;
  });

  it('reject: the entity goes back to listed, e-mailed in the request’s language, audited; not twice', async () => {
    const r = await post(`${CONSOLE}/${filedId}/reject`, operator, {
      reason: 'La sol·licitud no és vàlida.',
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().status, 'rejected');
    assert.equal(await entityStatus('25001'), 'listed');
    const mails = await outbox('enrolment_rejected');
    assert.equal(mails.length, 2);
    assert.ok(mails.every((m) => m.language === 'es'));
    assert.match(mails[0]!.subject, /denegado/);
    assert.equal((await platformEvents('enrolment.reject', filedId)).length, 1);
    const twice = await post(`${CONSOLE}/${filedId}/accept`, operator, {});
    assert.equal(twice.statusCode, 409);
    assert.equal(twice.json().code, 'ENROLMENT_ALREADY_DECIDED');
  });

  it('accept: an ajuntament stays requested; an EMD’s tenant is created under its parent', async () => {
    const a = await fileRequest(fieldsFor({ ine: '25234', mayorEmail: 'alcaldia@tremp.example.org' }));
    assert.equal(a.statusCode, 201, a.body);
    // Accepting needs no body at all.
    const acc = await app.inject({
      method: 'POST',
      url: `${CONSOLE}/${a.json().id}/accept`,
      headers: operator,
    });
    assert.equal(acc.statusCode, 200, acc.body);
    assert.equal(acc.json().status, 'accepted');
    assert.equal(await entityStatus('25234'), 'requested');
    assert.equal((await outbox('enrolment_accepted')).length, 2);
    assert.equal((await platformEvents('enrolment.accept', a.json().id)).length, 1);
    const dup = await fileRequest(fieldsFor({ ine: '25234' }));
    assert.equal(dup.json().code, 'ENROLMENT_DUPLICATE');

    const emd = await fileRequest(
      fieldsFor({
        entityKind: 'emd',
        ine: '',
        emdName: 'EMD de Prova',
        emdDir3: 'L05000999',
        parentIne: '25234',
        population: '120',
      }),
    );
    assert.equal(emd.statusCode, 201, emd.body);
    const ok = await post(`${CONSOLE}/${emd.json().id}/accept`, operator, {});
    assert.equal(ok.statusCode, 200, ok.body);
    const t = await env.db.platform((tx) =>
      tx.selectFrom('tenants').selectAll().where('dir3', '=', 'L05000999').executeTakeFirstOrThrow(),
    );
    assert.equal(t.kind, 'emd');
    assert.equal(t.status, 'requested');
    assert.equal(ok.json().entityId, t.id);
    assert.equal(ok.json().entityName, 'EMD de Prova');
  });
});
