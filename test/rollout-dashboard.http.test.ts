/**
 * The province dashboard's API (issue 6, item 5) on a fixture with known states
 * (test/helpers/rollout-dashboard-fixture.ts): the counts by state, wave and comarca and the
 * daily progress are the literal figures the fixture gives; usage counts only the last 30 days;
 * the CSV has one row per entity; the map has the 231 shipped boundaries, each with its
 * municipality's state; only operators and support technicians see any of it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { FastifyInstance } from 'fastify';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { sweepDueReceipts } from '#modules/registry/receipt.service.ts';
import { csvField } from '#modules/rollout/dashboard.service.ts';
import { loadMunicipalities } from '#modules/tenancy/province.ts';
import {
  loginHeaders,
  makeServer,
  makeUser,
  openTestEnv,
  type TestEnv,
  TestClock,
} from '#test/helpers/harness.ts';
import {
  type DashboardFixture,
  FIXTURE_EMD,
  FIXTURE_STATES,
  seedDashboardFixture,
} from '#test/helpers/rollout-dashboard-fixture.ts';
import { brokenBlobStore, entryWithoutReceipt } from '#test/helpers/registry.ts';

let env: TestEnv;
let app: FastifyInstance;
let fx: DashboardFixture;
let operator: Record<string, string>;
let support: Record<string, string>;
let staff: Record<string, string>;

const S = (o: Partial<Record<string, number>>) => ({
  listed: 0,
  requested: 0,
  scheduled: 0,
  provisioning: 0,
  pilot: 0,
  live: 0,
  suspended: 0,
  ...o,
});

before(async () => {
  env = await openTestEnv({ clock: new TestClock('2026-03-01T09:00:00Z') });
  app = await makeServer(env);
  fx = await seedDashboardFixture(env);
  const abella = fx.byDir3.get('L01250019')!;
  const tremp = fx.byDir3.get('L01252347')!;
  // Usage on the fixture's last day: Abella opens two case files and registers one outgoing
  // entry; Tremp opens one case file.
  const abellaStaff = await loginHeaders(
    app,
    env,
    await makeUser(env, { tenant: abella, roles: ['handler', 'registrar'] }),
  );
  const trempStaff = await loginHeaders(app, env, await makeUser(env, { tenant: tremp, roles: ['handler'] }));
  for (const [headers, slug, title] of [
    [abellaStaff, abella.slug, 'Llicència d’obres'],
    [abellaStaff, abella.slug, 'Padró d’habitants'],
    [trempStaff, tremp.slug, 'Subvenció'],
  ] as const) {
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${slug}/expedients`,
      headers,
      payload: { title },
    });
    assert.equal(res.statusCode, 201, res.body);
  }
  const boundary = '----lligallDashboard';
  const fields = { direction: 'S', heading: 'Ofici', summary: 'Tramesa d’un ofici', channel: 'in_person' };
  const body = `${Object.entries(fields)
    .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
    .join('')}--${boundary}--\r\n`;
  const entry = await app.inject({
    method: 'POST',
    url: `/api/v1/entities/${abella.slug}/registry`,
    headers: { ...abellaStaff, 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: Buffer.from(body),
  });
  assert.equal(entry.statusCode, 201, entry.body);
  operator = await loginHeaders(app, env, await makeUser(env, { platformRoles: ['operator'], totp: true }));
  support = await loginHeaders(app, env, await makeUser(env, { platformRoles: ['support'], totp: true }));
  staff = await loginHeaders(app, env, await makeUser(env, { tenant: abella, roles: ['admin'], totp: true }));
});
after(async () => {
  await app.close();
  await env.close();
});

const figuresEvents = () =>
  env.db.platform((tx) =>
    tx
      .selectFrom('audit_events')
      .select(['details'])
      .where('tenant_id', '=', PLATFORM_TENANT)
      .where('action', '=', 'console.figures')
      .execute(),
  );

describe('province dashboard API', () => {
  it('gives the literal counts of the fixture by state, wave and comarca, and its daily progress', async () => {
    const before = (await figuresEvents()).length;
    const res = await app.inject({ method: 'GET', url: '/api/v1/console/dashboard', headers: operator });
    assert.equal(res.statusCode, 200, res.body);
    const d = res.json();
    // 231 municipalities and one EMD: 8 moved along the roll-out, 224 still listed.
    assert.deepEqual(
      d.byState,
      S({ listed: 224, requested: 3, scheduled: 2, provisioning: 1, pilot: 1, live: 1 }),
    );
    assert.deepEqual(d.byWave, [
      { waveId: fx.waves.one, name: 'Onada 1', byState: S({ provisioning: 1, pilot: 1, live: 1 }) },
      { waveId: fx.waves.two, name: 'Onada 2', byState: S({ scheduled: 2 }) },
    ]);
    assert.deepEqual(
      d.byComarca.map((c: { comarca: string }) => c.comarca),
      [
        'Alt Urgell',
        'Alta Ribagorça',
        'Aran',
        'Berguedà',
        'Cerdanya',
        'Garrigues',
        'Noguera',
        'Pallars Jussà',
        'Pallars Sobirà',
        "Pla d'Urgell",
        'Segarra',
        'Segrià',
        'Solsonès',
        'Urgell',
      ],
    );
    const comarca = (name: string) => d.byComarca.find((c: { comarca: string }) => c.comarca === name);
    assert.deepEqual(comarca('Pallars Jussà'), {
      comarca: 'Pallars Jussà',
      total: 14,
      byState: S({ listed: 11, provisioning: 1, pilot: 1, live: 1 }),
    });
    assert.deepEqual(comarca('Segrià'), {
      comarca: 'Segrià',
      total: 39,
      byState: S({ listed: 36, requested: 1, scheduled: 2 }),
    });
    assert.deepEqual(comarca('Aran'), { comarca: 'Aran', total: 9, byState: S({ listed: 8, requested: 1 }) });
    assert.deepEqual(comarca('Urgell'), { comarca: 'Urgell', total: 20, byState: S({ listed: 20 }) });
    assert.equal(
      d.byComarca.reduce((n: number, c: { total: number }) => n + c.total, 0),
      232,
    );

    const after3 = S({ listed: 224, requested: 3, scheduled: 2, provisioning: 1 });
    assert.deepEqual(d.progress, [
      { date: '2026-03-03', byState: S({ listed: 224, requested: 7 }) },
      { date: '2026-03-04', byState: S({ listed: 224, requested: 2, scheduled: 5 }) },
      { date: '2026-03-05', byState: S({ listed: 224, requested: 3, scheduled: 2, provisioning: 3 }) },
      { date: '2026-03-06', byState: { ...after3, pilot: 2 } },
      { date: '2026-03-07', byState: { ...after3, pilot: 2 } },
      { date: '2026-03-08', byState: { ...after3, pilot: 2 } },
      { date: '2026-03-09', byState: { ...after3, pilot: 1, live: 1 } },
      { date: '2026-03-10', byState: { ...after3, pilot: 1, live: 1 } },
    ]);

    assert.deepEqual(
      d.usage.map((u: Record<string, unknown>) => [
        u.dir3,
        u.name,
        u.expedientsOpened30d,
        u.registryEntries30d,
        u.documentsSigned30d,
      ]),
      [
        ['L01250019', 'Abella de la Conca', 2, 1, 0],
        ['L01252347', 'Tremp', 1, 0, 0],
      ],
    );
    assert.equal(d.generatedAt, env.clock.now().toISOString());

    const events = await figuresEvents();
    assert.equal(events.length, before + 1, 'one console.figures event per computation');
    assert.equal((events.at(-1)!.details as { purpose: string }).purpose, 'dashboard');
  });

  it('a support technician may read it; entity staff and anonymous callers get 404', async () => {
    const ok = await app.inject({ method: 'GET', url: '/api/v1/console/dashboard', headers: support });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json().byState.listed, 224);
    const before = (await figuresEvents()).length;
    for (const url of ['/api/v1/console/dashboard', '/api/v1/console/dashboard.csv', '/api/v1/console/map']) {
      const res = await app.inject({ method: 'GET', url, headers: staff });
      assert.equal(res.statusCode, 404, `${url}: ${res.body}`);
      assert.equal(res.json().code, 'NOT_FOUND');
      const anon = await app.inject({ method: 'GET', url });
      assert.ok([401, 404].includes(anon.statusCode), `${url} anonymous: ${anon.statusCode}`);
    }
    assert.equal((await figuresEvents()).length, before, 'a refused request computes nothing');
  });

  it('exports one CSV row per entity, quoted, with its state, wave and usage', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/console/dashboard.csv', headers: operator });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/csv; charset=utf-8/);
    assert.match(
      res.headers['content-disposition'] as string,
      /^attachment; filename="lligall-desplegament-2026-03-10\.csv"/,
    );
    assert.ok(res.body.startsWith('\uFEFFine,dir3,name,'), 'UTF-8 with a byte order mark for Excel');
    const rows = parse(res.body, { bom: true, columns: true }) as Record<string, string>[];
    assert.equal(rows.length, 232);
    assert.deepEqual(
      rows.find((r) => r.dir3 === 'L01250019'),
      {
        ine: '25001',
        dir3: 'L01250019',
        name: 'Abella de la Conca',
        kind: 'ajuntament',
        comarca: 'Pallars Jussà',
        population: '156',
        status: 'live',
        wave: 'Onada 1',
        expedients_opened_30d: '2',
        registry_entries_30d: '1',
        documents_signed_30d: '0',
      },
    );
    assert.deepEqual(
      rows.find((r) => r.dir3 === 'L01251207'),
      {
        ine: '25120',
        dir3: 'L01251207',
        name: 'Lleida',
        kind: 'ajuntament',
        comarca: 'Segrià',
        population: '146266',
        status: 'scheduled',
        wave: 'Onada 2',
        expedients_opened_30d: '',
        registry_entries_30d: '',
        documents_signed_30d: '',
      },
    );
    // The EMD's name has a comma and quotes: quoted, quotes doubled, read back intact.
    assert.ok(res.body.includes('"EMD ""Prova"", del Tauler"'));
    const emd = rows.find((r) => r.dir3 === FIXTURE_EMD.dir3)!;
    assert.deepEqual([emd.ine, emd.name, emd.kind, emd.status], ['', FIXTURE_EMD.name, 'emd', 'requested']);
    for (const [dir3, status] of Object.entries(FIXTURE_STATES))
      assert.equal(rows.find((r) => r.dir3 === dir3)?.status, status, dir3);
    assert.equal(rows.filter((r) => r.status === 'listed').length, 224);
    // A text a spreadsheet would run as a formula is neutralised.
    assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvField('-1'), "'-1");
    assert.equal(csvField(-1), '-1');
    const events = await figuresEvents();
    assert.equal((events.at(-1)!.details as { purpose: string }).purpose, 'csv');
  });

  it('draws the 231 shipped boundaries, one per INE code of data/seed, each with its state', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/console/map', headers: support });
    assert.equal(res.statusCode, 200);
    const map = res.json();
    assert.equal(map.type, 'FeatureCollection');
    assert.equal(map.features.length, 231);
    const ines = map.features.map((f: { properties: { ine: string } }) => f.properties.ine).sort();
    assert.deepEqual(
      ines,
      loadMunicipalities()
        .map((m) => m.ine)
        .sort(),
      'the same 231 INE codes as the seed',
    );
    const byDir3Ine = new Map(loadMunicipalities().map((m) => [m.ine, m.dir3]));
    for (const f of map.features) {
      assert.ok(['Polygon', 'MultiPolygon'].includes(f.geometry.type));
      const rings = f.geometry.type === 'Polygon' ? f.geometry.coordinates : f.geometry.coordinates.flat();
      for (const ring of rings as number[][][]) {
        assert.ok(ring.length >= 4, `a ring of ${f.properties.ine} keeps at least 3 corners`);
        assert.deepEqual(ring[0], ring.at(-1), `a ring of ${f.properties.ine} is closed`);
      }
      const dir3 = byDir3Ine.get(f.properties.ine)!;
      assert.equal(f.properties.status, FIXTURE_STATES[dir3] ?? 'listed', f.properties.ine);
    }
    const abella = map.features.find((f: { properties: { ine: string } }) => f.properties.ine === '25001');
    assert.deepEqual(abella.properties, { ine: '25001', name: 'Abella de la Conca', status: 'live' });
  });

  it('counts usage over the last 30 days only, and the progress runs to today', async () => {
    env.clock.advance(31 * 86_400_000); // 2026-04-10
    const again = await loginHeaders(
      app,
      env,
      await makeUser(env, { platformRoles: ['operator'], totp: true }),
    );
    const res = await app.inject({ method: 'GET', url: '/api/v1/console/dashboard', headers: again });
    assert.equal(res.statusCode, 200);
    const d = res.json();
    assert.deepEqual(
      d.usage.map((u: Record<string, unknown>) => [u.name, u.expedientsOpened30d, u.registryEntries30d]),
      [
        ['Abella de la Conca', 0, 0],
        ['Tremp', 0, 0],
      ],
    );
    assert.equal(d.progress.length, 39); // 3 March to 10 April
    assert.deepEqual(d.progress.at(-1), {
      date: '2026-04-10',
      byState: S({ listed: 224, requested: 3, scheduled: 2, provisioning: 1, pilot: 1, live: 1 }),
    });
  });

  it('lists the entities that owe registry receipts their requests did not issue, with the last error, until issued', async () => {
    const tremp = fx.byDir3.get('L01252347')!;
    // A session of today (the test before moved the clock a month on).
    const headers = await loginHeaders(
      app,
      env,
      await makeUser(env, { platformRoles: ['operator'], totp: true }),
    );
    const dashboard = async () => {
      const res = await app.inject({ method: 'GET', url: '/api/v1/console/dashboard', headers });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().receiptsOwed as Record<string, unknown>[];
    };
    assert.deepEqual(await dashboard(), [], 'the entry made through the API was answered with its receipt');
    // An entry whose process died before its receipt.
    const made = await entryWithoutReceipt(env, tremp, 'Instància');
    assert.deepEqual(await dashboard(), [], 'not listed while its request may still issue it');
    env.clock.advance(11_000);
    assert.deepEqual(await dashboard(), [
      {
        entityId: tremp.id,
        dir3: tremp.dir3,
        name: 'Tremp',
        owed: 1,
        failing: 0,
        oldestSince: made.registeredAt,
        lastError: null,
      },
    ]);
    // The sweeper fails (a file store that cannot write): the console says so, with the error.
    const broken = brokenBlobStore();
    assert.equal((await sweepDueReceipts({ ...env, blobs: broken })).failed.length, 1);
    const failing = await dashboard();
    assert.equal(failing.length, 1);
    assert.equal(failing[0]!.failing, 1);
    assert.match(String(failing[0]!.lastError), /ENOTDIR|not a directory/i);
    // Issued at the next attempt: off the list.
    env.clock.advance(31_000);
    assert.equal((await sweepDueReceipts(env)).issued, 1);
    assert.deepEqual(await dashboard(), []);
  });
});
