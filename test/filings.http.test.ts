import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { noRequest, systemActor } from '#platform/context.ts';
import { MAIL_JOB } from '#platform/mail/mail.service.ts';
import { getRepresentationRow, revokeRepresentation } from '#modules/citizens/representations.service.ts';
import { getInstallationCaPem } from '#modules/seals/seals.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { CITIZENS, citizenHeaders, grantPower } from '#test/helpers/citizens.ts';
import {
  loginHeaders,
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  type TestEnv,
} from '#test/helpers/harness.ts';
import { multipart } from '#test/helpers/multipart.ts';
import { recipientsOf, type SmtpSink, startSmtpSink } from '#test/helpers/smtp.ts';
import { nssDbTrusting, pdfsig, pdftotext } from '#test/helpers/pdf-tools.ts';

/** A ZIP of stored (uncompressed) entries, in order: enough to build OOXML and ODF packages. */
function zip(entries: [string, string][]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of entries) {
    const data = Buffer.from(content);
    const n = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    centrals.push(central, n);
    offset += 30 + n.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const ODT = 'application/vnd.oasis.opendocument.text';
const pdfFile = {
  name: 'plànol de la façana.pdf',
  type: 'application/pdf',
  data: Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(4000)]),
};
const docxFile = {
  name: 'memòria.docx',
  type: DOCX,
  data: zip([
    ['[Content_Types].xml', '<?xml version="1.0"?><Types/>'],
    ['word/document.xml', `<?xml version="1.0"?><w:document>${randomBytes(8).toString('hex')}</w:document>`],
  ]),
};
const odtFile = {
  name: 'annex.odt',
  type: ODT,
  data: zip([
    ['mimetype', ODT],
    ['content.xml', `<office:document-content>${randomBytes(8).toString('hex')}</office:document-content>`],
  ]),
};
/** A PDF the store has not seen (a refused request must not keep even its valid files). */
const freshPdf = () => ({
  name: 'nou.pdf',
  type: 'application/pdf',
  data: Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(3000)]),
});
const EXPOSO = 'Que sóc propietària de l’habitatge del carrer Major, 12, d’Abella de la Conca.';
const SOLICITO = 'Que se m’autoritzi a ocupar la via pública amb una bastida durant quinze dies.';

let env: TestEnv;
let sink: SmtpSink;
let app: FastifyInstance;
let tenant: Tenant;
let other: Tenant;
let registrar: Record<string, string>;
let handler: Record<string, string>;
let anna: Record<string, string>;
let bernat: Record<string, string>;
const annaEmail = 'anna@example.org';

async function file(
  slug: string,
  headers: Record<string, string>,
  fields: Record<string, string>,
  files: { name: string; type: string; data: Buffer }[],
  what = 'filings',
) {
  const m = multipart(fields, files);
  return app.inject({
    method: 'POST',
    url: `/api/v1/seu/${slug}/${what}`,
    headers: { ...headers, ...m.headers },
    payload: m.body,
  });
}

const get = (url: string, headers: Record<string, string>) => app.inject({ method: 'GET', url, headers });

/** Files kept in the blob store (temporary ones apart), and temporary files left. */
function blobFiles(): { stored: number; tmp: number } {
  let stored = 0;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) {
        if (path.join(dir, e.name) !== env.blobs.tmpDir) walk(path.join(dir, e.name));
      } else stored++;
    }
  };
  walk(env.blobs.root);
  return { stored, tmp: fs.readdirSync(env.blobs.tmpDir).length };
}

async function entryCount(): Promise<number> {
  return env.db.tenant(tenant.id, async (tx) => {
    const r = await tx
      .selectFrom('registry_entries')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  });
}

let filed: {
  entryId: string;
  number: string;
  presentedAt: string;
  receipt: { csv: string; issuedAt: string } | null;
  receiptUrl: string;
  attachments: { position: number; fileName: string; sha256: string; size: number }[];
};

