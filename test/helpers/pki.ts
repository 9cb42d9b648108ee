import {
  createSelfSignedCa,
  generateSigningKeyPair,
  issueSigningCertificate,
} from '#platform/crypto/certs.ts';
import type { SigningIdentity } from '#platform/pdf/cades.ts';

/**
 * A throw-away CA (valid from an hour ago to tomorrow) and a signing certificate it issued, for
 * tests that sign with a key Lligall does not hold: `signer` signs, `caPem` is what a verifier
 * (openssl, pdfsig through NSS, our trust store) must be told to trust.
 */
export async function testSigningIdentity(
  subjectCn = "Segell d'òrgan de prova",
): Promise<{ caPem: string; signer: SigningIdentity }> {
  const now = new Date();
  const caKeys = await generateSigningKeyPair();
  const caPem = await createSelfSignedCa({
    subject: [
      ['C', 'ES'],
      ['O', 'Lligall test'],
      ['CN', 'Lligall test CA'],
    ],
    keys: caKeys,
    notBefore: new Date(now.getTime() - 3600_000),
    notAfter: new Date(now.getTime() + 86400_000),
  });
  const keys = await generateSigningKeyPair();
  const certificatePem = await issueSigningCertificate({
    subject: [
      ['C', 'ES'],
      ['O', 'Ajuntament de Prova'],
      ['CN', subjectCn],
    ],
    publicKey: keys.publicKey,
    issuerCertificatePem: caPem,
    issuerPrivateKey: caKeys.privateKey,
    notBefore: new Date(now.getTime() - 3600_000),
    notAfter: new Date(now.getTime() + 86400_000),
  });
  return { caPem, signer: { certificatePem, chainPem: caPem, privateKey: keys.privateKey } };
}
