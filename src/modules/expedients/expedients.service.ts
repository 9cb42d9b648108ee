import type { Ctx } from '#platform/context.ts';
import { madridYear, nextNumber } from '#platform/db/counters.ts';
import type { Tx } from '#platform/db/database.ts';
import type { ExpedientsTable } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { isUuid, newId } from '#platform/ids.ts';
import { listEventsForObjects, recordEvent } from '#modules/audit/audit.service.ts';
import { getParty } from '#modules/parties/parties.service.ts';
import { findUnit } from '#modules/tenancy/units.service.ts';
import {
  canCreateExpedient,
  canManageAccess,
  canReadAudit,
  canReopenExpedient,
  canWriteExpedient,
} from './expedients.policy.ts';
import {
  type ExpedientRow,
  getVisibleExpedient,
  getVisibleExpedientDetail,
  type ListFilter,
  listVisibleExpedients,
} from './expedients.repository.ts';

export type PartyRole = 'applicant' | 'representative' | 'interested';
export type AccessLevel = ExpedientsTable['access_level'];

export type ExpedientSummary = {
  id: string;
  number: string;
  eniId: string;
  title: string;
  classification: string | null;
  state: ExpedientsTable['state'];
  accessLevel: AccessLevel;
  openedAt: string;
  closedAt: string | null;
  unit: { id: string; name: string } | null;
};

export type ExpedientView = ExpedientSummary & {
  parties: { partyId: string; role: PartyRole; identifier: string; name: string }[];
  documentCount: number;
};

export function toSummary(r: ExpedientRow): ExpedientSummary {
  return {
    id: r.id,
    number: r.number,
    eniId: r.eni_id,
    title: r.title,
    classification: r.classification,
    state: r.state,
    accessLevel: r.access_level,
    openedAt: new Date(r.opened_at).toISOString(),
    closedAt: r.closed_at ? new Date(r.closed_at).toISOString() : null,
    unit: r.unit_id ? { id: r.unit_id, name: r.unit_name ?? '' } : null,
  };
}

/** NTI Expediente: `ES_<DIR3>_<YYYY>_EXP_<id>`, `<id>` ≤ 30 characters, the whole ≤ 52. */
export function expedientEniId(dir3: string, year: number, seq: number): string {
  const id = `EXP_${String(seq).padStart(6, '0')}`;
  const eni = `ES_${dir3}_${year}_${id}`;
  if (eni.length > 52) throw new Error(`ENI identifier too long: ${eni}`);
  return eni;
}

export function formatExpedientNumber(year: number, seq: number): string {
  return `${year}/${String(seq).padStart(6, '0')}`;
}

function audit(tx: Tx, ctx: Ctx, action: string, objectId: string, details: Record<string, unknown> = {}) {
  return recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action,
    objectType: 'expedient',
    objectId,
    details,
  });
}

const actorId = (ctx: Ctx) => ctx.actor.id ?? '00000000-0000-0000-0000-000000000000';

/**
 * The case file if the caller may see it, else EXPEDIENT_NOT_FOUND (another entity's id, a
 * malformed id and a restricted file not shared with the caller all look the same).
 * Reading a restricted case file is audited. The entity's own automated actions (the system
 * actor: a notification's evidence, a publication's certificate, a decree's stamp) act on the
 * case file their record belongs to whatever its access level: the evidence of a restricted case
 * file belongs in that case file's index too.
 */
export async function loadExpedient(
  tx: Tx,
  ctx: Ctx,
  id: string,
  opts: { forUpdate?: boolean; auditRead?: boolean } = {},
): Promise<ExpedientRow> {
  if (!isUuid(id)) throw new AppError('EXPEDIENT_NOT_FOUND', 'Case file not found');
  const row = await getVisibleExpedient(tx, ctx.tenant.id, actorId(ctx), id, {
    forUpdate: opts.forUpdate,
    anyAccess: ctx.actor.kind === 'system',
  });
  if (!row) throw new AppError('EXPEDIENT_NOT_FOUND', 'Case file not found');
  if (opts.auditRead && row.access_level === 'restricted') await audit(tx, ctx, 'expedient.read', row.id);
  return row;
}

export type CreateExpedientInput = {
  title: string;
  classification?: string | null;
  unitId?: string | null;
  accessLevel?: AccessLevel;
  parties?: { partyId: string; role: PartyRole }[];
};

