import assert from 'node:assert/strict';
import { createHash, webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  createSelfSignedCa,
  generateSigningKeyPair,
  issueSigningCertificate,
} from '#platform/crypto/certs.ts';
import { signCadesDetached, withPkijs } from '#platform/pdf/cades.ts';
import { opensslCmsVerify } from '#test/helpers/pdf-tools.ts';
import { testSigningIdentity } from '#test/helpers/pki.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

describe('CAdES detached signatures from a kept template', () => {
  it('after the first signature with a key, each one is byte for byte what pkijs builds, and openssl verifies it', async () => {
    const { caPem, signer } = await testSigningIdentity('Segell de plantilla');
    const first = Buffer.from('Justificant 1 — primer document signat amb la clau');
    const firstSig = await signCadesDetached(first, signer);
    assert.equal(opensslCmsVerify(firstSig, first, caPem).status, 0);
    for (const text of ['Justificant 2', 'Justificant 3 amb un altre contingut, més llarg']) {
      const content = Buffer.from(text);
      const sig = await signCadesDetached(content, signer);
      // RSASSA-PKCS1-v1_5 is deterministic: the same digest and key give the same signature.
      assert.deepEqual(sig, (await withPkijs(sha256(content), signer)).der);
      const r = opensslCmsVerify(sig, content, caPem);
      assert.equal(r.status, 0, r.out);
      assert.notEqual(opensslCmsVerify(sig, first, caPem).status, 0, 'it does not verify other content');
    }
  });

  it('another certificate chain with the same key gets its own template', async () => {
    const { caPem, signer } = await testSigningIdentity('Segell sense cadena');
    const content = Buffer.from('Contingut');
    const withChain = await signCadesDetached(content, signer);
    const withoutChain = await signCadesDetached(content, { ...signer, chainPem: '' });
    assert.ok(withoutChain.length < withChain.length - 200, 'the CA certificate is not in the second CMS');
    assert.deepEqual(withoutChain, (await withPkijs(sha256(content), { ...signer, chainPem: '' })).der);
    assert.equal(opensslCmsVerify(withChain, content, caPem).status, 0);
  });

  it('an ECDSA key, whose signature length varies, is signed by pkijs every time', async () => {
    const caKeys = await generateSigningKeyPair();
    const now = Date.now();
    const caPem = await createSelfSignedCa({
      subject: [['CN', 'CA de prova ECDSA']],
      keys: caKeys,
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + 86400_000),
    });
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const certificatePem = await issueSigningCertificate({
      subject: [['CN', 'Segell ECDSA']],
      publicKey: keys.publicKey,
      issuerCertificatePem: caPem,
      issuerPrivateKey: caKeys.privateKey,
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + 86400_000),
    });
    const ec = { certificatePem, chainPem: caPem, privateKey: keys.privateKey };
    for (let i = 0; i < 6; i++) {
      const content = Buffer.from(`document ${i}`);
      const r = opensslCmsVerify(await signCadesDetached(content, ec), content, caPem);
      assert.equal(r.status, 0, r.out);
    }
  });
});
