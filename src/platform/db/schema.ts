import type { ColumnType, Generated } from 'kysely';
import type { BoardTables } from './schema/board.ts';
import type { CitizensTables } from './schema/citizens.ts';
import type { MailTables } from './schema/mail.ts';
import type { NotificationsTables } from './schema/notifications.ts';
import type { RolloutTables } from './schema/rollout.ts';
import type { SeuTables } from './schema/seu.ts';

/** timestamptz: written as Date or ISO string, read back as Date. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T = unknown> = ColumnType<T, string, string>;

export type EntityKind = 'ajuntament' | 'emd' | 'consell_comarcal' | 'diputacio';
export type EntityStatus =
  | 'listed'
  | 'requested'
  | 'scheduled'
  | 'provisioning'
  | 'pilot'
  | 'live'
  | 'suspended';
export type EntityRole = 'admin' | 'handler' | 'registrar' | 'signer' | 'viewer';
export type PlatformRole = 'operator' | 'support';

// ---- platform tables (no tenant_id; on the allowlist in test/isolation.test.ts) ----
export type TenantsTable = {
  id: string;
  kind: EntityKind;
  name: string;
  dir3: string;
  ine: string | null;
  slug: string;
  parent_id: string | null;
  comarca: string | null;
  population: number | null;
  language: string;
  status: EntityStatus;
  demo: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
};

export type UsersTable = {
  id: string;
  username: string;
  name: string;
  email: string | null;
  password_hash: string;
  platform_roles: ColumnType<PlatformRole[], PlatformRole[], PlatformRole[]>;
  totp_secret: string | null;
  totp_enabled_at: Timestamp | null;
  totp_last_step: ColumnType<string | null, string | number | null, string | number | null>;
  failed_logins: Generated<number>;
  lock_count: Generated<number>;
  locked_until: Timestamp | null;
  disabled: Generated<boolean>;
  demo: Generated<boolean>;
  created_at: Timestamp;
  /** The person's NIF/NIE (migration 0016), set by the operator: an uploaded signature's certificate must carry it. */
  nif: ColumnType<string | null, string | null | undefined, string | null>;
};

export type MembershipsTable = {
  user_id: string;
  tenant_id: string;
  roles: ColumnType<EntityRole[], EntityRole[], EntityRole[]>;
  created_at: Timestamp;
};

export type SessionsTable = {
  id: string; // sha256 hex of the cookie value
  user_id: string;
  mfa_satisfied: boolean;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
  ip: string | null;
  user_agent: string | null;
};

export type ApiTokensTable = {
  id: string;
  user_id: string;
  token_hash: string;
  label: string | null;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
};

// ---- tenant tables (tenant_id in every key; row-level security) ----
export type UnitsTable = {
  tenant_id: string;
  id: string;
  name: string;
  dir3: string | null;
  kind: 'organ' | 'unit' | 'office';
  created_at: Timestamp;
};

export type UnitMembersTable = { tenant_id: string; unit_id: string; user_id: string };

export type PartiesTable = {
  tenant_id: string;
  id: string;
  identifier: string;
  identifier_type: 'nif' | 'nie' | 'cif' | 'passport' | 'dir3' | 'other';
  kind: 'person' | 'organisation';
  name: string;
  surname1: string | null;
  surname2: string | null;
  email: string | null;
  phone: string | null;
  address: Json<Record<string, string> | null> | null;
  residence_ine: string | null;
  language: string;
  e_notification: 'compulsory' | 'chosen' | 'none';
  e_notification_chosen_at: Timestamp | null;
  e_notification_evidence: string | null;
  preferred_channel: 'electronic' | 'paper';
  created_at: Timestamp;
  updated_at: Timestamp;
};

export type CountersTable = { tenant_id: string; series: string; year: number; value: number };

export type ExpedientsTable = {
  tenant_id: string;
  id: string;
  number: string;
  year: number;
  seq: number;
  eni_id: string;
  title: string;
  classification: string | null;
  unit_id: string | null;
  access_level: 'public' | 'internal' | 'restricted';
  state: 'E01' | 'E02' | 'E03';
  opened_at: Timestamp;
  closed_at: Timestamp | null;
  created_by: string | null;
  updated_at: Timestamp;
  /** Generated: the title folded for search (lligall_fold). */
  title_search: ColumnType<string, never, never>;
};

