import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { inEntity } from '../../http/scope.ts';
import { madridYear } from '#platform/db/counters.ts';
import { listBook } from './resolutions.service.ts';

const BookEntry = Type.Object({
  number: Type.String({ description: 'YYYY/NNNNNN, correlative per entity and Europe/Madrid year' }),
  signedAt: Type.String({ description: "the deciding signature's time: the decree's date" }),
  title: Type.String(),
  summary: Type.String(),
  position: Type.Union([Type.String(), Type.Null()], { description: 'the deciding position' }),
  bySubstitution: Type.Boolean(),
  expedientId: Type.String(),
  documentId: Type.String(),
  stamped: Type.Boolean({ description: 'number and date stamped onto the PDF (the secretary may sign)' }),
  extract: Type.Union(
    [
      Type.Object({
        sentAt: Type.Union([Type.String(), Type.Null()], {
          description: 'when the last extract (State, Generalitat) was sent; null while one is unsent',
        }),
        due: Type.String({ description: 'the 6-day limit (LBRL art. 56.1), 24:00 Europe/Madrid' }),
      }),
      Type.Null(),
    ],
    { description: "the decree's extracts (GET …/resolutions/extracts has each sending)" },
  ),
});

export function registerResolutionRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get(
    '/api/v1/entities/:entity/resolutions',
    {
      schema: {
        tags: ['resolutions'],
        summary: 'The book of resolutions (decrees) of a year',
        description:
          'Every decree numbered in the year (Europe/Madrid), in number order. A resolution gets its number when its deciding signature is recorded; the default year is the current one.',
        params: Type.Object(
          { entity: Type.String({ minLength: 2, maxLength: 100 }) },
          { additionalProperties: false },
        ),
        querystring: Type.Object(
          { year: Type.Optional(Type.String({ pattern: '^[0-9]{4}$' })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(BookEntry) },
      },
    },
    async (req: FastifyRequest) => {
      const { entity } = req.params as { entity: string };
      const q = req.query as { year?: string };
      const year = q.year ? Number(q.year) : madridYear(deps.clock.now());
      return inEntity(deps, req, entity, (tx, ctx) => listBook(tx, ctx, year));
    },
  );
}
