import { sql } from 'kysely';
import type { AppDeps } from '#src/app.ts';
import type { Ctx } from '#platform/context.ts';
import { asTenant, type Tx } from '#platform/db/database.ts';
import type { EntityRole } from '#platform/db/schema.ts';
import type { EnrolmentFile } from '#platform/db/schema/rollout.ts';
import { AppError } from '#platform/errors.ts';
import { enqueueMail, type MailLanguage } from '#platform/mail/mail.service.ts';
import { randomBytes } from 'node:crypto';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { ensureCalendarSeeded, entityHolidayCalendar } from '#modules/calendar/calendar.service.ts';
import { createUser, grantMembership } from '#modules/identity/identity.service.ts';
import { createInvitation, invitationState } from '#modules/identity/invitations.service.ts';
import { createPosition } from '#modules/positions/positions.service.ts';
import { ensureEntitySeal } from '#modules/seals/seals.service.ts';
import { EMPTY_SETTINGS } from '#modules/seu/seu.model.ts';
import { loadMunicipalities } from '#modules/tenancy/province.ts';
import { findTenantById, findTenantByRef, type Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { createUnit } from '#modules/tenancy/units.service.ts';
import { recordChecklistItemIfMissing } from './checklist.service.ts';
import { applyStateChange, assertOperator, type PlatformCtx } from './lifecycle.service.ts';

/**
 * Provisioning of an entity on the service (issue 6, Build item 3): creates or completes, never
 * duplicates, each part the entity needs to start — and records what it did. Re-running it on a
 * provisioned entity changes nothing: no row, no audit event, no certificate, no e-mail.
 *
 * Steps, in order:
 * - `codes`: the tenant's DIR3 and INE codes (imported from the shipped data) are checked.
 * - `administrator`: the first administrator (admin, handler, registrar and signer of the entity),
 *   by default the secretary named in the accepted enrolment request; the username is derived
 *   from the name and made unique. An entity that already has an administrator keeps it.
 * - `invitation`: a one-time link (identity/invitations.service.ts) by e-mail (template
 *   user_invitation) to set the password — only when the administrator has never set one and
 *   holds no link still in force (an expired link is replaced on a re-run).
 * - `calendar`: the calendars are loaded and the entity's own resolves (its municipality's local
 *   holidays; an EMD: its parent's).
 * - `units`: the mayor's organ (Alcaldia; an EMD: Presidència), the secretariat and the general
 *   registry office. Their DIR3 codes are not in our data: an administrator enters them.
 * - `positions`: mayor/president and secretary(-intervenor). Holders are appointed by the
 *   administrator (appointments need decrees this step does not have).
 * - `settings`: the seu's settings row at its defaults (the legal defaults apply until the
 *   administrator enters the entity's own).
 * - `seal`: the entity's seal (a demo seal from the installation CA outside production; in
 *   production the operator imports the real one, `lligall seal import`, and the step stays
 *   `pending` until then).
 * - `checklist`: the go-live items provisioning can vouch for: `seal` (a fact, once the seal
 *   exists) and `dpa` (the signed data processing agreement of the enrolment request).
 *
 * State: `scheduled` → `provisioning` at the start, `provisioning` → `pilot` when every step is
 * done. Entities already in `pilot` or `live` may be re-provisioned (it completes what is missing
 * and keeps their state); any other state is PROVISIONING_NOT_ALLOWED.
 *
 * Platform parts run in platform transactions, the entity's parts in its own tenant transaction,
 * the seal in its own (it is slow: key generation happens outside any transaction).
 */
export const PROVISIONING_STEPS = [
  'codes',
  'administrator',
  'invitation',
  'calendar',
  'units',
  'positions',
  'settings',
  'seal',
  'checklist',
] as const;
export type ProvisioningStep = (typeof PROVISIONING_STEPS)[number];
export type StepOutcome = 'created' | 'existing' | 'pending';

export type ProvisionOptions = { adminName?: string; adminEmail?: string; adminUsername?: string };

export type ProvisionResult = {
  entity: Tenant;
  steps: { step: ProvisioningStep; done: StepOutcome }[];
  adminUsername: string;
  invitationSent: boolean;
};

/** The roles of an entity's first administrator. */
export const FIRST_ADMIN_ROLES: EntityRole[] = ['admin', 'handler', 'registrar', 'signer'];

const PROVISIONABLE = new Set(['scheduled', 'provisioning', 'pilot', 'live']);

export async function provisionEntity(
  deps: AppDeps,
  ref: string,
  ctx: PlatformCtx,
  opts: ProvisionOptions = {},
): Promise<ProvisionResult> {
  assertOperator(ctx);
  const steps = new Map<ProvisioningStep, StepOutcome>();

  // 1. Platform: state, codes, administrator and invitation, calendars.
  const first = await deps.db.platform(async (tx) => {
    let entity = await lockEntity(tx, ref);
    if (!PROVISIONABLE.has(entity.status))
      throw new AppError(
        'PROVISIONING_NOT_ALLOWED',
        `An entity that is ${entity.status} cannot be provisioned (it must be scheduled in a wave first)`,
        { entityStatus: entity.status },
      );
    steps.set('codes', checkCodes(entity));
    const request = await acceptedRequest(tx, entity.id);
    if (entity.status === 'scheduled') entity = await applyStateChange(tx, ctx, entity, 'provisioning', null);
    const admin = await ensureAdministrator(tx, ctx, entity, request, opts);
    steps.set('administrator', admin.created ? 'created' : 'existing');
    const invited = await ensureInvitation(deps, tx, ctx, entity, admin, request?.language ?? null);
    steps.set('invitation', invited ? 'created' : 'existing');
    const seeded = await ensureCalendarSeeded(tx, ctx.clock.now());
    return { entity, admin, invited, request, calendarLoaded: seeded.loaded };
  });
  let entity = first.entity;

  // 2. The entity's own data, in its tenant transaction.
  const tenantCtx: Ctx = {
    tenant: { id: entity.id, dir3: entity.dir3, slug: entity.slug, name: entity.name, status: entity.status },
    actor: ctx.actor,
    // Provisioning acts as the entity's administrator would (units, positions, settings).
    roles: ['admin'],
    request: ctx.request,
    clock: ctx.clock,
  };
  await deps.db.tenant(entity.id, async (tx) => {
    // One provisioning of an entity at a time here too (the units and positions are read, then added).
    await tx.selectFrom('tenants').select('id').where('id', '=', entity.id).forUpdate().execute();
    // The calendar of the seat must resolve (throws when the entity has no known place).
    await entityHolidayCalendar(tx, entity.id, ctx.clock.now());
    steps.set('calendar', first.calendarLoaded ? 'created' : 'existing');
    steps.set('units', await ensureUnits(tx, tenantCtx, entity));
    steps.set('positions', await ensurePositions(tx, tenantCtx, entity));
    steps.set('settings', await ensureSettings(tx, tenantCtx));
  });

  // 3. The seal (own transactions; the key is generated outside any transaction).
  let sealCreated = false;
  const hasSeal = await activeSeal(deps, entity.id);
  if (!hasSeal && deps.config.env !== 'production') {
    sealCreated = (await ensureEntitySeal(deps, entity.id)).created;
  }
  const seal = hasSeal ?? (await activeSeal(deps, entity.id));
  steps.set('seal', seal ? (sealCreated ? 'created' : 'existing') : 'pending');

  // 4. Platform: the checklist items provisioning vouches for, and pilot when everything is done.
  entity = await deps.db.platform(async (tx) => {
    let e = await lockEntity(tx, entity.id);
    let checklist = false;
    if (seal)
      checklist =
        (await recordChecklistItemIfMissing(tx, ctx, e, 'seal', {
          kind: 'fact',
          fact: `Seal installed: ${seal.label}, valid until ${seal.validTo.slice(0, 10)}`,
          reference: `sha256:${seal.fingerprint}`,
        })) || checklist;
    const dpa = first.request?.files.find((f) => f.role === 'dpa');
    if (dpa && deps.blobs.exists(dpa.sha256))
      checklist =
        (await recordChecklistItemIfMissing(tx, ctx, e, 'dpa', {
          kind: 'document',
          sha256: dpa.sha256,
          name: dpa.fileName,
          reference: first.request?.registryNumber ?? null,
        })) || checklist;
    steps.set('checklist', checklist ? 'created' : 'existing');
    const complete = [...steps.values()].every((s) => s !== 'pending');
    if (complete && e.status === 'provisioning') e = await applyStateChange(tx, ctx, e, 'pilot', null);
    return e;
  });

  return {
    entity,
    steps: PROVISIONING_STEPS.map((step) => ({ step, done: steps.get(step) ?? 'existing' })),
    adminUsername: first.admin.username,
    invitationSent: first.invited,
  };
}

// ---------------------------------------------------------------- steps

/** The entity by id, DIR3 or slug, its row locked: two provisionings of one entity run one after the other. */
async function lockEntity(tx: Tx, ref: string): Promise<Tenant> {
  const entity = /^[0-9a-f-]{36}$/.test(ref) ? await findTenantById(tx, ref) : await findTenantByRef(tx, ref);
  if (!entity) throw new AppError('ENTITY_NOT_FOUND', `Entity ${ref} not found`);
  await tx.selectFrom('tenants').select('id').where('id', '=', entity.id).forUpdate().execute();
  // Read again under the lock: another run may have moved it meanwhile.
  return (await findTenantById(tx, entity.id))!;
}

let municipalities: Map<string, { dir3: string; name: string }> | undefined;

/**
 * The DIR3 of an ajuntament is L01 + its INE code + a control digit, as the shipped data has it
 * (a mismatch is PROVISIONING_NOT_ALLOWED); an EMD has the DIR3 its request gave and no INE code.
 */
function checkCodes(entity: Tenant): StepOutcome {
  if (!/^[A-Z0-9]{9}$/.test(entity.dir3))
    throw new AppError('PROVISIONING_NOT_ALLOWED', `The DIR3 code of ${entity.name} is not valid`);
  // An ajuntament of the province has its INE code; one created by hand without it (tests,
  // entities outside the shipped data) is taken as it is.
  if (entity.kind === 'ajuntament' && entity.ine) {
    municipalities ??= new Map(loadMunicipalities().map((m) => [m.ine, m]));
    const m = municipalities.get(entity.ine);
    if (!m || m.dir3 !== entity.dir3)
      throw new AppError(
        'PROVISIONING_NOT_ALLOWED',
        `The codes of ${entity.name} (DIR3 ${entity.dir3}, INE ${entity.ine ?? '—'}) do not match the province's data`,
        { dir3: entity.dir3, ine: entity.ine, expectedDir3: m?.dir3 ?? null },
      );
  }
  return 'existing';
}

type AcceptedRequest = {
  secretaryName: string;
  secretaryEmail: string;
  language: string;
  registryNumber: string | null;
  files: EnrolmentFile[];
};

/** The entity's accepted enrolment request (the latest), if it came through the form. */
async function acceptedRequest(tx: Tx, entityId: string): Promise<AcceptedRequest | null> {
  const r = await tx
    .selectFrom('enrolment_requests')
    .select(['secretary_name', 'secretary_email', 'language', 'registry_number', 'files'])
    .where('entity_id', '=', entityId)
    .where('status', '=', 'accepted')
    .orderBy('decided_at', 'desc')
    .executeTakeFirst();
  if (!r) return null;
  const files = (typeof r.files === 'string' ? JSON.parse(r.files) : r.files) as EnrolmentFile[];
  return {
    secretaryName: r.secretary_name,
    secretaryEmail: r.secretary_email,
    language: r.language,
    registryNumber: r.registry_number,
    files: Array.isArray(files) ? files : [],
  };
}

type Admin = { id: string; username: string; name: string; email: string | null; created: boolean };

/**
 * The entity's administrator: an existing one is kept (its missing first-administrator roles are
 * completed only if it was the one provisioning created, i.e. it has an invitation for this
 * entity); otherwise a new user from the options or the request's secretary.
 */
async function ensureAdministrator(
  tx: Tx,
  ctx: PlatformCtx,
  entity: Tenant,
  request: AcceptedRequest | null,
  opts: ProvisionOptions,
): Promise<Admin> {
  const existing = await tx
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.username', 'u.name', 'u.email', 'm.roles', 'm.created_at'])
    .where('m.tenant_id', '=', entity.id)
    .where(sql<boolean>`'admin' = any(m.roles)`)
    .where('u.disabled', '=', false)
    .orderBy('m.created_at')
    .orderBy('u.username')
    .executeTakeFirst();
  if (existing) {
    const lacking = FIRST_ADMIN_ROLES.filter((r) => !existing.roles.includes(r));
    if (lacking.length > 0) {
      const invited = await tx
        .selectFrom('user_invitations')
        .select('id')
        .where('user_id', '=', existing.id)
        .where('entity_id', '=', entity.id)
        .executeTakeFirst();
      if (invited)
        await grantMembership(tx, ctx, { userId: existing.id, tenantId: entity.id, roles: lacking });
    }
    return {
      id: existing.id,
      username: existing.username,
      name: existing.name,
      email: existing.email,
      created: false,
    };
  }
  const name = clean(opts.adminName) ?? request?.secretaryName.trim();
  const email = clean(opts.adminEmail) ?? request?.secretaryEmail.trim();
  if (!name || !email)
    throw new AppError(
      'VALIDATION_FAILED',
      'The first administrator needs a name and an e-mail address (adminName, adminEmail): the entity has no accepted enrolment request to take them from',
    );
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 320)
    throw new AppError('VALIDATION_FAILED', `"${email}" is not an e-mail address`);
  const wanted = clean(opts.adminUsername)?.toLowerCase();
  const username = wanted ?? (await freeUsername(tx, name, email));
  // A password nobody knows: the administrator chooses theirs through the invitation.
  const { id } = await createUser(tx, ctx, {
    username,
    name,
    email,
    password: randomBytes(24).toString('base64url'),
  });
  await grantMembership(tx, ctx, { userId: id, tenantId: entity.id, roles: FIRST_ADMIN_ROLES });
  return { id, username, name, email, created: true };
}

