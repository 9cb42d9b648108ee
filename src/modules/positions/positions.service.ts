import { sql } from 'kysely';
import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import type { PositionKind } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { isUuid, newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { addDays, assertCivilDate, madridDateOf } from '#modules/calendar/civil-date.ts';
import { canManagePositions, canReadPositions } from './positions.policy.ts';

/**
 * An entity's positions (càrrecs): who holds each one on a given day (Europe/Madrid civil dates,
 * both ends included), who acts when the holder is absent ("per substitució": ROF art. 47 for the
 * mayor, whose deputies substitute by their order; a user or another position for the rest), and
 * which areas and powers a position holds by delegation of the mayor (LBRL art. 21.3 and 23.4;
 * ROF art. 43–44), with the decree that delegated them.
 *
 * Positions are created, never edited or deleted; a holder is only ever ended (by the next holder
 * or explicitly); absences and delegations are added. The book of resolutions and the signature
 * circuits ask `actingHolder` and `positionsOfUser`.
 */
export const POSITION_KINDS = [
  'mayor',
  'deputy_mayor',
  'secretary',
  'secretary_intervenor',
  'intervenor',
  'treasurer',
  'councillor',
  'other',
] as const satisfies readonly PositionKind[];

export type NewPosition = {
  kind: PositionKind;
  title: string;
  /** The area of a councillor or deputy ("Urbanisme"). */
  area?: string | null;
  /** Required for deputy_mayor: 1 = first tinent d'alcalde. */
  deputyOrder?: number | null;
  substituteUserId?: string | null;
  substitutePositionId?: string | null;
};

export type NewHolder = {
  userId: string;
  validFrom: string;
  validTo?: string | null;
  /** The decree or act of appointment ("Decret 2026/000012", "Acta del Ple de 15-06-2027"). */
  appointmentReference?: string | null;
};

export type NewAbsence = { from: string; to: string; reason: string };

export type NewDelegation = {
  areas: string[];
  powers: string;
  decreeReference: string;
  decreeDate: string;
  /** Default: the decree's date. */
  validFrom?: string | null;
  validTo?: string | null;
};

export type HolderView = {
  id: string;
  userId: string;
  username: string;
  name: string;
  validFrom: string;
  validTo: string | null;
  appointmentReference: string | null;
  createdBy: string;
  createdAt: string;
};

export type AbsenceView = {
  id: string;
  from: string;
  to: string;
  reason: string;
  createdBy: string;
  createdAt: string;
};

export type DelegationView = {
  id: string;
  areas: string[];
  powers: string;
  decreeReference: string;
  decreeDate: string;
  validFrom: string;
  validTo: string | null;
  createdBy: string;
  createdAt: string;
};

/** Who acts for a position at a moment: the holder, or a substitute "per substitució". */
export type ActingHolder = {
  userId: string;
  bySubstitution: boolean;
  /** The absent holder, when a substitute acts. */
  substituteFor?: string;
};

export type PositionView = {
  id: string;
  kind: PositionKind;
  title: string;
  area: string | null;
  deputyOrder: number | null;
  substituteUserId: string | null;
  substitutePositionId: string | null;
  createdBy: string;
  createdAt: string;
  holders: HolderView[];
  absences: AbsenceView[];
  delegations: DelegationView[];
  /** Who acts today (Europe/Madrid), with names; null when nobody can. */
  actingToday: (ActingHolder & { name: string }) | null;
};

export type UserPosition = {
  positionId: string;
  kind: PositionKind;
  title: string;
  area: string | null;
  bySubstitution: boolean;
  substituteFor?: string;
  /** The delegations of the position in force on that day. */
  delegations: DelegationView[];
};

const iso = (d: Date | string) => new Date(d).toISOString();
const dateCol = (col: string) => sql<string>`to_char(${sql.ref(col)}, 'YYYY-MM-DD')`;
const dateColNull = (col: string) => sql<string | null>`to_char(${sql.ref(col)}, 'YYYY-MM-DD')`;

function text(v: string | null | undefined, what: string, max: number): string | null {
  if (v === undefined || v === null) return null;
  const t = v.trim();
  if (t.length === 0 || t.length > max)
    throw new AppError('VALIDATION_FAILED', `${what} must have 1 to ${max} characters`);
  return t;
}

function requireText(v: string, what: string, max: number): string {
  const t = text(v, what, max);
  if (!t) throw new AppError('VALIDATION_FAILED', `${what} is required`);
  return t;
}

function assertManage(ctx: Ctx): void {
  if (!canManagePositions(ctx))
    throw new AppError('FORBIDDEN', "Only an administrator keeps the entity's positions");
}

function assertRead(ctx: Ctx): void {
  if (!canReadPositions(ctx)) throw new AppError('FORBIDDEN', "You may not read the entity's positions");
}

function audit(tx: Tx, ctx: Ctx, action: string, id: string, details: Record<string, unknown>) {
  return recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action,
    objectType: 'position',
    objectId: id,
    details,
  });
}

