import { type Selectable, sql } from 'kysely';
import type { Ctx } from '#platform/context.ts';
import { asTenant, type Tx } from '#platform/db/database.ts';
import type {
  EnrolmentFile,
  EnrolmentRequestsTable,
  EnrolmentStatus,
  SignatureCheck,
} from '#platform/db/schema/rollout.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { newId } from '#platform/ids.ts';
import type { Jobs } from '#platform/jobs/jobs.ts';
import { enqueueMail } from '#platform/mail/mail.service.ts';
import type { SignatureReport } from '#platform/signatures/verify-cms.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { madridDateOf } from '#modules/calendar/civil-date.ts';
import type { Acting } from '#modules/citizens/citizens.model.ts';
import { actingDetails } from '#modules/citizens/seu-scope.ts';
import {
  type CreatedEntry,
  type EntryInput,
  type EntryView,
  makeEntry,
} from '#modules/registry/registry.service.ts';
import {
  findTenantById,
  findTenantByIne,
  findTenantByRef,
  type Tenant,
} from '#modules/tenancy/tenancy.repository.ts';
import { createTenant } from '#modules/tenancy/tenancy.service.ts';
import { hasPublicSeu } from '#modules/citizens/seu-scope.ts';
import { applyStateChange, assertOperator, type PlatformCtx } from './lifecycle.service.ts';

/**
 * Enrolment requests (issue 6, Build item 1): an entity of the province asks the Diputació to
 * join Lligall through the Diputació's seu. The request is an input entry of the Diputació's
 * registry (with its sealed receipt) and a row of `enrolment_requests` that the console's
 * operators decide on: accept, ask for corrections, or reject.
 *
 * Duplicates: an entity (an ajuntament by INE, an EMD by its DIR3) has at most one request that
 * is `submitted` or `accepted` (ENROLMENT_DUPLICATE, 409). A request in `corrections_requested`
 * is superseded by a new one: filing the new request closes the old one as `rejected`, with the
 * reason "Superseded by <new registry number>" (no e-mail: the entity itself filed the new one;
 * the entity's state is not touched, it stays `requested`).
 *
 * State: filing moves the entity from `listed` to `requested` (in any other state it stays where
 * it is). Rejecting moves it back to `listed` (if it is `requested`). Accepting an EMD's request
 * with no tenant yet creates the EMD's tenant (kind `emd`, under its parent) and moves it to
 * `requested`.
 */

export const ENROLMENT_LANGUAGES = ['ca', 'es', 'oc-aranes'] as const;
export type EnrolmentLanguage = (typeof ENROLMENT_LANGUAGES)[number];
export const ENROLMENT_FILE_ROLES = ['adhesion_act', 'signed_request', 'dpa'] as const;
export type EnrolmentFileRole = (typeof ENROLMENT_FILE_ROLES)[number];
export const ENROLMENT_STATUSES: readonly EnrolmentStatus[] = [
  'submitted',
  'corrections_requested',
  'accepted',
  'rejected',
];

export type EnrolmentInput = {
  entityKind: 'ajuntament' | 'emd';
  ine: string | null;
  emdName: string | null;
  emdDir3: string | null;
  parentIne: string | null;
  mayorName: string;
  mayorEmail: string;
  mayorPhone: string | null;
  secretaryName: string;
  secretaryEmail: string;
  secretaryPhone: string | null;
  population: number;
  currentProvider: string | null;
  adhesionActKind: 'ple_resolution' | 'mayor_decree';
  adhesionActDate: string;
  language: EnrolmentLanguage;
};

/** The text fields of the seu's form, in the order the form sends them. */
export const ENROLMENT_FIELDS = [
  'entityKind',
  'ine',
  'emdName',
  'emdDir3',
  'parentIne',
  'mayorName',
  'mayorEmail',
  'mayorPhone',
  'secretaryName',
  'secretaryEmail',
  'secretaryPhone',
  'population',
  'currentProvider',
  'adhesionActKind',
  'adhesionActDate',
  'language',
] as const;
export type EnrolmentField = (typeof ENROLMENT_FIELDS)[number];

const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:".]+(\.[^\s@<>()[\]\\,;:".]+)+$/;
const PHONE = /^\+?[0-9 ().-]{6,20}$/;
const DIR3 = /^[A-Z0-9]{9}$/;
const INE = /^[0-9]{5,6}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function hasControl(v: string): boolean {
  for (const ch of v) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
    if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) return true;
  }
  return false;
}

