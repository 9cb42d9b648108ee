import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.ts';
import { AppError } from '#platform/errors.ts';
import { csrfProblem } from '#platform/http/security.ts';
import {
  applySessionWrite,
  checkSession,
  checkToken,
  touchToken,
} from '#modules/identity/identity.service.ts';
import { registerCitizenAuth } from '#modules/citizens/citizen-auth.ts';

export const SESSION_COOKIE = 'lligall_session';

/** Resolves the caller from `Authorization: Bearer` or the session cookie, and enforces CSRF. */
export function registerAuth(app: FastifyInstance, deps: AppDeps): void {
  app.decorateRequest('auth', null);
  // The seu's citizen session (lligall_seu) on /api/v1/seu/ URLs: req.citizen.
  registerCitizenAuth(app, deps);
  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/api/')) return;
    // A route that authenticates its caller itself (MUX v3's JWT) declares it in its config; every
    // other /api route keeps the session, API token and CSRF checks.
    if (req.routeOptions.config?.externalAuth) return;
    const header = req.headers.authorization;
    if (typeof header === 'string' && header.startsWith('Bearer ')) {
      const token = header.slice(7).trim();
      const now = deps.clock.now();
      const check = await deps.db.platformRead((q) => checkToken(q, token, now));
      if (!check.auth) throw new AppError('UNAUTHENTICATED', 'Unknown or revoked token');
      const tokenId = check.touchTokenId;
      if (tokenId) await deps.db.platform((tx) => touchToken(tx, tokenId, now));
      req.auth = check.auth;
      return;
    }
    const cookie = req.cookies[SESSION_COOKIE];
    const problem = csrfProblem(req, deps.config.publicUrl, cookie ? 'strict' : 'if-present');
    if (problem) throw new AppError('CSRF_REJECTED', problem);
    if (cookie) {
      const now = deps.clock.now();
      const check = await deps.db.platformRead((q) => checkSession(q, deps.identity, cookie, now));
      if (check.write !== 'none') await deps.db.platform((tx) => applySessionWrite(tx, check, now));
      req.auth = check.auth;
    }
  });
}