export type ExpedientPartiesTable = {
  tenant_id: string;
  expedient_id: string;
  party_id: string;
  role: 'applicant' | 'representative' | 'interested';
  added_at: Timestamp;
};

export type ExpedientAccessTable = {
  tenant_id: string;
  id: string;
  expedient_id: string;
  user_id: string | null;
  unit_id: string | null;
  granted_at: Timestamp;
};

export type DocumentsTable = {
  tenant_id: string;
  id: string;
  eni_id: string;
  title: string;
  file_name: string;
  mime_type: string;
  size_bytes: ColumnType<string, number | string, number | string>;
  sha256: string;
  document_type: string;
  elaboration_state: string;
  original_eni_id: string | null;
  origin: 'administration' | 'citizen';
  captured_at: Timestamp;
  organ: ColumnType<string[], string[], string[]>;
  format: string;
  supersedes_id: string | null;
  incorporated_at: Timestamp | null;
  created_by: string | null;
  created_at: Timestamp;
};

export type IndexEntriesTable = {
  tenant_id: string;
  expedient_id: string;
  position: number;
  document_id: string;
  incorporated_at: Timestamp;
  hash_function: string;
};

export type AuditEventsTable = {
  tenant_id: string;
  seq: ColumnType<string, number | string, never>;
  id: string;
  at: Timestamp;
  actor_id: string | null;
  actor_label: string;
  action: string;
  object_type: string | null;
  object_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Json<Record<string, unknown>>;
  prev_hash: string;
  hash: string;
};

export type AuditHeadsTable = {
  tenant_id: string;
  seq: ColumnType<string, number | string, number | string>;
  hash: string;
};

// ---- business-day calendar (Ley 39/2015 art. 30): platform data, then the entity's own ----
/** A civil date column (`date`), read back as `YYYY-MM-DD` through to_char in the repository. */
type CivilDateColumn = ColumnType<string, string, string>;
export type CalendarRegionalScope = 'national' | 'catalonia' | 'aran';

export type CalendarRegionalDaysTable = {
  date: CivilDateColumn;
  scope: CalendarRegionalScope;
  name: string;
  non_business: boolean;
  source: string;
  created_at: Timestamp;
  withdrawn_at: Timestamp | null;
  withdrawn_reason: string | null;
};

export type CalendarRegionalYearsTable = {
  year: number;
  scope: 'catalonia' | 'aran';
  complete: boolean;
  source: string;
  note: string | null;
  updated_at: Timestamp;
};

export type CalendarLocalDaysTable = {
  ine: string;
  date: CivilDateColumn;
  name: string;
  source: string;
  created_at: Timestamp;
  withdrawn_at: Timestamp | null;
  withdrawn_reason: string | null;
};

export type CalendarLocalYearsTable = {
  ine: string;
  year: number;
  complete: boolean;
  source: string;
  note: string | null;
  updated_at: Timestamp;
};

/** One row: the version of the calendar data, renewed by triggers on every change (migration 0024). */
export type CalendarVersionTable = {
  singleton: boolean;
  version: string;
};

/** Versions of data kept in memory by processes (migration 0026): `seals`. */
export type CacheVersionsTable = {
  name: 'seals';
  version: string;
};

export type CalendarSeedsTable = {
  sha256: string;
  files: ColumnType<string[], string[], string[]>;
  applied_at: Timestamp;
};

export type CalendarEntityDaysTable = {
  tenant_id: string;
  id: string;
  date: CivilDateColumn;
  action: 'add' | 'remove';
  name: string | null;
  reason: string;
  actor_id: string | null;
  actor_label: string;
  created_at: Timestamp;
};

export type CalendarEntityYearsTable = {
  tenant_id: string;
  year: number;
  local_complete: boolean;
  reason: string;
  actor_id: string | null;
  actor_label: string;
  updated_at: Timestamp;
};

