import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { madridDateOf } from '#modules/calendar/civil-date.ts';
import { insertDocument } from '#modules/documents/documents.service.ts';
import { issueReceipt, sweepDueReceipts } from '#modules/registry/receipt.service.ts';
import { recordResolution, revokeResolution } from '#modules/seals/resolutions.service.ts';
import { getInstallationCaPem } from '#modules/seals/seals.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  loginHeaders,
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  type TestEnv,
} from '#test/helpers/harness.ts';
import { multipart } from '#test/helpers/multipart.ts';
import {
  brokenBlobStore,
  entryWithoutReceipt as madeWithoutReceipt,
  tenantCtx,
} from '#test/helpers/registry.ts';
import {
  nssDbTrusting,
  opensslCmsPrint,
  opensslCmsVerify,
  pdfSignature,
  pdfsig,
  pdftotext,
} from '#test/helpers/pdf-tools.ts';

let env: TestEnv;
let app: FastifyInstance;
let tenant: Tenant;
let registrar: Record<string, string>;
let otherRegistrar: Record<string, string>;
let base: string;

const attachments = [
  {
    name: 'plànol.pdf',
    type: 'application/pdf',
    data: Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(3000)]),
  },
  { name: 'fotografia façana.jpg', type: 'image/jpeg', data: randomBytes(5000) },
];
const filedText =
  'EXPOSO: Que sóc propietària de l’habitatge del carrer Major, 12, i vull canviar-ne la teulada.\n' +
  'SOL·LICITO: Llicència d’obres menors per a la substitució de la coberta.';

async function file(headers: Record<string, string>, fields: Record<string, string>, files = attachments) {
  const m = multipart(fields, files);
  return app.inject({
    method: 'POST',
    url: `${base}/registry`,
    headers: { ...headers, ...m.headers },
    payload: m.body,
  });
}

let created: { id: string; number: string; receipt: { documentId: string; csv: string } };
let pdf: Buffer;
let caPem: string;

before(async () => {
  env = await openTestEnv();
  app = await makeServer(env);
  tenant = await makeTenant(env, { name: 'Ajuntament de la Pobla de Ségur' });
  registrar = await loginHeaders(app, env, await makeUser(env, { tenant, roles: ['registrar'] }));
  otherRegistrar = await loginHeaders(
    app,
    env,
    await makeUser(env, { tenant: await makeTenant(env), roles: ['registrar'] }),
  );
  base = `/api/v1/entities/${tenant.slug}`;
  const res = await file(registrar, {
    direction: 'E',
    heading: 'Llicència d’obres menors',
    summary: 'Sol·licitud de llicència per substituir la coberta de l’habitatge',
    channel: 'in_person',
    party: JSON.stringify({ identifier: '12345678Z', name: 'Núria Puigdemont i Çaldés', language: 'ca' }),
    text: filedText,
  });
  assert.equal(res.statusCode, 201, res.body);
  created = res.json();
  const r = await app.inject({
    method: 'GET',
    url: `${base}/registry/${created.id}/receipt`,
    headers: registrar,
  });
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.headers['content-type'], 'application/pdf');
  pdf = r.rawPayload;
  caPem = (await getInstallationCaPem(env.db))!;
  assert.ok(caPem, 'the installation CA exists once a demo seal was issued');
});
after(async () => {
  await app.close();
  await env.close();
});

