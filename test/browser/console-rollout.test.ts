/**
 * The roll-out from end to end in a real browser (issue 6, first acceptance line): the mayor of
 * a small municipality with no case-file system logs in to the Diputació's seu (demo OpenID
 * provider) and files the enrolment request with three PDFs, two of them signed (PAdES); an
 * operator of the Diputació accepts it in the console, proposes the wave (the rule picks the
 * entity) and saves it, and provisions the entity; the new administrator opens the invitation
 * link from the e-mail, sets a password, logs in, enrols TOTP and creates a case file in the new
 * entity. axe on each page on the way.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PDFDocument } from 'pdf-lib';
import type { Browser, Page } from 'playwright-core';
import { noRequest, systemActor } from '#platform/context.ts';
import type { SigningIdentity } from '#platform/pdf/cades.ts';
import { signPdfDocument } from '#platform/pdf/pades.ts';
import { totpCode } from '#modules/identity/totp.ts';
import { ensureEntitySeal } from '#modules/seals/seals.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { createTenant, findTenantByRef, importProvince } from '#modules/tenancy/tenancy.service.ts';
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
import { makeUser, type TestEnv, type TestUser, tokenHeaders } from '#test/helpers/harness.ts';
import { testSigningIdentity } from '#test/helpers/pki.ts';

/** Guixers (Solsonès, INE 25111, DIR3 L01251116, 125 inhabitants in 2025): from data/seed. */
const INE = '25111';
const DIR3 = 'L01251116';

