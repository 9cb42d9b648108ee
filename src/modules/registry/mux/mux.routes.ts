import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../../app.ts';
import { inEntity, requestMeta } from '../../../http/scope.ts';
import { AppError } from '#platform/errors.ts';
import { canReadRegistry } from '../registry.policy.ts';
import { issueReceipt } from '../receipt.service.ts';
import { desalClientFor } from './desal.ts';
import { bearerToken } from './jwt.ts';
import {
  authenticateMux,
  type EnqueueFetch,
  fetchEntryAttachments,
  listMuxAttachments,
  MUX_FETCH_JOB,
  type MuxAuth,
  receiveTransaction,
} from './mux.service.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `mux`: the route authenticates MUX v3's JWT itself; the session/API-token hook leaves it alone. */
    externalAuth?: 'mux';
  }
  interface FastifyRequest {
    mux?: MuxAuth;
  }
}

/** Largest transaction JSON accepted (the guide's full example is about 19 KB; documents travel by reference). */
export const MUX_BODY_LIMIT = 512 * 1024;

const strict = { additionalProperties: false } as const;

/**
 * `POST /api/v1/mux/{entity}/registre`: the entity's registry receiving entries from the AOC's
 * MUX v3 router (guide section 5). Authenticated by MUX's HS256 JWT for this entity only (before
 * the body is read), never by a session. DESA'L attachments are fetched after the entry commits.
 */
export function registerMuxRoutes(app: FastifyInstance, deps: AppDeps): void {
  const desal = desalClientFor(deps.config);
  // Right after the entry's commit: fetch its DESA'L documents, then issue its receipt (which
  // lists them). The job enqueued with the entry (MUX_FETCH_JOB) and the receipts sweeper
  // (registry_receipts_due) finish the work if this process dies first (ARCHITECTURE data rule 6).
  const enqueue: EnqueueFetch = (tx, d) => deps.jobs.send(tx, MUX_FETCH_JOB, d);
  const completeSoon = (data: { tenantId: string; entryId: string }, documents: number) => {
    setImmediate(() => {
      (documents ? fetchEntryAttachments(deps, desal, data) : Promise.resolve())
        .then(() => issueReceipt(deps, data.tenantId, data.entryId))
        .catch((e) =>
          app.log.warn(
            { err: (e as Error).message, ...data },
            'MUX entry completion will be retried by its jobs',
          ),
        );
    });
  };

  app.post(
    '/api/v1/mux/:entity/registre',
    {
      bodyLimit: MUX_BODY_LIMIT,
      config: { externalAuth: 'mux' },
      schema: {
        tags: ['mux'],
        summary: 'MUX v3: register a transaction in this entity’s registry (AOC guide, section 5)',
        description:
          'The body is the whole MUX v3 transaction (guide 5.3). `Authorization: Bearer <JWT>` signed HS256 with the secret the operator configured for this entity (`lligall mux configure`), with its issuer and subject, `iat` and `exp` (at most 10 minutes apart). ' +
          'Idempotent per idTransaccio and direction: a repeated transaction gets the same answer, byte for byte; the same id with other data gets 409 MUX_TRANSACTION_CONFLICT. ' +
          'Answer (guide 5.4): {resultat, idTransaccio, tipus, numeroAssentament, dataAssentament, dataPresentacio}, dates as dd/MM/yyyy’T’HH:mm:ss.SSS±hh:mm (Europe/Madrid). ' +
          'Errors are application/problem+json; a refused transaction also carries the guide’s resultat=false, codiError and missatgeError. DESA’L documents are fetched after the entry commits and become its attachments.',
        security: [{ muxJwt: [] }],
        params: Type.Object({ entity: Type.String({ minLength: 2, maxLength: 100 }) }, strict),
        body: Type.Object(
          {},
          { additionalProperties: true, description: 'MUX v3 transaction (guide 3 and 5.3)' },
        ),
        response: {
          200: Type.Object(
            {
              resultat: Type.Boolean(),
              idTransaccio: Type.String(),
              tipus: Type.Union([Type.Literal('E'), Type.Literal('S')]),
              numeroAssentament: Type.String(),
              dataAssentament: Type.String(),
              dataPresentacio: Type.String(),
            },
            strict,
          ),
        },
      },
      onRequest: async (req: FastifyRequest) => {
        const token = bearerToken(req.headers.authorization);
        req.mux = await authenticateMux(deps, (req.params as { entity: string }).entity, token);
      },
    },
    async (req, reply) => {
      const auth = req.mux;
      if (!auth) throw new AppError('MUX_TOKEN_INVALID', 'Not authenticated');
      const answer = await receiveTransaction(deps, auth, req.body, {
        request: requestMeta(req),
        enqueue,
      });
      if (answer.entryId)
        completeSoon({ tenantId: auth.tenant.id, entryId: answer.entryId }, answer.documents);
      // The stored bytes, as they are: a repeated transaction gets exactly the first answer.
      return reply
        .status(answer.status as 200)
        .type('application/json; charset=utf-8')
        .send(answer.body);
    },
  );

  app.get(
    '/api/v1/entities/:entity/registry/:id/mux-attachments',
    {
      schema: {
        tags: ['mux'],
        summary: 'The DESA’L documents of a MUX entry and the state of their fetch',
        params: Type.Object(
          { entity: Type.String({ minLength: 2, maxLength: 100 }), id: Type.String({ format: 'uuid' }) },
          strict,
        ),
        response: {
          200: Type.Array(
            Type.Object({
              position: Type.Integer(),
              desalUuid: Type.String(),
              fileName: Type.String(),
              state: Type.Union([Type.Literal('pending'), Type.Literal('fetched'), Type.Literal('failed')]),
              errorCode: Type.Union([Type.String(), Type.Null()]),
              error: Type.Union([Type.String(), Type.Null()]),
              attempts: Type.Integer(),
              documentId: Type.Union([Type.String(), Type.Null()]),
              sha256: Type.Union([Type.String(), Type.Null()]),
            }),
          ),
        },
      },
    },
    async (req) => {
      const { entity, id } = req.params as { entity: string; id: string };
      return inEntity(deps, req, entity, (tx, ctx) => {
        if (!canReadRegistry(ctx)) throw new AppError('FORBIDDEN', 'You may not consult this registry');
        return listMuxAttachments(tx, ctx, id);
      });
    },
  );
}
