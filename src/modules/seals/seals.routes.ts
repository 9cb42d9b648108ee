import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { inEntity } from '../../http/scope.ts';
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
}
