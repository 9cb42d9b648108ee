import type { Readable } from 'node:stream';
import { INTEGRATION_SECRET_PURPOSE, muxSecretBinding } from '#platform/crypto/key-purposes.ts';
import fs from 'node:fs';
import { sql } from 'kysely';
import type { BlobStore, StagedBlob } from '#platform/blobs/blob-store.ts';
import type { Actor, Clock, Ctx, RequestMeta, TenantRef } from '#platform/context.ts';
import { deriveKek, unwrapKey, wrapKey } from '#platform/crypto/keywrap.ts';
import type { Database, Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { loadMasterKey } from '#modules/audit/audit.checkpoint.ts';
import { ensureCalendarSeededOnce } from '#modules/calendar/calendar.service.ts';
import { insertDocument } from '#modules/documents/documents.service.ts';
import { findTenantById } from '#modules/tenancy/tenancy.repository.ts';
import { getTenantOrThrow } from '#modules/tenancy/tenancy.service.ts';
import { listUnits } from '#modules/tenancy/units.service.ts';
import { createEntry, MAX_ATTACHMENTS } from '../registry.service.ts';
import type { DesalClient } from './desal.ts';
import { type MuxCaller, verifyMuxToken } from './jwt.ts';
import { directionFor, formatMuxDate, muxErrorFields, parseTransaction } from './transaction.ts';

/** The job that fetches a transaction's DESA'L documents after its entry commits. */
export const MUX_FETCH_JOB = 'mux.fetch-attachments';
export type MuxFetchJobData = { tenantId: string; entryId: string };

/** HKDF purpose of the key that wraps integration secrets (MUX's HS256 key) under the master key. */
/** HS256 keys shorter than the hash (RFC 7518 3.2) are refused. */
export const MUX_SECRET_MIN_BYTES = 32;

export type MuxDeps = {
  config: { env: string; masterKeyFile: string; muxMaxAttachmentBytes: number };
  db: Database;
  blobs: BlobStore;
  clock: Clock;
};

type Who = { actor: Actor; request: RequestMeta };

function kek(deps: Pick<MuxDeps, 'config'>): Buffer {
  return deriveKek(loadMasterKey(deps.config), INTEGRATION_SECRET_PURPOSE);
}

const tenantRef = (t: {
  id: string;
  dir3: string;
  slug: string;
  name: string;
  status: string;
}): TenantRef => ({
  id: t.id,
  dir3: t.dir3,
  slug: t.slug,
  name: t.name,
  status: t.status,
});

// ---------------------------------------------------------------- configuration (operator)

export type MuxConfigView = {
  entity: string;
  issuer: string;
  subject: string;
  secretBytes: number;
  configuredBy: string;
  configuredAt: string;
};

/**
 * Sets how MUX authenticates to an entity's registry (guide 5.2: issuer, subject and the HS256
 * secret agreed with the AOC). The secret is stored wrapped under the master key, bound to the
 * entity; it is never shown again. Audited on the entity's chain (without the secret).
 */
export async function configureMux(
  deps: MuxDeps,
  who: Who,
  input: { entity: string; issuer: string; subject: string; secret: Uint8Array },
): Promise<MuxConfigView> {
  const issuer = input.issuer.trim();
  const subject = input.subject.trim();
  if (!issuer || issuer.length > 200)
    throw new AppError('VALIDATION_FAILED', 'issuer must have 1 to 200 characters');
  if (!subject || subject.length > 200)
    throw new AppError('VALIDATION_FAILED', 'subject must have 1 to 200 characters');
  if (input.secret.length < MUX_SECRET_MIN_BYTES)
    throw new AppError('VALIDATION_FAILED', `The secret must hold at least ${MUX_SECRET_MIN_BYTES} bytes`);
  const tenant = await deps.db.platform((tx) => getTenantOrThrow(tx, input.entity));
  const now = deps.clock.now();
  const wrapped = wrapKey(kek(deps), input.secret, muxSecretBinding(tenant.id));
  await deps.db.tenant(tenant.id, async (tx) => {
    const before = await tx
      .selectFrom('mux_credentials')
      .select(['issuer', 'subject'])
      .where('tenant_id', '=', tenant.id)
      .forUpdate()
      .executeTakeFirst();
    const row = {
      issuer,
      subject,
      wrapped_secret: wrapped,
      configured_by: who.actor.label,
      configured_at: now,
    };
    if (before) await tx.updateTable('mux_credentials').set(row).where('tenant_id', '=', tenant.id).execute();
    else
      await tx
        .insertInto('mux_credentials')
        .values({ tenant_id: tenant.id, ...row })
        .execute();
    await recordEvent(tx, {
      tenantId: tenant.id,
      actor: who.actor,
      request: who.request,
      clock: deps.clock,
      action: 'mux.configure',
      objectType: 'mux_credentials',
      objectId: tenant.id,
      details: {
        issuer,
        subject,
        secretChanged: true,
        previous: before ? { issuer: before.issuer, subject: before.subject } : null,
      },
    });
  });
  return {
    entity: tenant.dir3,
    issuer,
    subject,
    secretBytes: input.secret.length,
    configuredBy: who.actor.label,
    configuredAt: now.toISOString(),
  };
}

/** The entity's MUX configuration, without the secret; null when none. */
export async function showMux(deps: MuxDeps, entity: string): Promise<MuxConfigView | null> {
  const tenant = await deps.db.platform((tx) => getTenantOrThrow(tx, entity));
  const row = await deps.db.tenant(tenant.id, (tx) =>
    tx.selectFrom('mux_credentials').selectAll().where('tenant_id', '=', tenant.id).executeTakeFirst(),
  );
  if (!row) return null;
  const secret = unwrapKey(kek(deps), Buffer.from(row.wrapped_secret), muxSecretBinding(tenant.id));
  return {
    entity: tenant.dir3,
    issuer: row.issuer,
    subject: row.subject,
    secretBytes: secret.length,
    configuredBy: row.configured_by,
    configuredAt: new Date(row.configured_at).toISOString(),
  };
}

/** Reads a secret file: `text` takes its characters (trailing newlines dropped), `base64url` decodes them. */
export function readSecretFile(file: string, encoding: 'text' | 'base64url'): Buffer {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8').replace(/[\r\n]+$/, '');
  } catch (e) {
    throw new AppError('VALIDATION_FAILED', `Cannot read the secret file ${file}: ${(e as Error).message}`);
  }
  if (encoding === 'text') return Buffer.from(raw, 'utf8');
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(raw))
    throw new AppError('VALIDATION_FAILED', `${file} is not Base64 URL-safe text`);
  return Buffer.from(raw, 'base64url');
}

