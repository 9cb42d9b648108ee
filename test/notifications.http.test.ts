import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { newId } from '#platform/ids.ts';
import { listEventsForObjects } from '#modules/audit/audit.service.ts';
import { accessNotification } from '#modules/notifications/notifications.service.ts';
import { sweepDeemedRejections } from '#modules/notifications/sweeper.service.ts';
import { getInstallationCaPem } from '#modules/seals/seals.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { citizenHeaders, grantPower } from '#test/helpers/citizens.ts';
import {
  loginHeaders,
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  type TestEnv,
  TestClock,
} from '#test/helpers/harness.ts';
import { multipart } from '#test/helpers/multipart.ts';
import { nssDbTrusting, pdfsig, pdftotext } from '#test/helpers/pdf-tools.ts';
import { type SmtpSink, startSmtpSink } from '#test/helpers/smtp.ts';
import { MAIL_JOB } from '#platform/mail/mail.service.ts';

/**
 * Electronic notifications (LPACAP art. 40–43): the acceptance figures of issue 5 — made available
 * on 2026-03-02 at 10:00 (Madrid), access at 03-12 23:30 accepted; still accessible at 23:59:59;
 * deemed rejected at 03-13 00:00 by the sweeper; evidence and audit for both; other citizens and
 * other entities get 404; an electronic notification to a party neither obliged nor consenting is
 * refused. The citizen side goes through the seu's routes with real seu sessions and powers.
 */

let env: TestEnv;
let app: FastifyInstance;
let tenant: Tenant;
let other: Tenant;
let handler: Record<string, string>;
let handlerUser: Awaited<ReturnType<typeof makeUser>>;
let viewer: Record<string, string>;
let viewerUser: Awaited<ReturnType<typeof makeUser>>;
let otherHandler: Record<string, string>;
let base: string;
let expedient: { id: string; number: string };
let docId: string;
const parties: Record<string, string> = {};

const ANNA = { identifier: '00000001R', name: 'Anna Prova Exemple' };
const BERNAT = { identifier: '00000002W', name: 'Bernat Prova Exemple' };
const CARLA = { identifier: '00000003A', name: 'Carla Prova Exemple' };

/** Moves the clock (days ahead: sessions would have ended) and logs the handler in again. */
async function setClock(t: string) {
  env.clock.set(t);
  handler = await loginHeaders(app, env, handlerUser);
}

/** Headers of a citizen logged in to the seu (a new session: the clock jumps days between steps). */
const seuAs = (who: { identifier: string; name: string }) => citizenHeaders(env, who);

async function seu(
  method: 'GET' | 'POST',
  who: { identifier: string; name: string },
  path: string,
  t: Tenant = tenant,
) {
  return app.inject({
    method,
    url: `/api/v1/seu/${t.slug}/notifications${path}`,
    headers: await seuAs(who),
  });
}

async function notify(body: Record<string, unknown>) {
  return app.inject({
    method: 'POST',
    url: `${base}/expedients/${expedient.id}/notifications`,
    headers: handler,
    payload: {
      subject: 'Resolució de la llicència d’obres menors',
      actText: 'RESOLC: Atorgar la llicència d’obres menors sol·licitada per a la substitució de la coberta.',
      endsAdministrativeRoute: true,
      appeals: [
        {
          appeal: 'Recurs potestatiu de reposició',
          body: 'Alcaldia',
          term: 'Un mes des de l’endemà de la notificació',
        },
      ],
      documentIds: [docId],
      ...body,
    },
  });
}

async function events(id: string) {
  return env.db.owner((tx) => listEventsForObjects(tx, tenant.id, [{ type: 'notification', id }]));
}

let n1: string; // accessed at 23:30 on the 10th day
let n2: string; // never accessed: deemed rejected
let n3: string; // accessed at 23:59:59 on the 10th day
let n4: string; // rejected by a representative

let sink: SmtpSink;

