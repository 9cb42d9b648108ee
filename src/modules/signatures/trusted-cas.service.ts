import type { Actor, Clock, RequestMeta } from '#platform/context.ts';
import { certificateFacts, splitPemCertificates } from '#platform/crypto/certs.ts';
import type { Database } from '#platform/db/database.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { isUuid, newId } from '#platform/ids.ts';
import { prepareTrustAnchors, type TrustAnchors } from '#platform/signatures/trust.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { getInstallationCaPem } from '#modules/seals/seals.service.ts';

/**
 * The trust anchors of signature verification: the installation CA (demo and development
 * installations) plus the operator's list of trusted certification authorities (`trusted_cas`,
 * managed with `lligall trust add|list|remove`, every change audited on the platform chain). In
 * production that list is fed from the EU trusted lists (the Spanish TSL: the AOC's EC-SECTORPUBLIC
 * and EC-Ciutadania, FNMT, …): the operator adds the CA certificates of the qualified services
 * the entities meet. A removed CA keeps its row, so what was trusted when stays known.
 */

export type TrustedCaView = {
  id: string;
  label: string;
  subject: string;
  fingerprintSha256: string;
  validFrom: string;
  validTo: string;
  addedBy: string;
  addedAt: string;
  removedAt: string | null;
};

type OperatorCtx = { actor: Actor; request: RequestMeta; clock: Clock };

function audit(ctx: OperatorCtx, action: string, objectId: string, details: Record<string, unknown>) {
  return {
    tenantId: PLATFORM_TENANT,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action,
    objectType: 'trusted_ca',
    objectId,
    details,
  };
}

export async function addTrustedCa(
  db: Database,
  ctx: OperatorCtx,
  input: { pem: string; label: string },
): Promise<TrustedCaView> {
  const label = input.label.trim();
  if (label.length < 1 || label.length > 200) {
    throw new AppError('TRUSTED_CA_INVALID', 'The label must have 1 to 200 characters');
  }
  const blocks = splitPemCertificates(input.pem);
  if (blocks.length !== 1) {
    throw new AppError('TRUSTED_CA_INVALID', `Give exactly one PEM certificate (found ${blocks.length})`);
  }
  const pem = blocks[0]!;
  let facts: ReturnType<typeof certificateFacts>;
  try {
    facts = certificateFacts(pem);
  } catch (e) {
    throw new AppError('TRUSTED_CA_INVALID', `The certificate cannot be read: ${(e as Error).message}`);
  }
  if (!facts.isCa) {
    throw new AppError('TRUSTED_CA_INVALID', 'The certificate is not a CA certificate (basicConstraints CA)');
  }
  const now = ctx.clock.now();
  const id = newId();
  return db.platform(async (tx) => {
    const existing = await tx
      .selectFrom('trusted_cas')
      .select('id')
      .where('fingerprint_sha256', '=', facts.fingerprintSha256)
      .where('removed_at', 'is', null)
      .executeTakeFirst();
    if (existing) throw new AppError('CONFLICT', 'That CA is already trusted', { id: existing.id });
    const row = await tx
      .insertInto('trusted_cas')
      .values({
        id,
        label,
        certificate_pem: pem,
        fingerprint_sha256: facts.fingerprintSha256,
        subject: facts.subject,
        valid_from: facts.notBefore,
        valid_to: facts.notAfter,
        added_by: ctx.actor.label,
        added_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordEvent(
      tx,
      audit(ctx, 'trusted_ca.add', id, {
        label,
        subject: facts.subject,
        fingerprintSha256: facts.fingerprintSha256,
      }),
    );
    return toView(row);
  });
}

export async function listTrustedCas(
  db: Database,
  opts: { includeRemoved?: boolean } = {},
): Promise<TrustedCaView[]> {
  const rows = await db.platform((tx) => {
    let q = tx.selectFrom('trusted_cas').selectAll().orderBy('added_at');
    if (!opts.includeRemoved) q = q.where('removed_at', 'is', null);
    return q.execute();
  });
  return rows.map(toView);
}

/** Stops trusting a CA (by id or SHA-256 fingerprint); its row stays, marked removed. */
export async function removeTrustedCa(db: Database, ctx: OperatorCtx, ref: string): Promise<TrustedCaView> {
  const fp = ref.toLowerCase().replace(/:/g, '');
  return db.platform(async (tx) => {
    let q = tx.updateTable('trusted_cas').set({ removed_at: ctx.clock.now(), removed_by: ctx.actor.label });
    q = isUuid(ref) ? q.where('id', '=', ref) : q.where('fingerprint_sha256', '=', fp);
    const row = await q.where('removed_at', 'is', null).returningAll().executeTakeFirst();
    if (!row) throw new AppError('TRUSTED_CA_NOT_FOUND', `No trusted CA ${ref}`);
    await recordEvent(
      tx,
      audit(ctx, 'trusted_ca.remove', row.id, { label: row.label, subject: row.subject }),
    );
    return toView(row);
  });
}

function toView(r: {
  id: string;
  label: string;
  subject: string;
  fingerprint_sha256: string;
  valid_from: Date;
  valid_to: Date;
  added_by: string;
  added_at: Date;
  removed_at: Date | null;
}): TrustedCaView {
  return {
    id: r.id,
    label: r.label,
    subject: r.subject,
    fingerprintSha256: r.fingerprint_sha256,
    validFrom: new Date(r.valid_from).toISOString(),
    validTo: new Date(r.valid_to).toISOString(),
    addedBy: r.added_by,
    addedAt: new Date(r.added_at).toISOString(),
    removedAt: r.removed_at ? new Date(r.removed_at).toISOString() : null,
  };
}

/** The installation's trust anchors, read now (two small platform reads). */
export async function loadTrustAnchors(db: Database): Promise<TrustAnchors> {
  const ca = await getInstallationCaPem(db);
  const rows = await db.platform((tx) =>
    tx.selectFrom('trusted_cas').select('certificate_pem').where('removed_at', 'is', null).execute(),
  );
  return prepareTrustAnchors([...(ca ? [ca] : []), ...rows.map((r) => r.certificate_pem)]);
}
