/**
 * The seu electrònica in a real browser (issue 5, items 3 and 8; acceptance: accessibility and the
 * official time). For Catalan and Spanish (Abella de la Conca) and Aranese (Arres, in the Val
 * d'Aran, where Aranese comes first without choosing it), every page of the seu declares its
 * language in <html lang>, has one h1 and a title naming it, and reflows at 320 px wide with no
 * horizontal scrolling; axe finds no serious or critical WCAG 2.1 A/AA violation on every page in
 * all three languages. With the browser's clock days wrong, the official date and time shown are
 * the server's (TestClock).
 * A citizen logs in through the demo OpenID provider, files a generic request with two attachments
 * from the keyboard, downloads its receipt (pdfsig: valid), finds it in La meva carpeta (and a
 * registrar finds the entry in the registry book), and opens a notification
 * (sender and subject only until she accesses it; then the act and its document).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { noRequest, systemActor } from '#platform/context.ts';
import { ensureEntitySeal, getInstallationCaPem } from '#modules/seals/seals.service.ts';
import { putSeuSettings } from '#modules/seu/seu.service.ts';
import type { SeuSettings } from '#modules/seu/seu.model.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { type CreateTenantInput, createTenant } from '#modules/tenancy/tenancy.service.ts';
import {
  assertAccessible,
  browserSuite,
  launchChromium,
  startWebServer,
  stopAll,
  type WebServer,
} from '#test/helpers/browser.ts';
import { makeUser, type TestEnv, tokenHeaders } from '#test/helpers/harness.ts';
import { multipart } from '#test/helpers/multipart.ts';
import { nssDbTrusting, pdfsig, pdftotext } from '#test/helpers/pdf-tools.ts';

/** Every page of the seu, by its path under /seu/<slug>/ (linked from the header or the footer). */
const PAGES = [
  '',
  'procediments',
  'calendari',
  'tauler',
  'incidencies',
  'verificacio',
  'informacio',
  'accessibilitat',
  'privadesa',
  'carpeta',
];

/** A 1×1 PNG and a small PDF (the server checks each file's first bytes). */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);

const SETTINGS: SeuSettings = {
  contact: {
    address: 'Plaça Major, 1',
    postalCode: '25651',
    town: 'Abella de la Conca',
    phone: '973 68 00 00',
    email: 'ajuntament@abella.example',
    web: 'https://abella.example',
  },
  creationAct: { reference: "Decret d'Alcaldia 2026/000012", date: '2026-01-15', url: null },
  genericRequest: null,
  accessibility: {
    status: 'partial',
    statementDate: '2026-02-01',
    reviewedOn: null,
    nonAccessibleContent: 'Alguns PDF antics no estan etiquetats.',
    complaintsEmail: 'accessibilitat@abella.example',
    complaintsPhone: '973 68 00 01',
    complaintsUrl: null,
  },
  privacy: {
    dpoName: null,
    dpoEmail: 'dpd@abella.example',
    purposes: ['Tramitar les sol·licituds i els expedients'],
    legalBasis: 'RGPD art. 6.1.e',
    retention: null,
    rightsChannel: 'Per la seu electrònica o al registre',
  },
};