export type DB = CoreTables &
  CitizensTables &
  MailTables &
  NotificationsTables &
  BoardTables &
  SeuTables &
  RolloutTables;

type CoreTables = {
  tenants: TenantsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  units: UnitsTable;
  unit_members: UnitMembersTable;
  parties: PartiesTable;
  counters: CountersTable;
  expedients: ExpedientsTable;
  expedient_parties: ExpedientPartiesTable;
  expedient_access: ExpedientAccessTable;
  documents: DocumentsTable;
  index_entries: IndexEntriesTable;
  audit_events: AuditEventsTable;
  audit_heads: AuditHeadsTable;
  calendar_regional_days: CalendarRegionalDaysTable;
  calendar_regional_years: CalendarRegionalYearsTable;
  calendar_local_days: CalendarLocalDaysTable;
  calendar_local_years: CalendarLocalYearsTable;
  calendar_seeds: CalendarSeedsTable;
  calendar_version: CalendarVersionTable;
  cache_versions: CacheVersionsTable;
  calendar_entity_days: CalendarEntityDaysTable;
  calendar_entity_years: CalendarEntityYearsTable;
  installation_ca: InstallationCaTable;
  seals: SealsTable;
  automation_resolutions: AutomationResolutionsTable;
  registry_entries: RegistryEntriesTable;
  registry_annotations: RegistryAnnotationsTable;
  registry_attachments: RegistryAttachmentsTable;
  csv_index: CsvIndexTable;
  registry_receipts: RegistryReceiptsTable;
  registry_receipts_due: RegistryReceiptsDueTable;
  registry_entry_expedients: RegistryEntryExpedientsTable;
  authorised_officials: AuthorisedOfficialsTable;
  paper_originals: PaperOriginalsTable;
  mux_credentials: MuxCredentialsTable;
  mux_transactions: MuxTransactionsTable;
  mux_attachments: MuxAttachmentsTable;
  positions: PositionsTable;
  position_holders: PositionHoldersTable;
  position_absences: PositionAbsencesTable;
  position_delegations: PositionDelegationsTable;
  demo_signing_keys: DemoSigningKeysTable;
  demo_signing_sads: DemoSigningSadsTable;
  trusted_cas: TrustedCasTable;
  document_drafts: DocumentDraftsTable;
  document_versions: DocumentVersionsTable;
  signature_circuits: SignatureCircuitsTable;
  circuit_steps: CircuitStepsTable;
  circuit_signers: CircuitSignersTable;
  document_signatures: DocumentSignaturesTable;
  resolutions: ResolutionsTable;
  resolution_diligences: ResolutionDiligencesTable;
  resolution_book_exports: ResolutionBookExportsTable;
  resolution_extracts: ResolutionExtractsTable;
  ple_sessions: PleSessionsTable;
  signature_inbox: SignatureInboxTable;
  circuit_reminders: CircuitRemindersTable;
};

/** Tables without tenant_id and without row-level security. Anything else must have both. */
export const PLATFORM_TABLES = [
  'csv_index',
  'tenants',
  'users',
  'memberships',
  'sessions',
  'api_tokens',
  'kysely_migration',
  'kysely_migration_lock',
  'calendar_regional_days',
  'calendar_regional_years',
  'calendar_local_days',
  'calendar_local_years',
  'calendar_seeds',
  'calendar_version',
  'cache_versions',
  'installation_ca',
  'demo_signing_keys',
  'demo_signing_sads',
  'trusted_cas',
  'signature_inbox',
  'board_due',
  'registry_receipts_due',
  'citizen_sessions',
  'citizen_logins',
  // issue 6: the Diputació's roll-out (migration 0023)
  'rollout_calls',
  'rollout_waves',
  'rollout_assignments',
  'enrolment_requests',
  'entity_state_changes',
  'golive_checklist',
  'support_grants',
  'user_invitations',
] as const;

/** A certification authority the operator trusts for signature verification (besides the installation CA). */
export type TrustedCasTable = {
  id: string;
  label: string;
  certificate_pem: string;
  fingerprint_sha256: string;
  subject: string;
  valid_from: Timestamp;
  valid_to: Timestamp;
  added_by: string;
  added_at: Timestamp;
  removed_by: string | null;
  removed_at: Timestamp | null;
};

