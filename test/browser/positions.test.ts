/**
 * The positions page in a real browser (test/helpers/browser.ts: a server on a random port,
 * Debian's Chromium through playwright-core, axe-core on the page). An administrator (with
 * TOTP) opens "Càrrecs" from the navigation, creates the mayor's position, appoints themself as
 * its holder from today and sees it acting today; a handler of the entity sees the position but
 * no forms.
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

  before(async () => {
    server = await startWebServer();
    tenant = await makeTenant(server.env);
    admin = await makeUser(server.env, { tenant, roles: ['admin'], totp: true });
    handler = await makeUser(server.env, { tenant, roles: ['handler'] });
    browser = await launchChromium();
  });

  after(() => stopAll(browser, server));

  async function login(user: TestUser): Promise<Page> {
    const page = await newPage(browser);
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

  it('a member who is not an admin sees the positions but no forms', async () => {
    const page = await login(handler);
    await page.getByRole('article', { name: /Alcaldessa/ }).waitFor();
    assert.equal(await page.getByRole('region', { name: 'Nou càrrec' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Nomena' }).count(), 0);
    await page.context().close();
  });
});
