import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type TSchema, Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { inEntity } from '../../http/scope.ts';
import {
  addEntityDay,
  computeDeadline,
  type DeadlineQuery,
  declareYear,
  ensureCalendarSeededOnce,
  getCalendarYear,
  removeEntityDay,
} from './calendar.service.ts';

const strict = { additionalProperties: false } as const;
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

const DATE = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';
const CivilDate = (description: string) => Type.String({ pattern: DATE, description });
const Entity = Type.String({ minLength: 2, maxLength: 100, description: 'DIR3 code or slug of the entity' });
const EntityParams = Type.Object({ entity: Entity }, strict);
const YearParams = Type.Object(
  { entity: Entity, year: Type.String({ pattern: '^[0-9]{4}$', description: 'Year (Europe/Madrid)' }) },
  strict,
);
const DayParams = Type.Object({ entity: Entity, date: CivilDate('The day, YYYY-MM-DD') }, strict);

const Scope = Type.Union(
  [
    Type.Literal('national'),
    Type.Literal('catalonia'),
    Type.Literal('aran'),
    Type.Literal('local'),
    Type.Literal('entity'),
  ],
  {
    description:
      '`national` and `catalonia`: BOE/Generalitat calendar; `aran`: the Val d’Aran substitution (17 June, Festa d’Aran); ' +
      "`local`: the municipality's local holiday (DOGC order; an EMD's parent municipality's); `entity`: a day the entity's administrator entered.",
  },
);
const Unit = Type.Union(
  [
    Type.Literal('business_days'),
    Type.Literal('calendar_days'),
    Type.Literal('months'),
    Type.Literal('years'),
  ],
  {
    description:
      'LPACAP art. 30: `business_days` skip Saturdays, Sundays and holidays (30.2); `calendar_days` when a law says so; ' +
      '`months`/`years` end on the same-numbered day, or the last day of a shorter month (30.4). A non-business last day moves to the next business day (30.5).',
  },
);

const Missing = Type.Object({
  year: Type.Integer(),
  place: Type.String(),
  layer: Type.Union([Type.Literal('regional'), Type.Literal('local')]),
  reason: Type.String(),
});

const CalendarYear = Type.Object({
  entity: Type.Object({ dir3: Type.String(), name: Type.String() }),
  year: Type.Integer(),
  place: Type.String(),
  region: Nullable(Type.Union([Type.Literal('catalonia'), Type.Literal('aran')])),
  weekendsAreNonBusiness: Type.Literal(true, {
    description: 'Saturdays and Sundays are non-business (LPACAP art. 30.2); they are not listed in `days`.',
  }),
  complete: Type.Boolean(),
  missing: Nullable(Missing),
  days: Type.Array(
    Type.Object({
      date: Type.String(),
      weekday: Type.String(),
      weekend: Type.Boolean({ description: 'A holiday that falls on a Saturday or Sunday' }),
      holidays: Type.Array(Type.Object({ name: Type.String(), scope: Scope })),
    }),
  ),
  corrections: Type.Array(
    Type.Object({
      date: Type.String(),
      action: Type.Union([Type.Literal('add'), Type.Literal('remove')]),
      name: Nullable(Type.String()),
      reason: Type.String(),
      by: Type.String(),
      at: Type.String({ format: 'date-time' }),
    }),
  ),
  declaration: Nullable(
    Type.Object({
      complete: Type.Boolean(),
      reason: Type.String(),
      by: Type.String(),
      at: Type.String({ format: 'date-time' }),
    }),
  ),
});

const Deadline = Type.Object({
  start: Type.String({ description: 'Day 0: the day of the notification, publication or filing' }),
  amount: Type.Integer(),
  unit: Unit,
  nominalEnd: Type.String({
    description: 'The last day before a non-business last day is moved (art. 30.5)',
  }),
  end: Type.String({ description: 'The last day; the deadline ends at 24:00 of it' }),
  endsAt: Type.String({ format: 'date-time', description: '24:00 Europe/Madrid of `end`' }),
  nonBusinessDaysSkipped: Type.Array(
    Type.Object({
      date: Type.String(),
      weekday: Type.String(),
      reasons: Type.Array(
        Type.Object({
          name: Type.String(),
          scope: Type.Union([Scope, Type.Literal('weekend')]),
          place: Type.Optional(Type.String()),
        }),
      ),
    }),
    {
      description:
        'Days not counted: the non-business days inside a count in business days, or the days a non-business last day moved over',
    },
  ),
  places: Type.Array(Type.String(), {
    description: "The calendars combined: the entity's seat, and the party's residence (art. 30.6)",
  }),
});

const DayChange = Type.Object({
  date: Type.String(),
  action: Type.Union([Type.Literal('add'), Type.Literal('remove')]),
  name: Nullable(Type.String()),
  reason: Type.String(),
});
const Reason = Type.String({ minLength: 1, maxLength: 2000, description: 'Why (audited)' });

