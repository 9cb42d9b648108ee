import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { inEntity, requestMeta, requireUser } from '../../http/scope.ts';
import { AppError } from '#platform/errors.ts';
import { inConsole } from './console-scope.ts';
import {
  type AuditQuery,
  canUseSupportAccess,
  type Decision,
  decideGrant,
  GRANTABLE_ROLES,
  listConsoleGrants,
  listEntityAudit,
  listEntityGrants,
  requestGrant,
  SUPPORT_GRANT_MAX_HOURS,
} from './support.service.ts';

const strict = { additionalProperties: false } as const;
const Entity = Type.String({ minLength: 2, maxLength: 100 });
const EntityParams = Type.Object({ entity: Entity }, strict);
const GrantParams = Type.Object({ entity: Entity, id: Type.String({ maxLength: 64 }) }, strict);
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const Grant = Type.Object({
  id: Type.String(),
  entity: Type.Object({ id: Type.String(), dir3: Type.String(), slug: Type.String(), name: Type.String() }),
  technician: Type.Object({ id: Type.String(), username: Type.String(), name: Type.String() }),
  reason: Type.String(),
  durationHours: Type.Integer(),
  roles: Type.Array(Type.String()),
  status: Type.Union([
    Type.Literal('requested'),
    Type.Literal('granted'),
    Type.Literal('denied'),
    Type.Literal('revoked'),
    Type.Literal('expired'),
  ]),
  requestedAt: Type.String(),
  decidedAt: Nullable(Type.String()),
  decidedBy: Nullable(Type.String()),
  decisionNote: Nullable(Type.String()),
  startsAt: Nullable(Type.String()),
  endsAt: Nullable(Type.String()),
  revokedAt: Nullable(Type.String()),
});

const RequestBody = Type.Object(
  {
    entity: Entity,
    reason: Type.String({ minLength: 1, maxLength: 2000 }),
    // The maximum is the service's (422 SUPPORT_GRANT_TOO_LONG, a stable code the UI explains).
    durationHours: Type.Integer({ minimum: 1, maximum: 100_000 }),
  },
  strict,
);
const GrantBody = Type.Object(
  {
    roles: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10 })),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  strict,
);
const DenyBody = Type.Object({ note: Type.String({ minLength: 1, maxLength: 2000 }) }, strict);
const EmptyBody = Type.Object({}, strict);

