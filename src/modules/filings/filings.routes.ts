import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type TSchema, Type } from 'typebox';
import type { AppDeps } from '#src/app.ts';
import type { StagedBlob } from '#platform/blobs/blob-store.ts';
import { AppError } from '#platform/errors.ts';
import { enqueueMail } from '#platform/mail/mail.service.ts';
import { ensureCalendarSeededOnce } from '#modules/calendar/calendar.service.ts';
import type { Acting } from '#modules/citizens/citizens.model.ts';
import { inSeu } from '#modules/citizens/seu-scope.ts';
import { contentDisposition, safeFileName } from '#modules/documents/documents.service.ts';
import { issueReceipt, loadReceiptContext, verificationUrl } from '#modules/registry/receipt.service.ts';
import type { AttachmentInput } from '#modules/registry/registry.service.ts';
import {
  assertFilingContent,
  assertFilingDeclaredType,
  FILING_TYPES,
  MAX_ATTACHMENT_BYTES,
  MAX_FILING_ATTACHMENTS,
  MAX_FILING_BYTES,
} from './filing-files.ts';
import {
  checkFiling,
  checkFilingText,
  defaultFilingLanguage,
  EXPOSO_MAX,
  type FilingText,
  filingEntryInput,
  getMyExpedient,
  getMyFilingReceipt,
  listMyExpedients,
  listMyFilings,
  readMyExpedientDocument,
  SOLICITO_MAX,
  submitFiling,
} from './filings.service.ts';

/**
 * The seu's generic request (instància genèrica) and "La meva carpeta" (issue 5 items 3 and 4),
 * for the citizen logged in to the seu, acting for themself or — with `onBehalfOf` — for a person
 * whose power of attorney they hold. Everything that is not the acting subject's is 404.
 */

const strict = { additionalProperties: false } as const;
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Slug = Type.String({ minLength: 2, maxLength: 100, description: 'The entity’s seu slug' });
const Id = Type.String({ maxLength: 64 });
const SlugParams = Type.Object({ slug: Slug }, strict);
const EntryParams = Type.Object({ slug: Slug, entryId: Id }, strict);
const ExpParams = Type.Object({ slug: Slug, id: Id }, strict);
const DocParams = Type.Object({ slug: Slug, id: Id, docId: Id }, strict);
const OnBehalfQuery = Type.Object(
  {
    onBehalfOf: Type.Optional(
      Type.String({
        maxLength: 20,
        description: 'NIF/NIE of the person the citizen acts for, under a general power in force',
      }),
    ),
  },
  strict,
);
const Language = Type.Union([Type.Literal('ca'), Type.Literal('es'), Type.Literal('oc-aranes')]);

const Attachment = Type.Object({
  position: Type.Integer(),
  fileName: Type.String(),
  mimeType: Type.String(),
  size: Type.Integer(),
  sha256: Type.String(),
});
const Preview = Type.Object({
  language: Language,
  heading: Type.String(),
  summary: Type.String(),
  exposo: Type.String(),
  solicito: Type.String(),
  text: Type.String({ description: 'The text as it will be registered and transcribed by the receipt' }),
  party: Type.Object({ identifier: Type.String(), name: Type.String() }),
  representation: Nullable(Type.Object({ id: Type.String(), representative: Type.String() })),
  attachments: Type.Array(Attachment),
  totalBytes: Type.Integer(),
});
const Filed = Type.Object({
  entryId: Type.String(),
  number: Type.String(),
  presentedAt: Type.String(),
  registeredAt: Type.String(),
  effectiveAt: Nullable(Type.String()),
  receipt: Nullable(Type.Object({ csv: Type.String(), issuedAt: Type.String() })),
  receiptUrl: Type.String(),
  attachments: Type.Array(Attachment),
});
const FolderFiling = Type.Object({
  entryId: Type.String(),
  number: Type.String(),
  heading: Type.String(),
  summary: Type.String(),
  channel: Type.String(),
  presentedAt: Type.String(),
  registeredAt: Type.String(),
  attachmentCount: Type.Integer(),
  receipt: Nullable(Type.Object({ csv: Type.String(), issuedAt: Type.String() })),
  receiptUrl: Type.String(),
});
const Role = Type.Union([
  Type.Literal('applicant'),
  Type.Literal('representative'),
  Type.Literal('interested'),
]);
const FolderExpedient = Type.Object({
  id: Type.String(),
  number: Type.String(),
  title: Type.String(),
  state: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
  openedAt: Type.String(),
  closedAt: Nullable(Type.String()),
  updatedAt: Type.String(),
  roles: Type.Array(Role),
});
const FolderDocument = Type.Object({
  id: Type.String(),
  order: Type.Integer(),
  eniId: Type.String(),
  title: Type.String(),
  fileName: Type.String(),
  mimeType: Type.String(),
  size: Type.Integer(),
  sha256: Type.String(),
  documentType: Type.String(),
  incorporatedAt: Type.String(),
  supersedesId: Nullable(Type.String()),
  url: Type.String(),
});

