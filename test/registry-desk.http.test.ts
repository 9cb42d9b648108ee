import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { addDays, madridDateOf } from '#modules/calendar/civil-date.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  blobFiles,
  loginHeaders,
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  rowCounts,
  type TestEnv,
  type TestUser,
} from '#test/helpers/harness.ts';

let env: TestEnv;
let app: FastifyInstance;
let tenant: Tenant;
let other: Tenant;
let admin: Record<string, string>;
let handler: Record<string, string>;
let official: Record<string, string>;
let officialUser: TestUser;
let clerk: Record<string, string>;
let clerkUser: TestUser;
let expiredUser: TestUser;
let expired: Record<string, string>;
let revokedUser: TestUser;
let revoked: Record<string, string>;
let otherHandler: Record<string, string>;
let base: string;
let otherBase: string;

type File = { name: string; type: string; data: Buffer };

/** multipart/form-data with text fields first, then any number of `file` parts. */
function form(fields: Record<string, string>, files: File[] = []) {
  const boundary = `----lligall${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields))
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  for (const f of files) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${f.name}"\r\nContent-Type: ${f.type}\r\n\r\n`,
      ),
      f.data,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: Buffer.concat(parts),
  };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const pdf = (text: string) => Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from(text), randomBytes(512)]);
const png = () =>
  Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(256)]);

