import { open } from 'node:fs/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '#src/app.ts';
import { inEntity } from '../../http/scope.ts';
import type { StagedBlob } from '#platform/blobs/blob-store.ts';
import type { EvidenceKey } from '#platform/db/schema/notifications.ts';
import { AppError } from '#platform/errors.ts';
import { ensureCalendarSeededOnce } from '#modules/calendar/calendar.service.ts';
import { contentDisposition, getDocumentRow, safeFileName } from '#modules/documents/documents.service.ts';
import { issueEvidenceAfterCommit } from './evidence.service.ts';
import type { EvidenceJobData } from './notifications.model.ts';
import {
  type CreateNotificationsInput,
  createNotifications,
  getNotification,
  listExpedientNotifications,
  loadForStaff,
} from './notifications.service.ts';
import { registerNotificationSeuRoutes } from './notifications.seu.routes.ts';
import {
  ACK_MAX_BYTES,
  ACK_TYPES,
  type AttemptInput,
  assertAckDeclaredType,
  assertAckType,
  checkAttempt,
  recordAttempt,
} from './paper.service.ts';
import { sendForPublication } from './publication.service.ts';

const strict = { additionalProperties: false } as const;
const Entity = Type.String({ minLength: 2, maxLength: 100 });
const Id = Type.String({ maxLength: 64 });
const IdParams = Type.Object({ entity: Entity, id: Id }, strict);
const EvidenceParams = Type.Object(
  {
    entity: Entity,
    id: Id,
    key: Type.Union(
      ['accepted', 'rejected', 'deemed_rejected', 'delivered', 'rejected_on_paper', 'failed', 'edict'].map(
        (k) => Type.Literal(k),
      ),
    ),
  },
  strict,
);
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Uuid = Type.String({ format: 'uuid' });
const Channel = Type.Union([Type.Literal('electronic'), Type.Literal('paper')]);
export const StateSchema = Type.Union(
  ['available', 'accepted', 'rejected', 'deemed_rejected', 'delivered', 'failed', 'sent_for_publication'].map(
    (s) => Type.Literal(s),
  ),
);
export const AppealSchema = Type.Object(
  {
    appeal: Type.String({ minLength: 1, maxLength: 500 }),
    body: Type.String({ minLength: 1, maxLength: 500 }),
    term: Type.String({ minLength: 1, maxLength: 500 }),
  },
  strict,
);
export const NotifiedDocumentSchema = Type.Object({
  documentId: Type.String(),
  title: Type.String(),
  fileName: Type.String(),
  mimeType: Type.String(),
  size: Type.Integer(),
  sha256: Type.String(),
});
const ActedBySchema = Type.Object({
  identifier: Type.String(),
  name: Type.String(),
  representationId: Nullable(Type.String()),
  representedIdentifier: Nullable(Type.String()),
});
const AttemptSchema = Type.Object({
  id: Type.String(),
  attemptNo: Type.Integer(),
  attemptedAt: Type.String(),
  outcome: Type.String(),
  receiver: Type.Union([
    Type.Object({
      kind: Type.String(),
      name: Nullable(Type.String()),
      identityDocument: Nullable(Type.String()),
      relationship: Nullable(Type.String()),
    }),
    Type.Null(),
  ]),
  acknowledgementDocumentId: Nullable(Type.String()),
  notes: Nullable(Type.String()),
  recordedBy: Type.String(),
  recordedAt: Type.String(),
});
const EvidenceSchema = Type.Object({
  key: Type.String(),
  outcomeAt: Type.String(),
  documentId: Nullable(Type.String()),
  csv: Nullable(Type.String()),
  issuedAt: Nullable(Type.String()),
  incorporated: Type.Union([Type.Boolean(), Type.Null()]),
});
const PublicationSchema = Type.Object({
  id: Type.String(),
  bulletin: Type.String(),
  state: Type.String(),
  publishedIdentifier: Type.String(),
  edictText: Type.String(),
  requestedBy: Type.String(),
  requestedAt: Type.String(),
  sentAt: Nullable(Type.String()),
  edictDocumentId: Nullable(Type.String()),
});
const NotificationSchema = Type.Object({
  id: Type.String(),
  batchId: Type.String(),
  expedientId: Type.String(),
  expedientNumber: Type.String(),
  partyId: Type.String(),
  recipient: Type.Object({ identifier: Type.String(), name: Type.String() }),
  language: Type.String(),
  subject: Type.String(),
  actText: Type.String(),
  endsAdministrativeRoute: Type.Boolean(),
  appeals: Type.Array(AppealSchema),
  documents: Type.Array(NotifiedDocumentSchema),
  channel: Channel,
  electronicBasis: Type.Union([Type.Literal('compulsory'), Type.Literal('chosen'), Type.Null()]),
  state: StateSchema,
  madeAvailableAt: Type.String(),
  availableUntil: Nullable(Type.String()),
  registryEntry: Type.Object({ id: Type.String(), number: Type.String() }),
  notifiedAt: Nullable(Type.String()),
  accessedAt: Nullable(Type.String()),
  rejectedAt: Nullable(Type.String()),
  actedBy: Type.Union([ActedBySchema, Type.Null()]),
  attempts: Type.Array(AttemptSchema),
  evidence: Type.Array(EvidenceSchema),
  publication: Type.Union([PublicationSchema, Type.Null()]),
  createdBy: Type.String(),
  createdAt: Type.String(),
});

