import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  certificateFacts,
  createSelfSignedCa,
  exportPkcs8,
  generateSigningKeyPair,
  issueSigningCertificate,
  Pkcs12Error,
  readPkcs12,
} from './certs.ts';

test('a CA issues a signing certificate that openssl verifies; PKCS#12 from openssl reads back', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-certs-'));
  try {
    const now = new Date();
    const later = new Date(now.getTime() + 365 * 86400_000);
    const caKeys = await generateSigningKeyPair();
    const caPem = await createSelfSignedCa({
      subject: [['CN', 'Test CA — ò']],
      keys: caKeys,
      notBefore: now,
      notAfter: later,
    });
    const keys = await generateSigningKeyPair();
    const pem = await issueSigningCertificate({
      subject: [
        ['C', 'ES'],
        ['O', "Ajuntament d'Òdena"],
        ['serialNumber', 'L01251234'],
        ['CN', 'Segell'],
      ],
      publicKey: keys.publicKey,
      issuerCertificatePem: caPem,
      issuerPrivateKey: caKeys.privateKey,
      notBefore: now,
      notAfter: later,
    });
    const ca = certificateFacts(caPem);
    assert.equal(ca.isCa, true);
    assert.deepEqual(ca.keyUsage, ['keyCertSign', 'cRLSign']);
    const f = certificateFacts(pem);
    assert.deepEqual(f.keyUsage, ['digitalSignature', 'nonRepudiation']);
    assert.equal(f.isCa, false);
    assert.match(f.fingerprintSha256, /^[0-9a-f]{64}$/);
    fs.writeFileSync(path.join(dir, 'ca.pem'), caPem);
    fs.writeFileSync(path.join(dir, 'c.pem'), pem);
    const out = execFileSync('openssl', [
      'verify',
      '-CAfile',
      path.join(dir, 'ca.pem'),
      path.join(dir, 'c.pem'),
    ]);
    assert.match(out.toString(), /OK/);

    fs.writeFileSync(
      path.join(dir, 'k.pem'),
      `-----BEGIN PRIVATE KEY-----\n${(await exportPkcs8(keys.privateKey)).toString('base64')}\n-----END PRIVATE KEY-----\n`,
    );
    execFileSync('openssl', [
      'pkcs12',
      '-export',
      '-inkey',
      path.join(dir, 'k.pem'),
      '-in',
      path.join(dir, 'c.pem'),
      '-certfile',
      path.join(dir, 'ca.pem'),
      '-passout',
      'pass:s3cret',
      '-out',
      path.join(dir, 'x.p12'),
    ]);
    const p12 = fs.readFileSync(path.join(dir, 'x.p12'));
    const r = await readPkcs12(p12, 's3cret');
    assert.deepEqual(r.privateKeyPkcs8, await exportPkcs8(keys.privateKey));
    assert.equal(certificateFacts(r.certificatePem).fingerprintSha256, f.fingerprintSha256);
    assert.equal(r.chainPem.length, 1);
    assert.equal(certificateFacts(r.chainPem[0]!).fingerprintSha256, ca.fingerprintSha256);
    await assert.rejects(readPkcs12(p12, 'wrong'), Pkcs12Error);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
