import type { PartiesTable } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';

/** The kinds of identifier a party (tercer) can carry. */
export type IdentifierType = PartiesTable['identifier_type'];

/**
 * A classified identifier: its type and its normalised form (upper case, without spaces, dots
 * or hyphens), which is what is stored and compared.
 */
export type ClassifiedIdentifier = { type: IdentifierType; normalized: string };

/** Why an identifier was refused (INVALID_IDENTIFIER details.reason; the UI translates it). */
export type IdentifierProblem =
  | 'empty'
  | 'unrecognised' // not shaped like a NIF, NIE or CIF, and no identifierType was declared
  | 'format'
  | 'length'
  | 'check_letter'
  | 'check_digit'
  | 'control_must_be_letter'
  | 'control_must_be_digit'
  | 'type_mismatch'; // declared nif/nie/cif, but the identifier is another of the three

/** The mod-23 table of the NIF check letter (RD 1553/2005 art. 11; Ministerio del Interior). */
const NIF_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

/** First letters of organisation NIFs (formerly CIF), Orden EHA/451/2008 art. 3. */
const CIF_LETTERS = 'ABCDEFGHJNPQRSUVW';
/** Organisation NIFs whose control character is always a letter: public bodies, foreign entities, … */
const CIF_CONTROL_LETTER = 'NPQRSW';
/** Organisation NIFs whose control character is always a digit: SA, SL, comunidades de bienes y de propietarios. */
const CIF_CONTROL_DIGIT = 'ABEH';
/** The letter form of the control character, indexed by the control digit. */
const CIF_CONTROL_LETTERS = 'JABCDEFGHI';

/** Upper case, without whitespace, dots and hyphens: `12.345.678-z` → `12345678Z`. */
export function normalizeIdentifier(raw: string): string {
  return raw.toUpperCase().replace(/[\s.-]/g, '');
}

/** The check letter of a NIF/NIE number (the digits without the letter). */
export function nifCheckLetter(digits: string): string {
  return NIF_LETTERS[Number(digits) % 23]!;
}

/**
 * The control digit of an organisation NIF over its 7 central digits: digits in even positions
 * (2nd, 4th, 6th) are added; digits in odd positions are doubled and the digits of each product
 * added; the control is 10 minus the last digit of the total (0 when that is 10). Its letter form
 * is `JABCDEFGHI`[digit].
 */
export function cifControl(digits7: string): { digit: string; letter: string } {
  let sum = 0;
  for (let i = 0; i < 7; i++) {
    const d = Number(digits7[i]);
    if (i % 2 === 1) {
      sum += d;
    } else {
      const doubled = d * 2;
      sum += Math.floor(doubled / 10) + (doubled % 10);
    }
  }
  const control = (10 - (sum % 10)) % 10;
  return { digit: String(control), letter: CIF_CONTROL_LETTERS[control]! };
}

function invalid(
  reason: IdentifierProblem,
  message: string,
  normalized: string,
  expected?: IdentifierType,
): never {
  throw new AppError('INVALID_IDENTIFIER', message, {
    reason,
    identifier: normalized,
    ...(expected ? { expectedType: expected } : {}),
  });
}

/** DNI-based NIF: 8 digits and the mod-23 check letter. */
function checkNif(n: string): ClassifiedIdentifier {
  const m = /^(\d+)([A-Z]?)$/.exec(n);
  if (!m) invalid('format', `"${n}" is not a NIF: a NIF is 8 digits followed by a check letter`, n, 'nif');
  const [, digits, letter] = m;
  if (digits!.length !== 8) {
    invalid('length', `"${n}" is not a NIF: it has ${digits!.length} digits where a NIF has 8`, n, 'nif');
  }
  if (!letter) invalid('check_letter', `"${n}" is not a NIF: the check letter is missing`, n, 'nif');
  if (nifCheckLetter(digits!) !== letter) {
    invalid(
      'check_letter',
      `"${n}" is not a valid NIF: the check letter does not match the number`,
      n,
      'nif',
    );
  }
  return { type: 'nif', normalized: n };
}

/** NIE: X, Y or Z (standing for 0, 1, 2), 7 digits and the mod-23 check letter over all 8. */
function checkNie(n: string): ClassifiedIdentifier {
  const m = /^([XYZ])(\d*)([A-Z]?)$/.exec(n);
  if (!m) invalid('format', `"${n}" is not a NIE: a NIE is X, Y or Z, 7 digits and a check letter`, n, 'nie');
  const [, prefix, digits, letter] = m;
  if (digits!.length !== 7) {
    invalid(
      'length',
      `"${n}" is not a NIE: it has ${digits!.length} digits after ${prefix} where a NIE has 7`,
      n,
      'nie',
    );
  }
  if (!letter) invalid('check_letter', `"${n}" is not a NIE: the check letter is missing`, n, 'nie');
  if (nifCheckLetter(String('XYZ'.indexOf(prefix!)) + digits) !== letter) {
    invalid(
      'check_letter',
      `"${n}" is not a valid NIE: the check letter does not match the number`,
      n,
      'nie',
    );
  }
  return { type: 'nie', normalized: n };
}

/**
 * NIF of a natural person without DNI or NIE (Orden EHA/451/2008): K (Spaniards under 14),
 * L (Spaniards resident abroad), M (foreigners without NIE) + 7 digits + a check letter. The
 * letter is the mod-23 letter of the 7 digits, as in the AEAT's own validation library; the
 * organisation-NIF algorithm does not apply to them.
 */