/** The pseudo-tenant whose audit chain holds platform events (tenant creation, users, tokens). */
export const PLATFORM_TENANT = '00000000-0000-0000-0000-000000000000';

/** The demo/development certification authority (one row; never in production). */
export type InstallationCaTable = {
  slot: number;
  id: string;
  certificate_pem: string;
  /** The PKCS#8 private key, wrapped under the master key (platform/crypto/keywrap.ts). */
  wrapped_key: Buffer;
  valid_from: Timestamp;
  valid_to: Timestamp;
  created_at: Timestamp;
};

export type SealSource = 'installation_ca' | 'pkcs12';

/** An entity's seal (segell d'òrgan): certificate and wrapped private key. */
export type SealsTable = {
  tenant_id: string;
  id: string;
  label: string;
  certificate_pem: string;
  /** The issuers' certificates, PEM, leaf's issuer first. */
  chain_pem: string;
  wrapped_key: Buffer;
  source: SealSource;
  qualified: boolean;
  fingerprint_sha256: string;
  valid_from: Timestamp;
  valid_to: Timestamp;
  active: boolean;
  created_at: Timestamp;
  deactivated_at: Timestamp | null;
};

/** A resolution approving the CSV system (LRJSP 42.b) or automated actions (41.2). Revoked, never deleted. */
export type AutomationResolutionsTable = {
  tenant_id: string;
  id: string;
  kind: 'csv_system' | 'automated_action';
  title: string;
  /** How the resolution is cited, e.g. "Decret 2026/000017". */
  reference: string;
  approved_on: ColumnType<string, string, string>;
  /** The body responsible for the automated actions (art. 41.2). */
  responsible_body: string;
  actions: ColumnType<string[], string[], string[]>;
  /** Where it was published (bulletin and date, or the seu address). */
  publication: string | null;
  document_id: string;
  revoked_on: ColumnType<string | null, string | null, string | null>;
  revoked_reason: string | null;
  created_by: string;
  created_at: Timestamp;
};

export type RegistryDirection = 'E' | 'S';
export type RegistryChannel = 'in_person' | 'electronic' | 'mux' | 'postal' | 'sir';

/** An entry of the general registry (LPACAP art. 16.3). Never updated or deleted. */
export type RegistryEntriesTable = {
  tenant_id: string;
  id: string;
  direction: RegistryDirection;
  /** The Europe/Madrid year of registration; with seq, the number `E/2026/000123`. */
  year: number;
  seq: number;
  number: string;
  heading: string;
  summary: string;
  channel: RegistryChannel;
  office_id: string | null;
  party_id: string | null;
  sending_body: string | null;
  recipient_unit_id: string | null;
  recipient_person: string | null;
  /** The request's full text, as filed. */
  text: string | null;
  language: 'ca' | 'es' | 'oc-aranes';
  /** When it was filed where it was filed (16.4). */
  presented_at: Timestamp;
  /** When it entered this registry, read after the number was taken (times follow numbers). */
  registered_at: Timestamp;
  /** Art. 31.2.b; null when the seat's calendar did not know the day. */
  effective_at: Timestamp | null;
  created_by: string;
  created_at: Timestamp;
};

/** A correction or remark linked to a registry entry. Never updated or deleted. */
export type RegistryAnnotationsTable = {
  tenant_id: string;
  id: string;
  entry_id: string;
  text: string;
  created_by: string;
  created_at: Timestamp;
};

/** A document filed with a registry entry, in order, with its SHA-256. */
/** The installation's CSV codes (platform table: verification finds the entity from the code). */
export type CsvIndexTable = {
  csv: string;
  tenant_id: string;
  document_id: string;
  seal_id: string | null;
  created_at: Timestamp;
};

/** The receipt (justificant) of a registry entry: a sealed PDF document with its CSV. */
/** A registry entry whose receipt is owed (migration 0025; platform table, read by the receipts sweeper). */
export type RegistryReceiptsDueTable = {
  tenant_id: string;
  entry_id: string;
  owed_since: Timestamp;
  due_at: Timestamp;
  attempts: Generated<number>;
  last_error: string | null;
};

