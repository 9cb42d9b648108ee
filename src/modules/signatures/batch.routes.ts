import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { inEntity, requestMeta, requireUser } from '../../http/scope.ts';
import { splitPemCertificates } from '#platform/crypto/certs.ts';
import { AppError } from '#platform/errors.ts';
import type { Signer } from '#platform/pdf/signer.ts';
import { checkConfirmation, planSignature, recordAct, recordRefusal, type Turn } from './circuits.service.ts';
import type { CircuitRouteHooks } from './circuits.routes.ts';
import { ConfirmationRefused, signTurnContent } from './circuits.signing.ts';
import { LocalCscService, MULTISIGN } from './csc/csc.local.ts';
import { OID } from './csc/csc.types.ts';

/**
 * Batch signing from the inbox (issue 4: "a batch asks once"). The second factor is checked once:
 * every document's digest is computed first, then ONE CSC `credentials/authorize` lists all of
 * them (the local service's `multisign`), and one `signatures/signHash` signs them. Each document
 * is then recorded in its own entity's transaction, so one failure does not stop the others.
 * Review steps in the batch are confirmed by the same authorisation (or, when the batch has only
 * review steps, by one check of the factor).
 */

const strict = { additionalProperties: false } as const;

const BatchBody = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        {
          entity: Type.String({ minLength: 2, maxLength: 100 }),
          documentId: Type.String({ maxLength: 64 }),
        },
        strict,
      ),
      { minItems: 1, maxItems: MULTISIGN },
    ),
    totp: Type.Optional(Type.String({ maxLength: 16 })),
    password: Type.Optional(Type.String({ maxLength: 256 })),
  },
  strict,
);

const BatchResult = Type.Object({
  entity: Type.String(),
  documentId: Type.String(),
  ok: Type.Boolean(),
  /** The circuit's state after the act when ok (active | completed). */
  state: Type.Union([Type.String(), Type.Null()]),
  code: Type.Union([Type.String(), Type.Null()]),
  message: Type.Union([Type.String(), Type.Null()]),
});

type Item = { entity: string; documentId: string };
type Factor = { totp?: string | undefined; password?: string | undefined };
type Result = {
  entity: string;
  documentId: string;
  ok: boolean;
  state: string | null;
  code: string | null;
  message: string | null;
};
type Planned = { index: number; turn: Turn; tenant: { id: string; name: string; dir3: string } };
type Waiter = { hash: string; resolve: (sig: Buffer) => void; reject: (e: unknown) => void };

const refusalMessage = (code: ConfirmationRefused['code']) =>
  code === 'INVALID_CREDENTIALS'
    ? 'The password is wrong'
    : 'The TOTP code is wrong, missing or already used';

/**
 * A signer per document whose `signDigest` waits until every document of the batch has asked for
 * its digest (or failed before), then authorises all digests at once and signs them together.
 */
class BatchAuthorisation {
  #waiting: number;
  #waiters: Waiter[] = [];
  #fired = false;
  /** 'ok' once the CSC service accepted the factor; the refusal's code when it did not. */
  outcome: 'ok' | ConfirmationRefused['code'] | null = null;
  readonly #csc: LocalCscService;
  readonly #credentialId: string;
  readonly #factor: Factor;

  constructor(csc: LocalCscService, credentialId: string, factor: Factor, expected: number) {
    this.#csc = csc;
    this.#credentialId = credentialId;
    this.#factor = factor;
    this.#waiting = expected;
  }

  signer(certificatePem: string, chainPem: string): Signer {
    return {
      certificatePem,
      chainPem,
      signDigest: (digest: Buffer) =>
        new Promise<Buffer>((resolve, reject) => {
          this.#waiters.push({ hash: digest.toString('base64'), resolve, reject });
          this.#maybeFire();
        }),
    };
  }

  /** A document failed before asking for its digest: the batch no longer waits for it. */
  dropOne(): void {
    this.#waiting -= 1;
    this.#maybeFire();
  }