function checkKlm(n: string): ClassifiedIdentifier {
  const prefix = n[0];
  if (n.length !== 9) {
    invalid(
      'length',
      `"${n}" is not a NIF: it has ${n.length} characters where a ${prefix} NIF has 9`,
      n,
      'nif',
    );
  }
  const digits = n.slice(1, 8);
  const control = n[8]!;
  if (!/^\d{7}$/.test(digits))
    invalid('format', `"${n}" is not a NIF: ${prefix} must be followed by 7 digits`, n, 'nif');
  if (!/[A-Z]/.test(control))
    invalid('check_letter', `"${n}" is not a NIF: a ${prefix} NIF ends with a check letter`, n, 'nif');
  if (nifCheckLetter(digits) !== control) {
    invalid(
      'check_letter',
      `"${n}" is not a valid NIF: the check letter does not match the number`,
      n,
      'nif',
    );
  }
  return { type: 'nif', normalized: n };
}

/**
 * Organisation NIF (CIF): a letter for the legal form, 7 digits (province and serial number) and
 * a control character. N, P, Q, R, S, W (and any whose province digits are 00, non-residents)
 * take the letter form; A, B, E, H the digit form; C, D, F, G, J, U, V either.
 */
function checkCif(n: string): ClassifiedIdentifier {
  const letter = n[0]!;
  if (n.length !== 9) {
    invalid('length', `"${n}" is not a CIF: it has ${n.length} characters where a CIF has 9`, n, 'cif');
  }
  const digits = n.slice(1, 8);
  const control = n[8]!;
  if (!/^\d{7}$/.test(digits))
    invalid('format', `"${n}" is not a CIF: ${letter} must be followed by 7 digits`, n, 'cif');
  if (!/[A-Z0-9]/.test(control))
    invalid('format', `"${n}" is not a CIF: the control character is not a letter or digit`, n, 'cif');
  const expected = cifControl(digits);
  const letterOnly = CIF_CONTROL_LETTER.includes(letter) || digits.startsWith('00');
  const digitOnly = !letterOnly && CIF_CONTROL_DIGIT.includes(letter);
  const isDigit = /\d/.test(control);
  if (letterOnly && isDigit) {
    invalid(
      'control_must_be_letter',
      `"${n}" is not a valid CIF: for ${letter} the control character is a letter`,
      n,
      'cif',
    );
  }
  if (digitOnly && !isDigit) {
    invalid(
      'control_must_be_digit',
      `"${n}" is not a valid CIF: for ${letter} the control character is a digit`,
      n,
      'cif',
    );
  }
  if (control !== (isDigit ? expected.digit : expected.letter)) {
    invalid(
      'check_digit',
      `"${n}" is not a valid CIF: the control character does not match the number`,
      n,
      'cif',
    );
  }
  return { type: 'cif', normalized: n };
}

/** A NIF, NIE or CIF, recognised by its first character. */
function checkSpanishTaxId(n: string): ClassifiedIdentifier {
  const first = n[0]!;
  if (/\d/.test(first)) return checkNif(n);
  if ('XYZ'.includes(first)) return checkNie(n);
  if ('KLM'.includes(first)) return checkKlm(n);
  if (CIF_LETTERS.includes(first)) return checkCif(n);
  return invalid(
    'unrecognised',
    `"${n}" is not a NIF, NIE or CIF; for a passport, another document or a DIR3 code declare its identifierType`,
    n,
  );
}

/**
 * Classifies and validates an identifier of a party.
 *
 * Without `declared`, the identifier must be a Spanish NIF (DNI, or K/L/M), NIE or CIF, and its
 * check character must be right. `declared` 'passport' or 'other' accepts 3–20 letters and
 * digits without any check; 'dir3' accepts a DIR3 code of another administration (9 letters
 * and digits: its shapes overlap with CIFs, so it is never guessed); 'nif', 'nie' or 'cif'
 * also require the identifier to be of that type.
 *
 * @throws AppError INVALID_IDENTIFIER, with details.reason saying which check failed.
 */
export function classifyIdentifier(raw: string, declared?: IdentifierType): ClassifiedIdentifier {
  const n = normalizeIdentifier(raw);
  if (n.length === 0) invalid('empty', 'The identifier is empty', n, declared);
  switch (declared) {
    case 'passport':
    case 'other':
      if (!/^[A-Z0-9]+$/.test(n))
        invalid('format', `"${n}" may contain only letters and digits`, n, declared);
      if (n.length < 3 || n.length > 20) {
        invalid('length', `"${n}" has ${n.length} characters; a ${declared} number has 3 to 20`, n, declared);
      }
      return { type: declared, normalized: n };
    case 'dir3':
      if (!/^[A-Z0-9]+$/.test(n))
        invalid('format', `"${n}" is not a DIR3 code: only letters and digits`, n, 'dir3');
      if (n.length !== 9)
        invalid('length', `"${n}" is not a DIR3 code: it has ${n.length} characters, not 9`, n, 'dir3');
      return { type: 'dir3', normalized: n };
    default: {
      const found = checkSpanishTaxId(n);
      if (declared && found.type !== declared) {
        invalid(
          'type_mismatch',
          `"${n}" is a valid ${found.type.toUpperCase()}, not a ${declared.toUpperCase()}`,
          n,
          declared,
        );
      }
      return found;
    }
  }
}
