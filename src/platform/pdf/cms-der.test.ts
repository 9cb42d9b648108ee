import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as pkijs from 'pkijs';
import { pemToDer, signCadesDetached } from '#platform/pdf/cades.ts';
import { withCertificates } from '#platform/pdf/cms-der.ts';
import { opensslCmsVerify } from '#test/helpers/pdf-tools.ts';
import { testSigningIdentity } from '#test/helpers/pki.ts';

async function identity() {
  const { caPem, signer } = await testSigningIdentity('Signant de prova');
  return { caPem, certificatePem: signer.certificatePem, privateKey: signer.privateKey };
}

const certificatesOf = (der: Buffer) => {
  const info = pkijs.ContentInfo.fromBER(der);
  const sd = new pkijs.SignedData({ schema: info.content });
  return (sd.certificates ?? []).map((c) => Buffer.from((c as pkijs.Certificate).toSchema().toBER(false)));
};

describe('CMS certificates spliced in as their own bytes', () => {
  it('a detached CAdES signature carries the signer and chain certificates byte for byte, and openssl verifies it with the CA', async () => {
    const id = await identity();
    const content = Buffer.from('Decret de prova — contingut signat');
    const sig = await signCadesDetached(content, {
      certificatePem: id.certificatePem,
      chainPem: id.caPem,
      privateKey: id.privateKey,
    });
    assert.deepEqual(certificatesOf(sig), [pemToDer(id.certificatePem), pemToDer(id.caPem)]);
    const good = opensslCmsVerify(sig, content, id.caPem);
    assert.equal(good.status, 0, good.out);
    assert.notEqual(opensslCmsVerify(sig, Buffer.from('un altre contingut'), id.caPem).status, 0);
  });

  it('refuses what is not a ContentInfo with SignedData, and a SignedData that has certificates already', async () => {
    const id = await identity();
    assert.throws(() => withCertificates(pemToDer(id.caPem), []), /not a ContentInfo with SignedData/);
    const sig = await signCadesDetached(Buffer.from('x'), {
      certificatePem: id.certificatePem,
      chainPem: '',
      privateKey: id.privateKey,
    });
    assert.throws(() => withCertificates(sig, [pemToDer(id.caPem)]), /already has certificates/);
    assert.throws(() => withCertificates(sig.subarray(0, sig.length - 10), []), /beyond the data/);
  });
});
