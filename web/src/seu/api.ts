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