/**
 * Checks the form's text fields; VALIDATION_FAILED lists every problem with `details.fields`.
 * Pure (no database): the entity itself is checked by `resolveEnrolmentEntity`.
 */
export function checkEnrolmentFields(
  raw: Partial<Record<EnrolmentField, string>>,
  today: string,
): EnrolmentInput {
  const problems: string[] = [];
  const fields: string[] = [];
  const bad = (f: EnrolmentField, why: string) => {
    problems.push(`${f} ${why}`);
    fields.push(f);
  };
  const text = (f: EnrolmentField, opts: { required: boolean; max: number }): string | null => {
    const v = (raw[f] ?? '').normalize('NFC').trim();
    if (!v) {
      if (opts.required) bad(f, 'is required');
      return null;
    }
    if (v.length > opts.max) bad(f, `must have at most ${opts.max} characters`);
    else if (hasControl(v)) bad(f, 'must be plain text');
    return v;
  };
  const kind = raw.entityKind;
  if (kind !== 'ajuntament' && kind !== 'emd') bad('entityKind', "must be 'ajuntament' or 'emd'");
  let ine: string | null = null;
  let emdName: string | null = null;
  let emdDir3: string | null = null;
  let parentIne: string | null = null;
  if (kind === 'ajuntament') {
    ine = text('ine', { required: true, max: 6 });
    if (ine && !INE.test(ine)) bad('ine', 'must be an INE municipality code');
  } else if (kind === 'emd') {
    emdName = text('emdName', { required: true, max: 200 });
    emdDir3 = text('emdDir3', { required: true, max: 9 })?.toUpperCase() ?? null;
    if (emdDir3 && !DIR3.test(emdDir3)) bad('emdDir3', 'must be a DIR3 code (9 characters A-Z, 0-9)');
    parentIne = text('parentIne', { required: true, max: 6 });
    if (parentIne && !INE.test(parentIne)) bad('parentIne', 'must be an INE municipality code');
  }
  const mayorName = text('mayorName', { required: true, max: 200 }) ?? '';
  const mayorEmail = text('mayorEmail', { required: true, max: 254 }) ?? '';
  if (mayorEmail && !EMAIL.test(mayorEmail)) bad('mayorEmail', 'must be an e-mail address');
  const mayorPhone = text('mayorPhone', { required: false, max: 20 });
  if (mayorPhone && !PHONE.test(mayorPhone)) bad('mayorPhone', 'must be a phone number');
  const secretaryName = text('secretaryName', { required: true, max: 200 }) ?? '';
  const secretaryEmail = text('secretaryEmail', { required: true, max: 254 }) ?? '';
  if (secretaryEmail && !EMAIL.test(secretaryEmail)) bad('secretaryEmail', 'must be an e-mail address');
  const secretaryPhone = text('secretaryPhone', { required: false, max: 20 });
  if (secretaryPhone && !PHONE.test(secretaryPhone)) bad('secretaryPhone', 'must be a phone number');
  const populationRaw = text('population', { required: true, max: 9 });
  const population = populationRaw !== null && /^\d{1,9}$/.test(populationRaw) ? Number(populationRaw) : -1;
  if (populationRaw !== null && population < 0) bad('population', 'must be a whole number');
  const currentProvider = text('currentProvider', { required: false, max: 200 });
  const actKind = raw.adhesionActKind;
  if (actKind !== 'ple_resolution' && actKind !== 'mayor_decree')
    bad('adhesionActKind', "must be 'ple_resolution' or 'mayor_decree'");
  const actDate = text('adhesionActDate', { required: true, max: 10 }) ?? '';
  if (actDate && (!DATE.test(actDate) || Number.isNaN(Date.parse(`${actDate}T00:00:00Z`))))
    bad('adhesionActDate', 'must be a date YYYY-MM-DD');
  else if (actDate && actDate > today) bad('adhesionActDate', 'must not be in the future');
  const language = (raw.language || 'ca') as EnrolmentLanguage;
  if (!ENROLMENT_LANGUAGES.includes(language))
    bad('language', `must be one of ${ENROLMENT_LANGUAGES.join(', ')}`);
  if (problems.length) throw new AppError('VALIDATION_FAILED', problems.join('; '), { fields });
  return {
    entityKind: kind as 'ajuntament' | 'emd',
    ine,
    emdName,
    emdDir3,
    parentIne,
    mayorName,
    mayorEmail,
    mayorPhone,
    secretaryName,
    secretaryEmail,
    secretaryPhone,
    population,
    currentProvider,
    adhesionActKind: actKind as 'ple_resolution' | 'mayor_decree',
    adhesionActDate: actDate,
    language,
  };
}

