import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { PDFDocument } from 'pdf-lib';
import { type Ctx, noRequest } from '#platform/context.ts';
import { madridYear } from '#platform/db/counters.ts';
import { madridStartOfDay } from '#modules/calendar/civil-date.ts';
import { appointHolder, createPosition, recordAbsence } from '#modules/positions/positions.service.ts';
import { renderDiligence } from '#modules/resolutions/book.pdf.ts';
import { planDiligence, recordDiligence } from '#modules/resolutions/book.service.ts';
import { EXTRACT_JOB, sweepExtracts } from '#modules/resolutions/extracts.service.ts';
import { ensureEntitySeal, getInstallationCaPem } from '#modules/seals/seals.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  currentTotp,
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  type TestEnv,
  type TestUser,
  tokenHeaders,
} from '#test/helpers/harness.ts';
import { multipart } from '#test/helpers/multipart.ts';
import { nssDbTrusting, pdfSignatures, pdfsig, pdftotext } from '#test/helpers/pdf-tools.ts';

/**
 * The yearly book of resolutions over HTTP (issue 4, item 6, second slice), on the backend the suite
 * runs on: the opening and closing diligences signed by the secretary through a circuit (and by the
 * substitute when the secretary is absent), numbering that never waits for the opening, the closing
 * rules, the sealed yearly PDF with an index (checked with pdfsig and pdftotext, found by /verify),
 * the extracts for the State and the Generalitat (files in the outbox, the 6-day limit flagged by
 * the sweeper), the Ple sessions and the list of decrees for the next ordinary Ple, and another
 * entity seeing none of it.
 */

let env: TestEnv;
let app: FastifyInstance;
let tenant: Tenant;
let other: Tenant;
let base: string;
let expedientId: string;
let admin: TestUser;
let creator: TestUser;
let mayor: TestUser;
let secretary: TestUser;
let deputySecretary: TestUser;
let otherAdmin: TestUser;
const H = new Map<string, Record<string, string>>();
let mayorPos: string;
let secretaryPos: string;
let Y: number;
const h = (u: TestUser) => H.get(u.id)!;
const num = (y: number, n: number) => `${y}/${String(n).padStart(6, '0')}`;

function ctxOf(u: TestUser, t: Tenant = tenant): Ctx {
  return {
    tenant: { id: t.id, dir3: t.dir3, slug: t.slug, name: t.name, status: t.status },
    actor: { kind: 'user', id: u.id, label: u.username, platformRoles: [] },
    roles: ['admin'],
    request: noRequest,
    clock: env.clock,
  };
}

async function pdf(text: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage().drawText(text, { x: 50, y: 780, size: 12 });
  return Buffer.from(await doc.save());
}

async function decree(title: string, summary: string): Promise<string> {
  const form = multipart(
    { title, documentType: 'TD01', draft: 'true' },
    { name: 'decret.pdf', type: 'application/pdf', data: await pdf(title) },
  );
  const res = await app.inject({
    method: 'POST',
    url: `${base}/expedients/${expedientId}/documents`,
    headers: { ...h(creator), ...form.headers },
    payload: form.body,
  });
  assert.equal(res.statusCode, 201, res.body);
  const id = res.json().id as string;
  const c = await app.inject({
    method: 'POST',
    url: `${base}/documents/${id}/circuit`,
    headers: h(creator),
    payload: {
      steps: [
        { kind: 'sign', mode: 'all', signers: [{ positionId: mayorPos }] },
        { kind: 'sign', mode: 'all', signers: [{ positionId: secretaryPos }] },
      ],
      resolution: { summary },
    },
  });
  assert.equal(c.statusCode, 201, c.body);
  return id;
}

async function sign(id: string, u: TestUser) {
  env.clock.advance(31_000); // one TOTP code confirms one act
  return app.inject({
    method: 'POST',
    url: `${base}/documents/${id}/sign`,
    headers: h(u),
    payload: { totp: currentTotp(env, u) },
  });
}

