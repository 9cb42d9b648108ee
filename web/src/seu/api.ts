/** The seu's client for the public API under /api/v1/seu/<slug> (problem+json errors with a stable `code`). */

export class SeuApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function seuGet<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`/api/v1${path}`, {
    ...init,
    credentials: 'same-origin',
    headers: { accept: 'application/json', ...(init.headers ?? {}) },
  });
  if (!res.ok) {
    let code = 'HTTP_ERROR';
    let detail = res.statusText;
    try {
      const body = (await res.json()) as { code?: string; detail?: string };
      code = body.code ?? code;
      detail = body.detail ?? detail;
    } catch {
      // Not problem+json: keep the status.
    }
    throw new SeuApiError(res.status, code, detail);
  }
  return (await res.json()) as T;
}

export type SeuLanguage = 'ca' | 'es' | 'oc';

export type Contact = {
  address: string | null;
  postalCode: string | null;
  town: string | null;
  phone: string | null;
  email: string | null;
  web: string | null;
};

export type OfficialTime = { now: string; epochMs: number; date: string; timeZone: string };

export type SeuInfo = {
  entity: {
    name: string;
    kind: string;
    dir3: string;
    ine: string | null;
    slug: string;
    comarca: string | null;
    contact: Contact | null;
  };
  languages: SeuLanguage[];
  officialTime: OfficialTime;
  creationAct: { reference: string; date: string; url: string | null } | null;
  seals: {
    label: string;
    subject: string;
    issuer: string;
    serialNumber: string;
    fingerprintSha256: string;
    validFrom: string;
    validTo: string;
    qualified: boolean;
    active: boolean;
  }[];
  resolutions: {
    kind: 'csv_system' | 'automated_action';
    title: string;
    reference: string;
    approvedOn: string;
    responsibleBody: string;
    actions: string[];
    publication: string | null;
    inForce: boolean;
    revokedOn: string | null;
  }[];
  procedures: {
    code: 'generic_request';
    online: boolean;
    maxTermMonths: number;
    termBasis: string | null;
    silence: 'estimatory' | 'dismissive';
    silenceBasis: string | null;
    legalDefault: boolean;
  }[];
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
    controller: { name: string; dir3: string; contact: Contact | null };
  } | null;
  updatedAt: string | null;
};

export type SeuCalendar = {
  year: number;
  place: string;
  complete: boolean;
  days: { date: string; weekday: string; weekend: boolean; holidays: { name: string; scope: string }[] }[];
};

export type Verification = {
  csv: string;
  entity: { name: string; dir3: string };
  document: {
    title: string;
    documentType: string;
    fileName: string;
    mimeType: string;
    size: number;
    sha256: string;
    createdAt: string;
  };
  seal: { subject: string; issuer: string; qualified: boolean; validTo: string } | null;
  contentUrl: string;
};

/** A change (POST) with a JSON or multipart body; same-origin, so the session cookie goes with it. */
export async function seuSend<T>(path: string, body: FormData | object | null): Promise<T> {
  const init: RequestInit = {
    method: 'POST',
    credentials: 'same-origin',
    headers: { accept: 'application/json' },
  };
  if (body instanceof FormData) init.body = body;
  else if (body) {
    init.body = JSON.stringify(body);
    init.headers = { ...init.headers, 'content-type': 'application/json' };
  }
  const res = await fetch(`/api/v1${path}`, init);
  if (!res.ok) {
    let code = 'HTTP_ERROR';
    let detail = res.statusText;
    let details: Record<string, unknown> = {};
    try {
      const b = (await res.json()) as { code?: string; detail?: string; details?: Record<string, unknown> };
      code = b.code ?? code;
      detail = b.detail ?? detail;
      details = b.details ?? {};
    } catch {
      // Not problem+json.
    }
    const err = new SeuApiError(res.status, code, detail);
    (err as SeuApiError & { details?: Record<string, unknown> }).details = details;
    throw err;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export type Representation = {
  id: string;
  represented: { identifier: string; name: string };
  representative: { identifier: string; name: string };
  scope: 'general' | 'procedure';
  procedure: string | null;
  origin: 'apud_acta' | 'electronic' | 'notarial';
  validFrom: string;
  validTo: string;
  revokedAt: string | null;
  inForce: boolean;
};

export type CitizenMe = {
  identifier: string;
  name: string;
  email: string | null;
  language: string | null;
  acting: {
    identifier: string;
    name: string;
    representation: { id: string; scope: string; procedure: string | null } | null;
  };
  represents: { identifier: string; name: string; powers: Representation[] }[];
};

export type MyFiling = {
  entryId: string;
  number: string;
  heading: string;
  summary: string;
  channel: string;
  presentedAt: string;
  registeredAt: string;
  attachmentCount: number;
  receipt: { csv: string; issuedAt: string } | null;
  receiptUrl: string;
};

export type MyExpedient = {
  id: string;
  number: string;
  title: string;
  state: 'open' | 'closed';
  openedAt: string;
  closedAt: string | null;
  updatedAt: string;
  roles: string[];
};

export type MyExpedientDetail = MyExpedient & {
  documents: {
    id: string;
    order: number;
    title: string;
    fileName: string;
    mimeType: string;
    size: number;
    sha256: string;
    documentType: string;
    incorporatedAt: string;
    url: string;
  }[];
};

export type MyNotification = {
  id: string;
  sender: { name: string; dir3: string };
  subject: string;
  reference: { registryNumber: string; expedientNumber: string };
  channel: string;
  state: string;
  madeAvailableAt: string;
  availableUntil: string | null;
  notifiedAt: string | null;
  accessedAt: string | null;
};

export type MyNotificationContent = MyNotification & {
  actText: string;
  endsAdministrativeRoute: boolean;
  appeals: { appeal: string; body: string; term: string }[];
  documents: {
    documentId: string;
    title: string;
    fileName: string;
    mimeType: string;
    size: number;
    sha256: string;
  }[];
};

export type FilingForm = {
  procedure: string;
  exposoMaxLength: number;
  solicitoMaxLength: number;
  maxAttachments: number;
  maxAttachmentBytes: number;
  maxTotalBytes: number;
  types: { mimeType: string; extensions: string[] }[];
};

export type FilingAttachment = {
  position: number;
  fileName: string;
  mimeType: string;
  size: number;
  sha256: string;
};

export type FilingPreview = {
  language: string;
  heading: string;
  exposo: string;
  solicito: string;
  text: string;
  party: { identifier: string; name: string };
  representation: { id: string; representative: string } | null;
  attachments: FilingAttachment[];
  totalBytes: number;
};

export type FilingResult = {
  entryId: string;
  number: string;
  presentedAt: string;
  registeredAt: string;
  effectiveAt: string | null;
  receipt: { csv: string; issuedAt: string } | null;
  receiptUrl: string;
  attachments: FilingAttachment[];
};
