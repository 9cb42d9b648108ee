import type { Actor, Clock, Ctx, RequestMeta } from '#platform/context.ts';
import type { Database, Tx } from '#platform/db/database.ts';
import type { EntityKind } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { formatMadrid, madridDateOf, TIME_ZONE } from '#modules/calendar/civil-date.ts';
import { ensureCalendarSeededOnce, getCalendarYear } from '#modules/calendar/calendar.service.ts';
import { listResolutions } from '#modules/seals/resolutions.service.ts';
import { listSeals } from '#modules/seals/seals.service.ts';
import { findTenantById } from '#modules/tenancy/tenancy.repository.ts';
import { hasPublicSeu } from '#modules/citizens/seu-scope.ts';
import {
  EMPTY_SETTINGS,
  GENERIC_REQUEST_DEFAULT,
  type SeuLanguage,
  type SeuSettings,
  seuLanguages,
} from './seu.model.ts';

/**
 * The seu electrònica of each entity: what it publishes without a login (RD 203/2021 art. 11) and
 * what its administrator enters for it. Public reads go through `inSeu`, which opens the entity's
 * transaction as the seu itself (a system actor): an unknown entity, one not yet on Lligall or a
 * suspended one is 404.
 */

/** The seu reads on behalf of the public what every member of the entity may read, and publishes it. */
export const seuActor: Actor = { kind: 'system', id: null, label: 'seu', platformRoles: [] };

export type SeuDeps = { db: Database; clock: Clock };

export async function inSeu<T>(
  deps: SeuDeps,
  slug: string,
  request: RequestMeta,
  fn: (tx: Tx, ctx: Ctx) => Promise<T>,
): Promise<T> {
  return deps.db.tenantByRef(
    slug,
    (tenant) => {
      if (!hasPublicSeu(tenant)) throw new AppError('ENTITY_NOT_FOUND', `Entity ${slug} not found`);
    },
    (tx, tenant) =>
      fn(tx, {
        tenant: {
          id: tenant.id,
          dir3: tenant.dir3,
          slug: tenant.slug,
          name: tenant.name,
          status: tenant.status,
        },
        actor: seuActor,
        // Read access to what the seu publishes (calendar, seals, resolutions); it changes nothing.
        roles: ['viewer'],
        request,
        clock: deps.clock,
      }),
  );
}

async function readSettings(
  tx: Tx,
  tenantId: string,
): Promise<{ data: SeuSettings; updatedAt: Date | null }> {
  const row = await tx
    .selectFrom('seu_settings')
    .select(['data', 'updated_at'])
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  if (!row) return { data: EMPTY_SETTINGS, updatedAt: null };
  return { data: { ...EMPTY_SETTINGS, ...(row.data as SeuSettings) }, updatedAt: new Date(row.updated_at) };
}

/** The official date and time: the server's clock (LRJSP art. 38; RD 203/2021 art. 11.1.i). */
export function officialTime(clock: Clock) {
  const now = clock.now();
  return {
    now: formatMadrid(now),
    epochMs: now.getTime(),
    date: madridDateOf(now),
    timeZone: TIME_ZONE,
  };
}

export type SeuInfo = {
  entity: {
    name: string;
    kind: EntityKind;
    dir3: string;
    ine: string | null;
    slug: string;
    comarca: string | null;
    contact: SeuSettings['contact'];
  };
  languages: SeuLanguage[];
  officialTime: ReturnType<typeof officialTime>;
  creationAct: SeuSettings['creationAct'];
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
  accessibility: SeuSettings['accessibility'];
  privacy:
    | (NonNullable<SeuSettings['privacy']> & {
        controller: { name: string; dir3: string; contact: SeuSettings['contact'] };
      })
    | null;
  updatedAt: string | null;
};