export async function createExpedient(tx: Tx, ctx: Ctx, input: CreateExpedientInput): Promise<ExpedientView> {
  if (!canCreateExpedient(ctx)) throw new AppError('FORBIDDEN', 'You may not open case files in this entity');
  const title = input.title.trim();
  if (!title) throw new AppError('VALIDATION_FAILED', 'The title is empty');
  let unit: { id: string; name: string } | null = null;
  if (input.unitId) {
    const found = await findUnit(tx, ctx, input.unitId);
    unit = found ? { id: found.id, name: found.name } : null;
    if (!unit) throw new AppError('UNIT_NOT_FOUND', 'The responsible unit does not exist in this entity');
  }
  const parties = input.parties ?? [];
  const partyViews: ExpedientView['parties'] = [];
  for (const p of parties) {
    const party = await getParty(tx, ctx, p.partyId);
    if (!partyViews.some((x) => x.partyId === p.partyId && x.role === p.role)) {
      partyViews.push({
        partyId: p.partyId,
        role: p.role,
        identifier: party.identifier,
        name: fullName(party),
      });
    }
  }
  const now = ctx.clock.now();
  const year = madridYear(now);
  // Counter first, audit head last (lock order).
  const seq = await nextNumber(tx, ctx.tenant.id, 'expedient', year);
  const id = newId();
  const accessLevel = input.accessLevel ?? 'internal';
  await tx
    .insertInto('expedients')
    .values({
      tenant_id: ctx.tenant.id,
      id,
      number: formatExpedientNumber(year, seq),
      year,
      seq,
      eni_id: expedientEniId(ctx.tenant.dir3, year, seq),
      title,
      classification: input.classification?.trim() || null,
      unit_id: input.unitId ?? null,
      access_level: accessLevel,
      state: 'E01',
      opened_at: now,
      closed_at: null,
      created_by: ctx.actor.id,
      updated_at: now,
    })
    .execute();
  for (const p of parties) {
    await tx
      .insertInto('expedient_parties')
      .values({
        tenant_id: ctx.tenant.id,
        expedient_id: id,
        party_id: p.partyId,
        role: p.role,
        added_at: now,
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  if (accessLevel === 'restricted' && ctx.actor.id) {
    // Whoever opens a restricted case file is named on it.
    await tx
      .insertInto('expedient_access')
      .values({
        tenant_id: ctx.tenant.id,
        id: newId(),
        expedient_id: id,
        user_id: ctx.actor.id,
        unit_id: null,
        granted_at: now,
      })
      .execute();
  }
  await audit(tx, ctx, 'expedient.create', id, {
    number: formatExpedientNumber(year, seq),
    title,
    accessLevel,
    parties: parties.map((p) => ({ partyId: p.partyId, role: p.role })),
  });
  // The answer is built from what was written: no reads while the counter and the audit head are locked.
  return {
    id,
    number: formatExpedientNumber(year, seq),
    eniId: expedientEniId(ctx.tenant.dir3, year, seq),
    title,
    classification: input.classification?.trim() || null,
    state: 'E01',
    accessLevel,
    openedAt: now.toISOString(),
    closedAt: null,
    unit,
    parties: partyViews,
    documentCount: 0,
  };
}

function fullName(p: { name: string; surname1: string | null; surname2: string | null }): string {
  return [p.name, p.surname1, p.surname2].filter(Boolean).join(' ');
}

export async function getExpedientView(
  tx: Tx,
  ctx: Ctx,
  id: string,
  opts: { auditRead?: boolean } = {},
): Promise<ExpedientView> {
  if (!isUuid(id)) throw new AppError('EXPEDIENT_NOT_FOUND', 'Case file not found');
  const row = await getVisibleExpedientDetail(tx, ctx.tenant.id, actorId(ctx), id);
  if (!row) throw new AppError('EXPEDIENT_NOT_FOUND', 'Case file not found');
  if ((opts.auditRead ?? true) && row.access_level === 'restricted')
    await audit(tx, ctx, 'expedient.read', row.id);
  const parties =
    typeof row.parties === 'string'
      ? (JSON.parse(row.parties) as Exclude<typeof row.parties, string>)
      : row.parties;
  return {
    ...toSummary(row),
    parties: parties.map((p) => ({
      partyId: p.party_id,
      role: p.role,
      identifier: p.identifier,
      name: fullName(p),
    })),
    documentCount: Number(row.document_count),
  };
}

export async function listExpedients(tx: Tx, ctx: Ctx, f: ListFilter) {
  const { rows, total } = await listVisibleExpedients(tx, ctx.tenant.id, actorId(ctx), f);
  return { items: rows.map(toSummary), total, page: f.page, pageSize: f.pageSize };
}

/** A case file that accepts changes: visible, writable by the caller, open (E01). Locks its row. */
export async function loadWritableExpedient(tx: Tx, ctx: Ctx, id: string): Promise<ExpedientRow> {
  const row = await loadExpedient(tx, ctx, id, { forUpdate: true });
  if (!canWriteExpedient(ctx)) throw new AppError('FORBIDDEN', 'You may not change this case file');
  if (row.state !== 'E01') throw new AppError('EXPEDIENT_CLOSED', `Case file ${row.number} is closed`);
  return row;
}

export async function closeExpedient(tx: Tx, ctx: Ctx, id: string): Promise<ExpedientView> {
  const row = await loadExpedient(tx, ctx, id, { forUpdate: true });
  if (!canWriteExpedient(ctx)) throw new AppError('FORBIDDEN', 'You may not close this case file');
  if (row.state !== 'E01')
    throw new AppError('EXPEDIENT_ALREADY_CLOSED', `Case file ${row.number} is already closed`);
  const now = ctx.clock.now();
  await tx
    .updateTable('expedients')
    .set({ state: 'E02', closed_at: now, updated_at: now })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', row.id)
    .execute();
  await audit(tx, ctx, 'expedient.close', row.id, { number: row.number });
  return getExpedientView(tx, ctx, row.id, { auditRead: false });
}

export async function reopenExpedient(tx: Tx, ctx: Ctx, id: string, reason: string): Promise<ExpedientView> {
  const row = await loadExpedient(tx, ctx, id, { forUpdate: true });
  if (!canReopenExpedient(ctx))
    throw new AppError('FORBIDDEN', 'Only an administrator may reopen a case file');
  if (row.state !== 'E02')
    throw new AppError('EXPEDIENT_NOT_CLOSED', `Case file ${row.number} is not closed`);
  if (!reason.trim()) throw new AppError('VALIDATION_FAILED', 'Reopening needs a reason');
  const now = ctx.clock.now();
  await tx
    .updateTable('expedients')
    .set({ state: 'E01', closed_at: null, updated_at: now })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', row.id)
    .execute();
  await audit(tx, ctx, 'expedient.reopen', row.id, { number: row.number, reason: reason.trim() });
  return getExpedientView(tx, ctx, row.id, { auditRead: false });
}

export async function addExpedientParty(
  tx: Tx,
  ctx: Ctx,
  id: string,
  input: { partyId: string; role: PartyRole },
): Promise<ExpedientView> {
  const row = await loadWritableExpedient(tx, ctx, id);
  if (!isUuid(input.partyId)) throw new AppError('PARTY_NOT_FOUND', 'Party not found');
  await getParty(tx, ctx, input.partyId);
  const r = await tx
    .insertInto('expedient_parties')
    .values({
      tenant_id: ctx.tenant.id,
      expedient_id: row.id,
      party_id: input.partyId,
      role: input.role,
      added_at: ctx.clock.now(),
    })
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  if (Number(r.numInsertedOrUpdatedRows ?? 0) > 0) {
    await audit(tx, ctx, 'expedient.party_add', row.id, { partyId: input.partyId, role: input.role });
  }
  return getExpedientView(tx, ctx, row.id, { auditRead: false });
}

/** Names a user or a unit on a restricted case file (admin). */
export async function grantExpedientAccess(
  tx: Tx,
  ctx: Ctx,
  id: string,
  input: { userId?: string; unitId?: string },
): Promise<void> {
  if (!canManageAccess(ctx)) throw new AppError('FORBIDDEN', 'Only an administrator may grant access');
  if (!isUuid(id)) throw new AppError('EXPEDIENT_NOT_FOUND', 'Case file not found');
  // An admin manages access even to restricted files not shared with them, without reading them.
  const row = await tx
    .selectFrom('expedients')
    .select(['id', 'number'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new AppError('EXPEDIENT_NOT_FOUND', 'Case file not found');
  if (Boolean(input.userId) === Boolean(input.unitId))
    throw new AppError('VALIDATION_FAILED', 'Give either userId or unitId');
  if (input.unitId && !(await findUnit(tx, ctx, input.unitId))) {
    throw new AppError('UNIT_NOT_FOUND', 'Unit not found');
  }
  if (input.userId) {
    const member = isUuid(input.userId)
      ? await tx
          .selectFrom('memberships')
          .select('user_id')
          .where('tenant_id', '=', ctx.tenant.id)
          .where('user_id', '=', input.userId)
          .executeTakeFirst()
      : undefined;
    if (!member) throw new AppError('USER_NOT_FOUND', 'The user is not a member of this entity');
  }
  await tx
    .insertInto('expedient_access')
    .values({
      tenant_id: ctx.tenant.id,
      id: newId(),
      expedient_id: row.id,
      user_id: input.userId ?? null,
      unit_id: input.unitId ?? null,
      granted_at: ctx.clock.now(),
    })
    .execute();
  await audit(tx, ctx, 'expedient.access_grant', row.id, {
    userId: input.userId ?? null,
    unitId: input.unitId ?? null,
  });
}

/** The audit trail of a case file and of the documents in its index. */
export async function expedientAuditTrail(tx: Tx, ctx: Ctx, id: string) {
  const row = await loadExpedient(tx, ctx, id, { auditRead: true });
  if (!canReadAudit(ctx)) throw new AppError('FORBIDDEN', 'You may not read the audit trail');
  const docs = await tx
    .selectFrom('index_entries')
    .select('document_id')
    .where('tenant_id', '=', ctx.tenant.id)
    .where('expedient_id', '=', row.id)
    .execute();
  return listEventsForObjects(tx, ctx.tenant.id, [
    { type: 'expedient', id: row.id },
    ...docs.map((d) => ({ type: 'document', id: d.document_id })),
  ]);
}