before(async () => {
  sink = await startSmtpSink();
  env = await openTestEnv({
    clock: new TestClock('2026-03-02T09:00:00Z'),
    config: { smtpUrl: sink.url, mailFrom: 'seu@isona.example.org' },
  });
  app = await makeServer(env);
  tenant = await makeTenant(env, { name: 'Ajuntament d’Isona i Conca Dellà' });
  other = await makeTenant(env);
  base = `/api/v1/entities/${tenant.slug}`;
  handlerUser = await makeUser(env, { tenant, roles: ['handler'] });
  handler = await loginHeaders(app, env, handlerUser);
  viewerUser = await makeUser(env, { tenant, roles: ['viewer'] });
  viewer = await loginHeaders(app, env, viewerUser);
  otherHandler = await loginHeaders(app, env, await makeUser(env, { tenant: other, roles: ['handler'] }));
  const party = async (t: Tenant, h: Record<string, string>, body: Record<string, unknown>) => {
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${t.slug}/parties`,
      headers: h,
      payload: body,
    });
    assert.equal(r.statusCode, 201, r.body);
    return r.json().id as string;
  };
  parties.anna = await party(tenant, handler, {
    ...ANNA,
    email: 'anna@example.cat',
    language: 'ca',
    eNotification: 'chosen',
    eNotificationEvidence: 'Sol·licitud E/2026/000001, casella de notificació electrònica',
  });
  parties.bernat = await party(tenant, handler, { ...BERNAT, address: { street: 'Carrer Major, 1' } });
  // The same person is also a party of another entity: that entity's seu never shows this one's notifications.
  await party(other, otherHandler, { ...ANNA, eNotification: 'chosen', eNotificationEvidence: 'x' });
  const e = await app.inject({
    method: 'POST',
    url: `${base}/expedients`,
    headers: handler,
    payload: {
      title: 'Llicència d’obres menors',
      parties: [
        { partyId: parties.anna, role: 'applicant' },
        { partyId: parties.bernat, role: 'interested' },
      ],
    },
  });
  assert.equal(e.statusCode, 201, e.body);
  expedient = e.json();
  const form = multipart(
    { title: 'Resolució d’atorgament', documentType: 'TD01' },
    { name: 'resolucio.pdf', type: 'application/pdf', data: Buffer.from('%PDF-1.4\n% resolució de prova\n') },
  );
  const up = await app.inject({
    method: 'POST',
    url: `${base}/expedients/${expedient.id}/documents`,
    headers: { ...handler, ...form.headers },
    payload: form.body,
  });
  assert.equal(up.statusCode, 201, up.body);
  docId = up.json().id;
});

after(async () => {
  await app.close();
  await env.close();
  await sink.close();
});

describe('notifying from a case file (staff)', () => {
  it('refuses the electronic channel for a party neither obliged nor consenting, and writes nothing', async () => {
    const r = await notify({ recipients: [{ partyId: parties.bernat, channel: 'electronic' }] });
    assert.equal(r.statusCode, 422, r.body);
    assert.equal(r.json().code, 'NOTIFICATION_CHANNEL_NOT_ALLOWED');
    const list = await app.inject({
      method: 'GET',
      url: `${base}/expedients/${expedient.id}/notifications`,
      headers: handler,
    });
    assert.deepEqual(list.json().items, []);
    const reg = await app.inject({ method: 'GET', url: `${base}/registry?direction=S`, headers: handler });
    assert.equal(reg.json().total, 0);
  });

  it('refuses a document outside the case file and a party that is not in it', async () => {
    const bad = await notify({ documentIds: [newId()], recipients: [{ partyId: parties.anna }] });
    assert.equal(bad.json().code, 'NOTIFICATION_DOCUMENT_NOT_IN_EXPEDIENT');
    const stranger = await notify({ recipients: [{ partyId: newId() }] });
    assert.equal(stranger.json().code, 'NOTIFICATION_PARTY_NOT_IN_EXPEDIENT');
    const extra = await notify({ recipients: [{ partyId: parties.anna }], bogus: true });
    assert.equal(extra.statusCode, 400);
  });

  it('makes an electronic notification available with its output registry entry and 10 days to access it', async () => {
    const r = await notify({ recipients: [{ partyId: parties.anna }] });
    assert.equal(r.statusCode, 201, r.body);
    const [n] = r.json().items;
    n1 = n.id;
    assert.equal(n.channel, 'electronic');
    assert.equal(n.electronicBasis, 'chosen');
    assert.equal(n.state, 'available');
    assert.equal(n.madeAvailableAt, '2026-03-02T09:00:00.000Z');
    // 24:00 of 12 March, Europe/Madrid (CET): 23:00 UTC.
    assert.equal(n.availableUntil, '2026-03-12T23:00:00.000Z');
    assert.match(n.registryEntry.number, /^S\/2026\/\d{6}$/);
    assert.equal(n.documents[0].documentId, docId);
    const entry = await app.inject({
      method: 'GET',
      url: `${base}/registry/${n.registryEntry.id}`,
      headers: handler,
    });
    assert.equal(entry.json().direction, 'S');
    assert.equal(entry.json().party.id, parties.anna);
    assert.equal(entry.json().attachments[0].sha256, n.documents[0].sha256);
    // The alert goes to the party's e-mail, in their language, without the act's content.
    const mails = await env.db.owner((tx) =>
      tx.selectFrom('mail_outbox').selectAll().where('tenant_id', '=', tenant.id).execute(),
    );
    assert.equal(mails.length, 1);
    assert.equal(mails[0]!.to_address, 'anna@example.cat');
    assert.equal(mails[0]!.template, 'notification_alert');
    const params = JSON.stringify(mails[0]!.params);
    assert.match(params, /12\/03\/2026 23:59:59/);
    assert.match(params, new RegExp(`/seu/${tenant.slug}"`));
    assert.doesNotMatch(params, /RESOLC|coberta/);
    assert.ok((await events(n1)).some((e) => e.action === 'notification.create'));
    for (const id of ['n2', 'n3', 'n4']) {
      const more = await notify({ recipients: [{ partyId: parties.anna }] });
      assert.equal(more.statusCode, 201, more.body);
      if (id === 'n2') n2 = more.json().items[0].id;
      if (id === 'n3') n3 = more.json().items[0].id;
      if (id === 'n4') n4 = more.json().items[0].id;
    }
  });

  it('lets viewers read and refuses them notifying; another entity’s staff get 404', async () => {
    const v = await app.inject({ method: 'GET', url: `${base}/notifications/${n1}`, headers: viewer });
    assert.equal(v.statusCode, 200);
    const post = await app.inject({
      method: 'POST',
      url: `${base}/expedients/${expedient.id}/notifications`,
      headers: viewer,
      payload: {
        subject: 's',
        actText: 't',
        endsAdministrativeRoute: false,
        appeals: [],
        documentIds: [],
        recipients: [{ partyId: parties.anna }],
      },
    });
    assert.equal(post.statusCode, 403);
    const cross = await app.inject({
      method: 'GET',
      url: `/api/v1/entities/${other.slug}/notifications/${n1}`,
      headers: otherHandler,
    });
    assert.equal(cross.statusCode, 404);
    const foreign = await app.inject({
      method: 'GET',
      url: `${base}/notifications/${n1}`,
      headers: otherHandler,
    });
    assert.equal(foreign.statusCode, 404);
  });
});

