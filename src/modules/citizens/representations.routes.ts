import fsp from 'node:fs/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '#src/app.ts';
import type { StagedBlob } from '#platform/blobs/blob-store.ts';
import { AppError } from '#platform/errors.ts';
import { inEntity } from '../../http/scope.ts';
import { contentDisposition, safeFileName } from '#modules/documents/documents.service.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { inSeu } from './seu-scope.ts';
import { canReadRepresentations, canRecordRepresentations } from './representations.policy.ts';
import {
  type CreateRepresentationInput,
  createRepresentation,
  getRepresentation,
  getRepresentationRow,
  listRepresentations,
  personIdentifier,
  revokeRepresentation,
} from './representations.service.ts';
import { notifyRepresentation } from './representation-mail.ts';

const strict = { additionalProperties: false } as const;
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const SEU_LIMIT = { max: 120, timeWindow: '1 minute' } as const;
/** A notarial document (PDF) is at most this large. */
export const MAX_NOTARIAL_BYTES = 20 * 1024 * 1024;

const Person = Type.Object({ identifier: Type.String(), name: Type.String() });
export const RepresentationSchema = Type.Object({
  id: Type.String(),
  represented: Person,
  representative: Person,
  scope: Type.Union([Type.Literal('general'), Type.Literal('procedure')]),
  procedure: Nullable(Type.String()),
  origin: Type.Union([Type.Literal('apud_acta'), Type.Literal('electronic'), Type.Literal('notarial')]),
  validFrom: Type.String(),
  validTo: Type.String(),
  notarialDocument: Type.Union([
    Type.Object({ filename: Type.String(), size: Type.Integer(), sha256: Type.String() }),
    Type.Null(),
  ]),
  notes: Nullable(Type.String()),
  createdBy: Type.String(),
  createdAt: Type.String(),
  revokedAt: Nullable(Type.String()),
  revokedBy: Nullable(Type.String()),
  revokedReason: Nullable(Type.String()),
  inForce: Type.Boolean(),
});

const PersonInput = Type.Object(
  {
    identifier: Type.String({ minLength: 1, maxLength: 32 }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
  },
  strict,
);
const Scope = Type.Union([Type.Literal('general'), Type.Literal('procedure')]);
const Date_ = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });

const EntityParams = Type.Object({ entity: Type.String({ minLength: 2, maxLength: 100 }) }, strict);
const EntityIdParams = Type.Object(
  { entity: Type.String({ minLength: 2, maxLength: 100 }), id: Type.String({ maxLength: 64 }) },
  strict,
);
const SlugParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 100 }) }, strict);
const SlugIdParams = Type.Object(
  { slug: Type.String({ minLength: 1, maxLength: 100 }), id: Type.String({ maxLength: 64 }) },
  strict,
);
const RevokeBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 1000 })) }, strict);

const NOTARIAL_FIELDS = [
  'represented',
  'representative',
  'scope',
  'procedure',
  'validFrom',
  'validTo',
  'notes',
] as const;
type NotarialField = (typeof NOTARIAL_FIELDS)[number];

function parsePerson(
  raw: string | undefined,
  what: string,
): { identifier: string; name: string; email?: string } {
  let v: unknown;
  try {
    v = JSON.parse(raw ?? '');
  } catch {
    throw new AppError('VALIDATION_FAILED', `${what} must be a JSON object {identifier, name, email?}`);
  }
  const o = v as Record<string, unknown>;
  if (!o || typeof o !== 'object' || typeof o.identifier !== 'string' || typeof o.name !== 'string')
    throw new AppError('VALIDATION_FAILED', `${what} must be a JSON object {identifier, name, email?}`);
  return {
    identifier: o.identifier,
    name: o.name,
    ...(typeof o.email === 'string' && o.email ? { email: o.email } : {}),
  };
}

