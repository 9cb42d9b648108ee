import { sql } from 'kysely';
import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import type { OfficialScope } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { isUuid, newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { assertCivilDate, madridDateOf } from '#modules/calendar/civil-date.ts';
import { canManageOfficials, canReadOfficials } from './desk.policy.ts';

/**
 * The register of authorised officials (funcionaris habilitats, LPACAP art. 12.3 and 27.1): per
 * entity, which users may issue authentic copies (`copies`) and identify or sign for citizens at
 * the desk (`assistance`), from one date to another (both included, Europe/Madrid; no end date =
 * until revoked). Kept by an administrator; a record is never edited or deleted, only revoked,
 * once, with immediate effect (the database refuses anything else).
 */
export const OFFICIAL_SCOPES = ['copies', 'assistance'] as const satisfies readonly OfficialScope[];

export type NewOfficial = {
  userId: string;
  /** The name the seu publishes; by default the user's name. */
  name?: string | null;
  position?: string | null;
  scopes: OfficialScope[];
  validFrom: string;
  validTo?: string | null;
};

export type OfficialStatus = 'in_force' | 'not_yet' | 'expired' | 'revoked';

export type OfficialView = {
  id: string;
  userId: string;
  username: string;
  name: string;
  position: string | null;
  scopes: OfficialScope[];
  validFrom: string;
  validTo: string | null;
  /** On today's date (Europe/Madrid). */
  status: OfficialStatus;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
  revokedReason: string | null;
};

/** What the seu publishes of a record: no user ids or usernames. */
export type PublishedOfficial = {
  name: string;
  position: string | null;
  scopes: OfficialScope[];
  validFrom: string;
  validTo: string | null;
};

function select(tx: Tx, tenantId: string) {
  return tx
    .selectFrom('authorised_officials as o')
    .innerJoin('users as u', 'u.id', 'o.user_id')
    .select([
      'o.id',
      'o.user_id',
      'u.username',
      'o.name',
      'o.position',
      'o.scopes',
      sql<string>`to_char(o.valid_from, 'YYYY-MM-DD')`.as('valid_from'),
      sql<string | null>`to_char(o.valid_to, 'YYYY-MM-DD')`.as('valid_to'),
      'o.created_by',
      'o.created_at',
      'o.revoked_at',
      'o.revoked_by',
      'o.revoked_reason',
    ])
    .where('o.tenant_id', '=', tenantId);
}

type Row = Awaited<ReturnType<ReturnType<typeof select>['executeTakeFirstOrThrow']>>;

const today = (ctx: Pick<Ctx, 'clock'>) => madridDateOf(ctx.clock.now());

function statusOf(r: Pick<Row, 'valid_from' | 'valid_to' | 'revoked_at'>, on: string): OfficialStatus {
  if (r.revoked_at) return 'revoked';
  if (r.valid_from > on) return 'not_yet';
  if (r.valid_to !== null && r.valid_to < on) return 'expired';
  return 'in_force';
}

function view(r: Row, on: string): OfficialView {
  return {
    id: r.id,
    userId: r.user_id,
    username: r.username,
    name: r.name,
    position: r.position,
    scopes: r.scopes,
    validFrom: r.valid_from,
    validTo: r.valid_to,
    status: statusOf(r, on),
    createdBy: r.created_by,
    createdAt: new Date(r.created_at).toISOString(),
    revokedAt: r.revoked_at ? new Date(r.revoked_at).toISOString() : null,
    revokedBy: r.revoked_by,
    revokedReason: r.revoked_reason,
  };
}

function audit(tx: Tx, ctx: Ctx, action: string, id: string, details: Record<string, unknown>) {
  return recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action,
    objectType: 'authorised_official',
    objectId: id,
    details,
  });
}

function optionalText(v: string | null | undefined, what: string, max: number): string | null {
  if (v === undefined || v === null) return null;
  const t = v.trim();
  if (t.length === 0 || t.length > max)
    throw new AppError('VALIDATION_FAILED', `${what} must have 1 to ${max} characters`);
  return t;
}

