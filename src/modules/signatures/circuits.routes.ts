import fs from 'node:fs/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { inEntity, requestMeta, requireUser } from '../../http/scope.ts';
import type { StagedBlob } from '#platform/blobs/blob-store.ts';
import { AppError } from '#platform/errors.ts';
import { loadTrustAnchors } from './trusted-cas.service.ts';
import { listReminders, remindSigners } from './reminders.service.ts';
import { MAX_DETACHED_UPLOAD_BYTES, nifOfCertificate, verifyUploadedSignature } from './circuits.upload.ts';
import { contentDisposition, safeFileName, safeMimeType } from '#modules/documents/documents.service.ts';
import {
  cancelCircuit,
  checkConfirmation,
  checkDraftReplaceable,
  circuitView,
  listDetachedSignatures,
  pendingSignatures,
  planCircuit,
  planSignature,
  readDraftContent,
  recordAct,
  recordRefusal,
  rejectCircuit,
  replaceDraftContent,
  type CircuitHooks,
  type ResolutionRequest,
  type StepInput,
  startCircuit,
} from './circuits.service.ts';
import { ConfirmationRefused, cscSigner, preparePdf, signTurnContent } from './circuits.signing.ts';

const strict = { additionalProperties: false } as const;
const IdParams = Type.Object(
  { entity: Type.String({ minLength: 2, maxLength: 100 }), id: Type.String({ maxLength: 64 }) },
  strict,
);
const Signer = Type.Union([
  Type.String({ maxLength: 64, description: 'a user id' }),
  Type.Object({ positionId: Type.String({ maxLength: 64 }) }, strict),
]);
const CircuitBody = Type.Object(
  {
    steps: Type.Array(
      Type.Object(
        {
          kind: Type.Union([Type.Literal('sign'), Type.Literal('vistiplau'), Type.Literal('review')]),
          mode: Type.Union([Type.Literal('all'), Type.Literal('any')]),
          signers: Type.Array(Signer, { minItems: 1, maxItems: 20 }),
        },
        strict,
      ),
      { minItems: 1, maxItems: 20 },
    ),
    resolution: Type.Optional(
      Type.Object(
        {
          summary: Type.String({
            minLength: 1,
            maxLength: 1000,
            description: "the decree's summary, as the book lists it",
          }),
        },
        strict,
      ),
    ),
  },
  strict,
);
const ConfirmBody = Type.Object(
  {
    totp: Type.Optional(Type.String({ maxLength: 16 })),
    password: Type.Optional(Type.String({ maxLength: 256 })),
  },
  strict,
);
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const CircuitView = Type.Object({
  id: Type.String(),
  documentId: Type.String(),
  expedientId: Type.String(),
  state: Type.String({ description: 'active | completed | rejected | cancelled' }),
  documentState: Type.String({ description: 'draft | in_circuit | final | rejected | cancelled' }),
  currentStep: Type.Integer(),
  createdBy: Type.String(),
  createdAt: Type.String(),
  finishedAt: Nullable(Type.String()),
  finishReason: Nullable(Type.String()),
  format: Type.String({
    description: 'PAdES (signatures in the PDF) | CAdES | XAdES (detached signature files)',
  }),
  sha256: Type.String(),
  steps: Type.Array(
    Type.Object({
      step: Type.Integer(),
      kind: Type.String(),
      mode: Type.String(),
      signers: Type.Array(
        Type.Object({
          userId: Nullable(Type.String()),
          positionId: Nullable(Type.String()),
          action: Nullable(Type.String()),
          actedBy: Nullable(Type.String()),
          actedAt: Nullable(Type.String()),
          position: Nullable(Type.String()),
          bySubstitution: Type.Union([Type.Boolean(), Type.Null()]),
          reason: Nullable(Type.String()),
          version: Type.Union([Type.Integer(), Type.Null()]),
          method: Type.Union([Type.Literal('csc'), Type.Literal('upload'), Type.Null()], {
            description: 'how the signature was made: csc (signing service) or upload (signed elsewhere)',
          }),
        }),
      ),
    }),
  ),
});

/**
 * The circuit hooks another module adds (src/routes.ts wires the resolutions book's), plus
 * `afterSigned`: work after the recording transaction commits (the decree's stamp); its failure
 * does not undo the signature (its job completes it).
 */
export type CircuitRouteHooks = CircuitHooks & {
  afterSigned?: (tenantId: string, documentId: string) => Promise<void>;
};

