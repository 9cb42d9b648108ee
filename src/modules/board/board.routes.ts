import fsp from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '#src/app.ts';
import { inEntity, requestMeta, requireUser } from '#src/http/scope.ts';
import type { StagedBlob } from '#platform/blobs/blob-store.ts';
import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import {
  contentDisposition,
  DOCUMENT_TYPES,
  type DocumentType,
  safeFileName,
} from '#modules/documents/documents.service.ts';
import { incorporateDocument } from '#modules/expedients/expedient-documents.service.ts';
import {
  checkPublication,
  getInForce,
  getPublication,
  listInForce,
  listPublications,
  type PublishInput,
  publish,
  withdrawPublication,
} from './board.service.ts';
import { assertCanCertify, getCertificateDocument, issueCertificate } from './certificate.service.ts';
import { listIncidents, recordIncident, updateIncident } from './incidents.service.ts';

const strict = { additionalProperties: false } as const;
const Entity = Type.String({ minLength: 2, maxLength: 100 });
const EntityParams = Type.Object({ entity: Entity }, strict);
const IdParams = Type.Object({ entity: Entity, id: Type.String({ maxLength: 64 }) }, strict);
const SlugParams = Type.Object({ slug: Entity }, strict);
const SlugIdParams = Type.Object({ slug: Entity, id: Type.String({ maxLength: 64 }) }, strict);
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const TermUnit = Type.Union([Type.Literal('business_days'), Type.Literal('calendar_days')]);
const Term = Type.Object({ amount: Type.Integer({ minimum: 1, maximum: 3660 }), unit: TermUnit }, strict);
const State = Type.Union([
  Type.Literal('scheduled'),
  Type.Literal('in_force'),
  Type.Literal('ended'),
  Type.Literal('withdrawn'),
]);

const Publication = Type.Object({
  id: Type.String(),
  state: State,
  title: Type.String(),
  summary: Type.String(),
  publicTitle: Type.String(),
  publicSummary: Type.String(),
  expedient: Type.Object({ id: Type.String(), number: Type.String() }),
  documentId: Type.String(),
  startDate: Type.String(),
  endDate: Type.String(),
  term: Type.Union([Term, Type.Null()]),
  visibleFrom: Type.String(),
  visibleUntil: Type.String(),
  personalDataReviewed: Type.Boolean(),
  createdAt: Type.String(),
  createdBy: Type.String(),
  withdrawal: Type.Union([
    Type.Object({ at: Type.String(), by: Nullable(Type.String()), reason: Type.String() }),
    Type.Null(),
  ]),
  endedAt: Nullable(Type.String()),
  certificate: Type.Union([
    Type.Object({
      documentId: Type.String(),
      csv: Type.String(),
      issuedAt: Type.String(),
      incorporated: Type.Boolean(),
    }),
    Type.Null(),
  ]),
});
const PublicPublication = Type.Object({
  id: Type.String(),
  title: Type.String(),
  summary: Type.String(),
  startDate: Type.String(),
  endDate: Type.String(),
  visibleFrom: Type.String(),
  visibleUntil: Type.String(),
  expedientNumber: Type.String(),
  documentUrl: Type.String(),
});
const PublicBoard = Type.Object({
  entity: Type.Object({ name: Type.String(), dir3: Type.String(), slug: Type.String() }),
  now: Type.String(),
  publications: Type.Array(PublicPublication),
});
const Certificate = Type.Object({
  documentId: Type.String(),
  csv: Type.String(),
  issuedAt: Type.String(),
  incorporated: Type.Boolean(),
  created: Type.Boolean(),
});
const Extension = Type.Object(
  {
    decision: Type.String({ minLength: 1, maxLength: 4000 }),
    newDate: Type.Optional(Type.String({ maxLength: 10 })),
    days: Type.Optional(Type.Integer({ minimum: 1, maximum: 365 })),
  },
  strict,
);
const Incident = Type.Object({
  id: Type.String(),
  startedAt: Type.String(),
  endedAt: Nullable(Type.String()),
  ongoing: Type.Boolean(),
  description: Type.String(),
  outage: Type.Boolean(),
  extension: Type.Union([
    Type.Object({
      decision: Type.String(),
      newDate: Nullable(Type.String()),
      days: Type.Union([Type.Integer(), Type.Null()]),
      recordedAt: Type.String(),
    }),
    Type.Null(),
  ]),
  createdAt: Type.String(),
});
const PublishBody = Type.Object(
  {
    expedientId: Type.String({ maxLength: 64 }),
    documentId: Type.String({ maxLength: 64 }),
    title: Type.String({ minLength: 1, maxLength: 500 }),
    summary: Type.String({ minLength: 1, maxLength: 4000 }),
    startDate: Type.String({ maxLength: 10 }),
    term: Type.Optional(Term),
    endDate: Type.Optional(Type.String({ maxLength: 10 })),
    personalDataReviewed: Type.Boolean(),
  },
  strict,
);

