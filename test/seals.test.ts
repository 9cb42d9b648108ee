import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { cliActor, noRequest } from '#platform/context.ts';
import {
  createSelfSignedCa,
  exportPkcs8,
  generateSigningKeyPair,
  issueSigningCertificate,
} from '#platform/crypto/certs.ts';
import { deriveKek, KeyUnwrapError, unwrapKey } from '#platform/crypto/keywrap.ts';
import { AppError } from '#platform/errors.ts';
import { loadCheckpoint, loadMasterKey, sealChain, sealKey } from '#modules/audit/audit.checkpoint.ts';
import { findAuthorisingResolution } from '#modules/seals/resolutions.service.ts';
import { rotateMasterKey } from '#modules/seals/rotate.ts';
import { insertDocument } from '#modules/documents/documents.service.ts';
import {
  ensureEntitySeal,
  ensureInstallationCa,
  getActiveSeal,
  importSeal,
  operatorCtx,
  PRIVATE_KEY_PURPOSE,
  sealKeyBinding,
} from '#modules/seals/seals.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  type TestEnv,
  tokenHeaders,
} from '#test/helpers/harness.ts';

let env: TestEnv;
let app: FastifyInstance;
let a: Tenant;
let b: Tenant;
let dir: string;

const ctxFor = (t: Tenant) => operatorCtx(t, cliActor, noRequest, env.clock);
const write = (name: string, data: string | Buffer) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, data);
  return f;
};
const openssl = (...args: string[]) =>
  execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