before(async () => {
  sink = await startSmtpSink();
  env = await openTestEnv({ config: { smtpUrl: sink.url, mailFrom: 'seu@abella.example.org' } });
  app = await makeServer(env);
  tenant = await makeTenant(env, { name: 'Ajuntament d’Abella de la Conca' });
  other = await makeTenant(env, { name: 'Ajuntament de Prova Veïna' });
  registrar = await loginHeaders(app, env, await makeUser(env, { tenant, roles: ['registrar'] }));
  handler = await loginHeaders(app, env, await makeUser(env, { tenant, roles: ['handler'] }));
  anna = await citizenHeaders(env, { ...CITIZENS.anna, email: annaEmail, language: 'ca' });
  bernat = await citizenHeaders(env, CITIZENS.bernat);
  const res = await file(tenant.slug, anna, { exposo: EXPOSO, solicito: SOLICITO }, [pdfFile, docxFile]);
  assert.equal(res.statusCode, 201, res.body);
  filed = res.json();
});
after(async () => {
  await app?.close();
  await env?.close();
  await sink?.close();
});

describe('the generic request (instància genèrica) filed in the seu', () => {
  it('answers the entry number, the official presentation time and the receipt’s CSV', () => {
    assert.match(filed.number, /^E\/\d{4}\/\d{6}$/);
    assert.ok(Math.abs(Date.parse(filed.presentedAt) - env.clock.now().getTime()) < 60_000);
    assert.ok(filed.receipt, 'the receipt is issued in the request itself');
    assert.match(filed.receipt.csv, /^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/);
    assert.equal(filed.receiptUrl, `/api/v1/seu/${tenant.slug}/folder/filings/${filed.entryId}/receipt`);
    assert.deepEqual(
      filed.attachments.map((a) => [a.fileName, a.sha256]),
      [pdfFile, docxFile].map((f) => [f.name, createHash('sha256').update(f.data).digest('hex')]),
    );
  });

  it('is an input entry on the electronic channel that a registrar finds in the registry book', async () => {
    const list = await get(
      `/api/v1/entities/${tenant.slug}/registry?direction=E&q=${encodeURIComponent(filed.number)}`,
      registrar,
    );
    assert.equal(list.statusCode, 200, list.body);
    const item = list.json().items.find((i: { number: string }) => i.number === filed.number);
    assert.ok(item, 'the registrar finds the entry by its number');
    assert.equal(item.channel, 'electronic');
    assert.equal(item.direction, 'E');
    const v = await get(`/api/v1/entities/${tenant.slug}/registry/${filed.entryId}`, registrar);
    const entry = v.json();
    assert.equal(entry.party.identifier, CITIZENS.anna.identifier);
    assert.equal(entry.party.name, CITIZENS.anna.name);
    assert.equal(entry.heading, 'Instància genèrica');
    assert.equal(entry.summary, SOLICITO);
    assert.ok(entry.text.includes(`EXPOSO:\n${EXPOSO}`), entry.text);
    assert.ok(entry.text.includes(`SOL·LICITO:\n${SOLICITO}`), entry.text);
    assert.equal(entry.attachments.length, 2);
    assert.equal(entry.receipt.csv, filed.receipt!.csv);
    // The attachment is kept byte for byte.
    const a = await get(
      `/api/v1/entities/${tenant.slug}/registry/${filed.entryId}/attachments/2/content`,
      registrar,
    );
    assert.deepEqual(a.rawPayload, docxFile.data);
  });

  it('the receipt downloads at once: pdfsig says the seal is valid, and it transcribes the request', async () => {
    const r = await get(filed.receiptUrl, anna);
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.headers['content-type'], 'application/pdf');
    const caPem = (await getInstallationCaPem(env.db))!;
    const sig = pdfsig(r.rawPayload, nssDbTrusting(caPem));
    assert.match(sig.out, /Signature is Valid/, sig.out);
    const text = pdftotext(r.rawPayload).replace(/[ \t]+/g, ' ');
    for (const needle of [
      filed.number,
      filed.receipt!.csv,
      CITIZENS.anna.name,
      'EXPOSO:',
      'SOL·LICITO:',
      'Que sóc propietària de l’habitatge',
      'ocupar la via pública amb una bastida',
      pdfFile.name,
      docxFile.name,
    ])
      assert.ok(text.includes(needle), `the receipt shows ${needle}`);
  });

  it('sends the confirmation e-mail to the citizen, in their language, with the receipt’s CSV', async () => {
    assert.equal(await env.jobs.drain(MAIL_JOB), 1);
    const m = await sink.waitFor((x) => recipientsOf(x).includes(annaEmail));
    assert.ok(m.subject?.includes(filed.number), m.subject);
    assert.ok(m.subject?.includes('justificant de presentació'), `in Catalan: ${m.subject}`);
    assert.ok(m.text?.includes(filed.receipt!.csv), m.text);
    assert.ok(m.text?.includes(`/seu/${tenant.slug}`), m.text);
  });

  it('tells the form its limits and file types, without a login', async () => {
    const r = await get(`/api/v1/seu/${tenant.slug}/filings/form`, {});
    assert.equal(r.statusCode, 200, r.body);
    const f = r.json();
    assert.equal(f.maxAttachments, 5);
    assert.equal(f.maxAttachmentBytes, 10 * 1024 * 1024);
    assert.ok(f.types.some((t: { mimeType: string; extensions: string[] }) => t.extensions.includes('odt')));
    assert.equal((await get('/api/v1/seu/no-such-entity/filings/form', {})).statusCode, 404);
  });

  it('the review step (preview) checks everything and keeps nothing', async () => {
    const before = { entries: await entryCount(), blobs: blobFiles() };
    const res = await file(
      tenant.slug,
      anna,
      { exposo: EXPOSO, solicito: 'Una altra petició', language: 'es' },
      [odtFile],
      'filings/preview',
    );
    assert.equal(res.statusCode, 200, res.body);
    const p = res.json();
    assert.equal(p.heading, 'Instancia genérica');
    assert.ok(p.text.startsWith(`EXPONGO:\n${EXPOSO}`), p.text);
    assert.deepEqual(p.party, { identifier: CITIZENS.anna.identifier, name: CITIZENS.anna.name });
    assert.equal(p.attachments[0].sha256, createHash('sha256').update(odtFile.data).digest('hex'));
    assert.equal(await entryCount(), before.entries);
    assert.deepEqual(blobFiles(), before.blobs);
  });
});

