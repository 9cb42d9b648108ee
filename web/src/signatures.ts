/** Client types and calls for signature circuits, the signature inbox and verification reports. */
import { api, entityPath } from './api.ts';

export type InboxItem = {
  entity: { id: string; slug: string; name: string };
  documentId: string;
  circuitId: string;
  step: number;
  kind: StepKind;
  title: string;
  since: string;
  remindedAt: string | null;
  reminders: number;
};

export type StepKind = 'sign' | 'vistiplau' | 'review';
export type StepMode = 'all' | 'any';
export type SignerRef = string | { positionId: string };
export type StepInput = { kind: StepKind; mode: StepMode; signers: SignerRef[] };

export type CircuitSigner = {
  userId: string | null;
  positionId: string | null;
  action: string | null;
  actedBy: string | null;
  actedAt: string | null;
  position: string | null;
  bySubstitution: boolean | null;
  reason: string | null;
  version: number | null;
  /** How the signature was made: csc (signing service) or upload (signed elsewhere). */
  method: 'csc' | 'upload' | null;
};

export type Circuit = {
  id: string;
  documentId: string;
  expedientId: string;
  state: 'active' | 'completed' | 'rejected' | 'cancelled';
  documentState: string;
  currentStep: number;
  createdBy: string;
  createdAt: string;
  finishedAt: string | null;
  finishReason: string | null;
  format: 'PAdES' | 'CAdES' | 'XAdES';
  sha256: string;
  steps: { step: number; kind: StepKind; mode: StepMode; signers: CircuitSigner[] }[];
};

export type Trust = 'trusted' | 'untrusted' | 'expired' | 'revoked' | 'unknown';
export type VerifiedSignature = {
  signer: string | null;
  position: string | null;
  signedAt: string | null;
  format: string;
  integrity: 'valid' | 'invalid';
  trust: Trust;
  coverage: { label: string; scope: 'whole' | 'revision'; revision: number; revisions: number };
  /** Made with a demo key of this installation: shown as "demo — not qualified". */
  demo: boolean;
  qualified: boolean;
  /** A detached .p7s/.xsig of the document (CAdES/XAdES circuits); null when inside the file. */
  detachedSignatureId: string | null;
};
export type VerificationReport = {
  documentId: string;
  verifiedAt: string;
  signed: boolean;
  signatures: VerifiedSignature[];
};

export type SecondFactor = { totp?: string; password?: string };

export type BatchResult = {
  entity: string;
  documentId: string;
  ok: boolean;
  state: string | null;
  code: string | null;
  message: string | null;
};

export const INBOX_KEY = ['signatures', 'pending'] as const;

export const docPath = (slug: string, id: string) =>
  `${entityPath(slug)}/documents/${encodeURIComponent(id)}`;

export const fetchInbox = () => api<InboxItem[]>('/me/signatures/pending');

export const signBatch = (items: { entity: string; documentId: string }[], factor: SecondFactor) =>
  api<{ results: BatchResult[] }>('/me/signatures/batch', { json: { items, ...factor } });