const ATTEMPT_FIELDS = [
  'attemptedAt',
  'outcome',
  'receiverKind',
  'receiverName',
  'receiverIdentityDocument',
  'receiverRelationship',
  'receiverOver14',
  'notes',
] as const;
type AttemptField = (typeof ATTEMPT_FIELDS)[number];

function toAttempt(f: Partial<Record<AttemptField, string>>): AttemptInput {
  const kind = f.receiverKind;
  if (kind !== undefined && kind !== 'party' && kind !== 'other')
    throw new AppError('VALIDATION_FAILED', 'receiverKind is party or other');
  if (f.receiverOver14 !== undefined && f.receiverOver14 !== 'true' && f.receiverOver14 !== 'false')
    throw new AppError('VALIDATION_FAILED', 'receiverOver14 is true or false');
  return {
    attemptedAt: f.attemptedAt ?? '',
    outcome: (f.outcome ?? '') as AttemptInput['outcome'],
    receiver: kind
      ? {
          kind,
          ...(f.receiverName !== undefined ? { name: f.receiverName } : {}),
          ...(f.receiverIdentityDocument !== undefined
            ? { identityDocument: f.receiverIdentityDocument }
            : {}),
          ...(f.receiverRelationship !== undefined ? { relationship: f.receiverRelationship } : {}),
          over14: f.receiverOver14 === 'true',
        }
      : null,
    notes: f.notes ?? null,
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

/** The notifications module's HTTP routes (issue 5): staff here, the seu's in notifications.seu.routes.ts. */
export function registerNotificationRoutes(app: FastifyInstance, deps: AppDeps): void {
  const p = (req: FastifyRequest) => req.params as { entity: string; id: string; key: EvidenceKey };
  const afterCommit = (req: FastifyRequest, evidence: EvidenceJobData[]) =>
    issueEvidenceAfterCommit(deps, evidence, (err, it) =>
      req.log.error({ err, ...it }, 'notification evidence not issued at once; its job will issue it'),
    );

  app.post(
    '/api/v1/entities/:entity/expedients/:id/notifications',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Notify one or more interested parties of a case file (LPACAP art. 40–42)',
        description:
          'One notification per recipient, each with its output registry entry (S), made available in the seu at once (paper ones too). `channel` defaults to the party’s preferred channel; electronic is allowed only for parties obliged (art. 14.2) or who chose it: 422 NOTIFICATION_CHANNEL_NOT_ALLOWED otherwise. Documents come from the case file’s index (422 NOTIFICATION_DOCUMENT_NOT_IN_EXPEDIENT); recipients are its parties (422 NOTIFICATION_PARTY_NOT_IN_EXPEDIENT). Electronic ones are accessible until 24:00 of the 10th calendar day after today (Europe/Madrid), then deemed rejected.',
        params: IdParams,
        body: Type.Object(
          {
            subject: Type.String({ minLength: 1, maxLength: 300 }),
            actText: Type.String({ minLength: 1, maxLength: 100000 }),
            endsAdministrativeRoute: Type.Boolean(),
            appeals: Type.Array(AppealSchema, { maxItems: 10 }),
            documentIds: Type.Array(Uuid, { maxItems: 10, uniqueItems: true }),
            recipients: Type.Array(Type.Object({ partyId: Uuid, channel: Type.Optional(Channel) }, strict), {
              minItems: 1,
              maxItems: 50,
            }),
          },
          strict,
        ),
        response: { 201: Type.Object({ items: Type.Array(NotificationSchema) }) },
      },
    },
    async (req, reply) => {
      await ensureCalendarSeededOnce(deps.db, deps.clock.now());
      const items = await inEntity(deps, req, p(req).entity, (tx, ctx) =>
        createNotifications(tx, ctx, deps, p(req).id, req.body as CreateNotificationsInput),
      );
      return reply.status(201).send({ items });
    },
  );

  app.get(
    '/api/v1/entities/:entity/expedients/:id/notifications',
    {
      schema: {
        tags: ['notifications'],
        summary: 'The notifications of a case file, newest first',
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(NotificationSchema) }) },
      },
    },
    async (req) =>
      inEntity(deps, req, p(req).entity, async (tx, ctx) => ({
        items: await listExpedientNotifications(tx, ctx, p(req).id),
      })),
  );

  app.get(
    '/api/v1/entities/:entity/notifications/:id',
    {
      schema: {
        tags: ['notifications'],
        summary: 'One notification: content, state, dates, paper attempts, evidence, publication',
        params: IdParams,
        response: { 200: NotificationSchema },
      },
    },
    async (req) => inEntity(deps, req, p(req).entity, (tx, ctx) => getNotification(tx, ctx, p(req).id)),
  );

  app.post(
    '/api/v1/entities/:entity/notifications/:id/attempts',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Record a paper delivery attempt (LPACAP art. 42.2) with its scanned acknowledgement',
        description: `multipart/form-data: text fields first — \`attemptedAt\` (ISO time with offset), \`outcome\` (delivered, absent, unknown_address, rejected), for a delivery \`receiverKind\` (party, other) and for another person \`receiverName\`, \`receiverIdentityDocument\`, \`receiverOver14=true\`, \`receiverRelationship?\`; \`notes?\` — then the \`acknowledgement\` file part (${Object.keys(ACK_TYPES).join(', ')}, at most ${ACK_MAX_BYTES / 1048576} MiB; required for delivered and rejected). A second attempt only after an absent first (409 NOTIFICATION_ATTEMPT_NOT_AFTER_ABSENCE / NOTIFICATION_ATTEMPTS_CLOSED), within the 3 business days after the first (422 NOTIFICATION_ATTEMPT_OUT_OF_TERM), in the other half of the day (422 NOTIFICATION_ATTEMPT_SAME_HALF_DAY), at least 3 hours later (422 NOTIFICATION_ATTEMPT_TOO_SOON).`,
        params: IdParams,
        consumes: ['multipart/form-data'],
        response: { 201: NotificationSchema },
      },
    },
    async (req, reply) => {
      if (!req.isMultipart())
        throw new AppError(
          'UNSUPPORTED_MEDIA_TYPE',
          'Send multipart/form-data (fields, then an `acknowledgement` part)',
        );
      const { entity, id } = p(req);
      await ensureCalendarSeededOnce(deps.db, deps.clock.now());
      const maxBytes = Math.min(ACK_MAX_BYTES, deps.config.maxUploadBytes);
      const fields: Partial<Record<AttemptField, string>> = {};
      let staged: StagedBlob | undefined;
      let fileName = '';
      let mimeType = '';
      try {
        const parts = req.parts({
          limits: {
            fileSize: maxBytes,
            files: 2,
            fields: ATTEMPT_FIELDS.length,
            fieldSize: 4 * 1024,
            parts: ATTEMPT_FIELDS.length + 2,
          },
        });
        for await (const part of parts) {
          if (part.type === 'file') {
            if (part.fieldname !== 'acknowledgement' || staged) {
              part.file.resume();
              throw new AppError('VALIDATION_FAILED', 'Send one file part, named "acknowledgement"');
            }
            try {
              // Refuse before reading a byte of the scan: bad fields, rules of art. 42.2, no role.
              const pre = toAttempt(fields);
              await inEntity(deps, req, entity, (tx, ctx) => checkAttempt(tx, ctx, id, pre, true));
              assertAckDeclaredType(part.mimetype);
            } catch (e) {
              part.file.resume();
              throw e;
            }
            staged = await deps.blobs.stage(part.file, { maxBytes });
            fileName = safeFileName(part.filename);
            mimeType = part.mimetype;
          } else {
            if (!(ATTEMPT_FIELDS as readonly string[]).includes(part.fieldname))
              throw new AppError('VALIDATION_FAILED', `Unknown field "${part.fieldname}"`);
            if (staged) throw new AppError('VALIDATION_FAILED', 'Send the text fields before the file');
            if (fields[part.fieldname as AttemptField] !== undefined)
              throw new AppError('VALIDATION_FAILED', `Field "${part.fieldname}" given twice`);
            fields[part.fieldname as AttemptField] = String(part.value);
          }
        }
        if (staged) {
          if (staged.size === 0) throw new AppError('VALIDATION_FAILED', 'The acknowledgement is empty');
          assertAckType(mimeType, await head(staged.tmpPath, 8));
        }
        const final = toAttempt(fields);
        await inEntity(deps, req, entity, (tx, ctx) =>
          checkAttempt(tx, ctx, id, final, staged !== undefined),
        );
      } catch (e) {
        if (staged) await deps.blobs.discard(staged);
        throw e;
      }
      // The scan is in the store before any row points to it.
      if (staged) await deps.blobs.commit(staged);
      const ack = staged ? { fileName, mimeType, sha256: staged.sha256, size: staged.size } : null;
      const made = await inEntity(deps, req, entity, (tx, ctx) =>
        recordAttempt(tx, ctx, deps, id, toAttempt(fields), ack),
      );
      if (made.evidence.length === 0) return reply.status(201).send(made.view);
      await afterCommit(req, made.evidence);
      return reply
        .status(201)
        .send(
          await inEntity(deps, req, entity, (tx, ctx) => getNotification(tx, ctx, id, { auditRead: false })),
        );
    },
  );

  app.post(
    '/api/v1/entities/:entity/notifications/:id/publication',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Send a failed paper notification for publication in the BOE (LPACAP art. 44)',
        description:
          'Generates the edict (a sealed PDF of the case file) identifying the person only by the full number of their identity document (LOPDGDD Additional Provision 7.2) and records it in the outbox for the BOE (state sent_for_publication). 409 NOTIFICATION_NOT_FAILED unless the notification failed (two absent attempts, or unknown address).',
        params: IdParams,
        response: { 201: NotificationSchema },
      },
    },
    async (req, reply) => {
      const { entity, id } = p(req);
      const made = await inEntity(deps, req, entity, (tx, ctx) => sendForPublication(tx, ctx, deps, id));
      await afterCommit(req, made.evidence);
      return reply
        .status(201)
        .send(
          await inEntity(deps, req, entity, (tx, ctx) => getNotification(tx, ctx, id, { auditRead: false })),
        );
    },
  );

  app.get(
    '/api/v1/entities/:entity/notifications/:id/evidence/:key',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Download the sealed evidence of an outcome (or the edict) as PDF',
        description:
          '404 NOTIFICATION_EVIDENCE_NOT_READY while it is being issued (seconds after the outcome).',
        params: EvidenceParams,
      },
    },
    async (req, reply) => {
      const { entity, id, key } = p(req);
      const doc = await inEntity(deps, req, entity, async (tx, ctx) => {
        const n = await loadForStaff(tx, ctx, id);
        const ev = await tx
          .selectFrom('notification_evidence')
          .select('document_id')
          .where('tenant_id', '=', ctx.tenant.id)
          .where('notification_id', '=', n.id)
          .where('key', '=', key)
          .executeTakeFirst();
        if (!ev) throw new AppError('NOT_FOUND', `This notification has no ${key} evidence`);
        if (!ev.document_id)
          throw new AppError(
            'NOTIFICATION_EVIDENCE_NOT_READY',
            'The evidence is being issued; retry in a moment',
          );
        return (await getDocumentRow(tx, ctx, ev.document_id))!;
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

  registerNotificationSeuRoutes(app, deps);
}