/**
 * What verifying a signed PDF found, summarised: `integrity` is `valid` when at least one of its
 * signatures is intact (the signer shown is that one's), `invalid` when it has signatures and none
 * is intact, `none` when it has none.
 */
export function signatureCheckOf(reports: SignatureReport[]): SignatureCheck {
  const valid = reports.find((r) => r.integrity === 'valid');
  const shown = valid ?? reports[0];
  return {
    signed: reports.length > 0,
    integrity: valid ? 'valid' : reports.length ? 'invalid' : 'none',
    trust: shown?.trust ?? null,
    signerName: shown?.signer ?? null,
    signerId: shown?.signerFacts?.serialNumber ?? null,
    signedAt: shown?.signedAt ?? null,
  };
}

/** The Diputació's seu (kind `diputacio`) by slug; ENTITY_NOT_FOUND for any other seu. */
export async function findDiputacioSeu(tx: Pick<Tx, 'selectFrom'>, slug: string) {
  const t = await tx
    .selectFrom('tenants')
    .select(['id', 'kind', 'slug', 'status', 'demo', 'name', 'dir3'])
    .where('slug', '=', slug)
    .executeTakeFirst();
  if (!t || t.kind !== 'diputacio' || !hasPublicSeu(t))
    throw new AppError('ENTITY_NOT_FOUND', `Entity ${slug} not found`);
  return t;
}

export type ProvinceMunicipality = {
  ine: string;
  dir3: string;
  name: string;
  comarca: string | null;
  population: number | null;
  status: string;
};

/** The province's municipalities (the tenants import-province made), by name. */
export async function listProvinceMunicipalities(
  tx: Pick<Tx, 'selectFrom'>,
): Promise<ProvinceMunicipality[]> {
  const rows = await tx
    .selectFrom('tenants')
    .select(['ine', 'dir3', 'name', 'comarca', 'population', 'status'])
    .where('kind', '=', 'ajuntament')
    .where('ine', 'is not', null)
    .execute();
  const collator = new Intl.Collator('ca');
  return rows
    .map((r) => ({
      ine: r.ine!,
      dir3: r.dir3,
      name: r.name,
      comarca: r.comarca,
      population: r.population,
      status: r.status,
    }))
    .sort((a, b) => collator.compare(a.name, b.name));
}

/** What the request is about: the entity (when it exists) and, for an EMD, its parent. */
export type EnrolmentTarget = { entity: Tenant | null; parent: Tenant | null };

const OPEN_OR_ACCEPTED: EnrolmentStatus[] = ['submitted', 'accepted'];

/**
 * Finds the entity the request names (ENROLMENT_ENTITY_UNKNOWN when the INE is not one of the
 * province's municipalities, or the EMD's parent is unknown) and refuses a duplicate
 * (ENROLMENT_DUPLICATE). With `lock`, locks the entity's (or the EMD's parent's) tenant row so that
 * two filings for the same entity are serialised.
 */
export async function resolveEnrolmentTarget(
  tx: Tx,
  input: EnrolmentInput,
  opts: { lock: boolean },
): Promise<EnrolmentTarget> {
  const lock = async (id: string) => {
    if (opts.lock) await sql`select id from tenants where id = ${id} for update`.execute(tx);
  };
  if (input.entityKind === 'ajuntament') {
    const entity = await findTenantByIne(tx, input.ine!);
    if (!entity || entity.kind !== 'ajuntament')
      throw new AppError('ENROLMENT_ENTITY_UNKNOWN', `No municipality of the province has INE ${input.ine}`, {
        fields: ['ine'],
      });
    await lock(entity.id);
    await assertNoDuplicate(tx, { entityId: entity.id });
    return { entity, parent: null };
  }
  const parent = await findTenantByIne(tx, input.parentIne!);
  if (!parent || parent.kind !== 'ajuntament')
    throw new AppError(
      'ENROLMENT_ENTITY_UNKNOWN',
      `No municipality of the province has INE ${input.parentIne}`,
      {
        fields: ['parentIne'],
      },
    );
  await lock(parent.id);
  const existing = await findTenantByRef(tx, input.emdDir3!);
  if (existing && (existing.kind !== 'emd' || existing.parentId !== parent.id))
    throw new AppError(
      'ENROLMENT_ENTITY_UNKNOWN',
      `DIR3 ${input.emdDir3} belongs to ${existing.name}, not to an EMD of ${parent.name}`,
      { fields: ['emdDir3'] },
    );
  await assertNoDuplicate(tx, { entityId: existing?.id ?? null, emdDir3: input.emdDir3! });
  return { entity: existing ?? null, parent };
}

