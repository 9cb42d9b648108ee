import { Secret, TOTP } from 'otpauth';

const PERIOD = 30;

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

export function totpUri(secret: string, username: string, issuer = 'Lligall'): string {
  return new TOTP({ issuer, label: username, secret: Secret.fromBase32(secret), period: PERIOD }).toString();
}

/** The code for a moment (tests and the demo print it). */
export function totpCode(secret: string, at: Date): string {
  return new TOTP({ secret: Secret.fromBase32(secret), period: PERIOD }).generate({
    timestamp: at.getTime(),
  });
}

/**
 * Checks a code within ±1 step and returns its time step, or null. The caller refuses a step
 * not greater than the last one used, so a code cannot be replayed.
 */
export function checkTotp(secret: string, code: string, at: Date): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = new TOTP({ secret: Secret.fromBase32(secret), period: PERIOD }).validate({
    token: code,
    timestamp: at.getTime(),
    window: 1,
  });
  if (delta === null) return null;
  return Math.floor(at.getTime() / 1000 / PERIOD) + delta;
}
