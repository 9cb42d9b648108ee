import { open } from 'node:fs/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { inEntity } from '../../http/scope.ts';
import type { StagedBlob } from '#platform/blobs/blob-store.ts';
import { AppError } from '#platform/errors.ts';
import {
  contentDisposition,
  type DocumentType,
  getDocumentRow,
  safeFileName,
} from '#modules/documents/documents.service.ts';
import { enqueueCopySeal, sealPaperCopy } from './copy-seal.service.ts';
import {
  assertScanDeclaredType,
  assertScanType,
  checkDigitisation,
  type DigitisationInput,
  digitisePaperOriginal,
  getPaperOriginal,
  listPaperOriginals,
  returnPaperOriginal,
  SCAN_TYPES,
} from './desk.service.ts';
import { canWorkAtDesk } from './desk.policy.ts';
import {
  findEntry,
  type LinkInput,
  linkEntryToExpedient,
  listEntryExpedients,
  listExpedientEntries,
} from './entry-expedients.service.ts';
import {
  listOfficials,
  type NewOfficial,
  type OfficialQuery,
  registerOfficial,
  revokeOfficial,
} from './officials.service.ts';

const strict = { additionalProperties: false } as const;
const Entity = Type.String({ minLength: 2, maxLength: 100 });
const Id = Type.String({ maxLength: 64 });
const EntityParams = Type.Object({ entity: Entity }, strict);
const IdParams = Type.Object({ entity: Entity, id: Id }, strict);
const PaperParams = Type.Object({ entity: Entity, id: Id, pid: Id }, strict);
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Uuid = Type.String({ format: 'uuid' });
const DateStr = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const Scope = Type.Union([Type.Literal('copies'), Type.Literal('assistance')]);
const ExpState = Type.Union([Type.Literal('E01'), Type.Literal('E02'), Type.Literal('E03')]);
const PartyRole = Type.Union([
  Type.Literal('applicant'),
  Type.Literal('representative'),
  Type.Literal('interested'),
]);

const LinkResult = Type.Object({
  entryId: Type.String(),
  entryNumber: Type.String(),
  createdExpedient: Type.Boolean(),
  expedient: Type.Object({
    id: Type.String(),
    number: Type.String(),
    eniId: Type.String(),
    title: Type.String(),
    state: ExpState,
  }),
  linkedAt: Type.String(),
  linkedBy: Type.String(),
  incorporated: Type.Array(
    Type.Object({
      sourceDocumentId: Type.String(),
      documentId: Type.String(),
      order: Type.Integer(),
      eniId: Type.String(),
      title: Type.String(),
      sha256: Type.String(),
    }),
  ),
});
/** For the entry's view (registry.routes.ts EntryView: `expedients: Type.Array(EntryExpedientSchema)`). */
export const EntryExpedientSchema = Type.Object({
  expedientId: Type.String(),
  number: Nullable(Type.String()),
  title: Nullable(Type.String()),
  state: Type.Union([ExpState, Type.Null()]),
  createdFromEntry: Type.Boolean(),
  linkedAt: Type.String(),
  linkedBy: Type.String(),
});
const ExpedientEntry = Type.Object({
  entryId: Type.String(),
  number: Type.String(),
  direction: Type.Union([Type.Literal('E'), Type.Literal('S')]),
  heading: Type.String(),
  registeredAt: Type.String(),
  createdFromEntry: Type.Boolean(),
  linkedAt: Type.String(),
  linkedBy: Type.String(),
});
const Official = Type.Object({
  id: Type.String(),
  userId: Type.String(),
  username: Type.String(),
  name: Type.String(),
  position: Nullable(Type.String()),
  scopes: Type.Array(Scope),
  validFrom: Type.String(),
  validTo: Nullable(Type.String()),
  status: Type.Union([
    Type.Literal('in_force'),
    Type.Literal('not_yet'),
    Type.Literal('expired'),
    Type.Literal('revoked'),
  ]),
  createdBy: Type.String(),
  createdAt: Type.String(),
  revokedAt: Nullable(Type.String()),
  revokedBy: Nullable(Type.String()),
  revokedReason: Nullable(Type.String()),
});
/** A paper original with its copy (also for the entry's view). */
export const PaperOriginalSchema = Type.Object({
  id: Type.String(),
  entryId: Type.String(),
  description: Type.String(),
  copy: Type.Object({
    documentId: Type.String(),
    eniId: Type.String(),
    title: Type.String(),
    fileName: Type.String(),
    mimeType: Type.String(),
    size: Type.Integer(),
    sha256: Type.String(),
    documentType: Type.String(),
    elaborationState: Type.String(),
    origin: Type.String(),
  }),
  officialId: Type.String(),
  digitisedBy: Type.String(),
  digitisedAt: Type.String(),
  sealStatus: Type.Union([Type.Literal('pending'), Type.Literal('sealed'), Type.Literal('not_applicable')]),
  sealedDocumentId: Nullable(Type.String()),
  sealedCsv: Nullable(Type.String()),
  returnedTo: Nullable(Type.String()),
  returnedBy: Nullable(Type.String()),
  returnedAt: Nullable(Type.String()),
});

