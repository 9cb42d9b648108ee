/**
 * Batch signing from the signature inbox in a real browser (issue 4 acceptance: "Batch signing of
 * 20 documents from the inbox, with one confirmation, works in a browser test"). Set-up through
 * the API: an entity, a case file and 20 PDF drafts, each with a one-step circuit for one user
 * with TOTP. In Chromium that user opens "Signatures pendents", selects all 20, confirms once
 * with a TOTP code and sees 20 signed; the inbox is then empty, and one document's page shows a
 * completed circuit and a verification report with a valid, trusted signature. axe on each page.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { PDFDocument } from 'pdf-lib';
import type { Browser, Page } from 'playwright-core';
import { appointHolder, createPosition } from '#modules/positions/positions.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { type Ctx, noRequest } from '#platform/context.ts';
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
import {
  currentTotp,
  makeTenant,
  makeUser,
  type TestEnv,
  type TestUser,
  tokenHeaders,
} from '#test/helpers/harness.ts';
import { multipart } from '#test/helpers/multipart.ts';

const COUNT = 20;

async function pdf(text: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage().drawText(text, { x: 50, y: 780, size: 12 });
  return Buffer.from(await doc.save());
}

describe('signature inbox in Chromium', browserSuite(), () => {
  let server: WebServer;
  let env: TestEnv;
  let app: FastifyInstance;
  let browser: Browser;
  let base: string;
  let tenant: Tenant;
  let signer: TestUser;
  let admin: TestUser;
  let outsider: TestUser;
  const documents: string[] = [];
  let expedientId: string;

  before(async () => {
    server = await startWebServer();
    ({ env, app, base } = server);
    tenant = await makeTenant(env);
    signer = await makeUser(env, { tenant, roles: ['handler'], totp: true, name: 'Laia Serra' });
    // A user of another entity: never offered as a signer here.
    outsider = await makeUser(env, { tenant: await makeTenant(env), roles: ['handler'], name: 'Pere Forà' });
    const headers = await tokenHeaders(env, signer);
    const api = `/api/v1/entities/${tenant.slug}`;
    const exp = await app.inject({
      method: 'POST',
      url: `${api}/expedients`,
      headers,
      payload: { title: 'Certificats de convivència' },
    });
    assert.equal(exp.statusCode, 201, exp.body);
    expedientId = exp.json().id;
    admin = await makeUser(env, { tenant, roles: ['admin'], totp: true, name: 'Núria Soler' });
    await env.db.tenant(tenant.id, async (tx) => {
      const ctx: Ctx = {
        tenant: {
          id: tenant.id,
          dir3: tenant.dir3,
          slug: tenant.slug,
          name: tenant.name,
          status: tenant.status,
        },
        actor: { kind: 'user', id: admin.id, label: admin.username, platformRoles: [] },
        roles: ['admin'],
        request: noRequest,
        clock: env.clock,
      };
      const mayor = await createPosition(tx, ctx, { kind: 'mayor', title: "L'alcaldessa" });
      await appointHolder(tx, ctx, mayor.id, { userId: signer.id, validFrom: '2020-01-01' });
    });
    for (let i = 1; i <= COUNT; i++) {
      const title = `Certificat ${String(i).padStart(2, '0')}`;
      const form = multipart(
        { title, documentType: 'TD11', draft: 'true' },
        { name: 'certificat.pdf', type: 'application/pdf', data: await pdf(title) },
      );
      const draft = await app.inject({
        method: 'POST',
        url: `${api}/expedients/${exp.json().id}/documents`,
        headers: { ...headers, ...form.headers },
        payload: form.body,
      });
      assert.equal(draft.statusCode, 201, draft.body);
      const circuit = await app.inject({
        method: 'POST',
        url: `${api}/documents/${draft.json().id}/circuit`,
        headers,
        payload: { steps: [{ kind: 'sign', mode: 'all', signers: [signer.id] }] },
      });
      assert.equal(circuit.statusCode, 201, circuit.body);
      documents.push(draft.json().id);
    }
    browser = await launchChromium();
  });

  async function draftInCircuit(title: string): Promise<string> {
    const headers = await tokenHeaders(env, signer);
    const form = multipart(
      { title, documentType: 'TD11', draft: 'true' },
      { name: 'doc.pdf', type: 'application/pdf', data: await pdf(title) },
    );
    const d = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${tenant.slug}/expedients/${expedientId}/documents`,
      headers: { ...headers, ...form.headers },
      payload: form.body,
    });
    assert.equal(d.statusCode, 201, d.body);
    const c = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${tenant.slug}/documents/${d.json().id}/circuit`,
      headers,
      payload: { steps: [{ kind: 'sign', mode: 'all', signers: [signer.id] }] },
    });
    assert.equal(c.statusCode, 201, c.body);
    return d.json().id;
  }

  after(() => stopAll(browser, server));

  async function login(user: TestUser): Promise<Page> {
    const page = await newPage(browser, { timeout: 30_000 });
    await logIn(page, server, user);
    return page;
  }

  it('signs 20 documents from the inbox with one TOTP confirmation', async () => {
    const page = await login(signer);
    await page
      .getByRole('navigation', { name: 'Navegació principal' })
      .getByRole('link', { name: 'Signatures pendents' })
      .click();
    await page.getByRole('heading', { level: 1, name: 'Signatures pendents' }).waitFor();
    const table = page.getByRole('table', { name: `${COUNT} documents pendents de signatura` });
    await table.waitFor();
    assert.equal(await table.locator('tbody tr').count(), COUNT);
    await table.getByRole('link', { name: 'Certificat 01', exact: true }).waitFor();
    await assertAccessible(page, 'the signature inbox');

    await page.getByLabel("Selecciona'ls tots").check();
    await page.getByText(`${COUNT} documents seleccionats`).waitFor();
    await page.getByRole('button', { name: 'Signa els seleccionats' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirmeu la signatura' });
    await dialog.waitFor();
    const code = dialog.getByLabel(/^Codi de verificació/);
    assert.equal(
      await code.evaluate((el) => el === el.ownerDocument.activeElement),
      true,
      'focus is in the field',
    );
    await assertAccessible(page, 'the confirmation dialog');
    env.clock.advance(31_000); // the login used the current code: one TOTP code confirms one act
    await code.fill(currentTotp(env, signer));
    await dialog.getByRole('button', { name: `Signa ${COUNT} documents` }).click();

    const results = page.getByRole('region', { name: 'Resultat de la signatura' });
    await results.getByText(`S'han signat ${COUNT} documents.`).waitFor();
    // Focus moves to the results once the dialog closes.
    await page.waitForFunction("document.activeElement?.id === 'batch-results'");
    assert.equal(await results.getByRole('listitem').filter({ hasText: 'signat' }).count(), COUNT);
    assert.equal(await results.getByText(/no s'ha pogut|no s'han pogut/).count(), 0);
    await page.getByText('No teniu cap signatura pendent.').waitFor();
    await assertAccessible(page, 'the inbox after signing');

    const pending = await app.inject({
      method: 'GET',
      url: '/api/v1/me/signatures/pending',
      headers: await tokenHeaders(env, signer),
    });
    assert.deepEqual(pending.json(), []);

    await page.goto(`${base}/app/e/${tenant.slug}/documents/${documents[6]}`);
    await page.getByRole('heading', { level: 1, name: 'Signatures del document' }).waitFor();
    const circuit = page.getByRole('region', { name: 'Circuit de signatures' });
    await circuit.getByText('Completat').waitFor();
    const report = page.getByRole('region', { name: 'Informe de verificació' });
    await report.getByText('Signat: totes les signatures són vàlides i de confiança.').waitFor();
    const row = report.getByRole('table', { name: 'Signatures del document' }).locator('tbody tr');
    assert.equal(await row.count(), 1);
    await row.getByRole('cell', { name: 'Íntegra' }).waitFor();
    await row.getByRole('cell', { name: 'De confiança', exact: true }).waitFor();
    await row.getByRole('cell', { name: 'PAdES-B-B' }).waitFor();
    // The sealed report: a link that downloads a PDF in the interface's language.
    const pdfLink = report.getByRole('link', { name: "Baixa l'informe segellat (PDF)" });
    const href = (await pdfLink.getAttribute('href')) ?? '';
    assert.match(href, new RegExp(`/documents/${documents[6]}/verification\\.pdf\\?lang=ca$`));
    const [download] = await Promise.all([page.waitForEvent('download'), pdfLink.click()]);
    const saved = await download.path();
    assert.equal(fs.readFileSync(saved).subarray(0, 5).toString('latin1'), '%PDF-');
    await assertAccessible(page, 'the document signatures page');
    await page.context().close();
  });

  it('a draft uploaded to the case file goes through a circuit built in the editor: a position signs, a review confirms', async () => {
    const page = await login(signer);
    await page.goto(`${base}/app/e/${tenant.slug}/expedients/${expedientId}?tab=documents`);
    await page.getByLabel(/^Títol del document/).fill('Decret de prova');
    await page.getByLabel(/^Fitxer/).setInputFiles({
      name: 'decret.pdf',
      mimeType: 'application/pdf',
      buffer: await pdf('Decret de prova'),
    });
    await page.getByLabel(/^Esborrany per signar/).check();
    await page.getByRole('button', { name: 'Incorpora el document' }).click();
    await page.getByRole('link', { name: 'Prepara el circuit de signatures de Decret de prova' }).click();
    await page.getByRole('heading', { level: 1, name: 'Signatures del document' }).waitFor();

    const editor = page.getByRole('region', { name: 'Circuit de signatures' });
    const step1 = editor.getByRole('group', { name: 'Pas 1' });
    await step1.getByLabel('Càrrec').selectOption({ index: 1 });
    await step1.getByRole('button', { name: 'Afegeix el càrrec' }).click();
    await step1
      .getByRole('list', { name: 'Signants del pas 1' })
      .getByText(/L'alcaldessa \(avui hi actua/)
      .waitFor();
    await editor.getByRole('button', { name: 'Afegeix un pas' }).click();
    const step2 = editor.getByRole('group', { name: 'Pas 2' });
    await step2.getByLabel('Tipus de pas').selectOption('review');
    // Adding a user with nobody chosen: said in words next to the list.
    await step2.getByRole('button', { name: "Afegeix l'usuari" }).click();
    await step2.getByText('Trieu un usuari de la llista.').waitFor();
    // The entity's members by name and username, never another entity's user.
    const laia = `Laia Serra (${signer.username})`;
    const who = step2.getByLabel(/^Usuari/);
    await who.locator('option', { hasText: laia }).waitFor({ state: 'attached' });
    assert.deepEqual(await who.locator('option').allTextContents(), [
      'Trieu un usuari…',
      laia,
      `Núria Soler (${admin.username})`,
    ]);
    assert.ok(!(await who.textContent())?.includes(outsider.username));
    await who.selectOption({ label: laia });
    await step2.getByRole('button', { name: "Afegeix l'usuari" }).click();
    await step2.getByRole('list', { name: 'Signants del pas 2' }).getByText(laia).waitFor();
    await assertAccessible(page, 'the circuit editor');
    await editor.getByRole('button', { name: 'Inicia el circuit' }).click();

    const circuit = page.getByRole('region', { name: 'Circuit de signatures' });
    await circuit.getByText('En curs').waitFor();
    // The reviewer is shown by name, not by account identifier.
    await circuit.getByText(new RegExp(`^${laia.replace(/[()]/g, '\\$&')}: pendent`)).waitFor();
    assert.ok(!(await circuit.textContent())?.includes(signer.id));
    await assertAccessible(page, 'an active circuit');
    await circuit.getByRole('button', { name: 'Signa', exact: true }).click();
    let dialog = page.getByRole('dialog', { name: 'Confirmeu la signatura' });
    env.clock.advance(31_000);
    await dialog.getByLabel(/^Codi de verificació/).fill(currentTotp(env, signer));
    await dialog.getByRole('button', { name: 'Signa', exact: true }).click();
    await circuit.getByText("S'ha registrat la vostra actuació.").waitFor();
    await page.waitForFunction("document.activeElement?.id === 'circuit-title'");

    await circuit.getByRole('button', { name: 'Confirma la revisió' }).click();
    dialog = page.getByRole('dialog', { name: 'Confirmeu la signatura' });
    env.clock.advance(31_000);
    await dialog.getByLabel(/^Codi de verificació/).fill(currentTotp(env, signer));
    await dialog.getByRole('button', { name: 'Confirma la revisió' }).click();
    await circuit.getByText('Completat').waitFor();

    const report = page.getByRole('region', { name: 'Informe de verificació' });
    await report.getByText('Signat: totes les signatures són vàlides i de confiança.').waitFor();
    const rows = report.getByRole('table', { name: 'Signatures del document' }).locator('tbody tr');
    assert.equal(await rows.count(), 1, 'the review added no signature');
    await rows.getByRole('cell', { name: /L'alcaldessa/ }).waitFor();
    await page.context().close();
  });

  it('a batch shows each failure in words; a signer rejects with a reason; the creator cancels', async () => {
    const kept = await draftInCircuit('Informe que se signa');
    const stopped = await draftInCircuit('Informe que es cancel·la');
    const rejected = await draftInCircuit('Informe que es rebutja');
    const page = await login(signer);
    await page.goto(`${base}/app/signatures`);
    const table = page.getByRole('table', { name: '3 documents pendents de signatura' });
    await table.waitFor();
    // The circuit stops after the inbox was read: that document fails, the others are signed.
    const cancel = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${tenant.slug}/documents/${stopped}/circuit/cancel`,
      headers: await tokenHeaders(env, signer),
      payload: {},
    });
    assert.equal(cancel.statusCode, 200, cancel.body);
    await table.getByLabel('Selecciona Informe que se signa').check();
    await table.getByLabel('Selecciona Informe que es cancel·la').check();
    await page.getByRole('button', { name: 'Signa els seleccionats' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirmeu la signatura' });
    env.clock.advance(31_000);
    await dialog.getByLabel(/^Codi de verificació/).fill(currentTotp(env, signer));
    await dialog.getByRole('button', { name: 'Signa 2 documents' }).click();
    const results = page.getByRole('region', { name: 'Resultat de la signatura' });
    await results.getByText("S'ha signat 1 document. 1 document no s'ha pogut signar.").waitFor();
    await results
      .getByRole('listitem')
      .filter({ hasText: 'Informe que se signa' })
      .getByText('signat')
      .waitFor();
    await results
      .getByRole('listitem')
      .filter({ hasText: 'Informe que es cancel·la' })
      .getByText('El circuit ja ha acabat: ningú no hi pot actuar.')
      .waitFor();
    await assertAccessible(page, 'batch results with a failure');
    const pending = await app.inject({
      method: 'GET',
      url: '/api/v1/me/signatures/pending',
      headers: await tokenHeaders(env, signer),
    });
    assert.deepEqual(
      (pending.json() as { documentId: string }[]).map((i) => i.documentId),
      [rejected],
      `${kept} was signed and ${stopped} stopped`,
    );

    await page.goto(`${base}/app/e/${tenant.slug}/documents/${rejected}`);
    const circuit = page.getByRole('region', { name: 'Circuit de signatures' });
    await circuit.getByText('En curs').waitFor();
    await circuit.getByRole('button', { name: 'Rebutja', exact: true }).click();
    await circuit.getByLabel('Motiu del rebuig').fill("Falta l'informe tècnic");
    await circuit.getByRole('button', { name: 'Rebutja el document' }).click();
    await circuit.getByText("S'ha rebutjat el document; el circuit s'ha aturat.").waitFor();
    await circuit.getByText(/Rebutjat — Falta l'informe tècnic/).waitFor();

    const other = await draftInCircuit('Informe que el creador cancel·la');
    // The creator reminds the pending signer, who sees the reminder in the inbox.
    await page.goto(`${base}/app/e/${tenant.slug}/documents/${other}`);
    await circuit.getByRole('button', { name: 'Recorda-ho als signants' }).click();
    await page.getByText("S'ha enviat un recordatori a 1 signant.").waitFor();
    await page.goto(`${base}/app/signatures`);
    await page
      .getByRole('row', { name: /Informe que el creador cancel·la/ })
      .getByText(/^Recordatori: /)
      .waitFor();
    await page.goto(`${base}/app/e/${tenant.slug}/documents/${other}`);
    await circuit.getByRole('button', { name: 'Cancel·la el circuit' }).click();
    await circuit.getByText("S'ha cancel·lat el circuit.").waitFor();
    await circuit.getByText('Cancel·lat', { exact: true }).waitFor();
    assert.equal(await circuit.getByRole('button', { name: 'Signa', exact: true }).count(), 0);
    await page.context().close();
  });
});
