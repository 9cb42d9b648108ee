import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { noRequest, systemActor } from '#platform/context.ts';
import { BOARD_SWEEP_JOB } from '#modules/board/board.jobs.ts';
import { getInstallationCaPem } from '#modules/seals/seals.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { createTenant } from '#modules/tenancy/tenancy.service.ts';
import {
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  type TestEnv,
  TestClock,
  tokenHeaders,
} from '#test/helpers/harness.ts';
import { multipart } from '#test/helpers/multipart.ts';
import { nssDbTrusting, pdfsig, pdftotext } from '#test/helpers/pdf-tools.ts';

/**
 * The notice board (issue 5, item 6) and the seu's incidents, over HTTP with a controllable clock:
 * the acceptance case (20 business days from Friday 2026-03-27 in Abella de la Conca: visible until
 * 2026-04-28 23:59:59, gone at 2026-04-29 00:00, the certificate states those dates and an outage),
 * masking in what the public sees, noindex, isolation, withdrawal, incidents.
 */

let env: TestEnv;
let app: FastifyInstance;
let abella: Tenant;
let other: Tenant;
let handler: Record<string, string>;
let admin: Record<string, string>;
let viewer: Record<string, string>;
let otherHandler: Record<string, string>;
let expedient: { id: string; number: string };
let documentId: string;
let pdfBytes: Buffer;
let p1: string;
let p2: string;
let pOther: string;

const clock = new TestClock('2026-03-20T09:00:00+01:00');
const staff = () => `/api/v1/entities/${abella.slug}`;
const seu = () => `/api/v1/seu/${abella.slug}`;
const get = (url: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url, headers });
const post = (url: string, payload: unknown, headers: Record<string, string>) =>
  app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, headers });

type Res = {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
  json(): Record<string, unknown>;
};
function problem(res: Res, status: number, code: string): void {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.json().code, code, res.body);
}

async function makePdf(text: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const page = doc.addPage();
  page.drawText(text, { x: 50, y: 700, size: 12, font: await doc.embedFont(StandardFonts.Helvetica) });
  return Buffer.from(await doc.save());
}

