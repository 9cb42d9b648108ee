import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T = unknown> = ColumnType<T, string, string>;

export type NotificationChannel = 'electronic' | 'paper';
/**
 * Our states (docs/notifications.md maps them to e-NOTUM's): `available` (deposited in the seu),
 * then `accepted` (accessed), `rejected`, `deemed_rejected` (not accessed in 10 days), `delivered`
 * (paper), `failed` (paper: two absent attempts or unknown address), `sent_for_publication` (art. 44).
 */
export type NotificationState =
  | 'available'
  | 'accepted'
  | 'rejected'
  | 'deemed_rejected'
  | 'delivered'
  | 'failed'
  | 'sent_for_publication';
export type NotificationLanguage = 'ca' | 'es' | 'oc-aranes';
export type AttemptOutcome = 'delivered' | 'absent' | 'unknown_address' | 'rejected';
export type EvidenceKey =
  | 'accepted'
  | 'rejected'
  | 'deemed_rejected'
  | 'delivered'
  | 'rejected_on_paper'
  | 'failed'
  | 'edict';
export type Appeal = { appeal: string; body: string; term: string };
/** Who accessed or rejected a notification in the seu (and under which representation). */
export type ActedBy = {
  identifier: string;
  name: string;
  representationId: string | null;
  representedIdentifier: string | null;
};

export type NotificationsTable = {
  tenant_id: string;
  id: string;
  batch_id: string;
  expedient_id: string;
  party_id: string;
  recipient_identifier: string;
  recipient_name: string;
  language: NotificationLanguage;
  subject: string;
  act_text: string;
  ends_administrative_route: boolean;
  appeals: Json<Appeal[]>;
  document_ids: string[];
  channel: NotificationChannel;
  electronic_basis: 'compulsory' | 'chosen' | null;
  state: NotificationState;
  made_available_at: Timestamp;
  available_until: Timestamp | null;
  registry_entry_id: string;
  registry_number: string;
  notified_at: Timestamp | null;
  accessed_at: Timestamp | null;
  rejected_at: Timestamp | null;
  acted_by: Json<ActedBy> | null;
  delivery: ColumnType<string, string | undefined, string>;
  delivery_ref: string | null;
  created_by: string | null;
  created_by_label: string;
  created_at: Timestamp;
};

export type NotificationAttemptsTable = {
  tenant_id: string;
  id: string;
  notification_id: string;
  attempt_no: number;
  attempted_at: Timestamp;
  outcome: AttemptOutcome;
  receiver_kind: 'party' | 'other' | null;
  receiver_name: string | null;
  receiver_document: string | null;
  receiver_relationship: string | null;
  acknowledgement_document_id: string | null;
  notes: string | null;
  recorded_by: string | null;
  recorded_by_label: string;
  recorded_at: Timestamp;
};

export type NotificationEvidenceTable = {
  tenant_id: string;
  notification_id: string;
  key: EvidenceKey;
  outcome_at: Timestamp;
  facts: Json<Record<string, unknown>>;
  language: NotificationLanguage;
  document_id: string | null;
  csv: string | null;
  seal_id: string | null;
  issued_at: Timestamp | null;
  incorporated: boolean | null;
  created_at: Timestamp;
};

export type NotificationPublicationsTable = {
  tenant_id: string;
  id: string;
  notification_id: string;
  bulletin: 'BOE';
  state: 'sent_for_publication' | 'published';
  published_identifier: string;
  edict_text: string;
  requested_by: string | null;
  requested_by_label: string;
  requested_at: Timestamp;
  sent_at: Timestamp | null;
  external_reference: string | null;
};

/** Tables of the notifications module (issue 5). Added to DB in ../schema.ts. */
export type NotificationsTables = {
  notifications: NotificationsTable;
  notification_attempts: NotificationAttemptsTable;
  notification_evidence: NotificationEvidenceTable;
  notification_publications: NotificationPublicationsTable;
};
