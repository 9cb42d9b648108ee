import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '#src/app.ts';
import { AppError } from '#platform/errors.ts';
import { requestMeta } from '../../http/scope.ts';
import { clearCitizenCookie, requireCitizen, secureCookies, setCitizenCookie } from './citizen-auth.ts';
import {
  completeAuthorization,
  type OidcSettings,
  SEU_CALLBACK_PATH,
  setUpOidc,
  sha256,
  startAuthorization,
} from './oidc.ts';
import { hasPublicSeu, inSeu } from './seu-scope.ts';
import { listRepresentations } from './representations.service.ts';
import {
  CITIZEN_COOKIE,
  createCitizenSession,
  endCitizenSession,
  LOGIN_ATTEMPT_MINUTES,
  recordLoginAttempt,
  takeLoginAttempt,
} from './sessions.service.ts';
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
    /** The entity's party (tercer) with the acting subject's identifier, when it has one. */
    party: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()]),
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

/** The browser's half of a login in flight: the state, compared with the callback's (login CSRF). */
const LOGIN_COOKIE = 'lligall_seu_login';
const SLUG = /^[a-z0-9][a-z0-9-]{0,99}$/;

/** Where to go back after login: a path of that entity's seu, by default its folder. */
function returnPath(slug: string, wanted: string | undefined): string {
  const home = `/seu/${slug}/`;
  if (
    wanted?.startsWith(home) &&
    !wanted.includes('//') &&
    !wanted.includes('\\') &&
    /^[\x21-\x7e]+$/.test(wanted)
  )
    return wanted;
  return `${home}carpeta`;
}

/** The citizens module's HTTP routes (issue 5). */
export function registerCitizenRoutes(app: FastifyInstance, deps: AppDeps): void {
  const oidc: OidcSettings | null = setUpOidc(app, deps);
  const settings = (): OidcSettings => {
    if (!oidc) throw new AppError('OIDC_NOT_CONFIGURED', 'No OpenID provider is configured for the seu');
    return oidc;
  };

  app.get(
    '/api/v1/seu/:slug/login',
    {
      config: { rateLimit: SEU_LOGIN_LIMIT },
      schema: {
        tags: ['seu'],
        summary: 'Log in to the seu: redirects to the OpenID provider (code flow with PKCE)',
        description:
          '`returnTo`: a path of this seu to come back to (default /seu/<slug>/carpeta). `lang`: ca|es|oc, passed to the provider as ui_locales.',
        params: SlugParams,
        querystring: Type.Object(
          {
            returnTo: Type.Optional(Type.String({ maxLength: 300 })),
            lang: Type.Optional(Type.String({ maxLength: 16 })),
          },
          strict,
        ),
      },
    },
    async (req, reply) => {
      const { slug } = req.params as { slug: string };
      const q = req.query as { returnTo?: string; lang?: string };
      if (!SLUG.test(slug)) throw new AppError('ENTITY_NOT_FOUND', `Entity ${slug} not found`);
      const entity = await deps.db.platformRead((db) =>
        db
          .selectFrom('tenants')
          .select(['slug', 'status', 'demo'])
          .where('slug', '=', slug)
          .executeTakeFirst(),
      );
      if (!entity || !hasPublicSeu(entity))
        throw new AppError('ENTITY_NOT_FOUND', `Entity ${slug} not found`);
      // ui_locales for the provider's pages: the seu's languages only (anything else: the provider's default).
      const lang = q.lang?.toLowerCase();
      const uiLocale = lang === 'ca' || lang === 'es' ? lang : lang?.startsWith('oc') ? 'oc' : null;
      const start = await startAuthorization(settings(), uiLocale);
      const now = deps.clock.now();
      await deps.db.platform((tx) =>
        recordLoginAttempt(tx, now, {
          state: start.state,
          slug,
          codeVerifier: start.codeVerifier,
          nonce: start.nonce,
          returnTo: returnPath(slug, q.returnTo),
        }),
      );
      reply.setCookie(LOGIN_COOKIE, start.state, {
        httpOnly: true,
        sameSite: 'lax',
        secure: secureCookies(deps, req),
        path: SEU_CALLBACK_PATH,
        maxAge: LOGIN_ATTEMPT_MINUTES * 60,
      });
      return reply.header('cache-control', 'no-store').redirect(start.url.href, 302);
    },
  );

  app.get(
    SEU_CALLBACK_PATH,
    {
      config: { rateLimit: SEU_LOGIN_LIMIT },
      schema: {
        tags: ['seu'],
        summary: 'The OpenID provider returns here: opens the seu session and goes back to the seu',
        description:
          'Refused with 400 OIDC_LOGIN_FAILED when the state is unknown, expired, used or not this browser’s, or the provider refused; 422 CITIZEN_IDENTIFIER_INVALID when the ID token carries no valid NIF/NIE.',
        querystring: Type.Record(Type.String(), Type.String({ maxLength: 4096 })),
      },
    },
    async (req, reply) => {
      const query = req.query as Record<string, string>;
      const state = query.state ?? '';
      const cookieState = req.cookies[LOGIN_COOKIE];
      reply.clearCookie(LOGIN_COOKIE, { path: SEU_CALLBACK_PATH });
      const now = deps.clock.now();
      // The state is used once whatever happens next.
      const attempt = state ? await deps.db.platform((tx) => takeLoginAttempt(tx, now, state)) : null;
      if (!attempt || !cookieState || cookieState !== state)
        throw new AppError(
          'OIDC_LOGIN_FAILED',
          'This login is unknown, expired or was started in another browser: log in again',
        );
      if (query.error)
        throw new AppError('OIDC_LOGIN_FAILED', `The identity provider refused the login: ${query.error}`);
      const who = await completeAuthorization(settings(), query, {
        state,
        nonce: attempt.nonce,
        codeVerifier: attempt.code_verifier,
      });
      const previous = req.cookies[CITIZEN_COOKIE];
      const token = await deps.db.platform(async (tx) => {
        // A new login replaces any session this browser had (no session outlives its cookie).
        if (previous) await tx.deleteFrom('citizen_sessions').where('id', '=', sha256(previous)).execute();
        return createCitizenSession(tx, { request: requestMeta(req), clock: deps.clock }, deps.identity, {
          ...who,
          idp: settings().issuer,
        });
      });
      setCitizenCookie(deps, req, reply, token);
      return reply.header('cache-control', 'no-store').redirect(attempt.return_to, 303);
    },
  );

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
        const party = await tx
          .selectFrom('parties')
          .select(['id', 'name', 'surname1', 'surname2'])
          .where('identifier', '=', acting.subject.identifier)
          .executeTakeFirst();
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
          acting: {
            ...acting.subject,
            party: party
              ? { id: party.id, name: [party.name, party.surname1, party.surname2].filter(Boolean).join(' ') }
              : null,
            representation: acting.representation,
          },
          represents: [...byPerson.values()],
        };
      });
    },
  );

  app.get(
    '/api/v1/seu/me',
    {
      config: { rateLimit: SEU_LIMIT },
      schema: {
        tags: ['seu'],
        summary: 'The citizen logged in to the seu (any entity’s): 401 CITIZEN_LOGIN_REQUIRED when nobody is',
        response: {
          200: Type.Object({
            identifier: Type.String(),
            name: Type.String(),
            email: Nullable(Type.String()),
            language: Nullable(Type.String()),
          }),
        },
      },
    },
    async (req, reply) => {
      const c = requireCitizen(req);
      reply.header('cache-control', 'no-store');
      return { identifier: c.identifier, name: c.name, email: c.email, language: c.language };
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
