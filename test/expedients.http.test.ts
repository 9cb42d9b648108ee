import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  loginHeaders,
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  type TestEnv,
  blobFiles as harnessBlobFiles,
  rowCounts as harnessRowCounts,
} from '#test/helpers/harness.ts';
import { multipart } from '#test/helpers/multipart.ts';

let env: TestEnv;
let app: FastifyInstance;
let tenant: Tenant;
let handler: Record<string, string>;
let admin: Record<string, string>;
let base: string;

before(async () => {
  env = await openTestEnv({ config: { maxUploadBytes: 64 * 1024 } });
  app = await makeServer(env);
  tenant = await makeTenant(env);
  handler = await loginHeaders(app, env, await makeUser(env, { tenant, roles: ['handler'] }));
  admin = await loginHeaders(
    app,
    env,
    await makeUser(env, { tenant, roles: ['admin', 'handler'], totp: true }),
  );
  base = `/api/v1/entities/${tenant.slug}`;
});
after(async () => {
  await app.close();
  await env.close();
});

async function create(headers: Record<string, string>, body: Record<string, unknown>) {
  return app.inject({ method: 'POST', url: `${base}/expedients`, headers, payload: body });
}

const blobFiles = () => harnessBlobFiles(env);
const rowCounts = () => harnessRowCounts(env, ['expedients', 'documents', 'index_entries', 'audit_events']);

