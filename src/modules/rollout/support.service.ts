import type { Jobs } from '#platform/jobs/jobs.ts';
import type { Actor, Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import type { EntityRole, PlatformRole } from '#platform/db/schema.ts';
import type { SupportGrantStatus } from '#platform/db/schema/rollout.ts';
import { AppError } from '#platform/errors.ts';
import { newId } from '#platform/ids.ts';
import type { MailLanguage } from '#platform/mail/messages.ts';
import { enqueueMail } from '#platform/mail/mail.service.ts';
import { type AuditEventView, recordEvent } from '#modules/audit/audit.service.ts';
import { addDays, isCivilDate, madridStartOfDay } from '#modules/calendar/civil-date.ts';
import type { PlatformCtx } from './lifecycle.service.ts';

/**
 * Support access (issue 6; DOMAIN.md "Controlled access…"): a support technician of the Diputació
 * or a consell comarcal sees an entity's data only with an explicit, time-limited grant from the
 * entity's administrator, and every request under it is audited in the entity's own chain.
 *
 * The grant rows are a platform table (support_grants, no row-level security): they are written
 * in the ENTITY's tenant transaction, so the request's e-mail to the admins and every audit event
 * go to the entity and commit with the row.
 */

/** The longest a grant may last, in hours (three days: a support case, not standing access). */
export const SUPPORT_GRANT_MAX_HOURS = 72;

/** Platform roles that may ask for and use support access (the Diputació's operators too). */
export const SUPPORT_ACCESS_ROLES: readonly PlatformRole[] = ['support', 'operator'];

/**
 * Entity roles an admin may give a technician. Never `admin` (the technician would manage members
 * and its own grant: a sub-processor is never an owner of the entity's data) nor `signer` (a
 * signature is personal to the entity's own staff).
 */
export const GRANTABLE_ROLES: readonly EntityRole[] = ['viewer', 'handler', 'registrar'];

export const DEFAULT_GRANT_ROLES: EntityRole[] = ['viewer'];

export type GrantStatusView = SupportGrantStatus | 'expired';

export type GrantView = {
  id: string;
  entity: { id: string; dir3: string; slug: string; name: string };
  technician: { id: string; username: string; name: string };
  reason: string;
  durationHours: number;
  roles: EntityRole[];
  status: GrantStatusView;
  requestedAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  decisionNote: string | null;
  startsAt: string | null;
  endsAt: string | null;
  revokedAt: string | null;
};

export function canUseSupportAccess(platformRoles: readonly PlatformRole[]): boolean {
  return platformRoles.some((r) => SUPPORT_ACCESS_ROLES.includes(r));
}

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

function baseQuery(tx: Tx) {
  return tx
    .selectFrom('support_grants as g')
    .innerJoin('tenants as t', 't.id', 'g.entity_id')
    .innerJoin('users as u', 'u.id', 'g.technician_id')
    .leftJoin('users as d', 'd.id', 'g.decided_by')
    .select([
      'g.id',
      'g.reason',
      'g.duration_hours',
      'g.roles',
      'g.status',
      'g.requested_at',
      'g.decided_at',
      'g.decision_note',
      'g.starts_at',
      'g.ends_at',
      'g.revoked_at',
      't.id as entity_id',
      't.dir3 as entity_dir3',
      't.slug as entity_slug',
      't.name as entity_name',
      'u.id as technician_id',
      'u.username as technician_username',
      'u.name as technician_name',
      'd.username as decided_by_username',
    ]);
}

type GrantRow = Awaited<ReturnType<ReturnType<typeof baseQuery>['executeTakeFirstOrThrow']>>;

/** 'expired' is not stored: a granted row whose end has passed. */
export function grantStatus(
  row: { status: SupportGrantStatus; ends_at: Date | string | null },
  now: Date,
): GrantStatusView {
  if (row.status === 'granted' && row.ends_at !== null && new Date(row.ends_at).getTime() <= now.getTime())
    return 'expired';
  return row.status;
}

function toView(r: GrantRow, now: Date): GrantView {
  return {
    id: r.id,
    entity: { id: r.entity_id, dir3: r.entity_dir3, slug: r.entity_slug, name: r.entity_name },
    technician: { id: r.technician_id, username: r.technician_username, name: r.technician_name },
    reason: r.reason,
    durationHours: r.duration_hours,
    roles: [...r.roles],
    status: grantStatus(r, now),
    requestedAt: iso(r.requested_at)!,
    decidedAt: iso(r.decided_at),
    decidedBy: r.decided_by_username ?? null,
    decisionNote: r.decision_note,
    startsAt: iso(r.starts_at),
    endsAt: iso(r.ends_at),
    revokedAt: iso(r.revoked_at),
  };
}

async function getView(tx: Tx, id: string, now: Date): Promise<GrantView> {
  const r = await baseQuery(tx).where('g.id', '=', id).executeTakeFirstOrThrow();
  return toView(r, now);
}

function mailLanguage(raw: string | null | undefined): MailLanguage {
  if (raw === 'es') return 'es';
  if (raw === 'oc' || raw === 'oc-aranes') return 'oc-aranes';
  return 'ca';
}

const HOURS: Record<MailLanguage, [string, string]> = {
  ca: ['hora', 'hores'],
  es: ['hora', 'horas'],
  'oc-aranes': ['ora', 'ores'],
};

function durationText(hours: number, language: MailLanguage): string {
  const [one, many] = HOURS[language] ?? HOURS.ca;
  return `${hours} ${hours === 1 ? one : many}`;
}

function text(v: unknown, field: string, max: number, required: boolean): string | null {
  const s = typeof v === 'string' ? v.trim() : '';
  if (!s) {
    if (required)
      throw new AppError('VALIDATION_FAILED', `${field} is required`, { fields: { [field]: 'required' } });
    return null;
  }
  if (s.length > max)
    throw new AppError('VALIDATION_FAILED', `${field} has at most ${max} characters`, {
      fields: { [field]: 'too_long' },
    });
  return s;
}

export type RequestGrantInput = { reason: string; durationHours: number };

/**
 * A technician asks the entity (ctx.tenant; the caller runs in the entity's tenant transaction)
 * for access. The entity's admins get the e-mail support_access_requested in the entity's
 * language; the request is audited in the entity's chain.
 */
export async function requestGrant(
  tx: Tx,
  ctx: Ctx,
  deps: { jobs: Jobs; origin: string },
  input: RequestGrantInput,
): Promise<GrantView> {
  if (!ctx.actor.id || !canUseSupportAccess(ctx.actor.platformRoles))
    throw new AppError('NOT_FOUND', 'Not found');
  const reason = text(input.reason, 'reason', 2000, true)!;
  const hours = input.durationHours;
  if (!Number.isInteger(hours) || hours < 1)
    throw new AppError('VALIDATION_FAILED', 'durationHours is a whole number of hours, at least 1', {
      fields: { durationHours: 'invalid' },
    });
  if (hours > SUPPORT_GRANT_MAX_HOURS)
    throw new AppError(
      'SUPPORT_GRANT_TOO_LONG',
      `Support access lasts at most ${SUPPORT_GRANT_MAX_HOURS} hours`,
      {
        maxHours: SUPPORT_GRANT_MAX_HOURS,
      },
    );
  const now = ctx.clock.now();
  const id = newId();
  await tx
    .insertInto('support_grants')
    .values({
      id,
      entity_id: ctx.tenant.id,
      technician_id: ctx.actor.id,
      reason,
      duration_hours: hours,
      roles: DEFAULT_GRANT_ROLES,
      status: 'requested',
      requested_at: now,
    })
    .execute();
  const entity = await tx
    .selectFrom('tenants')
    .select(['language', 'name'])
    .where('id', '=', ctx.tenant.id)
    .executeTakeFirstOrThrow();
  const technician = await tx
    .selectFrom('users')
    .select(['name', 'username'])
    .where('id', '=', ctx.actor.id)
    .executeTakeFirstOrThrow();
  const admins = await tx
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.email'])
    .where('m.tenant_id', '=', ctx.tenant.id)
    .where('u.disabled', '=', false)
    .where('u.email', 'is not', null)
    .where((eb) => eb(eb.val('admin'), '=', eb.fn.any('m.roles')))
    .orderBy('u.username')
    .execute();
  const language = mailLanguage(entity.language);
  for (const a of admins) {
    await enqueueMail(
      deps.jobs,
      tx,
      {
        tenantId: ctx.tenant.id,
        to: a.email!,
        language,
        template: 'support_access_requested',
        params: {
          entityName: entity.name,
          technicianName: technician.name || technician.username,
          reason,
          duration: durationText(hours, language),
          link: `${deps.origin}/app/e/${ctx.tenant.slug}/support-access`,
        },
      },
      { clock: ctx.clock },
    );
  }
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'support.request',
    objectType: 'support_grant',
    objectId: id,
    details: { reason, durationHours: hours, adminsNotified: admins.length },
  });
  return getView(tx, id, now);
}

