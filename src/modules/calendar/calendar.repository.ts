import { sql } from 'kysely';
import type { Tx } from '#platform/db/database.ts';
import type { CalendarSeed } from './calendar.seed.ts';
import type { LocalYear, Region, RegionalDay, RegionalScope, RegionalYear } from './calendar.model.ts';

/** `date` columns come back as `YYYY-MM-DD` text (drivers would make a local-time Date of them). */
const civil = sql<string>`to_char(date, 'YYYY-MM-DD')`;

// ---- shipped data (platform tables) ----

export async function seedApplied(tx: Tx, sha256: string): Promise<boolean> {
  const r = await tx
    .selectFrom('calendar_seeds')
    .select('sha256')
    .where('sha256', '=', sha256)
    .executeTakeFirst();
  return r !== undefined;
}

/**
 * Loads the shipped rows that are missing. Never overwrites: a row an operator corrected or
 * withdrew stays as the operator left it.
 */
export async function applySeed(tx: Tx, seed: CalendarSeed, now: Date): Promise<void> {
  if (seed.regionalDays.length > 0) {
    await tx
      .insertInto('calendar_regional_days')
      .values(
        seed.regionalDays.map((d) => ({
          date: d.date,
          scope: d.scope,
          name: d.name,
          non_business: d.nonBusiness,
          source: d.source,
          created_at: now,
        })),
      )
      .onConflict((oc) => oc.columns(['date', 'scope']).doNothing())
      .execute();
  }
  if (seed.regionalYears.length > 0) {
    await tx
      .insertInto('calendar_regional_years')
      .values(
        seed.regionalYears.map((y) => ({
          year: y.year,
          scope: y.scope,
          complete: y.complete,
          source: y.source,
          updated_at: now,
        })),
      )
      .onConflict((oc) => oc.columns(['year', 'scope']).doNothing())
      .execute();
  }
  if (seed.localDays.length > 0) {
    await tx
      .insertInto('calendar_local_days')
      .values(
        seed.localDays.map((d) => ({
          ine: d.ine,
          date: d.date,
          name: d.name,
          source: d.source,
          created_at: now,
        })),
      )
      .onConflict((oc) => oc.columns(['ine', 'date']).doNothing())
      .execute();
  }
  if (seed.localYears.length > 0) {
    await tx
      .insertInto('calendar_local_years')
      .values(
        seed.localYears.map((y) => ({
          ine: y.ine,
          year: y.year,
          complete: y.complete,
          source: y.source,
          note: y.note,
          updated_at: now,
        })),
      )
      .onConflict((oc) => oc.columns(['ine', 'year']).doNothing())
      .execute();
  }
  await tx
    .insertInto('calendar_seeds')
    .values({ sha256: seed.sha256, files: seed.files, applied_at: now })
    .onConflict((oc) => oc.column('sha256').doNothing())
    .execute();
}

export async function listRegionalDays(tx: Tx): Promise<RegionalDay[]> {
  const rows = await tx
    .selectFrom('calendar_regional_days')
    .select([civil.as('date'), 'scope', 'name', 'non_business'])
    .where('withdrawn_at', 'is', null)
    .orderBy('date')
    .execute();
  return rows.map((r) => ({ date: r.date, scope: r.scope, name: r.name, nonBusiness: r.non_business }));
}

export async function listRegionalYears(tx: Tx): Promise<RegionalYear[]> {
  const rows = await tx
    .selectFrom('calendar_regional_years')
    .select(['year', 'scope', 'complete', 'note'])
    .execute();
  return rows.map((r) => ({ year: r.year, scope: r.scope, complete: r.complete, note: r.note }));
}

export async function listLocalDays(tx: Tx, ine: string): Promise<{ date: string; name: string }[]> {
  return tx
    .selectFrom('calendar_local_days')
    .select([civil.as('date'), 'name'])
    .where('ine', '=', ine)
    .where('withdrawn_at', 'is', null)
    .orderBy('date')
    .execute();
}

export async function listLocalYears(tx: Tx, ine: string): Promise<LocalYear[]> {
  return tx
    .selectFrom('calendar_local_years')
    .select(['year', 'complete', 'note'])
    .where('ine', '=', ine)
    .execute();
}

export type RegionalDayRow = RegionalDay & { source: string; withdrawn: boolean };

export async function findRegionalDay(
  tx: Tx,
  date: string,
  scope: RegionalScope,
): Promise<RegionalDayRow | undefined> {
  const r = await tx
    .selectFrom('calendar_regional_days')
    .select([civil.as('date'), 'scope', 'name', 'non_business', 'source', 'withdrawn_at'])
    .where('date', '=', date)
    .where('scope', '=', scope)
    .executeTakeFirst();
  return r
    ? {
        date: r.date,
        scope: r.scope,
        name: r.name,
        nonBusiness: r.non_business,
        source: r.source,
        withdrawn: r.withdrawn_at !== null,
      }
    : undefined;
}

export async function upsertRegionalDay(
  tx: Tx,
  d: RegionalDay & { source: string },
  now: Date,
): Promise<void> {
  await tx
    .insertInto('calendar_regional_days')
    .values({
      date: d.date,
      scope: d.scope,
      name: d.name,
      non_business: d.nonBusiness,
      source: d.source,
      created_at: now,
    })
    .onConflict((oc) =>
      oc.columns(['date', 'scope']).doUpdateSet({
        name: d.name,
        non_business: d.nonBusiness,
        source: d.source,
        withdrawn_at: null,
        withdrawn_reason: null,
      }),
    )
    .execute();
}

