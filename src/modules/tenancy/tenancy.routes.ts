import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { inEntity } from '../../http/scope.ts';
import { createUnit, listUnits, type UnitKind } from './units.service.ts';

const strict = { additionalProperties: false } as const;
const EntityParams = Type.Object({ entity: Type.String({ minLength: 2, maxLength: 100 }) }, strict);
const UnitKindSchema = Type.Union([Type.Literal('organ'), Type.Literal('unit'), Type.Literal('office')]);
const Unit = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  dir3: Type.Union([Type.String(), Type.Null()]),
});

export function registerTenancyRoutes(app: FastifyInstance, deps: AppDeps): void {
  const entity = (req: FastifyRequest) => (req.params as { entity: string }).entity;
  app.get(
    '/api/v1/entities/:entity/units',
    {
      schema: {
        tags: ['entities'],
        summary: "The entity's bodies, units and registry offices",
        params: EntityParams,
        response: { 200: Type.Array(Unit) },
      },
    },
    async (req) => inEntity(deps, req, entity(req), (tx, ctx) => listUnits(tx, ctx)),
  );
  app.post(
    '/api/v1/entities/:entity/units',
    {
      schema: {
        tags: ['entities'],
        summary: 'Add a body, unit or registry office (admin)',
        params: EntityParams,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            kind: UnitKindSchema,
            dir3: Type.Optional(Type.String({ maxLength: 9 })),
          },
          strict,
        ),
        response: { 201: Unit },
      },
    },
    async (req, reply) => {
      const body = req.body as { name: string; kind: UnitKind; dir3?: string };
      return reply
        .status(201)
        .send(await inEntity(deps, req, entity(req), (tx, ctx) => createUnit(tx, ctx, body)));
    },
  );
}