async function auditActions(tenantId: string, objectId: string) {
  const rows = await env.db.owner((tx) =>
    tx
      .selectFrom('audit_events')
      .select(['action', 'details', 'actor_label'])
      .where('tenant_id', '=', tenantId)
      .where('object_id', '=', objectId)
      .orderBy('seq')
      .execute(),
  );
  return rows.map((r) => ({
    action: r.action,
    actor: r.actor_label,
    details: (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as Record<string, unknown>,
  }));
}

const publicIds = async () => {
  const res = await get(`${seu()}/board`);
  assert.equal(res.statusCode, 200, res.body);
  return (res.json().publications as { id: string }[]).map((p) => p.id);
};

before(async () => {
  env = await openTestEnv({ clock });
  app = await makeServer(env);
  // A real municipality, as the shipped data knows it (data/seed/lleida_municipis.csv).
  abella = await env.db.platform((tx) =>
    createTenant(
      tx,
      { actor: systemActor, request: noRequest, clock: env.clock },
      {
        kind: 'ajuntament',
        name: 'Abella de la Conca',
        dir3: 'L01250019',
        ine: '25001',
        comarca: 'Pallars Jussà',
        status: 'live',
      },
    ),
  );
  other = await makeTenant(env);
  handler = await tokenHeaders(env, await makeUser(env, { tenant: abella, roles: ['handler'] }));
  admin = await tokenHeaders(env, await makeUser(env, { tenant: abella, roles: ['admin'], totp: true }));
  viewer = await tokenHeaders(env, await makeUser(env, { tenant: abella, roles: ['viewer'] }));
  otherHandler = await tokenHeaders(env, await makeUser(env, { tenant: other, roles: ['handler'] }));
  const exp = await post(`${staff()}/expedients`, { title: 'Procediment sancionador 3/2026' }, handler);
  assert.equal(exp.statusCode, 201, exp.body);
  expedient = exp.json() as { id: string; number: string };
  pdfBytes = await makePdf('Edicte de notificacio (document anonimitzat)');
  const m = multipart(
    { title: 'Edicte de notificació' },
    { name: 'edicte.pdf', type: 'application/pdf', data: pdfBytes },
  );
  const up = await app.inject({
    method: 'POST',
    url: `${staff()}/expedients/${expedient.id}/documents`,
    headers: { ...handler, ...m.headers },
    payload: m.body,
  });
  assert.equal(up.statusCode, 201, up.body);
  documentId = up.json().id as string;
});
after(async () => {
  await app?.close();
  await env?.close();
});

describe('notice board: publishing (staff)', () => {
  it('refuses a publication whose personal data was not reviewed, or a bad period, or by a viewer', async () => {
    const base = {
      expedientId: expedient.id,
      documentId,
      title: 'Edicte',
      summary: 'Resum',
      startDate: '2026-03-27',
      term: { amount: 20, unit: 'business_days' },
    };
    problem(
      await post(`${staff()}/board`, { ...base, personalDataReviewed: false }, handler),
      422,
      'BOARD_PERSONAL_DATA_NOT_REVIEWED',
    );
    problem(await post(`${staff()}/board`, base, handler), 400, 'VALIDATION_FAILED');
    problem(
      await post(
        `${staff()}/board`,
        { ...base, personalDataReviewed: true, startDate: '2026-03-19' },
        handler,
      ),
      422,
      'BOARD_PERIOD_INVALID',
    );
    problem(
      await post(`${staff()}/board`, { ...base, personalDataReviewed: true, endDate: '2026-04-30' }, handler),
      422,
      'BOARD_PERIOD_INVALID',
    );
    problem(
      await post(`${staff()}/board`, { ...base, personalDataReviewed: true }, viewer),
      403,
      'FORBIDDEN',
    );
    const rows = await env.db.owner((tx) => tx.selectFrom('board_publications').select('id').execute());
    assert.equal(rows.length, 0);
  });

  it('publishes for 20 business days from Friday 2026-03-27: last day 2026-04-28 (Easter holidays skipped), audited', async () => {
    const res = await post(
      `${staff()}/board`,
      {
        expedientId: expedient.id,
        documentId,
        title: 'Edicte de notificació a Núria Puig Soler, DNI 12345678Z',
        summary:
          'Notificació infructuosa del decret 2026/000017 a Núria Puig Soler (12345678Z) i a Ahmed Benali (NIE X1234567L).',
        startDate: '2026-03-27',
        term: { amount: 20, unit: 'business_days' },
        personalDataReviewed: true,
      },
      handler,
    );
    assert.equal(res.statusCode, 201, res.body);
    const v = res.json();
    p1 = v.id as string;
    assert.equal(v.state, 'scheduled');
    assert.equal(v.endDate, '2026-04-28');
    assert.equal(v.visibleFrom, new Date('2026-03-27T00:00:00+01:00').toISOString());
    assert.equal(v.visibleUntil, new Date('2026-04-29T00:00:00+02:00').toISOString());
    // Staff see the original; the public text is masked as the AEPD's orientation says.
    assert.equal(v.title, 'Edicte de notificació a Núria Puig Soler, DNI 12345678Z');
    assert.equal(v.publicTitle, 'Edicte de notificació a Núria Puig Soler, DNI ***4567**');
    assert.equal(
      v.publicSummary,
      'Notificació infructuosa del decret 2026/000017 a Núria Puig Soler (***4567**) i a Ahmed Benali (NIE ****4567*).',
    );
    const events = await auditActions(abella.id, p1);
    assert.equal(events[0]?.action, 'board.publish');
    assert.equal(events[0]?.details.personalDataReviewed, true);
    assert.equal(events[0]?.details.endDate, '2026-04-28');
  });

  it('another entity publishes too (an explicit end date)', async () => {
    const exp = await post(`/api/v1/entities/${other.slug}/expedients`, { title: 'Altre' }, otherHandler);
    const m = multipart(
      {
        expedientId: exp.json().id as string,
        title: 'Edicte d’una altra entitat',
        summary: 'Resum',
        startDate: '2026-03-20',
        endDate: '2026-05-31',
        personalDataReviewed: 'true',
      },
      { name: 'altre.pdf', type: 'application/pdf', data: await makePdf('Altre') },
    );
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${other.slug}/board/upload`,
      headers: { ...otherHandler, ...m.headers },
      payload: m.body,
    });
    assert.equal(res.statusCode, 201, res.body);
    pOther = res.json().id as string;
    assert.equal(res.json().state, 'in_force');
  });
});

describe('notice board: what the public sees, by the clock', () => {
  it('is not visible before 00:00 of its start date', async () => {
    clock.set('2026-03-26T23:59:59+01:00');
    assert.ok(!(await publicIds()).includes(p1));
    problem(await get(`${seu()}/board/${p1}`), 404, 'BOARD_PUBLICATION_NOT_FOUND');
  });

  it('from 00:00 of 2026-03-27: listed with identifiers masked, noindex, its PDF downloadable', async () => {
    clock.set('2026-03-27T00:00:00+01:00');
    const res = await get(`${seu()}/board`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-robots-tag'], 'noindex, nofollow');
    assert.ok(!res.body.includes('12345678Z') && !res.body.includes('X1234567L'), res.body);
    const body = res.json() as { publications: Record<string, unknown>[]; entity: { dir3: string } };
    assert.equal(body.entity.dir3, 'L01250019');
    assert.deepEqual(
      body.publications.map((p) => p.id),
      [p1],
    );
    const pub = body.publications[0]!;
    assert.equal(pub.title, 'Edicte de notificació a Núria Puig Soler, DNI ***4567**');
    assert.equal(pub.startDate, '2026-03-27');
    assert.equal(pub.endDate, '2026-04-28');
    assert.equal(pub.expedientNumber, expedient.number);
    const one = await get(`${seu()}/board/${p1}`);
    assert.equal(one.statusCode, 200, one.body);
    assert.equal(one.headers['x-robots-tag'], 'noindex, nofollow');
    assert.ok(!one.body.includes('12345678Z'));
    const pdf = await get(pub.documentUrl as string);
    assert.equal(pdf.statusCode, 200);
    assert.equal(pdf.headers['content-type'], 'application/pdf');
    assert.equal(pdf.headers['x-robots-tag'], 'noindex, nofollow');
    assert.ok(pdf.rawPayload.equals(pdfBytes));
  });

  it('isolation: another entity’s publication is 404 through this seu, and staff of another entity get 404', async () => {
    problem(await get(`${seu()}/board/${pOther}`), 404, 'BOARD_PUBLICATION_NOT_FOUND');
    problem(await get(`${seu()}/board/${pOther}/document`), 404, 'BOARD_PUBLICATION_NOT_FOUND');
    problem(await get(`/api/v1/seu/${other.slug}/board/${p1}`), 404, 'BOARD_PUBLICATION_NOT_FOUND');
    assert.ok(!(await publicIds()).includes(pOther));
    problem(await get(`${staff()}/board/${p1}`, otherHandler), 404, 'ENTITY_NOT_FOUND');
    problem(
      await get(`/api/v1/entities/${other.slug}/board/${p1}`, otherHandler),
      404,
      'BOARD_PUBLICATION_NOT_FOUND',
    );
    const missing = await get('/api/v1/seu/no-such-entity/board');
    problem(missing, 404, 'ENTITY_NOT_FOUND');
    assert.equal(missing.headers['x-robots-tag'], 'noindex, nofollow');
  });
});

describe('notice board: withdrawal and incidents', () => {
  it('an uploaded PDF is incorporated into the case file and published; withdrawn early (audited), it leaves the board at once', async () => {
    clock.set('2026-04-01T10:00:00+02:00');
    const data = await makePdf('Anunci de licitacio');
    const m = multipart(
      {
        expedientId: expedient.id,
        title: 'Anunci de licitació',
        summary: 'Obres de pavimentació',
        startDate: '2026-04-01',
        termAmount: '10',
        termUnit: 'calendar_days',
        personalDataReviewed: 'true',
        documentTitle: 'Anunci',
      },
      { name: 'anunci.pdf', type: 'application/pdf', data },
    );
    const res = await app.inject({
      method: 'POST',
      url: `${staff()}/board/upload`,
      headers: { ...handler, ...m.headers },
      payload: m.body,
    });
    assert.equal(res.statusCode, 201, res.body);
    p2 = res.json().id as string;
    assert.equal(res.json().state, 'in_force');
    assert.equal(res.json().endDate, '2026-04-13'); // 11 April is a Saturday: art. 30.5 moves it to Monday
    assert.equal(res.json().visibleFrom, new Date('2026-04-01T10:00:00+02:00').toISOString());
    const index = await get(`${staff()}/expedients/${expedient.id}/index`, handler);
    const docId = res.json().documentId as string;
    assert.ok((index.json().entries as { documentId: string }[]).some((e) => e.documentId === docId));
    assert.deepEqual(await publicIds(), [p2, p1]);

    const notPdf = multipart(
      {
        expedientId: expedient.id,
        title: 'x',
        summary: 'y',
        startDate: '2026-04-01',
        endDate: '2026-04-02',
        personalDataReviewed: 'true',
      },
      { name: 'x.pdf', type: 'application/pdf', data: Buffer.from('not a pdf at all') },
    );
    const refused = await app.inject({
      method: 'POST',
      url: `${staff()}/board/upload`,
      headers: { ...handler, ...notPdf.headers },
      payload: notPdf.body,
    });
    problem(refused, 415, 'FILE_TYPE_NOT_ACCEPTED');

    clock.set('2026-04-01T11:00:00+02:00');
    problem(
      await post(`${staff()}/board/${p2}/certificate`, {}, handler),
      409,
      'BOARD_PUBLICATION_NOT_ENDED',
    );
    const w = await post(
      `${staff()}/board/${p2}/withdraw`,
      { reason: 'Error en el plec de clàusules' },
      handler,
    );
    assert.equal(w.statusCode, 200, w.body);
    assert.equal(w.json().state, 'withdrawn');
    assert.equal((w.json().withdrawal as { reason: string }).reason, 'Error en el plec de clàusules');
    assert.deepEqual(await publicIds(), [p1]);
    problem(await get(`${seu()}/board/${p2}/document`), 404, 'BOARD_PUBLICATION_NOT_FOUND');
    problem(
      await post(`${staff()}/board/${p2}/withdraw`, { reason: 'again' }, handler),
      409,
      'BOARD_PUBLICATION_ENDED',
    );
    const events = await auditActions(abella.id, p2);
    assert.deepEqual(
      events.map((e) => e.action),
      ['board.publish', 'board.withdraw'],
    );
    assert.equal(events[1]?.details.reason, 'Error en el plec de clàusules');

    // One withdrawn before its start was never on the board: nothing to certify.
    const early = await post(
      `${staff()}/board`,
      {
        expedientId: expedient.id,
        documentId,
        title: 'Edicte retirat abans de començar',
        summary: 'Resum',
        startDate: '2026-04-20',
        endDate: '2026-04-21',
        personalDataReviewed: true,
      },
      handler,
    );
    assert.equal(early.statusCode, 201, early.body);
    const earlyId = early.json().id as string;
    const we = await post(`${staff()}/board/${earlyId}/withdraw`, { reason: 'Duplicat' }, handler);
    assert.equal(we.json().state, 'withdrawn');
    problem(await post(`${staff()}/board/${earlyId}/certificate`, {}, handler), 409, 'BOARD_NEVER_PUBLISHED');

    // Its certificate on demand: the real end is the withdrawal.
    const c = await post(`${staff()}/board/${p2}/certificate`, {}, handler);
    assert.equal(c.statusCode, 201, c.body);
    const again = await post(`${staff()}/board/${p2}/certificate`, {}, handler);
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().csv, c.json().csv);
    const pdf = await get(`${staff()}/board/${p2}/certificate`, handler);
    const text = pdftotext(pdf.rawPayload).replace(/\s+/g, ' ');
    assert.ok(text.includes('01/04/2026 10:00:00'), text);
    assert.ok(text.includes('01/04/2026 11:00:00'), text);
    assert.ok(text.includes('Error en el plec de clàusules'), text);
  });

  it('an administrator records incidents (an outage with its extension; an ongoing one ended later); the seu lists them newest first', async () => {
    clock.set('2026-04-10T12:00:00+02:00');
    const outage = {
      startedAt: '2026-04-10T09:00:00+02:00',
      endedAt: '2026-04-10T11:30:00+02:00',
      description: 'Caiguda del servidor de la seu electrònica',
      outage: true,
      extension: {
        decision: 'Decret 2026/000031: s’amplien un dia els terminis que vencien durant la interrupció',
        days: 1,
      },
    };
    problem(await post(`${staff()}/incidents`, outage, handler), 403, 'FORBIDDEN');
    const a = await post(`${staff()}/incidents`, outage, admin);
    assert.equal(a.statusCode, 201, a.body);
    const b = await post(
      `${staff()}/incidents`,
      {
        startedAt: '2026-04-10T11:45:00+02:00',
        description: 'Lentitud en la descàrrega de documents',
        outage: false,
      },
      admin,
    );
    assert.equal(b.statusCode, 201, b.body);
    assert.equal(b.json().ongoing, true);
    const patch = (payload: unknown) =>
      app.inject({
        method: 'PATCH',
        url: `${staff()}/incidents/${b.json().id}`,
        payload: payload as object,
        headers: admin,
      });
    const ended = await patch({ endedAt: '2026-04-10T11:55:00+02:00' });
    assert.equal(ended.statusCode, 200, ended.body);
    problem(await patch({ endedAt: '2026-04-10T11:58:00+02:00' }), 409, 'SEU_INCIDENT_ALREADY_SET');
    const pub = await get(`${seu()}/incidents`);
    assert.equal(pub.statusCode, 200);
    assert.equal(pub.headers['x-robots-tag'], 'noindex, nofollow');
    const list = pub.json() as unknown as {
      id: string;
      outage: boolean;
      extension: { days: number } | null;
    }[];
    assert.deepEqual(
      list.map((i) => i.id),
      [b.json().id, a.json().id],
    );
    assert.equal(list[1]?.extension?.days, 1);
    assert.deepEqual(await get(`/api/v1/seu/${other.slug}/incidents`).then((r) => r.json()), []);
    const events = await auditActions(abella.id, a.json().id as string);
    assert.equal(events[0]?.action, 'seu_incident.create');
  });
});

describe('notice board: the end at 24:00 of the last day, and the certificate', () => {
  it('still visible at 2026-04-28 23:59:59; gone at 2026-04-29 00:00 before any sweep', async () => {
    clock.set('2026-04-28T23:59:59+02:00');
    assert.deepEqual(await publicIds(), [p1]);
    assert.equal((await get(`${seu()}/board/${p1}/document`)).statusCode, 200);
    clock.set('2026-04-29T00:00:00+02:00');
    assert.deepEqual(await publicIds(), []);
    problem(await get(`${seu()}/board/${p1}`), 404, 'BOARD_PUBLICATION_NOT_FOUND');
    problem(await get(`${seu()}/board/${p1}/document`), 404, 'BOARD_PUBLICATION_NOT_FOUND');
    const v = await get(`${staff()}/board/${p1}`, handler);
    assert.equal(v.json().state, 'ended');
    assert.equal(v.json().endedAt, null);
    assert.equal(v.json().certificate, null);
  });

  it('the sweeper records the end and issues the sealed certificate: pdfsig valid; the dates and the outage in its text; in the case file', async () => {
    clock.set('2026-04-29T00:05:00+02:00');
    await env.jobs.sendNow(BOARD_SWEEP_JOB, {});
    assert.ok((await env.jobs.drain(BOARD_SWEEP_JOB)) >= 1);
    const v = (await get(`${staff()}/board/${p1}`, handler)).json();
    assert.equal(v.endedAt, new Date('2026-04-29T00:00:00+02:00').toISOString());
    const cert = v.certificate as { documentId: string; csv: string; incorporated: boolean };
    assert.ok(cert, 'the certificate was issued');
    assert.equal(cert.incorporated, true);
    const index = (await get(`${staff()}/expedients/${expedient.id}/index`, handler)).json();
    const entry = (index.entries as { documentId: string; documentType: string }[]).find(
      (e) => e.documentId === cert.documentId,
    );
    assert.equal(entry?.documentType, 'TD11');

    const pdf = await get(`${staff()}/board/${p1}/certificate`, handler);
    assert.equal(pdf.statusCode, 200);
    const sig = pdfsig(pdf.rawPayload, nssDbTrusting((await getInstallationCaPem(env.db))!));
    assert.match(sig.out, /Signature is Valid/, sig.out);
    assert.match(sig.out, /Certificate is Trusted/, sig.out);
    const text = pdftotext(pdf.rawPayload).replace(/\s+/g, ' ');
    for (const needle of [
      "Certificat de publicació al tauler d'edictes",
      'Abella de la Conca',
      expedient.number,
      '27/03/2026',
      '27/03/2026 00:00:00',
      '28/04/2026',
      '28/04/2026 24:00:00',
      '20 dies hàbils',
      '10/04/2026 09:00:00',
      '10/04/2026 11:30:00',
      'Caiguda del servidor de la seu electrònica',
      'DNI ***4567**',
      cert.csv,
    ])
      assert.ok(text.includes(needle), `the certificate shows ${needle}:\n${text}`);
    assert.ok(!text.includes('12345678Z'), 'the certificate never shows the full identifier');
    // Not an outage: the slow downloads are not listed.
    assert.ok(!text.includes('Lentitud'), text);

    const events = await auditActions(abella.id, p1);
    assert.deepEqual(
      events.map((e) => e.action),
      ['board.publish', 'board.end', 'board.certificate_issue', 'board.certificate_download'],
    );
    assert.equal(events[2]?.actor, 'system');
    // Swept once: nothing left to do.
    const due = await env.db.owner((tx) =>
      tx.selectFrom('board_due').selectAll().where('tenant_id', '=', abella.id).execute(),
    );
    assert.equal(due.length, 0);
  });

  it('the API description lists the public board routes', async () => {
    const res = await get('/api/v1/openapi.json');
    assert.equal(res.statusCode, 200);
    const paths = Object.keys(res.json().paths as Record<string, unknown>);
    for (const p of [
      '/api/v1/seu/{slug}/board',
      '/api/v1/seu/{slug}/board/{id}/document',
      '/api/v1/seu/{slug}/incidents',
    ])
      assert.ok(paths.includes(p), p);
  });

  it('anyone verifies the certificate by its CSV', async () => {
    const v = (await get(`${staff()}/board/${p1}`, handler)).json();
    const res = await get(`/api/v1/verify/${(v.certificate as { csv: string }).csv}`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((res.json().document as { documentType: string }).documentType, 'TD11');
  });

  it('each entity’s certificate is in its own language: a Spanish-speaking entity’s, swept at the end of its period', async () => {
    await env.db.owner((tx) =>
      tx.updateTable('tenants').set({ language: 'es' }).where('id', '=', other.id).execute(),
    );
    clock.set('2026-06-01T00:10:00+02:00');
    await env.jobs.sendNow(BOARD_SWEEP_JOB, {});
    await env.jobs.drain(BOARD_SWEEP_JOB);
    const pdf = await get(`/api/v1/entities/${other.slug}/board/${pOther}/certificate`, otherHandler);
    assert.equal(pdf.statusCode, 200, pdf.body);
    const text = pdftotext(pdf.rawPayload).replace(/\s+/g, ' ');
    for (const needle of [
      'Certificado de publicación en el tablón de edictos',
      '20/03/2026 09:00:00', // published that morning: its real start
      '31/05/2026 24:00:00',
      'hasta la fecha final indicada',
      'No consta ninguna interrupción',
    ])
      assert.ok(text.includes(needle), `the certificate shows ${needle}:\n${text}`);
    // Abella's outage is not another entity's.
    assert.ok(!text.includes('Caiguda'), text);
  });

  it('the public routes are rate-limited per client and route (429 RATE_LIMITED), the others still answer', async () => {
    let res = await get(`/api/v1/seu/${other.slug}/incidents`);
    let n = 1;
    while (res.statusCode === 200 && n < 70) {
      res = await get(`/api/v1/seu/${other.slug}/incidents`);
      n++;
    }
    problem(res, 429, 'RATE_LIMITED');
    assert.ok(n <= 61, `refused after ${n} reads`);
    assert.equal((await get(`${seu()}/board`)).statusCode, 200);
  });
});