// ---------------------------------------------------------------- authentication

export type MuxAuth = { tenant: TenantRef; caller: MuxCaller };

/**
 * Authenticates MUX for an entity: its configured issuer, subject and secret, nothing else. An
 * unknown entity, an entity without MUX configuration and a token for another entity are all
 * MUX_TOKEN_INVALID (401), so the answer says nothing about other entities.
 */
export async function authenticateMux(deps: MuxDeps, entity: string, token: string): Promise<MuxAuth> {
  let found: { tenant: TenantRef; issuer: string; subject: string; wrapped: Buffer } | null = null;
  try {
    found = await deps.db.tenantByRef(
      entity,
      () => undefined,
      async (tx, t) => {
        const row = await tx
          .selectFrom('mux_credentials')
          .select(['issuer', 'subject', 'wrapped_secret'])
          .where('tenant_id', '=', t.id)
          .executeTakeFirst();
        return row
          ? {
              tenant: tenantRef(t),
              issuer: row.issuer,
              subject: row.subject,
              wrapped: Buffer.from(row.wrapped_secret),
            }
          : null;
      },
    );
  } catch (e) {
    if (!(e instanceof AppError) || e.code !== 'ENTITY_NOT_FOUND') throw e;
  }
  if (!found) throw new AppError('MUX_TOKEN_INVALID', `MUX is not configured for entity ${entity}`);
  if (found.tenant.status === 'suspended') throw new AppError('ENTITY_SUSPENDED', 'This entity is suspended');
  const secret = unwrapKey(kek(deps), found.wrapped, muxSecretBinding(found.tenant.id));
  const caller = await verifyMuxToken(
    token,
    { issuer: found.issuer, subject: found.subject, secret },
    deps.clock.now(),
  );
  return { tenant: found.tenant, caller };
}

// ---------------------------------------------------------------- intake

export type MuxAnswer = { status: number; body: string };

/** Enqueues the attachment fetch in the entry's transaction (the job system), when there is one. */
export type EnqueueFetch = (tx: Tx, data: MuxFetchJobData) => Promise<unknown>;

