import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { degrees, PDFDocument, StandardFonts } from 'pdf-lib';
import { noRequest } from '#platform/context.ts';
import type { Ctx } from '#platform/context.ts';
import { COPY_SEAL_MESSAGES } from '#modules/registry/copy-seal.messages.ts';
import { COPY_SEAL_JOB, enqueueCopySeal, sealPaperCopy } from '#modules/registry/copy-seal.service.ts';
import { digitisePaperOriginal } from '#modules/registry/desk.service.ts';
import { getInstallationCaPem } from '#modules/seals/seals.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { nssDbTrusting, pdfsig, pdftotext, tmpDir } from '#test/helpers/pdf-tools.ts';
import {
  loginHeaders,
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  type TestEnv,
  type TestUser,
} from '#test/helpers/harness.ts';

/**
 * The seal of the authentic copies made at the registry desk (LPACAP art. 27): every check of the
 * sealed PDF is made by independent tools (pdfsig with the installation CA trusted in an NSS
 * database, pdftotext, pdfinfo), never by our own code.
 */

let env: TestEnv;
let app: FastifyInstance;
let tenant: Tenant;
let other: Tenant;
let official: Record<string, string>;
let officialUser: TestUser;
let handler: Record<string, string>;
let otherHandler: Record<string, string>;
let base: string;
let otherBase: string;
let nssDir: string;
const OFFICIAL_NAME = 'Núria Ferrer i Solà';

type File = { name: string; type: string; data: Buffer };

function form(fields: Record<string, string>, files: File[] = []) {
  const boundary = `----lligall${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields))
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  for (const f of files)
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${f.name}"\r\nContent-Type: ${f.type}\r\n\r\n`,
      ),
      f.data,
      Buffer.from('\r\n'),
    );
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: Buffer.concat(parts),
  };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const flat = (s: string) => s.replace(/\s+/g, ' ');

async function makeEntry(headers: Record<string, string>, at = base): Promise<string> {
  const f = form({
    direction: 'E',
    heading: 'Instància presentada en paper',
    summary: 'Sol·licitud de llicència',
    channel: 'in_person',
    party: JSON.stringify({ identifier: '12345678Z', name: 'Joana', surname1: 'Puig' }),
  });
  const res = await app.inject({
    method: 'POST',
    url: `${at}/registry`,
    headers: { ...headers, ...f.headers },
    payload: f.body,
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id;
}

function digitise(headers: Record<string, string>, entryId: string, file: File, at = base) {
  const f = form({ description: 'Instància signada en paper' }, [file]);
  return app.inject({
    method: 'POST',
    url: `${at}/registry/${entryId}/digitisations`,
    headers: { ...headers, ...f.headers },
    payload: f.body,
  });
}

/** A "scan": three pages of different sizes, the second shown rotated, each with its own text. */
async function scannedPdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const sizes: [number, number][] = [
    [595.28, 841.89],
    [841.89, 595.28],
    [612, 792],
  ];
  sizes.forEach((size, i) => {
    const page = doc.addPage(size);
    page.drawText(`Full escanejat ${i + 1} de la instancia`, { x: 60, y: size[1] - 100, size: 14, font });
    // The scanned image reaches the page's foot: the stamp must not cover it.
    page.drawText(`Peu del full ${i + 1}`, { x: 60, y: 4, size: 10, font });
    if (i === 1) page.setRotation(degrees(90));
  });
  return Buffer.from(await doc.save());
}

/** A JPEG or PNG made by poppler's pdftoppm from a one-page PDF (an independent encoder). */
async function image(kind: 'jpeg' | 'png'): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage([300, 200]).drawText('Fotografia', { x: 20, y: 100, size: 24, font });
  const dir = tmpDir('img');
  const src = path.join(dir, 'src.pdf');
  fs.writeFileSync(src, await doc.save());
  execFileSync('pdftoppm', [`-${kind}`, '-r', '72', '-singlefile', src, path.join(dir, 'out')]);
  return fs.readFileSync(path.join(dir, kind === 'jpeg' ? 'out.jpg' : 'out.png'));
}