/** Why the copy could not be sealed (the copy stays pending; scan the paper again). */
const SealProblem = Type.Object({ code: Type.Literal('SCAN_NOT_SEALABLE'), detail: Type.String() });
const DigitisationResult = Type.Object({
  ...PaperOriginalSchema.properties,
  sealProblem: Type.Union([SealProblem, Type.Null()]),
});

const DIGITISATION_FIELDS = ['description', 'title', 'documentType'] as const;
type DigitisationField = (typeof DIGITISATION_FIELDS)[number];

function toDigitisation(f: Partial<Record<DigitisationField, string>>): DigitisationInput {
  return {
    description: f.description ?? '',
    title: f.title ?? null,
    documentType: (f.documentType || null) as DocumentType | null,
  };
}

async function head(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The registry desk: entries into case files, the register of authorised officials, digitisation. */
export function registerDeskRoutes(app: FastifyInstance, deps: AppDeps): void {
  const p = (req: FastifyRequest) => req.params as { entity: string; id: string; pid: string };

  app.post(
    '/api/v1/entities/:entity/registry/:id/expedient',
    {
      schema: {
        tags: ['registry'],
        summary: 'Bring a registry entry into a case file: an existing open one, or a new one opened from it',
        description:
          'Body: `{ "expedientId": uuid }` or `{ "new": { title, classification?, unitId?, accessLevel?, partyRole? } }` (the entry’s party becomes the new case file’s party, as `partyRole`, by default applicant for E entries and interested for S). The entry’s attachments, then its desk copies, join the case file’s index with their SHA-256. 409 ENTRY_ALREADY_LINKED for the same case file twice; 409 EXPEDIENT_CLOSED for a closed one.',
        params: IdParams,
        body: Type.Object(
          {
            expedientId: Type.Optional(Uuid),
            new: Type.Optional(
              Type.Object(
                {
                  title: Type.String({ minLength: 1, maxLength: 500 }),
                  classification: Type.Optional(Type.String({ maxLength: 100 })),
                  unitId: Type.Optional(Uuid),
                  accessLevel: Type.Optional(
                    Type.Union([
                      Type.Literal('public'),
                      Type.Literal('internal'),
                      Type.Literal('restricted'),
                    ]),
                  ),
                  partyRole: Type.Optional(PartyRole),
                },
                strict,
              ),
            ),
          },
          strict,
        ),
        response: { 201: LinkResult },
      },
    },
    async (req, reply) => {
      const body = req.body as LinkInput;
      const r = await inEntity(deps, req, p(req).entity, (tx, ctx) =>
        linkEntryToExpedient(tx, ctx, p(req).id, body),
      );
      return reply.status(201).send(r);
    },
  );

  app.get(
    '/api/v1/entities/:entity/registry/:id/expedients',
    {
      schema: {
        tags: ['registry'],
        summary: 'The case files a registry entry was brought into',
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(EntryExpedientSchema) }) },
      },
    },
    async (req) =>
      inEntity(deps, req, p(req).entity, async (tx, ctx) => {
        const { id } = p(req);
        // The entry must exist for the caller (404 otherwise), as for the entry's own view.
        await findEntry(tx, ctx, id);
        return { items: await listEntryExpedients(tx, ctx, id) };
      }),
  );

  app.get(
    '/api/v1/entities/:entity/expedients/:id/registry-entries',
    {
      schema: {
        tags: ['expedients'],
        summary: 'The registry entries brought into a case file',
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(ExpedientEntry) }) },
      },
    },
    async (req) =>
      inEntity(deps, req, p(req).entity, async (tx, ctx) => ({
        items: await listExpedientEntries(tx, ctx, p(req).id),
      })),
  );

  app.get(
    '/api/v1/entities/:entity/authorised-officials',
    {
      schema: {
        tags: ['registry'],
        summary: 'The register of authorised officials (LPACAP art. 12.3, 27.1)',
        description:
          '`inForce=true` lists the records in force today (Europe/Madrid); `on=YYYY-MM-DD` those in force on that day; `scope` filters by copies or assistance.',
        params: EntityParams,
        querystring: Type.Object(
          {
            inForce: Type.Optional(Type.Boolean()),
            on: Type.Optional(DateStr),
            scope: Type.Optional(Scope),
            userId: Type.Optional(Uuid),
          },
          strict,
        ),
        response: { 200: Type.Object({ items: Type.Array(Official) }) },
      },
    },
    async (req) => {
      const q = req.query as OfficialQuery;
      return inEntity(deps, req, p(req).entity, async (tx, ctx) => ({
        items: await listOfficials(tx, ctx, q),
      }));
    },
  );

  app.post(
    '/api/v1/entities/:entity/authorised-officials',
    {
      schema: {
        tags: ['registry'],
        summary: 'Register an authorised official (admin)',
        description:
          'Body: `userId` (a member of the entity), `scopes` (copies, assistance), `validFrom`, `validTo?` (dates, both included; none = until revoked), `name?` (published; default the user’s name), `position?`. 409 OFFICIAL_ALREADY_REGISTERED if the user has a record for an overlapping period and scope.',
        params: EntityParams,
        body: Type.Object(
          {
            userId: Uuid,
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
            position: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
            scopes: Type.Array(Scope, { minItems: 1, maxItems: 2, uniqueItems: true }),
            validFrom: DateStr,
            validTo: Type.Optional(Type.Union([DateStr, Type.Null()])),
          },
          strict,
        ),
        response: { 201: Official },
      },
    },
    async (req, reply) => {
      const body = req.body as NewOfficial;
      const o = await inEntity(deps, req, p(req).entity, (tx, ctx) => registerOfficial(tx, ctx, body));
      return reply.status(201).send(o);
    },
  );

  app.post(
    '/api/v1/entities/:entity/authorised-officials/:id/revoke',
    {
      schema: {
        tags: ['registry'],
        summary: 'Revoke an authorised official’s record, with immediate effect (admin; once)',
        params: IdParams,
        body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 2000 }) }, strict),
        response: { 200: Official },
      },
    },
    async (req) =>
      inEntity(deps, req, p(req).entity, (tx, ctx) =>
        revokeOfficial(tx, ctx, p(req).id, req.body as { reason: string }),
      ),
  );

  app.post(
    '/api/v1/entities/:entity/registry/:id/digitisations',
    {
      schema: {
        tags: ['registry'],
        summary: 'Digitise a paper original at the desk into an authentic copy (EE03) of the entry',
        description: `multipart/form-data: text fields first — \`description\` (the paper original), \`title?\`, \`documentType?\` (default TD99) — then one \`file\` part: the scan, ${Object.keys(SCAN_TYPES).join(', ')} (checked by its first bytes too), at most LLIGALL_MAX_UPLOAD_MB. The caller must be an authorised official in force for copies (403 OFFICIAL_NOT_AUTHORISED). A PDF, JPEG or PNG copy is sealed right after it is recorded (LPACAP art. 27): a new PDF document that supersedes the copy, with a stamp on every page (CSV, verification address, entity, official, date) and the entity’s PAdES seal; \`sealStatus\` is then sealed with \`sealedDocumentId\` and \`sealedCsv\`. If sealing has not finished, the copy is pending and a job seals it within seconds. A scan that cannot be sealed (encrypted or broken PDF, broken image) stays pending with \`sealProblem.code\` SCAN_NOT_SEALABLE. TIFF copies are not_applicable.`,
        params: IdParams,
        consumes: ['multipart/form-data'],
        response: { 201: DigitisationResult },
      },
    },
    async (req, reply) => {
      if (!req.isMultipart())
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send multipart/form-data (fields, then a `file` part)');
      const { entity, id } = p(req);
      const fields: Partial<Record<DigitisationField, string>> = {};
      let staged: StagedBlob | undefined;
      let fileName = '';
      let mimeType = '';
      try {
        const parts = req.parts({
          limits: {
            fileSize: deps.config.maxUploadBytes,
            files: 2,
            fields: DIGITISATION_FIELDS.length,
            fieldSize: 16 * 1024,
            parts: DIGITISATION_FIELDS.length + 2,
          },
        });
        for await (const part of parts) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file' || staged) {
              part.file.resume();
              throw new AppError('VALIDATION_FAILED', 'Send one file part, named "file"');
            }
            try {
              // Refuse before reading a byte of the scan: bad fields, no desk role, no entry, not an official.
              const pre = toDigitisation(fields);
              await inEntity(deps, req, entity, (tx, ctx) => checkDigitisation(tx, ctx, id, pre));
              assertScanDeclaredType(part.mimetype);
            } catch (e) {
              part.file.resume();
              throw e;
            }
            staged = await deps.blobs.stage(part.file, { maxBytes: deps.config.maxUploadBytes });
            fileName = safeFileName(part.filename);
            mimeType = part.mimetype;
          } else {
            if (!(DIGITISATION_FIELDS as readonly string[]).includes(part.fieldname))
              throw new AppError('VALIDATION_FAILED', `Unknown field "${part.fieldname}"`);
            if (staged) throw new AppError('VALIDATION_FAILED', 'Send the text fields before the file');
            if (fields[part.fieldname as DigitisationField] !== undefined)
              throw new AppError('VALIDATION_FAILED', `Field "${part.fieldname}" given twice`);
            fields[part.fieldname as DigitisationField] = String(part.value);
          }
        }
        if (!staged) throw new AppError('VALIDATION_FAILED', 'The `file` part (the scan) is missing');
        if (staged.size === 0) throw new AppError('VALIDATION_FAILED', 'The scan is empty');
        assertScanType(mimeType, await head(staged.tmpPath, 8));
        const final = toDigitisation(fields);
        await inEntity(deps, req, entity, (tx, ctx) => checkDigitisation(tx, ctx, id, final));
      } catch (e) {
        if (staged) await deps.blobs.discard(staged);
        throw e;
      }
      // The scan is in the store before any row points to it.
      await deps.blobs.commit(staged);
      const scan = { fileName, mimeType, sha256: staged.sha256, size: staged.size };
      const { made, tenantId } = await inEntity(deps, req, entity, async (tx, ctx) => {
        const po = await digitisePaperOriginal(tx, ctx, id, toDigitisation(fields), scan);
        // The seal's safety net commits with the copy (it exists only if the copy does).
        if (po.sealStatus === 'pending')
          await enqueueCopySeal(deps.jobs, tx, { tenantId: ctx.tenant.id, paperOriginalId: po.id });
        return { made: po, tenantId: ctx.tenant.id };
      });
      // The copy is recorded: from here on the answer is 201 whatever happens to the seal, which
      // the job enqueued with the copy completes if this attempt fails.
      let view = made;
      let sealProblem: { code: 'SCAN_NOT_SEALABLE'; detail: string } | null = null;
      if (made.sealStatus === 'pending') {
        try {
          const out = await sealPaperCopy(deps, tenantId, made.id);
          if (out.status === 'failed') sealProblem = out.problem;
          else view = await inEntity(deps, req, entity, (tx, ctx) => getPaperOriginal(tx, ctx, id, made.id));
        } catch (e) {
          req.log.error(
            { err: e, paperOriginalId: made.id },
            'copy not sealed at once; the job will seal it',
          );
        }
      }
      return reply.status(201).send({ ...view, sealProblem });
    },
  );

  app.get(
    '/api/v1/entities/:entity/registry/:id/paper-originals',
    {
      schema: {
        tags: ['registry'],
        summary: 'The paper originals digitised for an entry, with their copies and return',
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(PaperOriginalSchema) }) },
      },
    },
    async (req) =>
      inEntity(deps, req, p(req).entity, async (tx, ctx) => ({
        items: await listPaperOriginals(tx, ctx, p(req).id),
      })),
  );

  app.get(
    '/api/v1/entities/:entity/registry/:id/paper-originals/:pid/content',
    {
      schema: {
        tags: ['registry'],
        summary: 'Download the authentic copy of a paper original (verified against its SHA-256)',
        params: PaperParams,
      },
    },
    async (req, reply) => {
      const po = await inEntity(deps, req, p(req).entity, (tx, ctx) =>
        getPaperOriginal(tx, ctx, p(req).id, p(req).pid),
      );
      reply
        .header('content-type', po.copy.mimeType)
        .header('content-length', String(po.copy.size))
        .header('content-disposition', contentDisposition(po.copy.fileName))
        .header('cache-control', 'private, no-store')
        .header('x-content-sha256', po.copy.sha256);
      return reply.send(deps.blobs.openVerified(po.copy.sha256));
    },
  );

  app.post(
    '/api/v1/entities/:entity/registry/:id/paper-originals/:pid/seal',
    {
      schema: {
        tags: ['registry'],
        summary: 'Seal the authentic copy of a paper original now (idempotent)',
        description:
          'Normally not needed: the copy is sealed right after the digitisation, or by its job. Returns the paper original (sealStatus sealed, or not_applicable for TIFF). 422 SCAN_NOT_SEALABLE when the scan cannot become a sealed PDF (encrypted or broken PDF, broken image): the copy stays pending; digitise the paper again.',
        params: PaperParams,
        response: { 200: PaperOriginalSchema },
      },
    },
    async (req) => {
      const { entity, id, pid } = p(req);
      const { po, tenantId } = await inEntity(deps, req, entity, async (tx, ctx) => {
        if (!canWorkAtDesk(ctx)) throw new AppError('FORBIDDEN', 'You may not work at this registry’s desk');
        return { po: await getPaperOriginal(tx, ctx, id, pid), tenantId: ctx.tenant.id };
      });
      const out = await sealPaperCopy(deps, tenantId, po.id);
      if (out.status === 'failed')
        throw new AppError('SCAN_NOT_SEALABLE', out.problem.detail, { paperOriginalId: po.id });
      return inEntity(deps, req, entity, (tx, ctx) => getPaperOriginal(tx, ctx, id, po.id));
    },
  );

  app.get(
    '/api/v1/entities/:entity/registry/:id/paper-originals/:pid/sealed-content',
    {
      schema: {
        tags: ['registry'],
        summary:
          'Download the sealed authentic copy (PDF with stamp, CSV and PAdES seal) of a paper original',
        description: '409 COPY_NOT_SEALED while the copy is pending, or when it is never sealed (TIFF).',
        params: PaperParams,
      },
    },
    async (req, reply) => {
      const doc = await inEntity(deps, req, p(req).entity, async (tx, ctx) => {
        const po = await getPaperOriginal(tx, ctx, p(req).id, p(req).pid);
        if (!po.sealedDocumentId)
          throw new AppError(
            'COPY_NOT_SEALED',
            po.sealStatus === 'pending'
              ? 'The copy is being sealed; retry in a moment'
              : 'This copy is not sealed (a TIFF scan is kept as scanned)',
          );
        return (await getDocumentRow(tx, ctx, po.sealedDocumentId))!;
      });
      reply
        .header('content-type', doc.mime_type)
        .header('content-length', String(doc.size_bytes))
        .header('content-disposition', contentDisposition(doc.file_name))
        .header('cache-control', 'private, no-store')
        .header('x-content-sha256', doc.sha256);
      return reply.send(deps.blobs.openVerified(doc.sha256));
    },
  );

  app.post(
    '/api/v1/entities/:entity/registry/:id/paper-originals/:pid/return',
    {
      schema: {
        tags: ['registry'],
        summary: 'Mark a paper original returned to the filer (once; 409 PAPER_ORIGINAL_ALREADY_RETURNED)',
        params: PaperParams,
        body: Type.Object({ returnedTo: Type.String({ minLength: 1, maxLength: 300 }) }, strict),
        response: { 200: PaperOriginalSchema },
      },
    },
    async (req) =>
      inEntity(deps, req, p(req).entity, (tx, ctx) =>
        returnPaperOriginal(tx, ctx, p(req).id, p(req).pid, req.body as { returnedTo: string }),
      ),
  );
}
