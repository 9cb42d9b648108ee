import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { requestMeta, requireUser } from '../../http/scope.ts';
import { AppError } from '#platform/errors.ts';
import { SESSION_COOKIE } from '../../http/auth.ts';
import { listTenants, type Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { canUseSupportAccess, findActiveGrant } from '#modules/rollout/support.service.ts';
import { staffCanEnter } from '#modules/rollout/rollout.model.ts';
import { confirmTotpEnrolment, login, logout, startTotpEnrolment } from './identity.service.ts';

/**
 * One entry of GET /api/v1/entities: an entity the caller belongs to (roles of the membership), or,
 * for a support technician (platform role support or operator) who is not a member, an entity where
 * a support grant is in force now (issue 6): the grant's roles and `support` (members: no `support`).
 */
const EntityEntry = Type.Object(
  {
    id: Type.String(),
    dir3: Type.String(),
    slug: Type.String(),
    name: Type.String(),
    kind: Type.String(),
    status: Type.String(),
    language: Type.String(),
    roles: Type.Array(Type.String()),
    support: Type.Optional(
      Type.Object(
        {
          grantId: Type.String(),
          endsAt: Type.String({ description: 'End of the grant (ISO instant); access ends then' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const Me = Type.Object({
  id: Type.String(),
  username: Type.String(),
  name: Type.String(),
  platformRoles: Type.Array(Type.String()),
  totpEnabled: Type.Boolean(),
  mustEnrolTotp: Type.Boolean(),
  memberships: Type.Array(
    Type.Object({
      entity: Type.Object({
        id: Type.String(),
        dir3: Type.String(),
        slug: Type.String(),
        name: Type.String(),
      }),
      roles: Type.Array(Type.String()),
    }),
  ),
});

export function registerIdentityRoutes(app: FastifyInstance, deps: AppDeps): void {
  const platformCtx = (req: Parameters<typeof requestMeta>[0]) => ({
    actor: req.auth
      ? {
          kind: 'user' as const,
          id: req.auth.id,
          label: req.auth.username,
          platformRoles: req.auth.platformRoles,
        }
      : { kind: 'user' as const, id: null, label: 'anonymous', platformRoles: [] },
    request: requestMeta(req),
    clock: deps.clock,
  });

  app.post(
    '/api/v1/session',
    {
      config: { public: true },
      schema: {
        tags: ['session'],
        summary: 'Log in (password, then TOTP when enrolled); sets the session cookie',
        body: Type.Object(
          {
            username: Type.String({ minLength: 1, maxLength: 128 }),
            password: Type.String({ minLength: 1, maxLength: 256 }),
            totp: Type.Optional(Type.String({ pattern: '^[0-9]{6}$' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ userId: Type.String(), mustEnrolTotp: Type.Boolean() }) },
      },
    },
    async (req, reply) => {
      const body = req.body as { username: string; password: string; totp?: string };
      const result = await deps.db.platform((tx) => login(tx, platformCtx(req), deps.identity, body));
      if (!result.ok) {
        if (result.delayMs > 0) await new Promise((r) => setTimeout(r, result.delayMs));
        const messages = {
          INVALID_CREDENTIALS: 'Wrong username or password',
          LOGIN_LOCKED: 'Too many failed attempts: the account is locked for a while',
          TOTP_REQUIRED: 'Enter the code of your authenticator app',
          TOTP_INVALID: 'The authenticator code is not valid',
          ACCOUNT_DISABLED: 'This account is disabled',
          ENTITY_SUSPENDED: 'Your entity is suspended',
        } as const;
        throw new AppError(
          result.code,
          messages[result.code],
          result.retryAfterSeconds ? { retryAfterSeconds: result.retryAfterSeconds } : undefined,
        );
      }
      reply.setCookie(SESSION_COOKIE, result.token, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: req.protocol === 'https',
      });
      return { userId: result.userId, mustEnrolTotp: result.mustEnrolTotp };
    },
  );

  app.delete('/api/v1/session', { schema: { tags: ['session'], summary: 'Log out' } }, async (req, reply) => {
    if (!req.auth) throw new AppError('UNAUTHENTICATED', 'Not logged in');
    const auth = req.auth;
    await deps.db.platform((tx) => logout(tx, platformCtx(req), auth));
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.status(204).send();
  });

  app.get(
    '/api/v1/me',
    { schema: { tags: ['session'], summary: 'The caller and their entities', response: { 200: Me } } },
    async (req) => {
      if (!req.auth) throw new AppError('UNAUTHENTICATED', 'Log in first');
      const auth = req.auth;
      const tenants = await deps.db.platform((tx) => listTenants(tx, { ids: [...auth.memberships.keys()] }));
      return {
        id: auth.id,
        username: auth.username,
        name: auth.name,
        platformRoles: auth.platformRoles,
        totpEnabled: auth.totpEnabled,
        mustEnrolTotp: auth.mustEnrolTotp,
        memberships: tenants.map((t) => ({
          entity: { id: t.id, dir3: t.dir3, slug: t.slug, name: t.name },
          roles: auth.memberships.get(t.id) ?? [],
        })),
      };
    },
  );

  app.post(
    '/api/v1/me/totp',
    {
      schema: {
        tags: ['session'],
        summary: 'Start TOTP enrolment',
        response: { 200: Type.Object({ secret: Type.String(), uri: Type.String() }) },
      },
    },
    async (req) => {
      if (!req.auth) throw new AppError('UNAUTHENTICATED', 'Log in first');
      const auth = req.auth;
      return deps.db.platform((tx) => startTotpEnrolment(tx, platformCtx(req), auth));
    },
  );

  app.post(
    '/api/v1/me/totp/confirm',
    {
      schema: {
        tags: ['session'],
        summary: 'Confirm TOTP enrolment with a code',
        body: Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$' }) }, { additionalProperties: false }),
      },
    },
    async (req, reply) => {
      if (!req.auth) throw new AppError('UNAUTHENTICATED', 'Log in first');
      const auth = req.auth;
      await deps.db.platform((tx) =>
        confirmTotpEnrolment(tx, platformCtx(req), auth, (req.body as { code: string }).code),
      );
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/v1/entities',
    {
      schema: {
        tags: ['entities'],
        summary: 'The entities the caller belongs to, and those where a support grant of theirs is in force',
        description:
          'Members: each entity with the membership roles. A support technician (platform role support or ' +
          'operator) also gets each entity where a grant of theirs is in force now (granted, not revoked, ' +
          'startsAt ≤ now < endsAt), with the grant roles and `support: {grantId, endsAt}`. A membership ' +
          'wins over a grant. Ordered by name.',
        response: { 200: Type.Array(EntityEntry) },
      },
    },
    async (req) => {
      const user = requireUser(req);
      const now = deps.clock.now();
      return deps.db.platform(async (tx) => {
        // Entities being prepared (before pilot) are not listed to their staff yet (issue 6).
        const members = (await listTenants(tx, { ids: [...user.memberships.keys()] }))
          .filter((t) => staffCanEnter(t.status))
          .map((t) => listedEntity(t, user.memberships.get(t.id) ?? []));
        if (!canUseSupportAccess(user.platformRoles)) return members;
        // Candidates, then the same definition of "in force" that inEntity applies (findActiveGrant).
        const candidates = await tx
          .selectFrom('support_grants')
          .select('entity_id')
          .distinct()
          .where('technician_id', '=', user.id)
          .where('status', '=', 'granted')
          .where('revoked_at', 'is', null)
          .where('ends_at', '>', now)
          .execute();
        const grants = new Map<string, { id: string; roles: string[]; endsAt: Date }>();
        for (const c of candidates) {
          if ((user.memberships.get(c.entity_id) ?? []).length > 0) continue;
          const g = await findActiveGrant(tx, c.entity_id, user.id, now);
          if (g) grants.set(c.entity_id, g);
        }
        if (grants.size === 0) return members;
        const supported = (await listTenants(tx, { ids: [...grants.keys()] }))
          .filter((t) => staffCanEnter(t.status))
          .map((t) => {
            const g = grants.get(t.id)!;
            return {
              ...listedEntity(t, g.roles),
              support: { grantId: g.id, endsAt: g.endsAt.toISOString() },
            };
          });
        return [...members, ...supported].sort((x, y) => x.name.localeCompare(y.name, 'ca'));
      });
    },
  );
}

/** An entity as GET /entities lists it, with the caller's roles in it. */
function listedEntity(t: Tenant, roles: string[]) {
  return {
    id: t.id,
    dir3: t.dir3,
    slug: t.slug,
    name: t.name,
    kind: t.kind,
    status: t.status,
    language: t.language,
    roles,
  };
}
