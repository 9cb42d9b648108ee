import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { checkInEntity, inEntity } from '../../http/scope.ts';
import type { ReceivedBlob } from '#platform/blobs/blob-store.ts';
import type { RegistryChannel, RegistryDirection } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { ensureCalendarSeededOnce } from '#modules/calendar/calendar.service.ts';
import { contentDisposition, safeFileName, safeMimeType } from '#modules/documents/documents.service.ts';
import type { PartyInput, PartyLanguage } from '#modules/parties/parties.service.ts';
import { EntryExpedientSchema } from './desk.routes.ts';
import { getReceiptDocument, issueReceipt, loadReceiptContext } from './receipt.service.ts';
import {
  type AttachmentInput,
  annotateEntry,
  assertEntryInput,
  checkEntry,
  checkEntryAlone,
  entryNamesRows,
  type EntryInput,
  getEntry,
  getEntryAttachment,
  listEntries,
  MAX_ATTACHMENTS,
  makeEntry,
} from './registry.service.ts';

const strict = { additionalProperties: false } as const;
const EntityParams = Type.Object({ entity: Type.String({ minLength: 2, maxLength: 100 }) }, strict);
const IdParams = Type.Object(
  { entity: Type.String({ minLength: 2, maxLength: 100 }), id: Type.String({ maxLength: 64 }) },
  strict,
);
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Direction = Type.Union([Type.Literal('E'), Type.Literal('S')]);

const EntrySummary = Type.Object({
  id: Type.String(),
  number: Type.String(),
  direction: Direction,
  heading: Type.String(),
  summary: Type.String(),
  channel: Type.String(),
  officeId: Nullable(Type.String()),
  partyId: Nullable(Type.String()),
  presentedAt: Type.String(),
  registeredAt: Type.String(),
  effectiveAt: Nullable(Type.String()),
});
const Receipt = Type.Union([
  Type.Object({ documentId: Type.String(), csv: Type.String(), issuedAt: Type.String() }),
  Type.Null(),
]);
const EntryView = Type.Object({
  ...EntrySummary.properties,
  receipt: Receipt,
  expedients: Type.Array(EntryExpedientSchema),
  sendingBody: Nullable(Type.String()),
  recipientUnitId: Nullable(Type.String()),
  recipientPerson: Nullable(Type.String()),
  text: Nullable(Type.String()),
  language: Type.String(),
  createdBy: Type.String(),
  party: Type.Union([
    Type.Object({ id: Type.String(), identifier: Type.String(), name: Type.String() }),
    Type.Null(),
  ]),
  attachments: Type.Array(
    Type.Object({
      position: Type.Integer(),
      documentId: Type.String(),
      title: Type.String(),
      fileName: Type.String(),
      mimeType: Type.String(),
      size: Type.Integer(),
      sha256: Type.String(),
    }),
  ),
  annotations: Type.Array(
    Type.Object({
      id: Type.String(),
      text: Type.String(),
      createdBy: Type.String(),
      createdAt: Type.String(),
    }),
  ),
});

/** Multipart text fields of a new entry; they come before the `file` parts. */
const ENTRY_FIELDS = [
  'direction',
  'heading',
  'summary',
  'channel',
  'officeId',
  'partyId',
  'party',
  'sendingBody',
  'recipientUnit',
  'recipientPerson',
  'text',
  'language',
  'presentedAt',
] as const;
type EntryField = (typeof ENTRY_FIELDS)[number];

