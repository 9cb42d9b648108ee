import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { inEntity } from '../../http/scope.ts';
import { contentDisposition } from '#modules/documents/documents.service.ts';
import { issueVerificationReport, openVerificationReport } from './verification-report.ts';
import { languageFromAcceptLanguage, reportLanguage } from './verification-report.messages.ts';

const strict = { additionalProperties: false } as const;
const Params = Type.Object(
  { entity: Type.String({ minLength: 2, maxLength: 100 }), id: Type.String({ maxLength: 64 }) },
  strict,
);
const Query = Type.Object(
  {
    lang: Type.Optional(
      Type.Union([Type.Literal('ca'), Type.Literal('es'), Type.Literal('oc'), Type.Literal('oc-aranes')], {
        description:
          "The report's language (`oc` and `oc-aranes` are Aranese). Without it: the first of Accept-Language that has one, else the entity's language, else Catalan.",
      }),
    ),
  },
  strict,
);

export function registerVerificationReportRoute(app: FastifyInstance, deps: AppDeps): void {
  app.get(
    '/api/v1/entities/:entity/documents/:id/verification.pdf',
    {
      // Each report is stored for good (its CSV must keep resolving): a client in a loop must not fill the store.
      config: { rateLimit: { max: 30, timeWindow: '1 minute' } },
      schema: {
        tags: ['signatures'],
        summary: 'The verification report as a PDF sealed PAdES-B-B with the entity’s seal, with its own CSV',
        description:
          'Verifies the document now (as GET …/verification does, with the same access rule and audit) and issues a new report: each signature’s signer, position, time, format, integrity, trust, coverage and certificate, and the verdict; a signature made with a demo key of the installation CA is labelled “demo — not qualified”. The report is stored as a document of the entity (not in the case file’s index) with a CSV that GET /api/v1/verify/{csv} resolves; the issue is audited (`document.verification_report`). 409 SEAL_UNAVAILABLE in production when the entity has no seal; 429 above 30 reports a minute per client.',
        params: Params,
        querystring: Query,
        produces: ['application/pdf'],
      },
    },
    async (req: FastifyRequest, reply) => {
      const { entity, id } = req.params as { entity: string; id: string };
      const query = req.query as { lang?: string };
      const opened = await inEntity(deps, req, entity, (tx, ctx) =>
        openVerificationReport(tx, ctx, deps.config, id),
      );
      const language =
        reportLanguage(query.lang) ??
        languageFromAcceptLanguage(req.headers['accept-language']) ??
        reportLanguage(opened.entityLanguage) ??
        'ca';
      const issued = await issueVerificationReport(deps, opened, language);
      reply.header('content-type', 'application/pdf');
      reply.header('content-length', String(issued.pdf.length));
      reply.header('content-disposition', contentDisposition(issued.fileName));
      reply.header('content-language', language === 'oc-aranes' ? 'oc' : language);
      reply.header('cache-control', 'private, no-store');
      return reply.send(issued.pdf);
    },
  );
}
