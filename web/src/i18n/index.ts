import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import ca from './ca.json';
import es from './es.json';
import oc from './oc.json';
import consoleCa from './console.ca.json';
import consoleEs from './console.es.json';
import consoleOc from './console.oc.json';
import dashboardCa from './dashboard.ca.json';
import dashboardEs from './dashboard.es.json';
import dashboardOc from './dashboard.oc.json';
import supportCa from './support.ca.json';
import supportEs from './support.es.json';
import supportOc from './support.oc.json';

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
    // The console's catalogues (issue 6) are kept apart and merged under their own keys:
    // t('console.…'), t('dashboard.…'), t('support.…').
    resources: {
      ca: { translation: { ...ca, console: consoleCa, dashboard: dashboardCa, support: supportCa } },
      es: { translation: { ...es, console: consoleEs, dashboard: dashboardEs, support: supportEs } },
      oc: { translation: { ...oc, console: consoleOc, dashboard: dashboardOc, support: supportOc } },
    },
    lng: storedLanguage(),
    fallbackLng: 'ca',
    supportedLngs: [...LANGUAGES],
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  document.documentElement.lang = currentLanguage();
  return i18next;
}
