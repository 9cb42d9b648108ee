import { X509Certificate } from 'node:crypto';
import { AppError, type ErrorCode } from '#platform/errors.ts';
import {
  type CredentialInfo,
  OID,
  type RemoteSigningService,
  type SecondFactor,
  type SignatureActivation,
} from './csc.types.ts';

/**
 * A CSC API v2 client over HTTP: the adapter to a remote signing service — the AOC's centralised
 * signer in production, or Lligall's own local service (`/csc/v2`) in demo and tests.
 *
 * - `baseUrl`: the service's CSC base, ending in `/csc/v2` or the provider's equivalent
 *   (e.g. `https://signer.example/csc/v2`); operations are POSTed to `<baseUrl>/<operation>`.
 * - `accessToken`: the OAuth2 bearer token to send, per user. With the AOC it is obtained by an
 *   OAuth2 authorisation-code flow of the signer (scope `service`, then `credential` for the
 *   credential), which needs client credentials the AOC issues to each integrator: see
 *   docs/remote-signing.md. The local service takes the user's Lligall API token.
 *
 * CSC errors (`{ error, error_description }`) become AppErrors: invalid_otp → CSC_OTP_INVALID,
 * invalid_pin → CSC_PIN_INVALID, anything else CSC_REMOTE_ERROR (502) with the error in details.
 */
export type CscClientOptions = {
  baseUrl: string;
  accessToken: (userRef: string | undefined) => string | Promise<string>;
  /** The user the calls are made for (passed to `accessToken` and as CSC `userID` when the service wants it). */
  userRef?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
};

const KNOWN: Record<string, ErrorCode> = {
  invalid_otp: 'CSC_OTP_INVALID',
  invalid_pin: 'CSC_PIN_INVALID',
};

function toPem(der: string): string {
  const b64 = Buffer.from(der, 'base64').toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

export class CscHttpClient implements RemoteSigningService {
  readonly #o: CscClientOptions;
  constructor(options: CscClientOptions) {
    this.#o = { ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') };
  }

  async #call<T>(operation: string, body: Record<string, unknown>): Promise<T> {
    const token = await this.#o.accessToken(this.#o.userRef);
    const f = this.#o.fetch ?? fetch;
    let res: Response;
    try {
      res = await f(`${this.#o.baseUrl}/${operation}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.#o.timeoutMs ?? 30_000),
      });
    } catch (e) {
      throw new AppError(
        'CSC_REMOTE_ERROR',
        `The signing service did not answer ${operation}: ${(e as Error).message}`,
      );
    }
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      // not JSON: reported below with the status
    }
    if (!res.ok) {
      const error = typeof json.error === 'string' ? json.error : `http_${res.status}`;
      const description =
        typeof json.error_description === 'string'
          ? json.error_description
          : typeof json.detail === 'string'
            ? json.detail
            : text.slice(0, 300);
      throw new AppError(KNOWN[error] ?? 'CSC_REMOTE_ERROR', `${operation}: ${error}: ${description}`, {
        status: res.status,
        error,
        error_description: description,
        ...(typeof json.code === 'string' ? { remoteCode: json.code } : {}),
      });
    }
    return json as T;
  }

  async listCredentials(userRef?: string): Promise<string[]> {
    const r = await this.#call<{ credentialIDs?: string[] }>(
      'credentials/list',
      userRef ? { userID: userRef } : {},
    );
    return r.credentialIDs ?? [];
  }

  async credentialInfo(credentialId: string): Promise<CredentialInfo> {
    const r = await this.#call<{
      description?: string;
      key?: { algo?: string[]; len?: number };
      cert?: { certificates?: string[] };
      auth?: { mode?: string };
      authMode?: string;
      multisign?: number;
    }>('credentials/info', {
      credentialID: credentialId,
      certificates: 'chain',
      certInfo: true,
      authInfo: true,
    });
    const certs = r.cert?.certificates ?? [];
    if (certs.length === 0)
      throw new AppError('CSC_REMOTE_ERROR', 'credentials/info returned no certificate');
    for (const c of certs) new X509Certificate(Buffer.from(c, 'base64')); // refuses a malformed one
    const mode = r.auth?.mode ?? r.authMode;
    return {
      certificates: certs.map(toPem).join(''),
      keyAlgo: r.key?.algo ?? [],
      keyLength: r.key?.len ?? 0,
      description: r.description ?? '',
      authMode: mode === 'oauth2code' ? 'oauth2code' : 'explicit',
      multisign: r.multisign ?? 1,
    };
  }

  async authorize(
    credentialId: string,
    numSignatures: number,
    hashes: string[],
    secondFactor: SecondFactor,
  ): Promise<SignatureActivation> {
    const authData = [
      ...(secondFactor.otp ? [{ id: 'OTP', value: secondFactor.otp }] : []),
      ...(secondFactor.pin ? [{ id: 'PIN', value: secondFactor.pin }] : []),
    ];
    const r = await this.#call<{ SAD?: string; expiresIn?: number }>('credentials/authorize', {
      credentialID: credentialId,
      numSignatures,
      hashes,
      hashAlgorithmOID: OID.sha256,
      ...(authData.length ? { authData } : {}),
    });
    if (!r.SAD) throw new AppError('CSC_REMOTE_ERROR', 'credentials/authorize returned no SAD');
    return { sad: r.SAD, expiresIn: r.expiresIn ?? 3600 };
  }

  async signHash(credentialId: string, sad: string, hashes: string[], signAlgo: string): Promise<string[]> {
    const r = await this.#call<{ signatures?: string[] }>('signatures/signHash', {
      credentialID: credentialId,
      SAD: sad,
      hashes,
      hashAlgorithmOID: OID.sha256,
      signAlgo,
    });
    if (!r.signatures || r.signatures.length !== hashes.length)
      throw new AppError('CSC_REMOTE_ERROR', 'signatures/signHash returned a different number of signatures');
    return r.signatures;
  }
}
