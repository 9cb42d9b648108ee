import fsp from 'node:fs/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { requestMeta, requireUser } from '../../http/scope.ts';
import type { StagedBlob } from '#platform/blobs/blob-store.ts';
import type { Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { safeFileName } from '#modules/documents/documents.service.ts';
import { acceptInvitation, readInvitation } from '#modules/identity/invitations.service.ts';
import { findTenantById, findTenantByRef, type Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  bypassCertification,
  type ChecklistEntry,
  checklistItem,
  getChecklist,
  recordChecklistItem,
} from './checklist.service.ts';
import { inConsole } from './console-scope.ts';
import type { PlatformCtx } from './lifecycle.service.ts';
import { PROVISIONING_STEPS, provisionEntity } from './provisioning.service.ts';

const strict = { additionalProperties: false } as const;
const Nullable = <T extends ReturnType<typeof Type.String | typeof Type.Integer>>(t: T) =>
  Type.Union([t, Type.Null()]);
const RefParams = Type.Object({ ref: Type.String({ minLength: 1, maxLength: 100 }) }, strict);
const ItemParams = Type.Object(
  { ref: Type.String({ minLength: 1, maxLength: 100 }), item: Type.String({ minLength: 1, maxLength: 64 }) },
  strict,
);
const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }, strict);

const EntityRef = Type.Object({
  id: Type.String(),
  dir3: Type.String(),
  ine: Nullable(Type.String()),
  slug: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  comarca: Nullable(Type.String()),
  population: Nullable(Type.Integer()),
  status: Type.String(),
});

const ProvisionResult = Type.Object({
  entity: EntityRef,
  steps: Type.Array(
    Type.Object({
      step: Type.Union(PROVISIONING_STEPS.map((s) => Type.Literal(s))),
      done: Type.Union([Type.Literal('created'), Type.Literal('existing'), Type.Literal('pending')]),
    }),
  ),
  adminUsername: Type.String(),
  invitationSent: Type.Boolean(),
});

const Checklist = Type.Object({
  items: Type.Array(
    Type.Object({
      item: Type.String(),
      required: Type.Boolean(),
      status: Type.Union([
        Type.Literal('missing'),
        Type.Literal('document'),
        Type.Literal('fact'),
        Type.Literal('bypass'),
      ]),
      documentName: Nullable(Type.String()),
      documentSha256: Nullable(Type.String()),
      fact: Nullable(Type.String()),
      reference: Nullable(Type.String()),
      bypassReason: Nullable(Type.String()),
      recordedAt: Nullable(Type.String()),
      recordedBy: Nullable(Type.String()),
    }),
  ),
  missing: Type.Array(Type.String()),
});

/** A checklist document: a PDF of at most 10 MiB. */
export const CHECKLIST_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024;

/** Public invitation routes: a token has 256 bits, the limit only keeps the endpoint quiet. */
const INVITATION_LIMIT = { max: 30, timeWindow: '1 minute' } as const;

function entityRef(t: Tenant) {
  return {
    id: t.id,
    dir3: t.dir3,
    ine: t.ine,
    slug: t.slug,
    name: t.name,
    kind: t.kind,
    comarca: t.comarca,
    population: t.population,
    status: t.status,
  };
}

/** An entity by id, DIR3 or slug. */
async function resolveEntity(tx: Tx, ref: string): Promise<Tenant> {
  const t = /^[0-9a-f-]{36}$/.test(ref) ? await findTenantById(tx, ref) : await findTenantByRef(tx, ref);
  if (!t) throw new AppError('ENTITY_NOT_FOUND', `Entity ${ref} not found`);
  return t;
}

/** The console operator's context, without a transaction (provisioning opens its own); others 404. */
function operatorCtx(deps: AppDeps, req: FastifyRequest): PlatformCtx {
  const user = requireUser(req);
  if (!user.platformRoles.includes('operator')) throw new AppError('NOT_FOUND', 'Not found');
  return {
    actor: { kind: 'user', id: user.id, label: user.username, platformRoles: user.platformRoles },
    request: requestMeta(req),
    clock: deps.clock,
  };
}

