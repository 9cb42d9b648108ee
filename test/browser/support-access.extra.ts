/**
 * Outside `npm test` for CI time (the acceptance line is proven by test/rollout-support.http.test.ts):
 * run it with `npm run test:extra`.
 *
 * Support access in a real browser (issue 6 item 4): a support technician asks an entity for
 * access from the console; the entity's administrator finds the request through the entity's
 * navigation, grants it with the default role, and sees the decision in the entity's support
 * trail. Both pages pass axe (no serious or critical violation).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
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
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';

describe('support access in Chromium', browserSuite(), () => {
  let server: WebServer;
  let browser: Browser;
  let entity: Tenant;
  let admin: TestUser;
  let tech: TestUser;

  before(async () => {
    server = await startWebServer();
    server.env.clock.set('2026-11-30T09:00:00Z');
    entity = await makeTenant(server.env, { name: 'Ajuntament de Suport' });
    admin = await makeUser(server.env, { tenant: entity, roles: ['admin'], totp: true, name: 'Secretària' });
    tech = await makeUser(server.env, {
      platformRoles: ['support'],
      totp: true,
      name: 'Tècnica del Consell',
    });
    browser = await launchChromium();
  });

  after(() => stopAll(browser, server));

  it('a technician asks, the admin grants from the entity’s support page, and both pages are accessible', async () => {
    let page: Page = await newPage(browser);
    // A support technician with no entity lands on the console's support page. (Waiting for any
    // h1 after the TOTP step could match the login page's and navigate before the session exists.)
    await logIn(page, server, tech, { landing: 'Accés de suport' });
    await page.goto(`${server.base}/app/console/support`);
    await page.getByRole('heading', { level: 1, name: 'Accés de suport' }).waitFor();
    await page.getByLabel(/^Entitat/).fill(entity.dir3);
    await page.getByLabel(/^Motiu/).fill('Incidència 4711');
    await page.getByLabel(/^Durada/).fill('100');
    await page.getByRole('button', { name: 'Envia la sol·licitud' }).click();
    // The browser refuses more than 72 hours before anything is sent (the server would answer 422).
    assert.equal(
      await page
        .getByLabel(/^Durada/)
        .evaluate((el) => (el as unknown as { validity: { valid: boolean } }).validity.valid),
      false,
    );
    await page.getByLabel(/^Durada/).fill('3');
    await page.getByRole('button', { name: 'Envia la sol·licitud' }).click();
    await page
      .getByRole('status')
      .getByText(/S'ha enviat la sol·licitud a Ajuntament de Suport/)
      .waitFor();
    const mine = page.getByRole('table', { name: "Sol·licituds d'accés" });
    const row = mine.getByRole('row', { name: /Ajuntament de Suport/ });
    await row.getByText('Pendent').waitFor();
    assert.match((await row.textContent()) ?? '', /3 hores/);
    await assertAccessible(page, 'the console support page');
    await page.context().close();

    page = await newPage(browser);
    await logIn(page, server, admin);
    await page.getByRole('navigation', { name: /./ }).getByRole('link', { name: 'Accés de suport' }).click();
    await page.getByRole('heading', { level: 1, name: 'Accés de suport' }).waitFor();
    const list = page.getByRole('table', { name: 'Sol·licituds i permisos' });
    const request = list.getByRole('row', { name: /Tècnica del Consell/ });
    await request.getByText('Pendent').waitFor();
    await request.getByRole('button', { name: /Decideix/ }).click();
    await page.getByRole('heading', { level: 2, name: 'Sol·licitud de Tècnica del Consell' }).waitFor();
    await assertAccessible(page, 'the entity support page with the decision form');
    await page.getByRole('button', { name: 'Concedeix' }).click();
    await request.getByText('Concedit').waitFor();
    assert.match((await request.textContent()) ?? '', /com a consulta/);
    const trail = page.getByRole('table', { name: "Traça de l'accés de suport" });
    await trail.getByRole('row', { name: /Accés concedit/ }).waitFor();
    await trail.getByRole('row', { name: /Sol·licitud d'accés/ }).waitFor();
    await request.getByRole('button', { name: /Revoca/ }).waitFor();
    await assertAccessible(page, 'the entity support page');
    await page.context().close();
  });
});
