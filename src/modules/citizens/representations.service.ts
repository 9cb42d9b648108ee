import { type Selectable, sql } from 'kysely';
import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import type {
  RepresentationOrigin,
  RepresentationScope,
  RepresentationsTable,
} from '#platform/db/schema/citizens.ts';
import { AppError } from '#platform/errors.ts';
import { newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { addMonthsClamped, assertCivilDate, madridDateOf } from '#modules/calendar/civil-date.ts';
import { classifyIdentifier } from '#modules/parties/identifiers.ts';

/** A power of attorney lasts at most this many months (LPACAP art. 6.6: five years). */
export const MAX_POWER_MONTHS = 60;

export type Representation = {
  id: string;
  represented: { identifier: string; name: string };
  representative: { identifier: string; name: string };
  scope: RepresentationScope;
  procedure: string | null;
  origin: RepresentationOrigin;
  validFrom: string;
  validTo: string;
  notarialDocument: { filename: string; size: number; sha256: string } | null;
  notes: string | null;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
  revokedReason: string | null;
  /** In force today (Europe/Madrid): started, not ended, not revoked. */
  inForce: boolean;
};

export type CreateRepresentationInput = {
  represented: { identifier: string; name: string; email?: string | null };
  representative: { identifier: string; name: string; email?: string | null };
  scope: RepresentationScope;
  procedure?: string | null;
  origin: RepresentationOrigin;
  /** Default: today (Europe/Madrid). */
  validFrom?: string;
  /** Default: five years after validFrom (the longest allowed). */
  validTo?: string;
  notarial?: { sha256: string; filename: string; size: number } | null;
  notes?: string | null;
};

const PROCEDURE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function personName(raw: string, what: string): string {
  const n = raw.trim().replace(/\s+/g, ' ');
  if (n.length < 1 || n.length > 200)
    throw new AppError('VALIDATION_FAILED', `${what} has 1 to 200 characters`);
  return n;
}

/** A NIF, NIE or organisation NIF, normalised (upper case, no separators); INVALID_IDENTIFIER otherwise. */
export function personIdentifier(raw: string): string {
  const c = classifyIdentifier(raw);
  if (c.type !== 'nif' && c.type !== 'nie' && c.type !== 'cif') {
    throw new AppError('INVALID_IDENTIFIER', `"${c.normalized}" is not a NIF or NIE`, {
      reason: 'unrecognised',
    });
  }
  return c.normalized;
}

export function todayOf(ctx: Pick<Ctx, 'clock'>): string {
  return madridDateOf(ctx.clock.now());
}

const dateCol = (col: string) => sql<string>`to_char(${sql.ref(col)}, 'YYYY-MM-DD')`;

function selectRepresentations(tx: Tx) {
  return tx
    .selectFrom('representations')
    .select([
      'tenant_id',
      'id',
      'represented_identifier',
      'represented_name',
      'represented_email',
      'representative_identifier',
      'representative_name',
      'representative_email',
      'scope',
      'procedure',
      'origin',
      dateCol('valid_from').as('valid_from'),
      dateCol('valid_to').as('valid_to'),
      'notarial_sha256',
      'notarial_filename',
      'notarial_size',
      'notes',
      'created_by',
      'created_by_label',
      'created_at',
      'revoked_at',
      'revoked_by',
      'revoked_by_label',
      'revoked_reason',
    ]);
}

type Row = Selectable<RepresentationsTable>;

export function toRepresentation(r: Row, today: string): Representation {
  return {
    id: r.id,
    represented: { identifier: r.represented_identifier, name: r.represented_name },
    representative: { identifier: r.representative_identifier, name: r.representative_name },
    scope: r.scope,
    procedure: r.procedure,
    origin: r.origin,
    validFrom: r.valid_from,
    validTo: r.valid_to,
    notarialDocument:
      r.notarial_sha256 && r.notarial_filename
        ? { filename: r.notarial_filename, size: Number(r.notarial_size), sha256: r.notarial_sha256 }
        : null,
    notes: r.notes,
    createdBy: r.created_by_label,
    createdAt: new Date(r.created_at).toISOString(),
    revokedAt: r.revoked_at ? new Date(r.revoked_at).toISOString() : null,
    revokedBy: r.revoked_by_label,
    revokedReason: r.revoked_reason,
    inForce: !r.revoked_at && r.valid_from <= today && today <= r.valid_to,
  };
}

/**
 * Records a power of attorney in the entity's register. The caller has checked who may record
 * it (staff policy, or the represented citizen for an electronic grant). Audited.
 */
export async function createRepresentation(
  tx: Tx,
  ctx: Ctx,
  input: CreateRepresentationInput,
): Promise<Representation> {
  const represented = personIdentifier(input.represented.identifier);
  const representative = personIdentifier(input.representative.identifier);
  if (represented === representative)
    throw new AppError('REPRESENTATION_SELF', 'A person cannot be their own representative');
  const representedName = personName(input.represented.name, 'The represented person’s name');
  const representativeName = personName(input.representative.name, 'The representative’s name');
  let procedure: string | null = null;
  if (input.scope === 'procedure') {
    if (!input.procedure || !PROCEDURE.test(input.procedure))
      throw new AppError('VALIDATION_FAILED', 'A power for one procedure names its procedure code');
    procedure = input.procedure;
  } else if (input.scope !== 'general') {
    throw new AppError('VALIDATION_FAILED', 'scope is general or procedure');
  } else if (input.procedure) {
    throw new AppError('VALIDATION_FAILED', 'A general power covers every procedure: give no procedure');
  }
  const today = todayOf(ctx);
  const validFrom = assertCivilDate(input.validFrom ?? today, 'validFrom');
  const longest = addMonthsClamped(validFrom, MAX_POWER_MONTHS);
  const validTo = assertCivilDate(input.validTo ?? longest, 'validTo');
  if (validTo < validFrom) throw new AppError('VALIDATION_FAILED', 'validTo is before validFrom');
  if (validTo > longest) {
    throw new AppError(
      'REPRESENTATION_TOO_LONG',
      `A power of attorney lasts at most five years: from ${validFrom}, until ${longest} at the latest`,
      { validFrom, latestValidTo: longest },
    );
  }
  if (input.origin === 'electronic' && validFrom < today)
    throw new AppError('VALIDATION_FAILED', 'A power granted in the seu starts today or later');
  if ((input.origin === 'notarial') !== Boolean(input.notarial))
    throw new AppError(
      'VALIDATION_FAILED',
      'A notarial power, and only it, comes with the notarial document',
    );
  const notes = input.notes?.trim() ? input.notes.trim().slice(0, 2000) : null;
  const id = newId();
  const now = ctx.clock.now();
  await tx
    .insertInto('representations')
    .values({
      tenant_id: ctx.tenant.id,
      id,
      represented_identifier: represented,
      represented_name: representedName,
      represented_email: input.represented.email ?? null,
      representative_identifier: representative,
      representative_name: representativeName,
      representative_email: input.representative.email ?? null,
      scope: input.scope,
      procedure,
      origin: input.origin,
      valid_from: validFrom,
      valid_to: validTo,
      notarial_sha256: input.notarial?.sha256 ?? null,
      notarial_filename: input.notarial?.filename ?? null,
      notarial_size: input.notarial?.size ?? null,
      notes,
      created_by: ctx.actor.kind === 'user' ? ctx.actor.id : null,
      created_by_label: ctx.actor.label,
      created_at: now,
      revoked_at: null,
      revoked_by: null,
      revoked_by_label: null,
      revoked_reason: null,
    })
    .execute();
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    ...ctx,
    action: 'representation.create',
    objectType: 'representation',
    objectId: id,
    details: {
      origin: input.origin,
      represented,
      representative,
      scope: input.scope,
      procedure,
      validFrom,
      validTo,
      ...(input.notarial ? { notarialSha256: input.notarial.sha256 } : {}),
    },
  });
  const row = await selectRepresentations(tx).where('id', '=', id).executeTakeFirstOrThrow();
  return toRepresentation(row, today);
}