describe('refusals leave nothing behind (no entry, no file)', () => {
  const cases: [
    string,
    Record<string, string>,
    { name: string; type: string; data: Buffer }[],
    number,
    string,
  ][] = [
    [
      'an .exe renamed .pdf',
      { exposo: EXPOSO, solicito: SOLICITO },
      [
        freshPdf(),
        {
          name: 'factura.pdf',
          type: 'application/pdf',
          data: Buffer.concat([Buffer.from('MZ\x90\x00'), randomBytes(2000)]),
        },
      ],
      415,
      'FILE_TYPE_NOT_ACCEPTED',
    ],
    [
      'a ZIP declared as a Word document',
      { exposo: EXPOSO, solicito: SOLICITO },
      [{ name: 'carta.docx', type: DOCX, data: zip([['readme.txt', 'not a document']]) }],
      415,
      'FILE_TYPE_NOT_ACCEPTED',
    ],
    [
      'a type the seu does not take',
      { exposo: EXPOSO, solicito: SOLICITO },
      [{ name: 'programa.exe', type: 'application/x-msdownload', data: randomBytes(100) }],
      415,
      'FILE_TYPE_NOT_ACCEPTED',
    ],
    [
      'an attachment over 10 MiB',
      { exposo: EXPOSO, solicito: SOLICITO },
      [
        freshPdf(),
        {
          name: 'gran.pdf',
          type: 'application/pdf',
          data: Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(10 * 1024 * 1024)]),
        },
      ],
      413,
      'FILING_ATTACHMENT_TOO_LARGE',
    ],
    [
      'six attachments',
      { exposo: EXPOSO, solicito: SOLICITO },
      [freshPdf(), freshPdf(), freshPdf(), freshPdf(), freshPdf(), freshPdf()],
      422,
      'FILING_TOO_MANY_ATTACHMENTS',
    ],
    [
      'an empty attachment',
      { exposo: EXPOSO, solicito: SOLICITO },
      [{ name: 'buit.pdf', type: 'application/pdf', data: Buffer.alloc(0) }],
      422,
      'FILING_ATTACHMENT_EMPTY',
    ],
    ['no “sol·licito”', { exposo: EXPOSO }, [freshPdf()], 400, 'VALIDATION_FAILED'],
    [
      'an “exposo” over its length',
      { exposo: 'x'.repeat(10_001), solicito: SOLICITO },
      [],
      400,
      'VALIDATION_FAILED',
    ],
  ];
  for (const [what, fields, files, status, code] of cases) {
    it(`${what}: ${status} ${code}`, async () => {
      const before = { entries: await entryCount(), blobs: blobFiles() };
      const res = await file(tenant.slug, anna, fields, files);
      assert.equal(res.statusCode, status, res.body);
      assert.equal(res.json().code, code);
      assert.equal(await entryCount(), before.entries, 'no entry');
      assert.deepEqual(blobFiles(), before.blobs, 'no file kept, no temporary file left');
    });
  }

  it('the attachments together over 25 MiB: 413 FILING_ATTACHMENTS_TOO_LARGE', async () => {
    const big = (n: number) => ({
      name: `part${n}.pdf`,
      type: 'application/pdf',
      data: Buffer.concat([Buffer.from(`%PDF-1.7\n${n}`), Buffer.alloc(9 * 1024 * 1024)]),
    });
    const before = { entries: await entryCount(), blobs: blobFiles() };
    const res = await file(tenant.slug, anna, { exposo: EXPOSO, solicito: SOLICITO }, [
      big(1),
      big(2),
      big(3),
    ]);
    assert.equal(res.statusCode, 413, res.body);
    assert.equal(res.json().code, 'FILING_ATTACHMENTS_TOO_LARGE');
    assert.equal(await entryCount(), before.entries);
    assert.deepEqual(blobFiles(), before.blobs);
  });

  it('without a seu login: 401 CITIZEN_LOGIN_REQUIRED; a staff session is not a citizen', async () => {
    const res = await file(tenant.slug, registrar, { exposo: EXPOSO, solicito: SOLICITO }, []);
    assert.equal(res.statusCode, 401, res.body);
    assert.equal(res.json().code, 'CITIZEN_LOGIN_REQUIRED');
  });
});

