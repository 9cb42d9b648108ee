import type { FastifyRequest } from 'fastify';
import type { AppDeps } from '../app.ts';
import type { Selectable } from 'kysely';
import type { Actor, Ctx, RequestMeta } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import type { EntityRole, TenantsTable } from '#platform/db/schema.ts';
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

type TenantRow = Selectable<TenantsTable>;

const userActor = (user: AuthUser): Actor => ({
  kind: 'user',
  id: user.id,
  label: user.username,
  platformRoles: user.platformRoles,
});

const toTenantRef = (t: TenantRow): Ctx['tenant'] => ({
  id: t.id,
  dir3: t.dir3,
  slug: t.slug,
  name: t.name,
  status: t.status,
});

/**
 * The caller's roles as a member of the entity, or null when not a member. A member of an entity
 * still being provisioned finds nothing (staff work in it from `pilot` on, issue 6); a member of a
 * suspended one is told so.
 */
function memberRoles(user: AuthUser, tenant: TenantRow, entityRef: string): EntityRole[] | null {
  const roles = user.memberships.get(tenant.id);
  if (!roles || roles.length === 0) return null;
  if (!staffCanEnter(tenant.status)) throw new AppError('ENTITY_NOT_FOUND', `Entity ${entityRef} not found`);
  if (tenant.status === 'suspended') throw new AppError('ENTITY_SUSPENDED', 'This entity is suspended');
  return roles;
}

/**
 * Entities as checkInEntity last read them, for a few seconds: an entry's files arrive right
 * after its fields, and the check before them need not read the entity each time. Only a check
 * that lets the caller on uses them; the transaction that follows (inEntity) reads the entity and
 * decides again, so an entity suspended meanwhile refuses the request there.
 */
const precheckTenants = new Map<string, { tenant: TenantRow; at: number }>();
const PRECHECK_TENANT_MS = 5000;

/**
 * Decides as `inEntity` would whether the caller may act in the entity, then runs a `check` that
 * needs no database (e.g. refusing an upload before a byte of it is stored): for a member, one read
 * of the entity outside any transaction, or none (precheckTenants). A caller without membership
 * goes through `inEntity` (a support grant is read, and the access recorded, there).
 */
export async function checkInEntity(
  deps: AppDeps,
  req: FastifyRequest,
  entityRef: string,
  check: (ctx: Ctx) => void,
): Promise<void> {
  const user = requireUser(req);
  const known = precheckTenants.get(entityRef);
  if (known && Date.now() - known.at < PRECHECK_TENANT_MS) {
    // Trusted only to let the caller on: a refusal is decided on the entity as it is now (below).
    let roles: EntityRole[] | null = null;
    try {
      roles = memberRoles(user, known.tenant, entityRef);
    } catch {}
    if (roles) return check(entityCtx(deps, req, user, known.tenant, roles));
  }
  const tenant = await deps.db.findTenantByRef(entityRef);
  if (!tenant) throw new AppError('ENTITY_NOT_FOUND', `Entity ${entityRef} not found`);
  if (precheckTenants.size >= 1000) precheckTenants.clear();
  precheckTenants.set(entityRef, { tenant, at: Date.now() });
  const roles = memberRoles(user, tenant, entityRef);
  if (!roles) return inEntity(deps, req, entityRef, async (_tx, ctx) => check(ctx));
  check(entityCtx(deps, req, user, tenant, roles));
}

const entityCtx = (
  deps: AppDeps,
  req: FastifyRequest,
  user: AuthUser,
  tenant: TenantRow,
  roles: EntityRole[],
): Ctx => ({
  tenant: toTenantRef(tenant),
  actor: userActor(user),
  roles,
  request: requestMeta(req),
  clock: deps.clock,
});

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
  const actor = userActor(user);
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
        if (memberRoles(user, tenant, entityRef)) return;
        if (canUseSupportAccess(user.platformRoles)) return; // decided inside, with the grant
        throw new AppError('ENTITY_NOT_FOUND', `Entity ${entityRef} not found`);
      },
      async (tx, tenant) => {
        const tenantRef = toTenantRef(tenant);
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
