/**
 * Signing by upload and the demo label in a real browser (issue 4 items 2b and 2c). Set-up
 * through the API: a signer with TOTP and a NIF, an outside CA the operator trusts, a text
 * draft in a CAdES circuit and a PDF draft signed through the demo CSC service. In Chromium the
 * signer opens the text draft, chooses "Signa fora i puja", gives a `.p7s` made by
 * `openssl cms -sign` with their own certificate, confirms with a TOTP code, and sees the circuit
 * completed and a trusted signature that is not labelled demo, with a link to the signature file;
 * the demo-signed PDF's report labels its signature "demo — no qualificada". axe on each page.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { PDFDocument } from 'pdf-lib';
import type { Browser, Page } from 'playwright-core';
import { cliActor, noRequest } from '#platform/context.ts';
import {
  createSelfSignedCa,
  exportPkcs8,
  generateSigningKeyPair,
  issueSigningCertificate,
} from '#platform/crypto/certs.ts';
import { setUserNif } from '#modules/identity/user-nif.ts';
import { addTrustedCa } from '#modules/signatures/trusted-cas.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { buildServer } from '#src/server.ts';
import {
  currentTotp,
  makeTenant,
  makeUser,
  openTestEnv,
  TestClock,
  type TestEnv,
  type TestUser,
  tokenHeaders,
} from '#test/helpers/harness.ts';
import { assertAccessible, browserSuite, launchChromium } from '#test/helpers/browser.ts';
import { multipart } from '#test/helpers/multipart.ts';
import { tmpDir } from '#test/helpers/pdf-tools.ts';
import { ensureWebBuilt } from '../../scripts/ensure-web.ts';

const DAY = 86400_000;
const NIF = '12345678Z';
const TEXT = Buffer.from('Acta de la comissió informativa\r\n', 'utf8');

describe('signing by upload in Chromium', browserSuite(), () => {
  let env: TestEnv;
  let app: FastifyInstance;
  let browser: Browser;
  let base: string;
  let tenant: Tenant;
  let signer: TestUser;
  let textDoc: string;
  let pdfDoc: string;
  let p7sFile: string;

  before(async () => {
    await ensureWebBuilt({ quiet: true });
    // An hour back: the certificates issued now are valid for openssl at the real time.
    env = await openTestEnv({ clock: new TestClock(new Date(Date.now() - 3600_000)) });
    app = await buildServer(env, { logger: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    assert.ok(address && typeof address === 'object');
    base = `http://127.0.0.1:${address.port}`;
    tenant = await makeTenant(env);
    signer = await makeUser(env, { tenant, roles: ['handler'], totp: true });
    const op = { actor: cliActor, request: noRequest, clock: env.clock };
    await env.db.platform((tx) => setUserNif(tx, op, signer.username, NIF));

    // The signer's own certificate, from a CA the operator trusts; the .p7s made by openssl.
    const now = env.clock.now();
    const caKeys = await generateSigningKeyPair();
    const caPem = await createSelfSignedCa({
      subject: [
        ['C', 'ES'],
        ['O', 'Prestador de prova'],
        ['CN', 'Prestador de prova CA'],
      ],
      keys: caKeys,
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + 365 * DAY),
    });
    await addTrustedCa(env.db, op, { pem: caPem, label: 'Prestador de prova' });
    const keys = await generateSigningKeyPair();
    const certPem = await issueSigningCertificate({
      subject: [
        ['C', 'ES'],
        ['serialNumber', `IDCES-${NIF}`],
        ['CN', `SIGNANT DE PROVA - NIF ${NIF}`],
      ],
      publicKey: keys.publicKey,
      issuerCertificatePem: caPem,
      issuerPrivateKey: caKeys.privateKey,
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + 365 * DAY),
    });
    const dir = tmpDir('browser-p7s');
    fs.writeFileSync(path.join(dir, 'acta.txt'), TEXT);
    fs.writeFileSync(path.join(dir, 'cert.pem'), certPem);
    fs.writeFileSync(
      path.join(dir, 'key.pem'),
      `-----BEGIN PRIVATE KEY-----\n${(await exportPkcs8(keys.privateKey)).toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`,
    );
    p7sFile = path.join(dir, 'acta.txt.p7s');
    execFileSync('openssl', [
      'cms',
      '-sign',
      '-binary',
      '-md',
      'sha256',
      '-outform',
      'DER',
      '-in',
      path.join(dir, 'acta.txt'),
      '-signer',
      path.join(dir, 'cert.pem'),
      '-inkey',
      path.join(dir, 'key.pem'),
      '-out',
      p7sFile,
    ]);

    const headers = await tokenHeaders(env, signer);
    const api = `/api/v1/entities/${tenant.slug}`;
    const exp = await app.inject({
      method: 'POST',
      url: `${api}/expedients`,
      headers,
      payload: { title: 'Comissió informativa' },
    });
    assert.equal(exp.statusCode, 201, exp.body);
    const drafts: string[] = [];
    const pdf = await PDFDocument.create();
    pdf.addPage().drawText('Informe', { x: 50, y: 780, size: 12 });
    for (const [name, type, data] of [
      ['acta.txt', 'text/plain', TEXT],
      ['informe.pdf', 'application/pdf', Buffer.from(await pdf.save())],
    ] as const) {
      const form = multipart({ title: name, documentType: 'TD11', draft: 'true' }, { name, type, data });
      const d = await app.inject({
        method: 'POST',
        url: `${api}/expedients/${exp.json().id}/documents`,
        headers: { ...headers, ...form.headers },
        payload: form.body,
      });
      assert.equal(d.statusCode, 201, d.body);
      const c = await app.inject({
        method: 'POST',
        url: `${api}/documents/${d.json().id}/circuit`,
        headers,
        payload: { steps: [{ kind: 'sign', mode: 'all', signers: [signer.id] }] },
      });
      assert.equal(c.statusCode, 201, c.body);
      drafts.push(d.json().id);
    }
    [textDoc, pdfDoc] = drafts as [string, string];
    // The PDF is signed through the demo CSC service.
    env.clock.advance(31_000);
    const signed = await app.inject({
      method: 'POST',
      url: `${api}/documents/${pdfDoc}/sign`,
      headers,
      payload: { totp: currentTotp(env, signer) },
    });
    assert.equal(signed.statusCode, 200, signed.body);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await env?.close();
  });

  async function login(user: TestUser): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ca-ES' });
    const page = await ctx.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(`${base}/app/login`);
    await page.getByLabel("Nom d'usuari").fill(user.username);
    await page.getByLabel('Contrasenya').fill(user.password);
    await page.getByRole('button', { name: 'Entra' }).click();
    env.clock.advance(31_000);
    await page.getByLabel(/^Codi de verificació/).fill(currentTotp(env, user));
    await page.getByRole('button', { name: 'Verifica' }).click();
    await page.getByRole('heading', { level: 1, name: 'Expedients' }).waitFor();
    return page;
  }

  it('uploads a .p7s signed elsewhere, confirms with TOTP, and the report shows it trusted, not demo; the demo signature is labelled', async () => {
    const page = await login(signer);
    await page.goto(`${base}/app/e/${tenant.slug}/documents/${textDoc}`);
    await page.getByRole('heading', { level: 1, name: 'Signatures del document' }).waitFor();
    const circuit = page.getByRole('region', { name: 'Circuit de signatures' });
    await circuit.getByRole('button', { name: 'Signa fora i puja' }).click();
    // No file: the form says so and stays.
    await circuit.getByRole('button', { name: 'Continua' }).click();
    await circuit.getByText('Trieu el fitxer signat.').waitFor();
    await circuit.getByLabel(/^Fitxer signat/).setInputFiles(p7sFile);
    await assertAccessible(page, 'the upload form');
    await circuit.getByRole('button', { name: 'Continua' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirmeu la signatura pujada' });
    await dialog.waitFor();
    env.clock.advance(31_000);
    await dialog.getByLabel(/^Codi de verificació/).fill(currentTotp(env, signer));
    await dialog.getByRole('button', { name: 'Signa' }).click();
    await circuit.getByText('Completat').waitFor();
    await circuit.getByText("S'ha registrat la vostra actuació.").waitFor();
    await circuit.getByText(/· signatura pujada/).waitFor();

    const report = page.getByRole('region', { name: 'Informe de verificació' });
    await report.getByText('Signat: totes les signatures són vàlides i de confiança.').waitFor();
    const row = report.getByRole('table', { name: 'Signatures del document' }).locator('tbody tr');
    assert.equal(await row.count(), 1);
    await row.getByRole('cell', { name: /SIGNANT DE PROVA/ }).waitFor();
    await row.getByRole('cell', { name: 'De confiança', exact: true }).waitFor();
    assert.equal(await row.getByText('demo — no qualificada').count(), 0);
    const link = row.getByRole('link', { name: /^Baixa la signatura/ });
    const href = await link.getAttribute('href');
    const file = await page.request.get(`${base}${href}`);
    assert.equal(file.status(), 200);
    assert.ok(
      Buffer.from(await file.body()).equals(fs.readFileSync(p7sFile)),
      'the file uploaded, as it came',
    );
    await assertAccessible(page, 'the document signed by upload');

    await page.goto(`${base}/app/e/${tenant.slug}/documents/${pdfDoc}`);
    const demoReport = page.getByRole('region', { name: 'Informe de verificació' });
    await demoReport.getByText(/s'han fet amb claus de demostració/).waitFor();
    const demoRow = demoReport.getByRole('table', { name: 'Signatures del document' }).locator('tbody tr');
    await demoRow.getByText('demo — no qualificada').waitFor();
    await demoRow.getByRole('cell', { name: 'Dins del document' }).waitFor();
    await assertAccessible(page, 'a document with a demo signature');
  });
});