/** Console: a technician's own requests; an operator sees every request. Newest first. */
export async function listConsoleGrants(tx: Tx, ctx: PlatformCtx): Promise<GrantView[]> {
  let q = baseQuery(tx);
  if (!ctx.actor.platformRoles.includes('operator')) q = q.where('g.technician_id', '=', ctx.actor.id ?? '');
  const rows = await q.orderBy('g.requested_at', 'desc').orderBy('g.id').limit(500).execute();
  const now = ctx.clock.now();
  return rows.map((r) => toView(r, now));
}

/** Only the entity's own administrators decide (a technician is never granted `admin`). */
function assertAdmin(ctx: Ctx): void {
  if (!ctx.roles.includes('admin'))
    throw new AppError('FORBIDDEN', "Only the entity's administrator manages support access");
}

/** The entity's requests and grants, newest first (admin). */
export async function listEntityGrants(tx: Tx, ctx: Ctx): Promise<GrantView[]> {
  assertAdmin(ctx);
  const rows = await baseQuery(tx)
    .where('g.entity_id', '=', ctx.tenant.id)
    .orderBy('g.requested_at', 'desc')
    .orderBy('g.id')
    .limit(500)
    .execute();
  const now = ctx.clock.now();
  return rows.map((r) => toView(r, now));
}

