import { errors, jwtVerify } from 'jose';
import { AppError } from '#platform/errors.ts';

/** The longest life (exp − iat) a MUX token may have. The guide recommends "a few seconds". */
export const MUX_TOKEN_MAX_LIFE_SECONDS = 600;
/** Clock difference tolerated between MUX and this server, for exp, nbf and iat. */
export const MUX_CLOCK_SKEW_SECONDS = 60;

export type MuxTokenExpectation = { issuer: string; subject: string; secret: Uint8Array };

/** What a verified token says about the caller (guide 2.2: `user` and `name` only for traceability). */
export type MuxCaller = { issuer: string; subject: string; user: string | null; name: string | null };

/**
 * Verifies the JWT MUX v3 sends to an entity's registry (guide 2.2 and 5.2): HS256 only, the
 * issuer and subject agreed with the AOC for this entity, `exp` and `iat` required, a life of at
 * most MUX_TOKEN_MAX_LIFE_SECONDS, not expired and not issued in the future (with
 * MUX_CLOCK_SKEW_SECONDS of tolerance). `aud` is not checked: the guide's own example sends
 * `"aud": [null]` to registries. Any failure is 401: MUX_TOKEN_EXPIRED or MUX_TOKEN_INVALID.
 */
export async function verifyMuxToken(
  token: string,
  expected: MuxTokenExpectation,
  now: Date,
): Promise<MuxCaller> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, expected.secret, {
      algorithms: ['HS256'],
      issuer: expected.issuer,
      subject: expected.subject,
      requiredClaims: ['exp', 'iat'],
      currentDate: now,
      clockTolerance: MUX_CLOCK_SKEW_SECONDS,
      maxTokenAge: MUX_TOKEN_MAX_LIFE_SECONDS,
    }));
  } catch (e) {
    if (e instanceof errors.JWTExpired) throw new AppError('MUX_TOKEN_EXPIRED', 'The MUX token has expired');
    if (e instanceof errors.JOSEError) {
      // jose's messages name the failed check (signature, "iss" claim, "sub" claim…), never the secret.
      throw new AppError('MUX_TOKEN_INVALID', `The MUX token is not valid: ${e.message}`);
    }
    throw e;
  }
  const iat = payload.iat as number;
  const exp = payload.exp as number;
  if (exp - iat > MUX_TOKEN_MAX_LIFE_SECONDS) {
    throw new AppError(
      'MUX_TOKEN_EXPIRED',
      `The MUX token lives ${exp - iat} s; this registry accepts at most ${MUX_TOKEN_MAX_LIFE_SECONDS} s`,
    );
  }
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v.slice(0, 200) : null);
  return {
    issuer: expected.issuer,
    subject: expected.subject,
    user: str(payload.user),
    name: str(payload.name),
  };
}

/** The bearer token of an Authorization header, or a 401. */
export function bearerToken(header: string | undefined): string {
  const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!m) throw new AppError('MUX_TOKEN_INVALID', 'Send the MUX token as "Authorization: Bearer <jwt>"');
  return m[1]!;
}
