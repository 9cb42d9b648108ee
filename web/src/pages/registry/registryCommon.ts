import { useQueries, useQuery } from '@tanstack/react-query';
import {
  api,
  entityPath,
  type Party,
  type RegistryChannel,
  type RegistryDirection,
  type Unit,
} from '../../api.ts';
import { partyName } from '../../components/PartyPicker.tsx';
import { rolesIn, useMe } from '../../session.ts';

export const DIRECTIONS: RegistryDirection[] = ['E', 'S'];
/** Channels in the order a desk meets them; postal, SIR and MUX carry the origin's time. */
export const CHANNELS: RegistryChannel[] = ['in_person', 'electronic', 'postal', 'sir', 'mux'];
export const ORIGIN_TIME_CHANNELS: readonly RegistryChannel[] = ['postal', 'sir', 'mux'];
export const ENTRY_LANGUAGES = ['ca', 'es', 'oc-aranes'] as const;
export const MAX_ATTACHMENTS = 10;

export function registryKey(slug: string, id: string) {
  return ['registry-entry', slug, id] as const;
}

/** The entity's bodies, units and offices (cached: they change rarely). */
export function useUnits(slug: string) {
  return useQuery({
    queryKey: ['units', slug],
    queryFn: () => api<Unit[]>(`${entityPath(slug)}/units`),
    staleTime: 5 * 60_000,
  });
}

/** What the caller may do in this entity's registry (the server decides; this only hides controls). */
export function useRegistryRights(slug: string) {
  const { data: me } = useMe();
  const roles = rolesIn(me, slug);
  const office = roles.includes('admin') || roles.includes('registrar');
  return {
    /** Input entries: the registry office; output entries also case handlers. */
    directions: DIRECTIONS.filter((d) => office || (d === 'S' && roles.includes('handler'))),
    canAnnotate: office,
    isOffice: office,
  };
}

/** Names of parties by id, each read once and cached (the book lists ids only). */
export function usePartyNames(slug: string, ids: (string | null)[]): Map<string, string> {
  const unique = [...new Set(ids.filter((id): id is string => Boolean(id)))];
  const results = useQueries({
    queries: unique.map((id) => ({
      queryKey: ['party', slug, id],
      queryFn: () => api<Party>(`${entityPath(slug)}/parties/${encodeURIComponent(id)}`),
      staleTime: 5 * 60_000,
    })),
  });
  const names = new Map<string, string>();
  results.forEach((r, i) => {
    const id = unique[i];
    if (id && r.data) names.set(id, `${partyName(r.data)} (${r.data.identifier})`);
  });
  return names;
}
