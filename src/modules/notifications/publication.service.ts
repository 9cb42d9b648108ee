import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { EVIDENCE_MESSAGES } from './evidence.messages.ts';
import { documentLanguage, type EvidenceJobData } from './notifications.model.ts';
import { canPublish } from './notifications.policy.ts';
import {
  getNotification,
  loadForStaff,
  type NotificationDeps,
  recordEvidence,
} from './notifications.service.ts';

/**
 * LPACAP art. 44: a notification that could not be practised (failed on paper) is made by an
 * announcement in the Boletín Oficial del Estado. The edict identifies the person ONLY as LOPDGDD
 * Additional Provision 7.2 allows for these announcements: exclusively by the full number of their
 * identity document (NIF, NIE, passport…), never with their name; and, as art. 46 allows, it
 * states the act's subject and where its full text can be consulted, not the text itself.
 *
 * Local implementation: the request is recorded in an outbox (`notification_publications`, state
 * `sent_for_publication`) with the edict's text, and the edict is issued as a sealed PDF document
 * of the case file (like the evidence). Sending the outbox to the BOE's Tablón Edictal Único is a
 * later adapter that reads the outbox and records `sent_at` and the bulletin's reference.
 */
export async function sendForPublication(
  tx: Tx,
  ctx: Ctx,
  deps: NotificationDeps,
  id: string,
): Promise<{ view: Awaited<ReturnType<typeof getNotification>>; evidence: EvidenceJobData[] }> {
  if (!canPublish(ctx)) throw new AppError('FORBIDDEN', 'You may not send notifications for publication');
  const n = await loadForStaff(tx, ctx, id, true);
  if (n.state !== 'failed')
    throw new AppError(
      'NOTIFICATION_NOT_FAILED',
      n.state === 'sent_for_publication'
        ? 'This notification was sent for publication already'
        : `Only a failed paper notification is published (art. 44); this one is ${n.state}`,
    );
  const exp = await tx
    .selectFrom('expedients')
    .select('number')
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', n.expedient_id)
    .executeTakeFirstOrThrow();
  const tenant = await tx
    .selectFrom('tenants')
    .select('language')
    .where('id', '=', ctx.tenant.id)
    .executeTakeFirstOrThrow();
  const m = EVIDENCE_MESSAGES[documentLanguage(tenant.language)];
  // LOPDGDD AP 7.2: the identity document number alone, in full.
  const identifier = n.recipient_identifier;
  const edictText = m.edictBody({
    entity: ctx.tenant.name,
    identifier,
    subject: n.subject,
    expedient: exp.number,
    registry: n.registry_number,
  });
  const now = ctx.clock.now();
  const pubId = newId();
  await tx
    .insertInto('notification_publications')
    .values({
      tenant_id: ctx.tenant.id,
      id: pubId,
      notification_id: n.id,
      bulletin: 'BOE',
      state: 'sent_for_publication',
      published_identifier: identifier,
      edict_text: edictText,
      requested_by: ctx.actor.id,
      requested_by_label: ctx.actor.label,
      requested_at: now,
    })
    .execute();
  await tx
    .updateTable('notifications')
    .set({ state: 'sent_for_publication' })
    .where('tenant_id', '=', ctx.tenant.id)
    .where('id', '=', n.id)
    .execute();
  const ev = await recordEvidence(tx, ctx, deps.jobs, n, 'edict', now, { edictText });
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'notification.publication_request',
    objectType: 'notification',
    objectId: n.id,
    details: { publicationId: pubId, bulletin: 'BOE' },
  });
  return { view: await getNotification(tx, ctx, n.id, { auditRead: false }), evidence: [ev] };
}
