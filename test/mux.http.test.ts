import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { cliActor, noRequest } from '#platform/context.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { LocalDesalClient } from '#modules/registry/mux/desal.ts';
import {
  configureMux,
  fetchEntryAttachments,
  MUX_FETCH_JOB,
  showMux,
} from '#modules/registry/mux/mux.service.ts';
import { pdftotext } from '#test/helpers/pdf-tools.ts';
import {
  loginHeaders,
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  rowCounts,
  type TestEnv,
} from '#test/helpers/harness.ts';

let env: TestEnv;
let app: FastifyInstance;
let a: Tenant;
let b: Tenant;
let registrarA: Record<string, string>;
let desalDir: string;
const secretA = randomBytes(40);
const secretB = randomBytes(40);
const ISSUER = 'MUXV3';
const MAX_ATTACHMENT = 64 * 1024;

type Claims = { iss?: string; sub?: string; iat?: number; exp?: number | null; user?: string };

/** A real HS256 token, as MUX signs it (guide 2.2). `exp: null` leaves exp out. */
async function token(secret: Uint8Array, claims: Claims = {}, alg = 'HS256'): Promise<string> {
  const now = Math.floor(env.clock.now().getTime() / 1000);
  const iat = claims.iat ?? now;
  const payload: Record<string, unknown> = { user: claims.user ?? '11111111H', aud: [null] };
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setIssuer(claims.iss ?? ISSUER)
    .setSubject(claims.sub ?? a.dir3)
    .setIssuedAt(iat)
    .setNotBefore(iat);
  if (claims.exp !== null) jwt.setExpirationTime(claims.exp ?? iat + 60);
  return jwt.sign(secret);
}

/** A MUX v3 transaction as the guide's example (5.3), with its own id. */
function transaction(over: Record<string, unknown> = {}) {
  return {
    idTransaccio: `${randomBytes(2).toString('hex')}-${randomBytes(2).toString('hex')}-af41-6006`,
    execucions: 0,
    tipus: 'E',
    dataCreacio: 1620222901949,
    control: {
      aplicacio: 'TEST',
      urlAplicacio: 'http://tramits.aoc.cat/tramits?idTramit=1000',
      documentacioFisica: { clau: '3', descripcio: 'Sense documentació física' },
      indicadorProva: { clau: '0', descripcio: 'Transacció real' },
      usuari: '11111111H',
    },
    assumpte: {
      resum: "Creació d'assentament",
      observacions: 'Observacions',
      dataPresentacio: 1620222905181,
      numeroExpedient: '01234567890',
      codiProcediment: 'PROD001',
      nomProcediment: 'Nom procediment',
      codiSIA: 'SIA0001',
      nomTramit: 'Nom de tràmit',
    },
    registres: {
      desti: { unitatOrganica: { dir3: a.dir3, nom: a.name } },
    },
    interessats: [
      {
        tipusIdentificador: { clau: 'NIF', descripcio: "Número d'Identificació Fiscal" },
        identificador: '11111111H',
        informacioIdentificador: { valid: true, tipusIdentificador: 'NIF', tipusPersona: 'F' },
        nom: 'Francesc',
        cognom1: 'Cognom',
        cognom2: 'Segon',
        codiMunicipi: '080193',
        municipi: 'Barcelona',
        adressaCompleta: 'Carrer Mallorca 23 1er 1a',
        codiPostal: '08028',
        email: 'email@mail.com',
      },
    ],
    instanciaGenerica: { exposa: 'Exposo que...', solicita: 'Sol·licito que...' },
    ttl: 20,
    ...over,
  };
}

