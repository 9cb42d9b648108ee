/**
 * The staff side of issue 5 as the API answers it: notifications of a case file, the notice board
 * (tauler d'edictes), the seu's technical incidents, the register of powers of attorney and the
 * seu's settings. Shapes as in docs/api.md and the modules' route schemas.
 */

export type NotificationState =
  | 'available'
  | 'accepted'
  | 'rejected'
  | 'deemed_rejected'
  | 'delivered'
  | 'failed'
  | 'sent_for_publication';
export type NotificationChannel = 'electronic' | 'paper';
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

export type NotificationAttempt = {
  id: string;
  attemptNo: number;
  attemptedAt: string;
  outcome: AttemptOutcome;
  receiver: {
    kind: 'party' | 'other';
    name: string | null;
    identityDocument: string | null;
    relationship: string | null;
  } | null;
  acknowledgementDocumentId: string | null;
  notes: string | null;
  recordedBy: string;
  recordedAt: string;
};

export type NotificationEvidence = {
  key: EvidenceKey;
  outcomeAt: string;
  documentId: string | null;
  csv: string | null;
  issuedAt: string | null;
  incorporated: boolean | null;
};

export type StaffNotification = {
  id: string;
  batchId: string;
  expedientId: string;
  expedientNumber: string;
  partyId: string;
  recipient: { identifier: string; name: string };
  language: string;
  subject: string;
  actText: string;
  endsAdministrativeRoute: boolean;
  appeals: Appeal[];
  documents: { documentId: string; title: string; fileName: string; mimeType: string; size: number }[];
  channel: NotificationChannel;
  electronicBasis: 'compulsory' | 'chosen' | null;
  state: NotificationState;
  madeAvailableAt: string;
  availableUntil: string | null;
  registryEntry: { id: string; number: string };
  notifiedAt: string | null;
  accessedAt: string | null;
  rejectedAt: string | null;
  actedBy: {
    identifier: string;
    name: string;
    representationId: string | null;
    representedIdentifier: string | null;
  } | null;
  attempts: NotificationAttempt[];
  evidence: NotificationEvidence[];
  publication: {
    id: string;
    bulletin: string;
    state: string;
    publishedIdentifier: string;
    edictText: string;
    requestedAt: string;
    sentAt: string | null;
    edictDocumentId: string | null;
  } | null;
  createdBy: string;
  createdAt: string;
};

export type BoardState = 'scheduled' | 'in_force' | 'ended' | 'withdrawn';
export type TermUnit = 'business_days' | 'calendar_days';

export type BoardPublication = {
  id: string;
  state: BoardState;
  title: string;
  summary: string;
  publicTitle: string;
  publicSummary: string;
  expedient: { id: string; number: string };
  documentId: string;
  startDate: string;
  endDate: string;
  term: { amount: number; unit: TermUnit } | null;
  visibleFrom: string;
  visibleUntil: string;
  personalDataReviewed: boolean;
  createdAt: string;
  createdBy: string;
  withdrawal: { at: string; by: string | null; reason: string } | null;
  endedAt: string | null;
  certificate: { documentId: string; csv: string; issuedAt: string; incorporated: boolean } | null;
};

export type SeuIncident = {
  id: string;
  startedAt: string;
  endedAt: string | null;
  ongoing: boolean;
  description: string;
  outage: boolean;
  extension: { decision: string; newDate: string | null; days: number | null; recordedAt: string } | null;
  createdAt: string;
};

export type RepresentationOrigin = 'apud_acta' | 'electronic' | 'notarial';
export type Representation = {
  id: string;
  represented: { identifier: string; name: string };
  representative: { identifier: string; name: string };
  scope: 'general' | 'procedure';
  procedure: string | null;
  origin: RepresentationOrigin;
  validFrom: string;
  validTo: string;
  notarialDocument: { filename: string; size: number; sha256: string } | null;
  notes: string | null;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
  revokedReason: string | null;
  inForce: boolean;
};

/**
 * In force, not yet in force, expired or revoked. Whether it is in force is the server's word (its
 * clock is the official one); one that is not is expired once its last day is past, else not yet.
 */
export type RepresentationStatus = 'in_force' | 'not_yet' | 'expired' | 'revoked';
export function representationStatus(r: Representation, today: string): RepresentationStatus {
  if (r.revokedAt) return 'revoked';
  if (r.inForce) return 'in_force';
  return r.validTo < today ? 'expired' : 'not_yet';
}

export type SeuContact = {
  address: string | null;
  postalCode: string | null;
  town: string | null;
  phone: string | null;
  email: string | null;
  web: string | null;
};
export type SeuSettings = {
  contact: SeuContact | null;
  creationAct: { reference: string; date: string; url: string | null } | null;
  genericRequest: {
    maxTermMonths: number;
    termBasis: string | null;
    silence: 'estimatory' | 'dismissive';
    silenceBasis: string | null;
  } | null;
  accessibility: {
    status: 'full' | 'partial' | 'non_compliant';
    statementDate: string;
    reviewedOn: string | null;
    nonAccessibleContent: string | null;
    complaintsEmail: string;
    complaintsPhone: string | null;
    complaintsUrl: string | null;
  } | null;
  privacy: {
    dpoName: string | null;
    dpoEmail: string;
    purposes: string[];
    legalBasis: string | null;
    retention: string | null;
    rightsChannel: string;
  } | null;
};
export type SeuSettingsView = SeuSettings & { updatedAt: string | null };