/** Everything the seu's public pages show, in one answer. */
export async function getSeuInfo(tx: Tx, ctx: Ctx): Promise<SeuInfo> {
  const tenant = await findTenantById(tx, ctx.tenant.id);
  if (!tenant) throw new AppError('ENTITY_NOT_FOUND', 'Entity not found');
  const { data, updatedAt } = await readSettings(tx, tenant.id);
  const seals = await listSeals(tx, ctx);
  const resolutions = await listResolutions(tx, ctx);
  const generic = data.genericRequest ?? GENERIC_REQUEST_DEFAULT;
  return {
    entity: {
      name: tenant.name,
      kind: tenant.kind,
      dir3: tenant.dir3,
      ine: tenant.ine,
      slug: tenant.slug,
      comarca: tenant.comarca,
      contact: data.contact,
    },
    languages: seuLanguages(tenant.language),
    officialTime: officialTime(ctx.clock),
    creationAct: data.creationAct,
    seals: seals.map((s) => ({
      label: s.label,
      subject: s.subject,
      issuer: s.issuer,
      serialNumber: s.serialNumber,
      fingerprintSha256: s.fingerprintSha256,
      validFrom: s.validFrom,
      validTo: s.validTo,
      qualified: s.qualified,
      active: s.active,
    })),
    resolutions: resolutions.map((r) => ({
      kind: r.kind,
      title: r.title,
      reference: r.reference,
      approvedOn: r.approvedOn,
      responsibleBody: r.responsibleBody,
      actions: r.actions,
      publication: r.publication,
      inForce: r.inForce,
      revokedOn: r.revokedOn,
    })),
    procedures: [
      {
        code: 'generic_request',
        online: true,
        maxTermMonths: generic.maxTermMonths,
        termBasis: generic.termBasis,
        silence: generic.silence,
        silenceBasis: generic.silenceBasis,
        legalDefault: data.genericRequest === null,
      },
    ],
    accessibility: data.accessibility,
    privacy: data.privacy
      ? { ...data.privacy, controller: { name: tenant.name, dir3: tenant.dir3, contact: data.contact } }
      : null,
    updatedAt: updatedAt ? updatedAt.toISOString() : null,
  };
}

export type SeuCalendar = {
  year: number;
  place: string;
  complete: boolean;
  days: { date: string; weekday: string; weekend: boolean; holidays: { name: string; scope: string }[] }[];
};

/** The year's non-business days of the entity's seat (weekends are non-business and not listed). */
export async function getSeuCalendar(deps: SeuDeps, slug: string, request: RequestMeta, year: number) {
  await ensureCalendarSeededOnce(deps.db, deps.clock.now());
  return inSeu(deps, slug, request, async (tx, ctx): Promise<SeuCalendar> => {
    const y = await getCalendarYear(tx, ctx, year, { includeIncomplete: true });
    // What is published: the days and their names; not who corrected them.
    return { year: y.year, place: y.place, complete: y.complete, days: y.days };
  });
}

// ---- the administrator's settings ----

const canManage = (ctx: Ctx) => ctx.roles.includes('admin');

export async function getSeuSettings(tx: Tx, ctx: Ctx): Promise<SeuSettings & { updatedAt: string | null }> {
  if (!canManage(ctx)) throw new AppError('FORBIDDEN', 'Only an administrator of the entity manages its seu');
  const { data, updatedAt } = await readSettings(tx, ctx.tenant.id);
  return { ...data, updatedAt: updatedAt ? updatedAt.toISOString() : null };
}

/** Replaces what the seu publishes (administrator; audited with what changed). */
export async function putSeuSettings(
  tx: Tx,
  ctx: Ctx,
  input: SeuSettings,
): Promise<SeuSettings & { updatedAt: string | null }> {
  if (!canManage(ctx)) throw new AppError('FORBIDDEN', 'Only an administrator of the entity manages its seu');
  const before = await readSettings(tx, ctx.tenant.id);
  const now = ctx.clock.now();
  const data = JSON.stringify(input);
  await tx
    .insertInto('seu_settings')
    .values({ tenant_id: ctx.tenant.id, data, updated_at: now, updated_by: ctx.actor.id })
    .onConflict((oc) =>
      oc.column('tenant_id').doUpdateSet({ data, updated_at: now, updated_by: ctx.actor.id }),
    )
    .execute();
  const changed = (Object.keys(EMPTY_SETTINGS) as (keyof SeuSettings)[]).filter(
    (k) => JSON.stringify(before.data[k]) !== JSON.stringify(input[k]),
  );
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'seu.settings.update',
    objectType: 'seu_settings',
    objectId: ctx.tenant.id,
    details: { changed, settings: input },
  });
  return { ...input, updatedAt: now.toISOString() };
}