  #maybeFire(): void {
    if (this.#fired || this.#waiters.length < this.#waiting || this.#waiters.length === 0) return;
    this.#fired = true;
    void this.#fire();
  }

  async #fire(): Promise<void> {
    const waiters = this.#waiters;
    const hashes = [...new Set(waiters.map((w) => w.hash))];
    try {
      let sad: string;
      try {
        sad = (
          await this.#csc.authorize(this.#credentialId, hashes.length, hashes, {
            ...(this.#factor.totp ? { otp: this.#factor.totp } : {}),
            ...(this.#factor.password && !this.#factor.totp ? { pin: this.#factor.password } : {}),
          })
        ).sad;
      } catch (e) {
        if (e instanceof AppError && e.code === 'CSC_OTP_INVALID')
          throw new ConfirmationRefused(this.#factor.totp ? 'TOTP_INVALID' : 'TOTP_REQUIRED');
        if (e instanceof AppError && e.code === 'CSC_PIN_INVALID')
          throw new ConfirmationRefused('INVALID_CREDENTIALS');
        throw e;
      }
      this.outcome = 'ok';
      const values = await this.#csc.signHash(this.#credentialId, sad, hashes, OID.sha256WithRSAEncryption);
      const byHash = new Map(hashes.map((h, i) => [h, Buffer.from(values[i]!, 'base64')]));
      for (const w of waiters) w.resolve(byHash.get(w.hash)!);
    } catch (e) {
      if (e instanceof ConfirmationRefused) this.outcome = e.code;
      for (const w of waiters) w.reject(e);
    }
  }
}

function failure(item: Item, e: unknown): Result {
  const code = e instanceof AppError || e instanceof ConfirmationRefused ? e.code : 'INTERNAL';
  const message =
    e instanceof AppError
      ? e.message
      : e instanceof ConfirmationRefused
        ? refusalMessage(e.code)
        : 'Internal error';
  return { ...item, ok: false, state: null, code, message };
}

