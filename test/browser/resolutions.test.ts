/**
 * The book of resolutions page in a real browser (test/helpers/browser.ts: a server on a random
 * port, Debian's Chromium through playwright-core, axe-core on the page). An administrator opens
 * "Llibre de resolucions" from the navigation, sees that the book is not opened (and that numbering
 * does not wait for it), asks for the opening diligence, which then waits for the secretary, and
 * records an ordinary Ple session, after which the list for the Ple runs from the next day; a
 * handler of the entity sees the book but no buttons and no form.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { noRequest } from '#platform/context.ts';
import { appointHolder, createPosition } from '#modules/positions/positions.service.ts';
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

describe('book of resolutions page in Chromium', browserSuite(), () => {
  let server: WebServer;
  let browser: Browser;
  let tenant: Tenant;
  let admin: TestUser;
  let handler: TestUser;
  const year = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Madrid', year: 'numeric' }).format(
    new Date(),
  );

  before(async () => {
    server = await startWebServer();
    tenant = await makeTenant(server.env);
    admin = await makeUser(server.env, { tenant, roles: ['admin'], totp: true });
    handler = await makeUser(server.env, { tenant, roles: ['handler'] });
    const secretary = await makeUser(server.env, { tenant, roles: ['handler'] });
    await server.env.db.tenant(tenant.id, async (tx) => {
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
        clock: server.env.clock,
      };
      const s = await createPosition(tx, ctx, { kind: 'secretary', title: 'La secretària' });
      await appointHolder(tx, ctx, s.id, { userId: secretary.id, validFrom: '2020-01-01' });
    });
    browser = await launchChromium();
  });

  after(() => stopAll(browser, server));

  async function open(user: TestUser): Promise<Page> {
    const page = await newPage(browser);
    await logIn(page, server, user);
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
