import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { inEntity } from '../../http/scope.ts';
import { openForVerification, verifyStoredDocument } from './verification.service.ts';
import { registerVerificationReportRoute } from './verification-report.routes.ts';

const strict = { additionalProperties: false } as const;
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const IdParams = Type.Object(
  { entity: Type.String({ minLength: 2, maxLength: 100 }), id: Type.String({ maxLength: 64 }) },
  strict,
);

const Certificate = Type.Object({
  subject: Type.String(),
  issuer: Type.String(),
  serialNumber: Type.String(),
  validFrom: Type.String({ format: 'date-time' }),
  validTo: Type.String({ format: 'date-time' }),
});

const Signature = Type.Object({
  signer: Nullable(Type.String()),
  position: Nullable(
    Type.String({ description: 'From /LligallPosition, else the text after " — " in /Reason' }),
  ),
  signedAt: Nullable(Type.String({ format: 'date-time', description: 'The time the signer claims' })),
  format: Type.String({
    description: 'PAdES-B-B, PAdES (adbe.pkcs7.detached), XAdES-BES (enveloped|detached), CAdES-B-B…',
  }),
  integrity: Type.Union([Type.Literal('valid'), Type.Literal('invalid')]),
  integrityProblem: Nullable(Type.String()),
  trust: Type.Union([
    Type.Literal('trusted'),
    Type.Literal('untrusted'),
    Type.Literal('expired'),
    Type.Literal('revoked'),
    Type.Literal('unknown'),
  ]),
  trustReason: Type.String(),
  coverage: Type.Object({
    label: Type.String({ description: '"whole", or "revision n"' }),
    scope: Type.Union([Type.Literal('whole'), Type.Literal('revision')]),
    revision: Type.Integer(),
    revisions: Type.Integer(),
    coveredBytes: Type.Integer(),
    totalBytes: Type.Integer(),
    laterChangesIncremental: Type.Union([Type.Boolean(), Type.Null()]),
  }),
  reason: Nullable(Type.String()),
  signerFacts: Type.Union([
    Type.Object({
      commonName: Nullable(Type.String()),
      organization: Nullable(Type.String()),
      serialNumber: Nullable(Type.String()),
      organizationIdentifier: Nullable(Type.String()),
      dir3: Nullable(Type.String()),
    }),
    Type.Null(),
  ]),
  certificate: Type.Union([Certificate, Type.Null()]),
  chain: Type.Array(Certificate, { description: 'Signer first; the trust anchor last when reached' }),
  demo: Type.Boolean({
    description:
      'Made with a demo key of this installation (path ending at the installation CA): show it as "demo — not qualified"',
  }),
  qualified: Type.Boolean({
    description:
      'Trusted, not demo, and the certificate declares itself qualified (QCStatement QcCompliance)',
  }),
  detachedSignatureId: Type.Union([Type.String(), Type.Null()], {
    description:
      'A detached .p7s/.xsig of the document (GET …/documents/{id}/signatures/{signatureId}); null when inside the file',
  }),
});

export const VerificationReportSchema = Type.Object({
  documentId: Type.String(),
  verifiedAt: Type.String({ format: 'date-time' }),
  signed: Type.Boolean({ description: 'There are signatures and every one is valid and trusted' }),
  signatures: Type.Array(Signature),
});

const p = (req: FastifyRequest) => req.params as { entity: string; id: string };

export function registerVerificationRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get(
    '/api/v1/entities/:entity/documents/:id/verification',
    {
      schema: {
        tags: ['signatures'],
        summary: "Verify a document's signatures: integrity, trust, coverage and certificates of each",
        params: IdParams,
        response: { 200: VerificationReportSchema },
      },
    },
    async (req) => {
      const doc = await inEntity(deps, req, p(req).entity, (tx, ctx) =>
        openForVerification(tx, ctx, p(req).id),
      );
      return verifyStoredDocument(deps, doc);
    },
  );
  registerVerificationReportRoute(app, deps);
}
