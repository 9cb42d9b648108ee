import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskIdentifier, maskIdentifiers } from './mask.ts';

describe('maskIdentifier (the AEPD/APDCAT orientation for LOPDGDD AP7)', () => {
  it('DNI: positions 4–7', () => {
    assert.equal(maskIdentifier('12345678Z'), '***4567**');
  });
  it('NIE: the 4th–7th digits, the initial letter not counted', () => {
    assert.equal(maskIdentifier('X1234567L'), '****4567*');
    assert.equal(maskIdentifier('Y7654321G'), '****4321*');
  });
  it('passport (six digits): digits 3–6', () => {
    assert.equal(maskIdentifier('ABC123456'), '*****3456');
  });
  it('another identifier with 7 or more digits: digits 4–7, letters masked', () => {
    assert.equal(maskIdentifier('XY12345678AB'), '*****4567***');
  });
});

describe('maskIdentifiers (free text)', () => {
  it('masks a DNI next to a full name, so name and full number never appear together', () => {
    const out = maskIdentifiers(
      'Edicte de notificació a Núria Puig Soler, DNI 12345678Z, del decret 2026/000017.',
    );
    assert.equal(out, 'Edicte de notificació a Núria Puig Soler, DNI ***4567**, del decret 2026/000017.');
    assert.ok(!out.includes('12345678'));
  });
  it('masks NIEs, K/L/M NIFs and passports; separators do not hide a number', () => {
    assert.equal(maskIdentifiers('NIE X-1234567-L'), 'NIE ****4567*');
    assert.equal(maskIdentifiers('nif 12.345.678-Z i 87654321-x'), 'nif ***4567** i ***5432**');
    assert.equal(maskIdentifiers('K1234567S'), '****4567*');
    assert.equal(maskIdentifiers('passaport PAA123456'), 'passaport *****3456');
    assert.equal(maskIdentifiers('y1234567l.'), '****4567*.');
    assert.equal(maskIdentifiers('DNI 12345678 Z.'), 'DNI ***4567**.');
  });
  it('masks a bare 8-digit number named DNI/NIF/NIE, but not other numbers', () => {
    assert.equal(
      maskIdentifiers('amb DNI núm. 12345678 i telèfon 973123456'),
      'amb DNI núm. ***4567* i telèfon 973123456',
    );
    assert.equal(
      maskIdentifiers('Expedient 2026/000123, registre E/2026/000045, import 12345678 euros'),
      'Expedient 2026/000123, registre E/2026/000045, import 12345678 euros',
    );
    // A lower-case word after a space is prose, not a check letter.
    assert.equal(maskIdentifiers('les finques 12345678 i 87654321'), 'les finques 12345678 i 87654321');
  });
  it('leaves company CIFs (not personal identifiers) and longer codes alone', () => {
    assert.equal(maskIdentifiers('Empresa B12345674'), 'Empresa B12345674');
    assert.equal(maskIdentifiers('codi 123456789Z0'), 'codi 123456789Z0');
  });
  it('masks every identifier of a text with several people', () => {
    assert.equal(maskIdentifiers('12345678Z, X1234567L; 00000001R'), '***4567**, ****4567*; ***0000**');
  });
});
