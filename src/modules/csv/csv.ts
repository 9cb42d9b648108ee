import { randomBytes } from 'node:crypto';
import { AppError } from '#platform/errors.ts';

/**
 * The secure verification code (CSV, codi segur de verificació; LRJSP art. 42.b) of every
 * document Lligall issues. 20 symbols of Crockford's base32 — 100 bits from the operating
 * system's CSPRNG, so it cannot be guessed — shown in four groups of five. Crockford's alphabet
 * has no I, L, O or U; when a person types the code, case, spaces and hyphens do not matter and
 * O is read as 0, I and L as 1.
 */
export const CSV_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const CSV_LENGTH = 20;
export const CSV_BITS = CSV_LENGTH * 5;
const CANONICAL = /^[0-9A-HJKMNP-TV-Z]{20}$/;

/** A new code, canonical form (20 symbols, no separators). */
export function newCsv(): string {
  const bytes = randomBytes(CSV_LENGTH);
  let out = '';
  // 256 is a multiple of 32: taking each byte modulo 32 keeps every symbol equally likely.
  for (const b of bytes) out += CSV_ALPHABET[b & 31];
  return out;
}

/** How a code is printed: `ABCDE-FGHJK-MNPQR-STVWX`. */
export function formatCsv(csv: string): string {
  return csv.match(/.{1,5}/g)!.join('-');
}

/** The canonical form of a typed code, or CSV_INVALID. */
export function parseCsv(input: string): string {
  const s = input
    .toUpperCase()
    .replace(/[\s-]+/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  if (!CANONICAL.test(s))
    throw new AppError(
      'CSV_INVALID',
      `A CSV has ${CSV_LENGTH} letters and digits (in groups of five, e.g. ABCDE-FGHJK-MNPQR-STVWX)`,
    );
  return s;
}