export type RegistryReceiptsTable = {
  tenant_id: string;
  entry_id: string;
  document_id: string;
  csv: string;
  seal_id: string;
  language: 'ca' | 'es' | 'oc-aranes';
  issued_at: Timestamp;
};

export type RegistryAttachmentsTable = {
  tenant_id: string;
  entry_id: string;
  position: number;
  document_id: string;
  sha256: string;
};

/** A registry entry brought into a case file (its documents joined the index). Never updated or deleted. */
export type RegistryEntryExpedientsTable = {
  tenant_id: string;
  entry_id: string;
  expedient_id: string;
  /** True when the case file was opened from this entry. */
  created_expedient: boolean;
  linked_by: string | null;
  linked_by_label: string;
  linked_at: Timestamp;
};

export type OfficialScope = 'copies' | 'assistance';

/** The register of authorised officials (LPACAP art. 12.3, 27.1). Revoked once, never deleted. */
export type AuthorisedOfficialsTable = {
  tenant_id: string;
  id: string;
  user_id: string;
  /** The name published in the seu. */
  name: string;
  position: string | null;
  scopes: ColumnType<OfficialScope[], OfficialScope[], OfficialScope[]>;
  /** Civil dates (Europe/Madrid), both included; valid_to null = until revoked. */
  valid_from: ColumnType<string, string, string>;
  valid_to: ColumnType<string | null, string | null, string | null>;
  created_by: string;
  created_at: Timestamp;
  revoked_at: Timestamp | null;
  revoked_by: string | null;
  revoked_reason: string | null;
};

export type SealStatus = 'pending' | 'sealed' | 'not_applicable';

/** A paper original digitised at the desk into an authentic copy (EE03), and its return (art. 16.5, 27). */
export type PaperOriginalsTable = {
  tenant_id: string;
  id: string;
  entry_id: string;
  description: string;
  copy_document_id: string;
  official_id: string;
  digitised_by: string | null;
  digitised_by_label: string;
  digitised_at: Timestamp;
  seal_status: SealStatus;
  sealed_document_id: string | null;
  returned_to: string | null;
  returned_by: string | null;
  returned_at: Timestamp | null;
};

/** How MUX v3 authenticates to an entity's registry (issuer, subject, HS256 secret wrapped under the master key). */
export type MuxCredentialsTable = {
  tenant_id: string;
  issuer: string;
  subject: string;
  /** keywrap blob (purpose `integration-secrets`, bound to `mux-secret:<tenant_id>`). */
  wrapped_secret: Buffer;
  configured_by: string;
  configured_at: Timestamp;
};

/** A MUX v3 transaction received, per idTransaccio and direction (guide 5.1), with the exact answer given. */
export type MuxTransactionsTable = {
  tenant_id: string;
  id_transaccio: string;
  sentit: 'E' | 'S';
  /** SHA-256 of the transaction's canonical JSON without the fields MUX changes between executions. */
  fingerprint: string;
  entry_id: string;
  /** The JSON answer, byte for byte as sent (a repeated transaction gets the same bytes). */
  response: string;
  issuer: string;
  received_at: Timestamp;
};

/** A DESA'L document referenced by a MUX transaction, to fetch into the blob store. */
export type MuxAttachmentsTable = {
  tenant_id: string;
  entry_id: string;
  position: number;
  desal_uuid: string;
  contingut: number;
  external_url: string | null;
  file_name: string;
  mime_type: string;
  title: string;
  declared_size: string | number | null;
  declared_hash: string | null;
  hash_algorithm: string | null;
  state: 'pending' | 'fetched' | 'failed';
  error_code: string | null;
  error: string | null;
  attempts: number;
  document_id: string | null;
  sha256: string | null;
  updated_at: Timestamp;
};

/** The kinds of an entity's positions (càrrecs); kinds drive rules (a vistiplau needs the mayor). */
export type PositionKind =
  | 'mayor'
  | 'deputy_mayor'
  | 'secretary'
  | 'secretary_intervenor'
  | 'intervenor'
  | 'treasurer'
  | 'councillor'
  | 'other';

