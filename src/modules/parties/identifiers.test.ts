import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '#platform/errors.ts';
import {
  cifControl,
  classifyIdentifier,
  type IdentifierType,
  nifCheckLetter,
  normalizeIdentifier,
} from './identifiers.ts';

/** Asserts that classifying `raw` fails with INVALID_IDENTIFIER for `reason`. */
function assertInvalid(raw: string, reason: string, declared?: IdentifierType): void {
  assert.throws(
    () => classifyIdentifier(raw, declared),
    (e: unknown) => {
      assert.ok(e instanceof AppError, `expected an AppError for ${raw}`);
      assert.equal(e.code, 'INVALID_IDENTIFIER');
      assert.equal(e.details?.reason, reason, `${raw}: ${e.message}`);
      return true;
    },
  );
}

describe('normalizeIdentifier', () => {
  test('upper-cases and strips spaces, dots and hyphens', () => {
    assert.equal(normalizeIdentifier(' 12.345.678-z '), '12345678Z');
    assert.equal(normalizeIdentifier('x-1234567 l'), 'X1234567L');
    assert.equal(normalizeIdentifier('b\t64 717 838'), 'B64717838');
  });
});

describe('check characters', () => {
  test('NIF letter is the mod-23 table entry', () => {
    assert.equal(nifCheckLetter('12345678'), 'Z'); // 12345678 = 23 × 536768 + 14
    assert.equal(nifCheckLetter('00000000'), 'T');
    assert.equal(nifCheckLetter('00000023'), 'T');
    assert.equal(nifCheckLetter('00000022'), 'E');
  });

  test('CIF control over the 7 digits, digit and letter forms', () => {
    // Q2826000H is the Agencia Tributaria, S0811001G the Generalitat de Catalunya.
    assert.deepEqual(cifControl('2826000'), { digit: '8', letter: 'H' });
    assert.deepEqual(cifControl('0811001'), { digit: '7', letter: 'G' });
    assert.deepEqual(cifControl('6471783'), { digit: '8', letter: 'H' });
    assert.deepEqual(cifControl('1234567'), { digit: '4', letter: 'D' });
    // a total that is a multiple of 10 gives control 0 / J
    assert.deepEqual(cifControl('0000000'), { digit: '0', letter: 'J' });
  });
});

describe('classifyIdentifier: valid identifiers', () => {
  const valid: [string, IdentifierType, string][] = [
    ['12345678Z', 'nif', '12345678Z'],
    ['12.345.678-z', 'nif', '12345678Z'],
    ['00000000T', 'nif', '00000000T'],
    ['X1234567L', 'nie', 'X1234567L'],
    ['y-1234567-x', 'nie', 'Y1234567X'],
    ['Z1234567R', 'nie', 'Z1234567R'],
    ['M1234567L', 'nif', 'M1234567L'],
    ['K0000000T', 'nif', 'K0000000T'],
    ['L1234567L', 'nif', 'L1234567L'],
    ['Q2826000H', 'cif', 'Q2826000H'],
    ['S0811001G', 'cif', 'S0811001G'],
    ['P2515100B', 'cif', 'P2515100B'],
    ['B-64717838', 'cif', 'B64717838'],
    ['A13585625', 'cif', 'A13585625'],
    ['J99216582', 'cif', 'J99216582'],
    ['J9921658B', 'cif', 'J9921658B'], // J takes either form
    ['N0012345E', 'cif', 'N0012345E'],
  ];
  for (const [raw, type, normalized] of valid) {
    test(`${raw} is a ${type}`, () => {
      assert.deepEqual(classifyIdentifier(raw), { type, normalized });
    });
  }

  test('any other final character makes each of them invalid', () => {
    const candidates = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    for (const [raw, , normalized] of valid) {
      const body = normalized.slice(0, -1);
      const accepted = new Set([normalized]);
      if (normalized.startsWith('J')) {
        const c = cifControl(body.slice(1));
        accepted.add(body + c.digit).add(body + c.letter);
      }
      for (const ch of candidates) {
        const other = body + ch;
        if (accepted.has(other)) continue;
        assert.throws(() => classifyIdentifier(other), AppError, `${other} (from ${raw}) should be refused`);
      }
    }
  });

  test('declared passport, other and DIR3 codes', () => {
    assert.deepEqual(classifyIdentifier('ab 123-456', 'passport'), {
      type: 'passport',
      normalized: 'AB123456',
    });
    assert.deepEqual(classifyIdentifier('ABC', 'other'), { type: 'other', normalized: 'ABC' });
    assert.deepEqual(classifyIdentifier('L01250019', 'dir3'), { type: 'dir3', normalized: 'L01250019' });
    // a DIR3 code shaped like a CIF is accepted as DIR3 when declared
    assert.deepEqual(classifyIdentifier('A09002970', 'dir3'), { type: 'dir3', normalized: 'A09002970' });
  });

  test('a declared nif, nie or cif must be of that type', () => {
    assert.deepEqual(classifyIdentifier('12345678Z', 'nif'), { type: 'nif', normalized: '12345678Z' });
    assert.deepEqual(classifyIdentifier('Q2826000H', 'cif'), { type: 'cif', normalized: 'Q2826000H' });
  });
});

