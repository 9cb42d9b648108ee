import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, entityPath, type Expedient, type Party, type PartyRole } from '../../api.ts';
import { ErrorAlert } from '../../components/ErrorAlert.tsx';
import { PartyPicker, partyName } from '../../components/PartyPicker.tsx';
import { PARTY_ROLES } from '../ExpedientCreatePage.tsx';

/** The interested parties (interessats) of the case file, and adding one from the register. */
export function PartiesTab({
  slug,
  expedient: x,
  canWrite,
}: {
  slug: string;
  expedient: Expedient;
  canWrite: boolean;
}) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const roleId = useId();
  const [role, setRole] = useState<PartyRole>('interested');
  const [added, setAdded] = useState<{ party: Party; role: PartyRole } | null>(null);
  const add = useMutation({
    mutationFn: (input: { party: Party; role: PartyRole }) =>
      api<Expedient>(`${entityPath(slug)}/expedients/${encodeURIComponent(x.id)}/parties`, {
        json: { partyId: input.party.id, role: input.role },
      }),
    onSuccess: async (updated, input) => {
      setAdded(input);
      queryClient.setQueryData(['expedient', slug, x.id], updated);
      await queryClient.invalidateQueries({ queryKey: ['expedient', slug, x.id] });
      await queryClient.invalidateQueries({ queryKey: ['audit', slug, x.id] });
    },
    onMutate: () => setAdded(null),
  });

  return (
    <div>
      <h2>{t('tabs.parties')}</h2>
      {x.parties.length === 0 ? (
        <p className="empty">{t('parties.none')}</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{t('tabs.parties')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('party.name')}</th>
                <th scope="col">{t('party.identifier')}</th>
                <th scope="col">{t('party.role')}</th>
              </tr>
            </thead>
            <tbody>
              {x.parties.map((p) => (
                <tr key={`${p.partyId}-${p.role}`}>
                  <td>{p.name}</td>
                  <td className="nowrap">{p.identifier}</td>
                  <td>{t(`role.${p.role}`, p.role)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {canWrite ? (
        <section className="card" aria-labelledby="add-party-heading">
          <h3 id="add-party-heading">{t('parties.addHeading')}</h3>
          <div className="field">
            <label htmlFor={roleId}>{t('party.role')}</label>
            <select id={roleId} value={role} onChange={(e) => setRole(e.target.value as PartyRole)}>
              {PARTY_ROLES.map((r) => (
                <option key={r} value={r}>
                  {t(`role.${r}`)}
                </option>
              ))}
            </select>
          </div>
          <ErrorAlert error={add.error} />
          <p role="status" className="status-message">
            {added ? t('parties.added', { name: partyName(added.party), role: t(`role.${added.role}`) }) : ''}
          </p>
          <PartyPicker
            slug={slug}
            pickLabel={t('common.add')}
            onPick={(party) => add.mutate({ party, role })}
          />
        </section>
      ) : x.state === 'E02' ? (
        <p className="muted">{t('expedient.closedNoChanges')}</p>
      ) : null}
    </div>
  );
}