/** A position of an entity, with its substitute (a user, or another position). */
export type PositionsTable = {
  tenant_id: string;
  id: string;
  kind: PositionKind;
  title: string;
  area: string | null;
  /** 1 = first deputy mayor (tinent d'alcalde); only for deputy_mayor. */
  deputy_order: number | null;
  substitute_user_id: string | null;
  substitute_position_id: string | null;
  created_by: string;
  created_at: Timestamp;
};

/** Who holds a position, between civil dates (Europe/Madrid, both included; valid_to null = open). */
export type PositionHoldersTable = {
  tenant_id: string;
  id: string;
  position_id: string;
  user_id: string;
  valid_from: ColumnType<string, string, string>;
  valid_to: ColumnType<string | null, string | null, string | null>;
  appointment_reference: string | null;
  created_by: string;
  created_at: Timestamp;
};

/** An absence of a position's holder (civil dates, both included): the substitute acts meanwhile. */
export type PositionAbsencesTable = {
  tenant_id: string;
  id: string;
  position_id: string;
  date_from: ColumnType<string, string, string>;
  date_to: ColumnType<string, string, string>;
  reason: string;
  created_by: string;
  created_at: Timestamp;
};

/** Areas and powers delegated to a position by a decree of the mayor (LBRL art. 21.3, 23.4). */
export type PositionDelegationsTable = {
  tenant_id: string;
  id: string;
  position_id: string;
  areas: ColumnType<string[], string[], string[]>;
  powers: string;
  decree_reference: string;
  decree_date: ColumnType<string, string, string>;
  valid_from: ColumnType<string, string, string>;
  valid_to: ColumnType<string | null, string | null, string | null>;
  created_by: string;
  created_at: Timestamp;
};

/**
 * The local CSC service's demo signing credential of a user (platform table: users are not
 * tenants'): a key issued by the installation CA, wrapped under the master key. Never in production.
 */
export type DemoSigningKeysTable = {
  id: string;
  user_id: string;
  certificate_pem: string;
  chain_pem: string;
  wrapped_key: Buffer;
  valid_from: Timestamp;
  valid_to: Timestamp;
  created_at: Timestamp;
};

/** A Signature Activation Data issued by the local CSC service: single use, short-lived, bound to hashes. */
export type DemoSigningSadsTable = {
  /** SHA-256 (hex) of the SAD; the SAD itself is never stored. */
  id: string;
  credential_id: string;
  user_id: string;
  hashes: ColumnType<string[], string[], string[]>;
  num_signatures: number;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  created_at: Timestamp;
};

/** Signature circuits (migration 0013-circuits; src/modules/signatures/circuits.*). */
export type DraftState = 'draft' | 'in_circuit' | 'final' | 'rejected' | 'cancelled';
export type DocumentDraftsTable = {
  tenant_id: string;
  document_id: string;
  expedient_id: string;
  state: DraftState;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
};
export type DocumentVersionsTable = {
  tenant_id: string;
  document_id: string;
  version: number;
  sha256: string;
  size_bytes: ColumnType<string, number | string, never>;
  kind: 'upload' | 'replace' | 'prepare' | 'signature' | 'stamp';
  created_by: string;
  created_at: Timestamp;
};
export type SignatureCircuitsTable = {
  tenant_id: string;
  id: string;
  document_id: string;
  state: 'active' | 'completed' | 'rejected' | 'cancelled';
  current_step: number;
  format: 'PAdES' | 'CAdES' | 'XAdES';
  created_by: string;
  created_at: Timestamp;
  finished_at: Timestamp | null;
  finished_by: string | null;
  finish_reason: string | null;
};
export type CircuitStepsTable = {
  tenant_id: string;
  circuit_id: string;
  step_no: number;
  kind: 'sign' | 'vistiplau' | 'review';
  mode: 'all' | 'any';
};
export type CircuitSignersTable = {
  tenant_id: string;
  circuit_id: string;
  step_no: number;
  signer_no: number;
  user_id: string | null;
  position_id: string | null;
  field_name: string | null;
  action: 'signed' | 'reviewed' | 'rejected' | null;
  acted_by: string | null;
  acted_at: Timestamp | null;
  by_substitution: boolean | null;
  position_title: string | null;
  reason: string | null;
  version: number | null;
  /** How the signature was made (migration 0016); null for review steps and older acts. */
  method: ColumnType<'csc' | 'upload' | null, 'csc' | 'upload' | null | undefined, 'csc' | 'upload' | null>;
};
/** A detached signature (CAdES `.p7s`, XAdES `.xsig`) of a document, by a circuit signer (migration 0016). */
export type DocumentSignaturesTable = {
  tenant_id: string;
  id: string;
  document_id: string;
  circuit_id: string;
  step_no: number;
  signer_no: number;
  format: 'CAdES' | 'XAdES';
  method: 'csc' | 'upload';
  sha256: string;
  size_bytes: ColumnType<string, number | string, never>;
  content_sha256: string;
  file_name: string;
  position_title: string | null;
  by_substitution: boolean;
  signed_by: string;
  created_at: Timestamp;
};
/** Platform table: a user's pending signatures across entities (the inbox). */
export type SignatureInboxTable = {
  user_id: string;
  tenant_id: string;
  document_id: string;
  circuit_id: string;
  step_no: number;
  step_kind: string;
  title: string;
  since: Timestamp;
  reminded_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  reminders: ColumnType<number, number | undefined, number>;
};