async function encryptedPdf(): Promise<Buffer> {
  const dir = tmpDir('enc');
  fs.writeFileSync(path.join(dir, 'in.pdf'), await scannedPdf());
  execFileSync('qpdf', ['--encrypt', 'usuari', 'propietari', '256', '--', 'in.pdf', 'out.pdf'], { cwd: dir });
  return fs.readFileSync(path.join(dir, 'out.pdf'));
}

function pdfPages(pdf: Buffer): number {
  const dir = tmpDir('pdfinfo');
  fs.writeFileSync(path.join(dir, 'd.pdf'), pdf);
  const out = execFileSync('pdfinfo', [path.join(dir, 'd.pdf')], { encoding: 'utf8' });
  return Number(/^Pages:\s+(\d+)/m.exec(out)![1]);
}

const sealedContent = (entryId: string, pid: string, headers = official, at = base) =>
  app.inject({
    method: 'GET',
    url: `${at}/registry/${entryId}/paper-originals/${pid}/sealed-content`,
    headers,
  });

async function trustedNss(): Promise<string> {
  if (!nssDir) {
    const ca = await getInstallationCaPem(env.db);
    assert.ok(ca, 'the installation CA exists once a demo seal was made');
    nssDir = nssDbTrusting(ca);
  }
  return nssDir;
}

function assertSealed(pdf: Buffer, nss: string) {
  const report = pdfsig(pdf, nss).out;
  assert.match(report, /Signature is Valid/, report);
  assert.match(report, /Certificate is Trusted/, report);
  assert.match(report, /ETSI\.CAdES\.detached/, report);
}

before(async () => {
  env = await openTestEnv({ config: { maxUploadBytes: 2 * 1024 * 1024 } });
  app = await makeServer(env);
  tenant = await makeTenant(env);
  other = await makeTenant(env);
  base = `/api/v1/entities/${tenant.slug}`;
  otherBase = `/api/v1/entities/${other.slug}`;
  const admin = await loginHeaders(app, env, await makeUser(env, { tenant, roles: ['admin'], totp: true }));
  officialUser = await makeUser(env, { tenant, roles: ['registrar'] });
  official = await loginHeaders(app, env, officialUser);
  handler = await loginHeaders(app, env, await makeUser(env, { tenant, roles: ['handler'] }));
  otherHandler = await loginHeaders(
    app,
    env,
    await makeUser(env, { tenant: other, roles: ['handler', 'registrar'] }),
  );
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Madrid' }).format(env.clock.now());
  const reg = await app.inject({
    method: 'POST',
    url: `${base}/authorised-officials`,
    headers: admin,
    payload: { userId: officialUser.id, scopes: ['copies'], validFrom: today, name: OFFICIAL_NAME },
  });
  assert.equal(reg.statusCode, 201, reg.body);
});
after(async () => {
  await app.close();
  await env.close();
});

