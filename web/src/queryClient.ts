import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { ApiError } from './api.ts';

export const ME_KEY = ['me'] as const;

/** A session that ended (expired, logged out elsewhere) or must enrol TOTP sends the user back through /me. */
function onAuthError(err: unknown): void {
  if (!(err instanceof ApiError)) return;
  if (err.code === 'UNAUTHENTICATED') queryClient.setQueryData(ME_KEY, null);
  if (err.code === 'TOTP_ENROLLMENT_REQUIRED') void queryClient.invalidateQueries({ queryKey: ME_KEY });
}

export const queryClient = new QueryClient({
  queryCache: new QueryCache({ onError: onAuthError }),
  mutationCache: new MutationCache({ onError: onAuthError }),
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      refetchOnWindowFocus: false,
      // Retry only what may be transient: network failures and server errors.
      retry: (count, err) => count < 2 && err instanceof ApiError && (err.status === 0 || err.status >= 500),
    },
    mutations: { retry: false },
  },
});