describe('case files', () => {
  it('opens case files numbered YYYY/NNNNNN with an ENI identifier, in order', async () => {
    const a = await create(handler, { title: 'Llicència d’obres menors' });
    const b = await create(handler, { title: 'Padró: alta' });
    assert.equal(a.statusCode, 201, a.body);
    const ea = a.json();
    const eb = b.json();
    const year = new Date().getFullYear();
    assert.match(ea.number, new RegExp(`^${year}/\\d{6}$`));
    assert.equal(Number(eb.number.split('/')[1]), Number(ea.number.split('/')[1]) + 1);
    assert.equal(ea.eniId, `ES_${tenant.dir3}_${year}_EXP_${ea.number.split('/')[1]}`);
    assert.ok(ea.eniId.length <= 52);
    assert.equal(ea.state, 'E01');
    assert.equal(ea.accessLevel, 'internal');
  });

  it('lists with text, state and year filters and pagination', async () => {
    await create(handler, { title: 'Subvenció festa major' });
    const res = await app.inject({
      method: 'GET',
      url: `${base}/expedients?q=festa&pageSize=1`,
      headers: handler,
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.total, 1);
    assert.equal(body.items[0].title, 'Subvenció festa major');
    const folded = await app.inject({
      method: 'GET',
      url: `${base}/expedients?q=SUBVENCIO%20FESTA`,
      headers: handler,
    });
    assert.equal(folded.json().total, 1, 'search ignores case and accents');
    const byNumber = await app.inject({
      method: 'GET',
      url: `${base}/expedients?q=${encodeURIComponent(body.items[0].number)}`,
      headers: handler,
    });
    assert.equal(byNumber.json().items[0].id, body.items[0].id);
    const closed = await app.inject({ method: 'GET', url: `${base}/expedients?state=E02`, headers: handler });
    assert.equal(closed.json().total, 0);
    const byYear = await app.inject({ method: 'GET', url: `${base}/expedients?year=1999`, headers: handler });
    assert.equal(byYear.json().total, 0);
    const page2 = await app.inject({
      method: 'GET',
      url: `${base}/expedients?page=2&pageSize=1`,
      headers: handler,
    });
    assert.equal(page2.json().items.length, 1);
    assert.equal(page2.json().page, 2);
  });

  it('closes a case file; only an admin reopens it, with a reason; all of it audited', async () => {
    const exp = (await create(handler, { title: 'Tancar i reobrir' })).json();
    const closed = await app.inject({
      method: 'POST',
      url: `${base}/expedients/${exp.id}/close`,
      headers: handler,
    });
    assert.equal(closed.statusCode, 200, closed.body);
    assert.equal(closed.json().state, 'E02');
    const again = await app.inject({
      method: 'POST',
      url: `${base}/expedients/${exp.id}/close`,
      headers: handler,
    });
    assert.equal(again.json().code, 'EXPEDIENT_ALREADY_CLOSED');
    const byHandler = await app.inject({
      method: 'POST',
      url: `${base}/expedients/${exp.id}/reopen`,
      headers: handler,
      payload: { reason: 'error' },
    });
    assert.equal(byHandler.statusCode, 403);
    assert.equal(byHandler.json().code, 'FORBIDDEN');
    const reopened = await app.inject({
      method: 'POST',
      url: `${base}/expedients/${exp.id}/reopen`,
      headers: admin,
      payload: { reason: 'Tancat per error' },
    });
    assert.equal(reopened.statusCode, 200, reopened.body);
    assert.equal(reopened.json().state, 'E01');
    const trail = await app.inject({
      method: 'GET',
      url: `${base}/expedients/${exp.id}/audit`,
      headers: handler,
    });
    const actions = trail.json().map((e: { action: string }) => e.action);
    assert.deepEqual(actions, ['expedient.reopen', 'expedient.close', 'expedient.create']);
    assert.equal(trail.json()[0].details.reason, 'Tancat per error');
  });

  it('refuses unknown fields, wrong types and malformed JSON, writing nothing', async () => {
    const before = await rowCounts();
    const unknown = await create(handler, { title: 'x', bogus: true });
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.json().code, 'VALIDATION_FAILED');
    assert.match(unknown.headers['content-type'] as string, /application\/problem\+json/);
    const wrongType = await create(handler, { title: 5 });
    assert.equal(wrongType.json().code, 'VALIDATION_FAILED');
    const missing = await create(handler, {});
    assert.equal(missing.json().code, 'VALIDATION_FAILED');
    const badLevel = await create(handler, { title: 'x', accessLevel: 'secret' });
    assert.equal(badLevel.json().code, 'VALIDATION_FAILED');
    const malformed = await app.inject({
      method: 'POST',
      url: `${base}/expedients`,
      headers: { ...handler, 'content-type': 'application/json' },
      payload: '{"title": "x",',
    });
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json().code, 'MALFORMED_JSON');
    const badQuery = await app.inject({
      method: 'GET',
      url: `${base}/expedients?page=zero`,
      headers: handler,
    });
    assert.equal(badQuery.json().code, 'VALIDATION_FAILED');
    assert.deepEqual(await rowCounts(), before);
  });

  it('hides a restricted case file from users not named on it, and audits reads of it', async () => {
    const other = await loginHeaders(app, env, await makeUser(env, { tenant, roles: ['handler'] }));
    const exp = (
      await create(handler, { title: 'Expedient disciplinari', accessLevel: 'restricted' })
    ).json();
    const hidden = await app.inject({ method: 'GET', url: `${base}/expedients/${exp.id}`, headers: other });
    assert.equal(hidden.statusCode, 404);
    assert.equal(hidden.json().code, 'EXPEDIENT_NOT_FOUND');
    const list = await app.inject({
      method: 'GET',
      url: `${base}/expedients?q=disciplinari`,
      headers: other,
    });
    assert.equal(list.json().total, 0);
    const seen = await app.inject({ method: 'GET', url: `${base}/expedients/${exp.id}`, headers: handler });
    assert.equal(seen.statusCode, 200);
    const reads = await env.db.owner((tx) =>
      tx
        .selectFrom('audit_events')
        .select('action')
        .where('object_id', '=', exp.id)
        .where('action', '=', 'expedient.read')
        .execute(),
    );
    assert.equal(reads.length, 1);
  });
});

