import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { PDFDocument } from 'pdf-lib';
import { type Ctx, noRequest } from '#platform/context.ts';
import { madridYear } from '#platform/db/counters.ts';
import { madridDateOf } from '#modules/calendar/civil-date.ts';
import { appointHolder, createPosition, recordDelegation } from '#modules/positions/positions.service.ts';
import {
  decreeDate,
  resolutionHooks,
  STAMP_JOB,
  stampDecree,
} from '#modules/resolutions/resolutions.service.ts';
import { planSignature, readDraftContent, recordAct } from '#modules/signatures/circuits.service.ts';
import { cscSigner, signTurn } from '#modules/signatures/circuits.signing.ts';
import { getInstallationCaPem } from '#modules/seals/seals.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  backend,
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
 * The book of resolutions over HTTP, on the backend the suite runs on: a decree signed by the
 * mayor (deciding) and the secretary (transcription) gets its number when the mayor's signature
 * is recorded; the number and date are stamped in a revision the secretary's signature covers and
 * the mayor's does not; rejected or cancelled resolutions use no number; the book lists decrees;
 * 20 deciding signatures at once get consecutive numbers; a councillor decides only with a
 * delegation in force. (200 through two processes, one killed: resolutions-concurrency.test.ts.)
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
const H = new Map<string, Record<string, string>>();
let otherHeaders: Record<string, string>;
let mayorPos: string;
let secretaryPos: string;
const year = () => madridYear(env.clock.now());

const h = (u: TestUser) => H.get(u.id)!;

async function pdf(text: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage().drawText(text, { x: 50, y: 780, size: 12 });
  return Buffer.from(await doc.save());
}