function muxCtx(auth: MuxAuth, request: RequestMeta, clock: Clock): Ctx {
  // MUX files into the registry as the registry office would: the registrar role, for this use case only.
  return {
    tenant: auth.tenant,
    actor: { kind: 'system', id: null, label: `mux:${auth.caller.issuer}`, platformRoles: [] },
    roles: ['registrar'],
    request,
    clock,
  };
}

type StoredTransaction = { fingerprint: string; response: string; entry_id: string };

async function findStored(tx: Tx, tenantId: string, id: string, sentit: 'E' | 'S') {
  return tx
    .selectFrom('mux_transactions')
    .select(['fingerprint', 'response', 'entry_id'])
    .where('tenant_id', '=', tenantId)
    .where('id_transaccio', '=', id)
    .where('sentit', '=', sentit)
    .executeTakeFirst();
}

function replay(
  stored: StoredTransaction,
  fingerprint: string,
  t: { idTransaccio: string; tipus: string },
): MuxAnswer {
  if (stored.fingerprint !== fingerprint) {
    const msg = `Transaction ${t.idTransaccio} was registered before with other data (entry ${stored.entry_id})`;
    throw new AppError('MUX_TRANSACTION_CONFLICT', msg, muxErrorFields(msg, t, 'conflict'));
  }
  return { status: 200, body: stored.response };
}

const isUniqueViolation = (e: unknown) => (e as { code?: string })?.code === '23505';

/** Errors of the entry itself (a bad identifier, a time after ours…) answer as the guide's errors. */
function asTransactionError(e: unknown, t: { idTransaccio: string; tipus: string }): unknown {
  if (!(e instanceof AppError)) return e;
  if (e.code === 'INVALID_IDENTIFIER' || e.code === 'PARTY_IDENTIFIER_TAKEN')
    return new AppError('MUX_TRANSACTION_INVALID', `interessat: ${e.message}`, {
      ...muxErrorFields(`interessat: ${e.message}`, t, 'party'),
      reason: e.details?.reason ?? null,
    });
  if (e.code === 'VALIDATION_FAILED' || e.code === 'UNIT_NOT_FOUND')
    return new AppError('MUX_TRANSACTION_INVALID', e.message, muxErrorFields(e.message, t, 'invalid'));
  return e;
}

/**
 * Receives a MUX v3 transaction (guide 5.3) and answers as 5.4 says. Idempotent per
 * (idTransaccio, direction): the first time it makes the entry (channel `mux`, presented at the
 * transaction's dataPresentacio), records the transaction with the exact answer and the DESA'L
 * references, and enqueues the fetch, all in one transaction; afterwards the same transaction
 * gets the same bytes, and other data under the same id gets MUX_TRANSACTION_CONFLICT. Two
 * copies arriving together: the second waits on the primary key, fails with a unique violation
 * after the first commits (its entry and number roll back), and is answered from the first.
 */