export type Decision =
  | { kind: 'grant'; roles?: string[] | undefined; note?: string | null | undefined }
  | { kind: 'deny'; note: string }
  | { kind: 'revoke' };

/**
 * The admin's decision on one of the entity's requests: grant (from now for its duration, with
 * the chosen roles), deny (with a note), or revoke a grant still in force. Audited in the entity's
 * chain. A request already decided (or a grant no longer in force) → 409.
 */
export async function decideGrant(tx: Tx, ctx: Ctx, grantId: string, decision: Decision): Promise<GrantView> {
  assertAdmin(ctx);
  const row = /^[0-9a-f-]{36}$/i.test(grantId)
    ? await tx
        .selectFrom('support_grants')
        .selectAll()
        .where('id', '=', grantId)
        .where('entity_id', '=', ctx.tenant.id)
        .forUpdate()
        .executeTakeFirst()
    : undefined;
  if (!row) throw new AppError('SUPPORT_GRANT_NOT_FOUND', 'No such support access request');
  const now = ctx.clock.now();
  const current = grantStatus(row, now);
  let details: Record<string, unknown>;
  if (decision.kind === 'grant' || decision.kind === 'deny') {
    if (row.status !== 'requested')
      throw new AppError('SUPPORT_GRANT_ALREADY_DECIDED', `This request is already ${current}`, { current });
  } else if (current !== 'granted') {
    throw new AppError(
      'SUPPORT_GRANT_ALREADY_DECIDED',
      `Only a grant in force can be revoked; this one is ${current}`,
      {
        current,
      },
    );
  }
  if (decision.kind === 'grant') {
    const roles =
      decision.roles && decision.roles.length > 0 ? [...new Set(decision.roles)] : DEFAULT_GRANT_ROLES;
    const bad = roles.filter((r) => !(GRANTABLE_ROLES as readonly string[]).includes(r));
    if (bad.length > 0)
      throw new AppError(
        'VALIDATION_FAILED',
        `A technician may be given only: ${GRANTABLE_ROLES.join(', ')}`,
        {
          fields: { roles: 'invalid' },
          invalid: bad,
        },
      );
    const note = text(decision.note, 'note', 2000, false);
    const endsAt = new Date(now.getTime() + row.duration_hours * 3_600_000);
    await tx
      .updateTable('support_grants')
      .set({
        status: 'granted',
        roles: roles as EntityRole[],
        decided_at: now,
        decided_by: ctx.actor.id,
        decision_note: note,
        starts_at: now,
        ends_at: endsAt,
      })
      .where('id', '=', row.id)
      .execute();
    details = {
      technicianId: row.technician_id,
      roles,
      startsAt: now.toISOString(),
      endsAt: endsAt.toISOString(),
      note,
    };
  } else if (decision.kind === 'deny') {
    const note = text(decision.note, 'note', 2000, true);
    await tx
      .updateTable('support_grants')
      .set({ status: 'denied', decided_at: now, decided_by: ctx.actor.id, decision_note: note })
      .where('id', '=', row.id)
      .execute();
    details = { technicianId: row.technician_id, note };
  } else {
    await tx
      .updateTable('support_grants')
      .set({ status: 'revoked', revoked_at: now, revoked_by: ctx.actor.id })
      .where('id', '=', row.id)
      .execute();
    details = { technicianId: row.technician_id, endsAt: iso(row.ends_at) };
  }
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: `support.${decision.kind}`,
    objectType: 'support_grant',
    objectId: row.id,
    details,
  });
  return getView(tx, row.id, now);
}

