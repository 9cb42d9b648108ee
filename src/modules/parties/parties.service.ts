import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import type { PartiesTable } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { foldForSearch } from '#platform/db/search.ts';
import { isUuid, newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { classifyIdentifier, type IdentifierType, normalizeIdentifier } from './identifiers.ts';
import { canCreateParty, canReadParties, canUpdateParty } from './parties.policy.ts';
import {
  findPartyById,
  findPartyByIdentifierRow,
  findPartyIdByIdentifier,
  insertParty,
  type PartyRow,
  searchParties,
  updatePartyRow,
} from './parties.repository.ts';

export type PartyKind = PartiesTable['kind'];
/** Official languages a party may ask to be addressed in (Llei 1/1998 art. 10; Aranese in the Val d'Aran). */
export type PartyLanguage = 'ca' | 'es' | 'oc-aranes';
/**
 * Electronic notification (LPACAP art. 14 and 41): `compulsory` for the parties of art. 14.2
 * (legal persons and entities without legal personality, always; professionals of a
 * compulsory-membership profession, when set), `chosen` by a natural person with recorded
 * evidence and time, `none` otherwise (notified on paper).
 */
export type ENotification = PartiesTable['e_notification'];
export type Channel = PartiesTable['preferred_channel'];

/** A postal address; every part optional. A change replaces the whole address. */
export type PartyAddress = {
  street?: string;
  postalCode?: string;
  municipality?: string;
  province?: string;
  country?: string;
};

export type PartyInput = {
  identifier: string;
  /**
   * Omitted: the identifier must be a NIF, NIE or CIF (recognised and checked). `passport` or
   * `other`: 3–20 letters and digits, not checked. `dir3`: another administration's DIR3 code.
   * `nif`, `nie`, `cif`: checked, and must be of that type.
   */
  identifierType?: IdentifierType;
  /** Derived from the identifier for NIF/NIE (person) and CIF/DIR3 (organisation); default person. */
  kind?: PartyKind;
  name: string;
  surname1?: string | null;
  surname2?: string | null;
  email?: string | null;
  phone?: string | null;
  address?: PartyAddress | null;
  /** INE code (5 digits) of the municipality of residence: its holidays count for the party's deadlines (LPACAP art. 30.6). */
  residenceIne?: string | null;
  language?: PartyLanguage;
  eNotification?: ENotification;
  /** Required when eNotification becomes `chosen`: how the choice was made (a request, a registry entry…). */
  eNotificationEvidence?: string | null;
  /** Forced to `electronic` when electronic notification is compulsory or chosen; default `paper` otherwise. */
  preferredChannel?: Channel;
};

/** A change: only the fields given change; `null` clears an optional field. */
export type PartyPatch = Partial<PartyInput>;

export type PartyView = {
  id: string;
  identifier: string;
  identifierType: IdentifierType;
  kind: PartyKind;
  name: string;
  surname1: string | null;
  surname2: string | null;
  email: string | null;
  phone: string | null;
  address: PartyAddress | null;
  residenceIne: string | null;
  language: PartyLanguage;
  eNotification: ENotification;
  eNotificationChosenAt: string | null;
  eNotificationEvidence: string | null;
  preferredChannel: Channel;
  createdAt: string;
  updatedAt: string;
};

export type PartyListQuery = { q?: string; identifier?: string; page?: number; pageSize?: number };
export type PartyList = { items: PartyView[]; total: number; page: number; pageSize: number };

/** What a party is once its input is resolved and validated: the stored fields, camelCase. */
type PartyState = Omit<PartyView, 'id' | 'createdAt' | 'updatedAt' | 'eNotificationChosenAt'> & {
  eNotificationChosenAt: Date | null;
};

const LANGUAGES: readonly string[] = ['ca', 'es', 'oc-aranes'];
const ADDRESS_KEYS = ['street', 'postalCode', 'municipality', 'province', 'country'] as const;
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const PHONE = /^\+?[0-9 ().-]{6,30}$/;
const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;

function refuse(message: string, field: string): never {
  throw new AppError('VALIDATION_FAILED', message, { field });
}

function text(value: string, field: string, max: number): string {
  const t = value.trim();
  if (t.length > max) refuse(`${field} is longer than ${max} characters`, field);
  return t;
}

/** An optional text field: the patch's value when given (null or blank clears it), else the current one. */
function optionalText(
  given: string | null | undefined,
  current: string | null,
  field: string,
  max: number,
): string | null {
  if (given === undefined) return current;
  if (given === null) return null;
  return text(given, field, max) || null;
}

function resolveAddress(
  given: PartyAddress | null | undefined,
  current: PartyAddress | null,
): PartyAddress | null {
  if (given === undefined) return current;
  if (given === null) return null;
  const out: PartyAddress = {};
  for (const key of ADDRESS_KEYS) {
    const v = given[key];
    if (v === undefined || v === null) continue;
    const t = text(v, `address.${key}`, key === 'street' ? 300 : 100);
    if (t) out[key] = t;
  }
  return Object.keys(out).length > 0 ? out : null;
}

function personOrOrganisation(type: IdentifierType): PartyKind | null {
  if (type === 'nif' || type === 'nie') return 'person';
  if (type === 'cif' || type === 'dir3') return 'organisation';
  return null;
}

/**
 * The party that results from applying `input` to `current` (null when creating), with every
 * rule checked. Creation and update go through the same rules so a change can never produce a
 * party that could not have been created.
 */
function resolveParty(current: PartyState | null, input: PartyPatch, now: Date): PartyState {
  // Identifier: re-checked whenever it or its declared type is given.
  let identifier = current?.identifier ?? '';
  let identifierType: IdentifierType = current?.identifierType ?? 'other';
  if (!current || input.identifier !== undefined || input.identifierType !== undefined) {
    const c = classifyIdentifier(input.identifier ?? identifier, input.identifierType);
    identifier = c.normalized;
    identifierType = c.type;
  }

  const derivedKind = personOrOrganisation(identifierType);
  if (derivedKind && input.kind !== undefined && input.kind !== derivedKind) {
    refuse(
      `A ${identifierType.toUpperCase()} identifies ${derivedKind === 'person' ? 'a natural person' : 'an organisation'}`,
      'kind',
    );
  }
  const kind: PartyKind = derivedKind ?? input.kind ?? current?.kind ?? 'person';

  const name = text(input.name ?? current?.name ?? '', 'name', 200);
  if (!name) refuse('The name is empty', 'name');
  const surname1 = optionalText(input.surname1, current?.surname1 ?? null, 'surname1', 100);
  const surname2 = optionalText(input.surname2, current?.surname2 ?? null, 'surname2', 100);
  if (kind === 'organisation' && (surname1 || surname2)) {
    refuse('An organisation has no surnames: put its whole name in name', surname1 ? 'surname1' : 'surname2');
  }

  const email = optionalText(input.email, current?.email ?? null, 'email', 254);
  if (email && !EMAIL.test(email)) refuse(`"${email}" is not an e-mail address`, 'email');
  const phone = optionalText(input.phone, current?.phone ?? null, 'phone', 30);
  if (phone && (!PHONE.test(phone) || phone.replace(/\D/g, '').length < 6))
    refuse(`"${phone}" is not a phone number`, 'phone');
  const address = resolveAddress(input.address, current?.address ?? null);
  const residenceIne = optionalText(input.residenceIne, current?.residenceIne ?? null, 'residenceIne', 5);
  if (residenceIne && !isIneMunicipality(residenceIne)) {
    refuse(`"${residenceIne}" is not an INE municipality code (5 digits, province 01–52)`, 'residenceIne');
  }
  const language = input.language ?? current?.language ?? 'ca';
  if (!LANGUAGES.includes(language)) refuse(`Unknown language ${language}`, 'language');

  const notification = resolveNotification(current, input, kind, now);
  return {
    identifier,
    identifierType,
    kind,
    name,
    surname1,
    surname2,
    email,
    phone,
    address,
    residenceIne,
    language,
    ...notification,
  };
}

function isIneMunicipality(code: string): boolean {
  if (!/^\d{5}$/.test(code)) return false;
  const province = Number(code.slice(0, 2));
  return province >= 1 && province <= 52;
}

function resolveNotification(
  current: PartyState | null,
  input: PartyPatch,
  kind: PartyKind,
  now: Date,
): Pick<
  PartyState,
  'eNotification' | 'eNotificationChosenAt' | 'eNotificationEvidence' | 'preferredChannel'
> {
  let eNotification: ENotification;
  if (kind === 'organisation') {
    // LPACAP art. 14.2.a-b: legal persons and entities without legal personality must deal with
    // the administration electronically; it is not theirs to choose.
    if (input.eNotification !== undefined && input.eNotification !== 'compulsory') {
      refuse('Electronic notification is compulsory for organisations (LPACAP art. 14.2)', 'eNotification');
    }
    eNotification = 'compulsory';
  } else {
    eNotification = input.eNotification ?? current?.eNotification ?? 'none';
  }

  let chosenAt: Date | null = null;
  let evidence: string | null = null;
  const givenEvidence =
    input.eNotificationEvidence == null
      ? null
      : text(input.eNotificationEvidence, 'eNotificationEvidence', 2000) || null;
  if (eNotification === 'chosen') {
    // LPACAP art. 14.1 and 41.1: a natural person may choose electronic notification; the choice
    // is recorded with its evidence and time, and a new choice (new evidence) gets a new time.
    const keeps = current?.eNotification === 'chosen' && input.eNotificationEvidence === undefined;
    if (keeps) {
      chosenAt = current.eNotificationChosenAt;
      evidence = current.eNotificationEvidence;
    } else {
      if (!givenEvidence)
        refuse('Choosing electronic notification needs eNotificationEvidence', 'eNotificationEvidence');
      chosenAt = now;
      evidence = givenEvidence;
    }
  } else if (givenEvidence) {
    refuse(
      'eNotificationEvidence is only recorded when electronic notification is chosen',
      'eNotificationEvidence',
    );
  }

  let preferredChannel: Channel;
  if (eNotification === 'none') {
    preferredChannel = input.preferredChannel ?? current?.preferredChannel ?? 'paper';
  } else {
    if (input.preferredChannel === 'paper') {
      refuse(
        `A party whose electronic notification is ${eNotification} is notified electronically`,
        'preferredChannel',
      );
    }
    preferredChannel = 'electronic';
  }
  return {
    eNotification,
    eNotificationChosenAt: chosenAt,
    eNotificationEvidence: evidence,
    preferredChannel,
  };
}

function toState(r: PartyRow): PartyState {
  return {
    identifier: r.identifier,
    identifierType: r.identifier_type,
    kind: r.kind,
    name: r.name,
    surname1: r.surname1,
    surname2: r.surname2,
    email: r.email,
    phone: r.phone,
    address: toAddress(r.address),
    residenceIne: r.residence_ine,
    language: r.language as PartyLanguage,
    eNotification: r.e_notification,
    eNotificationChosenAt: r.e_notification_chosen_at ? new Date(r.e_notification_chosen_at) : null,
    eNotificationEvidence: r.e_notification_evidence,
    preferredChannel: r.preferred_channel,
  };
}

function toAddress(stored: unknown): PartyAddress | null {
  const raw = typeof stored === 'string' ? (JSON.parse(stored) as unknown) : stored;
  if (!raw || typeof raw !== 'object') return null;
  const out: PartyAddress = {};
  for (const key of ADDRESS_KEYS) {
    const v = (raw as Record<string, unknown>)[key];
    if (typeof v === 'string') out[key] = v;
  }
  return out;
}

/** The API's view of a stored party (camelCase, ISO times); never the raw row. */
function toView(r: PartyRow): PartyView {
  const s = toState(r);
  return {
    id: r.id,
    ...s,
    eNotificationChosenAt: s.eNotificationChosenAt?.toISOString() ?? null,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

function toColumns(s: PartyState) {
  return {
    identifier: s.identifier,
    identifier_type: s.identifierType,
    kind: s.kind,
    name: s.name,
    surname1: s.surname1,
    surname2: s.surname2,
    email: s.email,
    phone: s.phone,
    address: s.address ? JSON.stringify(s.address) : null,
    residence_ine: s.residenceIne,
    language: s.language,
    e_notification: s.eNotification,
    e_notification_chosen_at: s.eNotificationChosenAt,
    e_notification_evidence: s.eNotificationEvidence,
    preferred_channel: s.preferredChannel,
  };
}

/** The fields that differ between two states (for the update and its audit event). */
function changedFields(a: PartyState, b: PartyState): (keyof PartyState)[] {
  const keys = Object.keys(b) as (keyof PartyState)[];
  return keys.filter((k) => {
    const x = a[k];
    const y = b[k];
    if (x instanceof Date || y instanceof Date)
      return (x as Date | null)?.getTime() !== (y as Date | null)?.getTime();
    if (k === 'address') return JSON.stringify(x) !== JSON.stringify(y);
    return x !== y;
  });
}

async function assertIdentifierFree(
  tx: Tx,
  ctx: Ctx,
  identifier: string,
  self: string | null,
): Promise<void> {
  const holder = await findPartyIdByIdentifier(tx, ctx.tenant.id, identifier);
  if (holder && holder !== self) {
    throw new AppError(
      'PARTY_IDENTIFIER_TAKEN',
      `A party with identifier ${identifier} already exists in this entity`,
      {
        partyId: holder,
      },
    );
  }
}

async function audit(
  tx: Tx,
  ctx: Ctx,
  action: 'party.create' | 'party.update',
  id: string,
  details: Record<string, unknown>,
) {
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action,
    objectType: 'party',
    objectId: id,
    details,
  });
}

async function loadRow(tx: Tx, ctx: Ctx, id: string, forUpdate: boolean): Promise<PartyRow> {
  // A malformed id cannot name a party; checking it first also keeps it out of a uuid column cast.
  const row = isUuid(id) ? await findPartyById(tx, ctx.tenant.id, id, { forUpdate }) : undefined;
  if (!row) throw new AppError('PARTY_NOT_FOUND', `Party ${id} not found`);
  return row;
}

/** Registers a person or organisation in the entity's register of parties (tercers). */
export async function createParty(tx: Tx, ctx: Ctx, input: PartyInput): Promise<PartyView> {
  if (!canCreateParty(ctx)) throw new AppError('FORBIDDEN', 'You may not register parties in this entity');
  const now = ctx.clock.now();
  const state = resolveParty(null, input, now);
  await assertIdentifierFree(tx, ctx, state.identifier, null);
  const id = newId();
  await insertParty(tx, {
    tenant_id: ctx.tenant.id,
    id,
    ...toColumns(state),
    created_at: now,
    updated_at: now,
  });
  // The audit log is permanent: it records the kind of change, not the person's data (GDPR art. 5.1.c).
  await audit(tx, ctx, 'party.create', id, {
    identifierType: state.identifierType,
    kind: state.kind,
    eNotification: state.eNotification,
    preferredChannel: state.preferredChannel,
  });
  return getParty(tx, ctx, id);
}

/** Changes a party; fields not in `patch` stay. A patch that changes nothing writes nothing. */
export async function updateParty(tx: Tx, ctx: Ctx, id: string, patch: PartyPatch): Promise<PartyView> {
  if (!canUpdateParty(ctx)) throw new AppError('FORBIDDEN', 'You may not change parties in this entity');
  const row = await loadRow(tx, ctx, id, true);
  const current = toState(row);
  const now = ctx.clock.now();
  const next = resolveParty(current, patch, now);
  const changed = changedFields(current, next);
  if (changed.length === 0) return toView(row);
  if (changed.includes('identifier')) await assertIdentifierFree(tx, ctx, next.identifier, row.id);
  await updatePartyRow(tx, ctx.tenant.id, row.id, { ...toColumns(next), updated_at: now });
  await audit(tx, ctx, 'party.update', row.id, {
    changed,
    ...(changed.includes('identifierType') ? { identifierType: next.identifierType } : {}),
    ...(changed.includes('kind') ? { kind: next.kind } : {}),
    ...(changed.includes('eNotification') ? { eNotification: next.eNotification } : {}),
    ...(changed.includes('preferredChannel') ? { preferredChannel: next.preferredChannel } : {}),
  });
  return getParty(tx, ctx, row.id);
}

/** One party of this entity; PARTY_NOT_FOUND for an unknown or malformed id, or another entity's. */
/** The party with this (normalised) identifier in this entity, or undefined. */
export async function findPartyByIdentifier(
  tx: Tx,
  ctx: Ctx,
  identifier: string,
): Promise<PartyView | undefined> {
  if (!canReadParties(ctx)) throw new AppError('FORBIDDEN', 'You may not consult the parties of this entity');
  const row = await findPartyByIdentifierRow(tx, ctx.tenant.id, identifier);
  return row ? toView(row) : undefined;
}

export async function getParty(tx: Tx, ctx: Ctx, id: string): Promise<PartyView> {
  if (!canReadParties(ctx)) throw new AppError('FORBIDDEN', 'You may not consult the parties of this entity');
  return toView(await loadRow(tx, ctx, id, false));
}

/**
 * The entity's parties, by name. `q` matches every word in the name, surnames or identifier,
 * ignoring case and accents; `identifier` matches one identifier exactly (normalised).
 */
export async function listParties(tx: Tx, ctx: Ctx, query: PartyListQuery): Promise<PartyList> {
  if (!canReadParties(ctx)) throw new AppError('FORBIDDEN', 'You may not consult the parties of this entity');
  const page = Math.max(1, Math.trunc(query.page ?? 1));
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.trunc(query.pageSize ?? DEFAULT_PAGE_SIZE)));
  const q = (query.q ?? '').trim();
  const words = foldForSearch(q).split(/\s+/).filter(Boolean).slice(0, 8);
  const identifierLike = normalizeIdentifier(q);
  const identifier = query.identifier === undefined ? null : normalizeIdentifier(query.identifier);
  const { rows, total } = await searchParties(tx, ctx.tenant.id, {
    words,
    identifierLike: identifierLike.length >= 3 ? identifierLike : null,
    identifier,
    limit: pageSize,
    offset: (page - 1) * pageSize,
  });
  return { items: rows.map(toView), total, page, pageSize };
}
