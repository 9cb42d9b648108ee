import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createSelfSignedCa,
  generateSigningKeyPair,
  issueSigningCertificate,
} from '#platform/crypto/certs.ts';
import {
  localSigner,
  prepareCadesSignedAttributes,
  type Signer,
  signCadesDetachedWith,
} from '#platform/pdf/signer.ts';
import { signXadesDetached } from '#platform/xml/xades.ts';
import { opensslCmsVerify, xmlsecVerify } from '#test/helpers/pdf-tools.ts';

async function pki() {
  const now = Date.now();
  const validity = { notBefore: new Date(now - 3600_000), notAfter: new Date(now + 86400_000) };
  const caKeys = await generateSigningKeyPair();
  const caPem = await createSelfSignedCa({
    subject: [
      ['C', 'ES'],
      ['CN', 'Lligall test CA'],
    ],
    keys: caKeys,
    ...validity,
  });
  const keys = await generateSigningKeyPair();
  const certificatePem = await issueSigningCertificate({
    subject: [
      ['C', 'ES'],
      ['CN', 'Núria Puig i Çeşme'],
    ],
    publicKey: keys.publicKey,
    issuerCertificatePem: caPem,
    issuerPrivateKey: caKeys.privateKey,
    ...validity,
  });
  return { caPem, signer: localSigner({ certificatePem, chainPem: caPem, privateKey: keys.privateKey }) };
}

/**
 * A signer that only ever sees the digest, as a remote Cloud Signature Consortium service does
 * (`signatures/signHash`): the private key stays inside `remote`, behind a function that takes a
 * base64 hash and returns a base64 signature value.
 */
function remoteSigner(local: Signer): { signer: Signer; hashesSeen: string[] } {
  const hashesSeen: string[] = [];
  const remote = async (hashB64: string) => {
    hashesSeen.push(hashB64);
    return (await local.signDigest(Buffer.from(hashB64, 'base64'))).toString('base64');
  };
  return {
    hashesSeen,
    signer: {
      certificatePem: local.certificatePem,
      chainPem: local.chainPem,
      signDigest: async (digest) => Buffer.from(await remote(digest.toString('base64')), 'base64'),
    },
  };
}

const XML = Buffer.from(
  '<?xml version="1.0" encoding="UTF-8"?>\n<expedient id="E1"><títol>Llicència d’obres</títol><nota>a &amp; b</nota></expedient>\n',
);

describe('XAdES-BES detached, judged by xmlsec1', () => {
  it('xmlsec1 verifies it against the CA and the file next to it; SignedProperties carry SigningTime and SigningCertificateV2', async () => {
    const { caPem, signer } = await pki();
    const sig = await signXadesDetached(XML, signer, { uri: 'expedient.xml' });
    const v = xmlsecVerify(sig, caPem, { 'expedient.xml': XML });
    assert.equal(v.status, 0, v.out);
    assert.match(v.out, /OK/);
    assert.match(sig, /<ds:Reference Id="r-detached-content" URI="expedient.xml">/);
    assert.match(sig, /SigningTime>/);
    assert.match(sig, /SigningCertificateV2>/);
    assert.match(sig, /MimeType>application\/xml</);
  });

  it('fails after one byte of the file changes, and against another CA', async () => {
    const { caPem, signer } = await pki();
    const sig = await signXadesDetached(XML, signer, { uri: 'expedient.xml' });
    const tampered = Buffer.from(XML);
    tampered[XML.indexOf('obres')] = 'O'.charCodeAt(0);
    const v = xmlsecVerify(sig, caPem, { 'expedient.xml': tampered });
    assert.notEqual(v.status, 0, v.out);
    const other = await pki();
    assert.notEqual(xmlsecVerify(sig, other.caPem, { 'expedient.xml': XML }).status, 0);
  });

  it('fails when the signed properties are altered (the signing time)', async () => {
    const { caPem, signer } = await pki();
    const sig = await signXadesDetached(XML, signer, {
      uri: 'expedient.xml',
      signingTime: new Date('2026-03-02T10:00:00Z'),
    });
    assert.match(sig, /2026-03-02T10:00:00/);
    const altered = sig.replace('2026-03-02T10:00:00', '2026-03-01T10:00:00');
    assert.notEqual(xmlsecVerify(altered, caPem, { 'expedient.xml': XML }).status, 0);
  });

  it('signs any file as octets (a PDF-like binary) and with a signer that only sees the hash', async () => {
    const { caPem, signer } = await pki();
    const { signer: remote, hashesSeen } = remoteSigner(signer);
    const binary = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0x80, 0x0a, 0x0d]);
    const sig = await signXadesDetached(binary, remote, {
      uri: 'annex.bin',
      mimeType: 'application/octet-stream',
    });
    assert.equal(hashesSeen.length, 1);
    assert.equal(xmlsecVerify(sig, caPem, { 'annex.bin': binary }).status, 0);
  });
});

describe('CAdES detached for any file, judged by openssl cms -verify', () => {
  it('verifies with the CA and the content, fails with altered content', async () => {
    const { caPem, signer } = await pki();
    const file = Buffer.from('qualsevol fitxer — any file\n'.repeat(100));
    const p7s = await signCadesDetachedWith(file, signer);
    const v = opensslCmsVerify(p7s, file, caPem);
    assert.equal(v.status, 0, v.out);
    const altered = Buffer.from(file);
    altered[10] = altered[10]! ^ 1;
    assert.notEqual(opensslCmsVerify(p7s, altered, caPem).status, 0);
  });

  it('the external path (prepare → sign the digest elsewhere → assemble) verifies the same, and a wrong value is refused', async () => {
    const { caPem, signer } = await pki();
    const { signer: remote, hashesSeen } = remoteSigner(signer);
    const file = Buffer.from('%PDF-1.7 or anything else');
    const { createHash } = await import('node:crypto');
    const prepared = prepareCadesSignedAttributes(
      createHash('sha256').update(file).digest(),
      remote.certificatePem,
    );
    assert.equal(prepared.toBeSigned[0], 0x31, 'the signed attributes are encoded as a SET');
    assert.deepEqual(prepared.toBeSignedDigest, createHash('sha256').update(prepared.toBeSigned).digest());
    const value = await remote.signDigest(prepared.toBeSignedDigest);
    assert.deepEqual(hashesSeen, [prepared.toBeSignedDigest.toString('base64')]);
    const cms = prepared.assemble(value, remote.chainPem);
    const v = opensslCmsVerify(cms, file, caPem);
    assert.equal(v.status, 0, v.out);
    const wrong = Buffer.from(value);
    wrong[5] = wrong[5]! ^ 1;
    assert.throws(() => prepared.assemble(wrong, remote.chainPem), /does not verify/);
  });
});