const clean = (v: string | undefined) => {
  const t = v?.trim();
  return t ? t : undefined;
};

/** Name particles left out of a username ("Maria de la Fuente i Puig" → maria.fuente). */
const PARTICLES = new Set(['de', 'del', 'dels', 'la', 'les', 'el', 'els', 'i', 'y', 'd', 'l', 'da', 'di']);

/** `nom.cognom` from the person's name (or the address's local part), with a number if taken. */
async function freeUsername(tx: Tx, name: string, email: string): Promise<string> {
  const words = name
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .replace(/[·•]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w && !PARTICLES.has(w));
  let base = words.slice(0, 2).join('.');
  if (base.length < 2)
    base = email
      .split('@')[0]!
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '');
  if (!/^[a-z0-9]/.test(base) || base.length < 2) base = `admin${base}`;
  base = base.slice(0, 56);
  const taken = new Set(
    (
      await tx
        .selectFrom('users')
        .select('username')
        .where((eb) => eb.or([eb('username', '=', base), eb('username', 'like', `${base}%`)]))
        .execute()
    ).map((u) => u.username),
  );
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}${n}`)) return `${base}${n}`;
}

/**
 * A link for an administrator who has never set a password and holds no link in force; e-mailed
 * on behalf of the entity in the request's language (else the entity's). Returns whether it sent one.
 */
async function ensureInvitation(
  deps: AppDeps,
  tx: Tx,
  ctx: PlatformCtx,
  entity: Tenant,
  admin: Admin,
  language: string | null,
): Promise<boolean> {
  const state = await invitationState(tx, admin.id, ctx.clock.now());
  // `none` for an existing user: created with a password (CLI, demo); nothing to send.
  const needed = admin.created || state === 'expired';
  if (!needed) return false;
  if (!admin.email)
    throw new AppError(
      'VALIDATION_FAILED',
      `The administrator ${admin.username} has no e-mail address for the invitation`,
    );
  const { token, expiresAt } = await createInvitation(tx, ctx, { userId: admin.id, entityId: entity.id });
  const origin = deps.config.publicUrl?.replace(/\/+$/, '') ?? `http://localhost:${deps.config.port}`;
  const to = admin.email;
  await asTenant(tx, entity.id, () =>
    enqueueMail(
      deps.jobs,
      tx,
      {
        tenantId: entity.id,
        to,
        language: mailLanguage(language ?? entity.language),
        template: 'user_invitation',
        params: {
          entityName: entity.name,
          name: admin.name,
          link: `${origin}/app/invitation/${token}`,
          expiresAt: madridDateTime(expiresAt),
        },
      },
      { clock: ctx.clock },
    ),
  );
  return true;
}