export async function getRepresentation(tx: Tx, ctx: Ctx, id: string): Promise<Representation | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const row = await selectRepresentations(tx).where('id', '=', id).executeTakeFirst();
  return row ? toRepresentation(row, todayOf(ctx)) : null;
}

export async function getRepresentationRow(tx: Tx, id: string): Promise<Row | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  return (await selectRepresentations(tx).where('id', '=', id).executeTakeFirst()) ?? null;
}

/** The register, newest first; `identifier` finds the powers where that person is either party. */
export async function listRepresentations(
  tx: Tx,
  ctx: Ctx,
  filter: {
    identifier?: string;
    represented?: string;
    representative?: string;
    inForce?: boolean;
    limit?: number;
    offset?: number;
  } = {},
): Promise<Representation[]> {
  const today = todayOf(ctx);
  let q = selectRepresentations(tx);
  if (filter.identifier) {
    const id = filter.identifier;
    q = q.where((eb) =>
      eb.or([eb('represented_identifier', '=', id), eb('representative_identifier', '=', id)]),
    );
  }
  if (filter.represented) q = q.where('represented_identifier', '=', filter.represented);
  if (filter.representative) q = q.where('representative_identifier', '=', filter.representative);
  if (filter.inForce) {
    q = q.where('revoked_at', 'is', null).where('valid_from', '<=', today).where('valid_to', '>=', today);
  }
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(filter.limit ?? 200)
    .offset(filter.offset ?? 0)
    .execute();
  return rows.map((r) => toRepresentation(r, today));
}

