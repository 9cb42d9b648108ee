/** Thin client for the Lligall API (/api/v1). Errors are problem+json with a stable `code`. */

export type Membership = {
  entity: { id: string; dir3: string; slug: string; name: string };
  roles: string[];
};

export type Me = {
  id: string;
  username: string;
  name: string;
  platformRoles: string[];
  totpEnabled: boolean;
  mustEnrolTotp: boolean;
  memberships: Membership[];
};

export type Entity = {
  id: string;
  dir3: string;
  slug: string;
  name: string;
  kind: string;
  status: string;
  language: string;
};

export type Unit = { id: string; name: string; kind: string; dir3: string | null };

export type AccessLevel = 'public' | 'internal' | 'restricted';
export type PartyRole = 'applicant' | 'representative' | 'interested';
export type ExpedientState = 'E01' | 'E02' | 'E03';

export type ExpedientSummary = {
  id: string;
  closedAt: string | null;
  number: string;
  eniId: string;
  title: string;
  state: ExpedientState;
  accessLevel: AccessLevel;
  classification: string | null;
  openedAt: string;
  unit: { id: string; name: string } | null;
};

export type ExpedientParty = { partyId: string; role: PartyRole; identifier: string; name: string };

export type Expedient = ExpedientSummary & {
  parties: ExpedientParty[];
  documentCount: number;
};

export type Page<T> = { items: T[]; total: number; page: number; pageSize: number };

export type Party = {
  id: string;
  identifier: string;
  identifierType: IdentifierType;
  kind: PartyKind;
  name: string;
  surname1: string | null;
  surname2: string | null;
  email: string | null;
  phone: string | null;
  residenceIne: string | null;
  language: PartyLanguage;
  eNotification: ENotification;
  eNotificationChosenAt: string | null;
  eNotificationEvidence: string | null;
  preferredChannel: Channel;
};

export type IdentifierType = 'nif' | 'nie' | 'cif' | 'passport' | 'dir3' | 'other';
/** The language a party deals with the entity in (Aranese is `oc-aranes` in the register). */
export type PartyLanguage = 'ca' | 'es' | 'oc-aranes';

export type PartyKind = 'person' | 'organisation';
/** Electronic notification: compulsory (LPACAP art. 14.2), chosen by a person (14.1), or not. */
export type ENotification = 'compulsory' | 'chosen' | 'none';
export type Channel = 'electronic' | 'paper';

export type IndexEntry = {
  order: number;
  documentId: string;
  eniId: string;
  title: string;
  documentType: string;
  sha256: string;
  hashFunction: string;
  incorporatedAt: string;
  supersedesId: string | null;
};

export type ExpedientIndex = { expedientId: string; eniId: string; number: string; entries: IndexEntry[] };

export type DocumentMeta = {
  id: string;
  eniId: string;
  sha256: string;
  order: number;
  title: string;
  fileName: string;
  mimeType: string;
  size: number;
  documentType: string;
};

export type AuditEvent = {
  seq: number;
  at: string;
  actor: string;
  action: string;
  objectType: string;
  objectId: string | null;
  details: unknown;
};

/** An API error: the problem's stable `code` (translated by the UI) and the server's `detail`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string | undefined;
  constructor(status: number, code: string, detail?: string) {
    super(detail ?? code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

type RequestOptions = { method?: string; json?: unknown; form?: FormData; signal?: AbortSignal };

/** Calls the API with the session cookie; the browser adds the same-origin `Origin` header itself. */
export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
  let body: BodyInit | undefined;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.form) {
    body = opts.form;
  }
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method: opts.method ?? (body ? 'POST' : 'GET'),
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK_ERROR');
  }
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  const data: unknown = type.includes('json') ? await res.json().catch(() => null) : null;
  if (!res.ok) {
    const p = (data ?? {}) as { code?: unknown; detail?: unknown };
    throw new ApiError(
      res.status,
      typeof p.code === 'string' ? p.code : `HTTP_${res.status}`,
      typeof p.detail === 'string' ? p.detail : undefined,
    );
  }
  return data as T;
}

/** Path prefix of one entity's API. */
export function entityPath(slug: string): string {
  return `/entities/${encodeURIComponent(slug)}`;
}

