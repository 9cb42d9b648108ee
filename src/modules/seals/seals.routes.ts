import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { inEntity } from '../../http/scope.ts';
import {
  AUTOMATED_ACTIONS,
  listResolutions,
  type NewResolution,
  recordResolution,
  revokeResolution,
} from './resolutions.service.ts';
import { listSeals } from './seals.service.ts';

const strict = { additionalProperties: false } as const;
const Entity = Type.String({ minLength: 2, maxLength: 100, description: 'DIR3 code or slug of the entity' });

const Seal = Type.Object({
  id: Type.String({ format: 'uuid' }),
  label: Type.String(),
  subject: Type.String({ description: 'Distinguished name of the seal certificate' }),
  issuer: Type.String(),
  serialNumber: Type.String({ description: 'Certificate serial number (hex)' }),
  fingerprintSha256: Type.String({ description: 'SHA-256 of the DER certificate (hex)' }),
  validFrom: Type.String({ format: 'date-time' }),
  validTo: Type.String({ format: 'date-time' }),
  qualified: Type.Boolean({
    description:
      'A qualified seal certificate (eIDAS); false for the demo seal issued by the installation CA',
  }),
  active: Type.Boolean({ description: 'The seal the entity signs with now (at most one)' }),
  source: Type.Union([Type.Literal('installation_ca'), Type.Literal('pkcs12')]),
  createdAt: Type.String({ format: 'date-time' }),
  deactivatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  certificatePem: Type.String({ description: 'The certificate (public), PEM' }),
});

const CivilDate = (description: string) =>
  Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description });
const Kind = Type.Union([Type.Literal('csv_system'), Type.Literal('automated_action')], {
  description:
    '`csv_system`: approves the CSV system (LRJSP art. 42.b); `automated_action`: authorises automated actions (art. 41.2)',
});
const Action = Type.Union(
  AUTOMATED_ACTIONS.map((a) => Type.Literal(a)),
  { description: 'An automated action the resolution authorises' },
);
const Resolution = Type.Object({
  id: Type.String({ format: 'uuid' }),
  kind: Kind,
  title: Type.String(),
  reference: Type.String({ description: 'How it is cited, e.g. "Decret 2026/000017"' }),
  approvedOn: Type.String(),
  responsibleBody: Type.String({ description: 'The body responsible for the automated actions (art. 41.2)' }),
  actions: Type.Array(Type.String()),
  publication: Type.Union([Type.String(), Type.Null()]),
  documentId: Type.String({ format: 'uuid' }),
  document: Type.Object({ title: Type.String(), sha256: Type.String(), eniId: Type.String() }),
  inForce: Type.Boolean({ description: 'Approved on or before today and not revoked (Europe/Madrid)' }),
  revokedOn: Type.Union([Type.String(), Type.Null()]),
  revokedReason: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});
const ResolutionParams = Type.Object(
  { entity: Entity, id: Type.String({ minLength: 1, maxLength: 64 }) },
  strict,
);

export function registerSealRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get(
    '/api/v1/entities/:entity/seals',
    {
      schema: {
        tags: ['seals'],
        summary: "The entity's seals (segells d'òrgan), current and past",
        description:
          'Public facts of each seal certificate (LRJSP art. 40.1: the seu publishes this list). Never any private key. ' +
          'Any member of the entity may read it.',
        params: Type.Object({ entity: Entity }, strict),
        response: { 200: Type.Object({ seals: Type.Array(Seal) }) },
      },
    },
    async (req: FastifyRequest) => {
      const { entity } = req.params as { entity: string };
      return inEntity(deps, req, entity, async (tx, ctx) => ({ seals: await listSeals(tx, ctx) }));
    },
  );

  app.get(
    '/api/v1/entities/:entity/automation-resolutions',
    {
      schema: {
        tags: ['seals'],
        summary: 'The resolutions approving the CSV system and the automated actions',
        description:
          'Published in the seu with the seals (LRJSP art. 41.2, 42.b). Any member of the entity may read them.',
        params: Type.Object({ entity: Entity }, strict),
        response: { 200: Type.Object({ resolutions: Type.Array(Resolution) }) },
      },
    },
    async (req: FastifyRequest) => {
      const { entity } = req.params as { entity: string };
      return inEntity(deps, req, entity, async (tx, ctx) => ({
        resolutions: await listResolutions(tx, ctx),
      }));
    },
  );

  app.post(
    '/api/v1/entities/:entity/automation-resolutions',
    {
      schema: {
        tags: ['seals'],
        summary: 'Record a resolution approving the CSV system or automated actions (administrator; audited)',
        description:
          'The resolution document must already be a document of the entity incorporated into a case file (`documentId`).',
        params: Type.Object({ entity: Entity }, strict),
        body: Type.Object(
          {
            kind: Kind,
            title: Type.String({ minLength: 1, maxLength: 500 }),
            reference: Type.String({ minLength: 1, maxLength: 200 }),
            approvedOn: CivilDate('The date of the resolution, YYYY-MM-DD'),
            responsibleBody: Type.String({ minLength: 1, maxLength: 300 }),
            actions: Type.Array(Action, { maxItems: 20, description: 'Empty for the CSV system' }),
            publication: Type.Optional(
              Type.Union([Type.String({ minLength: 1, maxLength: 500 }), Type.Null()]),
            ),
            documentId: Type.String({ format: 'uuid' }),
          },
          strict,
        ),
        response: { 201: Resolution },
      },
    },
    async (req, reply) => {
      const { entity } = req.params as { entity: string };
      const body = req.body as NewResolution;
      const r = await inEntity(deps, req, entity, (tx, ctx) => recordResolution(tx, ctx, body));
      return reply.status(201).send(r);
    },
  );

  app.post(
    '/api/v1/entities/:entity/automation-resolutions/:id/revoke',
    {
      schema: {
        tags: ['seals'],
        summary: 'Revoke a resolution from a date (administrator; audited; once)',
        params: ResolutionParams,
        body: Type.Object(
          {
            revokedOn: CivilDate('The first day it is no longer in force, YYYY-MM-DD'),
            reason: Type.String({ minLength: 1, maxLength: 2000 }),
          },
          strict,
        ),
        response: { 200: Resolution },
      },
    },
    async (req) => {
      const { entity, id } = req.params as { entity: string; id: string };
      const body = req.body as { revokedOn: string; reason: string };
      return inEntity(deps, req, entity, (tx, ctx) => revokeResolution(tx, ctx, id, body));
    },
  );
}
