import assert from 'node:assert/strict';
import { createHash, verify, X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { noRequest } from '#platform/context.ts';
import { certificateFacts, splitPemCertificates } from '#platform/crypto/certs.ts';
import type { AppError } from '#platform/errors.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { getInstallationCaPem } from '#modules/seals/seals.service.ts';
import { CscHttpClient } from '#modules/signatures/csc/csc.client.ts';
import { LocalCscService } from '#modules/signatures/csc/csc.local.ts';
import { OID } from '#modules/signatures/csc/csc.types.ts';
import {
  currentTotp,
  makeServer,
  makeTenant,
  makeToken,
  makeUser,
  openTestEnv,
  type TestEnv,
  type TestUser,
} from '#test/helpers/harness.ts';

let env: TestEnv;
let app: FastifyInstance;
let alice: TestUser;
let bob: TestUser;
let aliceToken: string;
let bobToken: string;
let baseUrl: string;
let aliceClient: CscHttpClient;
let bobClient: CscHttpClient;
let aliceCredential: string;
let aliceCert: X509Certificate;

const digest = (data: string) => createHash('sha256').update(data).digest('base64');
const code = (e: unknown) => (e as AppError).code;
/** A fresh TOTP code: each code confirms one act, so move to the next 30-second step first. */
function nextTotp(user: TestUser): string {
  env.clock.advance(31_000);
  return currentTotp(env, user);
}

before(async () => {
  env = await openTestEnv();
  app = await makeServer(env);
  await app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/csc/v2`;
  const tenant = await makeTenant(env);
  alice = await makeUser(env, { tenant, roles: ['signer'], totp: true });
  bob = await makeUser(env, { tenant, roles: ['signer'] });
  aliceToken = await makeToken(env, alice);
  bobToken = await makeToken(env, bob);
  aliceClient = new CscHttpClient({ baseUrl, accessToken: () => aliceToken });
  bobClient = new CscHttpClient({ baseUrl, accessToken: () => bobToken });
});

after(async () => {
  await app?.close();
  await env?.close();
});

describe('local CSC v2 service', () => {
  it('lists one demo credential per user, issued by the installation CA and labelled demo', async () => {
    const ids = await aliceClient.listCredentials();
    assert.equal(ids.length, 1);
    assert.deepEqual(await aliceClient.listCredentials(), ids, 'the same credential on the next call');
    aliceCredential = ids[0]!;
    const info = await aliceClient.credentialInfo(aliceCredential);
    assert.equal(info.authMode, 'explicit');
    assert.ok(info.keyAlgo.includes(OID.rsaEncryption));
    const chain = splitPemCertificates(info.certificates);
    assert.equal(chain.length, 2);
    aliceCert = new X509Certificate(chain[0]!);
    const facts = certificateFacts(chain[0]!);
    assert.match(facts.subject, /\(demo — no qualificat\)/);
    assert.deepEqual([...facts.keyUsage].sort(), ['digitalSignature', 'nonRepudiation']);
    const caPem = await getInstallationCaPem(env.db);
    assert.ok(caPem);
    assert.ok(aliceCert.verify(new X509Certificate(caPem).publicKey), 'issued by the installation CA');
    assert.equal(new X509Certificate(chain[1]!).fingerprint256, new X509Certificate(caPem).fingerprint256);
    // Stored wrapped: the row holds no PKCS#8 key in the clear.
    const row = await env.db.owner((tx) =>
      tx
        .selectFrom('demo_signing_keys')
        .select('wrapped_key')
        .where('id', '=', aliceCredential)
        .executeTakeFirstOrThrow(),
    );
    assert.notEqual(Buffer.from(row.wrapped_key).subarray(0, 2).toString('hex'), '3082');
  });

  it('signs a SHA-256 hash, after the TOTP code, that verifies with the certificate’s public key', async () => {
    const data = 'Decret 2026/000001: aprovar la llicència';
    const hash = digest(data);
    const { sad, expiresIn } = await aliceClient.authorize(aliceCredential, 1, [hash], {
      otp: nextTotp(alice),
    });
    assert.ok(expiresIn > 0 && expiresIn <= 300);
    const [sig] = await aliceClient.signHash(aliceCredential, sad, [hash], OID.sha256WithRSAEncryption);
    assert.ok(verify('sha256', Buffer.from(data), aliceCert.publicKey, Buffer.from(sig!, 'base64')));
    assert.ok(!verify('sha256', Buffer.from(`${data}.`), aliceCert.publicKey, Buffer.from(sig!, 'base64')));
  });

  it('signs a batch of hashes with one authorisation', async () => {
    const docs = ['u', 'dos', 'tres'];
    const hashes = docs.map(digest);
    const { sad } = await aliceClient.authorize(aliceCredential, 3, hashes, { otp: nextTotp(alice) });
    const sigs = await aliceClient.signHash(aliceCredential, sad, hashes, OID.sha256WithRSAEncryption);
    for (const [i, d] of docs.entries()) {
      assert.ok(verify('sha256', Buffer.from(d), aliceCert.publicKey, Buffer.from(sigs[i]!, 'base64')));
    }
  });

  it('refuses a wrong TOTP code, a code used twice and a password instead of TOTP, with CSC_OTP_INVALID', async () => {
    const hash = digest('x');
    await assert.rejects(aliceClient.authorize(aliceCredential, 1, [hash], { otp: '000000' }), (e) => {
      assert.equal(code(e), 'CSC_OTP_INVALID');
      return true;
    });
    const res = await app.inject({
      method: 'POST',
      url: '/csc/v2/credentials/authorize',
      headers: { authorization: `Bearer ${aliceToken}` },
      payload: {
        credentialID: aliceCredential,
        numSignatures: 1,
        hashes: [hash],
        authData: [{ id: 'OTP', value: '123456' }],
      },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(res.json().code, 'CSC_OTP_INVALID');
    assert.equal(res.json().error, 'invalid_otp');
    const otp = nextTotp(alice);
    await aliceClient.authorize(aliceCredential, 1, [hash], { otp });
    await assert.rejects(
      aliceClient.authorize(aliceCredential, 1, [hash], { otp }),
      (e) => code(e) === 'CSC_OTP_INVALID',
    );
    await assert.rejects(
      aliceClient.authorize(aliceCredential, 1, [hash], { pin: alice.password }),
      (e) => code(e) === 'CSC_OTP_INVALID',
    );
    const refused = await env.db.owner((tx) =>
      sql<{
        n: string;
      }>`select count(*) as n from audit_events where tenant_id = ${PLATFORM_TENANT} and action = 'csc.authorize_refused'`.execute(
        tx,
      ),
    );
    assert.equal(Number(refused.rows[0]!.n), 4);
  });

  it('refuses a SAD used twice, expired, or for other hashes', async () => {
    const h1 = digest('primer');
    const h2 = digest('segon');
    const { sad } = await aliceClient.authorize(aliceCredential, 1, [h1], { otp: nextTotp(alice) });
    await assert.rejects(
      aliceClient.signHash(aliceCredential, sad, [h2], OID.sha256WithRSAEncryption),
      (e) => code(e) === 'CSC_REMOTE_ERROR' && (e as AppError).details?.remoteCode === 'CSC_SAD_INVALID',
    );
    await aliceClient.signHash(aliceCredential, sad, [h1], OID.sha256WithRSAEncryption);
    const reuse = await app.inject({
      method: 'POST',
      url: '/csc/v2/signatures/signHash',
      headers: { authorization: `Bearer ${aliceToken}` },
      payload: {
        credentialID: aliceCredential,
        SAD: sad,
        hashes: [h1],
        signAlgo: OID.sha256WithRSAEncryption,
      },
    });
    assert.equal(reuse.statusCode, 400);
    assert.equal(reuse.json().code, 'CSC_SAD_USED');
    const late = await aliceClient.authorize(aliceCredential, 1, [h1], { otp: nextTotp(alice) });
    env.clock.advance(301_000);
    const expired = await app.inject({
      method: 'POST',
      url: '/csc/v2/signatures/signHash',
      headers: { authorization: `Bearer ${aliceToken}` },
      payload: {
        credentialID: aliceCredential,
        SAD: late.sad,
        hashes: [h1],
        signAlgo: OID.sha256WithRSAEncryption,
      },
    });
    assert.equal(expired.json().code, 'CSC_SAD_EXPIRED');
    const used = await env.db.owner((tx) =>
      sql<{
        n: string;
      }>`select count(*) as n from audit_events where tenant_id = ${PLATFORM_TENANT} and action = 'csc.sign_hash'`.execute(
        tx,
      ),
    );
    assert.equal(Number(used.rows[0]!.n), 3);
  });

  it('a user without TOTP confirms with the password (demo only); another user’s credential is not found', async () => {
    const [bobCredential] = await bobClient.listCredentials();
    assert.ok(bobCredential && bobCredential !== aliceCredential);
    const hash = digest('bob');
    await assert.rejects(
      bobClient.authorize(bobCredential, 1, [hash], { pin: 'wrong-password' }),
      (e) => code(e) === 'CSC_PIN_INVALID',
    );
    const { sad } = await bobClient.authorize(bobCredential, 1, [hash], { pin: bob.password });
    const [sig] = await bobClient.signHash(bobCredential, sad, [hash], OID.sha256WithRSAEncryption);
    const bobCert = new X509Certificate(
      splitPemCertificates((await bobClient.credentialInfo(bobCredential)).certificates)[0]!,
    );
    assert.ok(verify('sha256', Buffer.from('bob'), bobCert.publicKey, Buffer.from(sig!, 'base64')));
    await assert.rejects(
      bobClient.credentialInfo(aliceCredential),
      (e) => (e as AppError).details?.remoteCode === 'CSC_CREDENTIAL_NOT_FOUND',
    );
    assert.deepEqual(await bobClient.listCredentials(alice.id), []);
    const anon = await app.inject({ method: 'POST', url: '/csc/v2/credentials/list', payload: {} });
    assert.equal(anon.statusCode, 401);
  });

  it('in process, the same service behind the same interface', async () => {
    const local = new LocalCscService(env, { userId: alice.id, label: alice.username, request: noRequest });
    assert.deepEqual(await local.listCredentials(), [aliceCredential]);
    const hash = digest('en procés');
    const { sad } = await local.authorize(aliceCredential, 1, [hash], { otp: nextTotp(alice) });
    const [sig] = await local.signHash(aliceCredential, sad, [hash], OID.sha256WithRSAEncryption);
    assert.ok(verify('sha256', Buffer.from('en procés'), aliceCert.publicKey, Buffer.from(sig!, 'base64')));
    await assert.rejects(
      local.signHash(aliceCredential, sad, [hash], OID.sha256WithRSAEncryption),
      (e) => code(e) === 'CSC_SAD_USED',
    );
  });
});

describe('local CSC v2 service in production', () => {
  it('does not exist', async () => {
    const prod = await openTestEnv({ config: { env: 'production' } });
    const server = await makeServer(prod);
    try {
      for (const op of ['info', 'credentials/list', 'credentials/authorize', 'signatures/signHash']) {
        const r = await server.inject({ method: 'POST', url: `/csc/v2/${op}`, payload: {} });
        assert.equal(r.statusCode, 404, `${op}: ${r.body}`);
      }
      assert.throws(
        () => new LocalCscService(prod, { userId: alice.id, label: 'x', request: noRequest }),
        (e) => code(e) === 'FORBIDDEN',
      );
    } finally {
      await server.close();
      await prod.close();
    }
  });
});