/** A URL a link can point to (downloads go straight to the API, with the session cookie). */
export function apiUrl(path: string): string {
  return `/api/v1${path}`;
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Registry (LPACAP art. 16): input (E) and output (S) entries. */
export type RegistryDirection = 'E' | 'S';
export type RegistryChannel = 'in_person' | 'electronic' | 'mux' | 'postal' | 'sir';

export type RegistryEntrySummary = {
  id: string;
  number: string;
  direction: RegistryDirection;
  heading: string;
  summary: string;
  channel: RegistryChannel;
  officeId: string | null;
  partyId: string | null;
  presentedAt: string;
  registeredAt: string;
  /** Art. 31.2.b: a filing on a non-business day counts from 00:00 of the next business day. */
  effectiveAt: string | null;
};

/** The sealed receipt (justificant, art. 16.3); null while it is being issued. */
export type RegistryReceipt = { documentId: string; csv: string; issuedAt: string };

export type RegistryEntry = RegistryEntrySummary & {
  /** Why effectiveAt is null, when the server says. */
  effectiveAtNote?: string | null;
  sendingBody: string | null;
  recipientUnitId: string | null;
  recipientPerson: string | null;
  text: string | null;
  language: string;
  createdBy: string;
  party: { id: string; identifier: string; name: string } | null;
  attachments: {
    position: number;
    documentId: string;
    title: string;
    fileName: string;
    mimeType: string;
    size: number;
    sha256: string;
  }[];
  annotations: { id: string; text: string; createdBy: string; createdAt: string }[];
  receipt?: RegistryReceipt | null;
};

export type CreatedRegistryEntry = {
  id: string;
  number: string;
  presentedAt: string;
  registeredAt: string;
  effectiveAt: string | null;
  effectiveAtNote: string | null;
  receipt: RegistryReceipt | null;
};

export type HolidayScope = 'national' | 'catalonia' | 'aran' | 'local' | 'entity';

export type CalendarYear = {
  entity: { dir3: string; name: string };
  year: number;
  place: string;
  region: 'catalonia' | 'aran' | null;
  weekendsAreNonBusiness: true;
  complete: boolean;
  missing: { year: number; place: string; layer: 'regional' | 'local'; reason: string } | null;
  days: {
    date: string;
    weekday: string;
    weekend: boolean;
    holidays: { name: string; scope: HolidayScope }[];
  }[];
};

export type DeadlineUnit = 'business_days' | 'calendar_days' | 'months' | 'years';

export type Deadline = {
  start: string;
  amount: number;
  unit: DeadlineUnit;
  nominalEnd: string;
  end: string;
  endsAt: string;
  nonBusinessDaysSkipped: {
    date: string;
    weekday: string;
    reasons: { name: string; scope: HolidayScope | 'weekend'; place?: string }[];
  }[];
  places: string[];
};

/** The public verification of a document by its CSV (LRJSP art. 42.b). */
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
  /** The seal on the document; null for a document that carries none. */
  seal: { subject: string; issuer?: string; qualified: boolean; validTo?: string } | null;
  contentUrl: string;
};

/** A case file a registry entry was brought into. */
export type EntryExpedient = {
  expedientId: string;
  number: string | null;
  title: string | null;
  state: ExpedientState | null;
  createdFromEntry: boolean;
  linkedAt: string;
  linkedBy: string;
};

export type EntryLinkResult = {
  entryId: string;
  entryNumber: string;
  createdExpedient: boolean;
  expedient: { id: string; number: string; eniId: string; title: string; state: ExpedientState };
  linkedAt: string;
  linkedBy: string;
  incorporated: {
    sourceDocumentId: string;
    documentId: string;
    order: number;
    title: string;
    sha256: string;
  }[];
};

/** A paper original digitised at the desk into an authentic copy (EE03), and its return (art. 16.5). */
export type PaperOriginal = {
  id: string;
  entryId: string;
  description: string;
  copy: {
    documentId: string;
    eniId: string;
    title: string;
    fileName: string;
    mimeType: string;
    size: number;
    sha256: string;
    documentType: string;
    elaborationState: string;
    origin: string;
  };
  officialId: string;
  digitisedBy: string;
  digitisedAt: string;
  sealStatus: 'pending' | 'sealed' | 'not_applicable';
  sealedDocumentId: string | null;
  returnedTo: string | null;
  returnedBy: string | null;
  returnedAt: string | null;
};

export type OfficialScope = 'copies' | 'assistance';

/** A record of the register of authorised officials (LPACAP art. 12.3, 27.1). */
export type AuthorisedOfficial = {
  id: string;
  userId: string;
  username: string;
  name: string;
  position: string | null;
  scopes: OfficialScope[];
  validFrom: string;
  validTo: string | null;
  status: 'in_force' | 'not_yet' | 'expired' | 'revoked';
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
  revokedReason: string | null;
};
