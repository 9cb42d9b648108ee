/**
 * The Cloud Signature Consortium API v2 (CSC, "Architectures and protocols for remote signature
 * applications", version 2.0.0.x), as Lligall uses it: how a person signs with a qualified
 * certificate kept under their sole control by a remote signing service (eIDAS art. 26, 29; in
 * Catalonia the AOC's centralised signer). Lligall computes the hashes (PAdES/CAdES/XAdES
 * signed attributes) and asks the service to sign them; the private key never leaves it.
 *
 * Methods follow the CSC v2 operations:
 * - `listCredentials`  → `credentials/list`
 * - `credentialInfo`   → `credentials/info`
 * - `authorize`        → `credentials/authorize` (explicit authorisation with the second factor,
 *                         answered with a Signature Activation Data bound to the hashes)
 * - `signHash`         → `signatures/signHash`
 */
export type RemoteSigningService = {
  /** The credential ids the user may sign with (CSC `credentialIDs`). */
  listCredentials(userRef?: string): Promise<string[]>;
  credentialInfo(credentialId: string): Promise<CredentialInfo>;
  authorize(
    credentialId: string,
    numSignatures: number,
    hashes: string[],
    secondFactor: SecondFactor,
  ): Promise<SignatureActivation>;
  /** One signature (base64) per hash, in order. `hashes` are base64 SHA-256 digests. */
  signHash(credentialId: string, sad: string, hashes: string[], signAlgo: string): Promise<string[]>;
};

export type CredentialInfo = {
  /** The certificate chain as PEM, the signer's certificate first. */
  certificates: string;
  /** The key's algorithm OIDs (CSC `key.algo`), e.g. rsaEncryption. */
  keyAlgo: string[];
  keyLength: number;
  /** Human-readable description of the credential. */
  description: string;
  /** CSC `auth.mode`: `explicit` — the SAD needs authorisation data (OTP/PIN) per request. */
  authMode: 'explicit' | 'oauth2code';
  /** How many hashes one SAD may sign. */
  multisign: number;
};

/** CSC authorisation data: `OTP` (the user's TOTP code) or `PIN` (demo only: the password of a user without TOTP). */
export type SecondFactor = { otp?: string; pin?: string };

/** A Signature Activation Data and its life in seconds (CSC `SAD`, `expiresIn`). */
export type SignatureActivation = { sad: string; expiresIn: number };

/** OIDs CSC v2 names algorithms with. */
export const OID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;