describe('sealed authentic copies of paper (LPACAP art. 27)', () => {
  it('the message catalogues have the same keys in every language', () => {
    const keys = Object.values(COPY_SEAL_MESSAGES).map((m) => Object.keys(m).sort().join(','));
    assert.equal(new Set(keys).size, 1);
  });

  it('a digitised PDF gets a sealed copy: valid and trusted seal, the stamp with the CSV on every page, every page kept', async () => {
    const entryId = await makeEntry(official);
    const scan = await scannedPdf();
    const res = await digitise(official, entryId, {
      name: 'instancia.pdf',
      type: 'application/pdf',
      data: scan,
    });
    assert.equal(res.statusCode, 201, res.body);
    const po = res.json();
    assert.equal(po.sealStatus, 'sealed');
    assert.equal(po.sealProblem, null);
    assert.ok(po.sealedDocumentId);
    assert.match(po.sealedCsv, /^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
    // The copy itself never changes: same document, same bytes.
    assert.equal(po.copy.sha256, sha(scan));
    const copy = await app.inject({
      method: 'GET',
      url: `${base}/registry/${entryId}/paper-originals/${po.id}/content`,
      headers: official,
    });
    assert.ok(copy.rawPayload.equals(scan));

    const sealed = await sealedContent(entryId, po.id);
    assert.equal(sealed.statusCode, 200, sealed.body);
    assert.equal(sealed.headers['content-type'], 'application/pdf');
    const pdf = sealed.rawPayload;
    assertSealed(pdf, await trustedNss());
    assert.equal(pdfPages(pdf), 3, 'every page of the scan is there');
    const pages = pdftotext(pdf)
      .split('\f')
      .filter((p) => p.trim());
    assert.equal(pages.length, 3);
    pages.forEach((page, i) => {
      const text = flat(page);
      assert.match(text, new RegExp(`Full escanejat ${i + 1} de la instancia`));
      assert.match(text, new RegExp(`Peu del full ${i + 1}`));
      assert.ok(
        text.includes('Còpia electrònica autèntica de document en paper (Llei 39/2015, art. 27)'),
        text,
      );
      assert.ok(text.includes(`CSV ${po.sealedCsv}`), `page ${i + 1}: ${text}`);
      assert.match(text, /verificació a http:\/\/localhost:\d+\/verify/);
      assert.ok(text.includes(`segellat per ${tenant.name}`), text);
      assert.ok(text.includes(`feta per ${OFFICIAL_NAME} el `), text);
      assert.ok(text.includes(`Pàgina ${i + 1} de 3`), text);
    });

    // The sealed copy supersedes the copy; both are EE03 of citizen origin.
    const docs = await env.db.owner((tx) =>
      tx
        .selectFrom('documents')
        .select(['id', 'supersedes_id', 'elaboration_state', 'origin', 'sha256', 'mime_type'])
        .where('tenant_id', '=', tenant.id)
        .where('id', 'in', [po.copy.documentId, po.sealedDocumentId])
        .execute(),
    );
    const sealedRow = docs.find((d) => d.id === po.sealedDocumentId)!;
    assert.equal(sealedRow.supersedes_id, po.copy.documentId);
    assert.equal(sealedRow.elaboration_state, 'EE03');
    assert.equal(sealedRow.origin, 'citizen');
    assert.equal(sealedRow.sha256, sha(pdf));
    assert.equal(docs.find((d) => d.id === po.copy.documentId)!.sha256, sha(scan));

    // Anyone verifies it by its CSV, without logging in, and gets these very bytes.
    const verify = await app.inject({ method: 'GET', url: `/api/v1/verify/${po.sealedCsv}` });
    assert.equal(verify.statusCode, 200, verify.body);
    assert.equal(verify.json().document.sha256, sha(pdf));
    assert.equal(verify.json().entity.dir3, tenant.dir3);
    const content = await app.inject({ method: 'GET', url: `/api/v1/verify/${po.sealedCsv}/content` });
    assert.equal(content.statusCode, 200);
    assert.ok(content.rawPayload.equals(pdf));

    // The sealed copy is what joins a case file with the entry.
    const linked = await app.inject({
      method: 'POST',
      url: `${base}/registry/${entryId}/expedient`,
      headers: handler,
      payload: { new: { title: 'Amb la còpia segellada' } },
    });
    assert.equal(linked.statusCode, 201, linked.body);
    const incorporated = linked.json().incorporated as { sourceDocumentId: string; sha256: string }[];
    assert.equal(incorporated[0]!.sourceDocumentId, po.sealedDocumentId);
    assert.equal(incorporated[0]!.sha256, sha(pdf));
    assert.ok(!incorporated.some((d) => d.sha256 === sha(scan)), 'the unsealed scan is not in the file');

    // Sealing again changes nothing.
    const again = await app.inject({
      method: 'POST',
      url: `${base}/registry/${entryId}/paper-originals/${po.id}/seal`,
      headers: official,
    });
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(again.json().sealedDocumentId, po.sealedDocumentId);
    assert.equal(again.json().sealedCsv, po.sealedCsv);
  });

  it('a JPEG becomes a one-page sealed PDF with the stamp; a PNG too', async () => {
    const entryId = await makeEntry(official);
    for (const [kind, type] of [
      ['jpeg', 'image/jpeg'],
      ['png', 'image/png'],
    ] as const) {
      const data = await image(kind);
      const res = await digitise(official, entryId, { name: `foto.${kind}`, type, data });
      assert.equal(res.statusCode, 201, res.body);
      const po = res.json();
      assert.equal(po.sealStatus, 'sealed', res.body);
      assert.equal(po.copy.mimeType, type);
      assert.equal(po.copy.sha256, sha(data));
      const sealed = await sealedContent(entryId, po.id);
      assert.equal(sealed.statusCode, 200);
      assert.match(String(sealed.headers['content-disposition']), /foto-copia-autentica\.pdf/);
      const pdf = sealed.rawPayload;
      assertSealed(pdf, await trustedNss());
      assert.equal(pdfPages(pdf), 1);
      const text = flat(pdftotext(pdf));
      assert.ok(text.includes(`CSV ${po.sealedCsv}`), text);
      assert.ok(text.includes(`feta per ${OFFICIAL_NAME}`), text);
      // The image is in the page (poppler lists it).
      const dir = tmpDir('imgs');
      fs.writeFileSync(path.join(dir, 'd.pdf'), pdf);
      const images = execFileSync('pdfimages', ['-list', path.join(dir, 'd.pdf')], { encoding: 'utf8' });
      assert.equal(images.trim().split('\n').length, 3, images); // header, rule, one image
    }
  });

  it('an encrypted or broken PDF is not sealed: 201 with SCAN_NOT_SEALABLE, still pending, audited; /seal answers 422', async () => {
    const entryId = await makeEntry(official);
    const broken = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(700)]);
    for (const [name, data, reason] of [
      ['xifrat.pdf', await encryptedPdf(), /encrypted/],
      ['trencat.pdf', broken, /cannot/],
    ] as const) {
      const res = await digitise(official, entryId, { name, type: 'application/pdf', data });
      assert.equal(res.statusCode, 201, res.body);
      const po = res.json();
      assert.equal(po.sealStatus, 'pending');
      assert.equal(po.sealedDocumentId, null);
      assert.equal(po.sealProblem.code, 'SCAN_NOT_SEALABLE');
      assert.match(po.sealProblem.detail, reason);
      const seal = await app.inject({
        method: 'POST',
        url: `${base}/registry/${entryId}/paper-originals/${po.id}/seal`,
        headers: official,
      });
      assert.equal(seal.statusCode, 422, seal.body);
      assert.match(String(seal.headers['content-type']), /^application\/problem\+json/);
      assert.equal(seal.json().code, 'SCAN_NOT_SEALABLE');
      const dl = await sealedContent(entryId, po.id);
      assert.equal(dl.statusCode, 409, dl.body);
      assert.equal(dl.json().code, 'COPY_NOT_SEALED');
      const events = await env.db.owner((tx) =>
        sql<{ n: string }>`select count(*) as n from audit_events where tenant_id = ${tenant.id}
          and action = 'registry.paper_original_seal_fail' and details->>'paperOriginalId' = ${po.id}`.execute(
          tx,
        ),
      );
      assert.equal(Number(events.rows[0]!.n), 2, 'the attempt at digitisation and the one by /seal');
    }
    // The job enqueued with them finishes without retrying for ever.
    await env.db.owner((tx) =>
      sql`UPDATE pgboss.job SET start_after = now() WHERE name = ${COPY_SEAL_JOB} AND state = 'created'`.execute(
        tx,
      ),
    );
    await env.jobs.drain(COPY_SEAL_JOB);
    const left = await env.db.owner((tx) =>
      sql<{ n: string }>`select count(*) as n from pgboss.job where name = ${COPY_SEAL_JOB}
        and state in ('created','retry','active')`.execute(tx),
    );
    assert.equal(Number(left.rows[0]!.n), 0);
  });

  it('a TIFF copy stays not_applicable (kept as scanned)', async () => {
    const entryId = await makeEntry(official);
    const tiff = Buffer.concat([Buffer.from([0x49, 0x49, 0x2a, 0x00]), randomBytes(300)]);
    const res = await digitise(official, entryId, { name: 'plànol.tif', type: 'image/tiff', data: tiff });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().sealStatus, 'not_applicable');
    assert.equal(res.json().sealProblem, null);
    const dl = await sealedContent(entryId, res.json().id);
    assert.equal(dl.statusCode, 409);
    assert.equal(dl.json().code, 'COPY_NOT_SEALED');
  });

  it('a crash between the digitisation’s commit and the seal is completed by the job, once', async () => {
    const entryId = await makeEntry(official);
    const scan = await scannedPdf();
    const blob = await env.blobs.put(scan);
    // The digitisation commits with its job, and the process "dies" before sealing.
    const ctx: Ctx = {
      tenant: {
        id: tenant.id,
        dir3: tenant.dir3,
        slug: tenant.slug,
        name: tenant.name,
        status: tenant.status,
      },
      actor: { kind: 'user', id: officialUser.id, label: officialUser.username, platformRoles: [] },
      roles: ['registrar'],
      request: noRequest,
      clock: env.clock,
    };
    const po = await env.db.tenant(tenant.id, async (tx) => {
      const made = await digitisePaperOriginal(
        tx,
        ctx,
        entryId,
        { description: 'Escanejat abans d’una caiguda' },
        { fileName: 'caiguda.pdf', mimeType: 'application/pdf', sha256: blob.sha256, size: blob.size },
      );
      await enqueueCopySeal(env.jobs, tx, { tenantId: tenant.id, paperOriginalId: made.id });
      return made;
    });
    assert.equal(po.sealStatus, 'pending');
    const early = await sealedContent(entryId, po.id);
    assert.equal(early.statusCode, 409);
    // The job waits COPY_SEAL_JOB_DELAY_SECONDS before it is due; let that time pass.
    await env.db.owner((tx) =>
      sql`UPDATE pgboss.job SET start_after = now() WHERE name = ${COPY_SEAL_JOB} AND state = 'created'`.execute(
        tx,
      ),
    );
    assert.ok((await env.jobs.drain(COPY_SEAL_JOB)) >= 1);
    const list = await app.inject({
      method: 'GET',
      url: `${base}/registry/${entryId}/paper-originals`,
      headers: official,
    });
    const done = list.json().items.find((i: { id: string }) => i.id === po.id);
    assert.equal(done.sealStatus, 'sealed');
    const pdf = (await sealedContent(entryId, po.id)).rawPayload;
    assertSealed(pdf, await trustedNss());
    assert.equal(pdfPages(pdf), 3);
    // Running it again seals nothing new.
    const again = await sealPaperCopy(env, tenant.id, po.id);
    assert.equal(again.status, 'sealed');
    assert.equal(again.status === 'sealed' && again.created, false);
    assert.equal(again.status === 'sealed' && again.csv, done.sealedCsv);
    const seals = await env.db.owner((tx) =>
      sql<{ n: string }>`select count(*) as n from audit_events where tenant_id = ${tenant.id}
        and action = 'registry.paper_original_seal' and details->>'paperOriginalId' = ${po.id}`.execute(tx),
    );
    assert.equal(Number(seals.rows[0]!.n), 1);
  });

  it('another entity cannot seal or download a copy (404)', async () => {
    const entryId = await makeEntry(official);
    const res = await digitise(official, entryId, {
      name: 'i.pdf',
      type: 'application/pdf',
      data: await scannedPdf(),
    });
    assert.equal(res.statusCode, 201, res.body);
    const pid = res.json().id;
    const seal = await app.inject({
      method: 'POST',
      url: `${otherBase}/registry/${entryId}/paper-originals/${pid}/seal`,
      headers: otherHandler,
    });
    assert.equal(seal.statusCode, 404, seal.body);
    const dl = await sealedContent(entryId, pid, otherHandler, otherBase);
    assert.equal(dl.statusCode, 404, dl.body);
    const cross = await sealedContent(entryId, pid, otherHandler);
    assert.equal(cross.statusCode, 404, cross.body);
  });
});