describe('the roll-out from enrolment to the first case file, in Chromium', browserSuite(), () => {
  let server: WebServer;
  let env: TestEnv;
  let base: string;
  let browser: Browser;
  let diputacio: Tenant;
  let operator: TestUser;
  let signer: SigningIdentity;
  const files: Record<string, Buffer> = {};

  async function pdf(title: string, sign: boolean): Promise<Buffer> {
    const doc = await PDFDocument.create();
    doc.setTitle(title);
    doc.addPage([595, 842]).drawText(title, { x: 72, y: 760, size: 14 });
    if (!sign) return Buffer.from(await doc.save());
    return signPdfDocument(doc, signer, {
      name: 'Alcalde de Guixers',
      reason: title,
      location: 'Guixers',
      contactInfo: 'alcaldia@guixers.example',
      signingTime: env.clock.now(),
    });
  }

  async function api(method: string, url: string, body?: unknown): Promise<unknown> {
    const headers = await tokenHeaders(env, operator);
    const r = await fetch(`${base}${url}`, {
      method,
      headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    assert.ok(r.ok, `${method} ${url}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  before(async () => {
    server = await startWebServer({ publicUrl: true });
    ({ env, base } = server);
    // Monday 2 March 2026, 10:00 in Lleida.
    env.clock.set('2026-03-02T09:00:00Z');
    const sys = { actor: systemActor, request: noRequest, clock: env.clock };
    diputacio = await env.db.platform(async (tx) => {
      await importProvince(tx, sys);
      return createTenant(tx, sys, {
        kind: 'diputacio',
        name: 'Diputació de Lleida',
        dir3: 'L02000025',
        status: 'live',
      });
    });
    await ensureEntitySeal(env, diputacio.id);
    operator = await makeUser(env, { platformRoles: ['operator'], totp: true, name: 'Operadora' });
    ({ signer } = await testSigningIdentity('Alcalde de Guixers'));
    files.adhesionAct = await pdf("Acord del Ple d'adhesió a Lligall", false);
    files.signedRequest = await pdf("Sol·licitud d'alta a Lligall", true);
    files.dpa = await pdf('Encàrrec de tractament de dades', true);
    // The call and its first wave: entities with no system, at most 3.
    const call = (await api('POST', '/api/v1/console/calls', {
      name: 'Convocatòria 2026',
      opensOn: '2026-01-15',
      closesOn: '2026-06-30',
    })) as { id: string };
    await api('POST', '/api/v1/console/waves', {
      callId: call.id,
      name: 'Onada 1',
      plannedStart: '2026-04-01',
      plannedEnd: '2026-05-31',
      requiresCertification: false,
      capacity: 3,
    });
    browser = await launchChromium();
  });

  after(async () => {
    await stopAll(browser, server);
  });

  const guixers = async () => (await env.db.platform((tx) => findTenantByRef(tx, DIR3)))!;

  it('the mayor files the enrolment request in the Diputació’s seu', async () => {
    const page = await newPage(browser, { timeout: 20_000 });
    await page.goto(`${base}/seu/${diputacio.slug}/alta`);
    await page.getByRole('heading', { level: 1, name: "Sol·licitud d'alta a Lligall" }).waitFor();
    await page.getByRole('link', { name: "Identifica't" }).first().click();
    await page.getByRole('button', { name: 'Entra' }).click();
    await page.waitForURL(`${base}/seu/${diputacio.slug}/alta`);
    await page.getByLabel('Municipi').waitFor();
    await assertAccessible(page, 'the enrolment form');
    await page.getByLabel('Municipi').selectOption(INE);
    await page.getByLabel(/^Nom i cognoms de l'alcalde o alcaldessa/).fill('Joan Riu Serra');
    await page.getByLabel(/^Adreça electrònica de l'alcalde o alcaldessa/).fill('alcaldia@guixers.example');
    await page.getByLabel(/^Nom i cognoms del secretari o secretària/).fill('Laia Solé Pujol');
    await page
      .getByLabel(/^Adreça electrònica del secretari o secretària/)
      .fill('secretaria@guixers.example');
    await page.getByLabel('Acord del Ple').check();
    await page.getByLabel(/^Data de l'acord/).fill('2026-02-20');
    await page.getByLabel(/^Acord d'adhesió \(PDF\)/).setInputFiles({
      name: 'acord-adhesio.pdf',
      mimeType: 'application/pdf',
      buffer: files.adhesionAct!,
    });
    await page.getByLabel(/^Sol·licitud signada/).setInputFiles({
      name: 'sollicitud-signada.pdf',
      mimeType: 'application/pdf',
      buffer: files.signedRequest!,
    });
    await page.getByLabel(/^Encàrrec de tractament/).setInputFiles({
      name: 'encarrec-tractament.pdf',
      mimeType: 'application/pdf',
      buffer: files.dpa!,
    });
    await page.getByRole('button', { name: 'Revisa la sol·licitud' }).click();
    await page.getByRole('button', { name: 'Presenta la sol·licitud' }).click();
    const done = page.getByRole('heading', { name: /^Sol·licitud registrada: E\/2026\/\d{6}$/ });
    await done.waitFor();
    await assertAccessible(page, 'the enrolment request filed');
    assert.equal((await guixers()).status, 'requested');
    await page.context().close();
  });

  let consolePage: Page;

  it('an operator accepts it, assigns it to the wave the rule proposes, and provisions the entity', async () => {
    consolePage = await newPage(browser, { timeout: 20_000 });
    const page = consolePage;
    await logIn(page, server, operator, { landing: 'Tauler del desplegament' });
    await page.goto(`${base}/app/console/requests`);
    await page.getByRole('heading', { level: 1, name: "Sol·licituds d'alta" }).waitFor();
    await assertAccessible(page, 'the console inbox');
    await page
      .getByRole('link', { name: /Guixers/ })
      .first()
      .click();
    await page.getByRole('heading', { level: 1 }).filter({ hasText: "Sol·licitud d'alta" }).waitFor();
    await assertAccessible(page, 'the request detail');
    await page.getByRole('button', { name: 'Accepta' }).click();
    await page.getByRole('button', { name: "Confirma l'acceptació" }).click();
    await page.getByText(/S'ha desat la decisió/).waitFor();

    await page.goto(`${base}/app/console/waves`);
    await page.getByRole('heading', { level: 1, name: 'Onades de desplegament' }).waitFor();
    await page.getByRole('button', { name: 'Proposa: Onada 1' }).click();
    // The proposal: the only entity that requested with no system is Guixers.
    const editor = page.getByRole('region', { name: /Llista d'entitats de l'onada Onada 1/ });
    await editor.getByText('Guixers').first().waitFor();
    await assertAccessible(page, 'the wave proposal');
    await page.getByRole('button', { name: 'Desa la llista' }).click();
    await editor.waitFor({ state: 'detached' });
    // The assignment moved the entity to scheduled.
    for (let i = 0; i < 50 && (await guixers()).status !== 'scheduled'; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal((await guixers()).status, 'scheduled');

    await page.goto(`${base}/app/console/entities/${DIR3}`);
    await page.getByRole('heading', { level: 1 }).filter({ hasText: 'Guixers' }).waitFor();
    await page.getByRole('button', { name: 'Provisiona' }).click();
    await page.getByText(/Provisió feta\. Administrador:/).waitFor();
    await page.getByText("S'ha enviat la invitació per correu electrònic.").waitFor();
    await assertAccessible(page, 'the entity after provisioning');
    assert.equal((await guixers()).status, 'pilot');
  });

  it('the new administrator opens the invitation, sets a password, enrols TOTP and creates a case file', async () => {
    const entity = await guixers();
    const mail = await env.db.owner((tx) =>
      tx
        .selectFrom('mail_outbox')
        .select(['to_address', 'params'])
        .where('tenant_id', '=', entity.id)
        .where('template', '=', 'user_invitation')
        .execute(),
    );
    assert.equal(mail.length, 1, 'one invitation');
    assert.equal(mail[0]!.to_address, 'secretaria@guixers.example', 'to the secretary of the request');
    const link = mail[0]!.params.link!;
    assert.match(link, new RegExp(`^${base}/app/invitation/[A-Za-z0-9_-]{40,}$`));

    const page = await newPage(browser, { timeout: 20_000 });
    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: 'Invitació a Lligall' }).waitFor();
    await assertAccessible(page, 'the invitation');
    const password = 'Guixers-2026-contrasenya';
    await page.getByLabel(/^Contrasenya nova/).fill(password);
    await page.getByLabel(/^Repetiu la contrasenya/).fill(password);
    await page.getByRole('button', { name: 'Desa la contrasenya' }).click();
    const saved = page.getByText(/S'ha desat la contrasenya de l'usuari (\S+)\./);
    await saved.waitFor();
    const username = /de l'usuari (\S+)\./.exec((await saved.textContent()) ?? '')![1]!;
    await page.getByRole('link', { name: 'Inicia la sessió' }).click();
    await page.getByLabel("Nom d'usuari").fill(username);
    await page.getByLabel('Contrasenya').fill(password);
    await page.getByRole('button', { name: 'Entra' }).click();
    // An administrator must enrol TOTP before anything else (ENS).
    await page.getByRole('heading', { level: 1, name: 'Verificació en dos passos' }).waitFor();
    await page.getByRole('button', { name: "Comença l'activació" }).click();
    const secret = ((await page.locator('p.secret code').textContent()) ?? '').replace(/\s+/g, '');
    assert.match(secret, /^[A-Z2-7]{16,}$/);
    await assertAccessible(page, 'the TOTP enrolment');
    await page.getByLabel(/^Codi de 6 xifres/).fill(totpCode(secret, env.clock.now()));
    await page.getByRole('button', { name: 'Activa' }).click();
    await page.getByRole('heading', { level: 1, name: 'Expedients' }).waitFor();

    await page.getByRole('link', { name: 'Nou expedient' }).click();
    await page.getByRole('heading', { level: 1, name: 'Nou expedient' }).waitFor();
    await page.getByLabel(/^Títol/).fill('Pressupost municipal 2026');
    await page.getByRole('button', { name: "Crea l'expedient" }).click();
    await page.getByRole('heading', { level: 1, name: 'Pressupost municipal 2026' }).waitFor();
    assert.match(page.url(), new RegExp(`/app/e/${entity.slug}/expedients/[0-9a-f-]+$`));
    await page.getByText('2026/000001').first().waitFor();
    await assertAccessible(page, 'the first case file of the new entity');
  });
});
