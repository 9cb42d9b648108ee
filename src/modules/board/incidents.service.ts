import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { isUuid, newId } from '#platform/ids.ts';
import { sql } from 'kysely';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { isCivilDate } from '#modules/calendar/civil-date.ts';
import { canReadIncidents, canRecordIncident } from './board.policy.ts';

/**
 * Technical incidents of the seu (RD 203/2021; LPACAP art. 32.4): an administrator records when
 * the seu failed, whether it was unavailable (an outage), and the extension of the deadlines that
 * ended during it — the decision's text and the new date or number of days. The seu publishes
 * them; the certificate of publication lists the outages that overlap a publication's period.
 * The end of an ongoing incident and the extension are each recorded once (a published fact is
 * not rewritten); all of it is audited.
 */

export type IncidentExtension = {
  decision: string;
  newDate: string | null;
  days: number | null;
  recordedAt: string;
};

export type IncidentView = {
  id: string;
  startedAt: string;
  endedAt: string | null;
  ongoing: boolean;
  description: string;
  outage: boolean;
  extension: IncidentExtension | null;
  createdAt: string;
};

export type ExtensionInput = { decision: string; newDate?: string | undefined; days?: number | undefined };

export type IncidentInput = {
  startedAt: string;
  endedAt?: string | null | undefined;
  description: string;
  outage: boolean;
  extension?: ExtensionInput | undefined;
};

type Row = {
  id: string;
  started_at: Date;
  ended_at: Date | null;
  description: string;
  outage: boolean;
  extension_decision: string | null;
  extension_new_date: string | null;
  extension_days: number | null;
  extension_recorded_at: Date | null;
  created_at: Date;
};

function select(tx: Tx, tenantId: string) {
  return tx
    .selectFrom('board_incidents')
    .select([
      'id',
      'started_at',
      'ended_at',
      'description',
      'outage',
      'extension_decision',
      sql<string | null>`to_char(extension_new_date, 'YYYY-MM-DD')`.as('extension_new_date'),
      'extension_days',
      'extension_recorded_at',
      'created_at',
    ])
    .where('tenant_id', '=', tenantId);
}

const iso = (d: Date | string) => new Date(d).toISOString();

function toView(r: Row): IncidentView {
  return {
    id: r.id,
    startedAt: iso(r.started_at),
    endedAt: r.ended_at ? iso(r.ended_at) : null,
    ongoing: r.ended_at === null,
    description: r.description,
    outage: r.outage,
    extension:
      r.extension_decision && r.extension_recorded_at
        ? {
            decision: r.extension_decision,
            newDate: r.extension_new_date,
            days: r.extension_days,
            recordedAt: iso(r.extension_recorded_at),
          }
        : null,
    createdAt: iso(r.created_at),
  };
}

function instant(v: string, what: string): Date {
  const d = new Date(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(d.getTime()))
    throw new AppError('VALIDATION_FAILED', `${what} must be a date-time with its offset (ISO 8601)`);
  return d;
}

function checkEnd(start: Date, end: Date, now: Date): void {
  if (end.getTime() <= start.getTime())
    throw new AppError('VALIDATION_FAILED', 'The end of an incident comes after its start');
  if (end.getTime() > now.getTime())
    throw new AppError('VALIDATION_FAILED', 'The end of an incident is not in the future');
}

function checkExtension(e: ExtensionInput): {
  decision: string;
  newDate: string | null;
  days: number | null;
} {
  const decision = e.decision.trim();
  if (!decision || decision.length > 4000)
    throw new AppError('VALIDATION_FAILED', 'The extension decision must have 1 to 4000 characters');
  if (e.newDate === undefined && e.days === undefined)
    throw new AppError(
      'VALIDATION_FAILED',
      'An extension gives the new date (newDate) or the number of days (days)',
    );
  if (e.newDate !== undefined && !isCivilDate(e.newDate))
    throw new AppError('VALIDATION_FAILED', `newDate "${e.newDate}" is not a date YYYY-MM-DD`);
  if (e.days !== undefined && (!Number.isInteger(e.days) || e.days < 1 || e.days > 365))
    throw new AppError('VALIDATION_FAILED', 'days is a whole number from 1 to 365');
  return { decision, newDate: e.newDate ?? null, days: e.days ?? null };
}

function audit(tx: Tx, ctx: Ctx, action: string, id: string, details: Record<string, unknown>) {
  return recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action,
    objectType: 'seu_incident',
    objectId: id,
    details,
  });
}