async function assertNoDuplicate(tx: Tx, by: { entityId: string | null; emdDir3?: string }): Promise<void> {
  const dup = await tx
    .selectFrom('enrolment_requests')
    .select(['id', 'registry_number', 'status'])
    .where('status', 'in', OPEN_OR_ACCEPTED)
    .where((eb) => {
      const ors = [];
      if (by.entityId) ors.push(eb('entity_id', '=', by.entityId));
      if (by.emdDir3) ors.push(eb('emd_dir3', '=', by.emdDir3));
      return eb.or(ors);
    })
    .executeTakeFirst();
  if (dup)
    throw new AppError(
      'ENROLMENT_DUPLICATE',
      `The entity already has an enrolment request ${dup.status === 'accepted' ? 'accepted' : 'being processed'} (${dup.registry_number ?? dup.id})`,
      { requestId: dup.id, requestStatus: dup.status },
    );
}

/** The call a request filed on `date` (Europe/Madrid) belongs to: the open one, else the next. */
export async function callForDate(tx: Tx, date: string): Promise<string | null> {
  const open = await tx
    .selectFrom('rollout_calls')
    .select('id')
    .where('opens_on', '<=', date)
    .where('closes_on', '>=', date)
    .orderBy('opens_on')
    .orderBy('id')
    .executeTakeFirst();
  if (open) return open.id;
  const next = await tx
    .selectFrom('rollout_calls')
    .select('id')
    .where('opens_on', '>', date)
    .orderBy('opens_on')
    .orderBy('id')
    .executeTakeFirst();
  return next?.id ?? null;
}

const ENTRY_WORDS: Record<
  EnrolmentLanguage,
  {
    heading: string;
    summary: (entity: string) => string;
    lines: (i: EnrolmentInput, entity: string) => string[];
    none: string;
  }
> = {
  ca: {
    heading: "Sol·licitud d'alta al servei Lligall",
    summary: (e) => `Sol·licitud d'alta de ${e} al servei de gestió d'expedients Lligall`,
    none: 'cap',
    lines: (i, e) => [
      `Entitat: ${e}`,
      `Alcalde/essa o president/a: ${i.mayorName} <${i.mayorEmail}>${i.mayorPhone ? `, ${i.mayorPhone}` : ''}`,
      `Secretari/ària: ${i.secretaryName} <${i.secretaryEmail}>${i.secretaryPhone ? `, ${i.secretaryPhone}` : ''}`,
      `Població: ${i.population}`,
      `Acord d'adhesió: ${i.adhesionActKind === 'ple_resolution' ? 'acord del Ple' : "decret d'alcaldia"} de ${i.adhesionActDate}`,
    ],
  },
  es: {
    heading: 'Solicitud de alta en el servicio Lligall',
    summary: (e) => `Solicitud de alta de ${e} en el servicio de gestión de expedientes Lligall`,
    none: 'ninguno',
    lines: (i, e) => [
      `Entidad: ${e}`,
      `Alcalde/sa o presidente/a: ${i.mayorName} <${i.mayorEmail}>${i.mayorPhone ? `, ${i.mayorPhone}` : ''}`,
      `Secretario/a: ${i.secretaryName} <${i.secretaryEmail}>${i.secretaryPhone ? `, ${i.secretaryPhone}` : ''}`,
      `Población: ${i.population}`,
      `Acuerdo de adhesión: ${i.adhesionActKind === 'ple_resolution' ? 'acuerdo del Pleno' : 'decreto de alcaldía'} de ${i.adhesionActDate}`,
    ],
  },
  'oc-aranes': {
    heading: "Sollicitud d'alta en servici Lligall",
    summary: (e) => `Sollicitud d'alta de ${e} en servici de gestion d'expedients Lligall`,
    none: 'cap',
    lines: (i, e) => [
      `Entitat: ${e}`,
      `Alcalde/essa o president/a: ${i.mayorName} <${i.mayorEmail}>${i.mayorPhone ? `, ${i.mayorPhone}` : ''}`,
      `Secretari/ària: ${i.secretaryName} <${i.secretaryEmail}>${i.secretaryPhone ? `, ${i.secretaryPhone}` : ''}`,
      `Poblacion: ${i.population}`,
      `Acòrd d'adhesion: ${i.adhesionActKind === 'ple_resolution' ? 'acòrd deth Plen' : "decret d'alcaldia"} de ${i.adhesionActDate}`,
    ],
  },
};

