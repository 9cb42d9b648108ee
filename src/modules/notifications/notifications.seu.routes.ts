import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '#src/app.ts';
import { AppError } from '#platform/errors.ts';
import type { Acting } from '#modules/citizens/citizens.model.ts';
import { inSeu } from '#modules/citizens/seu-scope.ts';
import { contentDisposition } from '#modules/documents/documents.service.ts';
import { issueEvidenceAfterCommit } from './evidence.service.ts';
import {
  accessNotification,
  getMyNotification,
  getMyNotifiedDocument,
  listMyNotifications,
  rejectNotification,
} from './notifications.service.ts';

const strict = { additionalProperties: false } as const;
const Slug = Type.String({ minLength: 1, maxLength: 100 });
const Id = Type.String({ maxLength: 64 });
const SlugParams = Type.Object({ slug: Slug }, strict);
const IdParams = Type.Object({ slug: Slug, id: Id }, strict);
const DocParams = Type.Object({ slug: Slug, id: Id, docId: Id }, strict);
const Query = Type.Object({ onBehalfOf: Type.Optional(Type.String({ maxLength: 20 })) }, strict);
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const Summary = Type.Object({
  id: Type.String(),
  sender: Type.Object({ name: Type.String(), dir3: Type.String() }),
  subject: Type.String(),
  reference: Type.Object({ registryNumber: Type.String(), expedientNumber: Type.String() }),
  channel: Type.String(),
  state: Type.String(),
  madeAvailableAt: Type.String(),
  availableUntil: Nullable(Type.String()),
  notifiedAt: Nullable(Type.String()),
  accessedAt: Nullable(Type.String()),
});
const Content = Type.Object({
  ...Summary.properties,
  actText: Type.String(),
  endsAdministrativeRoute: Type.Boolean(),
  appeals: Type.Array(Type.Object({ appeal: Type.String(), body: Type.String(), term: Type.String() })),
  documents: Type.Array(
    Type.Object({
      documentId: Type.String(),
      title: Type.String(),
      fileName: Type.String(),
      mimeType: Type.String(),
      size: Type.Integer(),
      sha256: Type.String(),
    }),
  ),
});

function need(acting: Acting | null): Acting {
  if (!acting) throw new AppError('CITIZEN_LOGIN_REQUIRED', 'Log in to the seu first');
  return acting;
}

/**
 * "My notifications" in an entity's seu (LPACAP art. 41–43), for the logged-in citizen or, with
 * `onBehalfOf`, the person they represent under a general power in force. Before access only the
 * sender, subject, reference and dates are shown; access shows the act and records the time.
 */
export function registerNotificationSeuRoutes(app: FastifyInstance, deps: AppDeps): void {
  const p = (req: FastifyRequest) => req.params as { slug: string; id: string; docId: string };
  const q = (req: FastifyRequest) => req.query as { onBehalfOf?: string };
  const seu = <T>(req: FastifyRequest, fn: Parameters<typeof inSeu<T>>[4]) =>
    inSeu<T>(deps, req, p(req).slug, { onBehalfOf: q(req).onBehalfOf, requireCitizen: true }, fn);

  app.get(
    '/api/v1/seu/:slug/notifications',
    {
      schema: {
        tags: ['seu'],
        summary: 'My notifications in this entity: sender, subject, reference and dates (never the content)',
        params: SlugParams,
        querystring: Query,
        response: { 200: Type.Object({ items: Type.Array(Summary) }) },
      },
    },
    async (req) =>
      seu(req, async (tx, ctx, acting) => ({ items: await listMyNotifications(tx, ctx, need(acting)) })),
  );

  app.get(
    '/api/v1/seu/:slug/notifications/:id',
    {
      schema: {
        tags: ['seu'],
        summary: 'One of my notifications: its summary until accessed, its content after',
        params: IdParams,
        querystring: Query,
        response: { 200: Type.Union([Content, Summary]) },
      },
    },
    async (req) => seu(req, (tx, ctx, acting) => getMyNotification(tx, ctx, need(acting), p(req).id)),
  );

  app.post(
    '/api/v1/seu/:slug/notifications/:id/access',
    {
      schema: {
        tags: ['seu'],
        summary:
          'Access a notification: shows its content and records the time (this is the notification, art. 43.2)',
        description:
          '409 NOTIFICATION_EXPIRED after 24:00 of the 10th calendar day (deemed rejected); 409 NOTIFICATION_REJECTED after a rejection. Someone else’s notification: 404.',
        params: IdParams,
        querystring: Query,
        response: { 200: Content },
      },
    },
    async (req) => {
      const out = await seu(req, (tx, ctx, acting) =>
        accessNotification(tx, ctx, deps, need(acting), p(req).id),
      );
      await issueEvidenceAfterCommit(deps, out.evidence, (err, it) =>
        req.log.error({ err, ...it }, 'notification evidence not issued at once; its job will issue it'),
      );
      return out.result;
    },
  );

  app.post(
    '/api/v1/seu/:slug/notifications/:id/reject',
    {
      schema: {
        tags: ['seu'],
        summary: 'Reject a notification (art. 41.5: it counts as notified and the procedure goes on)',
        params: IdParams,
        querystring: Query,
        response: { 200: Summary },
      },
    },
    async (req) => {
      const out = await seu(req, (tx, ctx, acting) =>
        rejectNotification(tx, ctx, deps, need(acting), p(req).id),
      );
      await issueEvidenceAfterCommit(deps, out.evidence, (err, it) =>
        req.log.error({ err, ...it }, 'notification evidence not issued at once; its job will issue it'),
      );
      return out.result;
    },
  );

  app.get(
    '/api/v1/seu/:slug/notifications/:id/documents/:docId',
    {
      schema: {
        tags: ['seu'],
        summary:
          'Download a notified document (after accessing the notification; 409 NOTIFICATION_NOT_ACCESSED before)',
        params: DocParams,
        querystring: Query,
      },
    },
    async (req, reply) => {
      const doc = await seu(req, (tx, ctx, acting) =>
        getMyNotifiedDocument(tx, ctx, need(acting), p(req).id, p(req).docId),
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