async function isPdf(staged: StagedBlob): Promise<boolean> {
  if (staged.size < 5) return false;
  const fh = await fsp.open(staged.tmpPath, 'r');
  try {
    const head = Buffer.alloc(5);
    await fh.read(head, 0, 5, 0);
    return head.toString('latin1') === '%PDF-';
  } finally {
    await fh.close();
  }
}

/** The roll-out's provisioning routes (issue 6): provisioning, the go-live checklist, invitations. */
export function registerProvisioningRoutes(app: FastifyInstance, deps: AppDeps): void {
  const params = (req: FastifyRequest) => req.params as { ref: string; item: string; token: string };

  app.post(
    '/api/v1/console/entities/:ref/provision',
    {
      schema: {
        tags: ['console'],
        summary: 'Provision an entity (idempotent: creates or completes what is missing, never duplicates)',
        description:
          'Operator. For an entity `scheduled` (→ `provisioning`, then `pilot` when every step is done) or `provisioning`; on `pilot` or `live` it completes what is missing. Steps: codes, administrator, invitation, calendar, units, positions, settings, seal, checklist — each `created`, `existing`, or `pending` (the seal in production until the operator imports it). The first administrator defaults to the secretary of the accepted enrolment request. 409 PROVISIONING_NOT_ALLOWED in other states.',
        params: RefParams,
        // Per content type: the body may be left out (every field has a default).
        body: {
          content: {
            'application/json': {
              schema: Type.Object(
                {
                  adminName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
                  adminEmail: Type.Optional(Type.String({ minLength: 3, maxLength: 320 })),
                  adminUsername: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9._@-]{1,63}$' })),
                },
                strict,
              ),
            },
          },
        },
        response: { 200: ProvisionResult },
      },
    },
    async (req) => {
      const ctx = operatorCtx(deps, req);
      const body = (req.body ?? {}) as { adminName?: string; adminEmail?: string; adminUsername?: string };
      const result = await provisionEntity(deps, params(req).ref, ctx, body);
      return { ...result, entity: entityRef(result.entity) };
    },
  );

  app.get(
    '/api/v1/console/entities/:ref/checklist',
    {
      schema: {
        tags: ['console'],
        summary:
          'The go-live checklist of an entity: each item a document, a recorded fact or (certification) a bypass',
        params: RefParams,
        response: { 200: Checklist },
      },
    },
    async (req) =>
      inConsole(deps, req, ['operator'], async (tx) => {
        const entity = await resolveEntity(tx, params(req).ref);
        return getChecklist(tx, entity.id);
      }),
  );

  app.put(
    '/api/v1/console/entities/:ref/checklist/:item',
    {
      schema: {
        tags: ['console'],
        summary: 'Record a go-live checklist item as a fact (JSON) or a document (multipart PDF)',
        description:
          'JSON `{fact, reference?}`, or multipart/form-data with an optional `reference` field and then the `document` part (a PDF, at most 10 MiB; stored, its SHA-256 kept). Replaces what was recorded (audited with the previous entry). 422 CHECKLIST_ITEM_UNKNOWN for an item not on the list; `certification` is bypassed, not recorded here.',
        params: ItemParams,
        consumes: ['application/json', 'multipart/form-data'],
        body: {
          content: {
            'application/json': {
              schema: Type.Object(
                {
                  fact: Type.String({ minLength: 1, maxLength: 2000 }),
                  reference: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
                },
                strict,
              ),
            },
          },
        },
        response: { 200: Checklist },
      },
    },
    async (req) => {
      const ctx = operatorCtx(deps, req);
      const { ref, item } = params(req);
      checklistItem(item); // refuse an unknown item before reading any file
      let entry: ChecklistEntry;
      let staged: StagedBlob | undefined;
      if (req.isMultipart()) {
        let reference: string | undefined;
        let name = '';
        try {
          for await (const part of req.parts()) {
            if (part.type === 'file') {
              if (part.fieldname !== 'document' || staged) {
                part.file.resume();
                throw new AppError(
                  'VALIDATION_FAILED',
                  `Unexpected file part "${part.fieldname}": send one part named "document"`,
                );
              }
              staged = await deps.blobs.stage(part.file, { maxBytes: CHECKLIST_DOCUMENT_MAX_BYTES });
              name = safeFileName(part.filename);
            } else {
              if (part.fieldname !== 'reference')
                throw new AppError('VALIDATION_FAILED', `Unknown field "${part.fieldname}"`);
              reference = String(part.value);
            }
          }
          if (!staged) throw new AppError('VALIDATION_FAILED', 'The `document` part is missing');
          if (!(await isPdf(staged)))
            throw new AppError('FILE_TYPE_NOT_ACCEPTED', 'A checklist document must be a PDF');
        } catch (e) {
          if (staged) await deps.blobs.discard(staged);
          throw e;
        }
        // The file is in the store before any row points at it.
        await deps.blobs.commit(staged);
        entry = { kind: 'document', sha256: staged.sha256, name, reference: reference ?? null };
      } else {
        const body = req.body as { fact: string; reference?: string | null };
        entry = { kind: 'fact', fact: body.fact, reference: body.reference ?? null };
      }
      return deps.db.platform(async (tx) => {
        const entity = await resolveEntity(tx, ref);
        return recordChecklistItem(tx, ctx, entity, item, entry);
      });
    },
  );

  app.post(
    '/api/v1/console/entities/:ref/checklist/certification/bypass',
    {
      schema: {
        tags: ['console'],
        summary: 'Bypass the certification gate, with a written reason (audited checklist.bypass)',
        description: '422 BYPASS_REASON_REQUIRED when the reason is missing or blank.',
        params: RefParams,
        // Per content type, so that a request without a body is answered BYPASS_REASON_REQUIRED too.
        body: {
          content: {
            'application/json': {
              schema: Type.Object(
                { reason: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))) },
                strict,
              ),
            },
          },
        },
        response: { 200: Checklist },
      },
    },
    async (req) => {
      const { reason } = (req.body ?? {}) as { reason?: string | null };
      return inConsole(deps, req, ['operator'], async (tx, ctx) => {
        const entity = await resolveEntity(tx, params(req).ref);
        return bypassCertification(tx, ctx, entity, reason);
      });
    },
  );

  // ---------------------------------------------------------------- invitations (public)

  app.get(
    '/api/v1/invitations/:token',
    {
      config: { public: true, rateLimit: INVITATION_LIMIT },
      schema: {
        tags: ['session'],
        summary:
          'What an invitation link is for (the user and the entity); 404 INVITATION_INVALID if used, expired or unknown',
        params: TokenParams,
        response: {
          200: Type.Object({
            username: Type.String(),
            name: Type.String(),
            entityName: Nullable(Type.String()),
          }),
        },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return deps.db.platform((tx) => readInvitation(tx, params(req).token, deps.clock.now()));
    },
  );

  app.post(
    '/api/v1/invitations/:token',
    {
      config: { public: true, rateLimit: INVITATION_LIMIT },
      schema: {
        tags: ['session'],
        summary: 'Set the password through an invitation link (once); then log in and enrol TOTP',
        params: TokenParams,
        body: Type.Object({ password: Type.String({ maxLength: 256 }) }, strict),
        response: { 200: Type.Object({ username: Type.String() }) },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      const { password } = req.body as { password: string };
      return deps.db.platform((tx) =>
        acceptInvitation(tx, { request: requestMeta(req), clock: deps.clock }, params(req).token, password),
      );
    },
  );
}
