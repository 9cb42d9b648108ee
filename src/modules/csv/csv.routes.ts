import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { requestMeta } from '../../http/scope.ts';
import { contentDisposition } from '#modules/documents/documents.service.ts';
import { verifyCsv } from './csv.service.ts';

const strict = { additionalProperties: false } as const;
const CsvParams = Type.Object({ csv: Type.String({ minLength: 1, maxLength: 64 }) }, strict);
/** Public verification is rate-limited per client: enough for people, too few to enumerate codes. */
export const VERIFY_LIMIT = { max: 30, timeWindow: '1 minute' } as const;

const Verified = Type.Object({
  csv: Type.String(),
  entity: Type.Object({ name: Type.String(), dir3: Type.String() }),
  document: Type.Object({
    title: Type.String(),
    documentType: Type.String(),
    fileName: Type.String(),
    mimeType: Type.String(),
    size: Type.Integer(),
    sha256: Type.String(),
    createdAt: Type.String(),
  }),
  seal: Type.Union([
    Type.Object({
      subject: Type.String(),
      issuer: Type.String(),
      qualified: Type.Boolean(),
      validTo: Type.String(),
    }),
    Type.Null(),
  ]),
  contentUrl: Type.String(),
});

/** `GET /api/v1/verify/{csv}` and its content: public (no login), rate-limited, audited. */
export function registerCsvRoutes(app: FastifyInstance, deps: AppDeps): void {
  const csvOf = (req: FastifyRequest) => (req.params as { csv: string }).csv;
  app.get(
    '/api/v1/verify/:csv',
    {
      config: { public: true, rateLimit: VERIFY_LIMIT },
      schema: {
        tags: ['verification'],
        summary:
          'Verify a document by its CSV (public): its entity, metadata, seal and where to get its content',
        description:
          'Case, spaces and hyphens do not matter. 400 CSV_INVALID for a malformed code, 404 CSV_NOT_FOUND for an unknown one, 429 above 30 attempts a minute per client. Every attempt is audited.',
        params: CsvParams,
        security: [],
        response: { 200: Verified },
      },
    },
    async (req, reply) => {
      const { view } = await verifyCsv(deps, csvOf(req), requestMeta(req), { withContent: false });
      reply.header('cache-control', 'no-store');
      return view;
    },
  );
  app.get(
    '/api/v1/verify/:csv/content',
    {
      config: { public: true, rateLimit: VERIFY_LIMIT },
      schema: {
        tags: ['verification'],
        summary: 'The content of the document with this CSV (public), byte for byte as issued',
        params: CsvParams,
        security: [],
        produces: ['application/pdf', 'application/octet-stream'],
      },
    },
    async (req, reply) => {
      const { view, content } = await verifyCsv(deps, csvOf(req), requestMeta(req), { withContent: true });
      reply.header('content-type', view.document.mimeType);
      reply.header('content-length', String(view.document.size));
      reply.header('content-disposition', contentDisposition(view.document.fileName));
      reply.header('cache-control', 'no-store');
      return reply.send(content);
    },
  );
}