async function signOk(id: string, u: TestUser) {
  const r = await sign(id, u);
  assert.equal(r.statusCode, 200, r.body);
  return r.json();
}

async function status(y = Y) {
  const r = await app.inject({ method: 'GET', url: `${base}/resolutions/book/${y}`, headers: h(creator) });
  assert.equal(r.statusCode, 200, r.body);
  return r.json();
}

async function diligence(kind: 'opening' | 'closing', u: TestUser, y = Y) {
  return app.inject({
    method: 'POST',
    url: `${base}/resolutions/book/${y}/${kind}`,
    headers: h(u),
    payload: {},
  });
}

async function content(documentId: string): Promise<Buffer> {
  const r = await app.inject({
    method: 'GET',
    url: `${base}/documents/${documentId}/content`,
    headers: h(admin),
  });
  assert.equal(r.statusCode, 200, r.body);
  return r.rawPayload;
}

async function auditActions(objectId?: string): Promise<string[]> {
  return env.db.tenant(tenant.id, async (tx) => {
    let q = tx.selectFrom('audit_events').select('action').where('tenant_id', '=', tenant.id);
    if (objectId) q = q.where('object_id', '=', objectId);
    return (await q.execute()).map((r) => r.action);
  });
}

/** Jan 5th of next year, 10:00 Europe/Madrid. */
const nextYearDay = (day: string) =>
  new Date(madridStartOfDay(`${Y + 1}-01-${day}`).getTime() + 10 * 3_600_000);

before(async () => {
  env = await openTestEnv();
  env.clock.set(new Date()); // frozen: the test moves it
  Y = madridYear(env.clock.now());
  app = await makeServer(env);
  tenant = await makeTenant(env);
  other = await makeTenant(env);
  base = `/api/v1/entities/${tenant.slug}`;
  admin = await makeUser(env, { tenant, roles: ['admin'], totp: true });
  creator = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  mayor = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  secretary = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  deputySecretary = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  otherAdmin = await makeUser(env, { tenant: other, roles: ['admin'], totp: true });
  for (const u of [admin, creator, mayor, secretary, deputySecretary, otherAdmin])
    H.set(u.id, await tokenHeaders(env, u));
  await env.db.tenant(tenant.id, async (tx) => {
    const ctx = ctxOf(admin);
    const m = await createPosition(tx, ctx, { kind: 'mayor', title: "L'alcalde" });
    await appointHolder(tx, ctx, m.id, { userId: mayor.id, validFrom: '2020-01-01' });
    const s = await createPosition(tx, ctx, {
      kind: 'secretary',
      title: 'El secretari',
      substituteUserId: deputySecretary.id,
    });
    await appointHolder(tx, ctx, s.id, { userId: secretary.id, validFrom: '2020-01-01' });
    mayorPos = m.id;
    secretaryPos = s.id;
  });
  // The seal exists from now on (the book is sealed later, at a moved clock).
  await ensureEntitySeal(env, tenant.id);
  const res = await app.inject({
    method: 'POST',
    url: `${base}/expedients`,
    headers: h(creator),
    payload: { title: 'Llicències d’obres' },
  });
  assert.equal(res.statusCode, 201, res.body);
  expedientId = res.json().id;
});
after(async () => {
  await app?.close();
  await env?.close();
});

let d1: string;
let d2: string;
let d3: string;
let openingDoc: string;