describe('the registry receipt (justificant, LPACAP art. 16.3), sealed PAdES-B-B', () => {
  it('answers the new entry with its receipt, which GET shows too', async () => {
    assert.match(created.receipt.csv, /^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/);
    const v = await app.inject({ method: 'GET', url: `${base}/registry/${created.id}`, headers: registrar });
    assert.equal(v.json().receipt.csv, created.receipt.csv);
    assert.equal(v.json().receipt.documentId, created.receipt.documentId);
  });

  it('pdfsig: "Signature is Valid", and with the installation CA in NSS "Certificate is Trusted"', () => {
    const r = pdfsig(pdf, nssDbTrusting(caPem));
    assert.match(r.out, /Signature is Valid/, r.out);
    assert.match(r.out, /Certificate is Trusted/, r.out);
    assert.match(r.out, /ETSI\.CAdES\.detached/);
  });

  it('openssl cms: signing-certificate-v2 and no signing time; the CMS verifies against the CA', () => {
    const { cms, signedData } = pdfSignature(pdf);
    const printed = opensslCmsPrint(cms);
    assert.match(printed, /signingCertificateV2|1\.2\.840\.113549\.1\.9\.16\.2\.47/);
    assert.doesNotMatch(printed, /signingTime/);
    const v = opensslCmsVerify(cms, signedData, caPem);
    assert.equal(v.status, 0, v.out);
  });

  it('pdftotext shows every art. 16.3 field, the filed text and each attachment’s SHA-256 (equal to the file’s)', () => {
    const text = pdftotext(pdf).replace(/[ \t]+/g, ' ');
    for (const needle of [
      "Justificant de registre d'entrada",
      tenant.name,
      tenant.dir3,
      created.number,
      'Data i hora de presentació',
      'Data i hora de registre',
      'Data i hora als efectes',
      'Núria Puigdemont i Çaldés',
      '12345678Z',
      'Llicència d’obres menors',
      'Sol·licitud de llicència per substituir la coberta',
      'EXPOSO: Que sóc propietària',
      'SOL·LICITO: Llicència d’obres menors per a la substitució de la coberta.',
      'plànol.pdf',
      'fotografia façana.jpg',
      created.receipt.csv,
      '/verify',
      'NO QUALIFICAT',
    ])
      assert.ok(text.includes(needle), `the receipt shows ${needle}`);
    for (const a of attachments) {
      const sha = createHash('sha256').update(a.data).digest('hex');
      assert.ok(text.includes(sha), `the receipt lists ${a.name} with its SHA-256 ${sha}`);
    }
  });

  it('changing one byte of the signed range makes pdfsig fail', () => {
    const { byteRange } = pdfSignature(pdf);
    const tampered = Buffer.from(pdf);
    const at = Math.floor(byteRange[1]! / 2);
    tampered[at] = tampered[at]! ^ 0x20;
    assert.doesNotMatch(pdfsig(tampered, nssDbTrusting(caPem)).out, /Signature is Valid/);
  });

  it('is issued in the filer’s language: Spanish for a party who chose it', async () => {
    const res = await file(
      registrar,
      {
        direction: 'E',
        heading: 'Solicitud',
        summary: 'Solicitud de certificado de empadronamiento',
        channel: 'in_person',
        party: JSON.stringify({ identifier: 'X1234567L', name: 'José García', language: 'es' }),
      },
      [],
    );
    assert.equal(res.statusCode, 201, res.body);
    const r = await app.inject({
      method: 'GET',
      url: `${base}/registry/${res.json().id}/receipt`,
      headers: registrar,
    });
    const text = pdftotext(r.rawPayload).replace(/[ \t]+/g, ' ');
    assert.ok(text.includes('Justificante de registro de entrada'), text);
    assert.ok(text.includes('Fecha y hora de presentación'));
    assert.ok(text.includes('Ningún documento anexo.'));
  });

  it('another entity cannot fetch it (404)', async () => {
    const r = await app.inject({
      method: 'GET',
      url: `${base}/registry/${created.id}/receipt`,
      headers: otherRegistrar,
    });
    assert.equal(r.statusCode, 404);
  });
});

