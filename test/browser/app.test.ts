/**
 * The web app in a real browser: a server on a random port, Debian's Chromium driven by
 * playwright-core. Logs in (once with the keyboard alone), registers a party, opens a case file,
 * uploads a document and finds it in the index with the SHA-256 Node computes; axe-core checks
 * the pages for serious or critical WCAG 2.1 A/AA violations. The shared set-up (and what happens
 * without Chromium) is in test/helpers/browser.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
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
import { makeTenant, makeUser, type TestUser } from '#test/helpers/harness.ts';

describe('web app in Chromium', browserSuite(), () => {
  let server: WebServer;
  let browser: Browser;
  let base: string;
  let tenant: Tenant;
  let user: TestUser;
  let tmp: string;
  let page: Page;

  before(async () => {
    server = await startWebServer();
    base = server.base;
    tenant = await makeTenant(server.env);
    user = await makeUser(server.env, { tenant, roles: ['handler'] });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-browser-'));
    browser = await launchChromium();
    page = await newPage(browser);
  });

  after(async () => {
    await stopAll(browser, server);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('serves the login page in Catalan, accessible', async () => {
    const p = await (await browser.newContext()).newPage();
    await p.goto(`${base}/app/`);
    await p.getByLabel("Nom d'usuari").waitFor();
    assert.equal(await p.locator('html').getAttribute('lang'), 'ca');
    assert.match(await p.title(), /^Entrada · Lligall$/);
    await assertAccessible(p, 'the login page');
    // A wrong password is reported in words, linked to the fields.
    await p.getByLabel("Nom d'usuari").fill(user.username);
    await p.getByLabel('Contrasenya').fill('not the password');
    await p.getByRole('button', { name: 'Entra' }).click();
    const alert = p.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /El nom d'usuari o la contrasenya no són correctes/);
    const describedBy = await p.getByLabel('Contrasenya').getAttribute('aria-describedby');
    assert.ok(
      describedBy?.split(' ').includes((await alert.getAttribute('id')) ?? '-'),
      'the error describes the field',
    );
    await assertAccessible(p, 'the login page with an error');
    await p.context().close();
  });

  it('the accessibility check fails on a page with a nameless button and an image without text', async () => {
    const p = await (await browser.newContext()).newPage();
    await p.setContent(
      '<html lang="ca"><title>x</title><main><h1>x</h1><button></button><img src="a.png"></main></html>',
    );
    await assert.rejects(assertAccessible(p, 'a broken page'), /critical button-name[\s\S]*image-alt/);
    await p.context().close();
  });

  it('logs in with the keyboard alone', async () => {
    const kctx = await browser.newContext();
    const p = await kctx.newPage();
    await p.goto(`${base}/app/login`);
    await p.getByLabel("Nom d'usuari").waitFor();
    // The first Tab reaches the skip link.
    await p.keyboard.press('Tab');
    assert.equal(await p.locator(':focus').getAttribute('class'), 'skip-link');
    const focused = () => p.locator(':focus').getAttribute('name');
    for (let i = 0; i < 15 && (await focused()) !== 'username'; i++) await p.keyboard.press('Tab');
    assert.equal(await focused(), 'username');
    await p.keyboard.type(user.username);
    await p.keyboard.press('Tab');
    assert.equal(await focused(), 'password');
    await p.keyboard.type(user.password);
    await p.keyboard.press('Enter');
    await p.getByRole('heading', { level: 1, name: 'Expedients' }).waitFor();
    assert.match(p.url(), new RegExp(`/app/e/${tenant.slug}/expedients$`));
    await kctx.close();
  });

  it('logs in and lists the case files', async () => {
    await logIn(page, server, user, { from: '/app/' });
    await page.getByText('0 expedients').waitFor();
    assert.equal(await page.title(), 'Expedients · Lligall');
    await assertAccessible(page, 'the case-file list');
  });

  it('registers a party and explains a refused identifier', async () => {
    await page.getByRole('link', { name: 'Tercers' }).click();
    await page.getByRole('heading', { level: 1, name: 'Registre de tercers' }).waitFor();
    const form = page.locator('form', { has: page.getByRole('button', { name: "Dona d'alta el tercer" }) });
    await form.getByLabel(/^Identificador/).fill('12345678A'); // wrong check letter (Z)
    await form.getByLabel(/^Nom/).fill('Maria');
    await form.getByRole('button', { name: "Dona d'alta el tercer" }).click();
    await page.getByText(/L'identificador no és vàlid/).waitFor();
    assert.equal(await form.getByLabel(/^Identificador/).getAttribute('aria-invalid'), 'true');
    await assertAccessible(page, 'the register of parties with an error');
    await form.getByLabel(/^Identificador/).fill('12345678Z');
    await form.getByLabel('Primer cognom').fill('Puig');
    await form.getByRole('button', { name: "Dona d'alta el tercer" }).click();
    await page.getByText("S'ha donat d'alta Maria Puig (12345678Z).").waitFor();
    await page.getByRole('cell', { name: 'Maria Puig' }).waitFor();
  });

  let expedientUrl = '';

  it('creates a case file with an interested party', async () => {
    await page.getByRole('link', { name: 'Expedients' }).click();
    await page.getByRole('link', { name: 'Nou expedient' }).click();
    await page.getByRole('heading', { level: 1, name: 'Nou expedient' }).waitFor();
    await assertAccessible(page, 'the create form');
    // Submitting without a title is refused in words next to the field.
    await page.getByRole('button', { name: "Crea l'expedient" }).click();
    await page.getByText("Escriviu el títol de l'expedient.").waitFor();
    await page.getByLabel(/^Títol/).fill('Llicència d’obres menors al carrer Major, 5');
    await page.getByLabel('Classificació').fill('A-1.2');
    await page.getByLabel('Nom o identificador').fill('Puig');
    await page.getByRole('button', { name: 'Cerca', exact: true }).click();
    await page.getByRole('button', { name: 'Afegeix: Maria Puig' }).click();
    assert.equal(await page.getByLabel('Rol de Maria Puig').inputValue(), 'applicant');
    await page.getByRole('button', { name: "Crea l'expedient" }).click();
    await page.getByRole('tab', { name: 'Dades', selected: true }).waitFor();
    await page
      .getByRole('heading', { level: 1, name: 'Llicència d’obres menors al carrer Major, 5' })
      .waitFor();
    expedientUrl = page.url();
    assert.match(expedientUrl, new RegExp(`/app/e/${tenant.slug}/expedients/[0-9a-f-]+$`));
    await page.getByText(`${new Date().getFullYear()}/000001`, { exact: false }).first().waitFor();
    await assertAccessible(page, 'the case-file page');
  });

  it('moves between tabs with the arrow keys', async () => {
    await page.getByRole('tab', { name: 'Dades' }).focus();
    await page.keyboard.press('ArrowRight');
    await page.getByRole('tab', { name: 'Interessats', selected: true }).waitFor();
    assert.equal(await page.locator(':focus').textContent(), 'Interessats');
    await page.getByRole('cell', { name: '12345678Z' }).waitFor();
    await page.getByRole('cell', { name: 'Sol·licitant' }).waitFor();
    await page.keyboard.press('End');
    await page.getByRole('tab', { name: "Traça d'auditoria", selected: true }).waitFor();
    await page.keyboard.press('Home');
    await page.getByRole('tab', { name: 'Dades', selected: true }).waitFor();
  });

  it('uploads a document and shows its SHA-256 in the index', async () => {
    const content = `Sol·licitud de llicència d'obres menors\nData: ${new Date().toISOString()}\n`;
    const file = path.join(tmp, 'sollicitud.txt');
    fs.writeFileSync(file, content);
    const sha256 = createHash('sha256').update(fs.readFileSync(file)).digest('hex');

    await page.getByRole('tab', { name: 'Documents' }).click();
    await page.getByRole('heading', { name: 'Incorpora un document' }).waitFor();
    await page.getByLabel(/^Títol del document/).fill('Sol·licitud inicial');
    await page.getByLabel('Tipus documental').selectOption('TD14');
    await page.getByLabel("Estat d'elaboració").selectOption('EE01');
    await page.getByLabel('Origen').selectOption('citizen');
    await page.getByLabel(/^Fitxer/).setInputFiles(file);
    await page.getByRole('button', { name: 'Incorpora el document' }).click();
    await page
      .getByText("S'ha incorporat «Sol·licitud inicial» com a document número 1 de l'índex.")
      .waitFor();
    const download = page.getByRole('link', { name: 'Baixa: Sol·licitud inicial' });
    await download.waitFor();
    assert.match(
      (await download.getAttribute('href')) ?? '',
      /\/api\/v1\/entities\/.+\/documents\/.+\/content$/,
    );

    await page.getByRole('tab', { name: 'Índex' }).click();
    const row = page.getByRole('row', { name: /Sol·licitud inicial/ });
    await row.waitFor();
    assert.equal(await row.locator('code.hash').textContent(), sha256);
    assert.equal(await row.getByRole('cell').first().textContent(), '1');
    assert.match((await row.textContent()) ?? '', /TD14/);
    await assertAccessible(page, 'the index tab');

    await page.getByRole('tab', { name: "Traça d'auditoria" }).click();
    await page.getByText('expedient.document_incorporate').waitFor();
    await assertAccessible(page, 'the audit-trail tab');
  });

  it('switches the interface to Aranese and Spanish', async () => {
    await page.getByRole('button', { name: 'Aranés' }).click();
    await page.getByRole('tab', { name: 'Donades' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'oc');
    await page.getByRole('link', { name: 'Expedients' }).first().waitFor();
    await page.getByRole('button', { name: 'Español' }).click();
    await page.getByRole('tab', { name: 'Datos' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'es');
    // The choice survives a reload.
    await page.reload();
    await page.getByRole('tab', { name: 'Datos' }).waitFor();
    await page.getByRole('button', { name: 'Català' }).click();
    await page.getByRole('tab', { name: 'Dades' }).waitFor();
  });

  it('logs out from the user menu', async () => {
    await page.getByRole('button', { name: new RegExp(user.username) }).click();
    await page.getByRole('button', { name: 'Surt' }).click();
    await page.getByRole('heading', { level: 1, name: 'Entrada' }).waitFor();
    await page.goto(expedientUrl);
    await page.getByLabel("Nom d'usuari").waitFor();
  });
});