export type ActiveGrant = { id: string; roles: EntityRole[]; endsAt: Date };

/** The technician's grant in force in the entity at `now`, if any (the one that lasts longest). */
export async function findActiveGrant(
  tx: Tx,
  entityId: string,
  technicianId: string,
  now: Date,
): Promise<ActiveGrant | null> {
  const r = await tx
    .selectFrom('support_grants')
    .select(['id', 'roles', 'ends_at'])
    .where('entity_id', '=', entityId)
    .where('technician_id', '=', technicianId)
    .where('status', '=', 'granted')
    .where('revoked_at', 'is', null)
    .where('starts_at', '<=', now)
    .where('ends_at', '>', now)
    .orderBy('ends_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r ? { id: r.id, roles: [...r.roles], endsAt: new Date(r.ends_at!) } : null;
}

/** One request under a support grant, in the entity's chain (DOMAIN: every access by support staff is logged). */
export async function recordSupportAccess(
  tx: Tx,
  input: {
    tenantId: string;
    actor: Actor;
    request: Ctx['request'];
    clock: Ctx['clock'];
    grantId: string;
    method: string;
    path: string;
    query?: string | undefined;
    refused?: string | undefined;
  },
): Promise<void> {
  await recordEvent(tx, {
    tenantId: input.tenantId,
    actor: input.actor,
    request: input.request,
    clock: input.clock,
    action: 'support.access',
    objectType: 'support_grant',
    objectId: input.grantId,
    details: {
      grantId: input.grantId,
      method: input.method,
      path: input.path,
      ...(input.query ? { query: input.query } : {}),
      ...(input.refused ? { refused: input.refused } : {}),
    },
  });
}

export type AuditQuery = {
  action?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  limit?: number | undefined;
};

function bound(v: string | undefined, field: string, end: boolean): Date | null {
  if (!v) return null;
  // A civil date is a whole Europe/Madrid day: `from` its 00:00, `to` the end of it.
  if (isCivilDate(v)) return madridStartOfDay(end ? addDays(v, 1) : v);
  const d = new Date(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(d.getTime()))
    throw new AppError('VALIDATION_FAILED', `${field} is a date (YYYY-MM-DD) or an ISO instant`, {
      fields: { [field]: 'invalid' },
    });
  return d;
}

/**
 * The entity's audit trail (admin), newest first: `action` exact, or a prefix when it ends with
 * `.` or `.*` (e.g. `support.` for every support event); `from`/`to` dates (Europe/Madrid days,
 * inclusive) or instants (`to` exclusive).
 */
export async function listEntityAudit(tx: Tx, ctx: Ctx, query: AuditQuery): Promise<AuditEventView[]> {
  assertAdmin(ctx);
  const from = bound(query.from, 'from', false);
  const to = bound(query.to, 'to', true);
  let q = tx.selectFrom('audit_events').selectAll().where('tenant_id', '=', ctx.tenant.id);
  const action = query.action?.trim();
  if (action) {
    if (action.endsWith('.*') || action.endsWith('.')) {
      const prefix = action.replace(/\*$/, '');
      q = q.where('action', 'like', `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    } else q = q.where('action', '=', action);
  }
  if (from) q = q.where('at', '>=', from);
  if (to) q = q.where('at', '<', to);
  const rows = await q
    .orderBy('seq', 'desc')
    .limit(Math.min(Math.max(query.limit ?? 200, 1), 1000))
    .execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
    at: new Date(r.at).toISOString(),
    actor: r.actor_label,
    action: r.action,
    objectType: r.object_type,
    objectId: r.object_id,
    ip: r.ip,
    details: (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as Record<string, unknown>,
  }));
}