export function registerCircuitRoutes(
  app: FastifyInstance,
  deps: AppDeps,
  hooks: CircuitRouteHooks = {},
): void {
  const p = (req: FastifyRequest) => req.params as { entity: string; id: string };
  const base = '/api/v1/entities/:entity/documents/:id';

  app.post(
    `${base}/circuit`,
    {
      schema: {
        tags: ['signatures'],
        summary: 'Start the signature circuit of a draft',
        description:
          'Steps run in order; `mode` all = every signer acts, any = one of them. Signers are user ids or `{positionId}` (signed by the acting holder, "per substitució" when a substitute acts). `vistiplau` needs the mayor/president. The format follows the draft: a PDF is prepared once with a signature page and one stamp area per signature to come (review steps add none) and signed in PAdES; an XML file is signed in XAdES detached and any other file in CAdES detached, each signature its own file (`GET …/signatures`). A resolution must be a PDF (422 CIRCUIT_FORMAT_UNSUPPORTED).',
        params: IdParams,
        body: CircuitBody,
        response: { 201: CircuitView },
      },
    },
    async (req, reply) => {
      const { entity, id } = p(req);
      const body = req.body as { steps: StepInput[]; resolution?: ResolutionRequest };
      const steps = body.steps;
      const resolution = body.resolution ?? null;
      const plan = await inEntity(deps, req, entity, (tx, ctx) =>
        planCircuit(tx, ctx, id, steps, resolution, hooks),
      );
      let stored: { sha256: string; size: number };
      if (plan.format === 'PAdES') {
        const draft = await deps.blobs.readVerified(plan.baseSha256);
        const title = await inEntity(
          deps,
          req,
          entity,
          async (tx, ctx) => (await readDraftContent(tx, ctx, id)).title,
        );
        const prepared = await preparePdf(draft, plan.slots, title);
        stored = await deps.blobs.put(prepared); // the file before the rows
      } else {
        // CAdES/XAdES: the draft's bytes are what every signer signs; nothing is prepared.
        const draft = await inEntity(deps, req, entity, (tx, ctx) => readDraftContent(tx, ctx, id));
        stored = { sha256: draft.sha256, size: Number(draft.size_bytes) };
      }
      const view = await inEntity(deps, req, entity, (tx, ctx) =>
        startCircuit(tx, ctx, id, steps, { baseSha256: plan.baseSha256, ...stored }, resolution, hooks),
      );
      return reply.status(201).send(view);
    },
  );

  app.get(
    `${base}/circuit`,
    {
      schema: {
        tags: ['signatures'],
        summary: "A draft's signature circuit",
        params: IdParams,
        response: { 200: CircuitView },
      },
    },
    async (req) => inEntity(deps, req, p(req).entity, (tx, ctx) => circuitView(tx, ctx, p(req).id)),
  );

  app.post(
    `${base}/sign`,
    {
      schema: {
        tags: ['signatures'],
        summary: 'Sign (or, on a review step, confirm) the document whose turn is yours',
        description:
          'A fresh second factor every time: `totp`; in demo mode a user without TOTP sends `password`. 409 SIGNATURE_NOT_YOUR_TURN when it is not your turn. Signs through your CSC credential: in a PAdES circuit a PAdES-B-B signature appended as an incremental update, "<act> — <position>" in /Reason; in a CAdES/XAdES circuit a detached `.p7s`/`.xsig` over the document\'s bytes. To sign elsewhere instead, see `POST …/sign/upload`. The last act makes the document final and incorporates it into the case file index.',
        params: IdParams,
        body: ConfirmBody,
        response: { 200: CircuitView },
      },
    },
    async (req) => {
      const { entity, id } = p(req);
      const user = requireUser(req);
      const body = req.body as { totp?: string; password?: string };
      const allowPassword = deps.config.env !== 'production';
      const turn = await inEntity(deps, req, entity, (tx, ctx) => planSignature(tx, ctx, id, hooks));
      const refuse = async (code: ConfirmationRefused['code']): Promise<never> => {
        await inEntity(deps, req, entity, (tx, ctx) => recordRefusal(tx, ctx, id, code));
        throw new AppError(
          code,
          code === 'INVALID_CREDENTIALS'
            ? 'The password is wrong'
            : 'The TOTP code is wrong, missing or already used',
        );
      };
      if (turn.kind === 'review') {
        const outcome = await inEntity(deps, req, entity, async (tx, ctx) => {
          const check = await checkConfirmation(tx, ctx, body, allowPassword);
          if (!check.ok) return check;
          return { ok: true as const, view: await recordAct(tx, ctx, id, turn, null, hooks) };
        });
        if (!outcome.ok) return refuse(outcome.code);
        return outcome.view;
      }
      const current = await deps.blobs.readVerified(turn.baseSha256);
      const who = { userId: user.id, label: user.username, request: requestMeta(req) };
      const signer = await cscSigner(deps, who, body);
      const now = deps.clock.now();
      const tenant = await inEntity(deps, req, entity, async (_tx, ctx) => ctx.tenant);
      let signed: Buffer;
      try {
        signed = await signTurnContent(current, turn, signer, tenant, now);
      } catch (e) {
        if (e instanceof ConfirmationRefused) return refuse(e.code);
        throw e;
      }
      const stored = await deps.blobs.put(signed); // each version is its own blob; none is overwritten
      const view = await inEntity(deps, req, entity, (tx, ctx) =>
        recordAct(tx, ctx, id, turn, { ...stored, method: 'csc' }, hooks),
      );
      if (hooks.afterSigned)
        await hooks.afterSigned(tenant.id, id).catch((e: unknown) => {
          req.log.error({ err: e, documentId: id }, 'after-signature work failed; its job completes it');
        });
      return view;
    },
  );

  app.post(
    `${base}/sign/upload`,
    {
      schema: {
        tags: ['signatures'],
        summary: 'Sign elsewhere and upload the result (the document whose turn is yours)',
        description:
          'Multipart: one `file` part and the fields `totp` (or, in demo mode for a user without TOTP, `password`). In a PAdES circuit the file is the current draft (`GET …/draft/content`) with exactly one signature appended as an incremental update in your field; in a CAdES/XAdES circuit it is a detached `.p7s` or `.xsig` over the document\u2019s exact bytes (at most 1 MiB). Verified on arrival: 422 SIGNATURE_UPLOAD_NOT_APPENDED (not the draft signed once in your field), SIGNATURE_UPLOAD_INVALID (unreadable, wrong kind, integrity invalid), SIGNATURE_UNTRUSTED (the certificate does not chain to a CA this installation trusts, or is expired/revoked), SIGNATURE_SIGNER_MISMATCH (the certificate does not carry your NIF, or you have none recorded). Then the second factor, as for any act.',
        params: IdParams,
        consumes: ['multipart/form-data'],
        response: { 200: CircuitView },
      },
    },
    async (req) => {
      if (!req.isMultipart())
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send multipart/form-data with a `file` part');
      const { entity, id } = p(req);
      const user = requireUser(req);
      const allowPassword = deps.config.env !== 'production';
      const { turn, tenantId } = await inEntity(deps, req, entity, async (tx, ctx) => ({
        turn: await planSignature(tx, ctx, id, hooks),
        tenantId: ctx.tenant.id,
      }));
      if (turn.kind === 'review')
        throw new AppError(
          'VALIDATION_FAILED',
          'A review step adds no signature: confirm it with POST …/sign',
        );
      const maxBytes = turn.format === 'PAdES' ? deps.config.maxUploadBytes : MAX_DETACHED_UPLOAD_BYTES;
      const factor: { totp?: string; password?: string } = {};
      let staged: StagedBlob | undefined;
      let committed = false;
      try {
        for await (const part of req.parts()) {
          if (part.type === 'field') {
            if (
              (part.fieldname === 'totp' || part.fieldname === 'password') &&
              typeof part.value === 'string'
            )
              factor[part.fieldname] = part.value.slice(0, 256);
            else throw new AppError('VALIDATION_FAILED', `Unexpected field "${part.fieldname}"`);
            continue;
          }
          if (part.fieldname !== 'file' || staged) {
            part.file.resume();
            throw new AppError('VALIDATION_FAILED', 'Send exactly one file part, named "file"');
          }
          staged = await deps.blobs.stage(part.file, { maxBytes });
        }
        if (!staged || staged.size === 0)
          throw new AppError('VALIDATION_FAILED', 'The file is missing or empty');
        const uploaded = await fs.readFile(staged.tmpPath);
        const current = await deps.blobs.readVerified(turn.baseSha256);
        const nif = await deps.db.platform(
          async (tx) =>
            (await tx.selectFrom('users').select('nif').where('id', '=', user.id).executeTakeFirst())?.nif ??
            null,
        );
        const now = deps.clock.now();
        let report: Awaited<ReturnType<typeof verifyUploadedSignature>>['report'];
        try {
          ({ report } = await verifyUploadedSignature(current, uploaded, turn, nif, {
            anchors: await loadTrustAnchors(deps.db),
            now,
          }));
        } catch (e) {
          if (e instanceof AppError)
            await inEntity(deps, req, entity, (tx, ctx) =>
              recordRefusal(tx, ctx, id, e.code, { upload: staged!.sha256, problem: e.message }),
            );
          throw e;
        }
        const check = await inEntity(deps, req, entity, (tx, ctx) =>
          checkConfirmation(tx, ctx, factor, allowPassword),
        );
        if (!check.ok) {
          await inEntity(deps, req, entity, (tx, ctx) => recordRefusal(tx, ctx, id, check.code));
          throw new AppError(
            check.code,
            check.code === 'INVALID_CREDENTIALS'
              ? 'The password is wrong'
              : 'The TOTP code is wrong, missing or already used',
          );
        }
        await deps.blobs.commit(staged); // the file before the rows
        committed = true;
        const s = staged;
        const view = await inEntity(deps, req, entity, (tx, ctx) =>
          recordAct(
            tx,
            ctx,
            id,
            turn,
            {
              sha256: s.sha256,
              size: s.size,
              method: 'upload',
              certificate: {
                subject: report.certificate?.subject ?? '',
                issuer: report.certificate?.issuer ?? '',
                fingerprintSha256: report.certificate?.fingerprintSha256 ?? '',
                nif: nifOfCertificate(report.signerFacts)[0] ?? null,
              },
            },
            hooks,
          ),
        );
        if (hooks.afterSigned)
          await hooks.afterSigned(tenantId, id).catch((e: unknown) => {
            req.log.error({ err: e, documentId: id }, 'after-signature work failed; its job completes it');
          });
        return view;
      } finally {
        if (staged && !committed) await deps.blobs.discard(staged);
      }
    },
  );

  app.get(
    `${base}/signatures`,
    {
      schema: {
        tags: ['signatures'],
        summary: "A document's detached signatures (CAdES/XAdES circuits), oldest first",
        params: IdParams,
        response: {
          200: Type.Array(
            Type.Object({
              id: Type.String(),
              format: Type.String({ description: 'CAdES (.p7s) | XAdES (.xsig)' }),
              method: Type.String({ description: 'csc | upload' }),
              fileName: Type.String(),
              sha256: Type.String(),
              size: Type.Integer(),
              contentSha256: Type.String({ description: 'SHA-256 of the document bytes it signs' }),
              step: Type.Integer(),
              signedBy: Type.String(),
              position: Nullable(Type.String()),
              bySubstitution: Type.Boolean(),
              createdAt: Type.String(),
            }),
          ),
        },
      },
    },
    async (req) =>
      inEntity(deps, req, p(req).entity, (tx, ctx) => listDetachedSignatures(tx, ctx, p(req).id)),
  );

  app.get(
    `${base}/signatures/:signatureId`,
    {
      schema: {
        tags: ['signatures'],
        summary: 'A detached signature file (`.p7s` DER, or `.xsig`)',
        params: Type.Object(
          {
            entity: Type.String({ minLength: 2, maxLength: 100 }),
            id: Type.String({ maxLength: 64 }),
            signatureId: Type.String({ maxLength: 64 }),
          },
          strict,
        ),
      },
    },
    async (req, reply) => {
      const { entity, id, signatureId } = req.params as { entity: string; id: string; signatureId: string };
      const sig = (await inEntity(deps, req, entity, (tx, ctx) => listDetachedSignatures(tx, ctx, id))).find(
        (x) => x.id === signatureId,
      );
      if (!sig) throw new AppError('NOT_FOUND', 'No such signature of this document');
      return reply
        .header('content-type', sig.format === 'XAdES' ? 'application/xml' : 'application/pkcs7-signature')
        .header('content-disposition', contentDisposition(sig.fileName))
        .header('cache-control', 'private, no-store')
        .header('x-content-sha256', sig.sha256)
        .send(await deps.blobs.readVerified(sig.sha256));
    },
  );

  app.post(
    `${base}/reject`,
    {
      schema: {
        tags: ['signatures'],
        summary: 'Reject the document whose turn is yours: the circuit stops',
        params: IdParams,
        body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 2000 }) }, strict),
        response: { 200: CircuitView },
      },
    },
    async (req) =>
      inEntity(deps, req, p(req).entity, (tx, ctx) =>
        rejectCircuit(tx, ctx, p(req).id, (req.body as { reason: string }).reason),
      ),
  );

  app.post(
    `${base}/circuit/cancel`,
    {
      schema: {
        tags: ['signatures'],
        summary: 'Cancel an active circuit (its creator only)',
        params: IdParams,
        body: Type.Optional(Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000 })) }, strict)),
        response: { 200: CircuitView },
      },
    },
    async (req) =>
      inEntity(deps, req, p(req).entity, (tx, ctx) =>
        cancelCircuit(tx, ctx, p(req).id, (req.body as { reason?: string } | undefined)?.reason ?? null),
      ),
  );

  const Reminder = Type.Object({
    id: Type.String(),
    step: Type.Integer(),
    kind: Type.Union([Type.Literal('manual'), Type.Literal('automatic')]),
    recipients: Type.Array(Type.String()),
    at: Type.String(),
  });
  app.post(
    `${base}/circuit/remind`,
    {
      schema: {
        tags: ['signatures'],
        summary:
          "Remind the current step's pending signers (the circuit's creator or an administrator; at most once a day per step)",
        params: IdParams,
        response: { 201: Reminder },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(
          await inEntity(deps, req, p(req).entity, (tx, ctx) => remindSigners(tx, ctx, p(req).id, 'manual')),
        ),
  );
  app.get(
    `${base}/circuit/reminders`,
    {
      schema: {
        tags: ['signatures'],
        summary: "The circuit's reminders, manual and automatic, oldest first",
        params: IdParams,
        response: { 200: Type.Array(Reminder) },
      },
    },
    async (req) => inEntity(deps, req, p(req).entity, (tx, ctx) => listReminders(tx, ctx, p(req).id)),
  );

  app.get(
    `${base}/draft/content`,
    {
      schema: {
        tags: ['signatures'],
        summary: "A draft's current content (what the next signer signs)",
        params: IdParams,
      },
    },
    async (req, reply) => {
      const doc = await inEntity(deps, req, p(req).entity, (tx, ctx) => readDraftContent(tx, ctx, p(req).id));
      return reply
        .header('content-type', doc.mime_type)
        .header('content-disposition', contentDisposition(doc.file_name))
        .header('cache-control', 'private, no-store')
        .header('x-content-sha256', doc.sha256)
        .send(await deps.blobs.readVerified(doc.sha256));
    },
  );

  app.put(
    `${base}/content`,
    {
      schema: {
        tags: ['signatures'],
        summary: "Replace a draft's content (multipart `file`) until its circuit starts",
        params: IdParams,
        consumes: ['multipart/form-data'],
      },
    },
    async (req) => {
      if (!req.isMultipart())
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send multipart/form-data with a `file` part');
      const { entity, id } = p(req);
      await inEntity(deps, req, entity, (tx, ctx) => checkDraftReplaceable(tx, ctx, id));
      let staged: StagedBlob | undefined;
      let fileName = '';
      let mimeType = '';
      try {
        for await (const part of req.parts()) {
          if (part.type !== 'file' || part.fieldname !== 'file' || staged) {
            if (part.type === 'file') part.file.resume();
            throw new AppError('VALIDATION_FAILED', 'Send exactly one part, named "file"');
          }
          staged = await deps.blobs.stage(part.file, { maxBytes: deps.config.maxUploadBytes });
          fileName = safeFileName(part.filename);
          mimeType = safeMimeType(part.mimetype);
        }
        if (!staged || staged.size === 0)
          throw new AppError('VALIDATION_FAILED', 'The file is missing or empty');
      } catch (e) {
        if (staged) await deps.blobs.discard(staged);
        throw e;
      }
      await deps.blobs.commit(staged);
      const s = staged;
      return inEntity(deps, req, entity, (tx, ctx) =>
        replaceDraftContent(tx, ctx, id, { sha256: s.sha256, size: s.size, fileName, mimeType }),
      );
    },
  );

  app.get(
    '/api/v1/me/signatures/pending',
    {
      schema: {
        tags: ['signatures'],
        summary: 'Your pending signatures across entities (the signature inbox)',
      },
    },
    async (req) => {
      const user = requireUser(req);
      return deps.db.platform((tx) => pendingSignatures(tx, user.id));
    },
  );
}