/**
 * Per client: filings make permanent registry entries, so fewer than the folder's reads. Enough
 * for a person (or an office filing for several people), too few to flood the registry book.
 */
const FILING_LIMIT = { max: 30, timeWindow: '1 minute' } as const;
const FOLDER_LIMIT = { max: 120, timeWindow: '1 minute' } as const;

/** Multipart text fields of a request; they come before the `file` parts. */
const FIELDS = ['exposo', 'solicito', 'language', 'onBehalfOf'] as const;
type Field = (typeof FIELDS)[number];
/** The generic request's procedure code (a procedure power must name it; a general power covers it). */
const PROCEDURE = 'generic_request';

type Staged = { blob: StagedBlob; fileName: string; mimeType: string };
type Form = { text: FilingText; acting: Acting; onBehalfOf: string | undefined; staged: Staged[] };

const mib = (n: number) => `${Math.floor(n / 1048576)} MiB`;

/** `?onBehalfOf=` for the links of a representative's folder. */
const behalfQuery = (acting: Acting) =>
  acting.representation ? `?onBehalfOf=${encodeURIComponent(acting.subject.identifier)}` : '';

function seuUrl(config: AppDeps['config'], slug: string): string {
  const origin = config.publicUrl?.replace(/\/+$/, '') ?? `http://localhost:${config.port}`;
  return `${origin}/seu/${slug}`;
}

function madridTime(t: string, language: string): string {
  return new Intl.DateTimeFormat(language === 'es' ? 'es-ES' : 'ca-ES', {
    timeZone: 'Europe/Madrid',
    dateStyle: 'short',
    timeStyle: 'medium',
  }).format(new Date(t));
}