function toInput(f: Partial<Record<EntryField, string>>, attachments: AttachmentInput[]): EntryInput {
  let party: PartyInput | null = null;
  if (f.party !== undefined) {
    try {
      party = JSON.parse(f.party) as PartyInput;
    } catch {
      throw new AppError('VALIDATION_FAILED', 'party must be a JSON object {identifier, name, …}');
    }
  }
  return {
    direction: (f.direction ?? '') as RegistryDirection,
    heading: f.heading ?? '',
    summary: f.summary ?? '',
    channel: (f.channel ?? '') as RegistryChannel,
    officeId: f.officeId || null,
    partyId: f.partyId || null,
    party,
    sendingBody: f.sendingBody ?? null,
    recipientUnitId: f.recipientUnit || null,
    recipientPerson: f.recipientPerson ?? null,
    text: f.text ?? null,
    language: (f.language || null) as PartyLanguage | null,
    presentedAt: f.presentedAt || null,
    attachments,
  };
}

const immutable = async () => {
  throw new AppError(
    'REGISTRY_ENTRY_IMMUTABLE',
    'A registry entry is never changed or deleted; add an annotation to correct it',
  );
};

export function registerRegistryRoutes(app: FastifyInstance, deps: AppDeps): void {
  const p = (req: FastifyRequest) => req.params as { entity: string; id: string };
  const seeded = () => ensureCalendarSeededOnce(deps.db, deps.clock.now());

  app.post(
    '/api/v1/entities/:entity/registry',
    {
      schema: {
        tags: ['registry'],
        summary: 'Make a registry entry (numbered E|S/YYYY/NNNNNN per entity, direction and year)',
        description:
          'multipart/form-data: text fields first — `direction` (E|S), `heading`, `summary`, `channel` (in_person|electronic|mux|postal|sir), `officeId?` (a unit of kind office), `partyId?` or `party?` (a JSON object {identifier, name, …}; created if the entity does not have it), `sendingBody?`, `recipientUnit?`, `recipientPerson?`, `text?` (the full text of the request), `language?` (ca|es|oc-aranes), `presentedAt?` (postal, sir and mux only: the origin’s time) — then up to 10 `file` parts (attachments, stored as documents with their SHA-256). `effectiveAt` is null, with `effectiveAtNote` saying why, when the seat’s calendar does not know the day (the filing is still accepted). `receipt` is the sealed receipt (justificant, art. 16.3: a PAdES PDF with its CSV), issued right after the entry is recorded; in the rare case it could not be issued at once it is null and the registry’s receipts sweeper issues it within a minute (GET the entry or its receipt later).',
        params: EntityParams,
        consumes: ['multipart/form-data'],
        response: {
          201: Type.Object({
            id: Type.String(),
            number: Type.String(),
            presentedAt: Type.String(),
            registeredAt: Type.String(),
            effectiveAt: Nullable(Type.String()),
            effectiveAtNote: Nullable(Type.String()),
            receipt: Receipt,
          }),
        },
      },
    },
    async (req, reply) => {
      if (!req.isMultipart())
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send multipart/form-data (fields, then `file` parts)');
      const { entity } = p(req);
      await seeded();
      const fields: Partial<Record<EntryField, string>> = {};
      const staged: { blob: ReceivedBlob; fileName: string; mimeType: string }[] = [];
      let input: EntryInput;
      try {
        let checked = false;
        // One more file than allowed reaches the check below, which answers with a clear message.
        const parts = req.parts({
          limits: {
            fileSize: deps.config.maxUploadBytes,
            files: MAX_ATTACHMENTS + 1,
            fields: ENTRY_FIELDS.length,
            fieldSize: 256 * 1024,
            parts: ENTRY_FIELDS.length + MAX_ATTACHMENTS + 1,
          },
        });
        for await (const part of parts) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file') {
              part.file.resume();
              throw new AppError(
                'VALIDATION_FAILED',
                `Unexpected file part "${part.fieldname}": name them "file"`,
              );
            }
            if (staged.length >= MAX_ATTACHMENTS) {
              part.file.resume();
              throw new AppError('VALIDATION_FAILED', `At most ${MAX_ATTACHMENTS} attachments`);
            }
            if (!checked) {
              // Refuse a bad entry before reading a byte of its files.
              const pre = toInput(fields, []);
              try {
                assertEntryInput(pre);
                // Most entries name no unit and no known party: then no transaction is needed.
                if (entryNamesRows(pre))
                  await inEntity(deps, req, entity, (tx, ctx) => checkEntry(tx, ctx, pre));
                else await checkInEntity(deps, req, entity, (ctx) => checkEntryAlone(ctx, pre));
              } catch (e) {
                part.file.resume();
                throw e;
              }
              checked = true;
            }
            const blob = await deps.blobs.receive(part.file, { maxBytes: deps.config.maxUploadBytes });
            staged.push({
              blob,
              fileName: safeFileName(part.filename),
              mimeType: safeMimeType(part.mimetype),
            });
            if (blob.size === 0) throw new AppError('VALIDATION_FAILED', 'An attachment is empty');
          } else {
            // The entry was checked when its first file arrived: a field after a file would escape that check.
            if (checked)
              throw new AppError(
                'VALIDATION_FAILED',
                `Field "${part.fieldname}" after a file: send text fields first`,
              );
            if (!(ENTRY_FIELDS as readonly string[]).includes(part.fieldname))
              throw new AppError('VALIDATION_FAILED', `Unknown field "${part.fieldname}"`);
            if (fields[part.fieldname as EntryField] !== undefined)
              throw new AppError('VALIDATION_FAILED', `Field "${part.fieldname}" given twice`);
            fields[part.fieldname as EntryField] = String(part.value);
          }
        }
        input = toInput(
          fields,
          staged.map((s) => ({
            fileName: s.fileName,
            mimeType: s.mimeType,
            sha256: s.blob.sha256,
            size: s.blob.size,
          })),
        );
        // Without files nothing is stored yet: createEntry checks the entry in its own transaction.
      } catch (e) {
        for (const s of staged) await deps.blobs.discard(s.blob);
        throw e;
      }
      // The files are in the store before any row points to them.
      for (const s of staged) await deps.blobs.commit(s.blob);
      const { made, tenantId, context } = await inEntity(deps, req, entity, async (tx, ctx) => {
        // Read before the entry's counter is taken (reads only): what the receipt needs besides the entry.
        const context = await loadReceiptContext(
          tx,
          ctx.tenant,
          deps,
          { officeId: input.officeId ?? null, recipientUnitId: input.recipientUnitId ?? null },
          { forEntry: true },
        );
        // Nothing follows the entry's statement here: it goes with the COMMIT (and the entry is
        // read from it once committed).
        return { made: await makeEntry(tx, ctx, input, { last: true }), tenantId: ctx.tenant.id, context };
      });
      const { created, view } = made.result();
      const known = context ? { entry: view, context } : undefined;
      // The entry is recorded: from here on the answer is 201 whatever happens to the receipt,
      // which the receipts sweeper issues if this attempt fails.
      let receipt = null;
      try {
        const r = await issueReceipt(deps, tenantId, created.id, known);
        receipt = { documentId: r.documentId, csv: r.csv, issuedAt: r.issuedAt };
      } catch (e) {
        req.log.error(
          { err: e, entryId: created.id },
          'receipt not issued at once; the receipts sweeper will issue it',
        );
      }
      return reply.status(201).send({ ...created, receipt });
    },
  );

  app.get(
    '/api/v1/entities/:entity/registry',
    {
      schema: {
        tags: ['registry'],
        summary: 'The registry book: entries by effective time (art. 31.2.b), then number',
        params: EntityParams,
        querystring: Type.Object(
          {
            direction: Type.Optional(Direction),
            from: Type.Optional(Type.String({ format: 'date' })),
            to: Type.Optional(Type.String({ format: 'date' })),
            q: Type.Optional(Type.String({ maxLength: 200 })),
            office: Type.Optional(Type.String({ format: 'uuid' })),
            unit: Type.Optional(Type.String({ format: 'uuid' })),
            party: Type.Optional(Type.String({ format: 'uuid' })),
            page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
            pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
          },
          strict,
        ),
        response: {
          200: Type.Object({
            items: Type.Array(EntrySummary),
            total: Type.Integer(),
            page: Type.Integer(),
            pageSize: Type.Integer(),
          }),
        },
      },
    },
    async (req) => {
      const q = req.query as Parameters<typeof listEntries>[2];
      return inEntity(deps, req, p(req).entity, (tx, ctx) => listEntries(tx, ctx, q));
    },
  );

  app.get(
    '/api/v1/entities/:entity/registry/:id',
    {
      schema: {
        tags: ['registry'],
        summary: 'A registry entry with its party, attachments and annotations',
        params: IdParams,
        response: { 200: EntryView },
      },
    },
    async (req) => inEntity(deps, req, p(req).entity, (tx, ctx) => getEntry(tx, ctx, p(req).id)),
  );

  app.get(
    '/api/v1/entities/:entity/registry/:id/attachments/:position/content',
    {
      schema: {
        tags: ['registry'],
        summary: 'Download an attachment of the entry, byte for byte as filed (audited)',
        params: Type.Object(
          {
            entity: Type.String({ minLength: 2, maxLength: 100 }),
            id: Type.String({ maxLength: 64 }),
            position: Type.Integer({ minimum: 1, maximum: 1000 }),
          },
          strict,
        ),
      },
    },
    async (req, reply) => {
      const { entity, id, position } = req.params as { entity: string; id: string; position: number };
      const a = await inEntity(deps, req, entity, (tx, ctx) => getEntryAttachment(tx, ctx, id, position));
      reply.header('content-type', a.mimeType);
      reply.header('content-length', String(a.size));
      reply.header('content-disposition', contentDisposition(a.fileName));
      reply.header('cache-control', 'private, no-store');
      return reply.send(deps.blobs.openVerified(a.sha256));
    },
  );

  app.get(
    '/api/v1/entities/:entity/registry/:id/receipt',
    {
      schema: {
        tags: ['registry'],
        summary: 'The entry’s receipt (justificant): a PDF sealed PAdES-B-B with the entity’s seal',
        description: '404 RECEIPT_NOT_READY while it is being issued (seconds after the entry).',
        params: IdParams,
        produces: ['application/pdf'],
      },
    },
    async (req, reply) => {
      const doc = await inEntity(deps, req, p(req).entity, (tx, ctx) =>
        getReceiptDocument(tx, ctx, p(req).id),
      );
      reply.header('content-type', 'application/pdf');
      reply.header('content-length', String(doc.size));
      reply.header('content-disposition', contentDisposition(doc.fileName));
      reply.header('cache-control', 'private, no-store');
      return reply.send(deps.blobs.openVerified(doc.sha256));
    },
  );

  app.post(
    '/api/v1/entities/:entity/registry/:id/annotations',
    {
      schema: {
        tags: ['registry'],
        summary: 'Annotate a registry entry (the way to correct it: entries never change)',
        params: IdParams,
        body: Type.Object({ text: Type.String({ minLength: 1, maxLength: 4000 }) }, strict),
        response: { 201: EntryView },
      },
    },
    async (req, reply) => {
      const { text } = req.body as { text: string };
      const view = await inEntity(deps, req, p(req).entity, (tx, ctx) =>
        annotateEntry(tx, ctx, p(req).id, text),
      );
      return reply.status(201).send(view);
    },
  );

  for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
    app.route({
      method,
      url: '/api/v1/entities/:entity/registry/:id',
      schema: {
        tags: ['registry'],
        summary: 'Refused: registry entries are never changed or deleted (409 REGISTRY_ENTRY_IMMUTABLE)',
        params: IdParams,
      },
      handler: async (req) => {
        // Only members learn that the route exists; the entity is resolved as for any request.
        await inEntity(deps, req, p(req).entity, async () => undefined);
        return immutable();
      },
    });
  }
}