export async function receiveTransaction(
  deps: MuxDeps,
  auth: MuxAuth,
  raw: unknown,
  opts: { request: RequestMeta; enqueue?: EnqueueFetch },
): Promise<MuxAnswer & { entryId: string | null; documents: number }> {
  const t = parseTransaction(raw, { maxDocuments: MAX_ATTACHMENTS });
  const sentit = directionFor(t, auth.tenant.dir3);
  const ids = { idTransaccio: t.idTransaccio, tipus: sentit };
  if (t.testTransaction && deps.config.env === 'production') {
    const msg = 'A test transaction (indicadorProva 1) is not registered in production';
    throw new AppError('MUX_TRANSACTION_INVALID', msg, muxErrorFields(msg, ids, 'invalid'));
  }
  await ensureCalendarSeededOnce(deps.db, deps.clock.now());
  const ctx = muxCtx(auth, opts.request, deps.clock);
  try {
    return await deps.db.tenant(auth.tenant.id, async (tx) => {
      const stored = await findStored(tx, auth.tenant.id, t.idTransaccio, sentit);
      if (stored) return { ...replay(stored, t.fingerprint, ids), entryId: null, documents: 0 };
      const units = await listUnits(tx, ctx);
      const unitFor = (dir3: string | null | undefined) =>
        dir3 ? (units.find((u) => u.dir3?.toUpperCase() === dir3)?.id ?? null) : null;
      const label = (u: { name: string | null; dir3: string | null } | null) =>
        u ? [u.name, u.dir3 ? `(${u.dir3})` : null].filter(Boolean).join(' ').slice(0, 300) || null : null;
      let created: Awaited<ReturnType<typeof createEntry>>;
      try {
        created = await createEntry(tx, ctx, {
          direction: sentit,
          heading: t.heading,
          summary: t.summary,
          channel: 'mux',
          party: t.party,
          sendingBody:
            sentit === 'E' ? (label(t.origen) ?? (t.application ? `MUX: ${t.application}` : null)) : null,
          recipientUnitId: sentit === 'E' ? unitFor(t.desti?.dir3) : null,
          recipientPerson: sentit === 'S' ? label(t.desti) : null,
          text: t.text,
          presentedAt: t.presentedAt,
        });
      } catch (e) {
        throw asTransactionError(e, ids);
      }
      const response = JSON.stringify({
        resultat: true,
        idTransaccio: t.idTransaccio,
        tipus: sentit,
        numeroAssentament: created.number,
        dataAssentament: formatMuxDate(new Date(created.registeredAt)),
        dataPresentacio: formatMuxDate(new Date(created.presentedAt)),
      });
      const now = deps.clock.now();
      await tx
        .insertInto('mux_transactions')
        .values({
          tenant_id: auth.tenant.id,
          id_transaccio: t.idTransaccio,
          sentit,
          fingerprint: t.fingerprint,
          entry_id: created.id,
          response,
          issuer: auth.caller.issuer,
          received_at: now,
        })
        .execute();
      for (const [i, d] of t.documents.entries()) {
        await tx
          .insertInto('mux_attachments')
          .values({
            tenant_id: auth.tenant.id,
            entry_id: created.id,
            position: i + 1,
            desal_uuid: d.uuid,
            contingut: d.contingut,
            external_url: d.externalUrl,
            file_name: d.fileName.slice(0, 255),
            mime_type: d.mimeType.slice(0, 255),
            title: d.title.slice(0, 500),
            declared_size: d.declaredSize,
            declared_hash: d.hash,
            hash_algorithm: d.hashAlgorithm,
            state: 'pending',
            attempts: 0,
            updated_at: now,
          })
          .execute();
      }
      if (t.documents.length && opts.enqueue)
        await opts.enqueue(tx, { tenantId: auth.tenant.id, entryId: created.id });
      await recordEvent(tx, {
        tenantId: auth.tenant.id,
        actor: ctx.actor,
        request: ctx.request,
        clock: deps.clock,
        action: 'mux.transaction_receive',
        objectType: 'registry_entry',
        objectId: created.id,
        details: {
          idTransaccio: t.idTransaccio,
          sentit,
          number: created.number,
          fingerprint: t.fingerprint,
          documents: t.documents.map((d) => d.uuid),
          subject: auth.caller.subject,
          user: auth.caller.user,
        },
      });
      return { status: 200, body: response, entryId: created.id, documents: t.documents.length };
    });
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    // A concurrent copy committed first: answer from it.
    const stored = await deps.db.tenant(auth.tenant.id, (tx) =>
      findStored(tx, auth.tenant.id, t.idTransaccio, sentit),
    );
    if (!stored) throw e;
    return { ...replay(stored, t.fingerprint, ids), entryId: null, documents: 0 };
  }
}

// ---------------------------------------------------------------- attachments

export type FetchOutcome = { fetched: number; failed: number; pending: number };

/** Errors that a later attempt may not repeat (network, a 5xx): the job retries them. */
const isTransient = (e: unknown) => e instanceof AppError && e.details?.transient === true;

function declaredSha256(row: { declared_hash: string | null; hash_algorithm: string | null }): string | null {
  if (!row.declared_hash) return null;
  const alg = (row.hash_algorithm ?? 'SHA256').toUpperCase().replace(/[^A-Z0-9]/g, '');
  if (alg !== 'SHA256') return null;
  const bytes = Buffer.from(row.declared_hash, 'base64');
  return bytes.length === 32 ? bytes.toString('hex') : null;
}

/**
 * Fetches the DESA'L documents of one MUX entry into the blob store and makes each a document of
 * the entry (a registry_attachments row after the entry's own; the entry itself never changes).
 * Slow work (the download) runs outside any transaction; the file is in the store before the rows
 * that point to it. Safe to run twice at once or again: a row already fetched or failed is left
 * alone. A permanent failure (too large, not found, a hash that does not match, a CSV document) is
 * recorded on the row and audited; a transient one is thrown after recording, so the job retries.
 */