before(async () => {
  env = await openTestEnv();
  app = await makeServer(env);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-seals-'));
  a = await makeTenant(env, { name: "Ajuntament d'Àger" });
  b = await makeTenant(env);
});
after(async () => {
  await app?.close();
  await env?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('installation CA and entity seals', () => {
  it('issues a demo seal that openssl verifies against the CA, with the right key usage and no EKU', async () => {
    assert.deepEqual(await ensureEntitySeal(env, a.id), { created: true });
    assert.deepEqual(await ensureEntitySeal(env, a.id), { created: false }, 'idempotent');
    const ca = await ensureInstallationCa(env);
    const seal = await env.db.tenant(a.id, (tx) => getActiveSeal(tx, ctxFor(a), env.config));
    assert.equal(seal.qualified, false);
    assert.equal(seal.source, 'installation_ca');
    assert.equal(seal.chainPem, ca.certificatePem);
    const caFile = write('ca.pem', ca.certificatePem);
    const sealFile = write('seal.pem', seal.certificatePem);
    assert.match(openssl('verify', '-CAfile', caFile, sealFile), /seal\.pem: OK/);

    const caText = openssl('x509', '-noout', '-text', '-nameopt', 'utf8', '-in', caFile);
    assert.match(caText, /Subject:.*CN ?= ?Lligall installation CA \(demo — not qualified\)/);
    assert.match(caText, /CA:TRUE/);
    assert.match(caText, /Certificate Sign, CRL Sign/);
    const text = openssl('x509', '-noout', '-text', '-nameopt', 'utf8', '-in', sealFile);
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation\n/);
    assert.doesNotMatch(text, /Extended Key Usage/);
    assert.match(text, /CA:FALSE/);
    assert.match(text, /O ?= ?Ajuntament d'Àger/);
    assert.match(text, new RegExp(`serialNumber ?= ?${a.dir3}`));
    assert.match(text, /CN ?= ?Segell d'òrgan de Ajuntament d'Àger \(demo — no qualificat\)/);
    const dates = openssl('x509', '-noout', '-startdate', '-enddate', '-in', sealFile);
    const [start, end] = [...dates.matchAll(/=(.+)/g)].map((m) => new Date(m[1]!).getTime());
    assert.ok(Math.abs(end! - start! - 2 * 365.25 * 86400_000) < 2 * 86400_000, 'valid for 2 years');

    // openssl cms accepts a signature by the seal (its purpose check is the trap the key usage avoids).
    const keyPem = `-----BEGIN PRIVATE KEY-----\n${(await exportPkcs8(seal.privateKey)).toString('base64')}\n-----END PRIVATE KEY-----\n`;
    const keyFile = write('seal.key', keyPem);
    const data = write('data.txt', 'registre');
    openssl(
      'cms',
      '-sign',
      '-binary',
      '-in',
      data,
      '-signer',
      sealFile,
      '-inkey',
      keyFile,
      '-outform',
      'DER',
      '-out',
      path.join(dir, 'sig.der'),
    );
    openssl(
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      path.join(dir, 'sig.der'),
      '-content',
      data,
      '-CAfile',
      caFile,
      '-out',
      path.join(dir, 'out.txt'),
    );
    fs.rmSync(keyFile);
  });

  it("signs with getActiveSeal's key, verifiable with the certificate's public key", async () => {
    const seal = await env.db.tenant(a.id, (tx) => getActiveSeal(tx, ctxFor(a), env.config));
    const data = Buffer.from('justificant de registre');
    const sig = await webcrypto.subtle.sign('RSASSA-PKCS1-v1_5', seal.privateKey, data);
    const { X509Certificate } = await import('node:crypto');
    const cert = new X509Certificate(seal.certificatePem);
    const { verify } = await import('node:crypto');
    assert.equal(verify('sha256', data, cert.publicKey, Buffer.from(sig)), true);
    assert.equal(verify('sha256', Buffer.from('altre'), cert.publicKey, Buffer.from(sig)), false);
  });

  it('stores the key wrapped: not the raw key, and another master key cannot open it', async () => {
    const row = await env.db.tenant(a.id, (tx) =>
      tx.selectFrom('seals').selectAll().where('active', '=', true).executeTakeFirstOrThrow(),
    );
    const seal = await env.db.tenant(a.id, (tx) => getActiveSeal(tx, ctxFor(a), env.config));
    const raw = await exportPkcs8(seal.privateKey);
    const wrapped = Buffer.from(row.wrapped_key);
    assert.equal(wrapped.includes(raw.subarray(0, 32)), false);
    assert.equal(wrapped.includes(raw.subarray(raw.length - 32)), false);
    const master = fs.readFileSync(env.config.masterKeyFile);
    const binding = sealKeyBinding(a.id, row.id);
    assert.deepEqual(unwrapKey(deriveKek(master, PRIVATE_KEY_PURPOSE), wrapped, binding), raw);
    assert.throws(
      () => unwrapKey(deriveKek(randomBytes(32), PRIVATE_KEY_PURPOSE), wrapped, binding),
      KeyUnwrapError,
    );
    const otherKeyFile = write('other.key', randomBytes(32));
    await assert.rejects(
      env.db.tenant(a.id, (tx) => getActiveSeal(tx, ctxFor(a), { env: 'test', masterKeyFile: otherKeyFile })),
      KeyUnwrapError,
    );
    const ca = await env.db.platform((tx) =>
      tx.selectFrom('installation_ca').selectAll().executeTakeFirstOrThrow(),
    );
    assert.equal(Buffer.from(ca.wrapped_key)[0], 1, 'version byte');
  });

  it("lists an entity's seals to its members without private material; others get 404", async () => {
    const member = await makeUser(env, { tenant: a, roles: ['viewer'] });
    const outsider = await makeUser(env, { tenant: b, roles: ['admin'] });
    const ok = await app.inject({
      method: 'GET',
      url: `/api/v1/entities/${a.dir3}/seals`,
      headers: await tokenHeaders(env, member),
    });
    assert.equal(ok.statusCode, 200, ok.body);
    const body = ok.json() as { seals: Record<string, unknown>[] };
    assert.equal(body.seals.length, 1);
    const s = body.seals[0]!;
    assert.equal(s.active, true);
    assert.equal(s.qualified, false);
    assert.match(String(s.subject), /Segell d'òrgan/);
    assert.match(String(s.issuer), /Lligall installation CA/);
    const der = Buffer.from(String(s.certificatePem).replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    assert.equal(s.fingerprintSha256, createHash('sha256').update(der).digest('hex'));
    assert.doesNotMatch(ok.body, /PRIVATE KEY|wrapped/i);
    const no = await app.inject({
      method: 'GET',
      url: `/api/v1/entities/${a.dir3}/seals`,
      headers: await tokenHeaders(env, outsider),
    });
    assert.equal(no.statusCode, 404);
    assert.equal(no.json().code, 'ENTITY_NOT_FOUND');
  });

  it('imports a PKCS#12 made with openssl, deactivating the previous seal; audited', async () => {
    const now = env.clock.now();
    const caKeys = await generateSigningKeyPair();
    const caPem = await createSelfSignedCa({
      subject: [['CN', 'T-CAT de prova']],
      keys: caKeys,
      notBefore: now,
      notAfter: new Date(now.getTime() + 400 * 86400_000),
    });
    const keys = await generateSigningKeyPair();
    const certPem = await issueSigningCertificate({
      subject: [
        ['O', a.name],
        ['CN', 'Segell real'],
      ],
      publicKey: keys.publicKey,
      issuerCertificatePem: caPem,
      issuerPrivateKey: caKeys.privateKey,
      notBefore: now,
      notAfter: new Date(now.getTime() + 300 * 86400_000),
    });
    const keyFile = write(
      'real.key',
      `-----BEGIN PRIVATE KEY-----\n${(await exportPkcs8(keys.privateKey)).toString('base64')}\n-----END PRIVATE KEY-----\n`,
    );
    const p12File = path.join(dir, 'real.p12');
    openssl(
      'pkcs12',
      '-export',
      '-inkey',
      keyFile,
      '-in',
      write('real.pem', certPem),
      '-certfile',
      write('tcat.pem', caPem),
      '-passout',
      'pass:clau secreta',
      '-out',
      p12File,
    );
    const p12 = fs.readFileSync(p12File);

    await assert.rejects(
      env.db.tenant(a.id, (tx) =>
        importSeal(tx, ctxFor(a), env.config, { p12, password: 'wrong', qualified: true }),
      ),
      (e: unknown) => e instanceof AppError && e.code === 'VALIDATION_FAILED',
    );
    const before = await env.db.tenant(a.id, (tx) => getActiveSeal(tx, ctxFor(a), env.config));
    const r = await env.db.tenant(a.id, (tx) =>
      importSeal(tx, ctxFor(a), env.config, { p12, password: 'clau secreta', qualified: true }),
    );
    assert.deepEqual(r.previous, [before.id]);
    const seal = await env.db.tenant(a.id, (tx) => getActiveSeal(tx, ctxFor(a), env.config));
    assert.equal(seal.id, r.id);
    assert.equal(seal.qualified, true);
    assert.equal(seal.source, 'pkcs12');
    assert.equal(seal.chainPem.trim(), caPem.trim());
    assert.deepEqual(await exportPkcs8(seal.privateKey), await exportPkcs8(keys.privateKey));
    const rows = await env.db.tenant(a.id, (tx) =>
      tx.selectFrom('seals').select(['id', 'active', 'deactivated_at']).orderBy('created_at').execute(),
    );
    assert.deepEqual(
      rows.map((x) => x.active),
      [false, true],
    );
    assert.ok(rows[0]!.deactivated_at);
    const events = await env.db.tenant(a.id, (tx) =>
      tx
        .selectFrom('audit_events')
        .select(['action', 'object_id'])
        .where('action', 'like', 'seal.%')
        .orderBy('seq')
        .execute(),
    );
    assert.deepEqual(
      events.map((e) => e.action),
      ['seal.create', 'seal.import'],
    );
    assert.equal(events[1]!.object_id, r.id);
    // The same certificate twice is a conflict; ensureEntitySeal leaves the imported seal alone.
    await assert.rejects(
      env.db.tenant(a.id, (tx) =>
        importSeal(tx, ctxFor(a), env.config, { p12, password: 'clau secreta', qualified: true }),
      ),
      (e: unknown) => e instanceof AppError && e.code === 'CONFLICT',
    );
    assert.deepEqual(await ensureEntitySeal(env, a.id), { created: false });
  });

  it('rotates the master key: keys re-wrapped in one transaction, checkpoints re-sealed, resumable', async () => {
    const oldKey = sealKey(loadMasterKey(env.config));
    const cp = await sealChain(env, oldKey, a.id);
    assert.equal(cp.status, 'sealed');
    const seq = (cp as { seq: number }).seq;
    const newKeyFile = write('new-master.key', randomBytes(32));
    const who = { actor: cliActor, request: noRequest };
    const r = await rotateMasterKey(env, newKeyFile, who);
    assert.deepEqual(r, {
      keysRewrapped: 3,
      keysAlreadyRotated: 0,
      secretsRewrapped: 0,
      secretsAlreadyRotated: 0,
      checkpointsResealed: 1,
      checkpointsAlreadyRotated: 0,
    });
    const newConfig = { env: 'test', masterKeyFile: newKeyFile };
    const seal = await env.db.tenant(a.id, (tx) => getActiveSeal(tx, ctxFor(a), newConfig));
    assert.equal(seal.qualified, true);
    await assert.rejects(
      env.db.tenant(a.id, (tx) => getActiveSeal(tx, ctxFor(a), env.config)),
      KeyUnwrapError,
    );
    const newSealKey = sealKey(fs.readFileSync(newKeyFile));
    assert.equal((await loadCheckpoint(env.blobs, newSealKey, a.id, seq, { checkHashes: true })).ok, true);
    assert.equal((await loadCheckpoint(env.blobs, oldKey, a.id, seq, { checkHashes: false })).ok, false);
    // Run again (as after an interruption): everything is recognised as done.
    assert.deepEqual(await rotateMasterKey(env, newKeyFile, who), {
      keysRewrapped: 0,
      keysAlreadyRotated: 3,
      secretsRewrapped: 0,
      secretsAlreadyRotated: 0,
      checkpointsResealed: 0,
      checkpointsAlreadyRotated: 1,
    });
    await assert.rejects(
      rotateMasterKey(env, env.config.masterKeyFile, who),
      (e: unknown) => e instanceof AppError,
    );
  });

  it('refuses to create the demo CA in production', async () => {
    const prod = await openTestEnv();
    try {
      const t = await makeTenant(prod);
      const config = { ...prod.config, env: 'production' as const };
      fs.mkdirSync(path.dirname(config.masterKeyFile), { recursive: true });
      fs.writeFileSync(config.masterKeyFile, randomBytes(32));
      await assert.rejects(
        ensureInstallationCa({ ...prod, config }),
        (e: unknown) => e instanceof AppError && e.code === 'FORBIDDEN',
      );
      await assert.rejects(
        ensureEntitySeal({ ...prod, config }, t.id),
        (e: unknown) => e instanceof AppError && e.code === 'FORBIDDEN',
      );
      const n = await prod.db.platform((tx) => tx.selectFrom('installation_ca').select('id').execute());
      assert.equal(n.length, 0);
    } finally {
      await prod.close();
    }
  });
});

describe('resolutions behind automated actions and the CSV system', () => {
  it('are recorded by an administrator with an incorporated document, listed, found for an action, revoked once', async () => {
    const admin = await makeUser(env, { tenant: a, roles: ['admin'], totp: true });
    const viewer = await makeUser(env, { tenant: a, roles: ['viewer'] });
    const outsider = await makeUser(env, { tenant: b, roles: ['admin'], totp: true });
    const adminH = await tokenHeaders(env, admin);
    const doc = (incorporatedAt: Date | null) =>
      env.db.tenant(a.id, (tx) =>
        insertDocument(tx, ctxFor(a), {
          title: 'Decret d’aprovació',
          fileName: 'decret.pdf',
          mimeType: 'application/pdf',
          sha256: randomBytes(32).toString('hex'),
          size: 1000,
          documentType: 'TD01',
          elaborationState: 'EE01',
          origin: 'administration',
          incorporatedAt,
          year: 2026,
        }),
      );
    const final = await doc(env.clock.now());
    const draft = await doc(null);
    const url = `/api/v1/entities/${a.dir3}/automation-resolutions`;
    const body = {
      kind: 'automated_action',
      title: 'Actuació administrativa automatitzada: justificants de registre',
      reference: 'Decret 2026/000017',
      approvedOn: '2026-01-15',
      responsibleBody: 'Secretaria-Intervenció',
      actions: ['registry_receipt'],
      publication: 'BOP de Lleida, 2026-01-20',
      documentId: final.id,
    };
    const post = async (headers: Record<string, string>, payload: unknown) =>
      app.inject({ method: 'POST', url, headers, payload: payload as Record<string, unknown> });

    assert.equal((await post(await tokenHeaders(env, viewer), body)).statusCode, 403);
    assert.equal((await post(await tokenHeaders(env, outsider), body)).statusCode, 404);
    const onDraft = await post(adminH, { ...body, documentId: draft.id });
    assert.equal(onDraft.statusCode, 400, onDraft.body);
    assert.match(onDraft.json().detail ?? onDraft.body, /incorporated/);
    assert.equal((await post(adminH, { ...body, actions: ['make_coffee'] })).statusCode, 400);
    assert.equal((await post(adminH, { ...body, actions: [] })).statusCode, 400);

    const r1 = await post(adminH, body);
    assert.equal(r1.statusCode, 201, r1.body);
    const auto = r1.json();
    assert.equal(auto.inForce, true);
    assert.equal(auto.document.sha256, final.sha256);
    const r2 = await post(adminH, {
      ...body,
      kind: 'csv_system',
      title: 'Aprovació del sistema de codi segur de verificació',
      reference: 'Decret 2026/000018',
      actions: [],
      publication: null,
    });
    assert.equal(r2.statusCode, 201, r2.body);

    const list = await app.inject({ method: 'GET', url, headers: await tokenHeaders(env, viewer) });
    assert.equal(list.statusCode, 200);
    assert.equal(list.json().resolutions.length, 2);

    const found = await env.db.tenant(a.id, async (tx) => ({
      receipt: await findAuthorisingResolution(tx, ctxFor(a), 'registry_receipt', '2026-03-01'),
      before: await findAuthorisingResolution(tx, ctxFor(a), 'registry_receipt', '2026-01-14'),
      index: await findAuthorisingResolution(tx, ctxFor(a), 'index_seal', '2026-03-01'),
      csv: await findAuthorisingResolution(tx, ctxFor(a), null, '2026-03-01'),
    }));
    assert.equal(found.receipt?.id, auto.id);
    assert.equal(found.before, null);
    assert.equal(found.index, null);
    assert.equal(found.csv?.id, r2.json().id);

    const revokeUrl = `${url}/${auto.id}/revoke`;
    const rv = await app.inject({
      method: 'POST',
      url: revokeUrl,
      headers: adminH,
      payload: { revokedOn: '2026-06-01', reason: 'Substituïda pel Decret 2026/000090' },
    });
    assert.equal(rv.statusCode, 200, rv.body);
    assert.equal(rv.json().revokedOn, '2026-06-01');
    const again = await app.inject({
      method: 'POST',
      url: revokeUrl,
      headers: adminH,
      payload: { revokedOn: '2026-07-01', reason: 'x' },
    });
    assert.equal(again.statusCode, 409);
    const inJune = await env.db.tenant(a.id, (tx) =>
      findAuthorisingResolution(tx, ctxFor(a), 'registry_receipt', '2026-06-01'),
    );
    assert.equal(inJune, null);

    // The application role cannot edit or delete a resolution behind the service's back.
    await assert.rejects(
      env.db.tenant(a.id, (tx) =>
        tx
          .updateTable('automation_resolutions')
          .set({ title: 'altered' })
          .where('id', '=', auto.id)
          .execute(),
      ),
      /only be revoked/,
    );
    await assert.rejects(
      env.db.tenant(a.id, (tx) =>
        tx.deleteFrom('automation_resolutions').where('id', '=', auto.id).execute(),
      ),
      /permission denied|never deleted/,
    );
    const events = await env.db.tenant(a.id, (tx) =>
      tx
        .selectFrom('audit_events')
        .select('action')
        .where('action', 'like', 'automation_resolution.%')
        .execute(),
    );
    assert.deepEqual(events.map((e) => e.action).sort(), [
      'automation_resolution.create',
      'automation_resolution.create',
      'automation_resolution.revoke',
    ]);
  });
});
