import { sql } from 'kysely';
import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { isUuid, newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';

/**
 * The resolutions behind automated actions (LRJSP art. 41.2: a prior resolution names the body
 * responsible for each automated action) and the one that approves the CSV system (art. 42.b). The
 * seu publishes them with the list of seals. Each points at its document (incorporated, so it can
 * no longer change). A resolution is never deleted or edited: it can only be revoked, once.
 */
export const RESOLUTION_KINDS = ['csv_system', 'automated_action'] as const;
export type ResolutionKind = (typeof RESOLUTION_KINDS)[number];

/** Automated actions a resolution can cover (codes later work checks with findAuthorisingResolution). */
export const AUTOMATED_ACTIONS = [
  'registry_receipt', // the registry's justificant, sealed (Ley 39/2015 art. 16.3)
  'csv_verification', // public verification of documents by CSV
  'notification_evidence', // evidence of notifications made available, accessed or rejected
  'certificate_issue', // certificates issued automatically (e.g. of publication)
  'index_seal', // the sealed index of a case file sent elsewhere
] as const;
export type AutomatedAction = (typeof AUTOMATED_ACTIONS)[number];

export type NewResolution = {
  kind: ResolutionKind;
  title: string;
  reference: string;
  approvedOn: string;
  responsibleBody: string;
  actions: string[];
  publication?: string | null;
  documentId: string;
};

export type ResolutionView = {
  id: string;
  kind: ResolutionKind;
  title: string;
  reference: string;
  approvedOn: string;
  responsibleBody: string;
  actions: string[];
  publication: string | null;
  documentId: string;
  document: { title: string; sha256: string; eniId: string };
  inForce: boolean;
  revokedOn: string | null;
  revokedReason: string | null;
  createdAt: string;
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const canManage = (ctx: Ctx) => ctx.roles.includes('admin');
// Staff with any role, or the CLI and the system themselves; never a citizen (who holds no roles).
const canRead = (ctx: Ctx) => ctx.roles.length > 0 || ctx.actor.kind === 'cli' || ctx.actor.kind === 'system';

function assertDate(v: string, field: string): void {
  const d = new Date(`${v}T00:00:00Z`);
  if (!DATE.test(v) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v) {
    throw new AppError('VALIDATION_FAILED', `${field} must be a date YYYY-MM-DD`);
  }
}

function select(tx: Tx, ctx: Ctx) {
  return tx
    .selectFrom('automation_resolutions as r')
    .innerJoin('documents as d', (j) =>
      j.onRef('d.tenant_id', '=', 'r.tenant_id').onRef('d.id', '=', 'r.document_id'),
    )
    .select([
      'r.id',
      'r.kind',
      'r.title',
      'r.reference',
      sql<string>`to_char(r.approved_on, 'YYYY-MM-DD')`.as('approved_on'),
      'r.responsible_body',
      'r.actions',
      'r.publication',
      'r.document_id',
      'd.title as document_title',
      'd.sha256 as document_sha256',
      'd.eni_id as document_eni_id',
      sql<string | null>`to_char(r.revoked_on, 'YYYY-MM-DD')`.as('revoked_on'),
      'r.revoked_reason',
      'r.created_at',
    ])
    .where('r.tenant_id', '=', ctx.tenant.id);
}

type Row = Awaited<ReturnType<ReturnType<typeof select>['executeTakeFirstOrThrow']>>;

function view(r: Row, today: string): ResolutionView {
  return {
    id: r.id,
    kind: r.kind,
    title: r.title,
    reference: r.reference,
    approvedOn: r.approved_on,
    responsibleBody: r.responsible_body,
    actions: r.actions,
    publication: r.publication,
    documentId: r.document_id,
    document: { title: r.document_title, sha256: r.document_sha256, eniId: r.document_eni_id },
    inForce: r.approved_on <= today && (r.revoked_on === null || r.revoked_on > today),
    revokedOn: r.revoked_on,
    revokedReason: r.revoked_reason,
    createdAt: new Date(r.created_at).toISOString(),
  };
}

/** Made once: building a formatter costs far more than using it (the registry asks for every receipt). */
const madridDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Madrid' });

/** Today in Europe/Madrid, YYYY-MM-DD. */
function madridToday(ctx: Ctx): string {
  return madridDay.format(ctx.clock.now());
}

export async function recordResolution(tx: Tx, ctx: Ctx, input: NewResolution): Promise<ResolutionView> {
  if (!canManage(ctx))
    throw new AppError('FORBIDDEN', "Only an administrator records the entity's resolutions");
  assertDate(input.approvedOn, 'approvedOn');
  const actions = [...new Set(input.actions)];
  const unknown = actions.filter((a) => !(AUTOMATED_ACTIONS as readonly string[]).includes(a));
  if (unknown.length) {
    throw new AppError(
      'VALIDATION_FAILED',
      `Unknown automated action ${unknown.join(', ')}; known: ${AUTOMATED_ACTIONS.join(', ')}`,
    );
  }
  if (input.kind === 'automated_action' && actions.length === 0) {
    throw new AppError('VALIDATION_FAILED', 'A resolution on automated actions names at least one action');
  }
  const doc = isUuid(input.documentId)
    ? await tx
        .selectFrom('documents')
        .select(['id', 'incorporated_at'])
        .where('tenant_id', '=', ctx.tenant.id)
        .where('id', '=', input.documentId)
        .executeTakeFirst()
    : undefined;
  if (!doc) throw new AppError('DOCUMENT_NOT_FOUND', `Document ${input.documentId} not found`);
  if (!doc.incorporated_at) {
    throw new AppError(
      'VALIDATION_FAILED',
      "The resolution's document must be incorporated into a case file (final and unchangeable), not a draft",
    );
  }
  const id = newId();
  const now = ctx.clock.now();
  await tx
    .insertInto('automation_resolutions')
    .values({
      tenant_id: ctx.tenant.id,
      id,
      kind: input.kind,
      title: input.title,
      reference: input.reference,
      approved_on: input.approvedOn,
      responsible_body: input.responsibleBody,
      actions,
      publication: input.publication ?? null,
      document_id: input.documentId,
      revoked_on: null,
      revoked_reason: null,
      created_by: ctx.actor.label,
      created_at: now,
    })
    .execute();
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'automation_resolution.create',
    objectType: 'automation_resolution',
    objectId: id,
    details: {
      kind: input.kind,
      reference: input.reference,
      approvedOn: input.approvedOn,
      actions,
      documentId: input.documentId,
    },
  });
  return view(await select(tx, ctx).where('r.id', '=', id).executeTakeFirstOrThrow(), madridToday(ctx));
}