/** Records an incident of the seu (ongoing when it has no end yet). Audited. */
export async function recordIncident(tx: Tx, ctx: Ctx, input: IncidentInput): Promise<IncidentView> {
  if (!canRecordIncident(ctx))
    throw new AppError('FORBIDDEN', 'Only an administrator records incidents of the seu');
  const now = ctx.clock.now();
  const start = instant(input.startedAt, 'startedAt');
  if (start.getTime() > now.getTime())
    throw new AppError('VALIDATION_FAILED', 'An incident does not start in the future');
  const end = input.endedAt ? instant(input.endedAt, 'endedAt') : null;
  if (end) checkEnd(start, end, now);
  const description = input.description.trim();
  if (!description || description.length > 4000)
    throw new AppError('VALIDATION_FAILED', 'The description must have 1 to 4000 characters');
  const ext = input.extension ? checkExtension(input.extension) : null;
  const id = newId();
  await tx
    .insertInto('board_incidents')
    .values({
      tenant_id: ctx.tenant.id,
      id,
      started_at: start,
      ended_at: end,
      description,
      outage: input.outage,
      extension_decision: ext?.decision ?? null,
      extension_new_date: ext?.newDate ?? null,
      extension_days: ext?.days ?? null,
      extension_recorded_at: ext ? now : null,
      created_by: ctx.actor.id ?? '00000000-0000-0000-0000-000000000000',
      created_at: now,
    })
    .execute();
  await audit(tx, ctx, 'seu_incident.create', id, {
    startedAt: start.toISOString(),
    endedAt: end?.toISOString() ?? null,
    outage: input.outage,
    description,
    extension: ext,
  });
  return getIncident(tx, ctx, id);
}

async function load(tx: Tx, ctx: Ctx, id: string): Promise<Row> {
  if (!isUuid(id)) throw new AppError('SEU_INCIDENT_NOT_FOUND', 'Incident not found');
  const r = (await select(tx, ctx.tenant.id).where('id', '=', id).forUpdate().executeTakeFirst()) as
    | Row
    | undefined;
  if (!r) throw new AppError('SEU_INCIDENT_NOT_FOUND', 'Incident not found');
  return r;
}

/** Records the end of an ongoing incident and/or its deadline extension; each only once. Audited. */
export async function updateIncident(
  tx: Tx,
  ctx: Ctx,
  id: string,
  input: { endedAt?: string | undefined; extension?: ExtensionInput | undefined },
): Promise<IncidentView> {
  if (!canRecordIncident(ctx))
    throw new AppError('FORBIDDEN', 'Only an administrator records incidents of the seu');
  if (input.endedAt === undefined && input.extension === undefined)
    throw new AppError('VALIDATION_FAILED', 'Give endedAt, extension or both');
  const r = await load(tx, ctx, id);
  const now = ctx.clock.now();
  if (input.endedAt !== undefined) {
    if (r.ended_at)
      throw new AppError('SEU_INCIDENT_ALREADY_SET', `The incident ended at ${iso(r.ended_at)} already`);
    const end = instant(input.endedAt, 'endedAt');
    checkEnd(new Date(r.started_at), end, now);
    await tx
      .updateTable('board_incidents')
      .set({ ended_at: end })
      .where('tenant_id', '=', ctx.tenant.id)
      .where('id', '=', r.id)
      .execute();
    await audit(tx, ctx, 'seu_incident.end', r.id, { endedAt: end.toISOString() });
  }
  if (input.extension !== undefined) {
    if (r.extension_decision)
      throw new AppError('SEU_INCIDENT_ALREADY_SET', 'The incident’s deadline extension is recorded already');
    const ext = checkExtension(input.extension);
    await tx
      .updateTable('board_incidents')
      .set({
        extension_decision: ext.decision,
        extension_new_date: ext.newDate,
        extension_days: ext.days,
        extension_recorded_at: now,
      })
      .where('tenant_id', '=', ctx.tenant.id)
      .where('id', '=', r.id)
      .execute();
    await audit(tx, ctx, 'seu_incident.extension', r.id, ext);
  }
  return getIncident(tx, ctx, r.id);
}

export async function getIncident(tx: Tx, ctx: Ctx, id: string): Promise<IncidentView> {
  if (!isUuid(id)) throw new AppError('SEU_INCIDENT_NOT_FOUND', 'Incident not found');
  const r = (await select(tx, ctx.tenant.id).where('id', '=', id).executeTakeFirst()) as Row | undefined;
  if (!r) throw new AppError('SEU_INCIDENT_NOT_FOUND', 'Incident not found');
  return toView(r);
}

/** Every incident, newest first (for staff: any member; for the public: the seu route). */
export async function listIncidents(
  tx: Tx,
  ctx: Ctx,
  opts: { public?: boolean } = {},
): Promise<IncidentView[]> {
  if (!opts.public && !canReadIncidents(ctx)) throw new AppError('FORBIDDEN', 'Not allowed');
  const rows = (await select(tx, ctx.tenant.id)
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1000)
    .execute()) as Row[];
  return rows.map(toView);
}

/** The outages (incidents that made the seu unavailable) that overlap [from, to). */
export async function outagesBetween(
  tx: Tx,
  ctx: Ctx,
  from: Date,
  to: Date,
): Promise<{ startedAt: Date; endedAt: Date | null; description: string }[]> {
  const rows = await tx
    .selectFrom('board_incidents')
    .select(['started_at', 'ended_at', 'description'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('outage', '=', true)
    .where('started_at', '<', to)
    .where((eb) => eb.or([eb('ended_at', 'is', null), eb('ended_at', '>', from)]))
    .orderBy('started_at')
    .execute();
  return rows.map((r) => ({
    startedAt: new Date(r.started_at),
    endedAt: r.ended_at ? new Date(r.ended_at) : null,
    description: r.description,
  }));
}
