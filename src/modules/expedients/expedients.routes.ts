import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { inEntity } from '../../http/scope.ts';
import type { StagedBlob } from '#platform/blobs/blob-store.ts';
import { AppError } from '#platform/errors.ts';
import {
  contentDisposition,
  DOCUMENT_TYPES,
  type DocumentType,
  ELABORATION_STATES,
  type ElaborationState,
  safeFileName,
  safeMimeType,
} from '#modules/documents/documents.service.ts';
import { checkDraft, createDraft } from '#modules/signatures/circuits.service.ts';
import {
  assertAcceptsDocuments,
  checkIncorporation,
  documentViewWithHolders,
  getIndex,
  incorporateDocument,
  readDocument,
} from './expedient-documents.service.ts';
import {
  addExpedientParty,
  closeExpedient,
  createExpedient,
  expedientAuditTrail,
  getExpedientView,
  grantExpedientAccess,
  listExpedients,
  reopenExpedient,
} from './expedients.service.ts';

const strict = { additionalProperties: false } as const;
const Uuid = Type.String({ format: 'uuid' });
const EntityParams = Type.Object({ entity: Type.String({ minLength: 2, maxLength: 100 }) }, strict);
const IdParams = Type.Object(
  { entity: Type.String({ minLength: 2, maxLength: 100 }), id: Type.String({ maxLength: 64 }) },
  strict,
);
const PartyRole = Type.Union([
  Type.Literal('applicant'),
  Type.Literal('representative'),
  Type.Literal('interested'),
]);
const AccessLevel = Type.Union([
  Type.Literal('public'),
  Type.Literal('internal'),
  Type.Literal('restricted'),
]);
const State = Type.Union([Type.Literal('E01'), Type.Literal('E02'), Type.Literal('E03')]);

const ExpedientSummary = Type.Object({
  id: Type.String(),
  number: Type.String(),
  eniId: Type.String(),
  title: Type.String(),
  classification: Type.Union([Type.String(), Type.Null()]),
  state: State,
  accessLevel: AccessLevel,
  openedAt: Type.String(),
  closedAt: Type.Union([Type.String(), Type.Null()]),
  unit: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()]),
});
const Expedient = Type.Object({
  ...ExpedientSummary.properties,
  parties: Type.Array(
    Type.Object({ partyId: Type.String(), role: PartyRole, identifier: Type.String(), name: Type.String() }),
  ),
  documentCount: Type.Integer(),
});
const DocumentView = Type.Object({
  id: Type.String(),
  eniId: Type.String(),
  title: Type.String(),
  fileName: Type.String(),
  mimeType: Type.String(),
  size: Type.Integer(),
  sha256: Type.String(),
  hashFunction: Type.String(),
  documentType: Type.String(),
  elaborationState: Type.String(),
  originalEniId: Type.Union([Type.String(), Type.Null()]),
  origin: Type.String(),
  capturedAt: Type.String(),
  organ: Type.Array(Type.String()),
  format: Type.String(),
  supersedesId: Type.Union([Type.String(), Type.Null()]),
  incorporatedAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});
const Incorporated = Type.Object({
  ...DocumentView.properties,
  order: Type.Integer(),
  expedientId: Type.String(),
});
const Draft = Type.Object({
  ...DocumentView.properties,
  expedientId: Type.String(),
  draft: Type.Literal(true),
  state: Type.String(),
  version: Type.Integer(),
});
const IndexEntry = Type.Object({
  order: Type.Integer(),
  documentId: Type.String(),
  eniId: Type.String(),
  title: Type.String(),
  documentType: Type.String(),
  sha256: Type.String(),
  hashFunction: Type.String(),
  incorporatedAt: Type.String(),
  supersedesId: Type.Union([Type.String(), Type.Null()]),
});

/** Multipart text fields accepted with an upload (the `file` part comes after them). */
const UPLOAD_FIELDS = [
  'title',
  'documentType',
  'elaborationState',
  'origin',
  'originalEniId',
  'supersedesId',
  'draft',
] as const;
type UploadField = (typeof UPLOAD_FIELDS)[number];