async function post(body: unknown, auth: string | null, entity = a.dir3) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/mux/${entity}/registre`,
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function entryByNumber(number: string) {
  const list = await app.inject({
    method: 'GET',
    url: `/api/v1/entities/${a.slug}/registry?q=${encodeURIComponent(number)}`,
    headers: registrarA,
  });
  assert.equal(list.statusCode, 200, list.body);
  const item = list.json().items.find((i: { number: string }) => i.number === number);
  assert.ok(item, `entry ${number} listed`);
  const res = await app.inject({
    method: 'GET',
    url: `/api/v1/entities/${a.slug}/registry/${item.id}`,
    headers: registrarA,
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

function assertProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json(): { code?: string } },
  status: number,
  code: string,
) {
  assert.equal(res.statusCode, status, JSON.stringify(res.json()));
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  assert.equal(res.json().code, code);
}

before(async () => {
  env = await openTestEnv();
  desalDir = fs.mkdtempSync(path.join(env.dataDir, 'desal-'));
  env.config.desalDir = desalDir;
  env.config.muxMaxAttachmentBytes = MAX_ATTACHMENT;
  app = await makeServer(env);
  a = await makeTenant(env);
  b = await makeTenant(env);
  const who = { actor: cliActor, request: noRequest };
  await configureMux(env, who, { entity: a.dir3, issuer: ISSUER, subject: a.dir3, secret: secretA });
  await configureMux(env, who, { entity: b.slug, issuer: ISSUER, subject: b.dir3, secret: secretB });
  registrarA = await loginHeaders(app, env, await makeUser(env, { tenant: a, roles: ['registrar'] }));
});
after(async () => {
  await new Promise((r) => setTimeout(r, 200)); // let a fetch started after a commit finish
  await app.close();
  await env.close();
});

describe('MUX v3 intake: POST /api/v1/mux/{entity}/registre (guide section 5)', () => {
  it('the same transaction posted twice gives one entry and the same answer, byte for byte', async () => {
    const tx = transaction();
    const jwt = await token(secretA);
    const before = await rowCounts(env, ['registry_entries', 'mux_transactions']);
    const first = await post(tx, jwt);
    assert.equal(first.statusCode, 200, first.body);
    assert.match(String(first.headers['content-type']), /^application\/json/);
    const again = await post({ ...tx, execucions: 1, ttl: 5 }, await token(secretA));
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(again.body, first.body, 'a repeated execution gets the same bytes');
    const after = await rowCounts(env, ['registry_entries', 'mux_transactions']);
    assert.equal(after.registry_entries, before.registry_entries! + 1);
    assert.equal(after.mux_transactions, before.mux_transactions! + 1);
    const answer = first.json();
    assert.deepEqual(Object.keys(answer), [
      'resultat',
      'idTransaccio',
      'tipus',
      'numeroAssentament',
      'dataAssentament',
      'dataPresentacio',
    ]);
    assert.equal(answer.resultat, true);
    assert.equal(answer.idTransaccio, tx.idTransaccio);
    assert.equal(answer.tipus, 'E');
    assert.match(answer.numeroAssentament, /^E\/\d{4}\/\d{6}$/);
    assert.match(answer.dataAssentament, /^\d{2}\/\d{2}\/\d{4}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$/);
    // 1620222905181 ms = 2021-05-05T13:55:05.181Z = 15:55:05.181 in Madrid (CEST).
    assert.equal(answer.dataPresentacio, '05/05/2021T15:55:05.181+02:00');
  });

  it('presentedAt of the entry is the transaction’s dataPresentacio; the interessat becomes its party', async () => {
    const tx = transaction({ assumpte: { ...transaction().assumpte, dataPresentacio: 1705312800123 } });
    const res = await post(tx, await token(secretA));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().dataPresentacio, '15/01/2024T11:00:00.123+01:00');
    const entry = await entryByNumber(res.json().numeroAssentament);
    assert.equal(entry.presentedAt, new Date(1705312800123).toISOString());
    assert.equal(entry.channel, 'mux');
    assert.equal(entry.direction, 'E');
    assert.equal(entry.heading, 'Nom de tràmit');
    assert.equal(entry.summary, "Creació d'assentament");
    assert.equal(entry.party?.identifier, '11111111H');
    assert.match(entry.text, /Sol·licita: Sol·licito que/);
    assert.ok(entry.registeredAt > entry.presentedAt);
  });

  it('two copies of a transaction at once make one entry and get the same answer', async () => {
    const tx = transaction();
    const before = await rowCounts(env, ['registry_entries']);
    const [x, y] = await Promise.all([post(tx, await token(secretA)), post(tx, await token(secretA))]);
    assert.equal(x.statusCode, 200, x.body);
    assert.equal(y.statusCode, 200, y.body);
    assert.equal(x.body, y.body);
    const after = await rowCounts(env, ['registry_entries']);
    assert.equal(after.registry_entries, before.registry_entries! + 1);
  });

  it('the same idTransaccio with other data is 409 MUX_TRANSACTION_CONFLICT', async () => {
    const tx = transaction();
    assert.equal((await post(tx, await token(secretA))).statusCode, 200);
    const res = await post(
      { ...tx, assumpte: { ...tx.assumpte, resum: 'Una altra cosa' } },
      await token(secretA),
    );
    assertProblem(res, 409, 'MUX_TRANSACTION_CONFLICT');
    assert.equal(res.json().resultat, false);
    assert.equal(res.json().codiError, 2);
  });

  it('refuses a missing, badly signed, expired, long-lived or foreign token with 401', async () => {
    const tx = transaction();
    const now = Math.floor(env.clock.now().getTime() / 1000);
    assertProblem(await post(tx, null), 401, 'MUX_TOKEN_INVALID');
    assertProblem(await post(tx, await token(randomBytes(40))), 401, 'MUX_TOKEN_INVALID');
    assertProblem(await post(tx, await token(secretA, { iss: 'OTHER' })), 401, 'MUX_TOKEN_INVALID');
    assertProblem(await post(tx, await token(secretA, { sub: b.dir3 })), 401, 'MUX_TOKEN_INVALID');
    assertProblem(await post(tx, await token(secretA, { exp: null })), 401, 'MUX_TOKEN_INVALID');
    assertProblem(
      await post(tx, await token(secretA, { iat: now - 600, exp: now - 300 })),
      401,
      'MUX_TOKEN_EXPIRED',
    );
    assertProblem(await post(tx, await token(secretA, { exp: now + 3600 })), 401, 'MUX_TOKEN_EXPIRED');
    assertProblem(await post(tx, await token(secretA, {}, 'HS512')), 401, 'MUX_TOKEN_INVALID');
    // A token of a small clock difference is accepted.
    const skewed = await post(tx, await token(secretA, { iat: now + 20, exp: now + 80 }));
    assert.equal(skewed.statusCode, 200, skewed.body);
  });

  it('a token configured for entity A cannot register into entity B', async () => {
    const before = await rowCounts(env, ['registry_entries']);
    const res = await post(transaction({ registres: {} }), await token(secretA), b.dir3);
    assertProblem(res, 401, 'MUX_TOKEN_INVALID');
    const unknown = await post(transaction(), await token(secretA), 'L01999999');
    assertProblem(unknown, 401, 'MUX_TOKEN_INVALID');
    assert.deepEqual(await rowCounts(env, ['registry_entries']), before);
    // B's own token works for B.
    const ok = await post(transaction({ registres: {} }), await token(secretB, { sub: b.dir3 }), b.slug);
    assert.equal(ok.statusCode, 200, ok.body);
  });

  it('the MUX token opens no other route, and the intake needs no session', async () => {
    const res = await app.inject({
      method: 'GET',
      url: `/api/v1/entities/${a.slug}/registry`,
      headers: { authorization: `Bearer ${await token(secretA)}` },
    });
    assertProblem(res, 401, 'UNAUTHENTICATED');
    const withSession = await app.inject({
      method: 'POST',
      url: `/api/v1/mux/${a.dir3}/registre`,
      headers: { ...registrarA, 'content-type': 'application/json' },
      payload: JSON.stringify(transaction()),
    });
    assertProblem(withSession, 401, 'MUX_TOKEN_INVALID');
  });

  it('malformed, oversized and incomplete transactions are refused with problem+json', async () => {
    const jwt = await token(secretA);
    assertProblem(await post('{"idTransaccio": "0ba6-', jwt), 400, 'MALFORMED_JSON');
    const big = transaction({ dadesLliures: { x: 'x'.repeat(600 * 1024) } });
    assertProblem(await post(big, jwt), 413, 'PAYLOAD_TOO_LARGE');
    assertProblem(await post('[1,2]', jwt), 400, 'VALIDATION_FAILED');
    const noResum = transaction();
    delete (noResum.assumpte as Record<string, unknown>).resum;
    const res = await post(noResum, jwt);
    assertProblem(res, 400, 'MUX_TRANSACTION_INVALID');
    assert.equal(res.json().resultat, false);
    assert.equal(res.json().codiError, 1);
    assert.match(res.json().missatgeError, /assumpte.resum/);
    assert.equal(res.json().idTransaccio, noResum.idTransaccio);
    const badDate = transaction({
      assumpte: { ...transaction().assumpte, dataPresentacio: '2024-01-15 11:00' },
    });
    assertProblem(await post(badDate, jwt), 400, 'MUX_TRANSACTION_INVALID');
    const badNif = transaction();
    (badNif.interessats[0] as Record<string, unknown>).identificador = '11111111A';
    const r2 = await post(badNif, jwt);
    assertProblem(r2, 400, 'MUX_TRANSACTION_INVALID');
    assert.equal(r2.json().codiError, 3);
  });

  it('DESA’L documents are fetched by the job into documents of the entry, with their SHA-256; a too-large one fails clearly', async () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(2000)]);
    const annex = randomBytes(5000);
    const huge = randomBytes(MAX_ATTACHMENT + 1);
    const ids = [
      'ba51a9be-ad53-4fc4-ba90-53355456e2cf',
      '93cbf258-593d-4c84-bf12-1abd501bce91',
      'c1c1c1c1-b2b2-c3c3-d4d4-e5e5e5e5e5e5',
    ];
    fs.writeFileSync(path.join(desalDir, ids[0]!), pdf);
    fs.writeFileSync(path.join(desalDir, ids[1]!), annex);
    fs.writeFileSync(path.join(desalDir, ids[2]!), huge);
    const sha = (x: Buffer) => createHash('sha256').update(x).digest('hex');
    const tx = transaction({
      documents: {
        [ids[0]!]: {
          uuid: ids[0],
          nomFitxer: 'sol·licitud.pdf',
          nomNatural: 'Sol·licitud',
          formatFitxer: 'application/pdf',
          hash: createHash('sha256').update(pdf).digest('base64'),
          hashAlgoritme: 'SHA256',
          tamany: pdf.length,
          contingut: 1,
        },
        [ids[1]!]: {
          uuid: ids[1],
          nomFitxer: 'annex.bin',
          formatFitxer: 'application/octet-stream',
          contingut: 1,
        },
        [ids[2]!]: {
          uuid: ids[2],
          nomFitxer: 'massa-gran.bin',
          formatFitxer: 'application/octet-stream',
          contingut: 1,
        },
      },
    });
    const res = await post(tx, await token(secretA));
    assert.equal(res.statusCode, 200, res.body);
    const entry0 = await entryByNumber(res.json().numeroAssentament);
    const outcome = await fetchEntryAttachments(env, new LocalDesalClient(desalDir), {
      tenantId: a.id,
      entryId: entry0.id,
    });
    assert.deepEqual(outcome, { fetched: 2, failed: 1, pending: 0 });
    const entry = await entryByNumber(res.json().numeroAssentament);
    assert.deepEqual(
      entry.attachments.map((x: { fileName: string; sha256: string }) => [x.fileName, x.sha256]),
      [
        ['sol·licitud.pdf', sha(pdf)],
        ['annex.bin', sha(annex)],
      ],
    );
    for (const x of entry.attachments) {
      // The stored file is the fetched one (read back verified against its SHA-256).
      assert.equal(sha(await env.blobs.readVerified(x.sha256)), x.sha256);
    }
    const states = await app.inject({
      method: 'GET',
      url: `/api/v1/entities/${a.slug}/registry/${entry.id}/mux-attachments`,
      headers: registrarA,
    });
    assert.equal(states.statusCode, 200, states.body);
    const failed = states.json().find((s: { desalUuid: string }) => s.desalUuid === ids[2]);
    assert.equal(failed.state, 'failed');
    assert.equal(failed.errorCode, 'MUX_ATTACHMENT_TOO_LARGE');
    assert.match(failed.error, /limit is 65536/);
    assert.equal(fs.existsSync(env.blobs.pathOf(sha(huge))), false, 'the too-large file is not stored');
    // Running the job again changes nothing.
    const again = await fetchEntryAttachments(env, new LocalDesalClient(desalDir), {
      tenantId: a.id,
      entryId: entry.id,
    });
    assert.deepEqual(again, { fetched: 2, failed: 1, pending: 0 });
    assert.equal((await entryByNumber(res.json().numeroAssentament)).attachments.length, 2);

    // The fetch job (enqueued with the entry) ends by issuing the receipt, which lists the fetched documents.
    await env.jobs.drain(MUX_FETCH_JOB);
    let view = await entryByNumber(res.json().numeroAssentament);
    for (let i = 0; i < 100 && !view.receipt; i++) {
      await new Promise((r) => setTimeout(r, 100));
      view = await entryByNumber(res.json().numeroAssentament);
    }
    assert.ok(view.receipt, 'the MUX entry has its receipt once its documents are fetched');
    const receipt = await app.inject({
      method: 'GET',
      url: `/api/v1/entities/${a.slug}/registry/${view.id}/receipt`,
      headers: registrarA,
    });
    assert.equal(receipt.statusCode, 200);
    const text = pdftotext(receipt.rawPayload);
    assert.ok(
      text.includes(sha(pdf)) && text.includes(sha(annex)),
      'the receipt lists both fetched documents',
    );
    assert.ok(text.includes(res.json().numeroAssentament));
  });

  it('a document whose content does not match the declared hash is not attached', async () => {
    const id = 'd1d1d1d1-0000-4000-8000-000000000001';
    fs.writeFileSync(path.join(desalDir, id), Buffer.from('the real content'));
    const tx = transaction({
      documents: {
        [id]: {
          uuid: id,
          nomFitxer: 'x.txt',
          formatFitxer: 'text/plain',
          hash: createHash('sha256').update('other content').digest('base64'),
          hashAlgoritme: 'SHA256',
        },
      },
    });
    const res = await post(tx, await token(secretA));
    assert.equal(res.statusCode, 200, res.body);
    const entry = await entryByNumber(res.json().numeroAssentament);
    const out = await fetchEntryAttachments(env, new LocalDesalClient(desalDir), {
      tenantId: a.id,
      entryId: entry.id,
    });
    assert.deepEqual(out, { fetched: 0, failed: 1, pending: 0 });
    assert.equal((await entryByNumber(res.json().numeroAssentament)).attachments.length, 0);
  });

  it('mux show never reveals the secret', async () => {
    const v = await showMux(env, a.slug);
    assert.equal(v?.issuer, ISSUER);
    assert.equal(v?.subject, a.dir3);
    assert.equal(v?.secretBytes, 40);
    assert.ok(!JSON.stringify(v).includes(secretA.toString('hex')));
    assert.ok(!JSON.stringify(v).includes(secretA.toString('base64')));
  });
});