function mailLanguage(l: string): MailLanguage {
  if (l === 'es') return 'es';
  if (l === 'oc' || l.startsWith('oc-')) return 'oc-aranes';
  return 'ca';
}

/** "07/12/2026 17:05" in Europe/Madrid. */
function madridDateTime(d: Date): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Madrid',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(d)
      .map((x) => [x.type, x.value]),
  );
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
}

/** Secretaria-intervenció (class 3, RD 128/2018 art. 8) below 5,000 inhabitants, and for an EMD. */
function smallEntity(entity: Tenant): boolean {
  return entity.kind === 'emd' || entity.population === null || entity.population <= 5000;
}

async function ensureUnits(tx: Tx, ctx: Ctx, entity: Tenant): Promise<StepOutcome> {
  const units = await tx
    .selectFrom('units')
    .select(['name', 'kind'])
    .where('tenant_id', '=', entity.id)
    .execute();
  const wanted: { name: string; kind: 'organ' | 'unit' | 'office'; present: boolean }[] = [
    {
      name: entity.kind === 'emd' ? 'Presidència' : 'Alcaldia',
      kind: 'organ',
      present: units.some((u) => u.kind === 'organ'),
    },
    {
      name: smallEntity(entity) ? 'Secretaria-Intervenció' : 'Secretaria',
      kind: 'unit',
      present: units.some((u) => u.kind === 'unit' && /^secretaria/i.test(u.name)),
    },
    {
      name: 'Oficina de Registre General',
      kind: 'office',
      present: units.some((u) => u.kind === 'office'),
    },
  ];
  let created = false;
  for (const u of wanted) {
    if (u.present) continue;
    await createUnit(tx, ctx, { name: u.name, kind: u.kind, dir3: null });
    created = true;
  }
  return created ? 'created' : 'existing';
}

