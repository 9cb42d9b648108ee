import { useTranslation } from 'react-i18next';
import { currentLanguage, LANGUAGES, setLanguage } from '../i18n/index.ts';

/** Each language named in itself, so a reader finds theirs whatever the current one. */
const NAMES = { ca: 'Català', es: 'Español', oc: 'Aranés' } as const;

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  const current = i18n.resolvedLanguage ?? currentLanguage();
  return (
    <fieldset className="language-switch">
      <legend className="visually-hidden">{t('header.language')}</legend>
      {LANGUAGES.map((lang) => (
        <button
          key={lang}
          type="button"
          lang={lang}
          aria-pressed={current === lang}
          className="language-button"
          onClick={() => setLanguage(lang)}
        >
          {NAMES[lang]}
        </button>
      ))}
    </fieldset>
  );
}