describe('the citizen in the seu', () => {
  it('lists sender, subject, reference and dates, never the content before access', async () => {
    const r = await seu('GET', ANNA, '');
    assert.equal(r.statusCode, 200, r.body);
    const list = r.json().items;
    assert.equal(list.length, 4);
    const one = list.find((x: { id: string }) => x.id === n1);
    assert.equal(one.sender.name, tenant.name);
    assert.equal(one.subject, 'Resolució de la llicència d’obres menors');
    assert.equal(one.reference.expedientNumber, expedient.number);
    assert.ok(!('actText' in one));
    assert.doesNotMatch(r.body, /RESOLC/);
    const view = await seu('GET', ANNA, `/${n1}`);
    assert.equal(view.statusCode, 200);
    assert.ok(!('actText' in view.json()));
    const doc = await seu('GET', ANNA, `/${n1}/documents/${docId}`);
    assert.equal(doc.json().code, 'NOTIFICATION_NOT_ACCESSED');
    const anonymous = await app.inject({ method: 'GET', url: `/api/v1/seu/${tenant.slug}/notifications` });
    assert.equal(anonymous.statusCode, 401);
  });

  it('another citizen, or the same person in another entity’s seu, gets 404', async () => {
    for (const [m, path] of [
      ['GET', `/${n1}`],
      ['POST', `/${n1}/access`],
      ['POST', `/${n1}/reject`],
      ['GET', `/${n1}/documents/${docId}`],
    ] as const) {
      const r = await seu(m, CARLA, path);
      assert.equal(r.statusCode, 404, `${m} ${path}`);
      assert.equal(r.json().code, 'NOT_FOUND');
    }
    assert.deepEqual((await seu('GET', CARLA, '')).json().items, []);
    assert.equal((await seu('POST', ANNA, `/${n1}/access`, other)).statusCode, 404);
    assert.deepEqual((await seu('GET', ANNA, '', other)).json().items, []);
    // Acting for Anna without a power: 404, nothing revealed.
    const noPower = await app.inject({
      method: 'GET',
      url: `/api/v1/seu/${tenant.slug}/notifications?onBehalfOf=${ANNA.identifier}`,
      headers: await seuAs(CARLA),
    });
    assert.equal(noPower.statusCode, 404);
  });

  it('access at 2026-03-12 23:30 (Madrid) is accepted: content shown, time recorded, evidence and audit', async () => {
    await setClock('2026-03-12T22:30:00Z');
    const r = await seu('POST', ANNA, `/${n1}/access`);
    assert.equal(r.statusCode, 200, r.body);
    const out = r.json();
    assert.equal(out.state, 'accepted');
    assert.equal(out.notifiedAt, '2026-03-12T22:30:00.000Z');
    assert.match(out.actText, /RESOLC/);
    assert.equal(out.appeals[0].body, 'Alcaldia');
    const doc = await seu('GET', ANNA, `/${n1}/documents/${docId}`);
    assert.equal(doc.statusCode, 200);
    assert.equal(doc.body, '%PDF-1.4\n% resolució de prova\n');
    const v = (
      await app.inject({ method: 'GET', url: `${base}/notifications/${n1}`, headers: handler })
    ).json();
    assert.equal(v.state, 'accepted');
    assert.equal(v.accessedAt, '2026-03-12T22:30:00.000Z');
    assert.equal(v.actedBy.identifier, ANNA.identifier);
    assert.equal(v.actedBy.representationId, null);
    assert.equal(v.evidence.length, 1);
    assert.equal(v.evidence[0].key, 'accepted');
    assert.match(v.evidence[0].csv, /^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
    assert.equal(v.evidence[0].incorporated, true);
    const actions = (await events(n1)).map((e) => e.action);
    for (const a of ['notification.access', 'notification.evidence_issue', 'notification.document_download'])
      assert.ok(actions.includes(a), a);
    // The evidence is in the case file's index.
    const index = (
      await app.inject({ method: 'GET', url: `${base}/expedients/${expedient.id}/index`, headers: handler })
    ).json();
    assert.ok(index.entries.some((e: { documentId: string }) => e.documentId === v.evidence[0].documentId));
    // Reading it again shows the content; the notification date does not move.
    const again = await seu('GET', ANNA, `/${n1}`);
    assert.match(again.json().actText, /RESOLC/);
    assert.equal(again.json().notifiedAt, '2026-03-12T22:30:00.000Z');
  });

  it('the evidence PDF is sealed (pdfsig) and states the outcome, time, CSV and documents', async () => {
    const r = await app.inject({
      method: 'GET',
      url: `${base}/notifications/${n1}/evidence/accepted`,
      headers: handler,
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.headers['content-type'], 'application/pdf');
    const pdf = r.rawPayload;
    const caPem = (await getInstallationCaPem(env.db))!;
    const sig = pdfsig(pdf, nssDbTrusting(caPem));
    assert.match(sig.out, /Signature is Valid/, sig.out);
    assert.match(sig.out, /Certificate is Trusted/, sig.out);
    const text = pdftotext(pdf).replace(/\s+/g, ' ');
    assert.match(text, /Evidència de notificació: accés al contingut/);
    assert.match(text, /12\/03\/2026 23:30:00/);
    assert.match(text, /00000001R/);
    const v = (
      await app.inject({ method: 'GET', url: `${base}/notifications/${n1}`, headers: handler })
    ).json();
    assert.ok(text.includes(v.evidence[0].csv), 'the CSV is printed');
    assert.ok(text.includes(v.documents[0].sha256.slice(0, 32)), 'the notified document’s hash is printed');
    assert.ok(text.includes(v.registryEntry.number));
  });

  it('at 23:59:59 of the tenth day an unaccessed notification is still available, and accessible', async () => {
    await setClock('2026-03-12T22:59:59Z');
    assert.deepEqual(await sweepDeemedRejections(env), { deemedRejected: 0 });
    assert.equal((await seu('GET', ANNA, `/${n2}`)).json().state, 'available');
    const r = await seu('POST', ANNA, `/${n3}/access`);
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().state, 'accepted');
    assert.equal(r.json().notifiedAt, '2026-03-12T22:59:59.000Z');
  });

  it('a representative with a power rejects one for the person they represent: recorded on it and its evidence', async () => {
    const power = await grantPower(env, tenant.id, { represented: ANNA, representative: CARLA });
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/seu/${tenant.slug}/notifications/${n4}/reject?onBehalfOf=${ANNA.identifier}`,
      headers: await seuAs(CARLA),
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().state, 'rejected');
    const v = (
      await app.inject({ method: 'GET', url: `${base}/notifications/${n4}`, headers: handler })
    ).json();
    assert.deepEqual(v.actedBy, {
      identifier: CARLA.identifier,
      name: CARLA.name,
      representationId: power.id,
      representedIdentifier: ANNA.identifier,
    });
    const rej = (await events(n4)).find((e) => e.action === 'notification.reject')!;
    assert.equal(
      (rej.details as { onBehalfOf: { representationId: string } }).onBehalfOf.representationId,
      power.id,
    );
    const pdf = (
      await app.inject({
        method: 'GET',
        url: `${base}/notifications/${n4}/evidence/rejected`,
        headers: handler,
      })
    ).rawPayload;
    const text = pdftotext(pdf).replace(/\s+/g, ' ');
    assert.match(text, /Evidència de notificació: rebuig/);
    assert.ok(text.includes(power.id), 'the evidence names the representation');
    assert.ok(text.includes(CARLA.identifier));
    const again = await seu('POST', ANNA, `/${n4}/access`);
    assert.equal(again.json().code, 'NOTIFICATION_REJECTED');
  });

  it('at 2026-03-13 00:00 it is no longer accessible, and the sweeper deems it rejected as of that instant', async () => {
    await setClock('2026-03-12T23:00:00Z');
    const late = await seu('POST', ANNA, `/${n2}/access`);
    assert.equal(late.statusCode, 409);
    assert.equal(late.json().code, 'NOTIFICATION_EXPIRED');
    assert.deepEqual(await sweepDeemedRejections(env), { deemedRejected: 1 });
    assert.deepEqual(await sweepDeemedRejections(env), { deemedRejected: 0 });
    const v = (
      await app.inject({ method: 'GET', url: `${base}/notifications/${n2}`, headers: handler })
    ).json();
    assert.equal(v.state, 'deemed_rejected');
    assert.equal(v.notifiedAt, '2026-03-12T23:00:00.000Z');
    assert.equal(v.evidence[0].key, 'deemed_rejected');
    assert.ok(v.evidence[0].documentId);
    const actions = (await events(n2)).map((e) => e.action);
    assert.ok(actions.includes('notification.deemed_rejected'));
    assert.ok(actions.includes('notification.evidence_issue'));
    const pdf = (
      await app.inject({
        method: 'GET',
        url: `${base}/notifications/${n2}/evidence/deemed_rejected`,
        headers: handler,
      })
    ).rawPayload;
    const text = pdftotext(pdf).replace(/\s+/g, ' ');
    assert.match(text, /rebuig per transcurs del termini/);
    assert.match(text, /13\/03\/2026 00:00:00/);
    assert.equal((await seu('POST', ANNA, `/${n2}/access`)).json().code, 'NOTIFICATION_REJECTED');
    // The accepted ones are untouched.
    const a = (
      await app.inject({ method: 'GET', url: `${base}/notifications/${n1}`, headers: handler })
    ).json();
    assert.equal(a.state, 'accepted');
  });
});

describe('a restricted case file', () => {
  it('hides its notifications from staff not named on it, and audits reading them', async () => {
    viewer = await loginHeaders(app, env, viewerUser);
    const e = await app.inject({
      method: 'POST',
      url: `${base}/expedients`,
      headers: handler,
      payload: {
        title: 'Expedient sancionador',
        accessLevel: 'restricted',
        parties: [{ partyId: parties.anna, role: 'interested' }],
      },
    });
    assert.equal(e.statusCode, 201, e.body);
    const r = await app.inject({
      method: 'POST',
      url: `${base}/expedients/${e.json().id}/notifications`,
      headers: handler,
      payload: {
        subject: 'Incoació',
        actText: 'Incoar expedient sancionador.',
        endsAdministrativeRoute: false,
        appeals: [],
        documentIds: [],
        recipients: [{ partyId: parties.anna }],
      },
    });
    assert.equal(r.statusCode, 201, r.body);
    const id = r.json().items[0].id;
    const hidden = await app.inject({ method: 'GET', url: `${base}/notifications/${id}`, headers: viewer });
    assert.equal(hidden.statusCode, 404);
    const seen = await app.inject({ method: 'GET', url: `${base}/notifications/${id}`, headers: handler });
    assert.equal(seen.statusCode, 200);
    const reads = await env.db.owner((tx) =>
      listEventsForObjects(tx, tenant.id, [{ type: 'expedient', id: e.json().id }]),
    );
    assert.ok(reads.some((x) => x.action === 'expedient.read'));
    // The automated action puts the evidence into the restricted case file's index too: its
    // handler finds it there, a member not named on the file still does not see the file.
    const acc = await seu('POST', ANNA, `/${id}/access`);
    assert.equal(acc.statusCode, 200, acc.body);
    const v = (
      await app.inject({ method: 'GET', url: `${base}/notifications/${id}`, headers: handler })
    ).json();
    assert.ok(v.evidence[0].documentId);
    assert.equal(v.evidence[0].incorporated, true);
    const index = await app.inject({
      method: 'GET',
      url: `${base}/expedients/${e.json().id}/index`,
      headers: handler,
    });
    assert.equal(index.statusCode, 200, index.body);
    assert.ok(JSON.stringify(index.json()).includes(v.evidence[0].documentId), 'evidence in the index');
    const hiddenIndex = await app.inject({
      method: 'GET',
      url: `${base}/expedients/${e.json().id}/index`,
      headers: viewer,
    });
    assert.equal(hiddenIndex.statusCode, 404);
  });
});

describe('an outcome whose evidence was not issued right after it', () => {
  it('keeps the outcome, and the sweep issues the evidence an hour later', async () => {
    const r = await notify({ recipients: [{ partyId: parties.anna }] });
    assert.equal(r.statusCode, 201, r.body);
    const id = r.json().items[0].id;
    const who = {
      citizen: { sessionId: newId(), ...ANNA, email: null, language: null },
      subject: ANNA,
      representation: null,
    };
    // The access commits, and the process "dies" before issuing the evidence.
    await env.db.tenant(tenant.id, (tx) =>
      accessNotification(
        tx,
        {
          tenant: {
            id: tenant.id,
            dir3: tenant.dir3,
            slug: tenant.slug,
            name: tenant.name,
            status: tenant.status,
          },
          actor: { kind: 'citizen', id: null, label: `citizen:${ANNA.identifier}`, platformRoles: [] },
          roles: [],
          request: { ip: null, userAgent: null },
          clock: env.clock,
        },
        env,
        who,
        id,
      ),
    );
    const pending = (
      await app.inject({ method: 'GET', url: `${base}/notifications/${id}`, headers: handler })
    ).json();
    assert.equal(pending.state, 'accepted');
    assert.equal(pending.evidence[0].documentId, null);
    env.clock.advance(30 * 60_000);
    await sweepDeemedRejections(env);
    const still = (
      await app.inject({ method: 'GET', url: `${base}/notifications/${id}`, headers: handler })
    ).json();
    assert.equal(still.evidence[0].documentId, null);
    env.clock.advance(31 * 60_000);
    await sweepDeemedRejections(env);
    handler = await loginHeaders(app, env, handlerUser);
    const done = (
      await app.inject({ method: 'GET', url: `${base}/notifications/${id}`, headers: handler })
    ).json();
    assert.ok(done.evidence[0].documentId);
    assert.match(done.evidence[0].csv, /^[0-9A-Z]{5}-/);
  });
});

describe('the alert e-mail', () => {
  it('reaches the SMTP server in the party’s language (Spanish here), with no content of the act', async () => {
    const r = await app.inject({
      method: 'POST',
      url: `${base}/parties`,
      headers: handler,
      payload: {
        identifier: '00000004G',
        name: 'Dolors Prova Exemple',
        email: 'dolors@example.es',
        language: 'es',
        eNotification: 'chosen',
        eNotificationEvidence: 'Solicitud E/2026/000002, casilla de notificación electrónica',
      },
    });
    assert.equal(r.statusCode, 201, r.body);
    const add = await app.inject({
      method: 'POST',
      url: `${base}/expedients/${expedient.id}/parties`,
      headers: handler,
      payload: { partyId: r.json().id, role: 'interested' },
    });
    assert.ok(add.statusCode < 300, add.body);
    const n = await notify({ recipients: [{ partyId: r.json().id }] });
    assert.equal(n.statusCode, 201, n.body);
    assert.ok((await env.jobs.drain(MAIL_JOB)) >= 1);
    const mail = await sink.waitFor((m) => JSON.stringify(m.to).includes('dolors@example.es'));
    assert.match(mail.subject ?? '', /tiene una notificación en la sede electrónica/);
    assert.match(mail.text ?? '', /ha puesto a su disposición una notificación/);
    assert.doesNotMatch(mail.text ?? '', /RESOLC|coberta|llicència/i);
  });
});