async function ensurePositions(tx: Tx, ctx: Ctx, entity: Tenant): Promise<StepOutcome> {
  const positions = await tx
    .selectFrom('positions')
    .select(['kind'])
    .where('tenant_id', '=', entity.id)
    .execute();
  let created = false;
  if (!positions.some((p) => p.kind === 'mayor')) {
    await createPosition(tx, ctx, {
      kind: 'mayor',
      title: entity.kind === 'emd' ? 'President/a' : 'Alcalde/essa',
    });
    created = true;
  }
  if (!positions.some((p) => p.kind === 'secretary' || p.kind === 'secretary_intervenor')) {
    const small = smallEntity(entity);
    await createPosition(tx, ctx, {
      kind: small ? 'secretary_intervenor' : 'secretary',
      title: small ? 'Secretari/ària-interventor/a' : 'Secretari/ària',
    });
    created = true;
  }
  return created ? 'created' : 'existing';
}

/** The seu's settings row at its defaults (the legal defaults apply while fields are null). */
async function ensureSettings(tx: Tx, ctx: Ctx): Promise<StepOutcome> {
  const row = await tx
    .selectFrom('seu_settings')
    .select('tenant_id')
    .where('tenant_id', '=', ctx.tenant.id)
    .executeTakeFirst();
  if (row) return 'existing';
  await tx
    .insertInto('seu_settings')
    .values({
      tenant_id: ctx.tenant.id,
      data: JSON.stringify(EMPTY_SETTINGS),
      updated_at: ctx.clock.now(),
      updated_by: ctx.actor.id,
    })
    .execute();
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'seu.settings.update',
    objectType: 'seu_settings',
    objectId: ctx.tenant.id,
    details: { changed: [], settings: EMPTY_SETTINGS, source: 'provisioning' },
  });
  return 'created';
}

type SealFacts = { label: string; fingerprint: string; validTo: string; qualified: boolean };

async function activeSeal(deps: AppDeps, entityId: string): Promise<SealFacts | null> {
  const row = await deps.db.tenant(entityId, (tx) =>
    tx
      .selectFrom('seals')
      .select(['label', 'fingerprint_sha256', 'valid_to', 'qualified'])
      .where('tenant_id', '=', entityId)
      .where('active', '=', true)
      .executeTakeFirst(),
  );
  if (!row) return null;
  return {
    label: row.label,
    fingerprint: row.fingerprint_sha256,
    validTo: new Date(row.valid_to).toISOString(),
    qualified: row.qualified,
  };
}