export async function fetchEntryAttachments(
  deps: MuxDeps,
  desal: DesalClient,
  data: MuxFetchJobData,
): Promise<FetchOutcome> {
  const tenant = await deps.db.platform((tx) => findTenantById(tx, data.tenantId));
  if (!tenant) throw new AppError('ENTITY_NOT_FOUND', `Entity ${data.tenantId} not found`);
  const ctx: Ctx = {
    tenant: tenantRef(tenant),
    actor: { kind: 'system', id: null, label: 'mux', platformRoles: [] },
    roles: ['registrar'],
    request: { ip: null, userAgent: null },
    clock: deps.clock,
  };
  const pending = await deps.db.tenant(tenant.id, (tx) =>
    tx
      .selectFrom('mux_attachments')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('entry_id', '=', data.entryId)
      .where('state', '=', 'pending')
      .orderBy('position')
      .execute(),
  );
  let transient: unknown = null;
  for (const row of pending) {
    const ref = {
      uuid: row.desal_uuid,
      contingut: row.contingut as 1 | 2 | 3,
      externalUrl: row.external_url,
      fileName: row.file_name,
      mimeType: row.mime_type,
      declaredSize: row.declared_size === null ? null : Number(row.declared_size),
    };
    const maxBytes = deps.config.muxMaxAttachmentBytes;
    let staged: StagedBlob | null = null;
    try {
      if (ref.declaredSize !== null && ref.declaredSize > maxBytes)
        throw new AppError(
          'MUX_ATTACHMENT_TOO_LARGE',
          `DESA'L document ${ref.uuid} declares ${ref.declaredSize} bytes; the limit is ${maxBytes} (LLIGALL_MUX_MAX_ATTACHMENT_MB)`,
        );
      const file = await desal.fetch(ref, { maxBytes });
      try {
        staged = await deps.blobs.stage(file.bytes as Readable, { maxBytes });
      } catch (e) {
        if (e instanceof AppError && e.code === 'PAYLOAD_TOO_LARGE')
          throw new AppError(
            'MUX_ATTACHMENT_TOO_LARGE',
            `DESA'L document ${ref.uuid} is larger than ${maxBytes} bytes (LLIGALL_MUX_MAX_ATTACHMENT_MB)`,
          );
        throw new AppError(
          'MUX_ATTACHMENT_UNAVAILABLE',
          `DESA'L document ${ref.uuid}: ${(e as Error).message}`,
          {
            transient: true,
          },
        );
      }
      const expected = declaredSha256(row);
      if (expected && expected !== staged.sha256)
        throw new AppError(
          'MUX_ATTACHMENT_HASH_MISMATCH',
          `DESA'L document ${ref.uuid} has SHA-256 ${staged.sha256}; the transaction declared ${expected}`,
        );
      if (staged.size === 0)
        throw new AppError('MUX_ATTACHMENT_UNAVAILABLE', `DESA'L document ${ref.uuid} is empty`);
      await deps.blobs.commit(staged);
      const blob = staged;
      staged = null;
      await deps.db.tenant(tenant.id, async (tx) => {
        const cur = await lockRow(tx, tenant.id, data.entryId, row.position);
        if (cur?.state !== 'pending') return;
        const entry = await tx
          .selectFrom('registry_entries')
          .select(['direction', 'year', 'number'])
          .where('tenant_id', '=', tenant.id)
          .where('id', '=', data.entryId)
          .executeTakeFirstOrThrow();
        const doc = await insertDocument(tx, ctx, {
          title: row.title,
          fileName: row.file_name,
          mimeType: row.mime_type,
          sha256: blob.sha256,
          size: blob.size,
          documentType: entry.direction === 'E' ? 'TD14' : 'TD99',
          elaborationState: 'EE01',
          origin: entry.direction === 'E' ? 'citizen' : 'administration',
          incorporatedAt: deps.clock.now(),
          year: entry.year,
        });
        const last = await tx
          .selectFrom('registry_attachments')
          .select((eb) => eb.fn.max('position').as('p'))
          .where('tenant_id', '=', tenant.id)
          .where('entry_id', '=', data.entryId)
          .executeTakeFirst();
        await tx
          .insertInto('registry_attachments')
          .values({
            tenant_id: tenant.id,
            entry_id: data.entryId,
            position: Number(last?.p ?? 0) + 1,
            document_id: doc.id,
            sha256: blob.sha256,
          })
          .execute();
        await tx
          .updateTable('mux_attachments')
          .set({
            state: 'fetched',
            document_id: doc.id,
            sha256: blob.sha256,
            attempts: sql`attempts + 1`,
            error_code: null,
            error: null,
            updated_at: deps.clock.now(),
          })
          .where('tenant_id', '=', tenant.id)
          .where('entry_id', '=', data.entryId)
          .where('position', '=', row.position)
          .execute();
        await recordEvent(tx, {
          tenantId: tenant.id,
          actor: ctx.actor,
          request: ctx.request,
          clock: deps.clock,
          action: 'mux.attachment_fetch',
          objectType: 'registry_entry',
          objectId: data.entryId,
          details: {
            number: entry.number,
            desalUuid: row.desal_uuid,
            documentId: doc.id,
            sha256: blob.sha256,
          },
        });
      });
    } catch (e) {
      if (staged) await deps.blobs.discard(staged);
      const err =
        e instanceof AppError
          ? e
          : new AppError('MUX_ATTACHMENT_UNAVAILABLE', (e as Error).message, { transient: true });
      const keep = isTransient(err);
      if (keep) transient = err;
      await deps.db.tenant(tenant.id, async (tx) => {
        const cur = await lockRow(tx, tenant.id, data.entryId, row.position);
        if (cur?.state !== 'pending') return;
        await tx
          .updateTable('mux_attachments')
          .set({
            state: keep ? 'pending' : 'failed',
            error_code: err.code,
            error: err.message.slice(0, 2000),
            attempts: sql`attempts + 1`,
            updated_at: deps.clock.now(),
          })
          .where('tenant_id', '=', tenant.id)
          .where('entry_id', '=', data.entryId)
          .where('position', '=', row.position)
          .execute();
        await recordEvent(tx, {
          tenantId: tenant.id,
          actor: ctx.actor,
          request: ctx.request,
          clock: deps.clock,
          action: keep ? 'mux.attachment_fetch_retry' : 'mux.attachment_fetch_failed',
          objectType: 'registry_entry',
          objectId: data.entryId,
          details: { desalUuid: row.desal_uuid, code: err.code, error: err.message.slice(0, 500) },
        });
      });
    }
  }
  const states = await attachmentStates(deps, tenant.id, data.entryId);
  if (transient) throw transient;
  return states;
}

