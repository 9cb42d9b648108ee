import type { FastifyRequest } from 'fastify';
import type { AppDeps } from '../app.ts';
import type { Ctx, RequestMeta } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import type { AuthUser } from '#modules/identity/identity.service.ts';
import { staffCanEnter } from '#modules/rollout/rollout.model.ts';
import {
  canUseSupportAccess,
  findActiveGrant,
  recordSupportAccess,
} from '#modules/rollout/support.service.ts';

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

/** The request's path and its query string apart (a search under a support grant is an access too). */
function pathAndQuery(url: string): { path: string; query?: string } {
  const i = url.indexOf('?');
  return i < 0 ? { path: url } : { path: url.slice(0, i), query: url.slice(i + 1, i + 1001) };
}

/**
 * Runs `fn` in one tenant transaction for the entity named in the URL (DIR3 or slug), as the
 * caller. A caller who is not a member gets ENTITY_NOT_FOUND (404), never a hint that it exists.
 *
 * Support access (issue 6): a caller with no membership but a support platform role (support,
 * operator) acts with the roles of a grant of the entity that is in force now (granted, not
 * revoked, starts_at ≤ now < ends_at); each such call records `support.access` in the entity's
 * chain — in the same transaction when it succeeds, in its own when it is refused — so the entity
 * sees every read and action. Without a grant in force: ENTITY_NOT_FOUND, as for anyone else.
 * Members take the same single round trip as before (the grant lookup is only for non-members).
 */
export async function inEntity<T>(
  deps: AppDeps,
  req: FastifyRequest,
  entityRef: string,
  fn: (tx: Tx, ctx: Ctx) => Promise<T>,
): Promise<T> {
  const user = requireUser(req);
  const actor = {
    kind: 'user' as const,
    id: user.id,
    label: user.username,
    platformRoles: user.platformRoles,
  };
  let support: { tenantId: string; grantId: string } | null = null;
  const accessOf = (tenantId: string, grantId: string) => ({
    tenantId,
    actor,
    request: requestMeta(req),
    clock: deps.clock,
    grantId,
    method: req.method,
    ...pathAndQuery(req.url),
  });
  try {
    return await deps.db.tenantByRef(
      entityRef,
      (tenant) => {
        const roles = user.memberships.get(tenant.id);
        if (!roles || roles.length === 0) {
          if (canUseSupportAccess(user.platformRoles)) return; // decided inside, with the grant
          throw new AppError('ENTITY_NOT_FOUND', `Entity ${entityRef} not found`);
        }
        // Staff work in an entity from `pilot` on (issue 6): before, it is being provisioned.
        if (!staffCanEnter(tenant.status))
          throw new AppError('ENTITY_NOT_FOUND', `Entity ${entityRef} not found`);
        if (tenant.status === 'suspended') throw new AppError('ENTITY_SUSPENDED', 'This entity is suspended');
      },
      async (tx, tenant) => {
        const tenantRef = {
          id: tenant.id,
          dir3: tenant.dir3,
          slug: tenant.slug,
          name: tenant.name,
          status: tenant.status,
        };
        let roles = user.memberships.get(tenant.id) ?? [];
        let grantId: string | null = null;
        if (roles.length === 0) {
          const grant = await findActiveGrant(tx, tenant.id, user.id, deps.clock.now());
          if (!grant || !staffCanEnter(tenant.status))
            throw new AppError('ENTITY_NOT_FOUND', `Entity ${entityRef} not found`);
          support = { tenantId: tenant.id, grantId: grant.id };
          if (tenant.status === 'suspended')
            throw new AppError('ENTITY_SUSPENDED', 'This entity is suspended');
          roles = grant.roles;
          grantId = grant.id;
        }
        const result = await fn(tx, {
          tenant: tenantRef,
          actor,
          roles,
          request: requestMeta(req),
          clock: deps.clock,
        });
        // Last, after the use case's own events (lock order: the audit head is taken last).
        if (grantId) await recordSupportAccess(tx, accessOf(tenant.id, grantId));
        return result;
      },
    );
  } catch (e) {
    // A refused request under a grant (403, 404 of an object, validation…) rolled back with its
    // transaction: it is still an access the entity must see.
    const s = support as { tenantId: string; grantId: string } | null;
    if (s) {
      const refused = e instanceof AppError ? e.code : 'INTERNAL';
      await deps.db
        .tenant(s.tenantId, (tx) => recordSupportAccess(tx, { ...accessOf(s.tenantId, s.grantId), refused }))
        .catch(() => undefined); // the original error is what the caller must see
    }
    throw e;
  }
}
