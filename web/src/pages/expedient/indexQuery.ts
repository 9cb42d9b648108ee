import { useQuery } from '@tanstack/react-query';
import { api, entityPath, type ExpedientIndex } from '../../api.ts';

/** The case file's index (ENI): the ordered documents with their hashes. */
export function useExpedientIndex(slug: string, id: string) {
  return useQuery({
    queryKey: ['index', slug, id],
    queryFn: () => api<ExpedientIndex>(`${entityPath(slug)}/expedients/${encodeURIComponent(id)}/index`),
  });
}