/** Staff routes (the entity's register) and the seu's own (a citizen grants, lists and revokes). */
export function registerSeuRepresentationRoutes(app: FastifyInstance, deps: AppDeps): void {
  const ep = (req: FastifyRequest) => req.params as { entity: string; id: string };
  const sp = (req: FastifyRequest) => req.params as { slug: string; id: string };

  // ---- staff ----
  app.get(
    '/api/v1/entities/:entity/representations',
    {
      schema: {
        tags: ['representations'],
        summary: 'The register of powers of attorney (LPACAP art. 6), newest first',
        description:
          '`identifier`: powers where that NIF/NIE is the represented person or the representative. `inForce=true`: only those in force today.',
        params: EntityParams,
        querystring: Type.Object(
          {
            identifier: Type.Optional(Type.String({ maxLength: 32 })),
            inForce: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
            limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
            offset: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
          },
          strict,
        ),
        response: { 200: Type.Object({ items: Type.Array(RepresentationSchema) }) },
      },
    },
    async (req) => {
      const q = req.query as { identifier?: string; inForce?: string; limit?: string; offset?: string };
      return inEntity(deps, req, ep(req).entity, async (tx, ctx) => {
        if (!canReadRepresentations(ctx)) throw new AppError('FORBIDDEN', 'Not allowed to read the register');
        const items = await listRepresentations(tx, ctx, {
          ...(q.identifier ? { identifier: personIdentifier(q.identifier) } : {}),
          inForce: q.inForce === 'true',
          limit: Math.min(Number(q.limit ?? 100), 500),
          offset: Number(q.offset ?? 0),
        });
        return { items };
      });
    },
  );

  app.post(
    '/api/v1/entities/:entity/representations',
    {
      schema: {
        tags: ['representations'],
        summary: 'Record a power of attorney granted at the office (apud acta)',
        description:
          'validFrom defaults to today, validTo to five years later (the longest allowed: a longer one is 422 REPRESENTATION_TOO_LONG). For a notarial power, POST …/representations/notarial with the document.',
        params: EntityParams,
        body: Type.Object(
          {
            represented: PersonInput,
            representative: PersonInput,
            scope: Scope,
            procedure: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            validFrom: Type.Optional(Date_),
            validTo: Type.Optional(Date_),
            notes: Type.Optional(Type.String({ maxLength: 2000 })),
          },
          strict,
        ),
        response: { 201: RepresentationSchema },
      },
    },
    async (req, reply) => {
      const b = req.body as Omit<CreateRepresentationInput, 'origin'>;
      const created = await inEntity(deps, req, ep(req).entity, async (tx, ctx) => {
        if (!canRecordRepresentations(ctx))
          throw new AppError('FORBIDDEN', 'Only administrators, registrars and case handlers record powers');
        const r = await createRepresentation(tx, ctx, { ...b, origin: 'apud_acta' });
        await notifyRepresentation(deps, tx, ctx, r.id, 'granted');
        return r;
      });
      return reply.status(201).send(created);
    },
  );

  app.post(
    '/api/v1/entities/:entity/representations/notarial',
    {
      schema: {
        tags: ['representations'],
        summary: 'Record a power of attorney from a notarial document (PDF upload)',
        description:
          'multipart/form-data: text fields first — `represented` and `representative` (JSON objects {identifier, name, email?}), `scope` (general|procedure), `procedure?`, `validFrom?`, `validTo?`, `notes?` — then one `file` part: the notarial document, a PDF of at most 20 MiB.',
        params: EntityParams,
        consumes: ['multipart/form-data'],
        response: { 201: RepresentationSchema },
      },
    },
    async (req, reply) => {
      if (!req.isMultipart())
        throw new AppError(
          'UNSUPPORTED_MEDIA_TYPE',
          'Send multipart/form-data (fields, then the `file` part)',
        );
      const { entity } = ep(req);
      // Refuse early, before reading a file, whoever may not record.
      await inEntity(deps, req, entity, async (_tx, ctx) => {
        if (!canRecordRepresentations(ctx))
          throw new AppError('FORBIDDEN', 'Only administrators, registrars and case handlers record powers');
      });
      const fields: Partial<Record<NotarialField, string>> = {};
      let staged: StagedBlob | null = null;
      let filename = '';
      let input: CreateRepresentationInput;
      try {
        const parts = req.parts({
          limits: {
            fileSize: MAX_NOTARIAL_BYTES,
            files: 1,
            fields: NOTARIAL_FIELDS.length,
            fieldSize: 8 * 1024,
            parts: NOTARIAL_FIELDS.length + 1,
          },
        });
        for await (const part of parts) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file' || staged) {
              part.file.resume();
              throw new AppError('VALIDATION_FAILED', 'Send one file part named "file"');
            }
            staged = await deps.blobs.stage(part.file, { maxBytes: MAX_NOTARIAL_BYTES });
            filename = safeFileName(part.filename);
          } else {
            if (!(NOTARIAL_FIELDS as readonly string[]).includes(part.fieldname))
              throw new AppError('VALIDATION_FAILED', `Unknown field "${part.fieldname}"`);
            fields[part.fieldname as NotarialField] = String(part.value);
          }
        }
        if (!staged)
          throw new AppError('VALIDATION_FAILED', 'The `file` part (the notarial document) is missing');
        const s: StagedBlob = staged;
        if (s.size === 0) throw new AppError('VALIDATION_FAILED', 'The file is empty');
        const fh = await fsp.open(s.tmpPath, 'r');
        const head = Buffer.alloc(1024);
        try {
          await fh.read(head, 0, 1024, 0);
        } finally {
          await fh.close();
        }
        const at = head.indexOf('%PDF-', 0, 'latin1');
        if (at < 0) throw new AppError('FILE_TYPE_NOT_ACCEPTED', 'The notarial document must be a PDF');
        if (fields.scope !== 'general' && fields.scope !== 'procedure')
          throw new AppError('VALIDATION_FAILED', 'scope is general or procedure');
        input = {
          represented: parsePerson(fields.represented, 'represented'),
          representative: parsePerson(fields.representative, 'representative'),
          scope: fields.scope,
          procedure: fields.procedure || null,
          origin: 'notarial',
          ...(fields.validFrom ? { validFrom: fields.validFrom } : {}),
          ...(fields.validTo ? { validTo: fields.validTo } : {}),
          notes: fields.notes ?? null,
          notarial: { sha256: s.sha256, size: s.size, filename: filename || 'notarial.pdf' },
        };
      } catch (e) {
        const s = staged as StagedBlob | null;
        if (s) await deps.blobs.discard(s);
        if (e instanceof Error && 'code' in e && (e as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE')
          throw new AppError('PAYLOAD_TOO_LARGE', 'The notarial document is larger than 20 MiB');
        throw e;
      }
      // The file is in the store before the row that points to it.
      await deps.blobs.commit(staged as StagedBlob);
      const created = await inEntity(deps, req, entity, async (tx, ctx) => {
        if (!canRecordRepresentations(ctx))
          throw new AppError('FORBIDDEN', 'Only administrators, registrars and case handlers record powers');
        const r = await createRepresentation(tx, ctx, input);
        await notifyRepresentation(deps, tx, ctx, r.id, 'granted');
        return r;
      });
      return reply.status(201).send(created);
    },
  );

  app.get(
    '/api/v1/entities/:entity/representations/:id',
    {
      schema: {
        tags: ['representations'],
        summary: 'One power of attorney',
        params: EntityIdParams,
        response: { 200: RepresentationSchema },
      },
    },
    async (req) =>
      inEntity(deps, req, ep(req).entity, async (tx, ctx) => {
        if (!canReadRepresentations(ctx)) throw new AppError('FORBIDDEN', 'Not allowed to read the register');
        const r = await getRepresentation(tx, ctx, ep(req).id);
        if (!r) throw new AppError('REPRESENTATION_NOT_FOUND', 'No such power of attorney');
        return r;
      }),
  );

  app.get(
    '/api/v1/entities/:entity/representations/:id/document',
    {
      schema: {
        tags: ['representations'],
        summary: 'Download the notarial document of a power (audited)',
        params: EntityIdParams,
      },
    },
    async (req, reply) => {
      const r = await inEntity(deps, req, ep(req).entity, async (tx, ctx) => {
        if (!canReadRepresentations(ctx)) throw new AppError('FORBIDDEN', 'Not allowed to read the register');
        const row = await getRepresentation(tx, ctx, ep(req).id);
        if (!row?.notarialDocument)
          throw new AppError('REPRESENTATION_NOT_FOUND', 'No such notarial document');
        await recordEvent(tx, {
          tenantId: ctx.tenant.id,
          ...ctx,
          action: 'representation.document_read',
          objectType: 'representation',
          objectId: row.id,
        });
        return row.notarialDocument;
      });
      const stream = deps.blobs.openVerified(r.sha256);
      reply
        .header('content-type', 'application/pdf')
        .header('content-length', String(r.size))
        .header('content-disposition', contentDisposition(r.filename))
        .header('cache-control', 'private, no-store');
      return reply.send(stream);
    },
  );

  app.post(
    '/api/v1/entities/:entity/representations/:id/revoke',
    {
      schema: {
        tags: ['representations'],
        summary: 'Revoke a power of attorney (it stops working at once)',
        params: EntityIdParams,
        body: RevokeBody,
        response: { 200: RepresentationSchema },
      },
    },
    async (req) => {
      const { reason } = req.body as { reason?: string };
      return inEntity(deps, req, ep(req).entity, async (tx, ctx) => {
        if (!canRecordRepresentations(ctx))
          throw new AppError('FORBIDDEN', 'Only administrators, registrars and case handlers revoke powers');
        const row = await getRepresentationRow(tx, ep(req).id);
        if (!row) throw new AppError('REPRESENTATION_NOT_FOUND', 'No such power of attorney');
        const r = await revokeRepresentation(tx, ctx, row, reason ?? null);
        await notifyRepresentation(deps, tx, ctx, r.id, 'revoked');
        return r;
      });
    },
  );

  // ---- seu ----
  app.post(
    '/api/v1/seu/:slug/representations',
    {
      config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
      schema: {
        tags: ['seu'],
        summary: 'Grant a power of attorney electronically (the logged-in citizen is the represented person)',
        description:
          'validFrom defaults to today (not earlier), validTo to five years later (a longer one is 422 REPRESENTATION_TOO_LONG).',
        params: SlugParams,
        body: Type.Object(
          {
            representative: PersonInput,
            scope: Scope,
            procedure: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            validFrom: Type.Optional(Date_),
            validTo: Type.Optional(Date_),
          },
          strict,
        ),
        response: { 201: RepresentationSchema },
      },
    },
    async (req, reply) => {
      const b = req.body as Pick<
        CreateRepresentationInput,
        'representative' | 'scope' | 'procedure' | 'validFrom' | 'validTo'
      >;
      const created = await inSeu(
        deps,
        req,
        sp(req).slug,
        { requireCitizen: true },
        async (tx, ctx, acting) => {
          const citizen = acting!.citizen;
          const r = await createRepresentation(tx, ctx, {
            ...b,
            represented: { identifier: citizen.identifier, name: citizen.name, email: citizen.email },
            origin: 'electronic',
          });
          await notifyRepresentation(deps, tx, ctx, r.id, 'granted', acting!.citizen);
          return r;
        },
      );
      return reply.status(201).send(created);
    },
  );

  app.get(
    '/api/v1/seu/:slug/representations',
    {
      config: { rateLimit: SEU_LIMIT },
      schema: {
        tags: ['seu'],
        summary: 'The powers I granted and the powers I hold in this entity (in force or not)',
        params: SlugParams,
        response: {
          200: Type.Object({
            granted: Type.Array(RepresentationSchema),
            held: Type.Array(RepresentationSchema),
          }),
        },
      },
    },
    async (req) =>
      inSeu(deps, req, sp(req).slug, { requireCitizen: true }, async (tx, ctx, acting) => {
        const me = acting!.citizen.identifier;
        return {
          granted: await listRepresentations(tx, ctx, { represented: me }),
          held: await listRepresentations(tx, ctx, { representative: me }),
        };
      }),
  );

  app.post(
    '/api/v1/seu/:slug/representations/:id/revoke',
    {
      config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
      schema: {
        tags: ['seu'],
        summary: 'Revoke a power I granted (it stops working at once)',
        params: SlugIdParams,
        body: RevokeBody,
        response: { 200: RepresentationSchema },
      },
    },
    async (req) => {
      const { reason } = req.body as { reason?: string };
      return inSeu(deps, req, sp(req).slug, { requireCitizen: true }, async (tx, ctx, acting) => {
        const row = await getRepresentationRow(tx, sp(req).id);
        // Only the person who granted it revokes it here; anyone else learns nothing (404).
        if (!row || row.represented_identifier !== acting!.citizen.identifier)
          throw new AppError('REPRESENTATION_NOT_FOUND', 'No such power of attorney');
        const r = await revokeRepresentation(tx, ctx, row, reason ?? null);
        await notifyRepresentation(deps, tx, ctx, r.id, 'revoked', acting!.citizen);
        return r;
      });
    },
  );
}