export function registerFilingRoutes(app: FastifyInstance, deps: AppDeps): void {
  const seeded = () => ensureCalendarSeededOnce(deps.db, deps.clock.now());
  const perFileLimit = Math.min(MAX_ATTACHMENT_BYTES, deps.config.maxUploadBytes);

  /**
   * Reads the request's form: text fields, then up to 5 files, each streamed to a temporary file
   * with its size limit and checked by declared type and by content. The text and the acting
   * subject are checked before the first file is read. On any refusal every temporary file is
   * removed; nothing else was written.
   */
  async function readForm(req: FastifyRequest, slug: string): Promise<Form> {
    if (!req.isMultipart())
      throw new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        'Send multipart/form-data (text fields, then `file` parts)',
      );
    const fields: Partial<Record<Field, string>> = {};
    const staged: Staged[] = [];
    let checked: { text: FilingText; acting: Acting } | null = null;
    let total = 0;
    const check = async () => {
      const onBehalfOf = fields.onBehalfOf || undefined;
      return inSeu(
        deps,
        req,
        slug,
        { onBehalfOf, procedure: PROCEDURE, requireCitizen: true },
        async (_tx, _ctx, acting) => {
          const text = checkFilingText(fields, defaultFilingLanguage(acting!));
          checkFiling(acting!, text, []);
          return { text, acting: acting! };
        },
      );
    };
    try {
      const parts = req.parts({
        limits: {
          // One byte over our own limit is enough for the stream below to refuse with its code.
          fileSize: perFileLimit + 1024,
          files: MAX_FILING_ATTACHMENTS + 1,
          fields: FIELDS.length,
          fieldSize: 64 * 1024,
          parts: FIELDS.length + MAX_FILING_ATTACHMENTS + 1,
        },
      });
      for await (const part of parts) {
        if (part.type === 'file') {
          try {
            if (part.fieldname !== 'file')
              throw new AppError(
                'VALIDATION_FAILED',
                `Unexpected file part "${part.fieldname}": name them "file"`,
              );
            if (staged.length >= MAX_FILING_ATTACHMENTS)
              throw new AppError(
                'FILING_TOO_MANY_ATTACHMENTS',
                `At most ${MAX_FILING_ATTACHMENTS} attachments`,
              );
            // Refuse a bad request (text, login, power) before reading a byte of its files.
            checked ??= await check();
            assertFilingDeclaredType(part.mimetype, safeFileName(part.filename));
          } catch (e) {
            part.file.resume();
            throw e;
          }
          const fileName = safeFileName(part.filename);
          const room = MAX_FILING_BYTES - total;
          const maxBytes = Math.min(perFileLimit, room);
          let blob: StagedBlob;
          try {
            blob = await deps.blobs.stage(part.file, { maxBytes });
          } catch (e) {
            if (!(e instanceof AppError) || e.code !== 'PAYLOAD_TOO_LARGE') throw e;
            throw room < perFileLimit
              ? new AppError(
                  'FILING_ATTACHMENTS_TOO_LARGE',
                  `The attachments together must not exceed ${mib(MAX_FILING_BYTES)}`,
                  { fileName, maxBytes: MAX_FILING_BYTES },
                )
              : new AppError(
                  'FILING_ATTACHMENT_TOO_LARGE',
                  `${fileName} is larger than ${mib(perFileLimit)}`,
                  {
                    fileName,
                    maxBytes: perFileLimit,
                  },
                );
          }
          staged.push({ blob, fileName, mimeType: part.mimetype });
          total += blob.size;
          if (blob.size === 0)
            throw new AppError('FILING_ATTACHMENT_EMPTY', `${fileName} is empty`, { fileName });
          await assertFilingContent(part.mimetype, fileName, blob.tmpPath, blob.size);
        } else {
          if (checked)
            throw new AppError(
              'VALIDATION_FAILED',
              `Field "${part.fieldname}" after a file: send text fields first`,
            );
          if (!(FIELDS as readonly string[]).includes(part.fieldname))
            throw new AppError('VALIDATION_FAILED', `Unknown field "${part.fieldname}"`);
          if (fields[part.fieldname as Field] !== undefined)
            throw new AppError('VALIDATION_FAILED', `Field "${part.fieldname}" given twice`);
          if (part.valueTruncated)
            throw new AppError('VALIDATION_FAILED', `${part.fieldname} is too long`, {
              fields: [part.fieldname],
            });
          fields[part.fieldname as Field] = String(part.value);
        }
      }
      checked ??= await check();
      return { ...checked, onBehalfOf: fields.onBehalfOf || undefined, staged };
    } catch (e) {
      for (const s of staged) await deps.blobs.discard(s.blob);
      throw e;
    }
  }

  const attachmentsOf = (staged: Staged[]): AttachmentInput[] =>
    staged.map((s) => ({
      fileName: s.fileName,
      mimeType: s.mimeType,
      sha256: s.blob.sha256,
      size: s.blob.size,
    }));
  const attachmentViews = (a: AttachmentInput[]) => a.map((x, i) => ({ position: i + 1, ...x }));

  const formDescription = `multipart/form-data: text fields first — \`exposo\` (what I state, 1 to ${EXPOSO_MAX} characters), \`solicito\` (what I request, 1 to ${SOLICITO_MAX}), \`language?\` (ca|es|oc-aranes; default the login's, else ca), \`onBehalfOf?\` (NIF/NIE of the represented person, under a power in force covering the generic request) — then up to ${MAX_FILING_ATTACHMENTS} \`file\` parts: ${Object.keys(FILING_TYPES).join(', ')}, each at most ${mib(MAX_ATTACHMENT_BYTES)}, together at most ${mib(MAX_FILING_BYTES)}; the declared type and the content must agree (415 FILE_TYPE_NOT_ACCEPTED). Refusals: 400 VALIDATION_FAILED (details.fields), 422 FILING_TOO_MANY_ATTACHMENTS, 413 FILING_ATTACHMENT_TOO_LARGE, 413 FILING_ATTACHMENTS_TOO_LARGE, 422 FILING_ATTACHMENT_EMPTY, 422 INVALID_IDENTIFIER, 401 CITIZEN_LOGIN_REQUIRED, 404 NOT_FOUND (no power in force for onBehalfOf), 404 ENTITY_NOT_FOUND.`;

  app.get(
    '/api/v1/seu/:slug/filings/form',
    {
      schema: {
        tags: ['seu'],
        summary: 'What the generic request’s form accepts (limits and file types), for the seu’s form',
        description: 'Public: no login needed. 404 ENTITY_NOT_FOUND for an unknown entity.',
        params: SlugParams,
        response: {
          200: Type.Object({
            procedure: Type.Literal(PROCEDURE),
            exposoMaxLength: Type.Integer(),
            solicitoMaxLength: Type.Integer(),
            maxAttachments: Type.Integer(),
            maxAttachmentBytes: Type.Integer(),
            maxTotalBytes: Type.Integer(),
            types: Type.Array(
              Type.Object({ mimeType: Type.String(), extensions: Type.Array(Type.String()) }),
            ),
          }),
        },
      },
      config: { rateLimit: FOLDER_LIMIT },
    },
    async (req) => {
      const { slug } = req.params as { slug: string };
      await inSeu(deps, req, slug, { requireCitizen: false }, async () => undefined);
      return {
        procedure: PROCEDURE,
        exposoMaxLength: EXPOSO_MAX,
        solicitoMaxLength: SOLICITO_MAX,
        maxAttachments: MAX_FILING_ATTACHMENTS,
        maxAttachmentBytes: perFileLimit,
        maxTotalBytes: MAX_FILING_BYTES,
        types: Object.entries(FILING_TYPES).map(([mimeType, t]) => ({ mimeType, extensions: t.extensions })),
      };
    },
  );

  app.post(
    '/api/v1/seu/:slug/filings/preview',
    {
      schema: {
        tags: ['seu'],
        summary: 'Check a generic request before filing it (the form’s review step; nothing is kept)',
        description: `${formDescription} Answers what would be filed: the registered text, the party and each attachment with its size and SHA-256.`,
        params: SlugParams,
        consumes: ['multipart/form-data'],
        response: { 200: Preview },
      },
      config: { rateLimit: FILING_LIMIT },
    },
    async (req) => {
      const { slug } = req.params as { slug: string };
      const form = await readForm(req, slug);
      for (const s of form.staged) await deps.blobs.discard(s.blob);
      const attachments = attachmentsOf(form.staged);
      const input = filingEntryInput(form.acting, form.text, attachments);
      return {
        language: form.text.language,
        heading: input.heading,
        summary: input.summary,
        exposo: form.text.exposo,
        solicito: form.text.solicito,
        text: input.text ?? '',
        party: { identifier: form.acting.subject.identifier, name: form.acting.subject.name },
        representation: form.acting.representation
          ? { id: form.acting.representation.id, representative: form.acting.citizen.name }
          : null,
        attachments: attachmentViews(attachments),
        totalBytes: attachments.reduce((n, a) => n + a.size, 0),
      };
    },
  );

  app.post(
    '/api/v1/seu/:slug/filings',
    {
      schema: {
        tags: ['seu'],
        summary:
          'File a generic request (instància genèrica): an input registry entry with its sealed receipt',
        description: `${formDescription} Makes an input entry (E, electronic channel) in the entity's registry book with the acting subject as its party and the attachments as its documents, and issues its receipt at once: a PAdES-sealed PDF, an authenticated copy of the request (LPACAP art. 16.3), downloadable at \`receiptUrl\`. \`receipt\` is null in the rare case it could not be issued at once; the registry's receipts sweeper issues it within a minute. A confirmation e-mail goes to the citizen's e-mail when the login gave one.`,
        params: SlugParams,
        consumes: ['multipart/form-data'],
        response: { 201: Filed },
      },
      config: { rateLimit: FILING_LIMIT },
    },
    async (req, reply) => {
      const { slug } = req.params as { slug: string };
      await seeded();
      const form = await readForm(req, slug);
      const attachments = attachmentsOf(form.staged);
      // The files are in the store before any row points to them.
      try {
        for (const s of form.staged) await deps.blobs.commit(s.blob);
      } catch (e) {
        for (const s of form.staged) await deps.blobs.discard(s.blob);
        throw e;
      }
      const opts = { onBehalfOf: form.onBehalfOf, procedure: PROCEDURE, requireCitizen: true };
      const done = await inSeu(deps, req, slug, opts, async (tx, ctx, acting) => {
        // Read before the entry's counter is taken (reads only): what the receipt needs besides the entry.
        const context = await loadReceiptContext(
          tx,
          ctx.tenant,
          deps,
          { officeId: null, recipientUnitId: null },
          { forEntry: true },
        );
        const made = await submitFiling(tx, ctx, acting!, form.text, attachments);
        return {
          made,
          acting: acting!,
          tenant: ctx.tenant,
          known: context ? { entry: made.view, context } : undefined,
        };
      });
      const { created } = done.made;
      // The entry is recorded: from here on the answer is 201 whatever happens to the receipt,
      // which the receipts sweeper issues if this attempt fails.
      let receipt: { csv: string; issuedAt: string } | null = null;
      try {
        const r = await issueReceipt(deps, done.tenant.id, created.id, done.known);
        receipt = { csv: r.csv, issuedAt: r.issuedAt };
      } catch (e) {
        req.log.error(
          { err: e, entryId: created.id },
          'receipt not issued at once; the receipts sweeper will issue it',
        );
      }
      const email = done.acting.citizen.email;
      if (email && receipt) {
        // The confirmation names the receipt's CSV, so it follows the receipt (a courtesy, not
        // the notice of art. 21.4: its failure changes nothing of the filing).
        try {
          await deps.db.tenant(done.tenant.id, (tx) =>
            enqueueMail(deps.jobs, tx, {
              tenantId: done.tenant.id,
              to: email,
              language: form.text.language,
              template: 'filing_confirmation',
              params: {
                entityName: done.tenant.name,
                seuUrl: seuUrl(deps.config, done.tenant.slug),
                entryNumber: created.number,
                presentedAt: madridTime(created.presentedAt, form.text.language),
                receiptCsv: receipt!.csv,
                verifyUrl: verificationUrl(deps.config),
              },
            }),
          );
        } catch (e) {
          req.log.error({ err: e, entryId: created.id }, 'filing confirmation e-mail not queued');
        }
      }
      return reply.status(201).send({
        entryId: created.id,
        number: created.number,
        presentedAt: created.presentedAt,
        registeredAt: created.registeredAt,
        effectiveAt: created.effectiveAt,
        receipt,
        receiptUrl: `/api/v1/seu/${done.tenant.slug}/folder/filings/${created.id}/receipt${behalfQuery(done.acting)}`,
        attachments: attachmentViews(attachments),
      });
    },
  );

  const folder = <T>(req: FastifyRequest, fn: Parameters<typeof inSeu<T>>[4]): Promise<T> => {
    const { slug } = req.params as { slug: string };
    const { onBehalfOf } = req.query as { onBehalfOf?: string };
    return inSeu(deps, req, slug, { onBehalfOf, requireCitizen: true }, fn);
  };

  app.get(
    '/api/v1/seu/:slug/folder/filings',
    {
      schema: {
        tags: ['seu'],
        summary: 'La meva carpeta: my filings (input registry entries whose party I am), newest first',
        params: SlugParams,
        querystring: OnBehalfQuery,
        response: { 200: Type.Object({ items: Type.Array(FolderFiling) }) },
      },
      config: { rateLimit: FOLDER_LIMIT },
    },
    async (req) =>
      folder(req, async (tx, ctx, acting) => ({
        items: (await listMyFilings(tx, ctx, acting!)).map((f) => ({
          ...f,
          receiptUrl: `/api/v1/seu/${ctx.tenant.slug}/folder/filings/${f.entryId}/receipt${behalfQuery(acting!)}`,
        })),
      })),
  );

  app.get(
    '/api/v1/seu/:slug/folder/filings/:entryId/receipt',
    {
      schema: {
        tags: ['seu'],
        summary: 'La meva carpeta: the sealed receipt (justificant) of one of my filings, as a PDF',
        description:
          '404 NOT_FOUND for an entry that is not mine; 404 RECEIPT_NOT_READY while it is being issued.',
        params: EntryParams,
        querystring: OnBehalfQuery,
        produces: ['application/pdf'],
      },
      config: { rateLimit: FOLDER_LIMIT },
    },
    async (req, reply) => {
      const { entryId } = req.params as { entryId: string };
      const doc = await folder(req, (tx, ctx, acting) => getMyFilingReceipt(tx, ctx, acting!, entryId));
      reply
        .header('content-type', 'application/pdf')
        .header('content-length', String(doc.size))
        .header('content-disposition', contentDisposition(doc.fileName))
        .header('cache-control', 'private, no-store');
      return reply.send(deps.blobs.openVerified(doc.sha256));
    },
  );

  app.get(
    '/api/v1/seu/:slug/folder/expedients',
    {
      schema: {
        tags: ['seu'],
        summary: 'La meva carpeta: the case files I am a party of, newest first',
        params: SlugParams,
        querystring: OnBehalfQuery,
        response: { 200: Type.Object({ items: Type.Array(FolderExpedient) }) },
      },
      config: { rateLimit: FOLDER_LIMIT },
    },
    async (req) =>
      folder(req, async (tx, ctx, acting) => ({ items: await listMyExpedients(tx, ctx, acting!) })),
  );

  app.get(
    '/api/v1/seu/:slug/folder/expedients/:id',
    {
      schema: {
        tags: ['seu'],
        summary: 'La meva carpeta: one of my case files with the documents incorporated into it',
        description:
          'An interested party sees their own case file whatever its access level (LPACAP art. 53.1.a). 404 EXPEDIENT_NOT_FOUND for a case file I am not a party of.',
        params: ExpParams,
        querystring: OnBehalfQuery,
        response: {
          200: Type.Object({ ...FolderExpedient.properties, documents: Type.Array(FolderDocument) }),
        },
      },
      config: { rateLimit: FOLDER_LIMIT },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      return folder(req, async (tx, ctx, acting) => {
        const x = await getMyExpedient(tx, ctx, acting!, id);
        return {
          ...x,
          documents: x.documents.map((d) => ({
            ...d,
            url: `/api/v1/seu/${ctx.tenant.slug}/folder/expedients/${x.id}/documents/${d.id}${behalfQuery(acting!)}`,
          })),
        };
      });
    },
  );

  app.get(
    '/api/v1/seu/:slug/folder/expedients/:id/documents/:docId',
    {
      schema: {
        tags: ['seu'],
        summary: 'La meva carpeta: download a document of one of my case files (audited)',
        description:
          '404 EXPEDIENT_NOT_FOUND or DOCUMENT_NOT_FOUND for anything that is not in my case file.',
        params: DocParams,
        querystring: OnBehalfQuery,
      },
      config: { rateLimit: FOLDER_LIMIT },
    },
    async (req, reply) => {
      const { id, docId } = req.params as { id: string; docId: string };
      const doc = await folder(req, (tx, ctx, acting) =>
        readMyExpedientDocument(tx, ctx, acting!, id, docId),
      );
      reply
        .header('content-type', doc.mimeType)
        .header('content-length', String(doc.size))
        .header('content-disposition', contentDisposition(doc.fileName))
        .header('cache-control', 'private, no-store')
        .header('x-content-sha256', doc.sha256);
      return reply.send(deps.blobs.openVerified(doc.sha256));
    },
  );
}
