import fs from 'node:fs/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type TSchema, Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import type { StagedBlob } from '#platform/blobs/blob-store.ts';
import type { EnrolmentFile, SignatureCheck } from '#platform/db/schema/rollout.ts';
import { AppError } from '#platform/errors.ts';
import { type SignatureReport, SignatureFormatError } from '#platform/signatures/verify-cms.ts';
import { verifyPdf } from '#platform/signatures/verify-pdf.ts';
import { ensureCalendarSeededOnce } from '#modules/calendar/calendar.service.ts';
import { madridDateOf } from '#modules/calendar/civil-date.ts';
import { inSeu } from '#modules/citizens/seu-scope.ts';
import { contentDisposition, safeFileName } from '#modules/documents/documents.service.ts';
import { issueReceipt, loadReceiptContext } from '#modules/registry/receipt.service.ts';
import { loadTrustAnchors } from '#modules/signatures/trusted-cas.service.ts';
import { MAX_ATTACHMENT_BYTES } from '#modules/filings/filing-files.ts';
import { inConsole } from './console-scope.ts';
import {
  checkEnrolmentFields,
  decideEnrolment,
  ENROLMENT_FIELDS,
  type EnrolmentDecision,
  type EnrolmentField,
  type EnrolmentFileRole,
  type EnrolmentInput,
  fileEnrolment,
  findDiputacioSeu,
  getEnrolmentRequest,
  listEnrolmentRequests,
  listProvinceMunicipalities,
  readEnrolmentFile,
  resolveEnrolmentTarget,
  signatureCheckOf,
} from './enrolment.service.ts';

/**
 * Enrolment requests (issue 6 item 1): the Diputació's seu form (public list of the province's
 * municipalities; filing by a logged-in citizen) and the console's inbox (operators only).
 */

const strict = { additionalProperties: false } as const;
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Slug = Type.String({ minLength: 2, maxLength: 100, description: 'The Diputació’s seu slug' });
const SlugParams = Type.Object({ slug: Slug }, strict);
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) }, strict);
const FileRole = Type.Union([
  Type.Literal('adhesion_act'),
  Type.Literal('signed_request'),
  Type.Literal('dpa'),
]);
const FileParams = Type.Object({ id: Type.String({ maxLength: 64 }), role: FileRole }, strict);
const Status = Type.Union([
  Type.Literal('submitted'),
  Type.Literal('corrections_requested'),
  Type.Literal('accepted'),
  Type.Literal('rejected'),
]);
const ListQuery = Type.Object({ status: Type.Optional(Status) }, strict);
const Reason = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 2000 }) }, strict);

const Municipality = Type.Object({
  ine: Type.String(),
  dir3: Type.String(),
  name: Type.String(),
  comarca: Nullable(Type.String()),
  population: Nullable(Type.Integer()),
  status: Type.String(),
});
const Filed = Type.Object({
  id: Type.String(),
  status: Type.Literal('submitted'),
  registryNumber: Type.String(),
  receiptCsv: Nullable(Type.String()),
  receiptUrl: Type.String(),
});
const Summary = Type.Object({
  id: Type.String(),
  status: Status,
  entityName: Type.String(),
  entityKind: Type.Union([Type.Literal('ajuntament'), Type.Literal('emd')]),
  ine: Nullable(Type.String()),
  dir3: Nullable(Type.String()),
  entityId: Nullable(Type.String()),
  population: Type.Integer(),
  currentProvider: Nullable(Type.String()),
  submittedAt: Type.String(),
  registryNumber: Type.String(),
  callId: Nullable(Type.String()),
  callName: Nullable(Type.String()),
});
const Person = Type.Object({ name: Type.String(), email: Type.String(), phone: Nullable(Type.String()) });
const Check = Type.Object({
  signed: Type.Boolean(),
  integrity: Type.Union([Type.Literal('valid'), Type.Literal('invalid'), Type.Literal('none')]),
  trust: Nullable(Type.String()),
  signerName: Nullable(Type.String()),
  signerId: Nullable(Type.String()),
  signedAt: Nullable(Type.String()),
});
const Detail = Type.Intersect([
  Summary,
  Type.Object({
    mayor: Person,
    secretary: Person,
    adhesionAct: Type.Object({
      kind: Type.Union([Type.Literal('ple_resolution'), Type.Literal('mayor_decree')]),
      date: Type.String(),
    }),
    files: Type.Array(
      Type.Object({ role: FileRole, fileName: Type.String(), size: Type.Integer(), sha256: Type.String() }),
    ),
    signatures: Type.Object({ request: Check, dpa: Check }),
    statusReason: Nullable(Type.String()),
    decidedAt: Nullable(Type.String()),
    decidedBy: Nullable(Type.String()),
  }),
]);