export async function registerOfficial(tx: Tx, ctx: Ctx, input: NewOfficial): Promise<OfficialView> {
  if (!canManageOfficials(ctx))
    throw new AppError('FORBIDDEN', 'Only an administrator keeps the register of authorised officials');
  const validFrom = assertCivilDate(input.validFrom, 'validFrom');
  const validTo = input.validTo ? assertCivilDate(input.validTo, 'validTo') : null;
  if (validTo && validTo < validFrom) throw new AppError('VALIDATION_FAILED', 'validTo is before validFrom');
  const scopes = [...new Set(input.scopes)];
  if (scopes.length === 0 || scopes.some((s) => !(OFFICIAL_SCOPES as readonly string[]).includes(s)))
    throw new AppError('VALIDATION_FAILED', `scopes must be one or more of ${OFFICIAL_SCOPES.join(', ')}`);
  const position = optionalText(input.position, 'position', 300);
  const member = isUuid(input.userId)
    ? await tx
        .selectFrom('memberships as m')
        .innerJoin('users as u', 'u.id', 'm.user_id')
        .select(['u.id', 'u.name'])
        .where('m.tenant_id', '=', ctx.tenant.id)
        .where('m.user_id', '=', input.userId)
        .executeTakeFirst()
    : undefined;
  if (!member) throw new AppError('USER_NOT_FOUND', 'The user is not a member of this entity');
  const name = optionalText(input.name, 'name', 300) ?? member.name;
  // One record in force per user and scope at a time: a change of dates is a revocation and a new record.
  const overlapping = await tx
    .selectFrom('authorised_officials')
    .select('id')
    .where('tenant_id', '=', ctx.tenant.id)
    .where('user_id', '=', member.id)
    .where('revoked_at', 'is', null)
    .where(sql<boolean>`scopes && ${sql.val(scopes)}::text[]`)
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>=', validFrom)]))
    .$if(validTo !== null, (q) => q.where('valid_from', '<=', validTo!))
    .executeTakeFirst();
  if (overlapping)
    throw new AppError(
      'OFFICIAL_ALREADY_REGISTERED',
      'The user already has a record for these scopes in an overlapping period; revoke it first',
      { officialId: overlapping.id },
    );
  const id = newId();
  await tx
    .insertInto('authorised_officials')
    .values({
      tenant_id: ctx.tenant.id,
      id,
      user_id: member.id,
      name,
      position,
      scopes,
      valid_from: validFrom,
      valid_to: validTo,
      created_by: ctx.actor.label,
      created_at: ctx.clock.now(),
      revoked_at: null,
      revoked_by: null,
      revoked_reason: null,
    })
    .execute();
  await audit(tx, ctx, 'authorised_official.register', id, {
    userId: member.id,
    name,
    position,
    scopes,
    validFrom,
    validTo,
  });
  return view(await select(tx, ctx.tenant.id).where('o.id', '=', id).executeTakeFirstOrThrow(), today(ctx));
}

export async function revokeOfficial(
  tx: Tx,
  ctx: Ctx,
  id: string,
  input: { reason: string },
): Promise<OfficialView> {
  if (!canManageOfficials(ctx))
    throw new AppError('FORBIDDEN', 'Only an administrator keeps the register of authorised officials');
  const reason = optionalText(input.reason, 'reason', 2000);
  if (!reason) throw new AppError('VALIDATION_FAILED', 'A revocation needs a reason');
  if (!isUuid(id)) throw new AppError('OFFICIAL_NOT_FOUND', `Authorised official ${id} not found`);
  const r = await tx
    .updateTable('authorised_officials')
    .set({ revoked_at: ctx.clock.now(), revoked_by: ctx.actor.label, revoked_reason: reason })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) {
    const exists = await select(tx, ctx.tenant.id).where('o.id', '=', id).executeTakeFirst();
    if (!exists) throw new AppError('OFFICIAL_NOT_FOUND', `Authorised official ${id} not found`);
    throw new AppError('OFFICIAL_ALREADY_REVOKED', 'This record was already revoked');
  }
  await audit(tx, ctx, 'authorised_official.revoke', id, { reason });
  return view(await select(tx, ctx.tenant.id).where('o.id', '=', id).executeTakeFirstOrThrow(), today(ctx));
}