describe('La meva carpeta', () => {
  let expedient: { id: string; number: string };
  let docs: { id: string; title: string; sha256: string; url: string }[];

  it('lists my filing with its receipt; another citizen’s folder does not', async () => {
    const mine = await get(`/api/v1/seu/${tenant.slug}/folder/filings`, anna);
    assert.equal(mine.statusCode, 200, mine.body);
    const f = mine.json().items.find((i: { entryId: string }) => i.entryId === filed.entryId);
    assert.ok(f);
    assert.equal(f.number, filed.number);
    assert.equal(f.heading, 'Instància genèrica');
    assert.equal(f.attachmentCount, 2);
    assert.equal(f.receipt.csv, filed.receipt!.csv);
    assert.equal(f.receiptUrl, filed.receiptUrl);
    const theirs = await get(`/api/v1/seu/${tenant.slug}/folder/filings`, bernat);
    assert.equal(theirs.statusCode, 200);
    assert.deepEqual(theirs.json().items, []);
  });

  it('another citizen, or the same citizen in another entity’s seu, gets 404 on my receipt', async () => {
    const r1 = await get(filed.receiptUrl, bernat);
    assert.equal(r1.statusCode, 404);
    const r2 = await get(`/api/v1/seu/${other.slug}/folder/filings/${filed.entryId}/receipt`, anna);
    assert.equal(r2.statusCode, 404);
    const r3 = await get(`/api/v1/seu/${other.slug}/folder/filings`, anna);
    assert.deepEqual(r3.json().items, []);
  });

  it('shows the case file staff opened from my filing, even restricted, with its documents', async () => {
    const link = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${tenant.slug}/registry/${filed.entryId}/expedient`,
      headers: handler,
      payload: { new: { title: 'Ocupació de la via pública amb bastida', accessLevel: 'restricted' } },
    });
    assert.equal(link.statusCode, 201, link.body);
    expedient = link.json().expedient;
    const list = await get(`/api/v1/seu/${tenant.slug}/folder/expedients`, anna);
    assert.equal(list.statusCode, 200, list.body);
    const x = list.json().items.find((i: { id: string }) => i.id === expedient.id);
    assert.ok(x);
    assert.equal(x.number, expedient.number);
    assert.equal(x.state, 'open');
    assert.deepEqual(x.roles, ['applicant']);
    const detail = await get(`/api/v1/seu/${tenant.slug}/folder/expedients/${expedient.id}`, anna);
    assert.equal(detail.statusCode, 200, detail.body);
    docs = detail.json().documents;
    // The two attachments, then the receipt, in the index's order.
    assert.deepEqual(
      docs.map((d) => d.sha256).slice(0, 2),
      [pdfFile, docxFile].map((f) => createHash('sha256').update(f.data).digest('hex')),
    );
    assert.equal(docs.length, 3);
  });

  it('downloads a document of my case file, byte for byte, and the read is audited', async () => {
    const d = docs[1]!;
    const r = await get(d.url, anna);
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.rawPayload, docxFile.data);
    const events = await env.db.tenant(tenant.id, (tx) =>
      tx
        .selectFrom('audit_events')
        .select(['action', 'actor_label', 'object_id'])
        .where('action', '=', 'document.download')
        .where('object_id', '=', d.id)
        .execute(),
    );
    assert.equal(events.length, 1);
    assert.match(events[0]!.actor_label, new RegExp(CITIZENS.anna.identifier));
  });

  it('another citizen, or another entity’s seu, gets 404 on my case file and its documents', async () => {
    const d = docs[0]!;
    for (const [url, who] of [
      [`/api/v1/seu/${tenant.slug}/folder/expedients/${expedient.id}`, bernat],
      [d.url, bernat],
      [`/api/v1/seu/${other.slug}/folder/expedients/${expedient.id}`, anna],
      [`/api/v1/seu/${other.slug}/folder/expedients/${expedient.id}/documents/${d.id}`, anna],
    ] as const) {
      const r = await get(url, who);
      assert.equal(r.statusCode, 404, `${url}: ${r.body}`);
    }
    const theirs = await get(`/api/v1/seu/${tenant.slug}/folder/expedients`, bernat);
    assert.deepEqual(theirs.json().items, []);
    // A document of the entity that is not in my case file.
    const r = await get(
      `/api/v1/seu/${tenant.slug}/folder/expedients/${expedient.id}/documents/${expedient.id}`,
      anna,
    );
    assert.equal(r.statusCode, 404);
  });

  it('a representative files and reads the folder for the represented person; after revocation, 404', async () => {
    const power = await grantPower(env, tenant.id, {
      represented: CITIZENS.anna,
      representative: CITIZENS.bernat,
    });
    const res = await file(
      tenant.slug,
      bernat,
      { exposo: EXPOSO, solicito: 'Còpia del meu expedient', onBehalfOf: CITIZENS.anna.identifier },
      [],
    );
    assert.equal(res.statusCode, 201, res.body);
    const made = res.json();
    assert.equal(made.receiptUrl.endsWith(`?onBehalfOf=${CITIZENS.anna.identifier}`), true);
    const entry = (await get(`/api/v1/entities/${tenant.slug}/registry/${made.entryId}`, registrar)).json();
    assert.equal(entry.party.identifier, CITIZENS.anna.identifier);
    assert.ok(
      entry.text.includes(`${CITIZENS.bernat.name} (${CITIZENS.bernat.identifier}) en representació de`),
    );
    const folder = `/api/v1/seu/${tenant.slug}/folder/filings?onBehalfOf=${CITIZENS.anna.identifier}`;
    const listed = await get(folder, bernat);
    assert.equal(listed.statusCode, 200, listed.body);
    assert.deepEqual(
      listed
        .json()
        .items.map((i: { entryId: string }) => i.entryId)
        .sort(),
      [filed.entryId, made.entryId].sort(),
    );
    assert.equal((await get(made.receiptUrl, bernat)).statusCode, 200);
    await env.db.tenant(tenant.id, async (tx) => {
      const t = await tx
        .selectFrom('tenants')
        .select(['id', 'dir3', 'slug', 'name', 'status'])
        .where('id', '=', tenant.id)
        .executeTakeFirstOrThrow();
      const row = await getRepresentationRow(tx, power.id);
      await revokeRepresentation(
        tx,
        { tenant: t, actor: systemActor, roles: [], request: noRequest, clock: env.clock },
        row!,
        'revocada',
      );
    });
    assert.equal((await get(folder, bernat)).statusCode, 404);
    assert.equal((await get(made.receiptUrl, bernat)).statusCode, 404);
    const again = await file(
      tenant.slug,
      bernat,
      { exposo: EXPOSO, solicito: SOLICITO, onBehalfOf: CITIZENS.anna.identifier },
      [],
    );
    assert.equal(again.statusCode, 404, again.body);
  });
});