describe('documents', () => {
  it('uploads a document, streams its SHA-256, lists it in the index and downloads it byte-identical', async () => {
    const exp = (await create(handler, { title: 'Amb documents' })).json();
    const content = Buffer.from('Sol·licitud de llicència — contingut de prova\n'.repeat(50));
    const form = multipart(
      { title: 'Sol·licitud', documentType: 'TD14', origin: 'citizen' },
      { name: 'sol·licitud.txt', type: 'text/plain', data: content },
    );
    const up = await app.inject({
      method: 'POST',
      url: `${base}/expedients/${exp.id}/documents`,
      headers: { ...handler, ...form.headers },
      payload: form.body,
    });
    assert.equal(up.statusCode, 201, up.body);
    const doc = up.json();
    assert.equal(doc.sha256, createHash('sha256').update(content).digest('hex'));
    assert.equal(doc.order, 1);
    assert.equal(doc.documentType, 'TD14');
    assert.equal(doc.origin, 'citizen');
    assert.match(doc.eniId, new RegExp(`^ES_${tenant.dir3}_\\d{4}_[0-9A-Z]{26}$`));
    const second = multipart(
      { title: 'Informe' },
      { name: 'informe.txt', type: 'text/plain', data: Buffer.from('informe') },
    );
    const up2 = await app.inject({
      method: 'POST',
      url: `${base}/expedients/${exp.id}/documents`,
      headers: { ...handler, ...second.headers },
      payload: second.body,
    });
    assert.equal(up2.json().order, 2);
    assert.equal(up2.json().documentType, 'TD99');

    const index = await app.inject({
      method: 'GET',
      url: `${base}/expedients/${exp.id}/index`,
      headers: handler,
    });
    assert.equal(index.statusCode, 200);
    const entries = index.json().entries;
    assert.deepEqual(
      entries.map((e: { order: number }) => e.order),
      [1, 2],
    );
    assert.equal(entries[0].sha256, doc.sha256);
    assert.equal(entries[0].hashFunction, 'http://www.w3.org/2001/04/xmlenc#sha256');
    assert.equal(index.json().eniId, exp.eniId);

    const dl = await app.inject({
      method: 'GET',
      url: `${base}/documents/${doc.id}/content`,
      headers: handler,
    });
    assert.equal(dl.statusCode, 200);
    assert.ok(dl.rawPayload.equals(content));
    assert.equal(dl.headers['content-type'], 'text/plain');
    assert.match(
      dl.headers['content-disposition'] as string,
      /^attachment; filename="sol_licitud.txt"; filename\*=UTF-8''sol%C2%B7licitud.txt$/,
    );
  });

  it('never changes an incorporated document: routes answer 409 and the database refuses', async () => {
    const exp = (await create(handler, { title: 'Immutable' })).json();
    const form = multipart(
      { title: 'Acta' },
      { name: 'acta.txt', type: 'text/plain', data: Buffer.from('acta') },
    );
    const doc = (
      await app.inject({
        method: 'POST',
        url: `${base}/expedients/${exp.id}/documents`,
        headers: { ...handler, ...form.headers },
        payload: form.body,
      })
    ).json();
    for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
      const res = await app.inject({
        method,
        url: `${base}/documents/${doc.id}`,
        headers: handler,
        payload: method === 'DELETE' ? undefined : { title: 'changed' },
      });
      assert.equal(res.statusCode, 409, `${method}: ${res.body}`);
      assert.equal(res.json().code, 'DOCUMENT_IMMUTABLE');
    }
    await assert.rejects(
      env.db.tenant(tenant.id, (tx) =>
        tx.updateTable('documents').set({ title: 'changed' }).where('id', '=', doc.id).execute(),
      ),
      /DOCUMENT_IMMUTABLE|permission denied/,
    );
    await assert.rejects(
      env.db.tenant(tenant.id, (tx) => tx.deleteFrom('documents').where('id', '=', doc.id).execute()),
      /DOCUMENT_IMMUTABLE|permission denied/,
    );
    await assert.rejects(
      env.db.tenant(tenant.id, (tx) =>
        tx.deleteFrom('index_entries').where('document_id', '=', doc.id).execute(),
      ),
      /permission denied/,
    );
    const after = await app.inject({ method: 'GET', url: `${base}/documents/${doc.id}`, headers: handler });
    assert.equal(after.json().title, 'Acta');
  });

  it('keeps both versions when a new version supersedes a document', async () => {
    const exp = (await create(handler, { title: 'Versions' })).json();
    const v1f = multipart(
      { title: 'Informe v1' },
      { name: 'informe.txt', type: 'text/plain', data: Buffer.from('v1') },
    );
    const v1 = (
      await app.inject({
        method: 'POST',
        url: `${base}/expedients/${exp.id}/documents`,
        headers: { ...handler, ...v1f.headers },
        payload: v1f.body,
      })
    ).json();
    const v2f = multipart(
      { title: 'Informe v2', supersedesId: v1.id },
      { name: 'informe.txt', type: 'text/plain', data: Buffer.from('v2') },
    );
    const v2 = await app.inject({
      method: 'POST',
      url: `${base}/expedients/${exp.id}/documents`,
      headers: { ...handler, ...v2f.headers },
      payload: v2f.body,
    });
    assert.equal(v2.statusCode, 201, v2.body);
    assert.equal(v2.json().supersedesId, v1.id);
    const index = (
      await app.inject({ method: 'GET', url: `${base}/expedients/${exp.id}/index`, headers: handler })
    ).json();
    assert.equal(index.entries.length, 2);
    const old = await app.inject({
      method: 'GET',
      url: `${base}/documents/${v1.id}/content`,
      headers: handler,
    });
    assert.equal(old.body, 'v1');
  });

  it('refuses bad uploads with a specific code and leaves rows and blobs exactly as before', async () => {
    const exp = (await create(handler, { title: 'Pujades dolentes' })).json();
    const url = `${base}/expedients/${exp.id}/documents`;
    const rows = await rowCounts();
    const blobs = blobFiles();
    const cases: [string, ReturnType<typeof multipart>, number, string][] = [
      [
        'unknown field',
        multipart(
          { title: 'x', colour: 'blue' },
          { name: 'a.txt', type: 'text/plain', data: Buffer.from('a1') },
        ),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'bad type',
        multipart({ documentType: 'TD77' }, { name: 'a.txt', type: 'text/plain', data: Buffer.from('a2') }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'bad state',
        multipart(
          { elaborationState: 'EE05' },
          { name: 'a.txt', type: 'text/plain', data: Buffer.from('a3') },
        ),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'EE02 without original',
        multipart(
          { elaborationState: 'EE02' },
          { name: 'a.txt', type: 'text/plain', data: Buffer.from('a4') },
        ),
        400,
        'VALIDATION_FAILED',
      ],
      ['no file', multipart({ title: 'x' }), 400, 'VALIDATION_FAILED'],
      [
        'too large',
        multipart(
          { title: 'x' },
          { name: 'big.bin', type: 'application/octet-stream', data: Buffer.alloc(65 * 1024, 7) },
        ),
        413,
        'PAYLOAD_TOO_LARGE',
      ],
    ];
    for (const [label, form, status, code] of cases) {
      const res = await app.inject({
        method: 'POST',
        url,
        headers: { ...handler, ...form.headers },
        payload: form.body,
      });
      assert.equal(res.statusCode, status, `${label}: ${res.body}`);
      assert.equal(res.json().code, code, label);
    }
    const json = await app.inject({ method: 'POST', url, headers: handler, payload: { title: 'x' } });
    assert.equal(json.json().code, 'UNSUPPORTED_MEDIA_TYPE');
    assert.deepEqual(await rowCounts(), rows);
    assert.deepEqual(blobFiles(), blobs);
    assert.deepEqual(fs.readdirSync(path.join(env.dataDir, 'blobs', 'tmp')), []);
  });

  it('refuses documents into a closed case file', async () => {
    const exp = (await create(handler, { title: 'Tancat' })).json();
    await app.inject({ method: 'POST', url: `${base}/expedients/${exp.id}/close`, headers: handler });
    const form = multipart({}, { name: 'a.txt', type: 'text/plain', data: Buffer.from('closed') });
    const res = await app.inject({
      method: 'POST',
      url: `${base}/expedients/${exp.id}/documents`,
      headers: { ...handler, ...form.headers },
      payload: form.body,
    });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().code, 'EXPEDIENT_CLOSED');
  });
});