describe('public verification by CSV (LRJSP art. 42.b)', () => {
  it('GET /api/v1/verify/{csv} gives the receipt’s metadata, and its content byte for byte, without login', async () => {
    const typed = created.receipt.csv.toLowerCase().replaceAll('-', ' ');
    const r = await app.inject({ method: 'GET', url: `/api/v1/verify/${encodeURIComponent(typed)}` });
    assert.equal(r.statusCode, 200, r.body);
    const v = r.json();
    assert.equal(v.csv, created.receipt.csv);
    assert.deepEqual(v.entity, { name: tenant.name, dir3: tenant.dir3 });
    assert.equal(v.document.mimeType, 'application/pdf');
    assert.equal(v.document.sha256, createHash('sha256').update(pdf).digest('hex'));
    assert.equal(v.seal.qualified, false);
    const c = await app.inject({ method: 'GET', url: v.contentUrl });
    assert.equal(c.statusCode, 200);
    assert.ok(c.rawPayload.equals(pdf));
  });

  it('every verification is audited in the entity’s trail', async () => {
    const rows = await env.db.tenant(tenant.id, (tx) =>
      tx
        .selectFrom('audit_events')
        .select(['action', 'object_id', 'actor_label'])
        .where('tenant_id', '=', tenant.id)
        .where('action', 'in', ['csv.verify', 'csv.verify_content'])
        .execute(),
    );
    assert.ok(rows.some((r) => r.action === 'csv.verify' && r.object_id === created.receipt.documentId));
    assert.ok(rows.some((r) => r.action === 'csv.verify_content' && r.actor_label === 'public'));
  });

  it('a well-formed unknown CSV is 404 CSV_NOT_FOUND; a malformed one 400 CSV_INVALID', async () => {
    const unknown = await app.inject({ method: 'GET', url: '/api/v1/verify/ABCDE-FGHJK-MNPQR-STVWX' });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().code, 'CSV_NOT_FOUND');
    assert.match(unknown.headers['content-type'] as string, /application\/problem\+json/);
    const bad = await app.inject({ method: 'GET', url: '/api/v1/verify/NOT-A-CODE' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'CSV_INVALID');
  });

  it('a client above 30 attempts a minute gets 429; another client is not affected', async () => {
    const from = (ip: string) =>
      app.inject({ method: 'GET', url: '/api/v1/verify/ABCDE-FGHJK-MNPQR-STVWZ', remoteAddress: ip });
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await from('203.0.113.7')).statusCode);
    assert.deepEqual([...new Set(statuses.slice(0, 30))], [404]);
    assert.equal(statuses[30], 429);
    const limited = await from('203.0.113.7');
    assert.equal(limited.json().code, 'RATE_LIMITED');
    assert.equal((await from('203.0.113.8')).statusCode, 404);
  });
});

describe('entry attachments', () => {
  it('download byte for byte as filed, for members only', async () => {
    for (const [i, a] of attachments.entries()) {
      const r = await app.inject({
        method: 'GET',
        url: `${base}/registry/${created.id}/attachments/${i + 1}/content`,
        headers: registrar,
      });
      assert.equal(r.statusCode, 200, r.body);
      assert.ok(r.rawPayload.equals(a.data));
    }
    const missing = await app.inject({
      method: 'GET',
      url: `${base}/registry/${created.id}/attachments/3/content`,
      headers: registrar,
    });
    assert.equal(missing.statusCode, 404);
    const other = await app.inject({
      method: 'GET',
      url: `${base}/registry/${created.id}/attachments/1/content`,
      headers: otherRegistrar,
    });
    assert.equal(other.statusCode, 404);
  });
});

