import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseNif } from '#modules/identity/user-nif.ts';
import { nifOfCertificate } from './circuits.upload.ts';

const facts = (serialNumber: string | null, commonName: string | null) => ({
  commonName,
  organization: null,
  serialNumber,
  organizationIdentifier: null,
  dir3: null,
});

describe('the NIF an uploaded signature’s certificate carries', () => {
  it('reads the subject serialNumber bare or with the ETSI semantics prefix, and the NIF in the common name', () => {
    assert.deepEqual(nifOfCertificate(facts('12345678Z', 'MARIA SOLER')), ['12345678Z']);
    assert.deepEqual(nifOfCertificate(facts('IDCES-12345678Z', null)), ['12345678Z']);
    assert.deepEqual(nifOfCertificate(facts(null, 'SOLER VIDAL MARIA - NIF 12345678Z')), ['12345678Z']);
    assert.deepEqual(nifOfCertificate(facts('idces-x1234567l', null)), ['X1234567L']);
  });

  it('finds none in an organisation seal, a passport number or an empty subject', () => {
    assert.deepEqual(nifOfCertificate(facts('VATES-P0800000B', 'Segell de l’Ajuntament')), []);
    assert.deepEqual(nifOfCertificate(facts('PASES-AB1234567', null)), []);
    assert.deepEqual(nifOfCertificate(null), []);
  });
});

describe('a user’s NIF as the operator records it', () => {
  it('is normalised and its check letter verified (NIF and NIE)', () => {
    assert.equal(normaliseNif(' 12.345.678-z '), '12345678Z');
    assert.equal(normaliseNif('x1234567l'), 'X1234567L');
    assert.throws(() => normaliseNif('12345678A'), /check letter/);
    assert.throws(() => normaliseNif('1234567'), /8 digits/);
  });
});