async function draft(title: string, documentType = 'TD01'): Promise<string> {
  const form = multipart(
    { title, documentType, draft: 'true' },
    { name: 'decret.pdf', type: 'application/pdf', data: await pdf(title) },
  );
  const res = await app.inject({
    method: 'POST',
    url: `${base}/expedients/${expedientId}/documents`,
    headers: { ...h(creator), ...form.headers },
    payload: form.body,
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id;
}

const decreeSteps = (decider = mayorPos) => [
  { kind: 'sign', mode: 'all', signers: [{ positionId: decider }] },
  { kind: 'sign', mode: 'all', signers: [{ positionId: secretaryPos }] },
];

async function circuit(id: string, steps: unknown[], summary: string | null = 'Aprovar la llicència') {
  return app.inject({
    method: 'POST',
    url: `${base}/documents/${id}/circuit`,
    headers: h(creator),
    payload: summary === null ? { steps } : { steps, resolution: { summary } },
  });
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

async function book(y = year(), headers = h(creator)) {
  const res = await app.inject({ method: 'GET', url: `${base}/resolutions?year=${y}`, headers });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as {
    number: string;
    signedAt: string;
    title: string;
    position: string;
    documentId: string;
  }[];
}

async function counter(): Promise<number | null> {
  return env.db.tenant(tenant.id, async (tx) => {
    const r = await sql<{ value: number }>`
      SELECT value FROM counters WHERE tenant_id = ${tenant.id} AND series = 'decree' AND year = ${year()}`.execute(
      tx,
    );
    return r.rows[0] ? Number(r.rows[0].value) : null;
  });
}

function adminCtx(u: TestUser = admin, roles: Ctx['roles'] = ['admin']): Ctx {
  return {
    tenant: { id: tenant.id, dir3: tenant.dir3, slug: tenant.slug, name: tenant.name, status: tenant.status },
    actor: { kind: 'user', id: u.id, label: u.username, platformRoles: [] },
    roles,
    request: noRequest,
    clock: env.clock,
  };
}

before(async () => {
  env = await openTestEnv();
  app = await makeServer(env);
  tenant = await makeTenant(env);
  other = await makeTenant(env);
  base = `/api/v1/entities/${tenant.slug}`;
  admin = await makeUser(env, { tenant, roles: ['admin'], totp: true });
  creator = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  mayor = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  secretary = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  for (const u of [creator, mayor, secretary]) H.set(u.id, await tokenHeaders(env, u));
  otherHeaders = await tokenHeaders(
    env,
    await makeUser(env, { tenant: other, roles: ['handler'], totp: true }),
  );
  await env.db.tenant(tenant.id, async (tx) => {
    const ctx = adminCtx();
    const m = await createPosition(tx, ctx, { kind: 'mayor', title: "L'alcalde" });
    await appointHolder(tx, ctx, m.id, { userId: mayor.id, validFrom: '2020-01-01' });
    const s = await createPosition(tx, ctx, { kind: 'secretary', title: 'El secretari' });
    await appointHolder(tx, ctx, s.id, { userId: secretary.id, validFrom: '2020-01-01' });
    mayorPos = m.id;
    secretaryPos = s.id;
  });
  const res = await app.inject({
    method: 'POST',
    url: `${base}/expedients`,
    headers: h(creator),
    payload: { title: 'Llicència d’obres' },
  });
  assert.equal(res.statusCode, 201, res.body);
  expedientId = res.json().id;
});
after(async () => {
  await app?.close();
  await env?.close();
});

describe('book of resolutions (decrees)', () => {
  it('a resolution circuit needs a TD01, a deciding position and the secretary last', async () => {
    const notTd01 = await circuit(await draft('Informe', 'TD11'), decreeSteps());
    assert.equal(notTd01.statusCode, 422, notTd01.body);
    assert.equal(notTd01.json().code, 'RESOLUTION_CIRCUIT_INVALID');
    const noSecretary = await circuit(await draft('Decret sense transcripció'), [decreeSteps()[0]]);
    assert.equal(noSecretary.statusCode, 422, noSecretary.body);
    assert.equal(noSecretary.json().code, 'RESOLUTION_CIRCUIT_INVALID');
    const byUser = await circuit(await draft('Decret signat per usuari'), [
      { kind: 'sign', mode: 'all', signers: [mayor.id] },
      decreeSteps()[1],
    ]);
    assert.equal(byUser.statusCode, 422, byUser.body);
  });

  it('rejected or cancelled before the deciding signature: no number is used', async () => {
    const rejected = await draft('Decret rebutjat');
    assert.equal((await circuit(rejected, decreeSteps())).statusCode, 201);
    const rej = await app.inject({
      method: 'POST',
      url: `${base}/documents/${rejected}/reject`,
      headers: h(mayor),
      payload: { reason: 'No escau' },
    });
    assert.equal(rej.statusCode, 200, rej.body);
    const cancelled = await draft('Decret cancel·lat');
    assert.equal((await circuit(cancelled, decreeSteps())).statusCode, 201);
    const can = await app.inject({
      method: 'POST',
      url: `${base}/documents/${cancelled}/circuit/cancel`,
      headers: h(creator),
      payload: {},
    });
    assert.equal(can.statusCode, 200, can.body);
    assert.equal(await counter(), null, 'the decree counter was never taken');
    assert.deepEqual(await book(), []);
  });

  it('a decree signed by the mayor then the secretary: YYYY/000001, number and date covered by the secretary only, both signatures valid, in the book', async () => {
    const id = await draft('Decret de llicència');
    const started = await circuit(id, decreeSteps());
    assert.equal(started.statusCode, 201, started.body);

    const early = await sign(id, secretary);
    assert.equal(early.statusCode, 409);
    assert.equal(early.json().code, 'SIGNATURE_NOT_YOUR_TURN');

    const decided = await sign(id, mayor);
    assert.equal(decided.statusCode, 200, decided.body);
    const number = `${year()}/000001`;
    const [entry, ...rest] = await book();
    assert.equal(rest.length, 0);
    assert.equal(entry!.number, number);
    assert.equal(entry!.title, 'Decret de llicència');
    assert.equal(entry!.position, "L'alcalde");
    assert.equal(entry!.documentId, id);
    assert.equal((entry as unknown as { expedientId: string }).expedientId, expedientId);
    assert.equal((entry as unknown as { stamped: boolean }).stamped, true, 'the request stamped it');
    assert.equal(await counter(), 1);
    // idempotent: the job (or a second call) finds it done
    assert.equal(await stampDecree(env, tenant.id, id), 'already');

    const transcribed = await sign(id, secretary);
    assert.equal(transcribed.statusCode, 200, transcribed.body);
    assert.equal(transcribed.json().state, 'completed');

    const content = await app.inject({
      method: 'GET',
      url: `${base}/documents/${id}/content`,
      headers: h(creator),
    });
    assert.equal(content.statusCode, 200, content.body);
    const signed = content.rawPayload;
    const sigs = pdfSignatures(signed);
    assert.equal(sigs.length, 2);
    const date = decreeDate(new Date(entry!.signedAt));
    const mayorText = pdftotext(sigs[0]!.revision);
    const secretaryText = pdftotext(sigs[1]!.revision);
    assert.ok(!mayorText.includes(number), 'the mayor signed before the number existed');
    assert.ok(secretaryText.includes(`Decret núm. ${number}`), secretaryText);
    assert.ok(secretaryText.includes(`Data del decret: ${date}`), secretaryText);
    const ca = await getInstallationCaPem(env.db);
    assert.ok(ca);
    const report = pdfsig(signed, nssDbTrusting(ca));
    const blocks = report.out.split(/Signature #\d+:/).slice(1);
    assert.equal(blocks.length, 2, report.out);
    for (const b of blocks) {
      assert.match(b, /Signature is Valid/);
      assert.match(b, /Certificate is Trusted/);
    }

    const audit = await env.db.tenant(tenant.id, (tx) =>
      tx
        .selectFrom('audit_events')
        .select('action')
        .where('tenant_id', '=', tenant.id)
        .where('object_id', '=', id)
        .execute(),
    );
    const actions = audit.map((a) => a.action);
    for (const a of ['resolution.number', 'resolution.stamp', 'document.stamp'])
      assert.ok(actions.includes(a), a);

    // the next decree gets the next number
    const second = await draft('Segon decret');
    assert.equal((await circuit(second, decreeSteps())).statusCode, 201);
    assert.equal((await sign(second, mayor)).statusCode, 200);
    assert.deepEqual(
      (await book()).map((e) => e.number),
      [number, `${year()}/000002`],
    );
  });

  it('another entity sees neither the book nor the decrees', async () => {
    const res = await app.inject({
      method: 'GET',
      url: `${base}/resolutions?year=${year()}`,
      headers: otherHeaders,
    });
    assert.ok([403, 404].includes(res.statusCode), res.body);
    const own = await app.inject({
      method: 'GET',
      url: `/api/v1/entities/${other.slug}/resolutions?year=${year()}`,
      headers: otherHeaders,
    });
    assert.equal(own.statusCode, 200, own.body);
    assert.deepEqual(own.json(), []);
  });

  it('a councillor decides only with a delegation in force: none at the start is 422; one that ended before the signature is 409 and uses no number', async () => {
    const councillor = await makeUser(env, { tenant, roles: ['handler'], totp: true });
    H.set(councillor.id, await tokenHeaders(env, councillor));
    const positionId = await env.db.tenant(tenant.id, async (tx) => {
      const p = await createPosition(tx, adminCtx(), {
        kind: 'councillor',
        title: 'Regidora de festes',
        area: 'Festes',
      });
      await appointHolder(tx, adminCtx(), p.id, { userId: councillor.id, validFrom: '2020-01-01' });
      return p.id;
    });
    const refused = await circuit(await draft('Decret sense delegació'), decreeSteps(positionId));
    assert.equal(refused.statusCode, 422, refused.body);
    assert.equal(refused.json().code, 'RESOLUTION_CIRCUIT_INVALID');
    assert.match(refused.json().detail, /delegation/);

    const today = madridDateOf(env.clock.now());
    await env.db.tenant(tenant.id, (tx) =>
      recordDelegation(tx, adminCtx(), positionId, {
        areas: ['Festes'],
        powers: 'Resoldre els expedients de festes',
        decreeReference: 'Decret de delegació',
        decreeDate: '2020-01-01',
        validTo: today,
      }),
    );
    const id = await draft('Decret de festes');
    assert.equal((await circuit(id, decreeSteps(positionId))).statusCode, 201);
    const before = await counter();
    env.clock.advance(2 * 86400_000); // the delegation has ended
    const late = await sign(id, councillor);
    assert.equal(late.statusCode, 409, late.body);
    assert.equal(late.json().code, 'RESOLUTION_NO_DELEGATION');
    assert.equal(await counter(), before, 'no number was used');
  });

  it('the book refuses a malformed year', async () => {
    const res = await app.inject({ method: 'GET', url: `${base}/resolutions?year=26`, headers: h(creator) });
    assert.equal(res.statusCode, 400, res.body);
  });

  it('the process dies around the deciding signature: before its record commits no number is used; after it, the secretary waits until the job stamps', async () => {
    const id = await draft('Decret interromput');
    assert.equal((await circuit(id, decreeSteps())).statusCode, 201);
    const hooks = resolutionHooks(env);
    const ctx = adminCtx(mayor, ['handler']);
    const before = await counter();
    const appendMayorSignature = async () => {
      env.clock.advance(31_000);
      const turn = await env.db.tenant(tenant.id, (tx) => planSignature(tx, ctx, id, hooks));
      const row = await env.db.tenant(tenant.id, (tx) => readDraftContent(tx, ctx, id));
      const signer = await cscSigner(
        env,
        { userId: mayor.id, label: mayor.username, request: noRequest },
        { totp: currentTotp(env, mayor) },
      );
      const signed = await signTurn(
        await env.blobs.readVerified(row.sha256),
        turn,
        signer,
        tenant,
        env.clock.now(),
      );
      return { turn, stored: await env.blobs.put(signed) };
    };
    // The signature is appended, then the process dies before the record transaction: nothing committed.
    await appendMayorSignature();
    assert.equal(await counter(), before, 'no number without the recorded signature');
    // Again; this time the record commits and the process dies before the stamp (what the route does next).
    const { turn, stored } = await appendMayorSignature();
    await env.db.tenant(tenant.id, (tx) => recordAct(tx, ctx, id, turn, stored, hooks));
    const number = `${year()}/${String((before ?? 0) + 1).padStart(6, '0')}`;
    const entry = (await book()).find((e) => e.documentId === id) as unknown as {
      number: string;
      stamped: boolean;
    };
    assert.equal(entry.number, number);
    assert.equal(entry.stamped, false);
    const waiting = await sign(id, secretary);
    assert.equal(waiting.statusCode, 409, waiting.body);
    assert.equal(waiting.json().code, 'RESOLUTION_NOT_STAMPED');
    // The job (enqueued with the number) completes the stamp.
    await env.db.owner((tx) =>
      sql`UPDATE pgboss.job SET start_after = now() WHERE name = ${STAMP_JOB} AND state = 'created'`.execute(
        tx,
      ),
    );
    assert.ok((await env.jobs.drain(STAMP_JOB)) >= 1);
    const stamped = (await book()).find((e) => e.documentId === id) as unknown as { stamped: boolean };
    assert.equal(stamped.stamped, true);
    const done = await sign(id, secretary);
    assert.equal(done.statusCode, 200, done.body);
    const content = await app.inject({
      method: 'GET',
      url: `${base}/documents/${id}/content`,
      headers: h(creator),
    });
    const sigs = pdfSignatures(content.rawPayload);
    assert.equal(sigs.length, 2);
    assert.ok(!pdftotext(sigs[0]!.revision).includes(number));
    assert.ok(pdftotext(sigs[1]!.revision).includes(`Decret núm. ${number}`));
  });

  // In one in-process server (PostgreSQL: over its connection pool; PGlite, one connection:
  // serialised). The acceptance's 200 deciding signatures through two API processes, one killed,
  // are test/resolutions-concurrency.test.ts.
  const TOTAL = 20;
  it(`${TOTAL} resolutions reaching their deciding signature at once get consecutive numbers, no gap, no repeat (${backend()})`, async () => {
    const deciders: { user: TestUser; positionId: string }[] = [];
    for (let i = 0; i < TOTAL; i++) {
      const user = await makeUser(env, { tenant, roles: ['handler'], totp: true });
      H.set(user.id, await tokenHeaders(env, user));
      deciders.push({ user, positionId: '' });
    }
    await env.db.tenant(tenant.id, async (tx) => {
      for (const [i, d] of deciders.entries()) {
        const p = await createPosition(tx, adminCtx(), {
          kind: 'councillor',
          title: `Regidor ${i + 1}`,
          area: `Àrea ${i + 1}`,
        });
        await appointHolder(tx, adminCtx(), p.id, { userId: d.user.id, validFrom: '2020-01-01' });
        // A councillor decides only by delegation of the mayor (LBRL art. 21.3).
        await recordDelegation(tx, adminCtx(), p.id, {
          areas: [`Àrea ${i + 1}`],
          powers: 'Resoldre els expedients de l’àrea',
          decreeReference: `Decret 2020/${String(i + 1).padStart(6, '0')}`,
          decreeDate: '2020-01-01',
        });
        d.positionId = p.id;
      }
    });
    const ids: string[] = [];
    for (let i = 0; i < TOTAL; i += 10) {
      const batch = deciders.slice(i, i + 10);
      ids.push(
        ...(await Promise.all(
          batch.map(async (d, j) => {
            const id = await draft(`Decret concurrent ${i + j + 1}`);
            const r = await circuit(id, decreeSteps(d.positionId));
            assert.equal(r.statusCode, 201, r.body);
            return id;
          }),
        )),
      );
    }
    const before = (await counter()) ?? 0;
    env.clock.advance(31_000);
    const results = await Promise.all(
      deciders.map((d, i) =>
        app.inject({
          method: 'POST',
          url: `${base}/documents/${ids[i]}/sign`,
          headers: h(d.user),
          payload: { totp: currentTotp(env, d.user) },
        }),
      ),
    );
    const failed = results.filter((r) => r.statusCode !== 200);
    assert.equal(
      failed.length,
      0,
      `${failed.length} failed, e.g. ${failed[0]?.statusCode} ${failed[0]?.body}`,
    );
    const mine = new Set(ids);
    const numbers = (await book()).filter((e) => mine.has(e.documentId)).map((e) => e.number);
    assert.equal(numbers.length, TOTAL);
    assert.equal(new Set(numbers).size, TOTAL, 'a number was given twice');
    const expected = Array.from(
      { length: TOTAL },
      (_, i) => `${year()}/${String(before + i + 1).padStart(6, '0')}`,
    );
    assert.deepEqual([...numbers].sort(), expected);
    assert.equal(await counter(), before + TOTAL);
  });
});