const AuditEvent = Type.Object({
  seq: Type.Integer(),
  at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  objectType: Nullable(Type.String()),
  objectId: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
});
const AuditQuerySchema = Type.Object(
  {
    action: Type.Optional(Type.String({ maxLength: 100 })),
    from: Type.Optional(Type.String({ maxLength: 40 })),
    to: Type.Optional(Type.String({ maxLength: 40 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  strict,
);

function origin(deps: AppDeps): string {
  return deps.config.publicUrl?.replace(/\/+$/, '') ?? `http://localhost:${deps.config.port}`;
}

/** The roll-out's support routes (issue 6): technicians ask, the entity's admin decides, the entity reads its audit trail. */
export function registerSupportRoutes(app: FastifyInstance, deps: AppDeps): void {
  const gp = (req: FastifyRequest) => req.params as { entity: string; id: string };

  // ------------------------------------------------------------ console (technicians, operators)
  app.post(
    '/api/v1/console/support-grants',
    {
      schema: {
        tags: ['console'],
        summary: 'Ask an entity for support access (support technicians and operators)',
        description: `The entity (DIR3 or slug), a reason and a duration in hours (at most ${SUPPORT_GRANT_MAX_HOURS}: 422 SUPPORT_GRANT_TOO_LONG). The entity's administrators get an e-mail in the entity's language; the request is audited in the entity's chain. Anyone without a support role: 404.`,
        body: RequestBody,
        response: { 201: Grant },
      },
    },
    async (req, reply) => {
      const user = requireUser(req);
      if (!canUseSupportAccess(user.platformRoles)) throw new AppError('NOT_FOUND', 'Not found');
      const body = req.body as { entity: string; reason: string; durationHours: number };
      const view = await deps.db.tenantByRef(
        body.entity,
        () => {},
        (tx, t) =>
          requestGrant(
            tx,
            {
              tenant: { id: t.id, dir3: t.dir3, slug: t.slug, name: t.name, status: t.status },
              actor: { kind: 'user', id: user.id, label: user.username, platformRoles: user.platformRoles },
              roles: [],
              request: requestMeta(req),
              clock: deps.clock,
            },
            { jobs: deps.jobs, origin: origin(deps) },
            { reason: body.reason, durationHours: body.durationHours },
          ),
      );
      return reply.status(201).send(view);
    },
  );

  app.get(
    '/api/v1/console/support-grants',
    {
      schema: {
        tags: ['console'],
        summary: "Support access requests: a technician's own; an operator sees all",
        response: { 200: Type.Array(Grant) },
      },
    },
    async (req) => inConsole(deps, req, ['support', 'operator'], (tx, ctx) => listConsoleGrants(tx, ctx)),
  );

  // ------------------------------------------------------------ the entity's administrator
  app.get(
    '/api/v1/entities/:entity/support-grants',
    {
      schema: {
        tags: ['entities'],
        summary: "The entity's support access requests and grants (admin)",
        params: EntityParams,
        response: { 200: Type.Array(Grant) },
      },
    },
    async (req) => inEntity(deps, req, gp(req).entity, (tx, ctx) => listEntityGrants(tx, ctx)),
  );

  const decide = (
    path: string,
    summary: string,
    body: typeof GrantBody | typeof DenyBody | typeof EmptyBody,
    make: (b: Record<string, unknown>) => Decision,
  ) =>
    app.post(
      `/api/v1/entities/:entity/support-grants/:id/${path}`,
      {
        schema: {
          tags: ['entities'],
          summary,
          description:
            "404 SUPPORT_GRANT_NOT_FOUND for a request of another entity; 409 SUPPORT_GRANT_ALREADY_DECIDED when it was already decided (or, to revoke, is no longer in force). Audited in the entity's chain.",
          params: GrantParams,
          body,
          response: { 200: Grant },
        },
      },
      async (req) =>
        inEntity(deps, req, gp(req).entity, (tx, ctx) =>
          decideGrant(tx, ctx, gp(req).id, make((req.body ?? {}) as Record<string, unknown>)),
        ),
    );
  decide(
    'grant',
    `Grant support access from now for the requested duration, with roles among ${GRANTABLE_ROLES.join(', ')} (default viewer)`,
    GrantBody,
    (b) => ({
      kind: 'grant',
      roles: b.roles as string[] | undefined,
      note: (b.note as string | undefined) ?? null,
    }),
  );
  decide('deny', 'Deny a support access request, with a note', DenyBody, (b) => ({
    kind: 'deny',
    note: String(b.note),
  }));
  decide('revoke', 'Revoke a support grant in force', EmptyBody, () => ({ kind: 'revoke' }));

  app.get(
    '/api/v1/entities/:entity/audit',
    {
      schema: {
        tags: ['entities'],
        summary: "The entity's audit trail (admin), newest first",
        description:
          '`action`: exact, or a prefix ending in `.` or `.*` (`support.` lists requests, decisions and every access under a support grant). `from`/`to`: dates YYYY-MM-DD (Europe/Madrid days, inclusive) or ISO instants (`to` exclusive). `limit` default 200.',
        params: EntityParams,
        querystring: AuditQuerySchema,
        response: { 200: Type.Array(AuditEvent) },
      },
    },
    async (req) =>
      inEntity(deps, req, gp(req).entity, (tx, ctx) => listEntityAudit(tx, ctx, req.query as AuditQuery)),
  );
}
