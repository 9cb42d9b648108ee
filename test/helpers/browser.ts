import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { it } from 'node:test';
import axe from 'axe-core';
import type { FastifyInstance } from 'fastify';
import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { buildServer } from '#src/server.ts';
import { currentTotp, openTestEnv, type TestEnv, type TestUser } from '#test/helpers/harness.ts';
import { ensureWebBuilt } from '../../scripts/ensure-web.ts';

/**
 * What the browser tests (test/browser/) share: the web app served on a random port, Debian's
 * Chromium driven by playwright-core (never a downloaded browser), a Catalan page of the usual
 * size, logging in through the login form (with the TOTP step for a user who has it), and axe-core
 * checking a page for serious or critical WCAG 2.1 A/AA violations.
 *
 * Without Chromium (below) a suite is skipped with a message,
 * except under CI=true, where that is a failing test.
 */

/**
 * Debian's chromium-headless-shell (the browser without its windowing layer, made for automation:
 * about a quarter less CPU per browser test than the full browser in headless mode) when installed,
 * else Debian's chromium; LLIGALL_CHROMIUM chooses another.
 */
export const CHROMIUM =
  process.env.LLIGALL_CHROMIUM ||
  (fs.existsSync('/usr/bin/chromium-headless-shell')
    ? '/usr/bin/chromium-headless-shell'
    : '/usr/bin/chromium');
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
const missing = `Chromium not found at ${CHROMIUM}: install it (apt-get install chromium-headless-shell) or set LLIGALL_CHROMIUM`;

/**
 * The options of a browser suite's `describe`: skipped with a message when Chromium is missing.
 * Call it at the top level of the file: under CI=true a missing Chromium also adds a failing test.
 */
export function browserSuite(): { skip: string | false } {
  if (!haveChromium && process.env.CI === 'true') {
    it('browser test needs Chromium under CI', () => {
      assert.fail(missing);
    });
  }
  return { skip: haveChromium ? false : missing };
}

/** axe-core's source, injected into a page's document once (our pages have no iframes). */
const AXE_SOURCE = axe.source;
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

/**
 * Runs axe-core on the page as it is and fails on any serious or critical WCAG 2.1 A/AA
 * violation. axe is injected once per document (a single-page app keeps it across its own
 * navigations) and asked for violations only: @axe-core/playwright re-injected it and opened a
 * blank page for every check, which made the checks most of the browser tests' CI time.
 */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  const injected = await page.evaluate(() => 'axe' in globalThis);
  if (!injected) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(
    async (tags) =>
      (
        await (globalThis as unknown as { axe: typeof axe }).axe.run({
          runOnly: { type: 'tag', values: tags },
          resultTypes: ['violations'],
        })
      ).violations,
    AXE_TAGS,
  );
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const report = bad
    .map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`)
    .join('\n');
  assert.equal(bad.length, 0, `axe found serious or critical violations on ${what}:\n${report}`);
}

/** A test environment and its server listening on a random loopback port. */
export type WebServer = { env: TestEnv; app: FastifyInstance; base: string };

/**
 * Builds the web app if needed (the server serves web/dist only if it exists when it starts), then
 * starts a server. With `publicUrl`, the server knows its own URL before it is built (the demo
 * OpenID provider at /idp sends the browser back to it, and e-mails carry links to it): it then
 * listens on a port chosen beforehand.
 */
export async function startWebServer(opts: { publicUrl?: boolean } = {}): Promise<WebServer> {
  await ensureWebBuilt({ quiet: true });
  const port = opts.publicUrl ? await freePort() : 0;
  const base = `http://127.0.0.1:${port}`;
  const env = await openTestEnv(opts.publicUrl ? { config: { publicUrl: base, port } } : {});
  const app = await buildServer(env, { logger: false });
  await app.listen({ port, host: '127.0.0.1' });
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  return { env, app, base: `http://127.0.0.1:${address.port}` };
}

/** A loopback port free now. */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const address = srv.address();
  assert.ok(address && typeof address === 'object');
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return address.port;
}

/** Closes what `startWebServer` and `launchChromium` opened (any of them may be missing if `before` failed). */
export async function stopAll(browser: Browser | undefined, server: WebServer | undefined): Promise<void> {
  await browser?.close();
  await server?.app.close();
  await server?.env.close();
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** A page in a new browser context (its own cookies): 1280×900, Catalan, `timeout` ms for each wait (15 s). */
export async function newPage(
  browser: Browser,
  opts: { timeout?: number; context?: BrowserContextOptions } = {},
): Promise<Page> {
  const ctx = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: 'ca-ES',
    ...opts.context,
  });
  const page = await ctx.newPage();
  page.setDefaultTimeout(opts.timeout ?? 15_000);
  // An uncaught error in the page is what a failing wait usually hides: print it.
  page.on('pageerror', (e) => console.error(`[page error] ${page.url()}: ${e.message}`));
  return page;
}

/**
 * Logs in through the login form at `from` (default /app/login), answering the TOTP step with the
 * current code when the user has TOTP, and waits for the case files list (or the `landing` page's
 * h1: a console user with no entity lands on the console).
 */
export async function logIn(
  page: Page,
  server: Pick<WebServer, 'base' | 'env'>,
  user: TestUser,
  opts: { from?: string; landing?: string } = {},
): Promise<void> {
  await page.goto(`${server.base}${opts.from ?? '/app/login'}`);
  await page.getByLabel("Nom d'usuari").fill(user.username);
  await page.getByLabel('Contrasenya').fill(user.password);
  await page.getByRole('button', { name: 'Entra' }).click();
  if (user.totpSecret) {
    // A TOTP code is accepted once: move to the next step, past any code used before.
    server.env.clock.advance(31_000);
    await page.getByLabel(/^Codi de verificació/).fill(currentTotp(server.env, user));
    await page.getByRole('button', { name: 'Verifica' }).click();
  }
  await page.getByRole('heading', { level: 1, name: opts.landing ?? 'Expedients' }).waitFor();
}
