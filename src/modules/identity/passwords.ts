import { hash, verify } from '@node-rs/argon2';

// argon2id (the library's default algorithm), OWASP-recommended cost parameters.
const OPTIONS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** A fixed hash to verify against when the user does not exist, so timing does not reveal it. */
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword('lligall-timing-equaliser');
  return dummy;
}

/** Minimal password policy (ENS): at least 10 characters. */
export function passwordProblem(password: string): string | null {
  if (password.length < 10) return 'The password must have at least 10 characters';
  if (password.length > 256) return 'The password is too long';
  return null;
}
