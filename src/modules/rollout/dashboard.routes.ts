import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { contentDisposition } from '#modules/documents/documents.service.ts';
import { madridDateOf } from '#modules/calendar/civil-date.ts';
import { inConsole } from './console-scope.ts';
import {
  buildDashboard,
  dashboardCsv,
  mapJson,
  readRolloutFigures,
  readUsage,
  usageEntities,
} from './dashboard.service.ts';
import { ENTITY_STATUSES, type ConsoleRole } from './rollout.model.ts';

const READERS: readonly ConsoleRole[] = ['operator', 'support'];

const ByState = Type.Object(
  Object.fromEntries(ENTITY_STATUSES.map((s) => [s, Type.Integer()])) as Record<
    string,
    ReturnType<typeof Type.Integer>
  >,
);
const Dashboard = Type.Object({
  byState: ByState,
  byWave: Type.Array(Type.Object({ waveId: Type.String(), name: Type.String(), byState: ByState })),
  byComarca: Type.Array(
    Type.Object({
      comarca: Type.Union([Type.String(), Type.Null()]),
      total: Type.Integer(),
      byState: ByState,
    }),
  ),
  progress: Type.Array(Type.Object({ date: Type.String(), byState: ByState })),
  usage: Type.Array(
    Type.Object({
      entityId: Type.String(),
      dir3: Type.String(),
      name: Type.String(),
      expedientsOpened30d: Type.Integer(),
      registryEntries30d: Type.Integer(),
      documentsSigned30d: Type.Integer(),
    }),
  ),
  receiptsOwed: Type.Array(
    Type.Object({
      entityId: Type.String(),
      dir3: Type.String(),
      name: Type.String(),
      owed: Type.Integer(),
      failing: Type.Integer(),
      oldestSince: Type.String(),
      lastError: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  generatedAt: Type.String(),
});

/**
 * The roll-out's dashboard routes (issue 6): the figures (JSON and CSV) and the map. Operators
 * and support technicians may read them; anyone else gets 404 (inConsole). Each computation of
 * the figures is one `console.figures` event on the platform's audit chain.
 */
export function registerDashboardRoutes(app: FastifyInstance, deps: AppDeps): void {
  /** The roll-out read in the console's platform transaction, then each entity's usage in its own. */
  async function compute(req: Parameters<typeof inConsole>[1], purpose: 'dashboard' | 'csv') {
    const figures = await inConsole(deps, req, READERS, (tx, ctx) => readRolloutFigures(tx, ctx, purpose));
    const now = deps.clock.now();
    const usage = await readUsage(deps.db, usageEntities(figures.entities), now);
    return { figures, usage, now };
  }

  app.get(
    '/api/v1/console/dashboard',
    {
      schema: {
        tags: ['console'],
        summary:
          'The province dashboard: entities by state, wave and comarca, daily progress, usage of the last 30 days, and the entities that owe registry receipts their requests could not issue (`receiptsOwed`: how many, how many the sweeper failed, since when, the last error)',
        response: { 200: Dashboard },
      },
    },
    async (req, reply) => {
      const { figures, usage, now } = await compute(req, 'dashboard');
      reply.header('cache-control', 'private, no-store');
      return buildDashboard(figures, usage, now);
    },
  );

  app.get(
    '/api/v1/console/dashboard.csv',
    {
      schema: {
        tags: ['console'],
        summary: 'The dashboard as CSV (UTF-8 with BOM): one row per entity with its state, wave and usage',
        produces: ['text/csv'],
      },
    },
    async (req, reply) => {
      const { figures, usage, now } = await compute(req, 'csv');
      reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', contentDisposition(`lligall-desplegament-${madridDateOf(now)}.csv`))
        .header('cache-control', 'private, no-store');
      return reply.send(dashboardCsv(figures.entities, usage));
    },
  );

  app.get(
    '/api/v1/console/map',
    {
      schema: {
        tags: ['console'],
        summary:
          'The province’s municipal boundaries (ICGC, CC BY 4.0) as GeoJSON, each with the entity’s state',
        produces: ['application/geo+json', 'application/json'],
      },
    },
    async (req, reply) => {
      const entities = await inConsole(deps, req, READERS, (tx) =>
        tx
          .selectFrom('tenants')
          .select(['ine', 'name', 'status'])
          .where('kind', '=', 'ajuntament')
          .where('ine', 'is not', null)
          .execute(),
      );
      reply
        .header('content-type', 'application/json; charset=utf-8')
        .header('cache-control', 'private, no-store');
      return reply.send(mapJson(entities));
    },
  );
}