export async function withdrawRegionalDay(
  tx: Tx,
  date: string,
  scope: RegionalScope,
  reason: string,
  now: Date,
): Promise<boolean> {
  const r = await tx
    .updateTable('calendar_regional_days')
    .set({ withdrawn_at: now, withdrawn_reason: reason })
    .where('date', '=', date)
    .where('scope', '=', scope)
    .where('withdrawn_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function upsertRegionalYear(
  tx: Tx,
  y: { year: number; scope: Region; complete: boolean; note: string | null; source: string },
  now: Date,
): Promise<void> {
  await tx
    .insertInto('calendar_regional_years')
    .values({ ...y, updated_at: now })
    .onConflict((oc) =>
      oc.columns(['year', 'scope']).doUpdateSet({
        complete: y.complete,
        note: y.note,
        source: y.source,
        updated_at: now,
      }),
    )
    .execute();
}

export async function findLocalDay(
  tx: Tx,
  ine: string,
  date: string,
): Promise<{ name: string; withdrawn: boolean } | undefined> {
  const r = await tx
    .selectFrom('calendar_local_days')
    .select(['name', 'withdrawn_at'])
    .where('ine', '=', ine)
    .where('date', '=', date)
    .executeTakeFirst();
  return r ? { name: r.name, withdrawn: r.withdrawn_at !== null } : undefined;
}

export async function upsertLocalDay(
  tx: Tx,
  d: { ine: string; date: string; name: string; source: string },
  now: Date,
): Promise<void> {
  await tx
    .insertInto('calendar_local_days')
    .values({ ...d, created_at: now })
    .onConflict((oc) =>
      oc.columns(['ine', 'date']).doUpdateSet({
        name: d.name,
        source: d.source,
        withdrawn_at: null,
        withdrawn_reason: null,
      }),
    )
    .execute();
}

export async function withdrawLocalDay(
  tx: Tx,
  ine: string,
  date: string,
  reason: string,
  now: Date,
): Promise<boolean> {
  const r = await tx
    .updateTable('calendar_local_days')
    .set({ withdrawn_at: now, withdrawn_reason: reason })
    .where('ine', '=', ine)
    .where('date', '=', date)
    .where('withdrawn_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function upsertLocalYear(
  tx: Tx,
  y: { ine: string; year: number; complete: boolean; note: string | null; source: string },
  now: Date,
): Promise<void> {
  await tx
    .insertInto('calendar_local_years')
    .values({ ...y, updated_at: now })
    .onConflict((oc) =>
      oc.columns(['ine', 'year']).doUpdateSet({
        complete: y.complete,
        note: y.note,
        source: y.source,
        updated_at: now,
      }),
    )
    .execute();
}

// ---- an entity's own days (tenant tables, row-level security) ----

export type EntityDayRecord = {
  id: string;
  date: string;
  action: 'add' | 'remove';
  name: string | null;
  reason: string;
  actorLabel: string;
  createdAt: Date;
};

export async function listEntityDays(tx: Tx, tenantId: string): Promise<EntityDayRecord[]> {
  const rows = await tx
    .selectFrom('calendar_entity_days')
    .select(['id', civil.as('date'), 'action', 'name', 'reason', 'actor_label', 'created_at'])
    .where('tenant_id', '=', tenantId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    date: r.date,
    action: r.action,
    name: r.name,
    reason: r.reason,
    actorLabel: r.actor_label,
    createdAt: new Date(r.created_at),
  }));
}

export async function insertEntityDay(
  tx: Tx,
  row: {
    tenantId: string;
    id: string;
    date: string;
    action: 'add' | 'remove';
    name: string | null;
    reason: string;
    actorId: string | null;
    actorLabel: string;
    createdAt: Date;
  },
): Promise<void> {
  await tx
    .insertInto('calendar_entity_days')
    .values({
      tenant_id: row.tenantId,
      id: row.id,
      date: row.date,
      action: row.action,
      name: row.name,
      reason: row.reason,
      actor_id: row.actorId,
      actor_label: row.actorLabel,
      created_at: row.createdAt,
    })
    .execute();
}

export async function listEntityYears(
  tx: Tx,
  tenantId: string,
): Promise<{ year: number; complete: boolean; reason: string; actorLabel: string; updatedAt: Date }[]> {
  const rows = await tx
    .selectFrom('calendar_entity_years')
    .select(['year', 'local_complete', 'reason', 'actor_label', 'updated_at'])
    .where('tenant_id', '=', tenantId)
    .execute();
  return rows.map((r) => ({
    year: r.year,
    complete: r.local_complete,
    reason: r.reason,
    actorLabel: r.actor_label,
    updatedAt: new Date(r.updated_at),
  }));
}

export async function upsertEntityYear(
  tx: Tx,
  row: {
    tenantId: string;
    year: number;
    complete: boolean;
    reason: string;
    actorId: string | null;
    actorLabel: string;
    now: Date;
  },
): Promise<void> {
  const values = {
    local_complete: row.complete,
    reason: row.reason,
    actor_id: row.actorId,
    actor_label: row.actorLabel,
    updated_at: row.now,
  };
  await tx
    .insertInto('calendar_entity_years')
    .values({ tenant_id: row.tenantId, year: row.year, ...values })
    .onConflict((oc) => oc.columns(['tenant_id', 'year']).doUpdateSet(values))
    .execute();
}