/**
 * The power in force today by which `representative` may act for `represented` in `procedure`
 * (a general power covers every procedure; a procedure power only its own; with no procedure
 * named, only a general power covers). Null when none: the caller answers 404.
 */
export async function findPowerInForce(
  tx: Tx,
  ctx: Pick<Ctx, 'clock'>,
  input: { representative: string; represented: string; procedure?: string | undefined },
): Promise<Row | null> {
  const today = todayOf(ctx);
  let q = selectRepresentations(tx)
    .where('representative_identifier', '=', input.representative)
    .where('represented_identifier', '=', input.represented)
    .where('revoked_at', 'is', null)
    .where('valid_from', '<=', today)
    .where('valid_to', '>=', today);
  const procedure = input.procedure;
  q =
    procedure === undefined
      ? q.where('scope', '=', 'general')
      : q.where((eb) =>
          eb.or([
            eb('scope', '=', 'general'),
            eb.and([eb('scope', '=', 'procedure'), eb('procedure', '=', procedure)]),
          ]),
        );
  const row = await q
    // A general power first, then the one that lasts longest.
    .orderBy(sql`case when scope = 'general' then 0 else 1 end`)
    .orderBy('valid_to', 'desc')
    .orderBy('id')
    .executeTakeFirst();
  return row ?? null;
}

/** Revokes a power (at once: it stops working in the same instant). Audited. */
export async function revokeRepresentation(
  tx: Tx,
  ctx: Ctx,
  row: Row,
  reason: string | null,
): Promise<Representation> {
  if (row.revoked_at) throw new AppError('REPRESENTATION_ALREADY_REVOKED', 'This power was already revoked');
  const now = ctx.clock.now();
  const why = reason?.trim() ? reason.trim().slice(0, 1000) : null;
  await tx
    .updateTable('representations')
    .set({
      revoked_at: now,
      revoked_by: ctx.actor.kind === 'user' ? ctx.actor.id : null,
      revoked_by_label: ctx.actor.label,
      revoked_reason: why,
    })
    .where('id', '=', row.id)
    .where('revoked_at', 'is', null)
    .execute();
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    ...ctx,
    action: 'representation.revoke',
    objectType: 'representation',
    objectId: row.id,
    details: {
      represented: row.represented_identifier,
      representative: row.representative_identifier,
      reason: why,
    },
  });
  const updated = await selectRepresentations(tx).where('id', '=', row.id).executeTakeFirstOrThrow();
  return toRepresentation(updated, todayOf(ctx));
}