describe('a receipt lost to a crash', () => {
  const entryWithoutReceipt = async (heading: string) => (await madeWithoutReceipt(env, tenant, heading)).id;
  const dueRow = (entryId: string) =>
    env.db.platform((tx) =>
      tx
        .selectFrom('registry_receipts_due')
        .select(['attempts', 'last_error', 'due_at'])
        .where('tenant_id', '=', tenant.id)
        .where('entry_id', '=', entryId)
        .executeTakeFirst(),
    );

  it('is issued by the receipts sweeper once its delay has passed, once', async () => {
    const entryId = await entryWithoutReceipt('Presentada abans d’una caiguda');
    const view = () => app.inject({ method: 'GET', url: `${base}/registry/${entryId}`, headers: registrar });
    assert.equal((await view()).json().receipt, null);
    const early = await app.inject({
      method: 'GET',
      url: `${base}/registry/${entryId}/receipt`,
      headers: registrar,
    });
    assert.equal(early.statusCode, 404);
    assert.equal(early.json().code, 'RECEIPT_NOT_READY');
    // The entry is on the list of receipts due, left to its request for RECEIPT_DUE_AFTER_SECONDS.
    assert.equal((await dueRow(entryId))?.attempts, 0);
    await sweepDueReceipts(env);
    assert.equal((await view()).json().receipt, null, 'not taken before its delay');
    env.clock.advance(11_000);
    const swept = await sweepDueReceipts(env);
    assert.ok(swept.issued >= 1);
    assert.deepEqual(swept.failed, []);
    const issued = (await view()).json().receipt;
    assert.ok(issued?.csv);
    assert.equal(await dueRow(entryId), undefined, 'recording the receipt took the entry off the list');
    const r = await app.inject({
      method: 'GET',
      url: `${base}/registry/${entryId}/receipt`,
      headers: registrar,
    });
    assert.match(pdfsig(r.rawPayload, nssDbTrusting(caPem)).out, /Signature is Valid/);
    // Issuing again, or sweeping again, issues nothing new.
    const again = await issueReceipt(env, tenant.id, entryId);
    assert.equal(again.created, false);
    assert.equal(again.csv, issued.csv);
    env.clock.advance(11_000);
    assert.equal((await sweepDueReceipts(env)).issued, 0);
  });

  it('stays on the list with its error when it cannot be issued, and is tried again after a backoff', async () => {
    const entryId = await entryWithoutReceipt('Presentada abans d’una caiguda del disc');
    env.clock.advance(11_000);
    const broken = brokenBlobStore();
    const failed = await sweepDueReceipts({ ...env, blobs: broken });
    assert.ok(failed.failed.some((f) => f.entryId === entryId));
    const row = await dueRow(entryId);
    assert.equal(row?.attempts, 1);
    assert.match(row?.last_error ?? '', /ENOTDIR|not a directory/i);
    assert.ok(new Date(row!.due_at).getTime() >= env.clock.now().getTime() + 29_000, 'due again after 30 s');
    // Not taken again before the backoff, even by a store that works.
    assert.equal((await sweepDueReceipts(env)).failed.length, 0);
    assert.ok(await dueRow(entryId));
    env.clock.advance(31_000);
    const swept = await sweepDueReceipts(env);
    assert.deepEqual(swept.failed, []);
    assert.equal(await dueRow(entryId), undefined);
    const issued = await app.inject({
      method: 'GET',
      url: `${base}/registry/${entryId}`,
      headers: registrar,
    });
    assert.ok(issued.json().receipt?.csv);
  });
  it('a resolution recorded or revoked, and a new seal, count from the very next entry (what each process keeps of them is renewed)', async () => {
    const admin = tenantCtx(env, tenant, ['admin']);
    const entry = async (heading: string) => {
      const res = await file(
        registrar,
        { direction: 'E', heading, summary: 'Prova de la resolució i el segell', channel: 'in_person' },
        [],
      );
      assert.equal(res.statusCode, 201, res.body);
      const made = res.json() as { id: string; receipt: { documentId: string } | null };
      assert.ok(made.receipt, 'issued in the answer');
      const row = await env.db.tenant(tenant.id, (tx) =>
        tx
          .selectFrom('registry_receipts')
          .select('seal_id')
          .where('entry_id', '=', made.id)
          .executeTakeFirstOrThrow(),
      );
      const pdfRes = await app.inject({
        method: 'GET',
        url: `${base}/registry/${made.id}/receipt`,
        headers: registrar,
      });
      return { sealId: row.seal_id, text: pdftotext(pdfRes.rawPayload) };
    };
    const title = 'Actuació automatitzada: justificants del registre general';
    const first = await entry('Abans de la resolució');
    assert.doesNotMatch(first.text, /Decret 2026\/000042/);
    const resolution = await env.db.tenant(tenant.id, async (tx) => {
      const doc = await insertDocument(tx, admin, {
        title: 'Decret d’aprovació',
        fileName: 'decret.pdf',
        mimeType: 'application/pdf',
        sha256: randomBytes(32).toString('hex'),
        size: 1000,
        documentType: 'TD01',
        elaborationState: 'EE01',
        origin: 'administration',
        incorporatedAt: env.clock.now(),
        year: 2026,
      });
      return recordResolution(tx, admin, {
        kind: 'automated_action',
        title,
        reference: 'Decret 2026/000042',
        approvedOn: '2026-01-15',
        responsibleBody: 'Alcaldia',
        actions: ['registry_receipt'],
        documentId: doc.id,
      });
    });
    const second = await entry('Després de la resolució');
    assert.match(second.text, /Decret 2026\/000042/);
    assert.equal(second.sealId, first.sealId);
    await env.db.tenant(tenant.id, (tx) =>
      revokeResolution(tx, admin, resolution.id, {
        revokedOn: madridDateOf(env.clock.now()),
        reason: 'Substituïda per una altra',
      }),
    );
    // The seal is withdrawn: the next receipt needs another (a demo seal is issued for it).
    await env.db.owner((tx) =>
      tx
        .updateTable('seals')
        .set({ active: false, deactivated_at: env.clock.now() })
        .where('tenant_id', '=', tenant.id)
        .execute(),
    );
    const third = await entry('Després de la revocació i del segell nou');
    assert.doesNotMatch(third.text, /Decret 2026\/000042/);
    assert.notEqual(third.sealId, first.sealId);
  });
});
