import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type TSchema, Type } from 'typebox';
import type { AppDeps } from '#src/app.ts';
import { inEntity, requestMeta } from '#src/http/scope.ts';
import { Accessibility, Contact, CreationAct, Privacy, SeuSettings, Silence } from './seu.model.ts';
import {
  getSeuCalendar,
  getSeuInfo,
  getSeuSettings,
  inSeu,
  officialTime,
  putSeuSettings,
} from './seu.service.ts';

const strict = { additionalProperties: false } as const;
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Slug = Type.String({ minLength: 2, maxLength: 100, description: 'The entity’s slug (or DIR3 code)' });
const Entity = Type.String({ minLength: 2, maxLength: 100, description: 'DIR3 code or slug of the entity' });

/** The seu is public: enough for people and their pages, too few to hammer the database. */
export const SEU_LIMIT = { max: 120, timeWindow: '1 minute' } as const;

const OfficialTime = Type.Object({
  now: Type.String({
    description: 'The server’s time with the Europe/Madrid offset, e.g. 2026-03-02T10:00:00+01:00',
  }),
  epochMs: Type.Integer({
    description: 'The same instant in milliseconds since 1970 (for a clock that ticks on)',
  }),
  date: Type.String({ description: 'The Europe/Madrid civil date' }),
  timeZone: Type.Literal('Europe/Madrid'),
});

const SeuInfo = Type.Object({
  entity: Type.Object({
    name: Type.String(),
    kind: Type.String(),
    dir3: Type.String(),
    ine: Nullable(Type.String()),
    slug: Type.String(),
    comarca: Nullable(Type.String()),
    contact: Nullable(Contact),
  }),
  languages: Type.Array(Type.Union([Type.Literal('ca'), Type.Literal('es'), Type.Literal('oc')]), {
    description: 'The seu’s languages in order (BCP 47): Aranese (`oc`) first in the Val d’Aran',
  }),
  officialTime: OfficialTime,
  creationAct: Nullable(CreationAct),
  seals: Type.Array(
    Type.Object({
      label: Type.String(),
      subject: Type.String(),
      issuer: Type.String(),
      serialNumber: Type.String(),
      fingerprintSha256: Type.String(),
      validFrom: Type.String({ format: 'date-time' }),
      validTo: Type.String({ format: 'date-time' }),
      qualified: Type.Boolean(),
      active: Type.Boolean(),
    }),
  ),
  resolutions: Type.Array(
    Type.Object({
      kind: Type.Union([Type.Literal('csv_system'), Type.Literal('automated_action')]),
      title: Type.String(),
      reference: Type.String(),
      approvedOn: Type.String(),
      responsibleBody: Type.String(),
      actions: Type.Array(Type.String()),
      publication: Nullable(Type.String()),
      inForce: Type.Boolean(),
      revokedOn: Nullable(Type.String()),
    }),
    {
      description:
        'The resolutions approving the CSV system and the automated actions (LRJSP art. 41.2, 42.b)',
    },
  ),
  procedures: Type.Array(
    Type.Object({
      code: Type.Literal('generic_request'),
      online: Type.Boolean(),
      maxTermMonths: Type.Integer(),
      termBasis: Nullable(Type.String()),
      silence: Silence,
      silenceBasis: Nullable(Type.String()),
      legalDefault: Type.Boolean({
        description: 'True while the administrator has entered nothing: LPACAP art. 21.3 (3 months) and 24.1',
      }),
    }),
  ),
  accessibility: Nullable(Accessibility),
  privacy: Nullable(
    Type.Object({
      ...Privacy.properties,
      controller: Type.Object({ name: Type.String(), dir3: Type.String(), contact: Nullable(Contact) }),
    }),
  ),
  updatedAt: Nullable(Type.String({ format: 'date-time' })),
});

const SettingsView = Type.Object({ ...SeuSettings.properties, updatedAt: Nullable(Type.String()) });