export function registerCalendarRoutes(app: FastifyInstance, deps: AppDeps): void {
  const seeded = () => ensureCalendarSeededOnce(deps.db, deps.clock.now());
  const entity = (req: FastifyRequest) => (req.params as { entity: string }).entity;

  app.get(
    '/api/v1/entities/:entity/calendar/deadline',
    {
      schema: {
        tags: ['calendar'],
        summary: 'Compute a deadline in days, months or years (LPACAP art. 30)',
        description:
          '`start` is day 0 (the notification, publication or filing); counting starts the next day; the deadline ends at 24:00 ' +
          'of `end`. With `residence`, a day non-business in the interested party’s municipality is non-business too (art. 30.6). ' +
          'A year or place whose holidays are not known is 422 CALENDAR_INCOMPLETE, never a guess.',
        params: EntityParams,
        querystring: Type.Object(
          {
            start: CivilDate('Day 0, YYYY-MM-DD'),
            amount: Type.Integer({ minimum: 1, maximum: 3660 }),
            unit: Unit,
            residence: Type.Optional(
              Type.String({
                pattern: '^([0-9]{5}|L01[0-9]{6})$',
                description: "INE code (5 digits) or DIR3 (L01…) of the interested party's municipality",
              }),
            ),
          },
          strict,
        ),
        response: { 200: Deadline },
      },
    },
    async (req) => {
      await seeded();
      const q = req.query as DeadlineQuery;
      return inEntity(deps, req, entity(req), (tx, ctx) => computeDeadline(tx, ctx, q));
    },
  );

  app.get(
    '/api/v1/entities/:entity/calendar/:year',
    {
      schema: {
        tags: ['calendar'],
        summary: "The year's non-business days of the entity",
        description:
          'National, Catalan (and Val d’Aran) holidays and the local days of the entity, with their names. Weekends are ' +
          'non-business and not listed. An incomplete year is 422 CALENDAR_INCOMPLETE unless `includeIncomplete=true`.',
        params: YearParams,
        querystring: Type.Object({ includeIncomplete: Type.Optional(Type.Boolean()) }, strict),
        response: { 200: CalendarYear },
      },
    },
    async (req) => {
      await seeded();
      const year = Number((req.params as { year: string }).year);
      const q = req.query as { includeIncomplete?: boolean };
      return inEntity(deps, req, entity(req), (tx, ctx) =>
        getCalendarYear(tx, ctx, year, { includeIncomplete: q.includeIncomplete === true }),
      );
    },
  );

  app.post(
    '/api/v1/entities/:entity/calendar/days',
    {
      schema: {
        tags: ['calendar'],
        summary: 'Add a local non-business day of the entity (administrator; audited)',
        description:
          "An EMD's own local day (its own days then replace its municipality's for that year), or a local day missing " +
          'from the data. Declare the year complete when all are entered.',
        params: EntityParams,
        body: Type.Object(
          {
            date: CivilDate('The day, YYYY-MM-DD'),
            name: Type.String({ minLength: 1, maxLength: 200 }),
            reason: Reason,
          },
          strict,
        ),
        response: { 201: DayChange },
      },
    },
    async (req, reply) => {
      await seeded();
      const body = req.body as { date: string; name: string; reason: string };
      const r = await inEntity(deps, req, entity(req), (tx, ctx) => addEntityDay(tx, ctx, body));
      return reply.status(201).send(r);
    },
  );

  app.delete(
    '/api/v1/entities/:entity/calendar/days/:date',
    {
      schema: {
        tags: ['calendar'],
        summary: 'Take a local day out of the entity’s calendar (administrator; audited)',
        description:
          "Corrects the municipality's data for this entity, or withdraws a day the entity added. The body carries the reason. " +
          'National, Catalan and Aran days are corrected by the platform operator (409).',
        params: DayParams,
        body: Type.Object({ reason: Reason }, strict),
        response: { 200: DayChange },
      },
    },
    async (req) => {
      await seeded();
      const { date } = req.params as { date: string };
      const { reason } = req.body as { reason: string };
      return inEntity(deps, req, entity(req), (tx, ctx) => removeEntityDay(tx, ctx, { date, reason }));
    },
  );

  app.put(
    '/api/v1/entities/:entity/calendar/:year/completeness',
    {
      schema: {
        tags: ['calendar'],
        summary:
          "Declare the year's local days complete, or withdraw the declaration (administrator; audited)",
        params: YearParams,
        body: Type.Object({ complete: Type.Boolean(), reason: Reason }, strict),
        response: {
          200: Type.Object({ year: Type.Integer(), complete: Type.Boolean(), reason: Type.String() }),
        },
      },
    },
    async (req) => {
      await seeded();
      const year = Number((req.params as { year: string }).year);
      const body = req.body as { complete: boolean; reason: string };
      return inEntity(deps, req, entity(req), (tx, ctx) => declareYear(tx, ctx, { year, ...body }));
    },
  );
}