describe('the seu electrònica in Chromium', browserSuite(), () => {
  let server: WebServer;
  let env: TestEnv;
  let browser: Browser;
  let base: string;
  let abella: Tenant;
  let arres: Tenant;

  const tenant = (input: CreateTenantInput) =>
    env.db.platform((tx) =>
      createTenant(tx, { actor: systemActor, request: noRequest, clock: env.clock }, input),
    );

  before(async () => {
    server = await startWebServer({ publicUrl: true });
    ({ env, base } = server);
    // The server's official time: Monday 2 March 2026, 10:00 in Lleida (09:00 UTC).
    env.clock.set('2026-03-02T09:00:00Z');
    abella = await tenant({
      kind: 'ajuntament',
      name: 'Ajuntament d’Abella de la Conca',
      dir3: 'L01250019',
      ine: '25001',
      comarca: 'Pallars Jussà',
      status: 'live',
    });
    // Arres is in the Val d'Aran: its language is Aranese (data/seed: comarca Aran).
    arres = await tenant({
      kind: 'ajuntament',
      name: 'Ajuntament d’Arres',
      dir3: 'L01250313',
      ine: '25031',
      comarca: 'Aran',
      language: 'oc-aranes',
      status: 'live',
    });
    await ensureEntitySeal(env, abella.id);
    for (const t of [abella, arres]) {
      await env.db.tenant(t.id, (tx) =>
        putSeuSettings(
          tx,
          {
            tenant: { id: t.id, dir3: t.dir3, slug: t.slug, name: t.name, status: t.status },
            actor: systemActor,
            roles: ['admin'],
            request: noRequest,
            clock: env.clock,
          },
          SETTINGS,
        ),
      );
    }
    browser = await launchChromium();
  });

  after(async () => {
    await stopAll(browser, server);
  });

  /** A 320 px wide page (WCAG 1.4.10 reflow) in its own context. */
  async function narrowPage(): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 320, height: 800 }, locale: 'ca-ES' });
    const page = await ctx.newPage();
    page.setDefaultTimeout(15_000);
    return page;
  }

  /** Checks the page shown: language, one h1 named in the title, no horizontal scrolling, axe. */
  async function checkPage(page: Page, lang: string, what: string, axe = true): Promise<void> {
    const h1 = page.locator('h1');
    await h1.first().waitFor();
    await page.locator('p[role=status]').first().waitFor({ state: 'detached' });
    assert.equal(await h1.count(), 1, `${what}: one h1`);
    const heading = (await h1.textContent())?.trim() ?? '';
    assert.ok(heading.length > 0, `${what}: h1 has text`);
    assert.equal(await page.evaluate('document.documentElement.lang'), lang, `${what}: <html lang>`);
    assert.ok(
      (await page.title()).startsWith(heading),
      `${what}: title "${await page.title()}" names "${heading}"`,
    );
    const width = Number(await page.evaluate('document.documentElement.scrollWidth'));
    assert.ok(width <= 320, `${what}: scrollWidth ${width} > 320 (horizontal scrolling)`);
    if (axe) await assertAccessible(page, what);
  }

  /** Every page of a seu, moving through its own links (as a visitor does). */
  async function visitAll(
    page: Page,
    slug: string,
    lang: string,
    axeOn: readonly string[] = PAGES,
  ): Promise<void> {
    for (const p of PAGES) {
      const href = `/seu/${slug}/${p}`;
      await page.locator(`a[href="${href}"]`).first().click();
      await page.waitForURL(`${base}${href}`);
      await checkPage(page, lang, `${lang} ${href}`, axeOn.includes(p));
      // The notice board asks search engines not to index it; the other pages do not.
      const meta = page.locator('meta[name=robots]');
      const robots = (await meta.count()) > 0 ? await meta.getAttribute('content') : null;
      assert.equal(robots, p === 'tauler' ? 'noindex, nofollow' : null, `${lang} ${href}: robots`);
    }
  }

  it('Catalan: every page is accessible, declares ca and reflows at 320 px; the skip link comes first', async () => {
    const page = await narrowPage();
    await page.goto(`${base}/seu/${abella.slug}/`);
    await checkPage(page, 'ca', 'ca home');
    assert.equal(await page.locator('h1').textContent(), 'Ajuntament d’Abella de la Conca');
    // Keyboard: the first Tab reaches the skip link, which moves to the main content.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Vés al contingut principal');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate('document.activeElement?.id'), 'main');
    // Offered languages: Catalan and Spanish only (not an Aran entity), Catalan chosen.
    const langs = page.getByRole('navigation', { name: 'Llengua' }).getByRole('button');
    assert.deepEqual(await langs.allTextContents(), ['Català', 'Español']);
    assert.equal(await langs.first().getAttribute('aria-pressed'), 'true');
    await visitAll(page, abella.slug, 'ca');
    // What the administrator entered is shown; the generic request shows the legal default term.
    await page.locator(`a[href="/seu/${abella.slug}/procediments"]`).first().click();
    await page.getByText('3 mesos').waitFor();
    await page.locator(`a[href="/seu/${abella.slug}/informacio"]`).first().click();
    await page.getByText("Decret d'Alcaldia 2026/000012").waitFor();
    await page.locator(`a[href="/seu/${abella.slug}/calendari"]`).first().click();
    await page.getByRole('heading', { level: 1, name: 'Calendari de dies inhàbils 2026' }).waitFor();
    await page.getByText('dilluns 25/05/2026').waitFor();
    await page.context().close();
  });

  it('Spanish, chosen with the switcher from the keyboard: every page declares es', async () => {
    const page = await narrowPage();
    await page.goto(`${base}/seu/${abella.slug}/`);
    await page.locator('h1').waitFor();
    await page.getByRole('button', { name: 'Español' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'Trámites' }).first().waitFor();
    assert.equal(await page.evaluate('document.documentElement.lang'), 'es');
    // Every page in Spanish, axe included (the acceptance asks for all three languages).
    await visitAll(page, abella.slug, 'es');
    // The choice is remembered on the next visit.
    await page.goto(`${base}/seu/${abella.slug}/calendari`);
    await page.getByRole('heading', { level: 1, name: 'Calendario de días inhábiles 2026' }).waitFor();
    await page.context().close();
  });

  it('Aranese comes first in the Val d’Aran: every page of Arres declares oc', async () => {
    const page = await narrowPage();
    await page.goto(`${base}/seu/${arres.slug}/`);
    await page.getByRole('link', { name: 'Tramits' }).first().waitFor();
    await checkPage(page, 'oc', 'oc home');
    const langs = page.getByRole('navigation', { name: 'Lengua' }).getByRole('button');
    assert.deepEqual(await langs.allTextContents(), ['Aranés', 'Català', 'Español']);
    await visitAll(page, arres.slug, 'oc');
    // Loaded directly, the board's page also says so in its HTTP answer.
    const board = await page.goto(`${base}/seu/${arres.slug}/tauler`);
    assert.equal(board?.headers()['x-robots-tag'], 'noindex, nofollow');
    await page.context().close();
  });

  it('an unknown seu says so, accessibly', async () => {
    const page = await narrowPage();
    await page.goto(`${base}/seu/no-such-entity/`);
    await page.getByRole('heading', { level: 1, name: "No s'ha trobat la seu electrònica" }).waitFor();
    await checkPage(page, 'ca', 'unknown seu');
    await page.context().close();
  });

  it('shows the server’s official date and time even when the browser’s clock is days wrong', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1024, height: 800 }, locale: 'ca-ES' });
    // The browser believes it is 3 days and 5 hours earlier than it is.
    await ctx.addInitScript(() => {
      const shift = -(3 * 24 + 5) * 3600_000;
      const RealDate = Date;
      class ShiftedDate extends RealDate {
        constructor(...args: unknown[]) {
          if (args.length === 0) super(RealDate.now() + shift);
          else super(...(args as [string]));
        }
        static override now(): number {
          return RealDate.now() + shift;
        }
      }
      globalThis.Date = ShiftedDate as DateConstructor;
    });
    const page = await ctx.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`${base}/seu/${abella.slug}/`);
    const wrong = await page.evaluate(() => new Date().toISOString().slice(0, 10));
    assert.notEqual(wrong, '2026-03-02', 'the browser clock is wrong');
    await page.locator('.official-time').waitFor();
    // The server's clock is frozen at 10:00:00 (TestClock); the page estimates the offset from the
    // request's round trip, so it may show a second or two either side of it, never the browser's day.
    const shown = async () => {
      const dt = (await page.locator('.official-time').getAttribute('datetime')) ?? '';
      return { dt, text: (await page.locator('.official-time').textContent()) ?? '' };
    };
    const first = await shown();
    assert.equal(await page.locator('.official-date').textContent(), '02/03/2026');
    const off = Math.abs(Date.parse(`${first.dt}Z`) - Date.parse('2026-03-02T10:00:00Z'));
    assert.ok(off <= 15_000, `official time ${first.dt} (${first.text}) is the server's 2026-03-02 10:00:00`);
    assert.match(first.text, /^02\/03\/2026 (09:59|10:00):[0-5]\d$/);
    // It keeps ticking from there (the browser's clock only measures the seconds that pass).
    await page.waitForFunction(
      (before) =>
        (
          globalThis as unknown as {
            document: { querySelector(s: string): { getAttribute(n: string): string | null } | null };
          }
        ).document
          .querySelector('.official-time')
          ?.getAttribute('datetime') !== before,
      first.dt,
    );
    const later = await shown();
    assert.ok(later.dt > first.dt && later.dt.startsWith('2026-03-02T'), `${later.dt} follows ${first.dt}`);
    await ctx.close();
  });

  it('a citizen logs in through OpenID Connect, files a generic request with two attachments from the keyboard, gets the receipt and finds it in the folder; a notification shows sender and subject until she accesses it; she grants and revokes a power', async () => {
    // The server's clock moves on from here (sessions and the registry follow it).
    env.clock.set('2026-03-02T09:05:00Z');
    const ctx = await browser.newContext({
      viewport: { width: 1024, height: 900 },
      locale: 'ca-ES',
      acceptDownloads: true,
    });
    const page = await ctx.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(`${base}/seu/${abella.slug}/carpeta`);
    const login = page.getByRole('link', { name: "Identifica't" });
    await login.focus();
    await page.keyboard.press('Enter');
    // The demo OpenID provider's page: the first demo citizen is chosen; submit from the keyboard.
    const enter = page.getByRole('button', { name: 'Entra' });
    await enter.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/seu/${abella.slug}/carpeta`);
    await page.getByText('Marta Exemple Demo').first().waitFor();
    await assertAccessible(page, 'folder (logged in)');

    const newRequest = page.getByRole('link', { name: 'Presenta una instància genèrica' });
    await newRequest.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Instància genèrica' }).waitFor();
    await page.getByLabel('Exposo').focus();
    await page.keyboard.type('Que sóc veïna del carrer Major, 3.');
    await page.keyboard.press('Tab');
    // The next stop after a textarea is the next field's textarea (labels and hints are not focusable).
    await page.getByLabel('Sol·licito').focus();
    await page.keyboard.type('Que es repari el fanal de davant de casa.');
    // A file chooser cannot be driven headless: the files are given to the focused input.
    const files = page.getByLabel('Documents adjunts');
    await files.focus();
    await files.setInputFiles([
      { name: 'foto.png', mimeType: 'image/png', buffer: PNG },
      { name: 'escrit.pdf', mimeType: 'application/pdf', buffer: PDF },
    ]);
    await page.getByText('foto.png').waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Revisa la sol·licitud');
    await assertAccessible(page, 'generic request form');
    await page.keyboard.press('Enter');
    // The review step: what will be registered, and focus on its heading.
    const review = page.getByRole('heading', { level: 2, name: 'Reviseu el que es presentarà' });
    await review.waitFor();
    await page.getByText('Que es repari el fanal de davant de casa.').first().waitFor();
    assert.equal(await page.locator('ol li').count(), 2);
    await assertAccessible(page, 'generic request review');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Presenta la sol·licitud');
    await page.keyboard.press('Enter');
    const done = page.getByRole('heading', { level: 2, name: /^Sol·licitud registrada: E\/2026\/\d{6}$/ });
    await done.waitFor();
    const number = ((await done.textContent()) ?? '').replace('Sol·licitud registrada: ', '');
    await assertAccessible(page, 'generic request done');
    // The receipt, downloaded at once from the keyboard: a PDF that transcribes the request.
    const receiptLink = page.getByRole('link', { name: `Descarrega el justificant de ${number}` });
    await receiptLink.focus();
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    const pdf = fs.readFileSync((await download.path()) ?? '');
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    const text = pdftotext(pdf).replace(/\s+/g, ' ');
    assert.ok(
      text.includes('Que es repari el fanal de davant de casa.'),
      'the receipt transcribes the request',
    );
    assert.ok(text.includes(number), 'the receipt names the entry');
    // pdfsig, trusting the installation CA, reports the receipt's seal valid.
    const sig = pdfsig(pdf, nssDbTrusting((await getInstallationCaPem(env.db))!));
    assert.match(sig.out, /Signature is Valid/, sig.out);
    // A registrar finds the entry in the registry book (input, electronic channel).
    const registrar = await tokenHeaders(env, await makeUser(env, { tenant: abella, roles: ['registrar'] }));
    const book = await server.app.inject({
      method: 'GET',
      url: `/api/v1/entities/${abella.slug}/registry?direction=E&q=${encodeURIComponent(number)}`,
      headers: registrar,
    });
    assert.equal(book.statusCode, 200, book.body);
    const entry = book.json().items.find((i: { number: string }) => i.number === number);
    assert.ok(entry, 'the registrar finds the filing in the registry book');
    assert.equal(entry.channel, 'electronic');
    // La meva carpeta lists the filing with its receipt.
    await page.goto(`${base}/seu/${abella.slug}/carpeta`);
    await page.getByRole('heading', { level: 3, name: `${number} · Instància genèrica` }).waitFor();
    await page.getByRole('link', { name: `Descarrega el justificant de ${number}` }).waitFor();

    // A handler notifies her, electronically (she chose it), in a case file where she is the applicant.
    const staff = await tokenHeaders(env, await makeUser(env, { tenant: abella, roles: ['handler'] }));
    const api = async (url: string, payload: unknown, headers: Record<string, string> = {}) => {
      const r = await server.app.inject({
        method: 'POST',
        url: `/api/v1/entities/${abella.slug}${url}`,
        headers: { ...staff, ...headers },
        payload: payload as string,
      });
      assert.ok(r.statusCode < 300, r.body);
      return r.json();
    };
    // Her filing made her a party of the entity (matched by NIF); she chose electronic notification.
    const found = await server.app.inject({
      method: 'GET',
      url: `/api/v1/entities/${abella.slug}/parties?identifier=11111111H`,
      headers: staff,
    });
    const party = (found.json().items as { id: string; identifier: string }[]).find(
      (p) => p.identifier === '11111111H',
    );
    assert.ok(party, found.body);
    const patched = await server.app.inject({
      method: 'PATCH',
      url: `/api/v1/entities/${abella.slug}/parties/${party.id}`,
      headers: staff,
      payload: {
        eNotification: 'chosen',
        eNotificationEvidence: 'Instància de la seu, casella de notificació electrònica',
      },
    });
    assert.equal(patched.statusCode, 200, patched.body);
    const expedient = await api('/expedients', {
      title: 'Reparació d’enllumenat',
      parties: [{ partyId: party.id, role: 'applicant' }],
    });
    const form = multipart(
      { title: 'Resolució de reparació', documentType: 'TD01' },
      { name: 'resolucio.pdf', type: 'application/pdf', data: PDF },
    );
    const doc = await api(`/expedients/${expedient.id}/documents`, form.body, form.headers);
    await api(`/expedients/${expedient.id}/notifications`, {
      subject: 'Resolució sobre el fanal',
      actText: 'RESOLC: Reparar el fanal del carrer Major, 3.',
      endsAdministrativeRoute: true,
      appeals: [{ appeal: 'Recurs potestatiu de reposició', body: 'Alcaldia', term: 'Un mes' }],
      documentIds: [doc.id],
      recipients: [{ partyId: party.id }],
    });
    await page.reload();
    await page.getByRole('heading', { level: 3, name: /Reparació d’enllumenat$/ }).waitFor();
    // Before she opens it: sender and subject, never the act.
    const subject = page.getByRole('link', { name: 'Resolució sobre el fanal' });
    await subject.waitFor();
    assert.equal(await page.getByText('RESOLC: Reparar el fanal').count(), 0);
    await assertAccessible(page, 'folder with a notification');
    await subject.focus();
    await page.keyboard.press('Enter');
    const access = page.getByRole('button', { name: 'Accedeix a la notificació' });
    await access.waitFor();
    assert.equal(await page.getByText('RESOLC: Reparar el fanal').count(), 0);
    await assertAccessible(page, 'notification before access');
    await access.focus();
    await page.keyboard.press('Enter');
    await page.getByText('RESOLC: Reparar el fanal del carrer Major, 3.').waitFor();
    await page.getByRole('link', { name: 'Resolució de reparació' }).waitFor();
    await assertAccessible(page, 'notification after access');

    // She grants Jordi a general power from her folder, then revokes it.
    await page.goto(`${base}/seu/${abella.slug}/carpeta`);
    await page.getByLabel('NIF o NIE del representant').focus();
    await page.keyboard.type('22222222J');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Jordi Prova Demo');
    await page.getByRole('button', { name: 'Atorga el poder' }).focus();
    await page.keyboard.press('Enter');
    const revoke = page.getByRole('button', { name: 'Revoca el poder de Jordi Prova Demo' });
    await revoke.waitFor();
    await assertAccessible(page, 'folder with a power granted');
    await revoke.focus();
    await page.keyboard.press('Enter');
    await revoke.waitFor({ state: 'detached' });
    await page.getByText(/Poder general · .* · revocat/).waitFor();
    await ctx.close();
  });
});
