import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { noRequest, systemActor } from '#platform/context.ts';
import { listEventsForObjects } from '#modules/audit/audit.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { createTenant } from '#modules/tenancy/tenancy.service.ts';
import { citizenHeaders } from '#test/helpers/citizens.ts';
import {
  loginHeaders,
  makeServer,
  makeUser,
  openTestEnv,
  type TestEnv,
  TestClock,
} from '#test/helpers/harness.ts';
import { multipart } from '#test/helpers/multipart.ts';
import { pdftotext } from '#test/helpers/pdf-tools.ts';

/**
 * Paper notification (LPACAP art. 42.2) in Abella de la Conca (INE 25001), whose calendar has Good
 * Friday (2026-04-03) and Easter Monday (2026-04-06) as holidays: after an absent first attempt on
 * Thursday 2026-04-02 in the morning, the 3 business days are 04-07, 04-08 and 04-09.
 */

let env: TestEnv;
let app: FastifyInstance;
let abella: Tenant;
let handlerUser: Awaited<ReturnType<typeof makeUser>>;
let handler: Record<string, string>;
let base: string;
let expedientId: string;
let docId: string;
let bernatId: string;
// Time only moves forward in this file (the demo seal is issued at the first evidence).
let p1: string;
let p2: string;
const BERNAT = { identifier: '00000002W', name: 'Bernat', surname1: 'Prova', surname2: 'Exemple' };

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('avís de recepció escanejat'),
]);
const SCAN = Buffer.from('%PDF-1.4\n% justificant de recepció signat\n');

async function setClock(t: string) {
  env.clock.set(t);
  handler = await loginHeaders(app, env, handlerUser);
}

async function notifyOnPaper(subject: string): Promise<string> {
  const r = await app.inject({
    method: 'POST',
    url: `${base}/expedients/${expedientId}/notifications`,
    headers: handler,
    payload: {
      subject,
      actText: 'RESOLC: Requerir l’esmena de la sol·licitud en el termini de deu dies.',
      endsAdministrativeRoute: false,
      appeals: [],
      documentIds: [docId],
      recipients: [{ partyId: bernatId }],
    },
  });
  assert.equal(r.statusCode, 201, r.body);
  const n = r.json().items[0];
  assert.equal(n.channel, 'paper');
  assert.equal(n.availableUntil, null);
  return n.id;
}

async function attempt(
  id: string,
  fields: Record<string, string>,
  file?: { name: string; type: string; data: Buffer },
) {
  const m = multipart(fields, file ? { ...file, field: 'acknowledgement' } : undefined);
  return app.inject({
    method: 'POST',
    url: `${base}/notifications/${id}/attempts`,
    headers: { ...handler, ...m.headers },
    payload: m.body,
  });
}

const absent = (at: string) => ({ attemptedAt: at, outcome: 'absent' });

before(async () => {
  env = await openTestEnv({ clock: new TestClock('2026-04-01T08:00:00Z') });
  app = await makeServer(env);
  abella = await env.db.platform((tx) =>
    createTenant(
      tx,
      { actor: systemActor, request: noRequest, clock: env.clock },
      {
        kind: 'ajuntament',
        name: 'Ajuntament d’Abella de la Conca',
        dir3: 'L01250019',
        ine: '25001',
        comarca: 'Pallars Jussà',
        status: 'live',
      },
    ),
  );
  base = `/api/v1/entities/${abella.slug}`;
  handlerUser = await makeUser(env, { tenant: abella, roles: ['handler'] });
  handler = await loginHeaders(app, env, handlerUser);
  const p = await app.inject({
    method: 'POST',
    url: `${base}/parties`,
    headers: handler,
    payload: {
      ...BERNAT,
      address: { street: 'Carrer Major, 3', postalCode: '25651', municipality: 'Abella de la Conca' },
    },
  });
  assert.equal(p.statusCode, 201, p.body);
  bernatId = p.json().id;
  const e = await app.inject({
    method: 'POST',
    url: `${base}/expedients`,
    headers: handler,
    payload: { title: 'Requeriment d’esmena', parties: [{ partyId: bernatId, role: 'applicant' }] },
  });
  expedientId = e.json().id;
  const form = multipart(
    { title: 'Requeriment', documentType: 'TD06' },
    { name: 'requeriment.pdf', type: 'application/pdf', data: Buffer.from('%PDF-1.4\n% requeriment\n') },
  );
  const up = await app.inject({
    method: 'POST',
    url: `${base}/expedients/${expedientId}/documents`,
    headers: { ...handler, ...form.headers },
    payload: form.body,
  });
  assert.equal(up.statusCode, 201, up.body);
  docId = up.json().id;
  p1 = await notifyOnPaper('Requeriment d’esmena');
  p2 = await notifyOnPaper('Requeriment (segon)');
});

after(async () => {
  await app.close();
  await env.close();
});