const PROVIDER_LABEL: Record<EnrolmentLanguage, string> = {
  ca: "Gestor d'expedients actual",
  es: 'Gestor de expedientes actual',
  'oc-aranes': "Gestor d'expedients actuau",
};

function entityLabel(input: EnrolmentInput, target: EnrolmentTarget): string {
  if (input.entityKind === 'ajuntament') return `${target.entity!.name} (DIR3 ${target.entity!.dir3})`;
  return `${input.emdName} (EMD, DIR3 ${input.emdDir3}; ${target.parent!.name})`;
}

/** The input entry the request makes in the Diputació's registry (electronic channel, the citizen as party). */
export function enrolmentEntryInput(
  acting: Acting,
  input: EnrolmentInput,
  target: EnrolmentTarget,
  files: EnrolmentFile[],
): EntryInput {
  const w = ENTRY_WORDS[input.language];
  const label = entityLabel(input, target);
  const lines = [
    ...w.lines(input, label),
    `${PROVIDER_LABEL[input.language]}: ${input.currentProvider ?? w.none}`,
  ];
  return {
    direction: 'E',
    channel: 'electronic',
    heading: w.heading,
    summary: w.summary(input.entityKind === 'ajuntament' ? target.entity!.name : input.emdName!),
    text: lines.join('\n'),
    language: input.language,
    party: {
      identifier: acting.subject.identifier,
      name: acting.subject.name,
      ...(!acting.representation && acting.citizen.email ? { email: acting.citizen.email } : {}),
      language: input.language,
    },
    attachments: files.map((f) => ({
      fileName: f.fileName,
      mimeType: f.mimeType,
      sha256: f.sha256,
      size: f.size,
    })),
  };
}

export type FiledEnrolment = { id: string; created: CreatedEntry; view: EntryView };

/**
 * Files the request, in the Diputació's tenant transaction (`ctx`, as the citizen): the input
 * entry with the three files (already in the blob store) as its documents, audited on the
 * Diputació's chain; then, on the platform tables, the request's row (its call by the filing's
 * Europe/Madrid date), a superseded request closed, the entity listed → requested, and the
 * request audited on the platform chain. One transaction: all or nothing.
 */
