import { useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, entityPath, type Page, type Party, query } from '../api.ts';
import { ErrorAlert } from './ErrorAlert.tsx';

export function partyName(p: Pick<Party, 'name' | 'surname1' | 'surname2'>): string {
  return [p.name, p.surname1, p.surname2].filter(Boolean).join(' ');
}

/**
 * Finds a person or organisation in the entity's register of third parties (tercers) by name or
 * identifier. It is a fieldset, not a form, so it can sit inside another form.
 */
export function PartyPicker({
  slug,
  onPick,
  exclude = [],
  pickLabel,
}: {
  slug: string;
  onPick: (party: Party) => void;
  exclude?: string[];
  pickLabel: string;
}) {
  const { t } = useTranslation();
  const id = useId();
  const [text, setText] = useState('');
  const [term, setTerm] = useState<string | null>(null);
  const results = useQuery({
    queryKey: ['parties', slug, { q: term }],
    queryFn: () => api<Page<Party>>(`${entityPath(slug)}/parties${query({ q: term })}`),
    enabled: term !== null,
  });

  function search() {
    setTerm(text.trim());
  }

  const items = results.data?.items.filter((p) => !exclude.includes(p.id)) ?? [];
  return (
    <fieldset className="party-picker">
      <legend className="group-label">{t('partyPicker.legend')}</legend>
      <div className="inline-field">
        <label htmlFor={`${id}-q`}>{t('partyPicker.search')}</label>
        <div className="inline-controls">
          <input
            id={`${id}-q`}
            type="search"
            value={text}
            aria-describedby={`${id}-hint`}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                search();
              }
            }}
          />
          <button type="button" className="button secondary" onClick={search}>
            {t('common.search')}
          </button>
        </div>
        <p className="hint" id={`${id}-hint`}>
          {t('partyPicker.hint')}
        </p>
      </div>
      <ErrorAlert error={results.error} />
      <div role="status" className="picker-status">
        {term !== null && results.data ? t('partyPicker.found', { count: items.length }) : ''}
      </div>
      {items.length > 0 ? (
        <ul className="picker-results">
          {items.map((p) => (
            <li key={p.id}>
              <span>
                <strong>{partyName(p)}</strong> <span className="muted">{p.identifier}</span>
              </span>
              <button
                type="button"
                className="button small"
                aria-label={`${pickLabel}: ${partyName(p)}`}
                onClick={() => onPick(p)}
              >
                {pickLabel}
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </fieldset>
  );
}
