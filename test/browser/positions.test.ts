/**
 * The positions page in a real browser (same setup as registry.test.ts: a server on a random
 * port, Debian's Chromium through playwright-core, axe-core on the page). An administrator (with
 * TOTP) opens "Càrrecs" from the navigation, creates the mayor's position, appoints themself as
 * its holder from today and sees it acting today; a handler of the entity sees the position but
 * no forms.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AxeBuilder } from '@axe-core/playwright';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { buildServer } from '#src/server.ts';
import {
  currentTotp,
  makeTenant,
  makeUser,
  openTestEnv,
  type TestEnv,
  type TestUser,
} from '#test/helpers/harness.ts';
import { ensureWebBuilt } from '../../scripts/ensure-web.ts';

const CHROMIUM = process.env.LLIGALL_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const haveChromium = fs.existsSync(CHROMIUM);
const missing = `Chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or set LLIGALL_CHROMIUM`;

async function assertAccessible(page: Page, what: string): Promise<void> {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    .analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const report = bad
    .map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`)
    .join('\n');
  assert.equal(bad.length, 0, `axe found serious or critical violations on ${what}:\n${report}`);
}

if (!haveChromium && process.env.CI === 'true') {
  it('browser test needs Chromium under CI', () => {
    assert.fail(missing);
  });
}

describe('positions page in Chromium', { skip: haveChromium ? false : missing }, () => {
  let env: TestEnv;
  let app: FastifyInstance;
  let browser: Browser;
  let base: string;
  let tenant: Tenant;
  let admin: TestUser;
  let handler: TestUser;

  before(async () => {
    await ensureWebBuilt({ quiet: true });
    env = await openTestEnv();
    app = await buildServer(env, { logger: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    assert.ok(address && typeof address === 'object');
    base = `http://127.0.0.1:${address.port}`;
    tenant = await makeTenant(env);
    admin = await makeUser(env, { tenant, roles: ['admin'], totp: true });
    handler = await makeUser(env, { tenant, roles: ['handler'] });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await env?.close();
  });

  async function login(user: TestUser): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ca-ES' });
    const page = await ctx.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`${base}/app/login`);
    await page.getByLabel("Nom d'usuari").fill(user.username);
    await page.getByLabel('Contrasenya').fill(user.password);
    await page.getByRole('button', { name: 'Entra' }).click();
    if (user.totpSecret) {
      await page.getByLabel(/^Codi de verificació/).fill(currentTotp(env, user));
      await page.getByRole('button', { name: 'Verifica' }).click();
    }
    await page.getByRole('heading', { level: 1, name: 'Expedients' }).waitFor();
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