/** Filing makes permanent registry entries: a few a minute per client is plenty. */
const FILING_LIMIT = { max: 20, timeWindow: '1 minute' } as const;
const PUBLIC_LIMIT = { max: 120, timeWindow: '1 minute' } as const;

/** The multipart file parts and the role each file has. */
const FILE_PARTS: Record<string, EnrolmentFileRole> = {
  adhesionAct: 'adhesion_act',
  signedRequest: 'signed_request',
  dpa: 'dpa',
};
const PDF_MAGIC = Buffer.from('%PDF-');

type Staged = { role: EnrolmentFileRole; blob: StagedBlob; fileName: string };

const mib = (n: number) => `${Math.floor(n / 1048576)} MiB`;

function origin(config: AppDeps['config']): string {
  return config.publicUrl?.replace(/\/+$/, '') ?? `http://localhost:${config.port}`;
}

export function registerEnrolmentRoutes(app: FastifyInstance, deps: AppDeps): void {
  const perFileLimit = Math.min(MAX_ATTACHMENT_BYTES, deps.config.maxUploadBytes);

  app.get(
    '/api/v1/seu/:slug/enrolment/entities',
    {
      schema: {
        tags: ['seu'],
        summary: 'The province’s municipalities, for the enrolment form’s picker (the Diputació’s seu only)',
        description:
          'Public. By name (Catalan collation), with their roll-out state. 404 ENTITY_NOT_FOUND on any seu but the Diputació’s (kind diputacio).',
        params: SlugParams,
        response: { 200: Type.Array(Municipality) },
      },
      config: { rateLimit: PUBLIC_LIMIT },
    },
    async (req) => {
      const { slug } = req.params as { slug: string };
      return deps.db.platformRead(async (q) => {
        await findDiputacioSeu(q, slug);
        return listProvinceMunicipalities(q);
      });
    },
  );

  /**
   * Reads the form: text fields first (checked, with the login and the seu, before a byte of the
   * files is read), then the three PDF files, each streamed to a temporary file (at most 10 MiB,
   * `%PDF-` first). On any refusal every temporary file is removed; nothing else was written.
   */
  async function readForm(
    req: FastifyRequest,
    slug: string,
  ): Promise<{ input: EnrolmentInput; staged: Staged[] }> {
    if (!req.isMultipart())
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send multipart/form-data (text fields, then the files)');
    const fields: Partial<Record<EnrolmentField, string>> = {};
    const staged: Staged[] = [];
    let input: EnrolmentInput | null = null;
    const check = async (): Promise<EnrolmentInput> => {
      if (!req.citizen) throw new AppError('CITIZEN_LOGIN_REQUIRED', 'Log in to the seu first');
      await deps.db.platformRead((q) => findDiputacioSeu(q, slug));
      const parsed = checkEnrolmentFields(fields, madridDateOf(deps.clock.now()));
      // The entity and a duplicate, before any file is read (checked again, locked, when filing).
      await deps.db.platform((tx) => resolveEnrolmentTarget(tx, parsed, { lock: false }));
      return parsed;
    };
    try {
      const parts = req.parts({
        limits: {
          fileSize: perFileLimit + 1024,
          files: 3,
          fields: ENROLMENT_FIELDS.length,
          fieldSize: 4 * 1024,
          parts: ENROLMENT_FIELDS.length + 3,
        },
      });
      for await (const part of parts) {
        if (part.type === 'file') {
          const role = Object.hasOwn(FILE_PARTS, part.fieldname) ? FILE_PARTS[part.fieldname] : undefined;
          const fileName = safeFileName(part.filename);
          try {
            if (!role)
              throw new AppError('VALIDATION_FAILED', `Unexpected file part "${part.fieldname}"`, {
                fields: [part.fieldname],
              });
            if (staged.some((s) => s.role === role))
              throw new AppError('VALIDATION_FAILED', `File "${part.fieldname}" given twice`, {
                fields: [part.fieldname],
              });
            input ??= await check();
          } catch (e) {
            part.file.resume();
            throw e;
          }
          let blob: StagedBlob;
          try {
            blob = await deps.blobs.stage(part.file, { maxBytes: perFileLimit });
          } catch (e) {
            if (e instanceof AppError && e.code === 'PAYLOAD_TOO_LARGE')
              throw new AppError(
                'ENROLMENT_FILE_INVALID',
                `${fileName} is larger than ${mib(perFileLimit)}`,
                {
                  fields: [part.fieldname],
                  fileName,
                  maxBytes: perFileLimit,
                },
              );
            throw e;
          }
          staged.push({ role, blob, fileName });
          const head = Buffer.alloc(PDF_MAGIC.length);
          const fh = await fs.open(blob.tmpPath, 'r');
          try {
            await fh.read(head, 0, head.length, 0);
          } finally {
            await fh.close();
          }
          if (!head.equals(PDF_MAGIC))
            throw new AppError('ENROLMENT_FILE_INVALID', `${fileName} is not a PDF`, {
              fields: [part.fieldname],
              fileName,
            });
        } else {
          if (input)
            throw new AppError(
              'VALIDATION_FAILED',
              `Field "${part.fieldname}" after a file: send text fields first`,
            );
          if (!(ENROLMENT_FIELDS as readonly string[]).includes(part.fieldname))
            throw new AppError('VALIDATION_FAILED', `Unknown field "${part.fieldname}"`, {
              fields: [part.fieldname],
            });
          if (fields[part.fieldname as EnrolmentField] !== undefined)
            throw new AppError('VALIDATION_FAILED', `Field "${part.fieldname}" given twice`, {
              fields: [part.fieldname],
            });
          if (part.valueTruncated)
            throw new AppError('VALIDATION_FAILED', `${part.fieldname} is too long`, {
              fields: [part.fieldname],
            });
          fields[part.fieldname as EnrolmentField] = String(part.value);
        }
      }
      input ??= await check();
      const missing = Object.entries(FILE_PARTS)
        .filter(([, role]) => !staged.some((s) => s.role === role))
        .map(([name]) => name);
      if (missing.length)
        throw new AppError('ENROLMENT_FILE_INVALID', `Missing file(s): ${missing.join(', ')}`, {
          fields: missing,
        });
      return { input, staged };
    } catch (e) {
      for (const s of staged) await deps.blobs.discard(s.blob);
      throw e;
    }
  }

  /** The signed request and the signed agreement must each carry a signature whose integrity is valid. */
  async function checkSignatures(
    staged: Staged[],
  ): Promise<{ request: SignatureCheck; dpa: SignatureCheck }> {
    const now = deps.clock.now();
    const anchors = await loadTrustAnchors(deps.db);
    const one = async (role: EnrolmentFileRole): Promise<SignatureCheck> => {
      const s = staged.find((x) => x.role === role)!;
      let reports: SignatureReport[] = [];
      try {
        reports = await verifyPdf(await fs.readFile(s.blob.tmpPath), { anchors, existedAt: now, now });
      } catch (e) {
        if (!(e instanceof SignatureFormatError)) throw e;
      }
      const c = signatureCheckOf(reports);
      if (c.integrity !== 'valid')
        throw new AppError(
          'ENROLMENT_SIGNATURE_INVALID',
          c.integrity === 'none'
            ? `${s.fileName} carries no PDF signature`
            : `${s.fileName}: no signature of it is intact`,
          { role, fileName: s.fileName, check: c },
        );
      return c;
    };
    return { request: await one('signed_request'), dpa: await one('dpa') };
  }

  app.post(
    '/api/v1/seu/:slug/enrolment-requests',
    {
      schema: {
        tags: ['seu'],
        summary: 'File an entity’s request to join Lligall (the Diputació’s seu; a logged-in citizen)',
        description: `multipart/form-data: text fields first — entityKind ('ajuntament'|'emd'), ine (ajuntament) or emdName, emdDir3, parentIne (emd), mayorName, mayorEmail, mayorPhone?, secretaryName, secretaryEmail, secretaryPhone?, population, currentProvider? (empty: none), adhesionActKind ('ple_resolution'|'mayor_decree'), adhesionActDate (YYYY-MM-DD), language ('ca'|'es'|'oc-aranes') — then three PDF files: adhesionAct, signedRequest (signed), dpa (signed), each at most ${mib(MAX_ATTACHMENT_BYTES)}. The request becomes an input entry of the Diputació's registry with the three files and its sealed receipt; the entity moves from listed to requested. Refusals: 400 VALIDATION_FAILED (details.fields), 422 ENROLMENT_FILE_INVALID (missing, not a PDF, too large), 422 ENROLMENT_SIGNATURE_INVALID (the signed request or the agreement has no intact signature), 422 ENROLMENT_ENTITY_UNKNOWN, 409 ENROLMENT_DUPLICATE (a request submitted or accepted exists; one waiting for corrections is superseded), 401 CITIZEN_LOGIN_REQUIRED, 404 ENTITY_NOT_FOUND (not the Diputació's seu).`,
        params: SlugParams,
        consumes: ['multipart/form-data'],
        response: { 201: Filed },
      },
      config: { rateLimit: FILING_LIMIT },
    },
    async (req, reply) => {
      const { slug } = req.params as { slug: string };
      await ensureCalendarSeededOnce(deps.db, deps.clock.now());
      const { input, staged } = await readForm(req, slug);
      let signatures: { request: SignatureCheck; dpa: SignatureCheck };
      try {
        signatures = await checkSignatures(staged);
        // The files are in the store before any row points to them.
        for (const s of staged) await deps.blobs.commit(s.blob);
      } catch (e) {
        for (const s of staged) await deps.blobs.discard(s.blob);
        throw e;
      }
      const files: EnrolmentFile[] = ['adhesion_act', 'signed_request', 'dpa'].map((role) => {
        const s = staged.find((x) => x.role === role)!;
        return {
          role: s.role,
          fileName: s.fileName,
          mimeType: 'application/pdf',
          sha256: s.blob.sha256,
          size: s.blob.size,
        };
      });
      const done = await inSeu(deps, req, slug, { requireCitizen: true }, async (tx, ctx, acting) => {
        const context = await loadReceiptContext(
          tx,
          ctx.tenant,
          deps,
          { officeId: null, recipientUnitId: null },
          { forEntry: true },
        );
        const filed = await fileEnrolment(tx, ctx, acting!, input, files, signatures);
        return { filed, tenant: ctx.tenant, known: context ? { entry: filed.view, context } : undefined };
      });
      let receiptCsv: string | null = null;
      try {
        receiptCsv = (await issueReceipt(deps, done.tenant.id, done.filed.created.id, done.known)).csv;
      } catch (e) {
        req.log.error(
          { err: e, entryId: done.filed.created.id },
          'receipt not issued at once; the receipts sweeper will issue it',
        );
      }
      return reply.status(201).send({
        id: done.filed.id,
        status: 'submitted',
        registryNumber: done.filed.created.number,
        receiptCsv,
        receiptUrl: `/api/v1/seu/${done.tenant.slug}/folder/filings/${done.filed.created.id}/receipt`,
      });
    },
  );

  // ---------------------------------------------------------------------------------------------
  // The console's inbox

  const formUrl = (slug: string) => `${origin(deps.config)}/seu/${slug}/alta`;

  app.get(
    '/api/v1/console/enrolment-requests',
    {
      schema: {
        tags: ['console'],
        summary: 'The enrolment requests (of one status, or all), oldest first',
        querystring: ListQuery,
        response: { 200: Type.Array(Summary) },
      },
    },
    async (req) => {
      const { status } = req.query as { status?: 'submitted' };
      return inConsole(deps, req, ['operator'], (tx, ctx) =>
        listEnrolmentRequests(tx, ctx, status ? { status } : {}),
      );
    },
  );

  app.get(
    '/api/v1/console/enrolment-requests/:id',
    {
      schema: {
        tags: ['console'],
        summary: 'One enrolment request with its people, files and signature checks',
        params: IdParams,
        response: { 200: Detail },
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      return inConsole(deps, req, ['operator'], (tx, ctx) => getEnrolmentRequest(tx, ctx, id));
    },
  );

  app.get(
    '/api/v1/console/enrolment-requests/:id/files/:role',
    {
      schema: {
        tags: ['console'],
        summary: 'A file of the request (the PDF as uploaded); audited',
        params: FileParams,
      },
    },
    async (req, reply) => {
      const { id, role } = req.params as { id: string; role: string };
      const f = await inConsole(deps, req, ['operator'], (tx, ctx) => readEnrolmentFile(tx, ctx, id, role));
      reply
        .header('content-type', f.mimeType)
        .header('content-length', String(f.size))
        .header('content-disposition', contentDisposition(f.fileName))
        .header('cache-control', 'private, no-store')
        .header('x-content-sha256', f.sha256);
      return reply.send(deps.blobs.openVerified(f.sha256));
    },
  );

  const decide = (
    path: string,
    summary: string,
    body: TSchema | null,
    toDecision: (b: { reason?: string }) => EnrolmentDecision,
  ) =>
    app.post(
      `/api/v1/console/enrolment-requests/:id/${path}`,
      {
        schema: {
          tags: ['console'],
          summary,
          description:
            'Audited; e-mailed to the mayor and the secretary in the request’s language. 409 ENROLMENT_ALREADY_DECIDED for a request already accepted or rejected.',
          params: IdParams,
          ...(body ? { body } : {}),
          response: { 200: Detail },
        },
      },
      async (req) => {
        const { id } = req.params as { id: string };
        // Accepting takes no body, or an empty object.
        if (
          !body &&
          req.body != null &&
          (typeof req.body !== 'object' || Array.isArray(req.body) || Object.keys(req.body).length > 0)
        )
          throw new AppError('VALIDATION_FAILED', 'Accepting takes no body (or {})');
        const decision = toDecision((req.body ?? {}) as { reason?: string });
        return inConsole(deps, req, ['operator'], (tx, ctx) =>
          decideEnrolment(tx, ctx, { jobs: deps.jobs, formUrl }, id, decision),
        );
      },
    );
  decide(
    'accept',
    'Accept the request (an EMD’s tenant is created; the entity is requested). No body, or {}.',
    null,
    () => ({
      kind: 'accept',
    }),
  );
  decide('request-corrections', 'Ask the entity to correct the request', Reason, (b) => ({
    kind: 'corrections',
    reason: b.reason ?? '',
  }));
  decide('reject', 'Reject the request (the entity goes back to listed)', Reason, (b) => ({
    kind: 'reject',
    reason: b.reason ?? '',
  }));
}
