/**
 * The book of resolutions page in a real browser (same setup as positions.test.ts: a server on a
 * random port, Debian's Chromium through playwright-core, axe-core on the page). An administrator opens
 * "Llibre de resolucions" from the navigation, sees that the book is not opened (and that numbering
 * does not wait for it), asks for the opening diligence, which then waits for the secretary, and
 * records an ordinary Ple session, after which the list for the Ple runs from the next day; a
 * handler of the entity sees the book but no buttons and no form.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AxeBuilder } from '@axe-core/playwright';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { noRequest } from '#platform/context.ts';
import { appointHolder, createPosition } from '#modules/positions/positions.service.ts';
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

describe('book of resolutions page in Chromium', { skip: haveChromium ? false : missing }, () => {
  let env: TestEnv;
  let app: FastifyInstance;
  let browser: Browser;
  let base: string;
  let tenant: Tenant;
  let admin: TestUser;
  let handler: TestUser;
  const year = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Madrid', year: 'numeric' }).format(
    new Date(),
  );

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
    const secretary = await makeUser(env, { tenant, roles: ['handler'] });
    await env.db.tenant(tenant.id, async (tx) => {
      const ctx = {
        tenant: {
          id: tenant.id,
          dir3: tenant.dir3,
          slug: tenant.slug,
          name: tenant.name,
          status: tenant.status,
        },
        actor: { kind: 'user' as const, id: admin.id, label: admin.username, platformRoles: [] },
        roles: ['admin' as const],
        request: noRequest,
        clock: env.clock,
      };
      const s = await createPosition(tx, ctx, { kind: 'secretary', title: 'La secretària' });
      await appointHolder(tx, ctx, s.id, { userId: secretary.id, validFrom: '2020-01-01' });
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await env?.close();
  });

  async function open(user: TestUser): Promise<Page> {
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
      .getByRole('link', { name: 'Llibre de resolucions' })
      .click();
    await page.getByRole('heading', { level: 1, name: 'Llibre de resolucions' }).waitFor();
    return page;
  }

  it('an administrator asks for the opening diligence and records an ordinary Ple session', async () => {
    const page = await open(admin);
    const book = page.getByRole('region', { name: `Llibre de ${year}` });
    await book.getByText(/El llibre encara no s'ha obert/).waitFor();
    await page.getByText('No hi ha cap decret numerat aquest any.').waitFor();
    assert.equal(await page.title(), 'Llibre de resolucions · Lligall');
    await assertAccessible(page, 'the book before it is opened');

    await book.getByRole('button', { name: "Obre el llibre (diligència d'obertura)" }).click();
    await book.getByText(/S'ha preparat la diligència d'obertura/).waitFor();
    await book.getByText('Pendent de la signatura de la secretaria').waitFor();
    assert.equal(
      await book.getByRole('button', { name: "Obre el llibre (diligència d'obertura)" }).count(),
      0,
      'no second opening while one waits',
    );
    assert.ok(await book.getByRole('link', { name: 'Descarrega el llibre segellat (PDF)' }).isVisible());

    const ple = page.getByRole('region', { name: 'Decrets per donar compte al Ple' });
    await ple.getByText(/No hi ha cap sessió ordinària del Ple registrada/).waitFor();
    await ple.getByLabel(/^Data de la sessió/).fill(`${year}-01-29`);
    await ple.getByLabel(/^Tipus de sessió/).selectOption('ordinary');
    await ple.getByLabel(/^Referència/).fill(`Acta 1/${year}`);
    await ple.getByRole('button', { name: 'Registra la sessió' }).click();
    await ple.getByText(/S'ha registrat la sessió/).waitFor();
    await ple.getByText(/Acta 1\//).waitFor();
    await ple.getByText(/: 0 decrets\./).waitFor();
    await assertAccessible(page, 'the book with its opening pending and a Ple session');
    await page.context().close();
  });

  it('a handler sees the book but no buttons and no form', async () => {
    const page = await open(handler);
    const book = page.getByRole('region', { name: `Llibre de ${year}` });
    await book.getByText('Pendent de la signatura de la secretaria').waitFor();
    assert.equal(
      await page
        .getByRole('button')
        .filter({ hasText: /llibre/ })
        .count(),
      0,
    );
    assert.equal(await page.getByRole('button', { name: 'Registra la sessió' }).count(), 0);
    await page.context().close();
  });
});
