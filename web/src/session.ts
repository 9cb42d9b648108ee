import { useQuery } from '@tanstack/react-query';
import { ApiError, api, type Entity, type Me } from './api.ts';
import { ME_KEY } from './queryClient.ts';

/** The logged-in user, or null when there is no session. */
export function useMe() {
  return useQuery({
    queryKey: ME_KEY,
    queryFn: async (): Promise<Me | null> => {
      try {
        return await api<Me>('/me');
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) return null;
        throw err;
      }
    },
    staleTime: 60_000,
  });
}

export function useEntities(enabled = true) {
  return useQuery({
    queryKey: ['entities'],
    queryFn: () => api<Entity[]>('/entities'),
    staleTime: 5 * 60_000,
    enabled,
  });
}

const ENTITY_KEY = 'lligall.entity';

/** The entity last worked in, remembered on this browser. */
export function rememberedEntity(): string | null {
  try {
    return localStorage.getItem(ENTITY_KEY);
  } catch {
    return null;
  }
}

export function rememberEntity(slug: string): void {
  try {
    localStorage.setItem(ENTITY_KEY, slug);
  } catch {
    // Storage blocked: the entity is still in the URL.
  }
}

/** The caller's roles in one entity. */
export function rolesIn(me: Me | null | undefined, slug: string): string[] {
  return me?.memberships.find((m) => m.entity.slug === slug)?.roles ?? [];
}