describe('classifyIdentifier: invalid identifiers', () => {
  test('NIF with a wrong letter, a missing letter or the wrong number of digits', () => {
    assertInvalid('12345678A', 'check_letter');
    assertInvalid('12345678', 'check_letter');
    assertInvalid('1234567Z', 'length');
    assertInvalid('123456789Z', 'length');
    assertInvalid('1234A678Z', 'format');
  });

  test('NIE with a wrong letter or length', () => {
    assertInvalid('X1234567A', 'check_letter');
    assertInvalid('Y1234567L', 'check_letter'); // X's letter on a Y number
    assertInvalid('X123456L', 'length');
    assertInvalid('X12345678L', 'length');
    assertInvalid('X1234567', 'check_letter');
  });

  test('K/L/M NIF with the organisation-style letter, a digit or the wrong length', () => {
    assertInvalid('M1234567D', 'check_letter'); // D is the CIF algorithm's letter, not mod 23
    assertInvalid('M12345674', 'check_letter');
    assertInvalid('K123456T', 'length');
  });

  test('CIF with a wrong control, the wrong form of control, or the wrong length', () => {
    assertInvalid('B64717839', 'check_digit');
    assertInvalid('P2515100C', 'check_digit');
    assertInvalid('B6471783H', 'control_must_be_digit'); // an SL's control is a digit
    assertInvalid('Q28260008', 'control_must_be_letter'); // a public body's control is a letter
    assertInvalid('A00123455', 'control_must_be_letter'); // province 00: non-resident
    assertInvalid('B6471783', 'length');
    assertInvalid('B647178388', 'length');
    assertInvalid('B64A17838', 'format');
  });

  test('unrecognised shapes, empty input and type mismatches', () => {
    assertInvalid('I1234567A', 'unrecognised');
    assertInvalid('T12345678', 'unrecognised');
    assertInvalid(' .- ', 'empty');
    assertInvalid('Q2826000H', 'type_mismatch', 'nif');
    assertInvalid('12345678Z', 'type_mismatch', 'nie');
  });

  test('passport and other numbers: 3 to 20 letters and digits', () => {
    assertInvalid('AB', 'length', 'passport');
    assertInvalid('A'.repeat(21), 'length', 'other');
    assertInvalid('AB#123', 'format', 'passport');
    assertInvalid('ÀB123', 'format', 'other');
  });

  test('DIR3 codes: 9 letters and digits', () => {
    assertInvalid('L0125001', 'length', 'dir3');
    assertInvalid('L012500190', 'length', 'dir3');
    assertInvalid('L0125001_', 'format', 'dir3');
  });

  test('the message says which check failed', () => {
    assert.throws(() => classifyIdentifier('12345678A'), /check letter does not match/);
    assert.throws(() => classifyIdentifier('1234567Z'), /has 7 digits where a NIF has 8/);
    assert.throws(() => classifyIdentifier('B6471783H'), /control character is a digit/);
  });
});