export async function fileEnrolment(
  tx: Tx,
  ctx: Ctx,
  acting: Acting,
  input: EnrolmentInput,
  files: EnrolmentFile[],
  signatures: { request: SignatureCheck; dpa: SignatureCheck },
): Promise<FiledEnrolment> {
  const target = await resolveEnrolmentTarget(tx, input, { lock: true });
  const entryInput = enrolmentEntryInput(acting, input, target, files);
  const made = (await makeEntry(tx, { ...ctx, roles: ['registrar'] }, entryInput)).result();
  const id = newId();
  const now = ctx.clock.now();
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'seu.filing_submit',
    objectType: 'registry_entry',
    objectId: made.created.id,
    details: {
      number: made.created.number,
      kind: 'enrolment_request',
      enrolmentRequestId: id,
      partyId: made.view.party?.id ?? null,
      attachments: files.map((f) => f.sha256),
      ...actingDetails(acting),
    },
  });
  const pctx: PlatformCtx = { actor: ctx.actor, request: ctx.request, clock: ctx.clock };
  await asTenant(tx, PLATFORM_TENANT, async () => {
    const callId = await callForDate(tx, madridDateOf(now));
    // A request waiting for corrections is superseded by the new one.
    const superseded = await tx
      .updateTable('enrolment_requests')
      .set({
        status: 'rejected',
        status_reason: `Superseded by ${made.created.number}`,
        decided_at: now,
        decided_by: ctx.actor.label,
        updated_at: now,
      })
      .where('status', '=', 'corrections_requested')
      .where((eb) =>
        target.entity
          ? eb('entity_id', '=', target.entity.id)
          : eb.and([eb('entity_id', 'is', null), eb('emd_dir3', '=', input.emdDir3!)]),
      )
      .returning('id')
      .execute();
    await tx
      .insertInto('enrolment_requests')
      .values({
        id,
        entity_id: target.entity?.id ?? null,
        entity_kind: input.entityKind,
        emd_name: input.emdName,
        emd_dir3: input.emdDir3,
        parent_entity_id: target.parent?.id ?? null,
        mayor_name: input.mayorName,
        mayor_email: input.mayorEmail,
        mayor_phone: input.mayorPhone,
        secretary_name: input.secretaryName,
        secretary_email: input.secretaryEmail,
        secretary_phone: input.secretaryPhone,
        population: input.population,
        current_provider: input.currentProvider,
        adhesion_act_kind: input.adhesionActKind,
        adhesion_act_date: input.adhesionActDate,
        files: JSON.stringify(files),
        request_signature: JSON.stringify(signatures),
        language: input.language,
        status: 'submitted',
        status_reason: null,
        call_id: callId,
        registry_tenant_id: ctx.tenant.id,
        registry_entry_id: made.created.id,
        registry_number: made.created.number,
        filed_by: ctx.actor.label,
        submitted_at: now,
        decided_at: null,
        decided_by: null,
        updated_at: now,
      })
      .execute();
    await recordEvent(tx, {
      tenantId: PLATFORM_TENANT,
      ...pctx,
      action: 'enrolment.submit',
      objectType: 'enrolment_request',
      objectId: id,
      details: {
        entityId: target.entity?.id ?? null,
        entityKind: input.entityKind,
        ...(input.entityKind === 'emd' ? { emdDir3: input.emdDir3, parentId: target.parent!.id } : {}),
        registryTenantId: ctx.tenant.id,
        registryNumber: made.created.number,
        callId,
        files: files.map((f) => ({ role: f.role, sha256: f.sha256 })),
        supersedes: superseded.map((s) => s.id),
        ...actingDetails(acting),
      },
    });
    if (target.entity?.status === 'listed')
      await applyStateChange(
        tx,
        pctx,
        target.entity,
        'requested',
        `Enrolment request ${made.created.number}`,
      );
  });
  return { id, created: made.created, view: made.view };
}

// ---------------------------------------------------------------------------------------------
// The console's inbox

type Row = Selectable<EnrolmentRequestsTable> & {
  entity_name: string | null;
  entity_ine: string | null;
  entity_dir3: string | null;
  call_name: string | null;
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
  registryNumber: string;
  callId: string | null;
  callName: string | null;
};

export type EnrolmentDetail = EnrolmentSummary & {
  mayor: { name: string; email: string; phone: string | null };
  secretary: { name: string; email: string; phone: string | null };
  adhesionAct: { kind: 'ple_resolution' | 'mayor_decree'; date: string };
  files: { role: EnrolmentFileRole; fileName: string; size: number; sha256: string }[];
  signatures: { request: SignatureCheck; dpa: SignatureCheck };
  statusReason: string | null;
  decidedAt: string | null;
  decidedBy: string | null;
};

function baseQuery(tx: Tx) {
  return (
    tx
      .selectFrom('enrolment_requests as r')
      .leftJoin('tenants as t', 't.id', 'r.entity_id')
      .leftJoin('rollout_calls as c', 'c.id', 'r.call_id')
      .selectAll('r')
      .select([
        't.name as entity_name',
        't.ine as entity_ine',
        't.dir3 as entity_dir3',
        'c.name as call_name',
      ])
      // A date column reads back as a Date at local midnight: keep the civil date as written.
      .select(sql<string>`to_char(r.adhesion_act_date, 'YYYY-MM-DD')`.as('adhesion_act_date'))
  );
}

const NO_CHECK: SignatureCheck = {
  signed: false,
  integrity: 'none',
  trust: null,
  signerName: null,
  signerId: null,
  signedAt: null,
};

