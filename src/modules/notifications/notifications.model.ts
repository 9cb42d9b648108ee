import type {
  ActedBy,
  Appeal,
  AttemptOutcome,
  EvidenceKey,
  NotificationChannel,
  NotificationLanguage,
  NotificationState,
} from '#platform/db/schema/notifications.ts';
import { addDays, madridDateOf, madridStartOfDay } from '#modules/calendar/civil-date.ts';

export type { ActedBy, Appeal, AttemptOutcome, EvidenceKey, NotificationChannel, NotificationState };

/**
 * LPACAP art. 43.2: where electronic notification is compulsory or was chosen, a notification not
 * accessed within 10 calendar days of being made available is deemed rejected. The days count
 * from the day after it was made available and end at 24:00 (Europe/Madrid) of the tenth: made
 * available on 2 March at 10:00 → accessible until 12 March 23:59:59, deemed rejected at 13 March
 * 00:00. Returns that instant (00:00 of the 11th day after, i.e. 24:00 of the 10th).
 */
export function accessibleUntil(madeAvailableAt: Date): Date {
  return madridStartOfDay(addDays(madridDateOf(madeAvailableAt), 11));
}

/** The sweeper runs this often (cron, Europe/Madrid); the deemed rejection time is the rule's, not the run's. */
export const SWEEP_CRON = '*/15 * * * *';
export const SWEEP_JOB = 'notifications.deemed-rejection-sweep';
export const EVIDENCE_JOB = 'notifications.evidence';
export type EvidenceJobData = { tenantId: string; notificationId: string; key: EvidenceKey };

/** The entity's language for documents it issues: Catalan unless the entity's is Spanish or Aranese. */
export function documentLanguage(tenantLanguage: string | null | undefined): NotificationLanguage {
  if (tenantLanguage === 'es') return 'es';
  if (tenantLanguage === 'oc' || tenantLanguage === 'oc-aranes') return 'oc-aranes';
  return 'ca';
}

export function parseJson<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

export const iso = (t: Date | string | null | undefined): string | null =>
  t == null ? null : new Date(t).toISOString();

export type NotifiedDocument = {
  documentId: string;
  title: string;
  fileName: string;
  mimeType: string;
  size: number;
  sha256: string;
};

export type AttemptView = {
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

export type EvidenceView = {
  key: EvidenceKey;
  outcomeAt: string;
  documentId: string | null;
  csv: string | null;
  issuedAt: string | null;
  /** Whether the evidence document joined the case file's index (false: the file was closed or restricted meanwhile). */
  incorporated: boolean | null;
};

export type PublicationView = {
  id: string;
  bulletin: 'BOE';
  state: 'sent_for_publication' | 'published';
  publishedIdentifier: string;
  edictText: string;
  requestedBy: string;
  requestedAt: string;
  sentAt: string | null;
  edictDocumentId: string | null;
};

/** What staff see of a notification. */
export type NotificationView = {
  id: string;
  batchId: string;
  expedientId: string;
  expedientNumber: string;
  partyId: string;
  recipient: { identifier: string; name: string };
  language: NotificationLanguage;
  subject: string;
  actText: string;
  endsAdministrativeRoute: boolean;
  appeals: Appeal[];
  documents: NotifiedDocument[];
  channel: NotificationChannel;
  electronicBasis: 'compulsory' | 'chosen' | null;
  state: NotificationState;
  madeAvailableAt: string;
  availableUntil: string | null;
  registryEntry: { id: string; number: string };
  notifiedAt: string | null;
  accessedAt: string | null;
  rejectedAt: string | null;
  actedBy: ActedBy | null;
  attempts: AttemptView[];
  evidence: EvidenceView[];
  publication: PublicationView | null;
  createdBy: string;
  createdAt: string;
};

/** What a citizen sees in the seu before accessing: sender, subject, reference and dates only (LPACAP art. 43). */
export type CitizenNotificationSummary = {
  id: string;
  sender: { name: string; dir3: string };
  subject: string;
  reference: { registryNumber: string; expedientNumber: string };
  channel: NotificationChannel;
  state: NotificationState;
  madeAvailableAt: string;
  availableUntil: string | null;
  notifiedAt: string | null;
  accessedAt: string | null;
};

/** After access: the act itself. */
export type CitizenNotificationContent = CitizenNotificationSummary & {
  actText: string;
  endsAdministrativeRoute: boolean;
  appeals: Appeal[];
  documents: NotifiedDocument[];
};
