import type { FastifyRequest } from 'fastify';
import type { AppDeps } from '../app.ts';
import type { Ctx, RequestMeta } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import type { AuthUser } from '#modules/identity/identity.service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthUser | null;
  }
}

export function requestMeta(req: FastifyRequest): RequestMeta {
  const ua = req.headers['user-agent'];
  return { ip: req.ip ?? null, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null };
}

/** The authenticated user, or 401. Users who must enrol TOTP get 403 everywhere but enrolment. */
export function requireUser(req: FastifyRequest): AuthUser {
  if (!req.auth) throw new AppError('UNAUTHENTICATED', 'Log in first');
  if (req.auth.mustEnrolTotp) {
    throw new AppError('TOTP_ENROLLMENT_REQUIRED', 'Enrol two-factor authentication before anything else');
  }
  return req.auth;
}

/**
 * Runs `fn` in one tenant transaction for the entity named in the URL (DIR3 or slug), as the
 * caller. A caller who is not a member gets ENTITY_NOT_FOUND (404), never a hint that it exists.
 */
export async function inEntity<T>(
  deps: AppDeps,
  req: FastifyRequest,
  entityRef: string,
  fn: (tx: Tx, ctx: Ctx) => Promise<T>,
): Promise<T> {
  const user = requireUser(req);
  return deps.db.tenantByRef(
    entityRef,
    (tenant) => {
      const roles = user.memberships.get(tenant.id);
      if (!roles || roles.length === 0)
        throw new AppError('ENTITY_NOT_FOUND', `Entity ${entityRef} not found`);
      if (tenant.status === 'suspended') throw new AppError('ENTITY_SUSPENDED', 'This entity is suspended');
    },
    (tx, tenant) =>
      fn(tx, {
        tenant: {
          id: tenant.id,
          dir3: tenant.dir3,
          slug: tenant.slug,
          name: tenant.name,
          status: tenant.status,
        },
        actor: { kind: 'user', id: user.id, label: user.username, platformRoles: user.platformRoles },
        roles: user.memberships.get(tenant.id)!,
        request: requestMeta(req),
        clock: deps.clock,
      }),
  );
}
