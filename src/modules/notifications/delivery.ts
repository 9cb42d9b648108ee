import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import type { NotificationState } from '#platform/db/schema/notifications.ts';

/**
 * The channel that deposits notifications where the recipient practises them, reports their state
 * and holds their evidence. Lligall's own seu is the local implementation, used by default; the
 * AOC's e-NOTUM 4.0 is the other (enotum.ts), built to its published contract. The states are
 * e-NOTUM's (docs/notifications.md maps ours to theirs).
 */
export type DeliveryState =
  | 'pending'
  | 'deposited'
  | 'accepted'
  | 'rejected'
  | 'expired'
  | 'error'
  | 'cancelled';

export type DeliveryStateReport = {
  ref: string;
  state: DeliveryState;
  /** When the recipient practised it (accepted or rejected) or it expired. */
  at: string | null;
};

export type DeliveryEvidence = { kind: DeliveryState; documentId: string | null; csv: string | null };

export type PractiseDecision = 'accept' | 'reject';

export interface NotificationDelivery {
  readonly kind: 'local' | 'enotum';
  /** Deposits a notification made available (created in this transaction): its reference on the channel. */
  deposit(n: { id: string }): Promise<{ ref: string; state: DeliveryState }>;
  /** The state the channel reports for a deposited notification. */
  state(ref: string): Promise<DeliveryStateReport>;
  /** The evidence documents the channel holds for it. */
  evidence(ref: string): Promise<DeliveryEvidence[]>;
}

/** Our state → e-NOTUM's. A paper delivery is e-NOTUM's "practised on paper" (ACCEPTADA). */
export function toDeliveryState(s: NotificationState): DeliveryState {
  switch (s) {
    case 'available':
      return 'deposited';
    case 'accepted':
    case 'delivered':
      return 'accepted';
    case 'rejected':
      return 'rejected';
    case 'deemed_rejected':
      return 'expired';
    case 'failed':
    case 'sent_for_publication':
      // No e-NOTUM state: a failed paper delivery stays deposited in the seu until published.
      return 'deposited';
  }
}

/**
 * The local implementation: our own seu. Depositing is the row made available in the caller's
 * transaction (its reference is its id); practising is the seu's access and rejection
 * (notifications.service.ts); state and evidence are read from our tables.
 */
export function localDelivery(tx: Tx, ctx: Ctx): NotificationDelivery {
  return {
    kind: 'local',
    async deposit(n) {
      return { ref: n.id, state: 'deposited' };
    },
    async state(ref) {
      const r = await tx
        .selectFrom('notifications')
        .select(['id', 'state', 'notified_at'])
        .where('tenant_id', '=', ctx.tenant.id)
        .where('id', '=', ref)
        .executeTakeFirstOrThrow();
      return {
        ref: r.id,
        state: toDeliveryState(r.state),
        at: r.notified_at ? new Date(r.notified_at).toISOString() : null,
      };
    },
    async evidence(ref) {
      const rows = await tx
        .selectFrom('notification_evidence')
        .select(['key', 'document_id', 'csv'])
        .where('tenant_id', '=', ctx.tenant.id)
        .where('notification_id', '=', ref)
        .orderBy('created_at')
        .execute();
      const kind = (k: string): DeliveryState =>
        k === 'accepted' || k === 'delivered'
          ? 'accepted'
          : k === 'rejected' || k === 'rejected_on_paper'
            ? 'rejected'
            : k === 'deemed_rejected'
              ? 'expired'
              : 'deposited';
      return rows.map((r) => ({ kind: kind(r.key), documentId: r.document_id, csv: r.csv }));
    },
  };
}
