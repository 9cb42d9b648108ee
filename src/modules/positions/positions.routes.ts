import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { inEntity } from '../../http/scope.ts';
import {
  appointHolder,
  createPosition,
  listPositions,
  type NewAbsence,
  type NewDelegation,
  type NewHolder,
  type NewPosition,
  POSITION_KINDS,
  recordAbsence,
  recordDelegation,
} from './positions.service.ts';

const strict = { additionalProperties: false } as const;
const Entity = Type.String({ minLength: 2, maxLength: 100 });
const Id = Type.String({ maxLength: 64 });
const EntityParams = Type.Object({ entity: Entity }, strict);
const IdParams = Type.Object({ entity: Entity, id: Id }, strict);
const Uuid = Type.String({ format: 'uuid' });
const DateStr = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const NullableDate = Type.Union([DateStr, Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);
const Kind = Type.Union(POSITION_KINDS.map((k) => Type.Literal(k)));

const Holder = Type.Object({
  id: Type.String(),
  userId: Type.String(),
  username: Type.String(),
  name: Type.String(),
  validFrom: Type.String(),
  validTo: NullableString,
  appointmentReference: NullableString,
  createdBy: Type.String(),
  createdAt: Type.String(),
});
const Absence = Type.Object({
  id: Type.String(),
  from: Type.String(),
  to: Type.String(),
  reason: Type.String(),
  createdBy: Type.String(),
  createdAt: Type.String(),
});
const Delegation = Type.Object({
  id: Type.String(),
  areas: Type.Array(Type.String()),
  powers: Type.String(),
  decreeReference: Type.String(),
  decreeDate: Type.String(),
  validFrom: Type.String(),
  validTo: NullableString,
  createdBy: Type.String(),
  createdAt: Type.String(),
});
/** A position with its holders, absences and delegations, and who acts today. */
export const Position = Type.Object({
  id: Type.String(),
  kind: Kind,
  title: Type.String(),
  area: NullableString,
  deputyOrder: Type.Union([Type.Integer(), Type.Null()]),
  substituteUserId: NullableString,
  substitutePositionId: NullableString,
  createdBy: Type.String(),
  createdAt: Type.String(),
  holders: Type.Array(Holder),
  absences: Type.Array(Absence),
  delegations: Type.Array(Delegation),
  actingToday: Type.Union([
    Type.Object({
      userId: Type.String(),
      name: Type.String(),
      bySubstitution: Type.Boolean(),
      substituteFor: Type.Optional(Type.String()),
    }),
    Type.Null(),
  ]),
});

/** The entity's positions (càrrecs): holders, absences, delegations. */
export function registerPositionRoutes(app: FastifyInstance, deps: AppDeps): void {
  const p = (req: FastifyRequest) => req.params as { entity: string; id: string };

  app.get(
    '/api/v1/entities/:entity/positions',
    {
      schema: {
        tags: ['positions'],
        summary: "The entity's positions, with holders, absences, delegations and who acts today",
        params: EntityParams,
        response: { 200: Type.Object({ items: Type.Array(Position) }) },
      },
    },
    async (req) =>
      inEntity(deps, req, p(req).entity, async (tx, ctx) => ({ items: await listPositions(tx, ctx) })),
  );

  app.post(
    '/api/v1/entities/:entity/positions',
    {
      schema: {
        tags: ['positions'],
        summary: 'Create a position (admin)',
        description:
          '`kind`: mayor (one per entity), deputy_mayor (with `deputyOrder`, 1 = first tinent d’alcalde), secretary, secretary_intervenor, intervenor, treasurer, councillor, other. `substituteUserId` or `substitutePositionId` (e.g. the first deputy mayor for the mayor, ROF art. 47) acts while the holder is absent. 409 CONFLICT for a repeated title, a second mayor or deputy order.',
        params: EntityParams,
        body: Type.Object(
          {
            kind: Kind,
            title: Type.String({ minLength: 1, maxLength: 200 }),
            area: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()])),
            deputyOrder: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 20 }), Type.Null()])),
            substituteUserId: Type.Optional(Type.Union([Uuid, Type.Null()])),
            substitutePositionId: Type.Optional(Type.Union([Uuid, Type.Null()])),
          },
          strict,
        ),
        response: { 201: Position },
      },
    },
    async (req, reply) => {
      const body = req.body as NewPosition;
      const r = await inEntity(deps, req, p(req).entity, (tx, ctx) => createPosition(tx, ctx, body));
      return reply.status(201).send(r);
    },
  );

  app.post(
    '/api/v1/entities/:entity/positions/:id/holders',
    {
      schema: {
        tags: ['positions'],
        summary:
          'Appoint a holder from a date (admin); the holder in office that day is ended the day before',
        description:
          'Dates are Europe/Madrid civil dates, both included. 409 POSITION_HOLDER_OVERLAP when another holder starts on or after `validFrom`.',
        params: IdParams,
        body: Type.Object(
          {
            userId: Uuid,
            validFrom: DateStr,
            validTo: Type.Optional(NullableDate),
            appointmentReference: Type.Optional(
              Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()]),
            ),
          },
          strict,
        ),
        response: { 201: Position },
      },
    },
    async (req, reply) => {
      const body = req.body as NewHolder;
      const r = await inEntity(deps, req, p(req).entity, (tx, ctx) =>
        appointHolder(tx, ctx, p(req).id, body),
      );
      return reply.status(201).send(r);
    },
  );

  app.post(
    '/api/v1/entities/:entity/positions/:id/absences',
    {
      schema: {
        tags: ['positions'],
        summary: 'Record an absence of the holder (admin): the substitute signs “per substitució” meanwhile',
        description:
          '409 POSITION_ABSENCE_OVERLAP when an absence already covers some of the days; 409 POSITION_NO_SUBSTITUTE when the position has no substitute.',
        params: IdParams,
        body: Type.Object(
          { from: DateStr, to: DateStr, reason: Type.String({ minLength: 1, maxLength: 1000 }) },
          strict,
        ),
        response: { 201: Position },
      },
    },
    async (req, reply) => {
      const body = req.body as NewAbsence;
      const r = await inEntity(deps, req, p(req).entity, (tx, ctx) =>
        recordAbsence(tx, ctx, p(req).id, body),
      );
      return reply.status(201).send(r);
    },
  );

  app.post(
    '/api/v1/entities/:entity/positions/:id/delegations',
    {
      schema: {
        tags: ['positions'],
        summary: 'Record areas and powers delegated to the position by a mayor’s decree (admin)',
        description:
          'LBRL art. 21.3 and 23.4; ROF art. 43–44. `validFrom` defaults to the decree’s date and cannot precede it.',
        params: IdParams,
        body: Type.Object(
          {
            areas: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 50 }),
            powers: Type.String({ minLength: 1, maxLength: 4000 }),
            decreeReference: Type.String({ minLength: 1, maxLength: 200 }),
            decreeDate: DateStr,
            validFrom: Type.Optional(NullableDate),
            validTo: Type.Optional(NullableDate),
          },
          strict,
        ),
        response: { 201: Position },
      },
    },
    async (req, reply) => {
      const body = req.body as NewDelegation;
      const r = await inEntity(deps, req, p(req).entity, (tx, ctx) =>
        recordDelegation(tx, ctx, p(req).id, body),
      );
      return reply.status(201).send(r);
    },
  );
}
