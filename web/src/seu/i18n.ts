import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import type { SeuLanguage } from './api.ts';
import ca from '../i18n/seu.ca.json';
import es from '../i18n/seu.es.json';
import oc from '../i18n/seu.oc.json';

/**
 * The seu's languages: Catalan, Spanish and Aranese. Aranese is `oc` (BCP 47: Occitan; the Val
 * d'Aran's Aranese is its Gascon variety), the same tag as the staff app, in `<html lang>` too.
 */
export const SEU_LANGUAGES: readonly SeuLanguage[] = ['ca', 'es', 'oc'];
const STORAGE_KEY = 'lligall.seu.language';

export function isSeuLanguage(v: unknown): v is SeuLanguage {
  return typeof v === 'string' && (SEU_LANGUAGES as readonly string[]).includes(v);
}

export function storedLanguage(): SeuLanguage | null {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return isSeuLanguage(v) ? v : null;
  } catch {
    return null;
  }
}

export function setSeuLanguage(lang: SeuLanguage): void {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Not remembered, but the change still applies to this page.
  }
  void i18next.changeLanguage(lang);
}

export function initSeuI18n(): void {
  i18next.on('languageChanged', (lng) => {
    document.documentElement.lang = isSeuLanguage(lng) ? lng : 'ca';
  });
  void i18next.use(initReactI18next).init({
    resources: { ca: { translation: ca }, es: { translation: es }, oc: { translation: oc } },
    lng: storedLanguage() ?? 'ca',
    fallbackLng: 'ca',
    supportedLngs: [...SEU_LANGUAGES],
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  document.documentElement.lang = i18next.resolvedLanguage ?? 'ca';
}