/** Public pages are rate-limited per client, as public CSV verification is. */
export const BOARD_PUBLIC_LIMIT = { max: 60, timeWindow: '1 minute' } as const;

/** Multipart text fields of `POST …/board/upload` (the `file` part comes last). */
const UPLOAD_FIELDS = [
  'expedientId',
  'title',
  'summary',
  'startDate',
  'termAmount',
  'termUnit',
  'endDate',
  'personalDataReviewed',
  'documentTitle',
  'documentType',
] as const;
type UploadField = (typeof UPLOAD_FIELDS)[number];

function uploadInput(f: Partial<Record<UploadField, string>>): Omit<PublishInput, 'documentId'> & {
  documentTitle: string | undefined;
  documentType: DocumentType;
} {
  const missing = (['expedientId', 'title', 'summary', 'startDate', 'personalDataReviewed'] as const).filter(
    (k) => f[k] === undefined,
  );
  if (missing.length) throw new AppError('VALIDATION_FAILED', `Missing field(s): ${missing.join(', ')}`);
  if (f.personalDataReviewed !== 'true' && f.personalDataReviewed !== 'false')
    throw new AppError('VALIDATION_FAILED', 'personalDataReviewed must be true or false');
  let term: PublishInput['term'];
  if (f.termAmount !== undefined || f.termUnit !== undefined) {
    const amount = Number(f.termAmount);
    if (!/^\d{1,4}$/.test(f.termAmount ?? '') || amount < 1)
      throw new AppError('VALIDATION_FAILED', 'termAmount must be a whole number from 1');
    if (f.termUnit !== 'business_days' && f.termUnit !== 'calendar_days')
      throw new AppError('VALIDATION_FAILED', 'termUnit must be business_days or calendar_days');
    term = { amount, unit: f.termUnit };
  }
  const documentType = (f.documentType ?? 'TD99') as DocumentType;
  if (!(DOCUMENT_TYPES as readonly string[]).includes(documentType))
    throw new AppError('VALIDATION_FAILED', `documentType must be one of ${DOCUMENT_TYPES.join(', ')}`);
  if (f.documentTitle !== undefined && (!f.documentTitle.trim() || f.documentTitle.length > 500))
    throw new AppError('VALIDATION_FAILED', 'documentTitle must have 1 to 500 characters');
  return {
    expedientId: f.expedientId!,
    title: f.title!,
    summary: f.summary!,
    startDate: f.startDate!,
    term,
    endDate: f.endDate,
    personalDataReviewed: f.personalDataReviewed === 'true',
    documentTitle: f.documentTitle?.trim(),
    documentType,
  };
}

async function isPdf(staged: StagedBlob): Promise<boolean> {
  const fh = await fsp.open(staged.tmpPath, 'r');
  try {
    const head = Buffer.alloc(5);
    await fh.read(head, 0, 5, 0);
    return head.toString('latin1') === '%PDF-';
  } finally {
    await fh.close();
  }
}

/** The pages of the notice board are not indexed by search engines (DOMAIN: Seu electrònica). */
function noIndex(_req: FastifyRequest, reply: FastifyReply, done: () => void): void {
  reply.header('x-robots-tag', 'noindex, nofollow');
  reply.header('cache-control', 'no-store');
  done();
}

const publicActor = { kind: 'system' as const, id: null, label: 'public', platformRoles: [] };