export function toSummary(r: Row): EnrolmentSummary {
  return {
    id: r.id,
    status: r.status,
    entityName: r.entity_name ?? r.emd_name ?? '',
    entityKind: r.entity_kind,
    ine: r.entity_ine,
    dir3: r.entity_dir3 ?? r.emd_dir3,
    entityId: r.entity_id,
    population: r.population,
    currentProvider: r.current_provider,
    submittedAt: new Date(r.submitted_at).toISOString(),
    registryNumber: r.registry_number ?? '',
    callId: r.call_id,
    callName: r.call_name,
  };
}

function toDetail(r: Row): EnrolmentDetail {
  const sig = r.request_signature as unknown as Record<string, SignatureCheck>;
  const files = r.files as unknown as EnrolmentFile[];
  return {
    ...toSummary(r),
    mayor: { name: r.mayor_name, email: r.mayor_email, phone: r.mayor_phone },
    secretary: { name: r.secretary_name, email: r.secretary_email, phone: r.secretary_phone },
    adhesionAct: { kind: r.adhesion_act_kind, date: r.adhesion_act_date },
    files: files.map((f) => ({ role: f.role, fileName: f.fileName, size: f.size, sha256: f.sha256 })),
    signatures: { request: sig.request ?? NO_CHECK, dpa: sig.dpa ?? NO_CHECK },
    statusReason: r.status_reason,
    decidedAt: r.decided_at ? new Date(r.decided_at).toISOString() : null,
    decidedBy: r.decided_by,
  };
}

/** The inbox: requests (of one status, or all), oldest first. */
export async function listEnrolmentRequests(
  tx: Tx,
  ctx: PlatformCtx,
  filter: { status?: EnrolmentStatus },
): Promise<EnrolmentSummary[]> {
  assertOperator(ctx);
  let q = baseQuery(tx);
  if (filter.status) q = q.where('r.status', '=', filter.status);
  const rows = await q.orderBy('r.submitted_at').orderBy('r.id').execute();
  return rows.map((r) => toSummary(r as Row));
}

/** The latest request of an entity (for the console's entity page), or null. */
export async function findEntityEnrolmentSummary(tx: Tx, entityId: string): Promise<EnrolmentSummary | null> {
  const r = await baseQuery(tx)
    .where('r.entity_id', '=', entityId)
    .orderBy('r.submitted_at', 'desc')
    .orderBy('r.id', 'desc')
    .executeTakeFirst();
  return r ? toSummary(r as Row) : null;
}

async function getRow(tx: Tx, id: string, opts: { lock?: boolean } = {}): Promise<Row> {
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new AppError('ENROLMENT_NOT_FOUND', 'Enrolment request not found');
  if (opts.lock) await sql`select id from enrolment_requests where id = ${id} for update`.execute(tx);
  const r = await baseQuery(tx).where('r.id', '=', id).executeTakeFirst();
  if (!r) throw new AppError('ENROLMENT_NOT_FOUND', 'Enrolment request not found');
  return r as Row;
}

export async function getEnrolmentRequest(tx: Tx, ctx: PlatformCtx, id: string): Promise<EnrolmentDetail> {
  assertOperator(ctx);
  return toDetail(await getRow(tx, id));
}

/** One of the request's files (role adhesion_act | signed_request | dpa); the download is audited. */
export async function readEnrolmentFile(
  tx: Tx,
  ctx: PlatformCtx,
  id: string,
  role: string,
): Promise<EnrolmentFile> {
  assertOperator(ctx);
  const r = await getRow(tx, id);
  const f = (r.files as unknown as EnrolmentFile[]).find((x) => x.role === role);
  if (!f) throw new AppError('NOT_FOUND', `The request has no file ${role}`);
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    ...ctx,
    action: 'enrolment.file_download',
    objectType: 'enrolment_request',
    objectId: r.id,
    details: { role: f.role, sha256: f.sha256 },
  });
  return f;
}

export type EnrolmentDecision =
  | { kind: 'accept' }
  | { kind: 'corrections'; reason: string }
  | { kind: 'reject'; reason: string };

/**
 * The operator's decision on a submitted request (or one waiting for corrections): accepted,
 * corrections requested, rejected. A request already accepted or rejected cannot be decided again
 * (ENROLMENT_ALREADY_DECIDED); nor can corrections be asked twice in a row. Audited on the
 * platform chain; the mayor and the secretary get the e-mail of the decision in the request's
 * language, queued in the Diputació's outbox (the registry's tenant) in the same transaction.
 */
