/**
 * LOPDGDD (Ley Orgánica 3/2018) Additional Provision 7.1: when an act is published, the person is
 * identified by name and surnames plus four random digits of their identity document, and never
 * by name together with the full number. The Spanish and Catalan data protection authorities
 * (AEPD and APDCAT, "Orientación para la aplicación provisional de la disposición adicional
 * séptima de la LOPDGDD", 2019) fixed which four, so that different publications of the same
 * person never reveal different parts of the number:
 *
 * - DNI `12345678X`: positions 4–7 → `***4567**`;
 * - NIE `X1234567L`: positions 4–7 of the digits (the initial letter is not counted) → `****4567*`;
 * - passport `ABC123456` (six digits only): digits 3–6 → `*****3456`;
 * - another identifier with at least 7 digits: its digits numbered left to right, letters left
 *   out, digits 4–7 shown (`XY12345678AB` → `*****4567***`).
 *
 * Every other character (letters, digits not selected) becomes one asterisk. The masked form
 * has no separators, whatever the text used (`12.345.678-Z` → `***4567**`).
 *
 * Free text cannot say which word is a passport number or "another identifier", so this
 * recognises what has a known shape: DNI/NIF (8 digits and a letter, with optional dots, spaces
 * or a hyphen), NIE (X, Y or Z, 7 digits, a letter), the NIF of people without DNI or NIE
 * (K, L or M, 7 digits, a letter: masked like a NIE), a Spanish passport (3 letters and 6
 * digits), and a bare 8-digit number right after the words DNI, NIF or NIE. The check letter is
 * not verified: a mistyped number is still someone's number, and it is masked too.
 */

/** Shows the digits whose 1-based positions among the identifier's digits are in `[from, to]`. */
function maskByDigitPositions(id: string, from: number, to: number): string {
  let digit = 0;
  let out = '';
  for (const ch of id) {
    if (/\d/.test(ch)) {
      digit++;
      out += digit >= from && digit <= to ? ch : '*';
    } else {
      out += '*';
    }
  }
  return out;
}

/** The AEPD's masked form of one identifier (already without separators). */
export function maskIdentifier(id: string): string {
  const s = id.toUpperCase();
  // A Spanish passport has only six digits: the third to the sixth are shown.
  if (/^[A-Z]{3}\d{6}$/.test(s)) return maskByDigitPositions(s, 3, 6);
  // DNI, NIE, K/L/M NIF and any other identifier with at least 7 digits: digits 4–7.
  return maskByDigitPositions(s, 4, 7);
}

const SEP = '[.\\s-]?';
/** Before the check letter: nothing or a hyphen; a space only before a capital (`12345678 i` is prose). */
const LETTER = '(?:-?[A-Za-z]|\\s[A-Z])';
/** DNI/NIF: 8 digits (optionally 12.345.678) and a letter. */
const DNI = `\\d{2}${SEP}\\d{3}${SEP}\\d{3}${LETTER}`;
/** NIE (X/Y/Z) and the NIF of people with neither DNI nor NIE (K/L/M): a letter, 7 digits, a letter. */
const NIE = `[XYZKLMxyzklm]${SEP}\\d{7}${LETTER}`;
/** A Spanish passport: 3 capital letters and 6 digits, as issued. */
const PASSPORT = '[A-Z]{3}\\d{6}';
/** A bare DNI number (no letter) named as such: "DNI 12345678", "NIF núm. 12345678". */
const NAMED_NUMBER =
  '(?<=\\b(?:[Dd]\\.?[Nn]\\.?[Ii]|[Nn]\\.?[Ii]\\.?[FfEe])\\.?(?:\\s*(?:[Nn][úu]m(?:ero)?\\.?|[Nn]\\.?º))?[\\s:]*)\\d{8}';

const IDENTIFIER = new RegExp(
  `(?<![A-Za-z0-9])(?:${DNI}|${NIE}|${PASSPORT})(?![A-Za-z0-9])|${NAMED_NUMBER}(?![A-Za-z0-9])`,
  'g',
);

/**
 * The text with every personal identifier it contains masked as LOPDGDD AP7 requires (see
 * above). What the public sees of a publication's title and summary; staff see the original.
 */
export function maskIdentifiers(text: string): string {
  return text.replace(IDENTIFIER, (m) => maskIdentifier(m.replace(/[.\s-]/g, '')));
}
