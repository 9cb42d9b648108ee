/**
 * The registry, calendar and verification pages in a real browser (test/helpers/browser.ts: a
 * server on a random port, Debian's Chromium through playwright-core, axe-core on every page).
 * A registry clerk of Abella de la Conca (the demo entity's municipality) files an input entry with
 * an attachment through the form, finds it in the book as E/YYYY/000001, opens it, annotates it and
 * downloads its receipt; the calendar shows the municipality's 2026 local holiday and computes a
 * deadline over it; an administrator authorises the clerk as an official, choosing them by name
 * from the entity's members (never another entity's); the public verification page answers for a well-formed unknown CSV, a
 * malformed one and the receipt's own CSV, without a session.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { noRequest, systemActor } from '#platform/context.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { createTenant } from '#modules/tenancy/tenancy.service.ts';
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
import { makeTenant, makeUser, type TestEnv, type TestUser } from '#test/helpers/harness.ts';

/** The Europe/Madrid year now: registry numbers are per Madrid year. */
function madridYear(): string {
  return new Intl.DateTimeFormat('en', { timeZone: 'Europe/Madrid', year: 'numeric' }).format(new Date());
}

describe('registry, calendar and verification pages in Chromium', browserSuite(), () => {
  let server: WebServer;
  let env: TestEnv;
  let browser: Browser;
  let base: string;
  let tenant: Tenant;
  let clerk: TestUser;
  let admin: TestUser;
  let outsider: TestUser;
  let tmp: string;
  let page: Page;
  let entryUrl = '';
  let receiptCsv = '';
  const number = `E/${madridYear()}/000001`;

  before(async () => {
    server = await startWebServer();
    ({ env, base } = server);
    // The demo entity's municipality: its 2026 local holidays are in the shipped data.
    tenant = await env.db.platform((tx) =>
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
    clerk = await makeUser(env, { tenant, roles: ['registrar', 'handler'], name: 'Jordi Pla' });
    admin = await makeUser(env, { tenant, roles: ['admin'], totp: true, name: 'Núria Soler' });
    // A user of another entity: never offered as a member here.
    outsider = await makeUser(env, {
      tenant: await makeTenant(env),
      roles: ['registrar'],
      name: 'Pere Forà',
    });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-browser-registry-'));
    browser = await launchChromium();
    page = await newPage(browser);
  });

  after(async () => {
    await stopAll(browser, server);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('logs in and opens an empty registry book from the navigation', async () => {
    await logIn(page, server, clerk);
    await page
      .getByRole('navigation', { name: 'Navegació principal' })
      .getByRole('link', { name: 'Registre' })
      .click();
    await page.getByRole('heading', { level: 1, name: 'Llibre de registre' }).waitFor();
    await page.getByText('0 assentaments').waitFor();
    assert.equal(await page.title(), 'Llibre de registre · Lligall');
    await assertAccessible(page, 'the empty registry book');
  });

  it('files an input entry with a new party and an attachment through the form', async () => {
    const content = `Sol·licitud de llicència d'obres menors\nData: ${new Date().toISOString()}\n`;
    const file = path.join(tmp, 'sollicitud.txt');
    fs.writeFileSync(file, content);
    const sha256 = createHash('sha256').update(fs.readFileSync(file)).digest('hex');

    await page.getByRole('link', { name: 'Nou assentament' }).click();
    await page.getByRole('heading', { level: 1, name: 'Nou assentament de registre' }).waitFor();
    await assertAccessible(page, 'the new-entry form');
    // Nothing filled in: refused in words next to the field, which gets the focus.
    await page.getByRole('button', { name: 'Registra', exact: true }).click();
    await page.getByText("Escriviu l'extracte de l'assentament.").waitFor();
    assert.equal(await page.getByLabel(/^Extracte/).getAttribute('aria-invalid'), 'true');
    await assertAccessible(page, 'the new-entry form with errors');

    assert.equal(await page.getByLabel('Entrada', { exact: true }).isChecked(), true);
    await page.getByLabel(/^Extracte/).fill('Sol·licitud de llicència d’obres menors');
    await page.getByLabel(/^Resum del contingut/).fill('Reforma de la cuina al carrer Major, 5');
    await page.getByLabel('Canal').selectOption('in_person');
    await page.getByLabel('Nou tercer').check();
    await page.getByLabel(/^Identificador/).fill('12345678Z');
    await page.getByLabel(/^Nom/).fill('Maria');
    await page.getByLabel('Primer cognom').fill('Puig');
    await page.getByLabel(/^Documents annexos/).setInputFiles(file);
    await page.getByRole('list', { name: 'Fitxers triats' }).getByText('sollicitud.txt').waitFor();
    await page.getByRole('button', { name: 'Registra', exact: true }).click();

    await page.getByText(`S'ha registrat l'assentament ${number}.`).waitFor();
    await page.getByRole('heading', { level: 1, name: 'Sol·licitud de llicència d’obres menors' }).waitFor();
    entryUrl = page.url();
    assert.match(entryUrl, new RegExp(`/app/e/${tenant.slug}/registry/[0-9a-f-]+$`));
    const data = page.locator('dl.data-list').first();
    // The full name comes from the register a moment after the entry (the entry names the given name).
    await data.getByText('Maria Puig (12345678Z)').waitFor();
    assert.match((await data.textContent()) ?? '', /Presencial/);
    // The attachment with the SHA-256 Node computes.
    const row = page.getByRole('row', { name: /sollicitud\.txt/ });
    await row.waitFor();
    assert.equal(await row.locator('code.hash').textContent(), sha256);
    await assertAccessible(page, 'the entry page');
  });

  it('annotates the entry (entries never change)', async () => {
    await page.getByText('No hi ha cap anotació.').waitFor();
    await page.getByRole('button', { name: "Afegeix l'anotació" }).click();
    await page.getByText("Escriviu el text de l'anotació.").waitFor();
    await page.getByLabel(/^Nova anotació/).fill("L'interessada aporta el pressupost el dia 3.");
    await page.getByRole('button', { name: "Afegeix l'anotació" }).click();
    await page.getByText("S'ha afegit l'anotació.").waitFor();
    await page
      .getByRole('listitem')
      .filter({ hasText: "L'interessada aporta el pressupost el dia 3." })
      .waitFor();
    // The annotation is on the server, not only on the page.
    await page.reload();
    await page.getByText("L'interessada aporta el pressupost el dia 3.").waitFor();
    await assertAccessible(page, 'the entry page with an annotation');
  });

  it('opens a new case file from the entry, with its attachment in the index', async () => {
    const section = page.locator('section', {
      has: page.getByRole('heading', { level: 2, name: 'Expedients' }),
    });
    await section.getByText("L'assentament encara no s'ha incorporat a cap expedient.").waitFor();
    await section.getByLabel('Un expedient nou').check();
    assert.equal(
      await section.getByLabel(/^Títol/).inputValue(),
      'Sol·licitud de llicència d’obres menors',
      'the title starts as the entry’s heading',
    );
    await section.getByRole('button', { name: "Obre l'expedient" }).click();
    await section
      .getByText(
        new RegExp(`S'ha obert l'expedient ${madridYear()}/000001 amb \\d+ documents? de l'assentament\\.`),
      )
      .waitFor();
    await section.getByRole('link', { name: new RegExp(`${madridYear()}/000001`) }).waitFor();
    await assertAccessible(page, 'the entry page with its case file');
  });

  it('downloads the sealed receipt (justificant) as a PDF', async () => {
    const link = page.getByRole('link', { name: `Baixa el justificant de ${number} (PDF)` });
    await link.waitFor({ timeout: 30_000 });
    const href = await link.getAttribute('href');
    assert.match(href ?? '', /\/api\/v1\/entities\/.+\/registry\/.+\/receipt$/);
    receiptCsv = (
      (await page.locator('section', { has: link }).locator('code').first().textContent()) ?? ''
    ).trim();
    assert.match(receiptCsv, /^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const saved = path.join(tmp, 'justificant.pdf');
    await download.saveAs(saved);
    assert.equal(fs.readFileSync(saved).subarray(0, 5).toString('latin1'), '%PDF-');
  });

  it('lists the entry in the book with its number, party and channel, and filters it out', async () => {
    await page.getByRole('link', { name: 'Llibre de registre' }).click();
    await page.getByRole('heading', { level: 1, name: 'Llibre de registre' }).waitFor();
    await page.getByText('1 assentament', { exact: true }).waitFor();
    const row = page.getByRole('row', { name: new RegExp(number) });
    await row.waitFor();
    await row.getByText('Maria Puig (12345678Z)').waitFor();
    assert.match((await row.textContent()) ?? '', /Presencial/);
    assert.match((await row.textContent()) ?? '', /Sol·licitud de llicència d’obres menors/);
    await assertAccessible(page, 'the registry book with an entry');
    // Output entries only: none.
    await page.getByLabel('Sentit').selectOption('S');
    await page.getByRole('button', { name: 'Cerca', exact: true }).click();
    await page.getByText('0 assentaments').waitFor();
    assert.match(page.url(), /direction=S/);
    await page.getByRole('button', { name: 'Esborra els filtres' }).click();
    await page.getByText('1 assentament', { exact: true }).waitFor();
    // The number opens the entry.
    await page.getByRole('link', { name: number }).click();
    await page.getByRole('heading', { level: 1, name: 'Sol·licitud de llicència d’obres menors' }).waitFor();
    assert.equal(page.url(), entryUrl);
  });

  it('shows the 2026 calendar of Abella de la Conca with its local holiday, and an incomplete year plainly', async () => {
    await page.getByRole('link', { name: 'Calendari' }).click();
    await page.getByRole('heading', { level: 1, name: 'Calendari de dies inhàbils' }).waitFor();
    await page.goto(`${base}/app/e/${tenant.slug}/calendar?year=2026`);
    await page.getByRole('heading', { level: 2, name: 'Any 2026' }).waitFor();
    const table = page.getByRole('table', { name: /Dies inhàbils de 2026/ });
    await table.waitFor();
    // 25 May 2026: Abella de la Conca's local holiday (DOGC), not Lleida's.
    const may25 = table.getByRole('row').filter({ has: page.locator('time[datetime="2026-05-25"]') });
    assert.match((await may25.textContent()) ?? '', /Festa local/);
    assert.match((await may25.textContent()) ?? '', /Local/);
    assert.equal(
      await table.locator('time[datetime="2026-09-29"]').count(),
      0,
      'Lleida’s local day is not here',
    );
    await assertAccessible(page, 'the calendar page');

    // 1 business day from Friday 22 May 2026: Saturday, Sunday and the local Monday are skipped.
    await page.getByLabel(/^Data de la notificació/).fill('2026-05-22');
    await page.getByLabel(/^Durada/).fill('1');
    await page.getByLabel('Unitat').selectOption('business_days');
    await page.getByRole('button', { name: 'Calcula' }).click();
    await page.getByText(/El termini acaba el dimarts, 26 de maig del? 2026, a les 24\.00\./).waitFor();
    const skipped = page.getByRole('table', { name: '3 dies inhàbils no comptats' });
    await skipped.waitFor();
    assert.match((await skipped.textContent()) ?? '', /Festa local/);
    await assertAccessible(page, 'the calendar page with a deadline');

    // A year the shipped data does not cover is said to be incomplete, never guessed.
    await page.getByRole('button', { name: '2027' }).click();
    await page.getByRole('heading', { level: 2, name: 'Any 2027' }).waitFor();
    await page.getByRole('alert').getByText('El calendari de 2027 és incomplet').waitFor();
    await assertAccessible(page, 'the calendar page of an incomplete year');
  });

  it('shows the register of authorised officials (read-only for a clerk)', async () => {
    await page.getByRole('link', { name: 'Funcionaris habilitats' }).click();
    await page.getByRole('heading', { level: 1, name: 'Funcionaris habilitats' }).waitFor();
    await page.getByText('No hi ha cap funcionari habilitat.').waitFor();
    assert.equal(
      await page.getByRole('button', { name: 'Habilita' }).count(),
      0,
      'only administrators register',
    );
    await assertAccessible(page, 'the register of authorised officials');
  });

  it('an administrator authorises the clerk, chosen by name from the entity’s members', async () => {
    const p = await newPage(browser);
    await logIn(p, server, admin);
    await p
      .getByRole('navigation', { name: 'Navegació principal' })
      .getByRole('link', { name: 'Funcionaris habilitats' })
      .click();
    await p.getByRole('heading', { level: 1, name: 'Funcionaris habilitats' }).waitFor();
    const form = p.getByRole('region', { name: 'Nova habilitació' });
    await form.getByLabel("Un altre usuari de l'entitat").check();
    // Nobody chosen yet: refused in words next to the list.
    await form.getByRole('button', { name: 'Habilita' }).click();
    await form.getByText('Trieu un usuari de la llista.').waitFor();
    const who = form.getByLabel(/^Usuari/);
    assert.equal(await who.getAttribute('aria-invalid'), 'true');
    // The entity's members by name and username: the clerk; not the administrator (that is "Jo
    // mateix"), not another entity's user.
    const jordi = `Jordi Pla (${clerk.username})`;
    await who.locator('option', { hasText: jordi }).waitFor({ state: 'attached' });
    assert.deepEqual(await who.locator('option').allTextContents(), ['Trieu un usuari…', jordi]);
    assert.ok(!(await who.textContent())?.includes(outsider.username));
    await who.selectOption({ label: jordi });
    await form.getByRole('button', { name: 'Habilita' }).click();
    await form.getByText("S'ha habilitat Jordi Pla.").waitFor();
    await p.getByRole('rowheader', { name: /Jordi Pla/ }).waitFor();
    await assertAccessible(p, 'the register of authorised officials with its form');
    await p.context().close();
  });

  it('verifies documents by CSV on a public page reached from the login page', async () => {
    const anon = await browser.newContext({ locale: 'ca-ES' });
    const p = await anon.newPage();
    p.setDefaultTimeout(15_000);
    await p.goto(`${base}/app/login`);
    await p.getByRole('link', { name: 'verifiqueu un document' }).click();
    await p.getByRole('heading', { level: 1, name: 'Verificació de documents' }).waitFor();
    await assertAccessible(p, 'the verification page');

    // /verify?csv=… (the address printed on documents) fills the field and verifies at once.
    await p.goto(`${base}/verify?csv=00000-00000-00000-00000`);
    await p.getByRole('alert').getByText('No hi ha cap document amb aquest CSV.', { exact: false }).waitFor();
    assert.match(p.url(), /\/app\/verify\?csv=00000-00000-00000-00000$/);
    assert.equal(await p.getByLabel(/^Codi segur de verificació/).inputValue(), '00000-00000-00000-00000');
    await assertAccessible(p, 'the verification page with "not found"');

    await p.getByLabel(/^Codi segur de verificació/).fill('ABC');
    await p.getByRole('button', { name: 'Verifica' }).click();
    await p
      .getByRole('alert')
      .getByText(/no té el format d'un CSV/)
      .waitFor();

    // The receipt's own CSV: found, with a plain word that the demo seal is not qualified.
    if (receiptCsv) {
      await p.getByLabel(/^Codi segur de verificació/).fill(receiptCsv.toLowerCase());
      await p.getByRole('button', { name: 'Verifica' }).click();
      await p.getByText('El document existeix i és autèntic.', { exact: false }).waitFor();
      await p.getByText('Segell de demostració, no qualificat').waitFor();
      await p.getByText('Ajuntament d’Abella de la Conca (L01250019)').waitFor();
      const download = p.getByRole('link', { name: /^Baixa el document/ });
      assert.match((await download.getAttribute('href')) ?? '', /^\/api\/v1\/verify\/.+\/content$/);
      await assertAccessible(p, 'the verification page with a verified document');
    }
    await anon.close();
  });
});
