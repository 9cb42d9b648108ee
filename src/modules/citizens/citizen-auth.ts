import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '#src/app.ts';
import { AppError } from '#platform/errors.ts';
import { csrfProblem } from '#platform/http/security.ts';
import type { Citizen } from './citizens.model.ts';
import { applyCitizenSessionWrite, CITIZEN_COOKIE, checkCitizenSession } from './sessions.service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The citizen logged in to the seu (resolved on /api/v1/seu/ URLs only), or null. */
    citizen: Citizen | null;
  }
}

export const SEU_API_PREFIX = '/api/v1/seu/';

/**
 * Resolves the seu cookie into `req.citizen` on /api/v1/seu/ URLs, and refuses a
 * cookie-authenticated change from another origin (CSRF by Origin, as for staff sessions).
 */
export function registerCitizenAuth(app: FastifyInstance, deps: AppDeps): void {
  app.decorateRequest('citizen', null);
  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith(SEU_API_PREFIX)) return;
    const cookie = req.cookies[CITIZEN_COOKIE];
    if (!cookie) return;
    const problem = csrfProblem(req, deps.config.publicUrl, 'strict');
    if (problem) throw new AppError('CSRF_REJECTED', problem);
    const now = deps.clock.now();
    const check = await deps.db.platformRead((q) => checkCitizenSession(q, deps.identity, cookie, now));
    if (check.write !== 'none') await deps.db.platform((tx) => applyCitizenSessionWrite(tx, check, now));
    req.citizen = check.citizen;
  });
}

/** Whether cookies must be Secure: the public URL (or the request) is https. */
export function secureCookies(deps: AppDeps, req: FastifyRequest): boolean {
  return req.protocol === 'https' || Boolean(deps.config.publicUrl?.startsWith('https:'));
}

export function setCitizenCookie(
  deps: AppDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  token: string,
): void {
  reply.setCookie(CITIZEN_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: secureCookies(deps, req),
    path: '/',
  });
}

export function clearCitizenCookie(deps: AppDeps, req: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(CITIZEN_COOKIE, {
    httpOnly: true,
    sameSite: 'lax',
    secure: secureCookies(deps, req),
    path: '/',
  });
}

/** The logged-in citizen, or 401 CITIZEN_LOGIN_REQUIRED. */
export function requireCitizen(req: FastifyRequest): Citizen {
  if (!req.citizen) throw new AppError('CITIZEN_LOGIN_REQUIRED', 'Log in to the seu first');
  return req.citizen;
}