async function lockRow(tx: Tx, tenantId: string, entryId: string, position: number) {
  return tx
    .selectFrom('mux_attachments')
    .select(['state'])
    .where('tenant_id', '=', tenantId)
    .where('entry_id', '=', entryId)
    .where('position', '=', position)
    .forUpdate()
    .executeTakeFirst();
}

async function attachmentStates(deps: MuxDeps, tenantId: string, entryId: string): Promise<FetchOutcome> {
  const rows = await deps.db.tenant(tenantId, (tx) =>
    tx
      .selectFrom('mux_attachments')
      .select(['state'])
      .where('tenant_id', '=', tenantId)
      .where('entry_id', '=', entryId)
      .execute(),
  );
  return {
    fetched: rows.filter((r) => r.state === 'fetched').length,
    failed: rows.filter((r) => r.state === 'failed').length,
    pending: rows.filter((r) => r.state === 'pending').length,
  };
}

export type MuxAttachmentView = {
  position: number;
  desalUuid: string;
  fileName: string;
  state: 'pending' | 'fetched' | 'failed';
  errorCode: string | null;
  error: string | null;
  attempts: number;
  documentId: string | null;
  sha256: string | null;
};

/** The DESA'L documents of a MUX entry and how their fetch went (for staff and tests). */
export async function listMuxAttachments(tx: Tx, ctx: Ctx, entryId: string): Promise<MuxAttachmentView[]> {
  const rows = await tx
    .selectFrom('mux_attachments')
    .selectAll()
    .where('tenant_id', '=', ctx.tenant.id)
    .where('entry_id', '=', entryId)
    .orderBy('position')
    .execute();
  return rows.map((r) => ({
    position: r.position,
    desalUuid: r.desal_uuid,
    fileName: r.file_name,
    state: r.state,
    errorCode: r.error_code,
    error: r.error,
    attempts: r.attempts,
    documentId: r.document_id,
    sha256: r.sha256,
  }));
}