async function assertMember(tx: Tx, ctx: Ctx, userId: string): Promise<void> {
  const m = isUuid(userId)
    ? await tx
        .selectFrom('memberships')
        .select('user_id')
        .where('tenant_id', '=', ctx.tenant.id)
        .where('user_id', '=', userId)
        .executeTakeFirst()
    : undefined;
  if (!m) throw new AppError('USER_NOT_FOUND', 'The user is not a member of this entity');
}

/** The position row, locked when `lock` (holders and absences of one position are added one at a time). */
async function positionRow(tx: Tx, ctx: Ctx, id: string, lock = false) {
  if (!isUuid(id)) throw new AppError('POSITION_NOT_FOUND', `Position ${id} not found`);
  let q = tx.selectFrom('positions').selectAll().where('tenant_id', '=', ctx.tenant.id).where('id', '=', id);
  if (lock) q = q.forUpdate();
  const r = await q.executeTakeFirst();
  if (!r) throw new AppError('POSITION_NOT_FOUND', `Position ${id} not found`);
  return r;
}

// ---------------------------------------------------------------- writes

export async function createPosition(tx: Tx, ctx: Ctx, input: NewPosition): Promise<PositionView> {
  assertManage(ctx);
  if (!(POSITION_KINDS as readonly string[]).includes(input.kind))
    throw new AppError('VALIDATION_FAILED', `kind must be one of ${POSITION_KINDS.join(', ')}`);
  const title = requireText(input.title, 'title', 200);
  const area = text(input.area, 'area', 200);
  const deputyOrder = input.deputyOrder ?? null;
  if ((input.kind === 'deputy_mayor') !== (deputyOrder !== null))
    throw new AppError('VALIDATION_FAILED', 'deputyOrder is required for a deputy mayor, and only for one');
  if (input.substituteUserId && input.substitutePositionId)
    throw new AppError('VALIDATION_FAILED', 'A substitute is a user or a position, not both');
  if (input.substituteUserId) await assertMember(tx, ctx, input.substituteUserId);
  if (input.substitutePositionId) await positionRow(tx, ctx, input.substitutePositionId);
  const clash = await tx
    .selectFrom('positions')
    .select(['id', 'kind', 'title', 'deputy_order'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where((eb) =>
      eb.or([
        eb('title', '=', title),
        ...(input.kind === 'mayor' ? [eb('kind', '=', 'mayor')] : []),
        ...(deputyOrder !== null
          ? [eb.and([eb('kind', '=', 'deputy_mayor'), eb('deputy_order', '=', deputyOrder)])]
          : []),
      ]),
    )
    .executeTakeFirst();
  if (clash)
    throw new AppError(
      'CONFLICT',
      clash.title === title
        ? `There is already a position titled "${title}"`
        : input.kind === 'mayor'
          ? 'The entity already has its mayor/president position'
          : `There is already a deputy mayor number ${deputyOrder}`,
      { positionId: clash.id },
    );
  const id = newId();
  await tx
    .insertInto('positions')
    .values({
      tenant_id: ctx.tenant.id,
      id,
      kind: input.kind,
      title,
      area,
      deputy_order: deputyOrder,
      substitute_user_id: input.substituteUserId ?? null,
      substitute_position_id: input.substitutePositionId ?? null,
      created_by: ctx.actor.label,
      created_at: ctx.clock.now(),
    })
    .execute();
  await audit(tx, ctx, 'position.create', id, {
    kind: input.kind,
    title,
    area,
    deputyOrder,
    substituteUserId: input.substituteUserId ?? null,
    substitutePositionId: input.substitutePositionId ?? null,
  });
  return getPosition(tx, ctx, id);
}

/**
 * A new holder from `validFrom`. The holder in office that day is ended the day before (one
 * holder a day); a holder who starts on or after `validFrom` makes it POSITION_HOLDER_OVERLAP
 * (history is not rewritten: a mistaken later appointment is ended, not replaced).
 */
export async function appointHolder(
  tx: Tx,
  ctx: Ctx,
  positionId: string,
  input: NewHolder,
): Promise<PositionView> {
  assertManage(ctx);
  await positionRow(tx, ctx, positionId, true);
  const validFrom = assertCivilDate(input.validFrom, 'validFrom');
  const validTo = input.validTo ? assertCivilDate(input.validTo, 'validTo') : null;
  if (validTo && validTo < validFrom) throw new AppError('VALIDATION_FAILED', 'validTo is before validFrom');
  const reference = text(input.appointmentReference, 'appointmentReference', 200);
  await assertMember(tx, ctx, input.userId);
  const later = await tx
    .selectFrom('position_holders')
    .select(['id', dateCol('valid_from').as('valid_from')])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('position_id', '=', positionId)
    .where('valid_from', '>=', validFrom)
    .orderBy('valid_from')
    .executeTakeFirst();
  if (later)
    throw new AppError(
      'POSITION_HOLDER_OVERLAP',
      `Another holder starts on ${later.valid_from}, on or after ${validFrom}`,
      { holderId: later.id },
    );
  const dayBefore = addDays(validFrom, -1);
  const ended = await tx
    .updateTable('position_holders')
    .set({ valid_to: dayBefore })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('position_id', '=', positionId)
    .where('valid_from', '<', validFrom)
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>=', validFrom)]))
    .returning(['id', 'user_id'])
    .execute();
  const id = newId();
  await tx
    .insertInto('position_holders')
    .values({
      tenant_id: ctx.tenant.id,
      id,
      position_id: positionId,
      user_id: input.userId,
      valid_from: validFrom,
      valid_to: validTo,
      appointment_reference: reference,
      created_by: ctx.actor.label,
      created_at: ctx.clock.now(),
    })
    .execute();
  await audit(tx, ctx, 'position.holder_appoint', positionId, {
    holderId: id,
    userId: input.userId,
    validFrom,
    validTo,
    appointmentReference: reference,
    ended: ended.map((e) => ({ holderId: e.id, userId: e.user_id, validTo: dayBefore })),
  });
  return getPosition(tx, ctx, positionId);
}

/** Records an absence of the position's holder, during which the substitute acts. */
export async function recordAbsence(
  tx: Tx,
  ctx: Ctx,
  positionId: string,
  input: NewAbsence,
): Promise<PositionView> {
  assertManage(ctx);
  const position = await positionRow(tx, ctx, positionId, true);
  const from = assertCivilDate(input.from, 'from');
  const to = assertCivilDate(input.to, 'to');
  if (to < from) throw new AppError('VALIDATION_FAILED', '"to" is before "from"');
  const reason = requireText(input.reason, 'reason', 1000);
  if (!position.substitute_user_id && !position.substitute_position_id)
    throw new AppError(
      'POSITION_NO_SUBSTITUTE',
      'The position has no substitute: nobody could act during the absence',
    );
  const overlap = await tx
    .selectFrom('position_absences')
    .select('id')
    .where('tenant_id', '=', ctx.tenant.id)
    .where('position_id', '=', positionId)
    .where('date_from', '<=', to)
    .where('date_to', '>=', from)
    .executeTakeFirst();
  if (overlap)
    throw new AppError('POSITION_ABSENCE_OVERLAP', 'An absence is already recorded for some of those days', {
      absenceId: overlap.id,
    });
  const id = newId();
  await tx
    .insertInto('position_absences')
    .values({
      tenant_id: ctx.tenant.id,
      id,
      position_id: positionId,
      date_from: from,
      date_to: to,
      reason,
      created_by: ctx.actor.label,
      created_at: ctx.clock.now(),
    })
    .execute();
  await audit(tx, ctx, 'position.absence_record', positionId, { absenceId: id, from, to, reason });
  return getPosition(tx, ctx, positionId);
}

/** Records the areas and powers delegated to a position by a mayor's decree (LBRL art. 21.3, 23.4). */
export async function recordDelegation(
  tx: Tx,
  ctx: Ctx,
  positionId: string,
  input: NewDelegation,
): Promise<PositionView> {
  assertManage(ctx);
  const position = await positionRow(tx, ctx, positionId);
  if (position.kind === 'mayor')
    throw new AppError('VALIDATION_FAILED', 'The mayor delegates powers; the mayor holds them by law');
  const areas = [...new Set(input.areas.map((a) => requireText(a, 'area', 200)))];
  if (areas.length === 0 || areas.length > 50)
    throw new AppError('VALIDATION_FAILED', 'areas must list 1 to 50 areas');
  const powers = requireText(input.powers, 'powers', 4000);
  const decreeReference = requireText(input.decreeReference, 'decreeReference', 200);
  const decreeDate = assertCivilDate(input.decreeDate, 'decreeDate');
  const validFrom = input.validFrom ? assertCivilDate(input.validFrom, 'validFrom') : decreeDate;
  const validTo = input.validTo ? assertCivilDate(input.validTo, 'validTo') : null;
  if (validFrom < decreeDate)
    throw new AppError('VALIDATION_FAILED', 'A delegation cannot take effect before its decree');
  if (validTo && validTo < validFrom) throw new AppError('VALIDATION_FAILED', 'validTo is before validFrom');
  const id = newId();
  await tx
    .insertInto('position_delegations')
    .values({
      tenant_id: ctx.tenant.id,
      id,
      position_id: positionId,
      areas,
      powers,
      decree_reference: decreeReference,
      decree_date: decreeDate,
      valid_from: validFrom,
      valid_to: validTo,
      created_by: ctx.actor.label,
      created_at: ctx.clock.now(),
    })
    .execute();
  await audit(tx, ctx, 'position.delegation_record', positionId, {
    delegationId: id,
    areas,
    powers,
    decreeReference,
    decreeDate,
    validFrom,
    validTo,
  });
  return getPosition(tx, ctx, positionId);
}

// ---------------------------------------------------------------- reads

function holdersQuery(tx: Tx, tenantId: string) {
  return tx
    .selectFrom('position_holders as h')
    .innerJoin('users as u', 'u.id', 'h.user_id')
    .select([
      'h.id',
      'h.position_id',
      'h.user_id',
      'u.username',
      'u.name',
      dateCol('h.valid_from').as('valid_from'),
      dateColNull('h.valid_to').as('valid_to'),
      'h.appointment_reference',
      'h.created_by',
      'h.created_at',
    ])
    .where('h.tenant_id', '=', tenantId);
}

function absencesQuery(tx: Tx, tenantId: string) {
  return tx
    .selectFrom('position_absences')
    .select([
      'id',
      'position_id',
      dateCol('date_from').as('date_from'),
      dateCol('date_to').as('date_to'),
      'reason',
      'created_by',
      'created_at',
    ])
    .where('tenant_id', '=', tenantId);
}

function delegationsQuery(tx: Tx, tenantId: string) {
  return tx
    .selectFrom('position_delegations')
    .select([
      'id',
      'position_id',
      'areas',
      'powers',
      'decree_reference',
      dateCol('decree_date').as('decree_date'),
      dateCol('valid_from').as('valid_from'),
      dateColNull('valid_to').as('valid_to'),
      'created_by',
      'created_at',
    ])
    .where('tenant_id', '=', tenantId);
}

type HolderRow = Awaited<ReturnType<ReturnType<typeof holdersQuery>['execute']>>[number];
type AbsenceRow = Awaited<ReturnType<ReturnType<typeof absencesQuery>['execute']>>[number];
type DelegationRow = Awaited<ReturnType<ReturnType<typeof delegationsQuery>['execute']>>[number];

const holderView = (r: HolderRow): HolderView => ({
  id: r.id,
  userId: r.user_id,
  username: r.username,
  name: r.name,
  validFrom: r.valid_from,
  validTo: r.valid_to,
  appointmentReference: r.appointment_reference,
  createdBy: r.created_by,
  createdAt: iso(r.created_at),
});

const absenceView = (r: AbsenceRow): AbsenceView => ({
  id: r.id,
  from: r.date_from,
  to: r.date_to,
  reason: r.reason,
  createdBy: r.created_by,
  createdAt: iso(r.created_at),
});

const delegationView = (r: DelegationRow): DelegationView => ({
  id: r.id,
  areas: r.areas,
  powers: r.powers,
  decreeReference: r.decree_reference,
  decreeDate: r.decree_date,
  validFrom: r.valid_from,
  validTo: r.valid_to,
  createdBy: r.created_by,
  createdAt: iso(r.created_at),
});

/** Every position of the entity, with its history and who acts today. */
export async function listPositions(tx: Tx, ctx: Ctx): Promise<PositionView[]> {
  assertRead(ctx);
  return positionViews(tx, ctx, null);
}

export async function getPosition(tx: Tx, ctx: Ctx, id: string): Promise<PositionView> {
  assertRead(ctx);
  await positionRow(tx, ctx, id);
  const [v] = await positionViews(tx, ctx, id);
  return v!;
}

async function positionViews(tx: Tx, ctx: Ctx, onlyId: string | null): Promise<PositionView[]> {
  const t = ctx.tenant.id;
  let pq = tx.selectFrom('positions').selectAll().where('tenant_id', '=', t);
  if (onlyId) pq = pq.where('id', '=', onlyId);
  const positions = await pq
    .orderBy(
      sql`array_position(array['mayor','deputy_mayor','secretary','secretary_intervenor','intervenor','treasurer','councillor','other']::text[], kind)`,
    )
    .orderBy('deputy_order')
    .orderBy('title')
    .execute();
  // One after another: a transaction is one connection.
  const holders = await holdersQuery(tx, t).orderBy('h.valid_from').execute();
  const absences = await absencesQuery(tx, t).orderBy('date_from').execute();
  const delegations = await delegationsQuery(tx, t).orderBy('valid_from').execute();
  const today = madridDateOf(ctx.clock.now());
  const snapshot = snapshotOf(positions, holders, absences);
  const names = new Map(holders.map((h) => [h.user_id, h.name || h.username]));
  const missing = new Set<string>();
  const acting = new Map<string, ActingHolder | null>();
  for (const p of positions) {
    const r = resolve(snapshot, p.id, today, new Set());
    const a = 'userId' in r ? r : null;
    acting.set(p.id, a);
    if (a && !names.has(a.userId)) missing.add(a.userId);
  }
  if (missing.size) {
    const us = await tx
      .selectFrom('users')
      .select(['id', 'name', 'username'])
      .where('id', 'in', [...missing])
      .execute();
    for (const u of us) names.set(u.id, u.name || u.username);
  }
  return positions.map((p) => {
    const a = acting.get(p.id) ?? null;
    return {
      id: p.id,
      kind: p.kind,
      title: p.title,
      area: p.area,
      deputyOrder: p.deputy_order,
      substituteUserId: p.substitute_user_id,
      substitutePositionId: p.substitute_position_id,
      createdBy: p.created_by,
      createdAt: iso(p.created_at),
      holders: holders.filter((h) => h.position_id === p.id).map(holderView),
      absences: absences.filter((x) => x.position_id === p.id).map(absenceView),
      delegations: delegations.filter((d) => d.position_id === p.id).map(delegationView),
      actingToday: a ? { ...a, name: names.get(a.userId) ?? '' } : null,
    };
  });
}

// ---------------------------------------------------------------- who acts

type Snapshot = {
  positions: Map<string, { substitute_user_id: string | null; substitute_position_id: string | null }>;
  holders: Map<string, { user_id: string; valid_from: string; valid_to: string | null }[]>;
  absences: Map<string, { date_from: string; date_to: string }[]>;
};

function snapshotOf(
  positions: { id: string; substitute_user_id: string | null; substitute_position_id: string | null }[],
  holders: { position_id: string; user_id: string; valid_from: string; valid_to: string | null }[],
  absences: { position_id: string; date_from: string; date_to: string }[],
): Snapshot {
  const group = <T extends { position_id: string }>(rows: T[]) => {
    const m = new Map<string, T[]>();
    for (const r of rows) m.set(r.position_id, [...(m.get(r.position_id) ?? []), r]);
    return m;
  };
  return {
    positions: new Map(positions.map((p) => [p.id, p])),
    holders: group(holders),
    absences: group(absences),
  };
}

type Resolution = ActingHolder | { problem: 'POSITION_VACANT' | 'POSITION_NO_SUBSTITUTE'; message: string };

/**
 * Who acts for a position on a civil day: its holder that day, or — while the holder is recorded
 * absent — the substitute user, or whoever acts for the substitute position (itself possibly by
 * substitution). A chain that loops back acts for nobody.
 */
function resolve(s: Snapshot, positionId: string, day: string, visited: Set<string>): Resolution {
  visited.add(positionId);
  const holder = (s.holders.get(positionId) ?? []).find(
    (h) => h.valid_from <= day && (h.valid_to === null || h.valid_to >= day),
  );
  if (!holder) return { problem: 'POSITION_VACANT', message: `Nobody holds the position on ${day}` };
  const absent = (s.absences.get(positionId) ?? []).some((a) => a.date_from <= day && a.date_to >= day);
  if (!absent) return { userId: holder.user_id, bySubstitution: false };
  const p = s.positions.get(positionId)!;
  const none: Resolution = {
    problem: 'POSITION_NO_SUBSTITUTE',
    message: `The holder is absent on ${day} and no substitute can act`,
  };
  if (p.substitute_user_id) {
    if (p.substitute_user_id === holder.user_id) return none;
    return { userId: p.substitute_user_id, bySubstitution: true, substituteFor: holder.user_id };
  }
  if (!p.substitute_position_id || visited.has(p.substitute_position_id)) return none;
  const sub = resolve(s, p.substitute_position_id, day, visited);
  if (!('userId' in sub) || sub.userId === holder.user_id) return none;
  return { userId: sub.userId, bySubstitution: true, substituteFor: holder.user_id };
}

async function loadSnapshot(tx: Tx, ctx: Ctx): Promise<Snapshot & { rows: PositionRowLite[] }> {
  const t = ctx.tenant.id;
  const positions = await tx
    .selectFrom('positions')
    .select(['id', 'kind', 'title', 'area', 'substitute_user_id', 'substitute_position_id'])
    .where('tenant_id', '=', t)
    .execute();
  const holders = await tx
    .selectFrom('position_holders')
    .select([
      'position_id',
      'user_id',
      dateCol('valid_from').as('valid_from'),
      dateColNull('valid_to').as('valid_to'),
    ])
    .where('tenant_id', '=', t)
    .execute();
  const absences = await tx
    .selectFrom('position_absences')
    .select(['position_id', dateCol('date_from').as('date_from'), dateCol('date_to').as('date_to')])
    .where('tenant_id', '=', t)
    .execute();
  return { ...snapshotOf(positions, holders, absences), rows: positions };
}

type PositionRowLite = { id: string; kind: PositionKind; title: string; area: string | null };

/**
 * Who acts for a position at an instant (its Europe/Madrid day): `{ userId, bySubstitution,
 * substituteFor? }`. POSITION_NOT_FOUND for an id not of this entity; POSITION_VACANT when nobody
 * holds it that day; POSITION_NO_SUBSTITUTE when the holder is absent and nobody can stand in.
 * Checks no role: callers (signature circuits, the book of resolutions) have checked theirs.
 */
export async function actingHolder(tx: Tx, ctx: Ctx, positionId: string, at: Date): Promise<ActingHolder> {
  await positionRow(tx, ctx, positionId);
  const s = await loadSnapshot(tx, ctx);
  const r = resolve(s, positionId, madridDateOf(at), new Set());
  if ('problem' in r) throw new AppError(r.problem, r.message, { positionId });
  return r;
}

/**
 * The positions a user acts for at an instant (its Europe/Madrid day): as holder (not absent) or
 * as substitute of an absent holder, each with the delegations in force that day.
 */
export async function positionsOfUser(tx: Tx, ctx: Ctx, userId: string, at: Date): Promise<UserPosition[]> {
  const day = madridDateOf(at);
  const s = await loadSnapshot(tx, ctx);
  const mine: (PositionRowLite & { acting: ActingHolder })[] = [];
  for (const p of s.rows) {
    const r = resolve(s, p.id, day, new Set());
    if ('userId' in r && r.userId === userId) mine.push({ ...p, acting: r });
  }
  if (mine.length === 0) return [];
  const delegations = await delegationsQuery(tx, ctx.tenant.id)
    .where(
      'position_id',
      'in',
      mine.map((m) => m.id),
    )
    .where('valid_from', '<=', day)
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>=', day)]))
    .orderBy('valid_from')
    .execute();
  return mine.map((m) => ({
    positionId: m.id,
    kind: m.kind,
    title: m.title,
    area: m.area,
    bySubstitution: m.acting.bySubstitution,
    ...(m.acting.substituteFor ? { substituteFor: m.acting.substituteFor } : {}),
    delegations: delegations.filter((d) => d.position_id === m.id).map(delegationView),
  }));
}