/** A reminder sent to the pending signers of a circuit's step (migration 0017). */
export type CircuitRemindersTable = {
  tenant_id: string;
  id: string;
  circuit_id: string;
  step_no: number;
  kind: 'manual' | 'automatic';
  recipients: string[];
  created_by: string | null;
  created_at: Timestamp;
};

/** A resolution (decree) in its circuit and, once decided, in the book (migration 0014). */
export type ResolutionsTable = {
  tenant_id: string;
  document_id: string;
  circuit_id: string;
  expedient_id: string;
  title: string;
  summary: string;
  deciding_step: number;
  transcription_step: number;
  created_by: string;
  created_at: Timestamp;
  year: number | null;
  seq: number | null;
  number: string | null;
  decided_at: Timestamp | null;
  decided_by: string | null;
  position_id: string | null;
  position_title: string | null;
  by_substitution: boolean | null;
  stamped_at: Timestamp | null;
  stamped_version: number | null;
  /** When the secretary's transcription signature was recorded (migration 0015). */
  transcribed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
};

/** The opening or closing diligence (TD12) of a year's book of resolutions, signed by the secretary. */
export type ResolutionDiligencesTable = {
  tenant_id: string;
  id: string;
  year: number;
  kind: 'opening' | 'closing';
  document_id: string;
  expedient_id: string;
  position_id: string;
  first_number: string | null;
  last_number: string | null;
  decree_count: number | null;
  requested_by: string;
  requested_at: Timestamp;
  signed_at: Timestamp | null;
  signed_by: string | null;
  signer_position: string | null;
  by_substitution: boolean | null;
  stopped_at: Timestamp | null;
};

/** A sealed edition of a year's book (one PDF with an index). */
export type ResolutionBookExportsTable = {
  tenant_id: string;
  id: string;
  year: number;
  document_id: string;
  csv: string;
  seal_id: string;
  fingerprint: string;
  decree_count: number;
  page_count: number;
  created_by: string | null;
  created_at: Timestamp;
};

/** A decree's extract for one recipient (LBRL art. 56.1: within 6 days). */
export type ResolutionExtractsTable = {
  tenant_id: string;
  document_id: string;
  recipient: 'AGE' | 'GENCAT';
  due_at: Timestamp;
  sent_at: Timestamp | null;
  ack_id: string | null;
  channel: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  last_error: string | null;
  overdue_at: Timestamp | null;
};

/** A session of the entity's Ple (ordinary or extraordinary). */
export type PleSessionsTable = {
  tenant_id: string;
  id: string;
  held_on: ColumnType<string, string, string>;
  kind: 'ordinary' | 'extraordinary';
  reference: string | null;
  created_by: string;
  created_at: Timestamp;
};