export async function decideEnrolment(
  tx: Tx,
  ctx: PlatformCtx,
  deps: { jobs: Jobs; formUrl: (seuSlug: string) => string },
  id: string,
  decision: EnrolmentDecision,
): Promise<EnrolmentDetail> {
  assertOperator(ctx);
  const r = await getRow(tx, id, { lock: true });
  if (
    r.status === 'accepted' ||
    r.status === 'rejected' ||
    (decision.kind === 'corrections' && r.status === 'corrections_requested')
  )
    throw new AppError(
      'ENROLMENT_ALREADY_DECIDED',
      `The request ${r.registry_number} is already ${r.status}`,
      {
        requestStatus: r.status,
      },
    );
  const reason = decision.kind === 'accept' ? null : decision.reason.trim();
  if (
    decision.kind !== 'accept' &&
    (!reason || reason.length > 2000 || hasControl(reason.replace(/\n/g, ' ')))
  )
    throw new AppError('VALIDATION_FAILED', 'reason must have 1 to 2000 characters of plain text', {
      fields: ['reason'],
    });
  const now = ctx.clock.now();
  let entity = r.entity_id ? await findTenantById(tx, r.entity_id) : undefined;
  const status: EnrolmentStatus =
    decision.kind === 'accept'
      ? 'accepted'
      : decision.kind === 'reject'
        ? 'rejected'
        : 'corrections_requested';
  let entityId = r.entity_id;
  if (decision.kind === 'accept') {
    if (!entity && r.entity_kind === 'emd') {
      const parent = await findTenantById(tx, r.parent_entity_id!);
      entity = await createTenant(tx, ctx, {
        kind: 'emd',
        name: r.emd_name!,
        dir3: r.emd_dir3!,
        parentRef: parent!.dir3,
        comarca: parent!.comarca,
        population: r.population,
        language: parent!.language,
        status: 'listed',
      });
      entityId = entity.id;
    }
    if (entity?.status === 'listed')
      entity = await applyStateChange(
        tx,
        ctx,
        entity,
        'requested',
        `Enrolment request ${r.registry_number} accepted`,
      );
  } else if (decision.kind === 'reject') {
    if (entity?.status === 'requested')
      entity = await applyStateChange(
        tx,
        ctx,
        entity,
        'listed',
        `Enrolment request ${r.registry_number} rejected`,
      );
  }
  await tx
    .updateTable('enrolment_requests')
    .set({
      status,
      status_reason: reason,
      entity_id: entityId,
      decided_at: now,
      decided_by: ctx.actor.label,
      updated_at: now,
    })
    .where('id', '=', r.id)
    .execute();
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    ...ctx,
    action: `enrolment.${decision.kind === 'accept' ? 'accept' : decision.kind === 'reject' ? 'reject' : 'request_corrections'}`,
    objectType: 'enrolment_request',
    objectId: r.id,
    details: {
      registryNumber: r.registry_number,
      entityId,
      from: r.status,
      to: status,
      ...(reason ? { reason } : {}),
    },
  });
  const entityName = entity?.name ?? r.emd_name ?? '';
  const template =
    decision.kind === 'accept'
      ? 'enrolment_accepted'
      : decision.kind === 'reject'
        ? 'enrolment_rejected'
        : 'enrolment_corrections';
  const params: Record<string, string> = { entityName, registryNumber: r.registry_number ?? '' };
  if (reason) params.reason = reason;
  if (decision.kind === 'corrections') {
    const seu = r.registry_tenant_id ? await findTenantById(tx, r.registry_tenant_id) : undefined;
    params.formUrl = deps.formUrl(seu?.slug ?? 'diputacio-de-lleida');
  }
  const mailTenant = r.registry_tenant_id ?? PLATFORM_TENANT;
  const language = (ENROLMENT_LANGUAGES as readonly string[]).includes(r.language)
    ? (r.language as EnrolmentLanguage)
    : 'ca';
  await asTenant(tx, mailTenant, async () => {
    const to = [...new Set([r.mayor_email, r.secretary_email].map((e) => e.trim().toLowerCase()))];
    for (const address of to)
      await enqueueMail(
        deps.jobs,
        tx,
        { tenantId: mailTenant, to: address, language, template, params },
        { clock: ctx.clock },
      );
  });
  return toDetail(await getRow(tx, r.id));
}