async function signBatch(
  deps: AppDeps,
  req: FastifyRequest,
  items: Item[],
  factor: Factor,
  hooks: CircuitRouteHooks,
): Promise<Result[]> {
  const user = requireUser(req);
  const allowPassword = deps.config.env !== 'production';
  const results: Result[] = items.map((it) => ({ ...it, ok: false, state: null, code: null, message: null }));
  // 1. Whose turn: each document in its own entity's transaction.
  const planned: Planned[] = [];
  for (const [index, it] of items.entries()) {
    try {
      planned.push({
        index,
        ...(await inEntity(deps, req, it.entity, async (tx, ctx) => ({
          turn: await planSignature(tx, ctx, it.documentId, hooks),
          tenant: ctx.tenant,
        }))),
      });
    } catch (e) {
      results[index] = failure(it, e);
    }
  }
  const toSign = planned.filter((p) => p.turn.kind !== 'review');
  const toConfirm = planned.filter((p) => p.turn.kind === 'review');
  let outcome: 'ok' | ConfirmationRefused['code'] | null = null;
  const signedBytes = new Map<number, Buffer>();

  // 2. Signatures: every digest first, one authorisation, one signHash (outside any transaction).
  if (toSign.length > 0) {
    const who = { userId: user.id, label: user.username, request: requestMeta(req) };
    const csc = new LocalCscService(deps, who);
    const [credentialId] = await csc.listCredentials(user.id);
    if (!credentialId) throw new AppError('CSC_CREDENTIAL_NOT_FOUND', 'You have no signing credential');
    const [certificatePem, ...chain] = splitPemCertificates(
      (await csc.credentialInfo(credentialId)).certificates,
    );
    if (!certificatePem) throw new AppError('INTERNAL', 'The credential has no certificate');
    const batch = new BatchAuthorisation(csc, credentialId, factor, toSign.length);
    const now = deps.clock.now();
    const settled = await Promise.allSettled(
      toSign.map(async (p) => {
        let asked = false;
        try {
          const current = await deps.blobs.readVerified(p.turn.baseSha256);
          const signer = batch.signer(certificatePem, chain.join(''));
          const counting: Signer = {
            ...signer,
            signDigest: (d) => {
              asked = true;
              return signer.signDigest(d);
            },
          };
          return await signTurnContent(current, p.turn, counting, p.tenant, now);
        } catch (e) {
          if (!asked) batch.dropOne();
          throw e;
        }
      }),
    );
    outcome = batch.outcome;
    for (const [i, s] of settled.entries()) {
      const p = toSign[i]!;
      if (s.status === 'fulfilled') signedBytes.set(p.index, s.value);
      else results[p.index] = failure(items[p.index]!, s.reason);
    }
  }

  // 3. Review steps: confirmed by the same authorisation, or by one check of the factor.
  if (toConfirm.length > 0 && outcome === null) {
    const first = toConfirm[0]!;
    const check = await inEntity(deps, req, items[first.index]!.entity, (tx, ctx) =>
      checkConfirmation(tx, ctx, factor, allowPassword),
    );
    outcome = check.ok ? 'ok' : check.code;
  }

  // 4. A refused factor: nothing was signed; audit the refusal on each document and say so.
  if (outcome !== null && outcome !== 'ok') {
    for (const p of planned) {
      const it = items[p.index]!;
      await inEntity(deps, req, it.entity, (tx, ctx) => recordRefusal(tx, ctx, it.documentId, outcome));
    }
    throw new AppError(outcome, refusalMessage(outcome));
  }

  // 5. Record each act in its own transaction; one failure does not stop the others.
  for (const p of [...toSign, ...toConfirm].sort((a, b) => a.index - b.index)) {
    const it = items[p.index]!;
    const bytes = signedBytes.get(p.index);
    if (p.turn.kind !== 'review' && !bytes) continue;
    try {
      const stored = bytes ? { ...(await deps.blobs.put(bytes)), method: 'csc' as const } : null;
      const view = await inEntity(deps, req, it.entity, (tx, ctx) =>
        recordAct(tx, ctx, it.documentId, p.turn, stored, hooks),
      );
      results[p.index] = { ...it, ok: true, state: view.state, code: null, message: null };
      if (bytes && hooks.afterSigned)
        await hooks.afterSigned(p.tenant.id, it.documentId).catch((e: unknown) => {
          req.log.error(
            { err: e, documentId: it.documentId },
            'after-signature work failed; its job completes it',
          );
        });
    } catch (e) {
      results[p.index] = failure(it, e);
    }
  }
  return results;
}

/** `hooks`: the same circuit hooks as the single-document routes (the resolutions book's). */
export function registerBatchSignatureRoutes(
  app: FastifyInstance,
  deps: AppDeps,
  hooks: CircuitRouteHooks = {},
): void {
  app.post(
    '/api/v1/me/signatures/batch',
    {
      schema: {
        tags: ['signatures'],
        summary: 'Sign several documents of your inbox with one confirmation',
        description:
          "The second factor (`totp`; in demo mode a user without TOTP sends `password`) is checked once for the whole batch: one CSC authorisation lists every document's digest. A wrong factor is a 401 (TOTP_INVALID, TOTP_REQUIRED, INVALID_CREDENTIALS) and nothing is signed. Otherwise each item is signed and recorded on its own: the answer lists, in order, `ok` with the circuit's state, or the error `code` (SIGNATURE_NOT_YOUR_TURN, CIRCUIT_NOT_ACTIVE, DOCUMENT_NOT_FOUND…). The same document twice: 400 VALIDATION_FAILED.",
        body: BatchBody,
        response: { 200: Type.Object({ results: Type.Array(BatchResult) }) },
      },
    },
    async (req) => {
      const body = req.body as { items: Item[] } & Factor;
      const keys = new Set(body.items.map((i) => `${i.entity}\u0000${i.documentId}`));
      if (keys.size !== body.items.length)
        throw new AppError('VALIDATION_FAILED', 'The batch lists the same document twice');
      const factor = { totp: body.totp, password: body.password };
      return { results: await signBatch(deps, req, body.items, factor, hooks) };
    },
  );
}