async function makeEntry(
  headers: Record<string, string>,
  files: File[] = [],
  over: Record<string, string> = {},
  at = base,
): Promise<string> {
  const f = form(
    {
      direction: 'E',
      heading: 'Sol·licitud',
      summary: 'Llicència d’obres menors',
      channel: 'in_person',
      party: JSON.stringify({ identifier: '12345678Z', name: 'Joana', surname1: 'Puig' }),
      ...over,
    },
    files,
  );
  const res = await app.inject({
    method: 'POST',
    url: `${at}/registry`,
    headers: { ...headers, ...f.headers },
    payload: f.body,
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id;
}

async function makeExpedient(headers: Record<string, string>, title = 'Expedient existent', at = base) {
  const res = await app.inject({ method: 'POST', url: `${at}/expedients`, headers, payload: { title } });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id as string;
}

const link = (headers: Record<string, string>, entryId: string, payload: object, at = base) =>
  app.inject({ method: 'POST', url: `${at}/registry/${entryId}/expedient`, headers, payload });

function digitise(
  headers: Record<string, string>,
  entryId: string,
  file: File | null,
  fields: Record<string, string> = { description: 'Instància signada, 2 fulls' },
  at = base,
) {
  const f = form(fields, file ? [file] : []);
  return app.inject({
    method: 'POST',
    url: `${at}/registry/${entryId}/digitisations`,
    headers: { ...headers, ...f.headers },
    payload: f.body,
  });
}

const registerOfficial = (headers: Record<string, string>, payload: object) =>
  app.inject({ method: 'POST', url: `${base}/authorised-officials`, headers, payload });

const today = () => madridDateOf(env.clock.now());

before(async () => {
  env = await openTestEnv({ config: { maxUploadBytes: 64 * 1024 } });
  app = await makeServer(env);
  tenant = await makeTenant(env);
  other = await makeTenant(env);
  base = `/api/v1/entities/${tenant.slug}`;
  otherBase = `/api/v1/entities/${other.slug}`;
  admin = await loginHeaders(app, env, await makeUser(env, { tenant, roles: ['admin'], totp: true }));
  handler = await loginHeaders(app, env, await makeUser(env, { tenant, roles: ['handler'] }));
  officialUser = await makeUser(env, { tenant, roles: ['registrar'] });
  official = await loginHeaders(app, env, officialUser);
  clerkUser = await makeUser(env, { tenant, roles: ['registrar'] });
  clerk = await loginHeaders(app, env, clerkUser);
  expiredUser = await makeUser(env, { tenant, roles: ['registrar'] });
  expired = await loginHeaders(app, env, expiredUser);
  revokedUser = await makeUser(env, { tenant, roles: ['registrar'] });
  revoked = await loginHeaders(app, env, revokedUser);
  otherHandler = await loginHeaders(
    app,
    env,
    await makeUser(env, { tenant: other, roles: ['handler', 'registrar'] }),
  );
});
after(async () => {
  await app.close();
  await env.close();
});

describe('register of authorised officials (LPACAP art. 12.3, 27.1)', () => {
  it('a handler without the admin role can neither register nor revoke', async () => {
    const res = await registerOfficial(handler, {
      userId: officialUser.id,
      scopes: ['copies'],
      validFrom: today(),
    });
    assert.equal(res.statusCode, 403, res.body);
    assert.equal(res.json().code, 'FORBIDDEN');
  });

  it('an admin registers, lists and revokes (once); statuses follow the dates', async () => {
    const ok = await registerOfficial(admin, {
      userId: officialUser.id,
      scopes: ['copies', 'assistance'],
      validFrom: addDays(today(), -30),
      position: 'Auxiliar administrativa',
    });
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal(ok.json().status, 'in_force');
    assert.equal(ok.json().username, officialUser.username);
    const dup = await registerOfficial(admin, {
      userId: officialUser.id,
      scopes: ['copies'],
      validFrom: today(),
    });
    assert.equal(dup.statusCode, 409, dup.body);
    assert.equal(dup.json().code, 'OFFICIAL_ALREADY_REGISTERED');

    const old = await registerOfficial(admin, {
      userId: expiredUser.id,
      scopes: ['copies'],
      validFrom: addDays(today(), -60),
      validTo: addDays(today(), -1),
    });
    assert.equal(old.statusCode, 201, old.body);
    assert.equal(old.json().status, 'expired');

    const r = await registerOfficial(admin, {
      userId: revokedUser.id,
      scopes: ['copies'],
      validFrom: today(),
    });
    assert.equal(r.statusCode, 201, r.body);
    const rv = (reason: string, headers = admin) =>
      app.inject({
        method: 'POST',
        url: `${base}/authorised-officials/${r.json().id}/revoke`,
        headers,
        payload: { reason },
      });
    assert.equal((await rv('Canvi de lloc', handler)).statusCode, 403);
    const first = await rv('Canvi de lloc de treball');
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.json().status, 'revoked');
    const second = await rv('Un altre cop');
    assert.equal(second.statusCode, 409, second.body);
    assert.equal(second.json().code, 'OFFICIAL_ALREADY_REVOKED');

    const all = await app.inject({ method: 'GET', url: `${base}/authorised-officials`, headers: handler });
    assert.equal(all.statusCode, 200, all.body);
    assert.equal(all.json().items.length, 3);
    const now = await app.inject({
      method: 'GET',
      url: `${base}/authorised-officials?inForce=true&scope=copies`,
      headers: handler,
    });
    assert.deepEqual(
      now.json().items.map((o: { userId: string }) => o.userId),
      [officialUser.id],
    );
    // Another entity's member may not be registered; another entity's register is not reachable.
    const stranger = await registerOfficial(admin, {
      userId: randomUuid(),
      scopes: ['copies'],
      validFrom: today(),
    });
    assert.equal(stranger.statusCode, 404, stranger.body);
    const cross = await app.inject({
      method: 'GET',
      url: `${otherBase}/authorised-officials`,
      headers: handler,
    });
    assert.equal(cross.statusCode, 404, cross.body);
  });
});

function randomUuid(): string {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-7${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

describe('entries into case files', () => {
  it('opens a new case file from an entry: its party and its attachments (with their SHA-256) are in it', async () => {
    const one = pdf('plànol');
    const two = Buffer.from('Memòria tècnica');
    const entryId = await makeEntry(official, [
      { name: 'planol.pdf', type: 'application/pdf', data: one },
      { name: 'memoria.txt', type: 'text/plain', data: two },
    ]);
    const res = await link(handler, entryId, { new: { title: 'Llicència d’obres: c/ Major 1' } });
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json();
    assert.equal(body.createdExpedient, true);
    assert.equal(body.expedient.state, 'E01');
    assert.deepEqual(
      body.incorporated.slice(0, 2).map((i: { sha256: string }) => i.sha256),
      [sha(one), sha(two)],
    );
    // The entry's receipt (justificant) joins after its attachments.
    assert.equal(body.incorporated.length, 3);
    assert.match(body.incorporated[2].title, /^Justificant de registre d'entrada E\//);
    const index = await app.inject({
      method: 'GET',
      url: `${base}/expedients/${body.expedient.id}/index`,
      headers: handler,
    });
    assert.equal(index.statusCode, 200, index.body);
    assert.deepEqual(
      index
        .json()
        .entries.slice(0, 2)
        .map((e: { order: number; sha256: string; title: string }) => [e.order, e.sha256, e.title]),
      [
        [1, sha(one), 'planol.pdf'],
        [2, sha(two), 'memoria.txt'],
      ],
    );
    assert.equal(index.json().entries[2].order, 3);
    const exp = await app.inject({
      method: 'GET',
      url: `${base}/expedients/${body.expedient.id}`,
      headers: handler,
    });
    assert.deepEqual(
      exp.json().parties.map((p: { identifier: string; role: string }) => [p.identifier, p.role]),
      [['12345678Z', 'applicant']],
    );
    const downloaded = await app.inject({
      method: 'GET',
      url: `${base}/documents/${body.incorporated[0].documentId}/content`,
      headers: handler,
    });
    assert.equal(downloaded.statusCode, 200);
    assert.ok(downloaded.rawPayload.equals(one));
    const entryLinks = await app.inject({
      method: 'GET',
      url: `${base}/registry/${entryId}/expedients`,
      headers: official,
    });
    assert.equal(entryLinks.statusCode, 200, entryLinks.body);
    assert.deepEqual(
      entryLinks
        .json()
        .items.map((l: { expedientId: string; createdFromEntry: boolean }) => [
          l.expedientId,
          l.createdFromEntry,
        ]),
      [[body.expedient.id, true]],
    );
    const expEntries = await app.inject({
      method: 'GET',
      url: `${base}/expedients/${body.expedient.id}/registry-entries`,
      headers: handler,
    });
    assert.deepEqual(
      expEntries.json().items.map((e: { entryId: string }) => e.entryId),
      [entryId],
    );
  });

  it('attaches an entry to an existing case file and to a second one; the same one twice is 409; a closed one is refused', async () => {
    const data = pdf('sol·licitud');
    const entryId = await makeEntry(official, [{ name: 'sol.pdf', type: 'application/pdf', data }]);
    const existing = await makeExpedient(handler);
    const ok = await link(handler, entryId, { expedientId: existing });
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal(ok.json().createdExpedient, false);
    assert.equal(ok.json().incorporated[0].sha256, sha(data));
    const twice = await link(handler, entryId, { expedientId: existing });
    assert.equal(twice.statusCode, 409, twice.body);
    assert.equal(twice.json().code, 'ENTRY_ALREADY_LINKED');
    const second = await makeExpedient(handler, 'Un altre');
    assert.equal((await link(handler, entryId, { expedientId: second })).statusCode, 201);
    const links = await app.inject({
      method: 'GET',
      url: `${base}/registry/${entryId}/expedients`,
      headers: handler,
    });
    assert.deepEqual(
      links.json().items.map((l: { expedientId: string }) => l.expedientId),
      [existing, second],
    );
    // The index of the first did not receive the files twice (the attachment and the receipt).
    const index = await app.inject({
      method: 'GET',
      url: `${base}/expedients/${existing}/index`,
      headers: handler,
    });
    assert.equal(index.json().entries.length, 2);

    const closed = await makeExpedient(handler, 'Tancat');
    const close = await app.inject({
      method: 'POST',
      url: `${base}/expedients/${closed}/close`,
      headers: handler,
    });
    assert.equal(close.statusCode, 200, close.body);
    const refused = await link(handler, entryId, { expedientId: closed });
    assert.equal(refused.statusCode, 409, refused.body);
    assert.equal(refused.json().code, 'EXPEDIENT_CLOSED');
    // Nothing was linked to the closed case file.
    const after = await app.inject({
      method: 'GET',
      url: `${base}/registry/${entryId}/expedients`,
      headers: handler,
    });
    assert.equal(after.json().items.length, 2);
  });

  it('a registry clerk may not link (case files are the handlers’), and the body must name one target', async () => {
    const entryId = await makeEntry(official);
    const byClerk = await link(clerk, entryId, { new: { title: 'No' } });
    assert.equal(byClerk.statusCode, 403, byClerk.body);
    const both = await link(handler, entryId, {
      expedientId: await makeExpedient(handler),
      new: { title: 'x' },
    });
    assert.equal(both.statusCode, 400, both.body);
    const none = await link(handler, entryId, {});
    assert.equal(none.statusCode, 400, none.body);
  });

  it('another tenant’s entry and case file are invisible (404), and nothing is written', async () => {
    const mine = await makeEntry(official);
    const theirEntry = await makeEntry(otherHandler, [], {}, otherBase);
    const theirExpedient = await makeExpedient(otherHandler, 'De l’altre ens', otherBase);
    const before = await rowCounts(env, ['registry_entry_expedients', 'index_entries', 'documents']);
    const a = await link(handler, mine, { expedientId: theirExpedient });
    assert.equal(a.statusCode, 404, a.body);
    assert.equal(a.json().code, 'EXPEDIENT_NOT_FOUND');
    const b = await link(handler, theirEntry, { new: { title: 'Intrús' } });
    assert.equal(b.statusCode, 404, b.body);
    const c = await link(otherHandler, mine, { new: { title: 'Intrús' } }, otherBase);
    assert.equal(c.statusCode, 404, c.body);
    const d = await app.inject({
      method: 'GET',
      url: `${base}/registry/${theirEntry}/expedients`,
      headers: handler,
    });
    assert.equal(d.statusCode, 404, d.body);
    const e = await app.inject({
      method: 'GET',
      url: `${base}/expedients/${theirExpedient}/registry-entries`,
      headers: handler,
    });
    assert.equal(e.statusCode, 404, e.body);
    const f = await digitise(official, theirEntry, {
      name: 's.pdf',
      type: 'application/pdf',
      data: pdf('x'),
    });
    assert.equal(f.statusCode, 404, f.body);
    assert.deepEqual(
      await rowCounts(env, ['registry_entry_expedients', 'index_entries', 'documents']),
      before,
    );
  });
});

describe('desk digitisation (LPACAP art. 16.5, 27)', () => {
  it('a clerk who is not an authorised official cannot digitise (403), and no file is stored', async () => {
    const entryId = await makeEntry(official);
    const files = blobFiles(env);
    const res = await digitise(clerk, entryId, {
      name: 'scan.pdf',
      type: 'application/pdf',
      data: pdf('no'),
    });
    assert.equal(res.statusCode, 403, res.body);
    assert.equal(res.json().code, 'OFFICIAL_NOT_AUTHORISED');
    assert.deepEqual(blobFiles(env), files);
  });

  it('expired and revoked officials are refused', async () => {
    const entryId = await makeEntry(official);
    for (const h of [expired, revoked]) {
      const res = await digitise(h, entryId, { name: 'scan.pdf', type: 'application/pdf', data: pdf('no') });
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(res.json().code, 'OFFICIAL_NOT_AUTHORISED');
    }
  });

  it('an official makes an EE03 authentic copy, byte-equal to the scan, that joins the case files with the entry', async () => {
    const entryId = await makeEntry(official);
    const scan = pdf('Instància en paper');
    const res = await digitise(official, entryId, {
      name: 'instancia.pdf',
      type: 'application/pdf',
      data: scan,
    });
    assert.equal(res.statusCode, 201, res.body);
    const po = res.json();
    assert.equal(po.entryId, entryId);
    assert.equal(po.description, 'Instància signada, 2 fulls');
    assert.equal(po.copy.elaborationState, 'EE03');
    assert.equal(po.copy.origin, 'citizen');
    assert.equal(po.copy.sha256, sha(scan));
    assert.equal(po.copy.size, scan.length);
    assert.equal(po.digitisedBy, officialUser.username);
    assert.equal(po.sealStatus, 'pending');
    assert.equal(po.returnedAt, null);
    const content = await app.inject({
      method: 'GET',
      url: `${base}/registry/${entryId}/paper-originals/${po.id}/content`,
      headers: official,
    });
    assert.equal(content.statusCode, 200);
    assert.ok(content.rawPayload.equals(scan));
    const image = png();
    const img = await digitise(
      official,
      entryId,
      { name: 'annex.png', type: 'image/png', data: image },
      {
        description: 'Fotografia de la façana',
        documentType: 'TD99',
      },
    );
    assert.equal(img.statusCode, 201, img.body);
    // These scans are bytes behind a valid header, not images: recorded as copies, not sealable
    // (real scans are sealed: test/registry-desk-seal.http.test.ts).
    assert.equal(img.json().sealStatus, 'pending');
    assert.equal(img.json().sealProblem.code, 'SCAN_NOT_SEALABLE');
    assert.equal(po.sealProblem.code, 'SCAN_NOT_SEALABLE');
    const list = await app.inject({
      method: 'GET',
      url: `${base}/registry/${entryId}/paper-originals`,
      headers: official,
    });
    assert.equal(list.json().items.length, 2);

    const linked = await link(handler, entryId, { new: { title: 'Amb còpies' } });
    assert.equal(linked.statusCode, 201, linked.body);
    const index = await app.inject({
      method: 'GET',
      url: `${base}/expedients/${linked.json().expedient.id}/index`,
      headers: handler,
    });
    assert.deepEqual(
      index
        .json()
        .entries.slice(0, 2)
        .map((e: { sha256: string }) => e.sha256),
      [sha(scan), sha(image)],
    );
    assert.equal(index.json().entries.length, 3, 'the copies, then the receipt');
    const doc = await app.inject({
      method: 'GET',
      url: `${base}/documents/${index.json().entries[0].documentId}`,
      headers: handler,
    });
    assert.equal(doc.json().elaborationState, 'EE03');
    const bytes = await app.inject({
      method: 'GET',
      url: `${base}/documents/${index.json().entries[0].documentId}/content`,
      headers: handler,
    });
    assert.ok(bytes.rawPayload.equals(scan));
  });

  it('refuses a scan of another type, or whose bytes are not what it says (415), leaving no file', async () => {
    const entryId = await makeEntry(official);
    const files = blobFiles(env);
    const txt = await digitise(official, entryId, {
      name: 'a.txt',
      type: 'text/plain',
      data: Buffer.from('hola'),
    });
    assert.equal(txt.statusCode, 415, txt.body);
    assert.equal(txt.json().code, 'FILE_TYPE_NOT_ACCEPTED');
    const fake = await digitise(official, entryId, { name: 'a.pdf', type: 'application/pdf', data: png() });
    assert.equal(fake.statusCode, 415, fake.body);
    const noDescription = await digitise(
      official,
      entryId,
      { name: 'a.pdf', type: 'application/pdf', data: pdf('x') },
      {},
    );
    assert.equal(noDescription.statusCode, 400, noDescription.body);
    const none = await digitise(official, entryId, null);
    assert.equal(none.statusCode, 400, none.body);
    assert.deepEqual(blobFiles(env), files);
  });

  it('returns a paper original to the filer once; a second time is 409', async () => {
    const entryId = await makeEntry(official);
    const made = await digitise(official, entryId, {
      name: 's.pdf',
      type: 'application/pdf',
      data: pdf('r'),
    });
    assert.equal(made.statusCode, 201, made.body);
    const ret = (returnedTo: string, entry = entryId) =>
      app.inject({
        method: 'POST',
        url: `${base}/registry/${entry}/paper-originals/${made.json().id}/return`,
        headers: clerk,
        payload: { returnedTo },
      });
    const wrongEntry = await ret('Joana Puig', await makeEntry(official));
    assert.equal(wrongEntry.statusCode, 404, wrongEntry.body);
    assert.equal(wrongEntry.json().code, 'PAPER_ORIGINAL_NOT_FOUND');
    const first = await ret('Joana Puig (12345678Z)');
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.json().returnedTo, 'Joana Puig (12345678Z)');
    assert.equal(first.json().returnedBy, clerkUser.username);
    assert.ok(first.json().returnedAt);
    const second = await ret('Algú altre');
    assert.equal(second.statusCode, 409, second.body);
    assert.equal(second.json().code, 'PAPER_ORIGINAL_ALREADY_RETURNED');
    const cross = await app.inject({
      method: 'POST',
      url: `${otherBase}/registry/${entryId}/paper-originals/${made.json().id}/return`,
      headers: otherHandler,
      payload: { returnedTo: 'x' },
    });
    assert.equal(cross.statusCode, 404, cross.body);
  });

  it('every change left an audit event on the entry, the case file and the official', async () => {
    const r = await env.db.owner((tx) =>
      sql<{ action: string; n: string }>`select action, count(*) as n from audit_events
        where tenant_id = ${tenant.id} and action in ('registry.entry_link_expedient','expedient.registry_entry_link',
          'registry.paper_original_digitise','registry.paper_original_return','authorised_official.register','authorised_official.revoke')
        group by action order by action`.execute(tx),
    );
    const counts = Object.fromEntries(r.rows.map((x) => [x.action, Number(x.n)]));
    assert.deepEqual(counts, {
      'authorised_official.register': 3,
      'authorised_official.revoke': 1,
      'expedient.registry_entry_link': 4,
      'registry.entry_link_expedient': 4,
      'registry.paper_original_digitise': 3,
      'registry.paper_original_return': 1,
    });
  });
});
