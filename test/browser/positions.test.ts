/**
 * The positions page in a real browser (test/helpers/browser.ts: a server on a random port,
 * Debian's Chromium through playwright-core, axe-core on the page). An administrator (with
 * TOTP) opens "Càrrecs" from the navigation, creates the mayor's position, appoints themself as
 * its holder from today and sees it acting today; then creates the secretary's position with a
 * colleague as substitute and appoints another colleague, both chosen by name from the entity's
 * members (never another entity's); a handler of the entity sees the positions but no forms; a
 * members list that cannot be loaded says so and loads again on request.
 */
import assert from 'node:assert/strict';
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

describe('positions page in Chromium', browserSuite(), () => {
  let server: WebServer;
  let browser: Browser;
  let tenant: Tenant;
  let admin: TestUser;
  let handler: TestUser;
  let clerk: TestUser;
  let outsider: TestUser;

  before(async () => {
    server = await startWebServer();
    tenant = await makeTenant(server.env);
    admin = await makeUser(server.env, { tenant, roles: ['admin'], totp: true });
    handler = await makeUser(server.env, { tenant, roles: ['handler'], name: 'Montserrat Vila' });
    clerk = await makeUser(server.env, { tenant, roles: ['registrar'], name: 'Jordi Pla' });
    // A user of another entity: never offered here.
    const elsewhere = await makeTenant(server.env);
    outsider = await makeUser(server.env, { tenant: elsewhere, roles: ['admin'], name: 'Pere Forà' });
    browser = await launchChromium();
  });

  after(() => stopAll(browser, server));

  async function login(user: TestUser, prepare?: (page: Page) => Promise<unknown>): Promise<Page> {
    const page = await newPage(browser);
    await prepare?.(page);
    await logIn(page, server, user);
    await page
      .getByRole('navigation', { name: 'Navegació principal' })
      .getByRole('link', { name: 'Càrrecs' })
      .click();
    await page.getByRole('heading', { level: 1, name: "Càrrecs de l'entitat" }).waitFor();
    return page;
  }

  it('an admin creates the mayor’s position, appoints the holder and sees it', async () => {
    const page = await login(admin);
    await page.getByText('No hi ha cap càrrec definit.').waitFor();
    assert.equal(await page.title(), "Càrrecs de l'entitat · Lligall");
    await assertAccessible(page, 'the empty positions page');

    const newPosition = page.getByRole('region', { name: 'Nou càrrec' });
    // Nothing filled in: refused in words next to the field.
    await newPosition.getByRole('button', { name: 'Crea el càrrec' }).click();
    await newPosition.getByText('Indiqueu la denominació del càrrec.').waitFor();
    await newPosition.getByLabel(/^Tipus de càrrec/).selectOption('mayor');
    await newPosition.getByLabel(/^Denominació/).fill('Alcaldessa');
    await newPosition.getByRole('button', { name: 'Crea el càrrec' }).click();
    await newPosition.getByText("S'ha creat el càrrec Alcaldessa.").waitFor();
    const card = page.getByRole('article', { name: /Alcaldessa/ });
    await card.getByText('Sense titular.').waitFor();

    const appoint = page.getByRole('region', { name: 'Nomenament' });
    await appoint.getByLabel(/^Càrrec/).selectOption({ label: 'Alcaldessa' });
    await appoint.getByLabel(/^Jo mateix/).check();
    await appoint.getByLabel(/^Acte de nomenament/).fill('Acta del Ple de constitució');
    await appoint.getByRole('button', { name: 'Nomena' }).click();
    await appoint.getByText("S'ha nomenat el titular de Alcaldessa.").waitFor();
    await card.getByText(/Acta del Ple de constitució/).waitFor();
    const acting = await card.locator('p', { hasText: 'Avui actua' }).textContent();
    assert.match(acting ?? '', new RegExp(admin.username));
    await assertAccessible(page, 'the positions page with the mayor');
    await page.context().close();
  });

  it('an admin chooses colleagues by name from the entity’s members: a substitute and a holder', async () => {
    const page = await login(admin);
    const montserrat = `Montserrat Vila (${handler.username})`;
    const jordi = `Jordi Pla (${clerk.username})`;

    const newPosition = page.getByRole('region', { name: 'Nou càrrec' });
    await newPosition.getByLabel(/^Tipus de càrrec/).selectOption('secretary');
    await newPosition.getByLabel(/^Denominació/).fill('Secretària');
    await newPosition.getByLabel(/^Usuari substitut/).selectOption({ label: jordi });
    await newPosition.getByRole('button', { name: 'Crea el càrrec' }).click();
    await newPosition.getByText("S'ha creat el càrrec Secretària.").waitFor();
    const card = page.getByRole('article', { name: /Secretària/ });
    await card.getByText(`Substitut: ${jordi}`).waitFor();

    const appoint = page.getByRole('region', { name: 'Nomenament' });
    await appoint.getByLabel(/^Càrrec/).selectOption({ label: 'Secretària' });
    await appoint.getByLabel("Un altre usuari de l'entitat").check();
    // Nobody chosen yet: refused in words next to the list.
    await appoint.getByRole('button', { name: 'Nomena' }).click();
    await appoint.getByText('Trieu un usuari de la llista.').waitFor();
    const who = appoint.getByLabel(/^Usuari/);
    await who.locator('option', { hasText: montserrat }).waitFor({ state: 'attached' });
    assert.equal(await who.getAttribute('aria-invalid'), 'true');
    // The entity's members by name and username, sorted by name; not the admin (that is "Jo
    // mateix"), not another entity's user.
    assert.deepEqual(await who.locator('option').allTextContents(), ['Trieu un usuari…', jordi, montserrat]);
    assert.ok(!(await who.textContent())?.includes(outsider.username));
    await who.selectOption({ label: montserrat });
    await appoint.getByLabel(/^Acte de nomenament/).fill('Decret 2026/000007');
    await appoint.getByRole('button', { name: 'Nomena' }).click();
    await appoint.getByText("S'ha nomenat el titular de Secretària.").waitFor();
    await card.getByText(/Decret 2026\/000007/).waitFor();
    assert.match((await card.locator('p', { hasText: 'Avui actua' }).textContent()) ?? '', /Montserrat Vila/);
    await assertAccessible(page, 'the positions page with members to choose from');
    await page.context().close();
  });

  it('a member who is not an admin sees the positions but no forms', async () => {
    const page = await login(handler);
    await page.getByRole('article', { name: /Alcaldessa/ }).waitFor();
    assert.equal(await page.getByRole('region', { name: 'Nou càrrec' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Nomena' }).count(), 0);
    await page.context().close();
  });

  it('a members list that cannot be loaded says so in words and loads again on request', async () => {
    let reachable = false;
    const page = await login(admin, (p) =>
      p.route('**/api/v1/entities/*/members', (route) => (reachable ? route.continue() : route.abort())),
    );
    const newPosition = page.getByRole('region', { name: 'Nou càrrec' });
    const substitute = newPosition.getByLabel(/^Usuari substitut/);
    await newPosition.getByText('No es pot connectar amb el servidor.', { exact: false }).waitFor();
    assert.equal(await substitute.isDisabled(), true);
    assert.equal(await substitute.getAttribute('aria-invalid'), 'true');
    assert.deepEqual(await substitute.locator('option').allTextContents(), [
      "La llista d'usuaris no està disponible",
    ]);
    await assertAccessible(page, 'a members list that could not be loaded');
    reachable = true;
    // Again from the keyboard.
    const retry = newPosition.getByRole('button', { name: "Torna a carregar la llista d'usuaris" });
    await retry.focus();
    await page.keyboard.press('Enter');
    await substitute
      .locator('option', { hasText: `Montserrat Vila (${handler.username})` })
      .waitFor({ state: 'attached' });
    assert.equal(await substitute.isEnabled(), true);
    assert.equal(await substitute.getAttribute('aria-invalid'), null);
    assert.equal(await retry.count(), 0);
    await page.context().close();
  });
});
