import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.ts';
import { AppError } from '#platform/errors.ts';
import { csrfProblem } from '#platform/http/security.ts';
import { authenticateSession, authenticateToken } from '#modules/identity/identity.service.ts';

export const SESSION_COOKIE = 'lligall_session';

/** Resolves the caller from `Authorization: Bearer` or the session cookie, and enforces CSRF. */
export function registerAuth(app: FastifyInstance, deps: AppDeps): void {
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/api/')) return;
    const header = req.headers.authorization;
    if (typeof header === 'string' && header.startsWith('Bearer ')) {
      const token = header.slice(7).trim();
      req.auth = await deps.db.platform((tx) => authenticateToken(tx, token, deps.clock.now()));
      if (!req.auth) throw new AppError('UNAUTHENTICATED', 'Unknown or revoked token');
      return;
    }
    const cookie = req.cookies[SESSION_COOKIE];
    const problem = csrfProblem(req, deps.config.publicUrl, cookie ? 'strict' : 'if-present');
    if (problem) throw new AppError('CSRF_REJECTED', problem);
    if (cookie) {
      req.auth = await deps.db.platform((tx) =>
        authenticateSession(tx, deps.identity, cookie, deps.clock.now()),
      );
    }
  });
}
