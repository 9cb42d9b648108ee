import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { inConsole } from './console-scope.ts';
import { getEntityDetail, listEntities, setEntityState } from './entities.service.ts';
import {
  assignWave,
  createCall,
  createWave,
  getWave,
  listCalls,
  listWaves,
  proposeWave,
} from './waves.service.ts';

const strict = { additionalProperties: false } as const;
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateStr = Type.String({ maxLength: 10 });
const Status = Type.String({ maxLength: 20 });

const Call = Type.Object({
  id: Type.String(),
  name: Type.String(),
  opensOn: Type.String(),
  closesOn: Type.String(),
});
const EntityRefProps = {
  id: Type.String(),
  dir3: Type.String(),
  ine: Nullable(Type.String()),
  slug: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  comarca: Nullable(Type.String()),
  population: Nullable(Type.Integer()),
  status: Type.String(),
};
const Wave = Type.Object({
  id: Type.String(),
  callId: Type.String(),
  callName: Type.String(),
  name: Type.String(),
  plannedStart: Type.String(),
  plannedEnd: Type.String(),
  requiresCertification: Type.Boolean(),
  capacity: Nullable(Type.Integer()),
  entities: Type.Array(Type.Object({ ...EntityRefProps, position: Type.Integer() })),
});
const Proposal = Type.Object({
  rule: Type.String(),
  entities: Type.Array(
    Type.Object({ ...EntityRefProps, requestId: Type.String(), currentProvider: Nullable(Type.String()) }),
  ),
});
const EntityItem = Type.Object({
  ...EntityRefProps,
  waveId: Nullable(Type.String()),
  waveName: Nullable(Type.String()),
});
const EnrolmentSummary = Type.Object({
  id: Type.String(),
  status: Type.String(),
  entityName: Type.String(),
  entityKind: Type.String(),
  ine: Nullable(Type.String()),
  dir3: Nullable(Type.String()),
  entityId: Nullable(Type.String()),
  population: Type.Integer(),
  currentProvider: Nullable(Type.String()),
  submittedAt: Type.String(),
  registryNumber: Nullable(Type.String()),
  callId: Nullable(Type.String()),
  callName: Nullable(Type.String()),
});
const EntityDetail = Type.Object({
  ...EntityRefProps,
  wave: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
  history: Type.Array(
    Type.Object({
      from: Nullable(Type.String()),
      to: Type.String(),
      at: Type.String(),
      by: Type.String(),
      reason: Nullable(Type.String()),
    }),
  ),
  missingForLive: Type.Array(Type.String()),
  request: Nullable(EnrolmentSummary),
});

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }, strict);
const RefParams = Type.Object({ ref: Type.String({ minLength: 1, maxLength: 100 }) }, strict);
const CallBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200 }), opensOn: DateStr, closesOn: DateStr },
  strict,
);
const WaveBody = Type.Object(
  {
    callId: Type.String({ minLength: 1, maxLength: 200 }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    plannedStart: DateStr,
    plannedEnd: DateStr,
    requiresCertification: Type.Boolean(),
    capacity: Nullable(Type.Integer({ minimum: 1, maximum: 10000 })),
  },
  strict,
);
const AssignBody = Type.Object(
  { entityIds: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 1000 }) },
  strict,
);
const EntitiesQuery = Type.Object(
  {
    status: Type.Optional(Status),
    waveId: Type.Optional(Type.String({ maxLength: 64 })),
    comarca: Type.Optional(Type.String({ maxLength: 100 })),
    q: Type.Optional(Type.String({ maxLength: 100 })),
  },
  strict,
);
const StateBody = Type.Object(
  { to: Status, reason: Type.Optional(Type.String({ maxLength: 2000 })) },
  strict,
);

const OPERATOR = ['operator'] as const;

/**
 * The roll-out's calls, waves, schedule and entity states (issue 6): the Diputació's operators
 * only (anyone else gets 404, as for a route that does not exist).
 */
