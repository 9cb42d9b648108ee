/**
 * The console's API shapes (issue 6; docs: the console API contract) and small shared helpers of
 * the console pages. JSON in camelCase; dates 'YYYY-MM-DD', instants ISO strings.
 */
import type { Me } from '../api.ts';

export const ENTITY_STATUSES = [
  'listed',
  'requested',
  'scheduled',
  'provisioning',
  'pilot',
  'live',
  'suspended',
] as const;
export type EntityStatus = (typeof ENTITY_STATUSES)[number];

/** The changes an operator may make (the same table as the server's rollout.model.ts). */
export const STATE_TRANSITIONS: Record<EntityStatus, readonly EntityStatus[]> = {
  listed: ['requested'],
  requested: ['scheduled', 'listed'],
  scheduled: ['provisioning', 'requested'],
  provisioning: ['pilot', 'scheduled'],
  pilot: ['live', 'suspended'],
  live: ['suspended'],
  suspended: ['pilot', 'live'],
};

export const ENROLMENT_STATUSES = ['submitted', 'corrections_requested', 'accepted', 'rejected'] as const;
export type EnrolmentStatus = (typeof ENROLMENT_STATUSES)[number];

export const CHECKLIST_ITEMS = [
  'seu_decree',
  'registry_decree',
  'csv_resolution',
  'seal',
  'privacy_notice',
  'accessibility_statement',
  'processing_record',
  'dpa',
  'certification',
] as const;

export type EntityRef = {
  id: string;
  dir3: string;
  ine: string | null;
  slug: string;
  name: string;
  kind: string;
  comarca: string | null;
  population: number | null;
  status: EntityStatus;
};

export type EnrolmentSummary = {
  id: string;
  status: EnrolmentStatus;
  entityName: string;
  entityKind: 'ajuntament' | 'emd';
  ine: string | null;
  dir3: string | null;
  entityId: string | null;
  population: number;
  currentProvider: string | null;
  submittedAt: string;
  registryNumber: string | null;
  callId: string | null;
  callName: string | null;
};

export type SignatureCheck = {
  signed: boolean;
  integrity: 'valid' | 'invalid' | 'none';
  trust: string | null;
  signerName: string | null;
  signerId: string | null;
  signedAt: string | null;
};

export type Contact = { name: string; email: string; phone: string | null };

export type EnrolmentDetail = EnrolmentSummary & {
  mayor: Contact;
  secretary: Contact;
  adhesionAct: { kind: 'ple_resolution' | 'mayor_decree'; date: string };
  files: {
    role: 'adhesion_act' | 'signed_request' | 'dpa';
    fileName: string;
    size: number;
    sha256: string;
  }[];
  signatures: { request?: SignatureCheck | null; dpa?: SignatureCheck | null };
  statusReason: string | null;
  decidedAt: string | null;
  decidedBy: string | null;
};

export type Call = { id: string; name: string; opensOn: string; closesOn: string };

export type Wave = {
  id: string;
  callId: string;
  callName: string;
  name: string;
  plannedStart: string;
  plannedEnd: string;
  requiresCertification: boolean;
  capacity: number | null;
  entities: (EntityRef & { position: number })[];
};

export type Proposal = {
  rule: string;
  entities: (EntityRef & { requestId: string; currentProvider: string | null })[];
};

export type ConsoleEntity = EntityRef & { waveId: string | null; waveName: string | null };

export type HistoryItem = {
  from: EntityStatus | null;
  to: EntityStatus;
  at: string;
  by: string;
  reason: string | null;
};

export type EntityDetail = EntityRef & {
  wave: { id: string; name: string } | null;
  history: HistoryItem[];
  missingForLive: string[];
  request: EnrolmentSummary | null;
};

export type ProvisionResult = {
  entity: EntityRef;
  steps: { step: string; done: 'created' | 'existing' | 'pending' }[];
  adminUsername: string;
  invitationSent: boolean;
};

export type ChecklistEntry = {
  item: string;
  required: boolean;
  status: 'missing' | 'document' | 'fact' | 'bypass';
  documentName: string | null;
  fact: string | null;
  reference: string | null;
  bypassReason: string | null;
  recordedAt: string | null;
  recordedBy: string | null;
};

export type Checklist = { items: ChecklistEntry[]; missing: string[] };

export type Invitation = { username: string; name: string; entityName: string | null };

export const isOperator = (me: Me | null | undefined) => !!me?.platformRoles.includes('operator');
export const isSupport = (me: Me | null | undefined) => !!me?.platformRoles.includes('support');
export const hasConsoleRole = (me: Me | null | undefined) => isOperator(me) || isSupport(me);

/** The reference of an entity in console URLs. */
export const entityRef = (e: { dir3?: string | null; id: string }) => e.dir3 || e.id;

export const consoleKeys = {
  requests: ['console', 'requests'] as const,
  request: (id: string) => ['console', 'requests', id] as const,
  calls: ['console', 'calls'] as const,
  schedule: ['console', 'schedule'] as const,
  entities: ['console', 'entities'] as const,
  entity: (ref: string) => ['console', 'entities', ref] as const,
  checklist: (ref: string) => ['console', 'checklist', ref] as const,
};

/** A civil date as 'YYYY-MM-DD', also when a server sends it as a midnight instant. */
export const dayOf = (d: string) => d.slice(0, 10);