const CalendarView = Type.Object({
  year: Type.Integer(),
  place: Type.String(),
  complete: Type.Boolean({
    description: 'False while some of the year’s holidays are not known (not yet published)',
  }),
  days: Type.Array(
    Type.Object({
      date: Type.String(),
      weekday: Type.String(),
      weekend: Type.Boolean(),
      holidays: Type.Array(Type.Object({ name: Type.String(), scope: Type.String() })),
    }),
  ),
});

export function registerSeuRoutes(app: FastifyInstance, deps: AppDeps): void {
  const slugOf = (req: FastifyRequest) => (req.params as { slug: string }).slug;

  app.get(
    '/api/v1/seu/:slug',
    {
      config: { public: true, rateLimit: SEU_LIMIT },
      schema: {
        tags: ['seu'],
        summary: 'What the entity’s seu electrònica publishes (public)',
        description:
          'Identity, languages, the official date and time (the server’s clock), the act that created the seu, the seals, ' +
          'the CSV and automated-action resolutions, the procedures that can be started online with their maximum term and ' +
          'effect of silence, the accessibility statement and the privacy notice (RD 203/2021 art. 11). ' +
          'What the administrator has not entered is null, never invented. 404 for an unknown, not yet live or suspended entity.',
        params: Type.Object({ slug: Slug }, strict),
        security: [],
        response: { 200: SeuInfo },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return inSeu(deps, slugOf(req), requestMeta(req), (tx, ctx) => getSeuInfo(tx, ctx));
    },
  );

  app.get(
    '/api/v1/seu/:slug/time',
    {
      config: { public: true, rateLimit: SEU_LIMIT },
      schema: {
        tags: ['seu'],
        summary: 'The official date and time (the server’s clock), for the seu’s clock',
        params: Type.Object({ slug: Slug }, strict),
        security: [],
        response: { 200: OfficialTime },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return inSeu(deps, slugOf(req), requestMeta(req), async (_tx, ctx) => officialTime(ctx.clock));
    },
  );

  app.get(
    '/api/v1/seu/:slug/calendar/:year',
    {
      config: { public: true, rateLimit: SEU_LIMIT },
      schema: {
        tags: ['seu'],
        summary: 'The year’s non-business days of the entity (public)',
        description:
          'National, Catalan (and Val d’Aran) holidays, the local days and the entity’s own, with their names. Weekends are ' +
          'non-business and not listed. `complete: false` while some days of the year are not known yet.',
        params: Type.Object({ slug: Slug, year: Type.String({ pattern: '^[0-9]{4}$' }) }, strict),
        security: [],
        response: { 200: CalendarView },
      },
    },
    async (req) => {
      const year = Number((req.params as { year: string }).year);
      return getSeuCalendar(deps, slugOf(req), requestMeta(req), year);
    },
  );

  app.get(
    '/api/v1/entities/:entity/seu-settings',
    {
      schema: {
        tags: ['seu'],
        summary: 'What the entity’s seu publishes, as entered (administrator)',
        params: Type.Object({ entity: Entity }, strict),
        response: { 200: SettingsView },
      },
    },
    async (req) => {
      const { entity } = req.params as { entity: string };
      return inEntity(deps, req, entity, (tx, ctx) => getSeuSettings(tx, ctx));
    },
  );

  app.put(
    '/api/v1/entities/:entity/seu-settings',
    {
      schema: {
        tags: ['seu'],
        summary: 'Set what the entity’s seu publishes (administrator; audited)',
        description:
          'Replaces the whole settings: contact, the act that created the seu, the generic request’s maximum term and ' +
          'effect of silence (null: the legal default, LPACAP art. 21.3 and 24.1), the accessibility statement and the ' +
          'privacy notice. Unknown fields are refused (400). 403 FORBIDDEN for a member who is not an administrator.',
        params: Type.Object({ entity: Entity }, strict),
        body: SeuSettings,
        response: { 200: SettingsView },
      },
    },
    async (req) => {
      const { entity } = req.params as { entity: string };
      return inEntity(deps, req, entity, (tx, ctx) => putSeuSettings(tx, ctx, req.body as SeuSettings));
    },
  );
}