export type OfficialQuery = {
  /** Only records in force on this date (YYYY-MM-DD); `inForce: true` means today. */
  on?: string;
  inForce?: boolean;
  scope?: OfficialScope;
  userId?: string;
};

/** The register, newest first, with each record's status today. */
export async function listOfficials(tx: Tx, ctx: Ctx, query: OfficialQuery = {}): Promise<OfficialView[]> {
  if (!canReadOfficials(ctx)) throw new AppError('FORBIDDEN', 'You may not read this register');
  const on = query.on ? assertCivilDate(query.on, 'on') : query.inForce ? today(ctx) : null;
  let q = select(tx, ctx.tenant.id);
  if (on) q = inForceOn(q, on);
  if (query.scope) q = q.where(sql<boolean>`${query.scope} = any(o.scopes)`);
  if (query.userId) {
    if (!isUuid(query.userId)) throw new AppError('VALIDATION_FAILED', 'userId must be a UUID');
    q = q.where('o.user_id', '=', query.userId);
  }
  const rows = await q.orderBy('o.created_at', 'desc').orderBy('o.id', 'desc').execute();
  const t = today(ctx);
  return rows.map((r) => view(r, t));
}

function inForceOn<Q extends ReturnType<typeof select>>(q: Q, on: string): Q {
  return q
    .where('o.revoked_at', 'is', null)
    .where('o.valid_from', '<=', on)
    .where((eb) => eb.or([eb('o.valid_to', 'is', null), eb('o.valid_to', '>=', on)])) as Q;
}

/**
 * What the seu publishes (art. 12.3: the register is public): the records in force on `on`, by
 * name, without user ids. Takes a transaction already scoped to the entity (the seu's public,
 * audited platform access, or a member's tenant transaction); checks no role, on purpose.
 */
export async function publishedOfficials(tx: Tx, tenantId: string, on: string): Promise<PublishedOfficial[]> {
  const rows = await inForceOn(select(tx, tenantId), assertCivilDate(on, 'on'))
    .orderBy('o.name')
    .orderBy('o.id')
    .execute();
  return rows.map((r) => ({
    name: r.name,
    position: r.position,
    scopes: r.scopes,
    validFrom: r.valid_from,
    validTo: r.valid_to,
  }));
}

/** The caller's record in force today for `scope`, or null. */
export async function findOfficialInForce(
  tx: Tx,
  ctx: Ctx,
  scope: OfficialScope,
): Promise<{ id: string; name: string } | null> {
  if (!ctx.actor.id) return null;
  const r = await inForceOn(select(tx, ctx.tenant.id), today(ctx))
    .where('o.user_id', '=', ctx.actor.id)
    .where(sql<boolean>`${scope} = any(o.scopes)`)
    .orderBy('o.valid_from', 'desc')
    .executeTakeFirst();
  return r ? { id: r.id, name: r.name } : null;
}

/** Refuses with OFFICIAL_NOT_AUTHORISED (403) unless the caller is an official in force for `scope`. */
export async function assertOfficialInForce(
  tx: Tx,
  ctx: Ctx,
  scope: OfficialScope,
): Promise<{ id: string; name: string }> {
  const o = await findOfficialInForce(tx, ctx, scope);
  if (!o)
    throw new AppError(
      'OFFICIAL_NOT_AUTHORISED',
      scope === 'copies'
        ? 'Only an official registered and in force for authentic copies may make them (LPACAP art. 27.1)'
        : 'Only an official registered and in force for assistance may act for a citizen (LPACAP art. 12.3)',
    );
  return o;
}