describe('paper attempts (LPACAP art. 42.2) with the entity’s calendar', () => {
  it('attempts at 14:30 and 16:00 on the same day are refused (less than 3 hours apart)', async () => {
    await setClock('2026-04-02T16:00:00Z');
    const first = await attempt(p2, absent('2026-04-02T14:30:00+02:00'));
    assert.equal(first.statusCode, 201, first.body);
    const second = await attempt(p2, absent('2026-04-02T16:00:00+02:00'));
    assert.equal(second.statusCode, 422);
    assert.equal(second.json().code, 'NOTIFICATION_ATTEMPT_TOO_SOON');
    // The same day, after 15:00 and 3 hours later, is within the rule.
    const later = await attempt(p2, absent('2026-04-02T17:30:00+02:00'));
    assert.equal(later.statusCode, 201, later.body);
  });

  it('after an absent first attempt on Thursday 2026-04-02 (morning): Monday 04-13 is refused, Wednesday 04-08 after 15:00 accepted', async () => {
    const first = await attempt(p1, absent('2026-04-02T10:00:00+02:00'), {
      name: 'avis.png',
      type: 'image/png',
      data: PNG,
    });
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(first.json().state, 'available');
    assert.equal(first.json().attempts[0].outcome, 'absent');
    assert.ok(first.json().attempts[0].acknowledgementDocumentId);
    await setClock('2026-04-13T16:00:00Z');
    const late = await attempt(p1, absent('2026-04-13T17:00:00+02:00'));
    assert.equal(late.statusCode, 422, late.body);
    assert.equal(late.json().code, 'NOTIFICATION_ATTEMPT_OUT_OF_TERM');
    assert.equal(late.json().details?.lastDay ?? '2026-04-09', '2026-04-09');
    const sameHalf = await attempt(p1, absent('2026-04-08T11:00:00+02:00'));
    assert.equal(sameHalf.json().code, 'NOTIFICATION_ATTEMPT_SAME_HALF_DAY');
    const second = await attempt(p1, absent('2026-04-08T16:30:00+02:00'));
    assert.equal(second.statusCode, 201, second.body);
    const v = second.json();
    assert.equal(v.attempts.length, 2);
    // Two absent attempts: failed, with its evidence.
    assert.equal(v.state, 'failed');
    assert.equal(v.notifiedAt, null);
    assert.equal(v.evidence[0].key, 'failed');
    assert.ok(v.evidence[0].documentId);
    const third = await attempt(p1, absent('2026-04-09T16:30:00+02:00'));
    assert.equal(third.json().code, 'NOTIFICATION_ATTEMPTS_CLOSED');
  });

  it('records a delivery to another person over 14 with name and identity document; a second attempt cannot follow', async () => {
    await setClock('2026-04-14T06:00:00Z');
    const p3 = await notifyOnPaper('Requeriment (tercer)');
    await setClock('2026-04-14T10:00:00Z');
    const under14 = await attempt(
      p3,
      {
        attemptedAt: '2026-04-14T11:00:00+02:00',
        outcome: 'delivered',
        receiverKind: 'other',
        receiverName: 'Pere Veí',
        receiverIdentityDocument: '00000004G',
        receiverOver14: 'false',
      },
      { name: 'acus.pdf', type: 'application/pdf', data: SCAN },
    );
    assert.equal(under14.json().code, 'NOTIFICATION_RECEIVER_UNDER_14');
    const noScan = await attempt(p3, {
      attemptedAt: '2026-04-14T11:00:00+02:00',
      outcome: 'delivered',
      receiverKind: 'party',
    });
    assert.equal(noScan.statusCode, 400, noScan.body);
    const wrongType = await attempt(
      p3,
      { attemptedAt: '2026-04-14T11:00:00+02:00', outcome: 'delivered', receiverKind: 'party' },
      { name: 'acus.txt', type: 'text/plain', data: Buffer.from('no') },
    );
    assert.equal(wrongType.json().code, 'FILE_TYPE_NOT_ACCEPTED');
    const delivered = await attempt(
      p3,
      {
        attemptedAt: '2026-04-14T11:00:00+02:00',
        outcome: 'delivered',
        receiverKind: 'other',
        receiverName: 'Pere Veí',
        receiverIdentityDocument: '00000004g',
        receiverRelationship: 'veí',
        receiverOver14: 'true',
      },
      { name: 'acus.pdf', type: 'application/pdf', data: SCAN },
    );
    assert.equal(delivered.statusCode, 201, delivered.body);
    const v = delivered.json();
    assert.equal(v.state, 'delivered');
    assert.equal(v.notifiedAt, '2026-04-14T09:00:00.000Z');
    assert.deepEqual(v.attempts[0].receiver, {
      kind: 'other',
      name: 'Pere Veí',
      identityDocument: '00000004G',
      relationship: 'veí',
    });
    assert.equal(v.evidence[0].key, 'delivered');
    const pdf = (
      await app.inject({
        method: 'GET',
        url: `${base}/notifications/${p3}/evidence/delivered`,
        headers: handler,
      })
    ).rawPayload;
    const text = pdftotext(pdf).replace(/\s+/g, ' ');
    assert.match(text, /lliurament en paper/);
    assert.match(text, /Pere Veí \(00000004G\)/);
    const again = await attempt(p3, absent('2026-04-14T11:30:00+02:00'));
    assert.equal(again.json().code, 'NOTIFICATION_ATTEMPT_NOT_AFTER_ABSENCE');
    // The scan joined the case file.
    const index = (
      await app.inject({ method: 'GET', url: `${base}/expedients/${expedientId}/index`, headers: handler })
    ).json();
    assert.ok(
      index.entries.some(
        (e: { documentId: string }) => e.documentId === v.attempts[0].acknowledgementDocumentId,
      ),
    );
  });

  it('the failed notification is sent for publication with an edict naming the person only by identity document', async () => {
    const r = await app.inject({
      method: 'POST',
      url: `${base}/notifications/${p1}/publication`,
      headers: handler,
    });
    assert.equal(r.statusCode, 201, r.body);
    const v = r.json();
    assert.equal(v.state, 'sent_for_publication');
    assert.equal(v.publication.state, 'sent_for_publication');
    assert.equal(v.publication.bulletin, 'BOE');
    assert.equal(v.publication.publishedIdentifier, BERNAT.identifier);
    assert.ok(v.publication.edictText.includes(BERNAT.identifier));
    assert.ok(!v.publication.edictText.includes('Bernat'), 'never the name with the identity number');
    assert.ok(v.publication.edictDocumentId);
    const pdf = (
      await app.inject({ method: 'GET', url: `${base}/notifications/${p1}/evidence/edict`, headers: handler })
    ).rawPayload;
    const text = pdftotext(pdf).replace(/\s+/g, ' ');
    assert.match(text, /Anunci de notificació/);
    assert.ok(text.includes(BERNAT.identifier));
    assert.doesNotMatch(text, /Bernat|Exemple/);
    const twice = await app.inject({
      method: 'POST',
      url: `${base}/notifications/${p1}/publication`,
      headers: handler,
    });
    assert.equal(twice.json().code, 'NOTIFICATION_NOT_FAILED');
    const events = await env.db.owner((tx) =>
      listEventsForObjects(tx, abella.id, [{ type: 'notification', id: p1 }]),
    );
    const actions = events.map((e) => e.action);
    for (const a of [
      'notification.paper_attempt',
      'notification.publication_request',
      'notification.edict_issue',
    ])
      assert.ok(actions.includes(a), a);
  });

  it('a paper notification is visible in the seu; access there before delivery gives the notification date', async () => {
    await setClock('2026-04-15T08:00:00Z');
    const p4 = await notifyOnPaper('Resolució de l’esmena');
    const citizen = await citizenHeaders(env, {
      identifier: BERNAT.identifier,
      name: 'Bernat Prova Exemple',
    });
    const seu = `/api/v1/seu/${abella.slug}/notifications`;
    const list = await app.inject({ method: 'GET', url: seu, headers: citizen });
    assert.equal(list.statusCode, 200, list.body);
    const item = list.json().items.find((x: { id: string }) => x.id === p4);
    assert.equal(item.channel, 'paper');
    assert.equal(item.subject, 'Resolució de l’esmena');
    assert.ok(!('actText' in item));
    env.clock.set('2026-04-15T08:15:00Z');
    const acc = await app.inject({ method: 'POST', url: `${seu}/${p4}/access`, headers: citizen });
    assert.equal(acc.statusCode, 200, acc.body);
    assert.equal(acc.json().notifiedAt, '2026-04-15T08:15:00.000Z');
    assert.match(acc.json().actText, /RESOLC/);
    const doc = await app.inject({ method: 'GET', url: `${seu}/${p4}/documents/${docId}`, headers: citizen });
    assert.equal(doc.statusCode, 200);
    assert.equal(doc.body, '%PDF-1.4\n% requeriment\n');
    // The postman delivers it later that day: recorded, with evidence, but the date stays the access's.
    await setClock('2026-04-15T15:00:00Z');
    const d = await attempt(
      p4,
      { attemptedAt: '2026-04-15T16:30:00+02:00', outcome: 'delivered', receiverKind: 'party' },
      { name: 'acus.pdf', type: 'application/pdf', data: SCAN },
    );
    assert.equal(d.statusCode, 201, d.body);
    assert.equal(d.json().state, 'accepted');
    assert.equal(d.json().notifiedAt, '2026-04-15T08:15:00.000Z');
    assert.deepEqual(
      d.json().evidence.map((e: { key: string }) => e.key),
      ['accepted', 'delivered'],
    );
    // Someone else in the seu: 404.
    const carla = await citizenHeaders(env, { identifier: '00000003A', name: 'Carla Prova Exemple' });
    const other = await app.inject({ method: 'POST', url: `${seu}/${p4}/access`, headers: carla });
    assert.equal(other.statusCode, 404);
  });
});
