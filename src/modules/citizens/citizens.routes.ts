import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '#src/app.ts';
import { AppError } from '#platform/errors.ts';
import { requestMeta } from '../../http/scope.ts';
import { clearCitizenCookie } from './citizen-auth.ts';
import { inSeu } from './seu-scope.ts';
import { listRepresentations } from './representations.service.ts';
import { endCitizenSession } from './sessions.service.ts';
import { registerSeuRepresentationRoutes, RepresentationSchema } from './representations.routes.ts';

const strict = { additionalProperties: false } as const;
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
export const SlugParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 100 }) }, strict);

/** Citizens are many and anonymous on the way in: generous per client, too few to enumerate. */
export const SEU_LIMIT = { max: 120, timeWindow: '1 minute' } as const;
export const SEU_LOGIN_LIMIT = { max: 20, timeWindow: '1 minute' } as const;

const Me = Type.Object({
  identifier: Type.String(),
  name: Type.String(),
  email: Nullable(Type.String()),
  language: Nullable(Type.String()),
  entity: Type.Object({ slug: Type.String(), name: Type.String(), dir3: Type.String() }),
  acting: Type.Object({
    identifier: Type.String(),
    name: Type.String(),
    representation: Type.Union([
      Type.Object({ id: Type.String(), scope: Type.String(), procedure: Nullable(Type.String()) }),
      Type.Null(),
    ]),
  }),
  /** The people this citizen may act for in this entity, with their powers in force today. */
  represents: Type.Array(
    Type.Object({
      identifier: Type.String(),
      name: Type.String(),
      powers: Type.Array(RepresentationSchema),
    }),
  ),
});

/** The citizens module's HTTP routes (issue 5). */
export function registerCitizenRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get(
    '/api/v1/seu/:slug/me',
    {
      config: { rateLimit: SEU_LIMIT },
      schema: {
        tags: ['seu'],
        summary:
          'The citizen logged in to the seu, on whose behalf they act, and whom they may represent here',
        description:
          '`?onBehalfOf=<NIF>`: act for a represented person; answered only under a general power in force today (404 otherwise, without saying why).',
        params: SlugParams,
        querystring: Type.Object({ onBehalfOf: Type.Optional(Type.String({ maxLength: 32 })) }, strict),
        response: { 200: Me },
      },
    },
    async (req) => {
      const { slug } = req.params as { slug: string };
      const { onBehalfOf } = req.query as { onBehalfOf?: string };
      return inSeu(deps, req, slug, { requireCitizen: true, onBehalfOf }, async (tx, ctx, acting) => {
        if (!acting) throw new AppError('CITIZEN_LOGIN_REQUIRED', 'Log in to the seu first');
        const held = await listRepresentations(tx, ctx, {
          representative: acting.citizen.identifier,
          inForce: true,
        });
        const byPerson = new Map<string, { identifier: string; name: string; powers: typeof held }>();
        for (const r of held) {
          const e = byPerson.get(r.represented.identifier) ?? { ...r.represented, powers: [] };
          e.powers.push(r);
          byPerson.set(r.represented.identifier, e);
        }
        return {
          identifier: acting.citizen.identifier,
          name: acting.citizen.name,
          email: acting.citizen.email,
          language: acting.citizen.language,
          entity: { slug: ctx.tenant.slug, name: ctx.tenant.name, dir3: ctx.tenant.dir3 },
          acting: { ...acting.subject, representation: acting.representation },
          represents: [...byPerson.values()],
        };
      });
    },
  );

  app.post(
    '/api/v1/seu/logout',
    {
      config: { rateLimit: SEU_LIMIT },
      schema: { tags: ['seu'], summary: 'End the seu session', response: { 204: Type.Null() } },
    },
    async (req, reply) => {
      const citizen = req.citizen;
      if (citizen)
        await deps.db.platform((tx) =>
          endCitizenSession(tx, { request: requestMeta(req), clock: deps.clock }, citizen),
        );
      clearCitizenCookie(deps, req, reply);
      return reply.status(204).send();
    },
  );

  registerSeuRepresentationRoutes(app, deps);
}

export type SlugRequest = FastifyRequest<{ Params: { slug: string } }>;