/** A read of an entity's seu, without login: the entity named by its slug (or DIR3), as the public. */
function inSeu<T>(deps: AppDeps, req: FastifyRequest, slug: string, fn: (tx: Tx, ctx: Ctx) => Promise<T>) {
  return deps.db.tenantByRef(
    slug,
    () => {},
    (tx, t) =>
      fn(tx, {
        tenant: { id: t.id, dir3: t.dir3, slug: t.slug, name: t.name, status: t.status },
        actor: publicActor,
        roles: [],
        request: requestMeta(req),
        clock: deps.clock,
      }),
  );
}

/** The notice board (tauler d'edictes) and the seu's technical incidents: staff routes and the public ones. */
export function registerBoardRoutes(app: FastifyInstance, deps: AppDeps): void {
  const p = (req: FastifyRequest) => req.params as { entity: string; id: string };
  const s = (req: FastifyRequest) => req.params as { slug: string; id: string };

  // ---------------------------------------------------------------- staff
  app.post(
    '/api/v1/entities/:entity/board',
    {
      schema: {
        tags: ['board'],
        summary: 'Publish a PDF document of a case file on the notice board for a period',
        description:
          'The document must be a PDF in the case file’s index. Period: `startDate` (today or later) and either `term` {amount, unit: business_days|calendar_days}, counted from the day after the start with the entity’s calendar, or `endDate`. Visible from 00:00 of the start (Europe/Madrid) until 24:00 of the last day. `personalDataReviewed: true` is required (422 BOARD_PERSONAL_DATA_NOT_REVIEWED). Title and summary are published with personal identifiers masked (LOPDGDD AP7).',
        params: EntityParams,
        body: PublishBody,
        response: { 201: Publication },
      },
    },
    async (req, reply) => {
      const body = req.body as PublishInput;
      const view = await inEntity(deps, req, p(req).entity, (tx, ctx) => publish(tx, ctx, body));
      return reply.status(201).send(view);
    },
  );

  app.post(
    '/api/v1/entities/:entity/board/upload',
    {
      schema: {
        tags: ['board'],
        summary: 'Upload a PDF, incorporate it into the case file and publish it on the notice board',
        description:
          'multipart/form-data: fields `expedientId`, `title`, `summary`, `startDate`, `termAmount` + `termUnit` or `endDate`, `personalDataReviewed` (true), optional `documentTitle` and `documentType` (default TD99), then the `file` part (a PDF; limit LLIGALL_MAX_UPLOAD_MB). Incorporation and publication are one transaction.',
        params: EntityParams,
        consumes: ['multipart/form-data'],
        response: { 201: Publication },
      },
    },
    async (req, reply) => {
      if (!req.isMultipart())
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send multipart/form-data with a `file` part');
      const { entity } = p(req);
      requireUser(req);
      const fields: Partial<Record<UploadField, string>> = {};
      let staged: StagedBlob | undefined;
      let fileName = '';
      let input: ReturnType<typeof uploadInput>;
      try {
        for await (const part of req.parts()) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file' || staged) {
              part.file.resume();
              throw new AppError(
                'VALIDATION_FAILED',
                `Unexpected file part "${part.fieldname}": send one part named "file"`,
              );
            }
            input = uploadInput(fields);
            // Refuse before reading the file when the publication itself would be refused.
            const check = input;
            await inEntity(deps, req, entity, (tx, ctx) => checkPublication(tx, ctx, check)).catch((e) => {
              part.file.resume();
              throw e;
            });
            staged = await deps.blobs.stage(part.file, { maxBytes: deps.config.maxUploadBytes });
            fileName = safeFileName(part.filename);
          } else {
            if (!(UPLOAD_FIELDS as readonly string[]).includes(part.fieldname))
              throw new AppError('VALIDATION_FAILED', `Unknown field "${part.fieldname}"`);
            if (staged) throw new AppError('VALIDATION_FAILED', 'Text fields come before the file');
            fields[part.fieldname as UploadField] = String(part.value);
          }
        }
        if (!staged) throw new AppError('VALIDATION_FAILED', 'The `file` part is missing');
        if (staged.size === 0 || !(await isPdf(staged)))
          throw new AppError('FILE_TYPE_NOT_ACCEPTED', 'The notice board publishes PDF documents only');
      } catch (e) {
        if (staged) await deps.blobs.discard(staged);
        throw e;
      }
      // The file is in the store before any row points to it.
      await deps.blobs.commit(staged);
      const { documentTitle, documentType, ...publication } = input!;
      const file = staged;
      const view = await inEntity(deps, req, entity, async (tx, ctx) => {
        const doc = await incorporateDocument(tx, ctx, publication.expedientId, {
          title: documentTitle || fileName,
          fileName,
          mimeType: 'application/pdf',
          sha256: file.sha256,
          size: file.size,
          documentType,
          elaborationState: 'EE01',
          origin: 'administration',
        });
        return publish(tx, ctx, { ...publication, documentId: doc.id });
      });
      return reply.status(201).send(view);
    },
  );

  app.get(
    '/api/v1/entities/:entity/board',
    {
      schema: {
        tags: ['board'],
        summary: 'The notice board’s publications for staff (original text, every state), newest first',
        params: EntityParams,
        querystring: Type.Object({ state: Type.Optional(State) }, strict),
        response: { 200: Type.Array(Publication) },
      },
    },
    async (req) => {
      const q = req.query as { state?: 'scheduled' | 'in_force' | 'ended' | 'withdrawn' };
      return inEntity(deps, req, p(req).entity, (tx, ctx) => listPublications(tx, ctx, q));
    },
  );

  app.get(
    '/api/v1/entities/:entity/board/:id',
    {
      schema: {
        tags: ['board'],
        summary: 'One publication (staff view)',
        params: IdParams,
        response: { 200: Publication },
      },
    },
    async (req) => inEntity(deps, req, p(req).entity, (tx, ctx) => getPublication(tx, ctx, p(req).id)),
  );

  app.post(
    '/api/v1/entities/:entity/board/:id/withdraw',
    {
      schema: {
        tags: ['board'],
        summary: 'Withdraw a publication before the end of its period (a reason is required; audited)',
        params: IdParams,
        body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 2000 }) }, strict),
        response: { 200: Publication },
      },
    },
    async (req) => {
      const { reason } = req.body as { reason: string };
      return inEntity(deps, req, p(req).entity, (tx, ctx) => withdrawPublication(tx, ctx, p(req).id, reason));
    },
  );

  app.post(
    '/api/v1/entities/:entity/board/:id/certificate',
    {
      schema: {
        tags: ['board'],
        summary: 'Issue the certificate of publication of an ended publication (or return the one issued)',
        description:
          '409 BOARD_PUBLICATION_NOT_ENDED while it is on the board; 409 BOARD_NEVER_PUBLISHED if it was withdrawn before its start. The sweeper issues it at the end without being asked.',
        params: IdParams,
        response: { 200: Certificate, 201: Certificate },
      },
    },
    async (req, reply) => {
      const { entity, id } = p(req);
      const ctx = await inEntity(deps, req, entity, async (tx, ctx) => {
        await assertCanCertify(tx, ctx, id);
        return ctx;
      });
      const cert = await issueCertificate(deps, ctx.tenant.id, id, {
        actor: ctx.actor,
        request: ctx.request,
      });
      return reply.status(cert.created ? 201 : 200).send(cert);
    },
  );

  app.get(
    '/api/v1/entities/:entity/board/:id/certificate',
    {
      schema: {
        tags: ['board'],
        summary: 'Download the certificate of publication (PDF, sealed, with CSV)',
        params: IdParams,
        produces: ['application/pdf'],
      },
    },
    async (req, reply) => {
      const d = await inEntity(deps, req, p(req).entity, (tx, ctx) =>
        getCertificateDocument(tx, ctx, p(req).id),
      );
      reply
        .header('content-type', 'application/pdf')
        .header('content-length', String(d.size))
        .header('content-disposition', contentDisposition(d.fileName))
        .header('cache-control', 'private, no-store');
      return reply.send(deps.blobs.openVerified(d.sha256));
    },
  );

  app.post(
    '/api/v1/entities/:entity/incidents',
    {
      schema: {
        tags: ['board'],
        summary:
          'Record a technical incident of the seu (administrators), with the deadline extension it caused',
        params: EntityParams,
        body: Type.Object(
          {
            startedAt: Type.String({ maxLength: 40 }),
            endedAt: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Null()])),
            description: Type.String({ minLength: 1, maxLength: 4000 }),
            outage: Type.Boolean(),
            extension: Type.Optional(Extension),
          },
          strict,
        ),
        response: { 201: Incident },
      },
    },
    async (req, reply) => {
      const body = req.body as Parameters<typeof recordIncident>[2];
      const view = await inEntity(deps, req, p(req).entity, (tx, ctx) => recordIncident(tx, ctx, body));
      return reply.status(201).send(view);
    },
  );

  app.patch(
    '/api/v1/entities/:entity/incidents/:id',
    {
      schema: {
        tags: ['board'],
        summary: 'Record the end of an ongoing incident and/or its deadline extension (each once)',
        params: IdParams,
        body: Type.Object(
          { endedAt: Type.Optional(Type.String({ maxLength: 40 })), extension: Type.Optional(Extension) },
          strict,
        ),
        response: { 200: Incident },
      },
    },
    async (req) => {
      const body = req.body as Parameters<typeof updateIncident>[3];
      return inEntity(deps, req, p(req).entity, (tx, ctx) => updateIncident(tx, ctx, p(req).id, body));
    },
  );

  app.get(
    '/api/v1/entities/:entity/incidents',
    {
      schema: {
        tags: ['board'],
        summary: 'The seu’s technical incidents, newest first',
        params: EntityParams,
        response: { 200: Type.Array(Incident) },
      },
    },
    async (req) => inEntity(deps, req, p(req).entity, (tx, ctx) => listIncidents(tx, ctx)),
  );

  // ---------------------------------------------------------------- public (the seu, no login)
  const publicRoute = { public: true, rateLimit: BOARD_PUBLIC_LIMIT };

  app.get(
    '/api/v1/seu/:slug/board',
    {
      config: publicRoute,
      onRequest: noIndex,
      schema: {
        tags: ['seu'],
        summary: 'The notice board: publications in force now (server clock), identifiers masked',
        params: SlugParams,
        security: [],
        response: { 200: PublicBoard },
      },
    },
    async (req) =>
      inSeu(deps, req, s(req).slug, async (tx, ctx) => ({
        entity: { name: ctx.tenant.name, dir3: ctx.tenant.dir3, slug: ctx.tenant.slug },
        now: ctx.clock.now().toISOString(),
        publications: await listInForce(tx, ctx),
      })),
  );

  app.get(
    '/api/v1/seu/:slug/board/:id',
    {
      config: publicRoute,
      onRequest: noIndex,
      schema: {
        tags: ['seu'],
        summary: 'One publication in force (404 BOARD_PUBLICATION_NOT_FOUND otherwise)',
        params: SlugIdParams,
        security: [],
        response: {
          200: Type.Object({
            ...PublicPublication.properties,
            document: Type.Object({ fileName: Type.String(), size: Type.Integer(), sha256: Type.String() }),
          }),
        },
      },
    },
    async (req) =>
      inSeu(deps, req, s(req).slug, async (tx, ctx) => {
        const { sha256, fileName, size, ...pub } = await getInForce(tx, ctx, s(req).id);
        return { ...pub, document: { fileName, size, sha256 } };
      }),
  );

  app.get(
    '/api/v1/seu/:slug/board/:id/document',
    {
      config: publicRoute,
      onRequest: noIndex,
      schema: {
        tags: ['seu'],
        summary: 'The published PDF, while the publication is in force',
        params: SlugIdParams,
        security: [],
        produces: ['application/pdf'],
      },
    },
    async (req, reply) => {
      const d = await inSeu(deps, req, s(req).slug, (tx, ctx) => getInForce(tx, ctx, s(req).id));
      reply
        .header('content-type', 'application/pdf')
        .header('content-length', String(d.size))
        .header('content-disposition', contentDisposition(d.fileName));
      return reply.send(deps.blobs.openVerified(d.sha256));
    },
  );

  app.get(
    '/api/v1/seu/:slug/incidents',
    {
      config: publicRoute,
      onRequest: noIndex,
      schema: {
        tags: ['seu'],
        summary: 'The seu’s technical incidents and the deadline extensions they caused, newest first',
        params: SlugParams,
        security: [],
        response: { 200: Type.Array(Incident) },
      },
    },
    async (req) => inSeu(deps, req, s(req).slug, (tx, ctx) => listIncidents(tx, ctx, { public: true })),
  );
}
