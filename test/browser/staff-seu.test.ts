/**
 * NOT in `npm test` (CI time: ~70 s of the 20-minute budget): run it with
 * `node --test test/browser/staff-seu.extra.ts` after changing the staff seu pages. It passed on
 * 2026-11-30; it returns to the suite once the browser files share one Chromium and one server.
 *
 * The staff side of the seu in a real browser (test/helpers/browser.ts: Debian's Chromium through
 * playwright-core, axe-core on every new page), in Abella de la Conca, whose calendar has Good
 * Friday (2026-04-03) and Easter Monday (2026-04-06) as holidays, on a clock the test sets:
 * - a case handler notifies a party of a case file from its "Notificacions" tab: electronic is
 *   refused for a party who neither is obliged nor chose it, paper is made; an absent first attempt
 *   on Thursday 2026-04-02 at 09:15 is recorded, a second one at 11:00 the same morning is refused
 *   (the other half of the day), one on Wednesday 2026-04-08 at 17:00 is accepted and the
 *   notification fails, then is sent for publication;
 * - the handler publishes a case file's PDF on the notice board and finds it listed, in force;
 * - an administrator records a technical incident of the seu and sets the seu's creating act;
 * - a registrar records an apud acta power of attorney and finds it by the representative's NIF.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import type { Browser, Page } from 'playwright-core';
import { noRequest, systemActor } from '#platform/context.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { createTenant } from '#modules/tenancy/tenancy.service.ts';
import { buildServer } from '#src/server.ts';
import { assertAccessible, browserSuite, launchChromium, logIn, newPage } from '#test/helpers/browser.ts';
import {
  makeUser,
  openTestEnv,
  type TestEnv,
  type TestUser,
  TestClock,
  tokenHeaders,
} from '#test/helpers/harness.ts';
import { multipart } from '#test/helpers/multipart.ts';
import { ensureWebBuilt } from '../../scripts/ensure-web.ts';

async function makePdf(text: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const page = doc.addPage();
  page.drawText(text, { x: 50, y: 700, size: 12, font: await doc.embedFont(StandardFonts.Helvetica) });
  return Buffer.from(await doc.save());
}

describe('staff pages of the seu in Chromium', browserSuite(), () => {
  let env: TestEnv;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  let tenant: Tenant;
  let handler: TestUser;
  let admin: TestUser;
  let registrar: TestUser;
  let expedientId: string;
  let expedientNumber: string;
  let page: Page;

  before(async () => {
    await ensureWebBuilt({ quiet: true });
    // Thursday 2 April 2026, 09:00 in Madrid. Sessions outlive the clock's jumps of a few days.
    env = await openTestEnv({
      clock: new TestClock('2026-04-02T09:00:00+02:00'),
      config: { sessionIdleMinutes: 60 * 24 * 30, sessionMaxHours: 24 * 30 },
    });
    app = await buildServer(env, { logger: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    assert.ok(address && typeof address === 'object');
    base = `http://127.0.0.1:${address.port}`;
    tenant = await env.db.platform((tx) =>
      createTenant(
        tx,
        { actor: systemActor, request: noRequest, clock: env.clock },
        {
          kind: 'ajuntament',
          name: 'Ajuntament d’Abella de la Conca',
          dir3: 'L01250019',
          ine: '25001',
          comarca: 'Pallars Jussà',
          status: 'live',
        },
      ),
    );
    handler = await makeUser(env, { tenant, roles: ['handler'], name: 'Anna Vidal' });
    admin = await makeUser(env, { tenant, roles: ['admin'], totp: true, name: 'Núria Soler' });
    registrar = await makeUser(env, { tenant, roles: ['registrar'], name: 'Jordi Pla' });

    // The case file, its interested party (who has not chosen electronic notification) and a PDF.
    const api = `/api/v1/entities/${tenant.slug}`;
    const h = await tokenHeaders(env, handler);
    const party = await app.inject({
      method: 'POST',
      url: `${api}/parties`,
      headers: h,
      payload: {
        identifier: '00000002W',
        name: 'Bernat',
        surname1: 'Prova',
        address: { street: 'Carrer Major, 3', postalCode: '25651', municipality: 'Abella de la Conca' },
      },
    });
    assert.equal(party.statusCode, 201, party.body);
    const exp = await app.inject({
      method: 'POST',
      url: `${api}/expedients`,
      headers: h,
      payload: {
        title: 'Requeriment d’esmena d’una llicència',
        parties: [{ partyId: party.json().id, role: 'applicant' }],
      },
    });
    assert.equal(exp.statusCode, 201, exp.body);
    expedientId = exp.json().id;
    expedientNumber = exp.json().number;
    const form = multipart(
      { title: 'Resolució de requeriment', documentType: 'TD01' },
      { name: 'requeriment.pdf', type: 'application/pdf', data: await makePdf('Resolucio de requeriment') },
    );
    const up = await app.inject({
      method: 'POST',
      url: `${api}/expedients/${expedientId}/documents`,
      headers: { ...h, ...form.headers },
      payload: form.body,
    });
    assert.equal(up.statusCode, 201, up.body);

    browser = await launchChromium();
    page = await newPage(browser);
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await env?.close();
  });

  it('a handler notifies a party on paper after electronic is refused for them', async () => {
    await logIn(page, { base, env }, handler);
    await page.goto(`${base}/app/e/${tenant.slug}/expedients/${expedientId}?tab=notifications`);
    await page.getByRole('tab', { name: 'Notificacions', selected: true }).waitFor();
    await page.getByText('Aquest expedient encara no té cap notificació.').waitFor();

    await page.getByLabel(/^Bernat Prova \(00000002W\)/).check();
    // The party's record says why electronic is not possible; the API refuses it in words.
    await page.getByText('No ha triat la notificació electrònica').waitFor();
    await page.getByLabel('Canal per a Bernat Prova').selectOption('electronic');
    await page.getByLabel(/Resolució de requeriment/).check();
    await page.getByLabel(/^Assumpte/).fill('Requeriment d’esmena');
    await page.getByLabel(/^Text de l'acte/).fill('RESOLC: Requerir l’esmena de la sol·licitud en deu dies.');
    await page.getByLabel('No, no posa fi a la via administrativa').check();
    await page.getByLabel('Recurs 1', { exact: true }).fill('Recurs de reposició');
    await page.getByLabel("Òrgan davant del qual s'interposa (recurs 1)", { exact: true }).fill('Alcaldia');
    await page.getByLabel('Termini (recurs 1)', { exact: true }).fill('Un mes');
    await page.getByRole('button', { name: 'Notifica', exact: true }).click();
    await page
      .getByRole('alert')
      .getByText("Un interessat no està obligat a la notificació electrònica ni l'ha triada")
      .waitFor();
    await page
      .getByText(
        "Bernat Prova no està obligat a la notificació electrònica ni l'ha triada: notifiqueu-lo en paper.",
      )
      .waitFor();
    assert.equal(await page.getByLabel('Canal per a Bernat Prova').getAttribute('aria-invalid'), 'true');
    await assertAccessible(page, 'the notify form with the channel refused');

    await page.getByLabel('Canal per a Bernat Prova').selectOption('paper');
    await page.getByRole('button', { name: 'Notifica', exact: true }).click();
    await page.getByText("S'ha notificat 1 interessat.").waitFor();
    const card = page.getByRole('article', { name: /Requeriment d’esmena/ });
    await card.locator('.badge', { hasText: 'Posada a disposició' }).waitFor();
    assert.match((await card.textContent()) ?? '', /Paper/);
    assert.match((await card.textContent()) ?? '', /S\/2026\/000001/);
  });

  it('records an absent attempt, sees a second one refused in the same half of the day and accepted days later, then sends it for publication', async () => {
    env.clock.set('2026-04-02T09:30:00+02:00');
    const card = page.getByRole('article', { name: /Requeriment d’esmena/ });
    await card.getByRole('button', { name: 'Registra un intent: Bernat Prova' }).click();
    await card.getByRole('heading', { name: 'Primer intent de lliurament' }).waitFor();
    await card.getByLabel('Absent', { exact: true }).check();
    await card.getByLabel(/^Data i hora de l'intent/).fill('2026-04-02T09:15');
    await card.getByRole('button', { name: "Registra l'intent" }).click();
    await card.getByText("S'ha registrat l'intent. Estat de la notificació: Posada a disposició.").waitFor();
    await card.getByText(/Intent 1: .* · absent/).waitFor();
    await card.getByRole('heading', { name: 'Segon intent de lliurament' }).waitFor();

    // 11:00 the same morning: both before 15:00.
    env.clock.set('2026-04-02T12:00:00+02:00');
    await card.getByLabel('Absent', { exact: true }).check();
    await card.getByLabel(/^Data i hora de l'intent/).fill('2026-04-02T11:00');
    await card.getByRole('button', { name: "Registra l'intent" }).click();
    await card
      .getByRole('alert')
      .getByText("El segon intent s'ha de fer en l'altra franja del dia", { exact: false })
      .waitFor();
    await assertAccessible(page, 'the paper attempt form with its refusal');

    // Wednesday 8 April at 17:00: the third business day after Thursday (Good Friday, Easter Monday).
    env.clock.set('2026-04-08T18:00:00+02:00');
    await card.getByLabel(/^Data i hora de l'intent/).fill('2026-04-08T17:00');
    await card.getByRole('button', { name: "Registra l'intent" }).click();
    await card.getByText("S'ha registrat l'intent. Estat de la notificació: Infructuosa.").waitFor();
    await card.locator('.badge', { hasText: 'Infructuosa' }).waitFor();
    const evidence = card.getByRole('link', { name: 'Evidència: notificació infructuosa (PDF segellat)' });
    await evidence.waitFor();
    assert.match(
      (await evidence.getAttribute('href')) ?? '',
      /\/notifications\/[0-9a-f-]+\/evidence\/failed$/,
    );

    await card.getByRole('button', { name: 'Envia a publicar: Bernat Prova' }).click();
    await card.locator('.badge', { hasText: 'Enviada a publicar' }).waitFor();
    await card.getByText(/Enviada per publicar al BOE/).waitFor();
  });

  it('publishes the case file’s PDF on the notice board and finds it listed', async () => {
    await page
      .getByRole('navigation', { name: 'Navegació principal' })
      .getByRole('link', { name: "Tauler d'edictes" })
      .click();
    await page.getByRole('heading', { level: 1, name: "Tauler d'edictes" }).waitFor();
    await page.getByText('No hi ha cap publicació.').waitFor();

    await page.getByLabel(/^Expedient/).selectOption(expedientId);
    await page.getByLabel(/^Document/).selectOption({ label: '1. Resolució de requeriment' });
    await page.getByLabel(/^Data d'inici/).fill('2026-04-08');
    await page.getByLabel(/^Termini/).fill('20');
    await page.getByLabel('Unitat').selectOption('business_days');
    await page.getByLabel(/^Títol/).fill('Edicte de notificació a DNI 00000002W');
    await page.getByLabel(/^Resum/).fill('Notificació per edicte d’un requeriment d’esmena.');
    // Without the review of personal data: refused in words next to the box, which gets the focus.
    await page.getByRole('button', { name: 'Publica', exact: true }).click();
    await page.getByText('Cal confirmar que heu revisat les dades personals del document.').waitFor();
    await page.getByLabel(/^He revisat que el document/).check();
    await page.getByRole('button', { name: 'Publica', exact: true }).click();
    await page.getByText(/S'ha publicat «Edicte de notificació a DNI 00000002W» del/).waitFor();

    const row = page.getByRole('row', { name: /Edicte de notificació a DNI 00000002W/ });
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    assert.match(text, /Publicada/);
    assert.match(text, /20 dies hàbils/);
    assert.match(text, new RegExp(expedientNumber.replace('/', '\\/')));
    // The published title masks the identifier (LOPDGDD AP7).
    assert.match(text, /Es publica com: Edicte de notificació a DNI \*\*\*0000\*\*/);
    await assertAccessible(page, 'the notice board with a publication');
  });

  it('an administrator records an incident of the seu and sets the seu’s creating act', async () => {
    const adminPage = await newPage(browser);
    await logIn(adminPage, { base, env }, admin);
    const nav = adminPage.getByRole('navigation', { name: 'Navegació principal' });
    await nav.getByRole('link', { name: 'Incidències de la seu' }).click();
    await adminPage.getByRole('heading', { level: 1, name: 'Incidències de la seu' }).waitFor();
    await adminPage.getByText("No s'ha registrat cap incidència.").waitFor();
    await adminPage.getByLabel(/^Inici/).fill('2026-04-08T10:00');
    await adminPage.getByLabel(/^Fi/).fill('2026-04-08T11:30');
    await adminPage.getByLabel(/^Descripció/).fill('Caiguda del servidor de la seu electrònica');
    await adminPage.getByLabel('Sí, la seu no estava disponible').check();
    await adminPage.getByLabel("Se n'ha decidit una ampliació de terminis").check();
    await adminPage.getByLabel(/^Decisió d'ampliació/).fill('Decret 2026/000031: amplia un dia els terminis');
    await adminPage.getByLabel("Dies d'ampliació").fill('1');
    await adminPage.getByRole('button', { name: 'Registra la incidència' }).click();
    await adminPage.getByText("S'ha registrat la incidència.").waitFor();
    const row = adminPage.getByRole('row', { name: /Caiguda del servidor/ });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /Decret 2026\/000031.*1 dia més/);
    await assertAccessible(adminPage, 'the incidents page');

    await nav.getByRole('link', { name: 'Seu electrònica' }).click();
    await adminPage.getByRole('heading', { level: 1, name: 'Seu electrònica' }).waitFor();
    await adminPage.getByRole('button', { name: 'Desa la configuració' }).waitFor();
    await assertAccessible(adminPage, 'the seu settings page');
    await adminPage.getByLabel(/^Acte \(/).fill('Decret d’Alcaldia 2026/000012');
    // A section with some fields needs its required ones: refused before sending.
    await adminPage.getByRole('button', { name: 'Desa la configuració' }).click();
    await adminPage.getByText(/Cal omplir aquest camp per publicar la secció/).waitFor();
    await adminPage.getByLabel(/^Data \(/).fill('2026-01-15');
    await adminPage.getByRole('button', { name: 'Desa la configuració' }).click();
    await adminPage.getByText("S'ha desat la configuració de la seu.").waitFor();
    await adminPage.close();
  });

  it('a registrar records an apud acta power of attorney and finds it by the representative', async () => {
    const regPage = await newPage(browser);
    await logIn(regPage, { base, env }, registrar);
    // Only administrators see the seu's settings in the navigation.
    const nav = regPage.getByRole('navigation', { name: 'Navegació principal' });
    assert.equal(await nav.getByRole('link', { name: 'Seu electrònica' }).count(), 0);
    await nav.getByRole('link', { name: 'Representacions' }).click();
    await regPage.getByRole('heading', { level: 1, name: 'Representacions' }).waitFor();
    await regPage.getByText('No hi ha cap apoderament.').waitFor();

    const represented = regPage.getByRole('group', { name: 'Persona representada' });
    await represented.getByLabel(/^NIF o NIE/).fill('00000002W');
    await represented.getByLabel(/^Nom i cognoms/).fill('Bernat Prova');
    const representative = regPage.getByRole('group', { name: 'Representant' });
    await representative.getByLabel(/^NIF o NIE/).fill('12345678Z');
    await representative.getByLabel(/^Nom i cognoms/).fill('Maria Puig');
    await regPage.getByRole('button', { name: "Registra l'apoderament" }).click();
    await regPage.getByText("S'ha registrat l'apoderament de Bernat Prova a Maria Puig.").waitFor();

    await regPage.getByLabel('NIF o NIE (representat o representant)').fill('12345678Z');
    await regPage.getByRole('button', { name: 'Cerca', exact: true }).click();
    await regPage.getByRole('heading', { name: 'Apoderaments de 12345678Z' }).waitFor();
    const row = regPage.getByRole('row', { name: /Bernat Prova/ });
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    assert.match(text, /Maria Puig/);
    assert.match(text, /General/);
    assert.match(text, /apud acta/);
    assert.match(text, /Vigent/);
    await assertAccessible(regPage, 'the representations page with a power');
    await regPage.close();
  });
});
