/**
 * The province dashboard in a real browser (issue 6 acceptance): on the fixture with known states
 * (test/helpers/rollout-dashboard-fixture.ts) an operator (with TOTP) opens the console and sees
 * the literal counts by state and by wave; the map draws all 231 municipalities, each shape
 * filled with the legend's colour of the state the fixture gave its INE code; the progress chart
 * is an image with its figures in a table; an entity owing a registry receipt its request did
 * not issue is listed; the CSV link downloads one row per entity; axe finds no serious or
 * critical violation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { loadMunicipalities } from '#modules/tenancy/province.ts';
import {
  assertAccessible,
  browserSuite,
  launchChromium,
  logIn,
  newPage,
  startWebServer,
  stopAll,
  type WebServer,
} from '#test/helpers/browser.ts';
import { makeUser, type TestUser } from '#test/helpers/harness.ts';
import { entryWithoutReceipt } from '#test/helpers/registry.ts';
import { FIXTURE_STATES, seedDashboardFixture } from '#test/helpers/rollout-dashboard-fixture.ts';

describe('province dashboard in Chromium', browserSuite(), () => {
  let server: WebServer;
  let browser: Browser;
  let operator: TestUser;
  let page: Page;

  before(async () => {
    server = await startWebServer();
    server.env.clock.set('2026-03-01T09:00:00Z');
    const fx = await seedDashboardFixture(server.env);
    // Tremp made an entry and its process died before the receipt: owed, past the request's delay.
    const tremp = fx.byDir3.get('L01252347')!;
    await entryWithoutReceipt(server.env, tremp, 'Instància');
    server.env.clock.advance(11_000);
    operator = await makeUser(server.env, { platformRoles: ['operator'], totp: true, name: 'Operadora' });
    browser = await launchChromium();
  });

  after(() => stopAll(browser, server));

  it('an operator sees the literal counts, the 231 municipalities in their states’ colours, and an accessible page', async () => {
    // A loaded CI machine can take more than the usual 15 s for the first console page.
    page = await newPage(browser, { timeout: 30_000 });
    // The login form, with the TOTP step: an operator with no entity lands on the console.
    await logIn(page, server, operator, { landing: 'Tauler del desplegament' });
    await page.goto(`${server.base}/app/console`);
    await page.getByRole('heading', { level: 1, name: 'Tauler del desplegament' }).waitFor();
    assert.equal(await page.title(), 'Tauler del desplegament · Lligall');

    // Counts by state: the literal figures of the fixture (231 municipalities and one EMD).
    const byState = page.getByRole('table', { name: 'Entitats per estat' });
    const count = async (label: string) =>
      (await byState.getByRole('row', { name: label, exact: false }).getByRole('cell').textContent())?.trim();
    assert.equal(await count('Llistada'), '224');
    assert.equal(await count('Sol·licitada'), '3');
    assert.equal(await count('Programada'), '2');
    assert.equal(await count('En provisió'), '1');
    assert.equal(await count('Pilot'), '1');
    assert.equal(await count('En servei'), '1');
    assert.equal(await count('Suspesa'), '0');
    assert.equal(await count('Total'), '232');

    // By wave: total, then one column per state in the roll-out's order.
    const byWave = page.getByRole('table', { name: 'Entitats per onada' });
    const waveRow = async (name: string) =>
      (
        await byWave
          .getByRole('row', { name: new RegExp(`^${name}`) })
          .getByRole('cell')
          .allTextContents()
      ).map((s) => s.trim());
    assert.deepEqual(await waveRow('Onada 1'), ['3', '0', '0', '0', '1', '1', '1', '0']);
    assert.deepEqual(await waveRow('Onada 2'), ['2', '0', '0', '2', '0', '0', '0', '0']);

    // By comarca: Pallars Jussà has 14 municipalities, 3 of them past listed.
    const byComarca = page.getByRole('table', { name: 'Entitats per comarca' });
    assert.deepEqual(
      (
        await byComarca
          .getByRole('row', { name: /^Pallars Jussà/ })
          .getByRole('cell')
          .allTextContents()
      ).map((s) => s.trim()),
      ['14', '11', '0', '0', '1', '1', '1', '0'],
    );

    // The map: 231 shapes, each with the legend's colour of its state.
    const paths = page.locator('svg path[data-ine]');
    await paths.first().waitFor();
    assert.equal(await paths.count(), 231);
    // In the page (this file is type-checked without the DOM library: the little we use, typed here).
    type El = { getAttribute(n: string): string | null; querySelector(s: string): El | null };
    type Win = {
      document: { querySelectorAll(s: string): Iterable<El> };
      getComputedStyle(e: El): { fill: string };
    };
    const drawn = await page.evaluate(() => {
      const w = globalThis as unknown as Win;
      const legend: Record<string, string> = {};
      for (const li of w.document.querySelectorAll('.map-legend li[data-status]'))
        legend[li.getAttribute('data-status')!] = w.getComputedStyle(li.querySelector('rect')!).fill;
      const shapes = [...w.document.querySelectorAll('svg path[data-ine]')].map((p) => ({
        ine: p.getAttribute('data-ine')!,
        status: p.getAttribute('data-status')!,
        fill: w.getComputedStyle(p).fill,
      }));
      return { legend, shapes };
    });
    assert.deepEqual(Object.keys(drawn.legend), [
      'listed',
      'requested',
      'scheduled',
      'provisioning',
      'pilot',
      'live',
      'suspended',
    ]);
    assert.equal(new Set(Object.values(drawn.legend)).size, 7, 'each state has its own colour');
    const dir3ByIne = new Map(loadMunicipalities().map((m) => [m.ine, m.dir3]));
    assert.deepEqual(new Set(drawn.shapes.map((s) => s.ine)), new Set(dir3ByIne.keys()));
    for (const s of drawn.shapes) {
      const expected = FIXTURE_STATES[dir3ByIne.get(s.ine)!] ?? 'listed';
      assert.equal(s.status, expected, `state of ${s.ine}`);
      assert.equal(s.fill, drawn.legend[expected], `colour of ${s.ine} (${expected})`);
    }
    const abella = page.locator('svg path[data-ine="25001"]');
    assert.equal(await abella.locator('title').textContent(), 'Abella de la Conca: En servei');

    // The chart is an image with a name, and its figures are in a table.
    await page.getByRole('img', { name: /Evolució del desplegament/ }).waitFor();
    await page.getByText('Dades del gràfic', { exact: true }).click();
    const progress = page.getByRole('table', { name: /Evolució del desplegament/ });
    assert.equal(await progress.getByRole('row').count(), 1 + 8); // 3 to 10 March

    // Usage of the pilot and live entities.
    const usage = page.getByRole('table', { name: 'Ús en els darrers 30 dies' });
    assert.deepEqual((await usage.getByRole('row').allTextContents()).slice(1), [
      'Abella de la ConcaL01250019000',
      'TrempL01252347010',
    ]);

    // Registry receipts owed: Tremp's one, not yet tried.
    const owed = page.getByRole('table', { name: 'Justificants de registre pendents' });
    const cells = await owed
      .getByRole('row', { name: /^Tremp/ })
      .getByRole('cell')
      .allTextContents();
    assert.deepEqual([cells[0], cells[1], cells[2], cells[4]], ['L01252347', '1', '0', '—']);

    // The CSV link downloads one row per entity (and a header) with the session.
    const href = await page
      .getByRole('link', { name: 'Descarrega les dades per entitat (CSV)' })
      .getAttribute('href');
    assert.equal(href, '/api/v1/console/dashboard.csv');
    const csv = await page.request.get(`${server.base}${href}`);
    assert.equal(csv.status(), 200);
    assert.equal((await csv.text()).trim().split('\r\n').length, 233);

    await assertAccessible(page, 'the province dashboard');
  });
});
