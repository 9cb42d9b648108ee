import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  languageFromAcceptLanguage,
  REPORT_MESSAGES,
  reportLanguage,
} from './verification-report.messages.ts';

describe("the verification report's language", () => {
  test('ca, es and Aranese by code or region; oc is Aranese; others are none', () => {
    assert.equal(reportLanguage('ca'), 'ca');
    assert.equal(reportLanguage('CA-es'), 'ca');
    assert.equal(reportLanguage('es-ES'), 'es');
    assert.equal(reportLanguage('oc'), 'oc-aranes');
    assert.equal(reportLanguage('oc-aranes'), 'oc-aranes');
    assert.equal(reportLanguage('fr'), null);
    assert.equal(reportLanguage('cat'), null);
    assert.equal(reportLanguage(''), null);
    assert.equal(reportLanguage(undefined), null);
  });

  test('Accept-Language: the most preferred language that has a catalogue', () => {
    assert.equal(languageFromAcceptLanguage('fr-FR, es;q=0.8, ca;q=0.9'), 'ca');
    assert.equal(languageFromAcceptLanguage('es-ES,es;q=0.9,en;q=0.8'), 'es');
    assert.equal(languageFromAcceptLanguage('en, oc-ES;q=0.5'), 'oc-aranes');
    assert.equal(languageFromAcceptLanguage('ca;q=0, es'), 'es', 'q=0 means "not this one"');
    assert.equal(languageFromAcceptLanguage('en-GB, *;q=0.1'), null);
    assert.equal(languageFromAcceptLanguage(undefined), null);
  });

  test('every language has every message', () => {
    const keys = (o: object) => Object.keys(o).sort();
    assert.deepEqual(keys(REPORT_MESSAGES.es), keys(REPORT_MESSAGES.ca));
    assert.deepEqual(keys(REPORT_MESSAGES['oc-aranes']), keys(REPORT_MESSAGES.ca));
  });
});
