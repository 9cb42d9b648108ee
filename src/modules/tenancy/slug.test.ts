import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { slugify } from './slug.ts';

describe('slugify', () => {
  it('lower-cases, removes accents and turns every other run of characters into one hyphen', () => {
    assert.equal(slugify('Abella de la Conca'), 'abella-de-la-conca');
    assert.equal(slugify("La Seu d'Urgell"), 'la-seu-d-urgell');
    assert.equal(slugify('Àger'), 'ager');
    assert.equal(slugify('Bòrdes, Es'), 'bordes-es');
    assert.equal(slugify('Vielha e Mijaran'), 'vielha-e-mijaran');
    assert.equal(slugify('Sant Llorenç  de   Morunys'), 'sant-llorenc-de-morunys');
    assert.equal(slugify('Col·legi d’Advocats'), 'collegi-d-advocats');
    assert.equal(slugify(' --Diputació de Lleida-- '), 'diputacio-de-lleida');
  });
});