function validateUploadFields(f: Partial<Record<UploadField, string>>) {
  const problems: string[] = [];
  const documentType = (f.documentType ?? 'TD99') as DocumentType;
  if (!(DOCUMENT_TYPES as readonly string[]).includes(documentType))
    problems.push(`documentType must be one of ${DOCUMENT_TYPES.join(', ')}`);
  const elaborationState = (f.elaborationState ?? 'EE01') as ElaborationState;
  if (!(ELABORATION_STATES as readonly string[]).includes(elaborationState))
    problems.push(`elaborationState must be one of ${ELABORATION_STATES.join(', ')}`);
  const origin = f.origin ?? 'administration';
  if (origin !== 'administration' && origin !== 'citizen')
    problems.push('origin must be administration or citizen');
  if (f.title !== undefined && (f.title.trim().length === 0 || f.title.length > 500))
    problems.push('title must have 1 to 500 characters');
  if (problems.length) throw new AppError('VALIDATION_FAILED', problems.join('; '));
  return { documentType, elaborationState, origin: origin as 'administration' | 'citizen' };
}

export function registerExpedientRoutes(app: FastifyInstance, deps: AppDeps): void {
  const p = (req: FastifyRequest) => req.params as { entity: string; id: string };

  app.post(
    '/api/v1/entities/:entity/expedients',
    {
      schema: {
        tags: ['expedients'],
        summary: 'Open a case file (numbered YYYY/NNNNNN per entity and year)',
        params: EntityParams,
        body: Type.Object(
          {
            title: Type.String({ minLength: 1, maxLength: 500 }),
            classification: Type.Optional(Type.String({ maxLength: 100 })),
            unitId: Type.Optional(Uuid),
            accessLevel: Type.Optional(AccessLevel),
            parties: Type.Optional(
              Type.Array(Type.Object({ partyId: Uuid, role: PartyRole }, strict), { maxItems: 50 }),
            ),
          },
          strict,
        ),
        response: { 201: Expedient },
      },
    },
    async (req, reply) => {
      const body = req.body as Parameters<typeof createExpedient>[2];
      const exp = await inEntity(deps, req, p(req).entity, (tx, ctx) => createExpedient(tx, ctx, body));
      return reply.status(201).send(exp);
    },
  );

  app.get(
    '/api/v1/entities/:entity/expedients',
    {
      schema: {
        tags: ['expedients'],
        summary: 'List case files the caller can see, with filters',
        params: EntityParams,
        querystring: Type.Object(
          {
            state: Type.Optional(State),
            year: Type.Optional(Type.Integer({ minimum: 1900, maximum: 2999 })),
            q: Type.Optional(Type.String({ maxLength: 200 })),
            party: Type.Optional(Type.String({ maxLength: 64 })),
            page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
            pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
          },
          strict,
        ),
        response: {
          200: Type.Object({
            items: Type.Array(ExpedientSummary),
            total: Type.Integer(),
            page: Type.Integer(),
            pageSize: Type.Integer(),
          }),
        },
      },
    },
    async (req) => {
      const q = req.query as {
        state?: string;
        year?: number;
        q?: string;
        party?: string;
        page?: number;
        pageSize?: number;
      };
      return inEntity(deps, req, p(req).entity, (tx, ctx) =>
        listExpedients(tx, ctx, {
          ...(q.state ? { state: q.state } : {}),
          ...(q.year ? { year: q.year } : {}),
          ...(q.q?.trim() ? { q: q.q.trim() } : {}),
          ...(q.party?.trim() ? { party: q.party.trim().toUpperCase() } : {}),
          page: q.page ?? 1,
          pageSize: q.pageSize ?? 25,
        }),
      );
    },
  );

  app.get(
    '/api/v1/entities/:entity/expedients/:id',
    {
      schema: {
        tags: ['expedients'],
        summary: 'A case file',
        params: IdParams,
        response: { 200: Expedient },
      },
    },
    async (req) => inEntity(deps, req, p(req).entity, (tx, ctx) => getExpedientView(tx, ctx, p(req).id)),
  );

  app.post(
    '/api/v1/entities/:entity/expedients/:id/close',
    {
      schema: {
        tags: ['expedients'],
        summary: 'Close a case file (E01 → E02)',
        params: IdParams,
        response: { 200: Expedient },
      },
    },
    async (req) => inEntity(deps, req, p(req).entity, (tx, ctx) => closeExpedient(tx, ctx, p(req).id)),
  );

  app.post(
    '/api/v1/entities/:entity/expedients/:id/reopen',
    {
      schema: {
        tags: ['expedients'],
        summary: 'Reopen a closed case file (admin, with a reason)',
        params: IdParams,
        body: Type.Object({ reason: Type.String({ minLength: 3, maxLength: 2000 }) }, strict),
        response: { 200: Expedient },
      },
    },
    async (req) =>
      inEntity(deps, req, p(req).entity, (tx, ctx) =>
        reopenExpedient(tx, ctx, p(req).id, (req.body as { reason: string }).reason),
      ),
  );

  app.post(
    '/api/v1/entities/:entity/expedients/:id/parties',
    {
      schema: {
        tags: ['expedients'],
        summary: 'Add an interested party to a case file',
        params: IdParams,
        body: Type.Object({ partyId: Uuid, role: PartyRole }, strict),
        response: { 200: Expedient },
      },
    },
    async (req) =>
      inEntity(deps, req, p(req).entity, (tx, ctx) =>
        addExpedientParty(tx, ctx, p(req).id, req.body as { partyId: string; role: 'applicant' }),
      ),
  );

  app.post(
    '/api/v1/entities/:entity/expedients/:id/access',
    {
      schema: {
        tags: ['expedients'],
        summary: 'Name a user or a unit on a restricted case file (admin)',
        params: IdParams,
        body: Type.Object({ userId: Type.Optional(Uuid), unitId: Type.Optional(Uuid) }, strict),
      },
    },
    async (req, reply) => {
      await inEntity(deps, req, p(req).entity, (tx, ctx) =>
        grantExpedientAccess(tx, ctx, p(req).id, req.body as { userId?: string; unitId?: string }),
      );
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/v1/entities/:entity/expedients/:id/index',
    {
      schema: {
        tags: ['expedients'],
        summary: "The case file's index",
        params: IdParams,
        response: {
          200: Type.Object({
            expedientId: Type.String(),
            eniId: Type.String(),
            number: Type.String(),
            entries: Type.Array(IndexEntry),
          }),
        },
      },
    },
    async (req) => inEntity(deps, req, p(req).entity, (tx, ctx) => getIndex(tx, ctx, p(req).id)),
  );

  app.get(
    '/api/v1/entities/:entity/expedients/:id/audit',
    {
      schema: {
        tags: ['expedients'],
        summary: 'Audit trail of the case file and its documents',
        params: IdParams,
      },
    },
    async (req) => inEntity(deps, req, p(req).entity, (tx, ctx) => expedientAuditTrail(tx, ctx, p(req).id)),
  );

  app.post(
    '/api/v1/entities/:entity/expedients/:id/documents',
    {
      schema: {
        tags: ['documents'],
        summary: 'Upload a document and incorporate it into the case file',
        description:
          'multipart/form-data: fields `title`, `documentType` (TD01…TD20, TD99; default TD99), `elaborationState` (EE01…EE04, EE99; default EE01), `origin` (administration|citizen), `originalEniId` (EE02/EE04), `supersedesId` (a new version), then the `file` part. Streamed into the content-addressed store; limit LLIGALL_MAX_UPLOAD_MB. With `draft=true` the document is a draft: in the case file but not in its index, replaceable (PUT …/documents/{id}/content) until its signature circuit starts; answered with `draft: true` and its `state`.',
        params: IdParams,
        consumes: ['multipart/form-data'],
        response: { 201: Type.Union([Incorporated, Draft]) },
      },
    },
    async (req, reply) => {
      if (!req.isMultipart())
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send multipart/form-data with a `file` part');
      const { entity, id } = p(req);
      // Refuse before reading a byte of the file if the case file does not accept documents.
      await inEntity(deps, req, entity, (tx, ctx) => assertAcceptsDocuments(tx, ctx, id));
      const fields: Partial<Record<UploadField, string>> = {};
      let staged: StagedBlob | undefined;
      let fileName = '';
      let mimeType = '';
      let meta: ReturnType<typeof validateUploadFields>;
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
            staged = await deps.blobs.stage(part.file, { maxBytes: deps.config.maxUploadBytes });
            fileName = safeFileName(part.filename);
            mimeType = safeMimeType(part.mimetype);
          } else {
            if (!(UPLOAD_FIELDS as readonly string[]).includes(part.fieldname)) {
              throw new AppError('VALIDATION_FAILED', `Unknown field "${part.fieldname}"`);
            }
            fields[part.fieldname as UploadField] = String(part.value);
          }
        }
        if (!staged) throw new AppError('VALIDATION_FAILED', 'The `file` part is missing');
        if (staged.size === 0) throw new AppError('VALIDATION_FAILED', 'The file is empty');
        meta = validateUploadFields(fields);
        const check = {
          ...meta,
          originalEniId: fields.originalEniId || null,
          supersedesId: fields.supersedesId || null,
        };
        if (fields.draft !== undefined && fields.draft !== 'true' && fields.draft !== 'false')
          throw new AppError('VALIDATION_FAILED', 'draft must be true or false');
        if (fields.draft === 'true' && check.supersedesId)
          throw new AppError(
            'VALIDATION_FAILED',
            'A draft supersedes nothing: its versions are kept as it changes',
          );
        await inEntity(deps, req, entity, async (tx, ctx) => {
          if (fields.draft === 'true') await checkDraft(tx, ctx, id, check);
          else await checkIncorporation(tx, ctx, id, check);
        });
      } catch (e) {
        if (staged) await deps.blobs.discard(staged);
        throw e;
      }
      // The file is in the store before any row points to it.
      await deps.blobs.commit(staged);
      if (fields.draft === 'true') {
        const draft = await inEntity(deps, req, entity, (tx, ctx) =>
          createDraft(tx, ctx, id, {
            title: fields.title?.trim() || fileName,
            fileName,
            mimeType,
            sha256: staged.sha256,
            size: staged.size,
            ...meta,
            originalEniId: fields.originalEniId || null,
          }),
        );
        return reply.status(201).send(draft);
      }
      const doc = await inEntity(deps, req, entity, (tx, ctx) =>
        incorporateDocument(tx, ctx, id, {
          title: fields.title?.trim() || fileName,
          fileName,
          mimeType,
          sha256: staged.sha256,
          size: staged.size,
          ...meta,
          originalEniId: fields.originalEniId || null,
          supersedesId: fields.supersedesId || null,
        }),
      );
      return reply.status(201).send(doc);
    },
  );

  app.get(
    '/api/v1/entities/:entity/documents/:id',
    {
      schema: {
        tags: ['documents'],
        summary: "A document's metadata (ENI)",
        params: IdParams,
        response: {
          200: Type.Object({ ...DocumentView.properties, expedientIds: Type.Array(Type.String()) }),
        },
      },
    },
    async (req) =>
      inEntity(deps, req, p(req).entity, async (tx, ctx) =>
        documentViewWithHolders(await readDocument(tx, ctx, p(req).id, 'read')),
      ),
  );

  app.get(
    '/api/v1/entities/:entity/documents/:id/content',
    {
      schema: {
        tags: ['documents'],
        summary: "Download a document's content (verified against its SHA-256)",
        params: IdParams,
      },
    },
    async (req, reply) => {
      const doc = await inEntity(deps, req, p(req).entity, (tx, ctx) =>
        readDocument(tx, ctx, p(req).id, 'download'),
      );
      const stream = deps.blobs.openVerified(doc.sha256);
      reply
        .header('content-type', doc.mime_type)
        .header('content-length', String(doc.size_bytes))
        .header('content-disposition', contentDisposition(doc.file_name))
        .header('cache-control', 'private, no-store')
        .header('x-content-sha256', doc.sha256);
      return reply.send(stream);
    },
  );

  // An incorporated document is never changed or deleted through any route (LPACAP art. 26, NTI).
  for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
    app.route({
      method,
      url: '/api/v1/entities/:entity/documents/:id',
      schema: {
        tags: ['documents'],
        summary: 'Refused: incorporated documents are immutable (409 DOCUMENT_IMMUTABLE)',
        params: IdParams,
      },
      handler: async (req) => {
        const doc = await inEntity(deps, req, p(req).entity, (tx, ctx) =>
          readDocument(tx, ctx, p(req).id, 'read'),
        );
        throw new AppError(
          'DOCUMENT_IMMUTABLE',
          `Document ${doc.eni_id} is incorporated into a case file and cannot be changed or deleted; upload a new version instead`,
        );
      },
    });
  }
}
