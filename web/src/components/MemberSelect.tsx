import { useQuery } from '@tanstack/react-query';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { api, entityPath } from '../api.ts';
import { errorMessage } from '../format.ts';
import { Field } from './Field.tsx';

/** A member of an entity, as GET /entities/{entity}/members lists it (never contact details). */
export type Member = {
  id: string;
  username: string;
  name: string;
  roles: string[];
  /** Whether the user confirms signatures with a second factor (TOTP). */
  totp: boolean;
};

export const membersKey = (slug: string) => ['members', slug] as const;

/** The entity's active members, sorted by name (any member may read them). */
export function useMembers(slug: string) {
  return useQuery({
    queryKey: membersKey(slug),
    queryFn: () => api<Member[]>(`${entityPath(slug)}/members`),
    staleTime: 60_000,
  });
}

/** "Name (username)", or just the username when the account has no other name. */
export function memberLabel(t: TFunction, m: Pick<Member, 'name' | 'username'>): string {
  const name = m.name.trim();
  return name && name !== m.username ? t('members.option', { name, username: m.username }) : m.username;
}

/**
 * A labelled `<select>` of the entity's members ("Name (username)"), in place of typing an
 * account identifier. `filter` leaves members out (e.g. the current user, or those without TOTP).
 * The value is the member's id, or '' while none is chosen. While the list loads the select is
 * disabled and says so; if it fails, the error is shown in words with a button to try again.
 */
export function MemberSelect({
  slug,
  label,
  hint,
  error,
  required,
  value,
  onChange,
  filter,
  emptyLabel,
  selectRef,
}: {
  slug: string;
  label: string;
  hint?: string;
  /** A validation error of the form (e.g. nobody chosen). */
  error?: string | null;
  required?: boolean;
  value: string;
  onChange: (id: string) => void;
  filter?: (m: Member) => boolean;
  /** The first option's words when the choice is optional (e.g. "None"); "Choose a user…" otherwise. */
  emptyLabel?: string;
  selectRef?: React.Ref<HTMLSelectElement>;
}) {
  const { t } = useTranslation();
  const members = useMembers(slug);
  const options = (members.data ?? []).filter((m) => (filter ? filter(m) : true));
  const loadError = members.error ? errorMessage(t, members.error) : null;
  const placeholder = members.isPending
    ? t('members.loading')
    : members.error
      ? t('members.unavailable')
      : options.length === 0
        ? t('members.none')
        : (emptyLabel ?? t('members.choose'));
  return (
    <div className="member-select">
      <Field label={label} hint={hint} required={required} error={loadError ?? error ?? null}>
        {(p) => (
          <select
            {...p}
            ref={selectRef}
            value={value}
            disabled={members.isPending || !!members.error}
            aria-busy={members.isPending || undefined}
            onChange={(e) => onChange(e.target.value)}
          >
            <option value="">{placeholder}</option>
            {options.map((m) => (
              <option key={m.id} value={m.id}>
                {memberLabel(t, m)}
              </option>
            ))}
          </select>
        )}
      </Field>
      {members.error ? (
        <button type="button" className="button small secondary" onClick={() => void members.refetch()}>
          {t('members.retry')}
        </button>
      ) : null}
    </div>
  );
}