export function registerWavesRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get(
    '/api/v1/console/calls',
    { schema: { tags: ['console'], summary: 'Calls for enrolment', response: { 200: Type.Array(Call) } } },
    (req) => inConsole(deps, req, OPERATOR, (tx) => listCalls(tx)),
  );

  app.post<{ Body: Static<typeof CallBody> }>(
    '/api/v1/console/calls',
    {
      schema: {
        tags: ['console'],
        summary: 'Open a call for enrolment (name unique; closesOn is its deadline, Europe/Madrid)',
        body: CallBody,
        response: { 201: Call },
      },
    },
    async (req, reply) => {
      const call = await inConsole(deps, req, OPERATOR, (tx, ctx) => createCall(tx, ctx, req.body));
      return reply.code(201).send(call);
    },
  );

  app.get(
    '/api/v1/console/waves',
    {
      schema: {
        tags: ['console'],
        summary: 'The waves with their entities',
        response: { 200: Type.Array(Wave) },
      },
    },
    (req) => inConsole(deps, req, OPERATOR, (tx) => listWaves(tx)),
  );

  app.post<{ Body: Static<typeof WaveBody> }>(
    '/api/v1/console/waves',
    {
      schema: {
        tags: ['console'],
        summary: 'Plan a wave of a call',
        description:
          '`requiresCertification`: the wave takes entities on another provider, who must pass the certification before going live; otherwise entities with no system. `capacity`: at most that many entities (null: no limit).',
        body: WaveBody,
        response: { 201: Wave },
      },
    },
    async (req, reply) => {
      const wave = await inConsole(deps, req, OPERATOR, (tx, ctx) => createWave(tx, ctx, req.body));
      return reply.code(201).send(wave);
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/console/waves/:id',
    { schema: { tags: ['console'], summary: 'A wave', params: IdParams, response: { 200: Wave } } },
    (req) => inConsole(deps, req, OPERATOR, (tx) => getWave(tx, req.params.id)),
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/console/waves/:id/proposal',
    {
      schema: {
        tags: ['console'],
        summary: 'The entities the roll-out rule proposes for a wave',
        description:
          'Entities with an accepted request of the wave’s call, in state requested and in no wave; `rule` no_system (no case-file system) or certification (on another provider); least populated first (population 2025, then INE code), up to the free places.',
        params: IdParams,
        response: { 200: Proposal },
      },
    },
    (req) => inConsole(deps, req, OPERATOR, (tx) => proposeWave(tx, req.params.id)),
  );

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof AssignBody> }>(
    '/api/v1/console/waves/:id/entities',
    {
      schema: {
        tags: ['console'],
        summary: 'Set the entities of a wave (the operator’s final list, in order)',
        description:
          'Added entities go requested → scheduled; removed ones scheduled → requested. 409 WAVE_FULL beyond the capacity, 409 WAVE_ENTITY_NOT_ELIGIBLE for an entity the wave cannot take or one too far on to leave it.',
        params: IdParams,
        body: AssignBody,
        response: { 200: Wave },
      },
    },
    (req) =>
      inConsole(deps, req, OPERATOR, (tx, ctx) => assignWave(tx, ctx, req.params.id, req.body.entityIds)),
  );

  app.get(
    '/api/v1/console/schedule',
    {
      schema: {
        tags: ['console'],
        summary: 'The schedule: every wave with its entities and their states',
        response: { 200: Type.Array(Wave) },
      },
    },
    (req) => inConsole(deps, req, OPERATOR, (tx) => listWaves(tx)),
  );

  app.get<{ Querystring: Static<typeof EntitiesQuery> }>(
    '/api/v1/console/entities',
    {
      schema: {
        tags: ['console'],
        summary: 'The entities of the service, by name (filters: status, waveId, comarca, q)',
        querystring: EntitiesQuery,
        response: { 200: Type.Array(EntityItem) },
      },
    },
    (req) => inConsole(deps, req, OPERATOR, (tx) => listEntities(tx, req.query)),
  );

  app.get<{ Params: Static<typeof RefParams> }>(
    '/api/v1/console/entities/:ref',
    {
      schema: {
        tags: ['console'],
        summary: 'An entity: wave, state history, what going live still needs, accepted request',
        params: RefParams,
        response: { 200: EntityDetail },
      },
    },
    (req) => inConsole(deps, req, OPERATOR, (tx) => getEntityDetail(tx, req.params.ref)),
  );

  app.post<{ Params: Static<typeof RefParams>; Body: Static<typeof StateBody> }>(
    '/api/v1/console/entities/:ref/state',
    {
      schema: {
        tags: ['console'],
        summary: 'Move an entity to another state of the roll-out',
        description:
          '409 STATE_TRANSITION_NOT_ALLOWED for a change the roll-out does not allow, 409 CHECKLIST_INCOMPLETE for live without the go-live checklist (details.missing), 409 STATE_UNCHANGED. Sent back to requested or listed, the entity leaves its wave.',
        params: RefParams,
        body: StateBody,
        response: { 200: EntityDetail },
      },
    },
    (req) =>
      inConsole(deps, req, OPERATOR, (tx, ctx) =>
        setEntityState(tx, ctx, req.params.ref, req.body.to, req.body.reason?.trim() || null),
      ),
  );
}