describe('book of resolutions: diligences', () => {
  it('a decree is numbered before the book is opened: numbering never waits for the opening diligence', async () => {
    d1 = await decree(
      'Decret de llicència d’obres',
      'Concedir la llicència d’obres menors al carrer Major, 3',
    );
    await signOk(d1, mayor);
    const book = await app.inject({
      method: 'GET',
      url: `${base}/resolutions?year=${Y}`,
      headers: h(creator),
    });
    assert.equal(book.statusCode, 200, book.body);
    assert.deepEqual(
      book.json().map((e: { number: string }) => e.number),
      [num(Y, 1)],
    );
    const s = await status();
    assert.equal(s.opening, null);
    assert.equal(s.decrees, 1);
    assert.deepEqual(s.pendingTranscription, [num(Y, 1)]);
  });

  it('only an administrator or the acting secretary asks for a diligence; an entity without a secretary position gets 422', async () => {
    const byHandler = await diligence('opening', creator);
    assert.equal(byHandler.statusCode, 403, byHandler.body);
    assert.equal(byHandler.json().code, 'FORBIDDEN');
    const noSecretary = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${other.slug}/resolutions/book/${Y}/opening`,
      headers: h(otherAdmin),
      payload: {},
    });
    assert.equal(noSecretary.statusCode, 422, noSecretary.body);
    assert.equal(noSecretary.json().code, 'RESOLUTION_BOOK_NO_SECRETARY');
  });

  it('the opening diligence goes to the secretary, who signs it: the book is open, the PDF says so and its signature is valid', async () => {
    const res = await diligence('opening', admin);
    assert.equal(res.statusCode, 201, res.body);
    const v = res.json();
    assert.equal(v.kind, 'opening');
    assert.equal(v.state, 'pending');
    openingDoc = v.documentId;
    const inbox = await app.inject({
      method: 'GET',
      url: '/api/v1/me/signatures/pending',
      headers: h(secretary),
    });
    assert.ok(
      inbox.json().some((i: { documentId: string }) => i.documentId === openingDoc),
      'the diligence is in the secretary’s inbox',
    );
    const again = await diligence('opening', admin);
    assert.equal(again.statusCode, 409, again.body);
    assert.equal(again.json().code, 'RESOLUTION_DILIGENCE_PENDING');
    const wrong = await sign(openingDoc, mayor);
    assert.equal(wrong.statusCode, 409, wrong.body);
    assert.equal(wrong.json().code, 'SIGNATURE_NOT_YOUR_TURN');

    const signed = await signOk(openingDoc, secretary);
    assert.equal(signed.state, 'completed');
    const s = await status();
    assert.equal(s.opening.state, 'signed');
    assert.equal(s.opening.signerPosition, 'El secretari');
    assert.equal(s.opening.bySubstitution, false);
    const twice = await diligence('opening', admin);
    assert.equal(twice.statusCode, 409, twice.body);
    assert.equal(twice.json().code, 'RESOLUTION_BOOK_ALREADY_OPEN');

    const file = await content(openingDoc);
    const text = pdftotext(file).replace(/\s+/g, ' ');
    assert.ok(text.includes("DILIGÈNCIA D'OBERTURA"), text);
    assert.ok(text.includes(`s'obre el llibre de resolucions de l'any ${Y} de ${tenant.name}`), text);
    assert.ok(text.includes(`núm. ${Y}/000001`), text);
    const ca = await getInstallationCaPem(env.db);
    const report = pdfsig(file, nssDbTrusting(ca!));
    assert.match(report.out, /Signature is Valid/);
    assert.equal(pdfSignatures(file).length, 1);
    const actions = await auditActions(openingDoc);
    for (const a of ['resolution_book.opening_request', 'resolution_book.open', 'signature.sign'])
      assert.ok(actions.includes(a), a);
  });

  it('closing waits for the year to end and for every numbered decree’s transcription; a rejected transcription is named; the substitute signs when the secretary is absent', async () => {
    const early = await diligence('closing', admin);
    assert.equal(early.statusCode, 409, early.body);
    assert.equal(early.json().code, 'RESOLUTION_BOOK_YEAR_NOT_ENDED');

    await signOk(d1, secretary); // transcribed
    d2 = await decree('Segon decret', 'Aprovar la factura de l’enllumenat');
    await signOk(d2, mayor); // numbered, waits for the secretary
    d3 = await decree('Tercer decret', 'Contractar el servei de neteja');
    await signOk(d3, mayor);
    const rej = await app.inject({
      method: 'POST',
      url: `${base}/documents/${d3}/reject`,
      headers: h(secretary),
      payload: { reason: 'Manca l’informe d’intervenció' },
    });
    assert.equal(rej.statusCode, 200, rej.body);

    env.clock.set(nextYearDay('05'));
    const pending = await diligence('closing', admin);
    assert.equal(pending.statusCode, 409, pending.body);
    assert.equal(pending.json().code, 'RESOLUTION_BOOK_TRANSCRIPTION_PENDING');
    assert.deepEqual(pending.json().details?.numbers ?? pending.json().numbers, [num(Y, 2)]);
    await signOk(d2, secretary);

    await env.db.tenant(tenant.id, (tx) =>
      recordAbsence(tx, ctxOf(admin), secretaryPos, {
        from: `${Y + 1}-01-05`,
        to: `${Y + 1}-01-09`,
        reason: 'Vacances',
      }),
    );
    // The acting secretary (the substitute) may ask for it too.
    const res = await diligence('closing', deputySecretary);
    assert.equal(res.statusCode, 201, res.body);
    const closingDoc = res.json().documentId as string;
    assert.equal(res.json().decreeCount, 3);
    assert.equal(res.json().firstNumber, num(Y, 1));
    assert.equal(res.json().lastNumber, num(Y, 3));
    const notHim = await sign(closingDoc, secretary);
    assert.equal(notHim.statusCode, 409, notHim.body);
    await signOk(closingDoc, deputySecretary);
    const s = await status();
    assert.equal(s.closing.state, 'signed');
    assert.equal(s.closing.bySubstitution, true);
    assert.deepEqual(s.notTranscribed, [num(Y, 3)]);
    assert.equal(s.transcribed, 2);
    const text = pdftotext(await content(closingDoc)).replace(/\s+/g, ' ');
    assert.ok(text.includes('DILIGÈNCIA DE TANCAMENT'), text);
    assert.ok(text.includes(`conté 3 decrets: del núm. ${num(Y, 1)}`), text);
    assert.ok(text.includes(`al núm. ${num(Y, 3)}`), text);
    assert.ok(text.includes(`no es van transcriure`) && text.includes(num(Y, 3)), text);
    assert.ok(text.includes('per substitució'), 'the stamp says the substitute signed');
    const again = await diligence('closing', admin);
    assert.equal(again.statusCode, 409, again.body);
    assert.equal(again.json().code, 'RESOLUTION_BOOK_ALREADY_CLOSED');
  });

  it('a book is closed only once it was opened', async () => {
    // The book of last year was never opened.
    const res = await diligence('closing', admin, Y - 1);
    assert.equal(res.statusCode, 409, res.body);
    assert.equal(res.json().code, 'RESOLUTION_BOOK_NOT_OPEN');
  });
});

describe('book of resolutions: the sealed yearly PDF', () => {
  let csv: string;
  it('only an administrator or the acting secretary exports it', async () => {
    const r = await app.inject({
      method: 'GET',
      url: `${base}/resolutions/book/${Y}.pdf`,
      headers: h(creator),
    });
    assert.equal(r.statusCode, 403, r.body);
  });

  it('one PDF: cover, index, diligences and every decree’s pages, sealed with one valid, trusted signature, verifiable by its CSV', async () => {
    const r = await app.inject({
      method: 'GET',
      url: `${base}/resolutions/book/${Y}.pdf`,
      headers: h(admin),
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.headers['content-type'], 'application/pdf');
    const file = r.rawPayload;
    csv = String(r.headers['x-csv']);
    assert.match(csv, /^[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}$/);
    const sigs = pdfSignatures(file);
    assert.equal(sigs.length, 1, 'only the seal: the decrees’ own signatures are not carried over');
    const ca = await getInstallationCaPem(env.db);
    const report = pdfsig(file, nssDbTrusting(ca!));
    assert.match(report.out, /Signature is Valid/);
    assert.match(report.out, /Certificate is Trusted/);
    const text = pdftotext(file).replace(/\s+/g, ' ');
    assert.ok(text.includes(`LLIBRE DE RESOLUCIONS — ANY ${Y}`), text.slice(0, 500));
    assert.ok(text.includes(`CSV ${csv}`), 'the CSV on the pages');
    for (const [n, summary] of [
      [1, 'Concedir la llicència d’obres menors al carrer Major, 3'],
      [2, 'Aprovar la factura de l’enllumenat'],
      [3, 'Contractar el servei de neteja'],
    ] as const) {
      assert.ok(text.includes(`Decret ${num(Y, n)}`), `index line of ${n}`);
      assert.ok(text.includes(summary), summary);
      assert.ok(text.includes(`Decret núm. ${num(Y, n)}`), `the stamped decree ${n} is in the book`);
    }
    assert.ok(text.includes("L'alcalde"), 'the deciding position');
    // Each signature's visible stamp is kept as page content: 2 + 2 + 1 (the mayor's of the
    // rejected one) on the decrees, 1 on each diligence.
    assert.equal(text.split('Signatura de demostració (no qualificada)').length - 1, 7, text);
    assert.ok(text.includes('[no transcrit]'), 'the untranscribed decree is marked');
    assert.ok(text.includes("s'obre el llibre de resolucions"), 'the opening diligence');
    assert.ok(text.includes('es tanca el llibre de resolucions'), 'the closing diligence');
    const pages = (await PDFDocument.load(file)).getPageCount();
    assert.ok(pages >= 8, `${pages} pages`);

    const v = await app.inject({ method: 'GET', url: `/api/v1/verify/${csv}` });
    assert.equal(v.statusCode, 200, v.body);
    assert.equal(v.json().document.title, `Llibre de resolucions ${Y}`);
    assert.equal(v.json().entity.dir3, tenant.dir3);
    assert.ok((await auditActions()).includes('resolution_book.export'));
  });

  it('an unchanged book gives the same edition; the status names it', async () => {
    const r = await app.inject({
      method: 'GET',
      url: `${base}/resolutions/book/${Y}.pdf`,
      headers: h(admin),
    });
    assert.equal(r.statusCode, 200);
    assert.equal(String(r.headers['x-csv']), csv);
    const s = await status();
    assert.equal(s.latestExport.csv, csv);
    assert.equal(s.latestExport.decrees, 3);
  });

  it('an entity without a seal of its own gets the demo seal outside production; its empty book is still a book', async () => {
    const r = await app.inject({
      method: 'GET',
      url: `/api/v1/entities/${other.slug}/resolutions/book/${Y}.pdf`,
      headers: h(otherAdmin),
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(pdfSignatures(r.rawPayload).length, 1);
    assert.match(pdfsig(r.rawPayload).out, /Signature is Valid/);
    const text = pdftotext(r.rawPayload).replace(/\s+/g, ' ');
    assert.ok(text.includes('Cap decret.'), text);
    assert.ok(text.includes('Segell de demostració — no qualificat.'), text);
    assert.ok(text.includes(other.name), text);
  });

  it('another entity gets 404 for the book, its status and its diligences', async () => {
    for (const url of [
      `${base}/resolutions/book/${Y}.pdf`,
      `${base}/resolutions/book/${Y}`,
      `${base}/resolutions/extracts?year=${Y}`,
      `${base}/resolutions/for-ple?since=${Y}-01-01`,
      `${base}/ple-sessions`,
    ]) {
      const r = await app.inject({ method: 'GET', url, headers: h(otherAdmin) });
      assert.equal(r.statusCode, 404, `${url}: ${r.body}`);
    }
    const post = await app.inject({
      method: 'POST',
      url: `${base}/resolutions/book/${Y + 1}/opening`,
      headers: h(otherAdmin),
      payload: {},
    });
    assert.equal(post.statusCode, 404, post.body);
    const own = await app.inject({
      method: 'GET',
      url: `/api/v1/entities/${other.slug}/resolutions/book/${Y}`,
      headers: h(otherAdmin),
    });
    assert.equal(own.statusCode, 200, own.body);
    assert.equal(own.json().decrees, 0);
    assert.equal(own.json().opening, null);
  });
});

describe('book of resolutions: extracts for the State and the Generalitat', () => {
  const outbox = () => path.join(env.dataDir, 'outbox', 'eacat', tenant.dir3);

  it('each numbered decree’s extract is written to the outbox for AGE and GENCAT, recorded and listed', async () => {
    assert.ok((await env.jobs.drain(EXTRACT_JOB)) >= 3);
    for (const n of [1, 2, 3])
      for (const to of ['AGE', 'GENCAT']) {
        const f = path.join(outbox(), String(Y), `${Y}-${String(n).padStart(6, '0')}-${to}.json`);
        const sent = JSON.parse(fs.readFileSync(f, 'utf8'));
        assert.equal(sent.extract.number, num(Y, n));
        assert.equal(sent.extract.recipient, to);
        assert.equal(sent.extract.entity.dir3, tenant.dir3);
        assert.equal(sent.extract.position, "L'alcalde");
        assert.match(sent.ackId, /^LOCAL-/);
      }
    const r = await app.inject({
      method: 'GET',
      url: `${base}/resolutions/extracts?year=${Y}`,
      headers: h(creator),
    });
    assert.equal(r.statusCode, 200, r.body);
    const rows = r.json();
    assert.equal(rows.length, 3);
    for (const row of rows) {
      assert.deepEqual(
        row.extracts.map((x: { recipient: string }) => x.recipient),
        ['AGE', 'GENCAT'],
      );
      for (const x of row.extracts) {
        assert.ok(x.sentAt && x.ackId, JSON.stringify(x));
        assert.equal(x.channel, 'local-outbox');
        // sent by the job a month after the decrees (the clock moved): late, and said so
        assert.equal(x.late, true);
      }
    }
    const book = await app.inject({
      method: 'GET',
      url: `${base}/resolutions?year=${Y}`,
      headers: h(creator),
    });
    const first = book.json()[0];
    assert.ok(first.extract.sentAt);
    assert.ok(new Date(first.extract.due) > new Date(first.signedAt));
    assert.ok((await auditActions(d1)).includes('resolution.extract_send'));
  });

  it('a sending that fails is retried; the daily sweep flags what passed its 6 days unsent and sends it once it can', async () => {
    env.clock.set(nextYearDay('12'));
    const d = await decree('Decret de gener', 'Nomenar el tresorer accidental');
    await signOk(d, mayor);
    const number = num(Y + 1, 1);
    // The outbox cannot be written: a file stands where its directory goes.
    fs.mkdirSync(outbox(), { recursive: true });
    fs.writeFileSync(path.join(outbox(), String(Y + 1)), 'not a directory');
    await env.jobs.drain(EXTRACT_JOB);
    const rowsOf = async () => {
      const r = await app.inject({
        method: 'GET',
        url: `${base}/resolutions/extracts?year=${Y + 1}`,
        headers: h(creator),
      });
      assert.equal(r.statusCode, 200, r.body);
      return r.json().find((x: { number: string }) => x.number === number).extracts;
    };
    const failed = await rowsOf();
    for (const x of failed) {
      assert.equal(x.sentAt, null);
      assert.equal(x.overdue, false);
    }
    assert.ok(
      failed.some((x: { lastError: string | null }) => x.lastError),
      JSON.stringify(failed),
    );
    const due = new Date(failed[0].due);
    // 24:00 of the sixth day after the decree (12 January): 19 January 00:00 Europe/Madrid.
    assert.equal(due.toISOString(), madridStartOfDay(`${Y + 1}-01-19`).toISOString());

    env.clock.set(new Date(due.getTime() - 60_000)); // the last minute of the sixth day: not overdue
    assert.equal((await sweepExtracts(env)).flagged, 0);
    env.clock.set(new Date(due.getTime() + 60_000));
    const sweep = await sweepExtracts(env);
    assert.equal(sweep.flagged, 2);
    assert.equal(sweep.sent, 0);
    const overdue = await rowsOf();
    for (const x of overdue) assert.equal(x.overdue, true);
    const actions = await auditActions(d);
    assert.equal(actions.filter((a) => a === 'resolution.extract_overdue').length, 2);
    // flagged once
    assert.equal((await sweepExtracts(env)).flagged, 0);

    fs.rmSync(path.join(outbox(), String(Y + 1)));
    const later = await sweepExtracts(env);
    assert.equal(later.sent, 2);
    const sent = await rowsOf();
    for (const x of sent) {
      assert.ok(x.sentAt);
      assert.equal(x.late, true);
      assert.equal(x.overdue, true);
    }
    assert.ok(fs.existsSync(path.join(outbox(), String(Y + 1), `${Y + 1}-000001-GENCAT.json`)));
  });
});

describe('book of resolutions: the Ple', () => {
  it('only an administrator or the secretary records a session; without an ordinary session the list needs a date', async () => {
    const none = await app.inject({ method: 'GET', url: `${base}/resolutions/for-ple`, headers: h(creator) });
    assert.equal(none.statusCode, 422, none.body);
    assert.equal(none.json().code, 'PLE_SESSION_NONE');
    const byHandler = await app.inject({
      method: 'POST',
      url: `${base}/ple-sessions`,
      headers: h(creator),
      payload: { heldOn: `${Y}-01-30`, kind: 'ordinary' },
    });
    assert.equal(byHandler.statusCode, 403, byHandler.body);
  });

  it('the decrees since the last ordinary session (an extraordinary one does not count), as JSON and PDF', async () => {
    // The decrees of Y were numbered on their day; the January one on the 12th.
    const first = await app.inject({
      method: 'GET',
      url: `${base}/resolutions?year=${Y}`,
      headers: h(creator),
    });
    const decidedOn = first.json()[0].signedAt as string;
    const dayBefore = new Date(new Date(decidedOn).getTime() - 86_400_000);
    const iso = (d: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Madrid' }).format(d);
    for (const s of [
      { heldOn: iso(dayBefore), kind: 'ordinary', reference: 'Sessió ordinària' },
      { heldOn: `${Y + 1}-01-10`, kind: 'extraordinary' },
    ]) {
      const r = await app.inject({
        method: 'POST',
        url: `${base}/ple-sessions`,
        headers: h(admin),
        payload: s,
      });
      assert.equal(r.statusCode, 201, r.body);
    }
    const list = await app.inject({ method: 'GET', url: `${base}/resolutions/for-ple`, headers: h(creator) });
    assert.equal(list.statusCode, 200, list.body);
    const l = list.json();
    assert.equal(l.lastOrdinarySession.kind, 'ordinary');
    assert.deepEqual(
      l.decrees.map((d: { number: string }) => d.number),
      [num(Y, 1), num(Y, 2), num(Y, 3), num(Y + 1, 1)],
    );
    assert.equal(l.decrees[0].summary, 'Concedir la llicència d’obres menors al carrer Major, 3');
    assert.ok(l.decrees[0].expedientNumber);

    // An ordinary session after the December decrees: only January's remain.
    const s2 = await app.inject({
      method: 'POST',
      url: `${base}/ple-sessions`,
      headers: h(admin),
      payload: { heldOn: `${Y + 1}-01-11`, kind: 'ordinary' },
    });
    assert.equal(s2.statusCode, 201, s2.body);
    const after = await app.inject({
      method: 'GET',
      url: `${base}/resolutions/for-ple`,
      headers: h(creator),
    });
    assert.deepEqual(
      after.json().decrees.map((d: { number: string }) => d.number),
      [num(Y + 1, 1)],
    );
    const since = await app.inject({
      method: 'GET',
      url: `${base}/resolutions/for-ple?since=${iso(new Date(decidedOn))}&until=${Y}-12-31`,
      headers: h(creator),
    });
    assert.deepEqual(
      since.json().decrees.map((d: { number: string }) => d.number),
      [num(Y, 1), num(Y, 2), num(Y, 3)],
    );
    const pdfRes = await app.inject({
      method: 'GET',
      url: `${base}/resolutions/for-ple.pdf`,
      headers: h(creator),
    });
    assert.equal(pdfRes.statusCode, 200, pdfRes.body);
    const text = pdftotext(pdfRes.rawPayload).replace(/\s+/g, ' ');
    assert.ok(text.includes(`Decret ${num(Y + 1, 1)}`), text);
    assert.ok(text.includes('Nomenar el tresorer accidental'), text);
    const sessions = await app.inject({ method: 'GET', url: `${base}/ple-sessions`, headers: h(creator) });
    assert.equal(sessions.json().length, 3);
    assert.ok((await auditActions()).includes('ple_session.create'));
  });
});

describe('book of resolutions: a diligence refused, cancelled or interrupted', () => {
  it('a rejected or cancelled opening may be asked again; one interrupted before its circuit is resumed, not duplicated', async () => {
    const y = Y + 1;
    const first = await diligence('opening', admin, y);
    assert.equal(first.statusCode, 201, first.body);
    const rej = await app.inject({
      method: 'POST',
      url: `${base}/documents/${first.json().documentId}/reject`,
      headers: h(secretary),
      payload: { reason: 'Cal indicar el nom complet de l’entitat' },
    });
    assert.equal(rej.statusCode, 200, rej.body);
    assert.equal((await status(y)).opening.state, 'rejected');

    const second = await diligence('opening', admin, y);
    assert.equal(second.statusCode, 201, second.body);
    assert.notEqual(second.json().documentId, first.json().documentId);
    assert.equal((await status(y)).opening.documentId, second.json().documentId);
    const cancel = await app.inject({
      method: 'POST',
      url: `${base}/documents/${second.json().documentId}/circuit/cancel`,
      headers: h(admin),
      payload: {},
    });
    assert.equal(cancel.statusCode, 200, cancel.body);
    assert.equal((await status(y)).opening.state, 'cancelled');

    // The process dies after the diligence is recorded and before its circuit starts.
    const ctx = ctxOf(admin);
    const plan = await env.db.tenant(tenant.id, (tx) => planDiligence(tx, ctx, y, 'opening', null));
    assert.ok(!('resume' in plan));
    const stored = await env.blobs.put(await renderDiligence(plan.facts));
    const interrupted = await env.db.tenant(tenant.id, (tx) =>
      recordDiligence(tx, ctx, y, 'opening', null, plan, stored),
    );
    assert.equal((await status(y)).opening.state, 'draft');
    const resumed = await diligence('opening', admin, y);
    assert.equal(resumed.statusCode, 201, resumed.body);
    assert.equal(resumed.json().documentId, interrupted, 'the recorded diligence gets its circuit');
    assert.equal(resumed.json().state, 'pending');
    await signOk(interrupted, secretary);
    assert.equal((await status(y)).opening.state, 'signed');
    const stopped = await env.db.tenant(tenant.id, (tx) =>
      tx
        .selectFrom('resolution_diligences')
        .select(['document_id', 'stopped_at'])
        .where('tenant_id', '=', tenant.id)
        .where('year', '=', y)
        .execute(),
    );
    assert.equal(stopped.length, 3);
    assert.equal(stopped.filter((r) => r.stopped_at === null).length, 1);
  });

  it('a book too far ahead cannot be opened', async () => {
    const res = await diligence('opening', admin, Y + 3);
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().code, 'VALIDATION_FAILED');
  });
});
