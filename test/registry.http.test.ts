import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { noRequest, systemActor } from '#platform/context.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { createTenant } from '#modules/tenancy/tenancy.service.ts';
import { createUnit } from '#modules/tenancy/units.service.ts';
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

let env: TestEnv;
let app: FastifyInstance;
let tenant: Tenant;
let other: Tenant;
let lleida: Tenant;
let registrar: Record<string, string>;
let handler: Record<string, string>;
let otherRegistrar: Record<string, string>;
let lleidaRegistrar: Record<string, string>;
let base: string;

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

const entry = (over: Record<string, string> = {}) => ({
  direction: 'E',
  heading: 'Sol·licitud',
  summary: 'Sol·licitud de llicència d’obres menors',
  channel: 'in_person',
  ...over,
});

async function post(
  headers: Record<string, string>,
  fields: Record<string, string>,
  files: File[] = [],
  at = base,
) {
  const f = form(fields, files);
  return app.inject({
    method: 'POST',
    url: `${at}/registry`,
    headers: { ...headers, ...f.headers },
    payload: f.body,
  });
}

const blobFiles = () => harnessBlobFiles(env);
const rowCounts = () =>
  harnessRowCounts(env, ['registry_entries', 'registry_attachments', 'documents', 'parties', 'counters']);

