import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import ca from './ca.json';
import es from './es.json';
import oc from './oc.json';

/** The interface languages: Catalan (default), Spanish and Aranese (Occitan of the Val d'Aran). */
export const LANGUAGES = ['ca', 'es', 'oc'] as const;
export type Language = (typeof LANGUAGES)[number];

const STORAGE_KEY = 'lligall.language';

export function isLanguage(v: unknown): v is Language {
  return typeof v === 'string' && (LANGUAGES as readonly string[]).includes(v);
}

function storedLanguage(): Language {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    if (isLanguage(v)) return v;
  } catch {
    // Storage can be blocked: fall back to the default language.
  }
  return 'ca';
}

export function setLanguage(lang: Language): void {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Not remembered, but the change still applies to this page.
  }
  void i18next.changeLanguage(lang);
}

export function currentLanguage(): Language {
  return isLanguage(i18next.resolvedLanguage) ? i18next.resolvedLanguage : 'ca';
}

export function initI18n(): typeof i18next {
  i18next.on('languageChanged', (lng) => {
    document.documentElement.lang = isLanguage(lng) ? lng : 'ca';
  });
  void i18next.use(initReactI18next).init({
    resources: { ca: { translation: ca }, es: { translation: es }, oc: { translation: oc } },
    lng: storedLanguage(),
    fallbackLng: 'ca',
    supportedLngs: [...LANGUAGES],
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  document.documentElement.lang = currentLanguage();
  return i18next;
}