describe('units', () => {
  it('an admin adds units (DIR3 optional, offices start with O) that case files can name; others may not', async () => {
    const created = await app.inject({
      method: 'POST',
      url: `${base}/units`,
      headers: admin,
      payload: { name: 'Urbanisme', kind: 'unit' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const badOffice = await app.inject({
      method: 'POST',
      url: `${base}/units`,
      headers: admin,
      payload: { name: 'Registre', kind: 'office', dir3: 'L01250019' },
    });
    assert.equal(badOffice.json().code, 'VALIDATION_FAILED');
    const byHandler = await app.inject({
      method: 'POST',
      url: `${base}/units`,
      headers: handler,
      payload: { name: 'X', kind: 'unit' },
    });
    assert.equal(byHandler.statusCode, 403);
    const list = await app.inject({ method: 'GET', url: `${base}/units`, headers: handler });
    assert.deepEqual(
      list.json().map((u: { name: string }) => u.name),
      ['Urbanisme'],
    );
    const exp = await create(handler, { title: 'Obra menor', unitId: created.json().id });
    assert.equal(exp.json().unit.name, 'Urbanisme');
    const unknownUnit = await create(handler, { title: 'x', unitId: '0193a000-0000-7000-8000-0000000000ff' });
    assert.equal(unknownUnit.json().code, 'UNIT_NOT_FOUND');
  });
});
