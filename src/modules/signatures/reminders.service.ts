import { sql } from 'kysely';
import type { AppDeps } from '../../app.ts';
import { type Ctx, noRequest, systemActor } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { newId } from '#platform/ids.ts';
import { findTenantById } from '#modules/tenancy/tenancy.repository.ts';
import { assertCanSeeDraft, auditBoth, loadCircuit, loadDraft } from './circuits.service.ts';

/**
 * Reminders of pending signatures (issue 4, item 3): the circuit's creator (or an administrator)
 * reminds the signers whose act is due; a daily sweeper reminds those whose act has waited
 * REMINDER_AFTER_DAYS. A reminder is recorded on the circuit (circuit_reminders), shown in each
 * reminded signer's inbox (last reminder, how many) and audited on the document and its case
 * file. Lligall has no mail channel yet: the inbox is where a reminder reaches the signer.
 */

/** A step's pending signers are reminded automatically once their act has waited this long. */
export const REMINDER_AFTER_DAYS = 3;
/** At most one reminder per step in this time, manual or automatic (a reminder is not a flood). */
export const REMINDER_MIN_INTERVAL_HOURS = 24;
export const REMINDER_JOB = 'signatures.reminders';

export type ReminderView = {
  id: string;
  step: number;
  kind: 'manual' | 'automatic';
  /** The users reminded (who act for the step's pending signers today). */
  recipients: string[];
  at: string;
};

/** Reminds the pending signers of the circuit's current step of `documentId`. */
export async function remindSigners(
  tx: Tx,
  ctx: Ctx,
  documentId: string,
  kind: 'manual' | 'automatic',
): Promise<ReminderView> {
  const draft = await loadDraft(tx, ctx, documentId, true);
  if (kind === 'manual') await assertCanSeeDraft(tx, ctx, draft);
  const c = await loadCircuit(tx, ctx, documentId, true);
  if (kind === 'manual' && c.created_by !== ctx.actor.id && !ctx.roles.includes('admin'))
    throw new AppError('FORBIDDEN', 'Only the creator of the circuit or an administrator sends reminders');
  if (c.state !== 'active') throw new AppError('CIRCUIT_NOT_ACTIVE', `The circuit is ${c.state}`);
  const now = ctx.clock.now();
  const last = await tx
    .selectFrom('circuit_reminders')
    .select((eb) => eb.fn.max('created_at').as('at'))
    .where('tenant_id', '=', ctx.tenant.id)
    .where('circuit_id', '=', c.id)
    .where('step_no', '=', c.current_step)
    .executeTakeFirst();
  const lastAt = last?.at ? new Date(last.at as Date | string) : null;
  if (lastAt && now.getTime() - lastAt.getTime() < REMINDER_MIN_INTERVAL_HOURS * 3600_000)
    throw new AppError(
      'REMINDER_TOO_SOON',
      `The signers of this step were reminded at ${lastAt.toISOString()}; at most one reminder every ${REMINDER_MIN_INTERVAL_HOURS} hours`,
      { lastReminderAt: lastAt.toISOString() },
    );
  const reminded = await tx
    .updateTable('signature_inbox')
    .set((eb) => ({ reminded_at: now, reminders: eb('reminders', '+', 1) }))
    .where('tenant_id', '=', ctx.tenant.id)
    .where('circuit_id', '=', c.id)
    .where('step_no', '=', c.current_step)
    .returning('user_id')
    .execute();
  if (reminded.length === 0)
    throw new AppError(
      'CIRCUIT_NO_PENDING_SIGNER',
      'Nobody can act on this step today (a vacant position without a substitute?): there is nobody to remind',
    );
  const view: ReminderView = {
    id: newId(),
    step: c.current_step,
    kind,
    recipients: reminded.map((r) => r.user_id).sort(),
    at: now.toISOString(),
  };
  await tx
    .insertInto('circuit_reminders')
    .values({
      tenant_id: ctx.tenant.id,
      id: view.id,
      circuit_id: c.id,
      step_no: view.step,
      kind,
      recipients: view.recipients,
      created_by: ctx.actor.id,
      created_at: now,
    })
    .execute();
  await auditBoth(tx, ctx, draft.expedient_id, documentId, 'signature.remind', {
    step: view.step,
    kind,
    recipients: view.recipients,
  });
  return view;
}

/** The reminders of a circuit, oldest first. */
export async function listReminders(tx: Tx, ctx: Ctx, documentId: string): Promise<ReminderView[]> {
  const draft = await loadDraft(tx, ctx, documentId);
  await assertCanSeeDraft(tx, ctx, draft);
  const c = await loadCircuit(tx, ctx, documentId);
  const rows = await tx
    .selectFrom('circuit_reminders')
    .select(['id', 'step_no', 'kind', 'recipients', 'created_at'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('circuit_id', '=', c.id)
    .orderBy('created_at')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    step: r.step_no,
    kind: r.kind,
    recipients: r.recipients,
    at: new Date(r.created_at).toISOString(),
  }));
}

/**
 * The daily sweeper: every circuit step whose signers have waited REMINDER_AFTER_DAYS since their
 * act became due (or since their last reminder) is reminded, automatically. Reads deps.clock.
 * Returns how many steps were reminded.
 */
export async function sweepReminders(deps: Pick<AppDeps, 'db' | 'clock'>): Promise<number> {
  const now = deps.clock.now();
  const due = new Date(now.getTime() - REMINDER_AFTER_DAYS * 86400_000);
  const steps = await deps.db.platform(async (tx) => {
    const r = await sql<{ tenant_id: string; document_id: string }>`
      SELECT DISTINCT tenant_id, document_id FROM signature_inbox
       WHERE since <= ${due} AND (reminded_at IS NULL OR reminded_at <= ${due})`.execute(tx);
    return r.rows;
  });
  let n = 0;
  for (const s of steps) {
    const done = await deps.db.tenant(s.tenant_id, async (tx) => {
      const tenant = await findTenantById(tx, s.tenant_id);
      if (!tenant || tenant.status === 'suspended') return false;
      const ctx: Ctx = {
        tenant: {
          id: tenant.id,
          dir3: tenant.dir3,
          slug: tenant.slug,
          name: tenant.name,
          status: tenant.status,
        },
        actor: systemActor,
        roles: [],
        request: noRequest,
        clock: deps.clock,
      };
      try {
        await remindSigners(tx, ctx, s.document_id, 'automatic');
        return true;
      } catch (e) {
        // A manual reminder in the last day, or nobody to remind: nothing to do this time.
        if (
          e instanceof AppError &&
          ['REMINDER_TOO_SOON', 'CIRCUIT_NO_PENDING_SIGNER', 'CIRCUIT_NOT_ACTIVE'].includes(e.code)
        )
          return false;
        throw e;
      }
    });
    if (done) n++;
  }
  return n;
}
