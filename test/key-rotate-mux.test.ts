import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { cliActor, noRequest } from '#platform/context.ts';
import { KeyUnwrapError } from '#platform/crypto/keywrap.ts';
import { AppError } from '#platform/errors.ts';
import { authenticateMux, configureMux, showMux } from '#modules/registry/mux/mux.service.ts';
import { rotateMasterKey } from '#modules/seals/rotate.ts';
import { ensureEntitySeal, getActiveSeal, operatorCtx } from '#modules/seals/seals.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { makeTenant, openTestEnv, type TestEnv } from '#test/helpers/harness.ts';

/**
 * `lligall key rotate` re-wraps everything stored under the master key, the MUX HS256 secrets
 * included (purpose `integration-secrets`): after a rotation MUX still authenticates.
 */

let env: TestEnv;
let a: Tenant;
let b: Tenant;
const secretA = randomBytes(40);
const secretB = randomBytes(48);
const ISSUER = 'MUXV3';
const who = { actor: cliActor, request: noRequest };

async function token(secret: Uint8Array, subject: string): Promise<string> {
  const iat = Math.floor(env.clock.now().getTime() / 1000);
  return new SignJWT({ user: '11111111H' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setSubject(subject)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + 60)
    .sign(secret);
}

const withKey = (masterKeyFile: string) => ({ ...env, config: { ...env.config, masterKeyFile } });
const wrappedSecrets = () =>
  env.db.owner((tx) =>
    tx.selectFrom('mux_credentials').select(['tenant_id', 'wrapped_secret']).orderBy('tenant_id').execute(),
  );

before(async () => {
  env = await openTestEnv();
  a = await makeTenant(env);
  b = await makeTenant(env);
  await configureMux(env, who, { entity: a.dir3, issuer: ISSUER, subject: a.dir3, secret: secretA });
  await configureMux(env, who, { entity: b.dir3, issuer: ISSUER, subject: b.dir3, secret: secretB });
  await ensureEntitySeal(env, a.id); // the installation CA and a's demo seal: 2 private keys
});
after(async () => {
  await env.close();
});

describe('key rotate and the MUX secrets', () => {
  it('refuses before any change when a MUX secret opens under neither key', async () => {
    const saved = await wrappedSecrets();
    const bad = Buffer.from(saved.find((r) => r.tenant_id === b.id)!.wrapped_secret);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0xff;
    await env.db.owner((tx) =>
      tx.updateTable('mux_credentials').set({ wrapped_secret: bad }).where('tenant_id', '=', b.id).execute(),
    );
    const newKeyFile = path.join(env.dataDir, 'refused.key');
    fs.writeFileSync(newKeyFile, randomBytes(32));
    await assert.rejects(rotateMasterKey(env, newKeyFile, who), KeyUnwrapError);
    // The transaction rolled back: a's secret and the private keys are still under the old key.
    const auth = await authenticateMux(env, a.dir3, await token(secretA, a.dir3));
    assert.equal(auth.tenant.id, a.id);
    await env.db.tenant(a.id, (tx) =>
      getActiveSeal(tx, operatorCtx(a, cliActor, noRequest, env.clock), env.config),
    );
    const original = saved.find((r) => r.tenant_id === b.id)!.wrapped_secret;
    await env.db.owner((tx) =>
      tx
        .updateTable('mux_credentials')
        .set({ wrapped_secret: Buffer.from(original) })
        .where('tenant_id', '=', b.id)
        .execute(),
    );
  });

  it('re-wraps every MUX secret in the rotation: MUX authenticates under the new key, not the old; resumable', async () => {
    const before = await env.db.owner((tx) =>
      tx.selectFrom('mux_credentials').select(['tenant_id', 'configured_by', 'configured_at']).execute(),
    );
    const newKeyFile = path.join(env.dataDir, 'new-master.key');
    fs.writeFileSync(newKeyFile, randomBytes(32));
    const r = await rotateMasterKey(env, newKeyFile, who);
    assert.equal(r.keysRewrapped, 2);
    assert.equal(r.secretsRewrapped, 2);
    assert.equal(r.secretsAlreadyRotated, 0);

    const rotated = withKey(newKeyFile);
    for (const [t, secret] of [
      [a, secretA],
      [b, secretB],
    ] as const) {
      const auth = await authenticateMux(rotated, t.dir3, await token(secret, t.dir3));
      assert.equal(auth.tenant.id, t.id);
      assert.equal(auth.caller.issuer, ISSUER);
      assert.equal((await showMux(rotated, t.dir3))?.secretBytes, secret.length);
      // The old master key no longer opens it.
      await assert.rejects(authenticateMux(env, t.dir3, await token(secret, t.dir3)), KeyUnwrapError);
    }
    // A token signed with another entity's secret is still refused after the rotation.
    await assert.rejects(
      authenticateMux(rotated, a.dir3, await token(secretB, a.dir3)),
      (e: unknown) => e instanceof AppError && e.code === 'MUX_TOKEN_INVALID',
    );
    // Who configured MUX, and when, is untouched: only the wrapping changed.
    const after = await env.db.owner((tx) =>
      tx.selectFrom('mux_credentials').select(['tenant_id', 'configured_by', 'configured_at']).execute(),
    );
    assert.deepEqual(after, before);

    // Run again (as after an interruption): the secrets are recognised as done.
    const again = await rotateMasterKey(env, newKeyFile, who);
    assert.equal(again.secretsRewrapped, 0);
    assert.equal(again.secretsAlreadyRotated, 2);
    assert.equal(again.keysAlreadyRotated, 2);

    const events = await env.db.owner((tx) =>
      tx
        .selectFrom('audit_events')
        .select('details')
        .where('action', '=', 'master_key.rotate')
        .orderBy('seq')
        .execute(),
    );
    assert.equal(events.length, 2, 'each committed rotation is audited (the refused one left nothing)');
    assert.equal((events[0]!.details as { secretsRewrapped: number }).secretsRewrapped, 2);
  });
});