const madridDay = (t: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Madrid' }).format(t);
/** The Madrid day this file started on, before its first entry. */
let firstDay: string;

before(async () => {
  firstDay = madridDay(new Date());
  env = await openTestEnv({ config: { maxUploadBytes: 64 * 1024 } });
  app = await makeServer(env);
  tenant = await makeTenant(env);
  other = await makeTenant(env);
  lleida = await env.db.platform((tx) =>
    createTenant(
      tx,
      { actor: systemActor, request: noRequest, clock: env.clock },
      {
        kind: 'ajuntament',
        name: 'Lleida',
        dir3: 'L01251207',
        ine: '25120',
        comarca: 'Segrià',
        status: 'live',
      },
    ),
  );
  registrar = await loginHeaders(app, env, await makeUser(env, { tenant, roles: ['registrar'] }));
  handler = await loginHeaders(app, env, await makeUser(env, { tenant, roles: ['handler'] }));
  otherRegistrar = await loginHeaders(app, env, await makeUser(env, { tenant: other, roles: ['registrar'] }));
  lleidaRegistrar = await loginHeaders(
    app,
    env,
    await makeUser(env, { tenant: lleida, roles: ['registrar'] }),
  );
  base = `/api/v1/entities/${tenant.slug}`;
});
after(async () => {
  await app.close();
  await env.close();
});

describe('registry entries (LPACAP art. 16)', () => {
  it('numbers E and S entries separately, E|S/YYYY/NNNNNN, without gaps, registeredAt following the number', async () => {
    const year = new Date().getUTCFullYear();
    const made: {
      number: string;
      registeredAt: string;
      presentedAt: string;
      receipt: { documentId: string; csv: string } | null;
    }[] = [];
    for (const direction of ['E', 'S', 'E', 'E', 'S']) {
      const res = await post(registrar, entry({ direction }));
      assert.equal(res.statusCode, 201, res.body);
      made.push(res.json());
    }
    assert.deepEqual(
      made.map((m) => m.number),
      [`E/${year}/000001`, `S/${year}/000001`, `E/${year}/000002`, `E/${year}/000003`, `S/${year}/000002`],
    );
    for (let i = 1; i < made.length; i++) assert.ok(made[i - 1]!.registeredAt < made[i]!.registeredAt);
    for (const m of made) {
      assert.equal(m.presentedAt, m.registeredAt, 'a filing made here is presented when it is registered');
      assert.match(
        m.receipt?.csv ?? '',
        /^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/,
        'every entry answers with its receipt',
      );
    }
  });

  it('concurrent entries get consecutive numbers, and a later number never has an earlier registeredAt', async () => {
    const res = await Promise.all(Array.from({ length: 8 }, () => post(registrar, entry())));
    for (const r of res) assert.equal(r.statusCode, 201, r.body);
    const made = res.map((r) => r.json() as { number: string; registeredAt: string });
    made.sort((a, b) => a.number.localeCompare(b.number));
    const seqs = made.map((m) => Number(m.number.split('/')[2]));
    assert.deepEqual(seqs, [4, 5, 6, 7, 8, 9, 10, 11]);
    for (let i = 1; i < made.length; i++) assert.ok(made[i - 1]!.registeredAt <= made[i]!.registeredAt);
  });

  it('a postal filing keeps the post office’s time as presentedAt; other channels may not set it', async () => {
    const at = new Date(Date.now() - 3 * 86400_000).toISOString();
    const res = await post(registrar, entry({ channel: 'postal', presentedAt: at }));
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().presentedAt, at);
    assert.ok(res.json().registeredAt > at);
    const bad = await post(registrar, entry({ channel: 'in_person', presentedAt: at }));
    assert.equal(bad.statusCode, 400, bad.body);
    const missing = await post(registrar, entry({ channel: 'sir' }));
    assert.equal(missing.statusCode, 400, missing.body);
  });

  it('a presentation time slightly ahead of our clock (another system’s clock) is recorded as the registration time; far ahead is refused', async () => {
    const ahead = new Date(Date.now() + 30_000).toISOString();
    const res = await post(registrar, entry({ channel: 'postal', presentedAt: ahead }));
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().presentedAt, res.json().registeredAt);
    const far = await post(
      registrar,
      entry({ channel: 'postal', presentedAt: new Date(Date.now() + 10 * 60_000).toISOString() }),
    );
    assert.equal(far.statusCode, 400, far.body);
    assert.match(far.json().detail, /presentedAt is in the future/);
  });

  it('a filing is accepted when the seat’s calendar is unknown: effectiveAt null, and the answer says why', async () => {
    const res = await post(registrar, entry());
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().effectiveAt, null);
    assert.match(res.json().effectiveAtNote, /31\.2\.b/);
  });

  it('creates the interested party on the fly, then finds it again by identifier', async () => {
    const party = JSON.stringify({ identifier: '12345678Z', name: 'Joana', surname1: 'Puig' });
    const a = await post(registrar, entry({ party }));
    assert.equal(a.statusCode, 201, a.body);
    const b = await post(
      registrar,
      entry({ party: JSON.stringify({ identifier: '12345678-z', name: 'Joana' }) }),
    );
    assert.equal(b.statusCode, 201, b.body);
    const ea = (
      await app.inject({ method: 'GET', url: `${base}/registry/${a.json().id}`, headers: registrar })
    ).json();
    const eb = (
      await app.inject({ method: 'GET', url: `${base}/registry/${b.json().id}`, headers: registrar })
    ).json();
    assert.equal(ea.party.identifier, '12345678Z');
    assert.equal(ea.party.id, eb.party.id);
    const c = await post(registrar, entry({ partyId: ea.party.id }));
    assert.equal(c.statusCode, 201, c.body);
    const list = await app.inject({
      method: 'GET',
      url: `${base}/parties?identifier=12345678Z`,
      headers: registrar,
    });
    assert.equal(list.json().total, 1);
  });

  it('stores attachments as documents with their SHA-256, in order', async () => {
    const one = randomBytes(2048);
    const two = Buffer.from('Memòria tècnica');
    const res = await post(registrar, entry({ text: 'Demano llicència per reformar la cuina.' }), [
      { name: 'plànol.pdf', type: 'application/pdf', data: one },
      { name: 'memoria.txt', type: 'text/plain', data: two },
    ]);
    assert.equal(res.statusCode, 201, res.body);
    const view = (
      await app.inject({ method: 'GET', url: `${base}/registry/${res.json().id}`, headers: handler })
    ).json();
    assert.equal(view.text, 'Demano llicència per reformar la cuina.');
    assert.deepEqual(
      view.attachments.map((a: { position: number; sha256: string; size: number }) => [
        a.position,
        a.sha256,
        a.size,
      ]),
      [
        [1, createHash('sha256').update(one).digest('hex'), one.length],
        [2, createHash('sha256').update(two).digest('hex'), two.length],
      ],
    );
    const sha = createHash('sha256').update(one).digest('hex');
    assert.ok(blobFiles().some((f) => f.endsWith(sha)));
  });

  it('lists by direction, text and date, and pages', async () => {
    await post(registrar, entry({ heading: 'Queixa', summary: 'Soroll al carrer Major' }));
    const byText = await app.inject({
      method: 'GET',
      url: `${base}/registry?q=carrer%20major`,
      headers: handler,
    });
    assert.equal(byText.statusCode, 200, byText.body);
    assert.equal(byText.json().total, 1);
    assert.equal(byText.json().items[0].heading, 'Queixa');
    const out = await app.inject({ method: 'GET', url: `${base}/registry?direction=S`, headers: handler });
    assert.ok(out.json().items.every((e: { direction: string }) => e.direction === 'S'));
    assert.equal(out.json().total, 2);
    // From the day this file's first entry was registered to today (Madrid days: a run may cross midnight).
    const today = madridDay(new Date());
    const all = await app.inject({ method: 'GET', url: `${base}/registry`, headers: handler });
    const days = await app.inject({
      method: 'GET',
      url: `${base}/registry?from=${firstDay}&to=${today}`,
      headers: handler,
    });
    assert.equal(
      days.json().total,
      all.json().total,
      'dates are of registration: the postal filing, presented three days before, was registered in these days',
    );
    const yesterday = await app.inject({
      method: 'GET',
      url: `${base}/registry?to=2000-01-01`,
      headers: handler,
    });
    assert.equal(yesterday.json().total, 0);
    const page = await app.inject({
      method: 'GET',
      url: `${base}/registry?pageSize=2&page=2`,
      headers: handler,
    });
    assert.equal(page.json().items.length, 2);
  });

  it('annotates an entry (the only correction); a case handler may not', async () => {
    const made = (await post(registrar, entry())).json();
    const res = await app.inject({
      method: 'POST',
      url: `${base}/registry/${made.id}/annotations`,
      headers: registrar,
      payload: { text: 'El resum correcte és: llicència d’obres majors' },
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().annotations.length, 1);
    assert.equal(res.json().annotations[0].text, 'El resum correcte és: llicència d’obres majors');
    assert.equal(res.json().summary, 'Sol·licitud de llicència d’obres menors');
    const denied = await app.inject({
      method: 'POST',
      url: `${base}/registry/${made.id}/annotations`,
      headers: handler,
      payload: { text: 'no' },
    });
    assert.equal(denied.statusCode, 403, denied.body);
  });

  it('entries cannot be changed or deleted: 409 through the API, permission denied in the database', async () => {
    const made = (await post(registrar, entry())).json();
    for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
      const res = await app.inject({
        method,
        url: `${base}/registry/${made.id}`,
        headers: registrar,
        ...(method === 'DELETE' ? {} : { payload: { heading: 'Una altra cosa' } }),
      });
      assert.equal(res.statusCode, 409, `${method}: ${res.body}`);
      assert.equal(res.json().code, 'REGISTRY_ENTRY_IMMUTABLE');
    }
    for (const stmt of [
      sql`update registry_entries set heading = 'x' where id = ${made.id}`,
      sql`delete from registry_entries where id = ${made.id}`,
      sql`update registry_annotations set text = 'x'`,
      sql`delete from registry_attachments`,
    ]) {
      await assert.rejects(
        env.db.tenant(tenant.id, (tx) => stmt.execute(tx)),
        /permission denied/,
      );
    }
    const view = await app.inject({ method: 'GET', url: `${base}/registry/${made.id}`, headers: registrar });
    assert.equal(view.json().heading, 'Sol·licitud');
  });

  it('another entity’s entries are not found', async () => {
    const made = (await post(registrar, entry())).json();
    const otherBase = `/api/v1/entities/${other.slug}`;
    const res = await app.inject({
      method: 'GET',
      url: `${otherBase}/registry/${made.id}`,
      headers: otherRegistrar,
    });
    assert.equal(res.statusCode, 404, res.body);
    const direct = await app.inject({
      method: 'GET',
      url: `${base}/registry/${made.id}`,
      headers: otherRegistrar,
    });
    assert.equal(direct.statusCode, 404, direct.body);
    const del = await app.inject({
      method: 'DELETE',
      url: `${base}/registry/${made.id}`,
      headers: otherRegistrar,
    });
    assert.equal(del.statusCode, 404, del.body);
    const list = await app.inject({ method: 'GET', url: `${otherBase}/registry`, headers: otherRegistrar });
    assert.equal(list.json().total, 0);
  });

  it('refuses bad input with 4xx, leaving no rows and no files', async () => {
    const rows = await rowCounts();
    const files = blobFiles();
    const file = { name: 'a.pdf', type: 'application/pdf', data: randomBytes(1024) };
    const cases: [Record<string, string>, number][] = [
      [{ ...entry(), colour: 'blau' }, 400],
      [entry({ direction: 'X' }), 400],
      [entry({ channel: 'fax' }), 400],
      [entry({ party: JSON.stringify({ identifier: '12345678A', name: 'Pere' }) }), 422],
      [entry({ party: '{not json' }), 400],
      [entry({ officeId: '0190e0b0-0000-7000-8000-000000000000' }), 404],
      [entry({ heading: '' }), 400],
    ];
    for (const [fields, status] of cases) {
      const res = await post(registrar, fields, [file]);
      assert.equal(res.statusCode, status, `${JSON.stringify(fields)}: ${res.body}`);
    }
    const tooMany = await post(
      registrar,
      entry(),
      Array.from({ length: 11 }, (_, i) => ({ ...file, name: `f${i}.pdf`, data: randomBytes(64) })),
    );
    assert.equal(tooMany.statusCode, 400, tooMany.body);
    // Over the upload limit (64 KB here): refused whole, held in memory only, so nothing on disk.
    const tooBig = await post(registrar, entry(), [{ ...file, data: randomBytes(64 * 1024 + 1) }]);
    assert.equal(tooBig.statusCode, 413, tooBig.body);
    assert.equal(tooBig.json().code, 'PAYLOAD_TOO_LARGE');
    const viewerOnly = await post(handler, entry(), [file]);
    assert.equal(viewerOnly.statusCode, 403, viewerOnly.body);
    // A registrar of another entity: for them this one does not exist, and nothing of theirs is stored.
    const stranger = await post(otherRegistrar, entry(), [file]);
    assert.equal(stranger.statusCode, 404, stranger.body);
    assert.equal(stranger.json().code, 'ENTITY_NOT_FOUND');
    assert.deepEqual(await rowCounts(), rows);
    assert.deepEqual(blobFiles(), files);
  });

  it('an entity suspended between two filings refuses the second, though its check before the files passed a moment ago', async () => {
    const file = { name: 'a.pdf', type: 'application/pdf', data: randomBytes(512) };
    assert.equal((await post(registrar, entry(), [file])).statusCode, 201);
    const rows = await rowCounts();
    const setStatus = (status: 'suspended' | 'live') =>
      env.db.owner((tx) => tx.updateTable('tenants').set({ status }).where('id', '=', tenant.id).execute());
    await setStatus('suspended');
    try {
      const res = await post(registrar, entry(), [{ ...file, data: randomBytes(512) }]);
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(res.json().code, 'ENTITY_SUSPENDED');
      assert.deepEqual(await rowCounts(), rows);
    } finally {
      await setStatus('live');
    }
    assert.equal((await post(registrar, entry(), [file])).statusCode, 201);
  });

  it('art. 31.2.b: a filing on Sunday 5 April 2026 in Lleida counts from 7 April 00:00 (6 April is Easter Monday) and ranks before that day’s filings', async () => {
    const lbase = `/api/v1/entities/${lleida.dir3}`;
    env.clock.set('2026-04-07T07:30:00Z');
    const tuesday = await post(lleidaRegistrar, entry(), [], lbase);
    assert.equal(tuesday.statusCode, 201, tuesday.body);
    env.clock.set('2026-04-05T08:00:00Z');
    const sunday = await post(
      lleidaRegistrar,
      entry({ channel: 'postal', presentedAt: '2026-04-05T08:00:00Z' }),
      [],
      lbase,
    );
    assert.equal(sunday.statusCode, 201, sunday.body);
    assert.equal(sunday.json().effectiveAt, '2026-04-06T22:00:00.000Z');
    assert.equal(sunday.json().presentedAt, '2026-04-05T08:00:00.000Z');
    assert.equal(tuesday.json().effectiveAt, tuesday.json().presentedAt);
    env.clock.set('2026-04-05T08:00:00Z');
    const sunday2 = await post(lleidaRegistrar, entry({ channel: 'electronic' }), [], lbase);
    assert.equal(sunday2.statusCode, 201, sunday2.body);
    assert.equal(sunday2.json().effectiveAt, '2026-04-06T22:00:00.000Z');
    const list = (
      await app.inject({ method: 'GET', url: `${lbase}/registry`, headers: lleidaRegistrar })
    ).json();
    assert.deepEqual(
      list.items.map((e: { number: string }) => e.number),
      ['E/2026/000002', 'E/2026/000003', 'E/2026/000001'],
    );
  });

  it('art. 31.2.b: a correction to the seat’s calendar counts from the very next entry (a new local day, then its removal)', async () => {
    const lbase = `/api/v1/entities/${lleida.dir3}`;
    env.clock.set('2026-10-15T09:00:00Z');
    const admin = await loginHeaders(
      app,
      env,
      await makeUser(env, { tenant: lleida, roles: ['admin'], totp: true }),
    );
    // Thursday 15 October 2026: a business day in Lleida.
    const file = async () => {
      env.clock.set('2026-10-15T09:00:00Z');
      const r = await post(
        lleidaRegistrar,
        entry({ channel: 'postal', presentedAt: '2026-10-15T09:00:00Z' }),
        [],
        lbase,
      );
      assert.equal(r.statusCode, 201, r.body);
      return r.json().effectiveAt as string;
    };
    assert.equal(await file(), '2026-10-15T09:00:00.000Z');
    const add = await app.inject({
      method: 'POST',
      url: `${lbase}/calendar/days`,
      headers: admin,
      payload: { date: '2026-10-15', name: 'Festa de prova', reason: 'Decret d’alcaldia 9/2026' },
    });
    assert.equal(add.statusCode, 201, add.body);
    assert.equal(await file(), '2026-10-15T22:00:00.000Z', 'from 00:00 of Friday 16 October');
    const del = await app.inject({
      method: 'DELETE',
      url: `${lbase}/calendar/days/2026-10-15`,
      headers: admin,
      payload: { reason: 'Decret d’alcaldia 10/2026: revocat' },
    });
    assert.ok(del.statusCode < 300, del.body);
    assert.equal(await file(), '2026-10-15T09:00:00.000Z');
  });
});

describe('the registry book by unit', () => {
  it('lists the entries addressed to one unit (recipientUnit), and refuses a malformed unit', async () => {
    const unit = await env.db.tenant(tenant.id, (tx) =>
      createUnit(
        tx,
        { tenant, actor: systemActor, roles: ['admin'], request: noRequest, clock: env.clock },
        { name: 'Urbanisme', kind: 'unit' },
      ),
    );
    const to = await post(registrar, entry({ summary: 'Per a urbanisme', recipientUnit: unit.id }));
    assert.equal(to.statusCode, 201, to.body);
    await post(registrar, entry({ summary: 'Sense unitat' }));
    const list = await app.inject({
      method: 'GET',
      url: `${base}/registry?unit=${unit.id}`,
      headers: registrar,
    });
    assert.equal(list.statusCode, 200, list.body);
    assert.deepEqual(
      list.json().items.map((i: { number: string }) => i.number),
      [to.json().number],
    );
    const bad = await app.inject({ method: 'GET', url: `${base}/registry?unit=nope`, headers: registrar });
    assert.equal(bad.statusCode, 400);
  });
});
