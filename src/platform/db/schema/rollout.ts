import type { ColumnType } from 'kysely';
import type { EntityRole, EntityStatus, Timestamp } from '../schema.ts';

type Json<T = unknown> = ColumnType<T, string, string>;
/** A date column (`date`): written as 'YYYY-MM-DD', read back as that string (see database.ts type parsers). */
type DateCol = ColumnType<string, string, string>;

/** Platform tables of the roll-out (issue 6, migration 0023). Added to DB in ../schema.ts. */
export type RolloutCallsTable = {
  id: string;
  name: string;
  opens_on: DateCol;
  closes_on: DateCol;
  created_at: Timestamp;
  created_by: string;
};

export type RolloutWavesTable = {
  id: string;
  call_id: string;
  name: string;
  planned_start: DateCol;
  planned_end: DateCol;
  requires_certification: boolean;
  capacity: number | null;
  created_at: Timestamp;
  created_by: string;
};

export type RolloutAssignmentsTable = {
  entity_id: string;
  wave_id: string;
  position: number;
  assigned_at: Timestamp;
  assigned_by: string;
};

/** One uploaded file of an enrolment request, stored in the blob store. */
export type EnrolmentFile = {
  role: 'adhesion_act' | 'signed_request' | 'dpa';
  fileName: string;
  mimeType: string;
  sha256: string;
  size: number;
};

/** What verifying an uploaded signed PDF found (summary of the verification report). */
export type SignatureCheck = {
  signed: boolean;
  integrity: 'valid' | 'invalid' | 'none';
  trust: string | null;
  signerName: string | null;
  signerId: string | null;
  signedAt: string | null;
};

export type EnrolmentStatus = 'submitted' | 'corrections_requested' | 'accepted' | 'rejected';

export type EnrolmentRequestsTable = {
  id: string;
  entity_id: string | null;
  entity_kind: 'ajuntament' | 'emd';
  emd_name: string | null;
  emd_dir3: string | null;
  parent_entity_id: string | null;
  mayor_name: string;
  mayor_email: string;
  mayor_phone: string | null;
  secretary_name: string;
  secretary_email: string;
  secretary_phone: string | null;
  population: number;
  /** null: the entity has no case-file system; otherwise the provider's name. */
  current_provider: string | null;
  adhesion_act_kind: 'ple_resolution' | 'mayor_decree';
  adhesion_act_date: DateCol;
  files: Json<EnrolmentFile[]>;
  /** The checks of the signed request and the signed agreement: { request: SignatureCheck, dpa: SignatureCheck }. */
  request_signature: Json<Record<string, SignatureCheck>>;
  language: string;
  status: EnrolmentStatus;
  status_reason: string | null;
  call_id: string | null;
  registry_tenant_id: string | null;
  registry_entry_id: string | null;
  registry_number: string | null;
  filed_by: string;
  submitted_at: Timestamp;
  decided_at: Timestamp | null;
  decided_by: string | null;
  updated_at: Timestamp;
};

export type EntityStateChangesTable = {
  id: string;
  entity_id: string;
  from_status: EntityStatus | null;
  to_status: EntityStatus;
  at: Timestamp;
  actor_id: string | null;
  actor_label: string;
  reason: string | null;
};

export type ChecklistItemKind = 'document' | 'fact' | 'bypass';

export type GoliveChecklistTable = {
  entity_id: string;
  item: string;
  kind: ChecklistItemKind;
  document_sha256: string | null;
  document_name: string | null;
  fact: string | null;
  reference: string | null;
  bypass_reason: string | null;
  recorded_at: Timestamp;
  recorded_by: string;
};

export type SupportGrantStatus = 'requested' | 'granted' | 'denied' | 'revoked';

export type SupportGrantsTable = {
  id: string;
  entity_id: string;
  technician_id: string;
  reason: string;
  duration_hours: number;
  roles: ColumnType<EntityRole[], EntityRole[], EntityRole[]>;
  status: SupportGrantStatus;
  requested_at: Timestamp;
  decided_at: Timestamp | null;
  decided_by: string | null;
  decision_note: string | null;
  starts_at: Timestamp | null;
  ends_at: Timestamp | null;
  revoked_at: Timestamp | null;
  revoked_by: string | null;
};

export type UserInvitationsTable = {
  id: string;
  user_id: string;
  entity_id: string | null;
  token_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
};

export type RolloutTables = {
  rollout_calls: RolloutCallsTable;
  rollout_waves: RolloutWavesTable;
  rollout_assignments: RolloutAssignmentsTable;
  enrolment_requests: EnrolmentRequestsTable;
  entity_state_changes: EntityStateChangesTable;
  golive_checklist: GoliveChecklistTable;
  support_grants: SupportGrantsTable;
  user_invitations: UserInvitationsTable;
};