export async function revokeResolution(
  tx: Tx,
  ctx: Ctx,
  id: string,
  input: { revokedOn: string; reason: string },
): Promise<ResolutionView> {
  if (!canManage(ctx))
    throw new AppError('FORBIDDEN', "Only an administrator records the entity's resolutions");
  assertDate(input.revokedOn, 'revokedOn');
  const current = isUuid(id) ? await select(tx, ctx).where('r.id', '=', id).executeTakeFirst() : undefined;
  if (!current) throw new AppError('NOT_FOUND', `Resolution ${id} not found`);
  if (current.revoked_on)
    throw new AppError('CONFLICT', `The resolution was revoked on ${current.revoked_on}`);
  if (input.revokedOn < current.approved_on) {
    throw new AppError('VALIDATION_FAILED', 'A resolution cannot be revoked before it was approved');
  }
  await tx
    .updateTable('automation_resolutions')
    .set({ revoked_on: input.revokedOn, revoked_reason: input.reason })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', id)
    .execute();
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'automation_resolution.revoke',
    objectType: 'automation_resolution',
    objectId: id,
    details: { revokedOn: input.revokedOn, reason: input.reason },
  });
  return view(await select(tx, ctx).where('r.id', '=', id).executeTakeFirstOrThrow(), madridToday(ctx));
}

export async function listResolutions(tx: Tx, ctx: Ctx): Promise<ResolutionView[]> {
  if (!canRead(ctx)) throw new AppError('FORBIDDEN', 'Not allowed');
  const rows = await select(tx, ctx)
    .orderBy('r.approved_on', 'desc')
    .orderBy('r.created_at', 'desc')
    .execute();
  const today = madridToday(ctx);
  return rows.map((r) => view(r, today));
}

/**
 * The resolution in force on `on` (YYYY-MM-DD, default today in Europe/Madrid) that authorises an
 * automated action, or the CSV system with action `null`; the latest approved wins. Null when
 * there is none: the caller decides whether acting without one is allowed (demo) or refused.
 */
export async function findAuthorisingResolution(
  tx: Tx,
  ctx: Ctx,
  action: AutomatedAction | null,
  on: string = madridToday(ctx),
): Promise<ResolutionView | null> {
  assertDate(on, 'on');
  let q = select(tx, ctx)
    .where('r.approved_on', '<=', on)
    .where((eb) => eb.or([eb('r.revoked_on', 'is', null), eb('r.revoked_on', '>', on)]));
  q =
    action === null
      ? q.where('r.kind', '=', 'csv_system')
      : q.where('r.kind', '=', 'automated_action').where(sql<boolean>`${action} = any(r.actions)`);
  const r = await q.orderBy('r.approved_on', 'desc').orderBy('r.created_at', 'desc').executeTakeFirst();
  return r ? view(r, madridToday(ctx)) : null;
}
