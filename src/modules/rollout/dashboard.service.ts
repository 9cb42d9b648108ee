import { sql } from 'kysely';
import fs from 'node:fs';
import path from 'node:path';
import type { Database, Tx } from '#platform/db/database.ts';
import { type EntityKind, type EntityStatus, PLATFORM_TENANT } from '#platform/db/schema.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { addDays, madridDateOf } from '#modules/calendar/civil-date.ts';
import { SEED_DIR } from '#modules/tenancy/province.ts';
import type { PlatformCtx } from './lifecycle.service.ts';
import { ENTITY_STATUSES } from './rollout.model.ts';

/**
 * The province dashboard (issue 6, item 5): where the roll-out stands, by state, wave and
 * comarca, how it went day by day, and how much the entities on the service use it.
 *
 * The figures cover every local entity of the province the service is for: municipalities
 * (ajuntaments) and EMDs; not the Diputació itself nor consells comarcals. The usage figures are
 * in each entity's own tables: they are read in one tenant transaction per entity (row-level
 * security as for any entity request), after the platform transaction that read the roll-out.
 */

/** The kinds of entity the roll-out counts. */
export const PROVINCE_KINDS: readonly EntityKind[] = ['ajuntament', 'emd'];
/** Entities whose usage is shown: those whose staff work in Lligall. */
export const USAGE_STATUSES: readonly EntityStatus[] = ['pilot', 'live'];
/** The usage window, in days back from now. */
export const USAGE_DAYS = 30;

export type ByState = Record<EntityStatus, number>;

export type DashboardEntity = {
  id: string;
  dir3: string;
  ine: string | null;
  name: string;
  kind: EntityKind;
  comarca: string | null;
  population: number | null;
  status: EntityStatus;
  waveId: string | null;
  waveName: string | null;
  createdAt: Date;
};

export type Usage = {
  entityId: string;
  dir3: string;
  name: string;
  expedientsOpened30d: number;
  registryEntries30d: number;
  documentsSigned30d: number;
};

/**
 * An entity that owes registry receipts (LPACAP art. 16.3) its requests could not issue: the
 * receipts sweeper is on them (`registry_receipts_due`), or failing (no active seal, a broken file
 * store). The Diputació sees them here before a citizen asks.
 */
export type ReceiptsOwed = {
  entityId: string;
  dir3: string;
  name: string;
  /** Receipts owed whose request did not issue them (older than the request's delay). */
  owed: number;
  /** Of those, how many the sweeper tried and failed. */
  failing: number;
  /** When the oldest was owed from (its entry's time). */
  oldestSince: string;
  /** The error of the last failed attempt, if any. */
  lastError: string | null;
};

export type Dashboard = {
  byState: ByState;
  byWave: { waveId: string; name: string; byState: ByState }[];
  byComarca: { comarca: string | null; total: number; byState: ByState }[];
  progress: { date: string; byState: ByState }[];
  usage: Usage[];
  receiptsOwed: ReceiptsOwed[];
  generatedAt: string;
};

type StateChange = { entityId: string; from: EntityStatus | null; to: EntityStatus; at: Date };

/** What one platform transaction reads of the roll-out. */
export type RolloutFigures = {
  entities: DashboardEntity[];
  waves: { id: string; name: string }[];
  changes: StateChange[];
  receiptsOwed: ReceiptsOwed[];
};

export function emptyByState(): ByState {
  return Object.fromEntries(ENTITY_STATUSES.map((s) => [s, 0])) as ByState;
}

const collator = new Intl.Collator('ca', { sensitivity: 'base', numeric: true });

/**
 * Reads the province's entities (with their wave), the waves and every state change, and records
 * the one audit event of this computation of the figures (`console.figures`), in the console's
 * platform transaction.
 */
export async function readRolloutFigures(
  tx: Tx,
  ctx: PlatformCtx,
  purpose: 'dashboard' | 'csv',
): Promise<RolloutFigures> {
  const rows = await tx
    .selectFrom('tenants as t')
    .leftJoin('rollout_assignments as a', 'a.entity_id', 't.id')
    .leftJoin('rollout_waves as w', 'w.id', 'a.wave_id')
    .select([
      't.id',
      't.dir3',
      't.ine',
      't.name',
      't.kind',
      't.comarca',
      't.population',
      't.status',
      't.created_at',
      'w.id as wave_id',
      'w.name as wave_name',
    ])
    .where('t.kind', 'in', [...PROVINCE_KINDS])
    .execute();
  const entities: DashboardEntity[] = rows
    .map((r) => ({
      id: r.id,
      dir3: r.dir3,
      ine: r.ine,
      name: r.name,
      kind: r.kind,
      comarca: r.comarca,
      population: r.population,
      status: r.status,
      waveId: r.wave_id ?? null,
      waveName: r.wave_name ?? null,
      createdAt: r.created_at,
    }))
    .sort((a, b) => collator.compare(a.name, b.name) || a.dir3.localeCompare(b.dir3));
  const waves = await tx
    .selectFrom('rollout_waves')
    .select(['id', 'name'])
    .orderBy('planned_start')
    .orderBy('name')
    .execute();
  const ids = new Set(entities.map((e) => e.id));
  const changes = (
    await tx
      .selectFrom('entity_state_changes')
      .select(['entity_id', 'from_status', 'to_status', 'at'])
      .orderBy('at')
      .orderBy('id')
      .execute()
  )
    .filter((c) => ids.has(c.entity_id))
    .map((c) => ({ entityId: c.entity_id, from: c.from_status, to: c.to_status, at: c.at }));
  const receiptsOwed = await readReceiptsOwed(tx, ctx.clock.now(), new Map(entities.map((e) => [e.id, e])));
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    ...ctx,
    action: 'console.figures',
    objectType: 'dashboard',
    objectId: null,
    details: { purpose, entities: entities.length, waves: waves.length, stateChanges: changes.length },
  });
  return { entities, waves, changes, receiptsOwed };
}

/**
 * The entities that owe receipts their requests did not issue: rows of registry_receipts_due that
 * the sweeper tried, or that are past the request's delay (a platform table: ids, times and the
 * last error, no entity data). Most owed first.
 */
async function readReceiptsOwed(
  tx: Tx,
  now: Date,
  entities: ReadonlyMap<string, DashboardEntity>,
): Promise<ReceiptsOwed[]> {
  const rows = await tx
    .selectFrom('registry_receipts_due')
    .select((eb) => [
      'tenant_id',
      eb.fn.countAll<string>().as('owed'),
      sql<string>`count(*) filter (where attempts > 0)`.as('failing'),
      eb.fn.min('owed_since').as('oldest'),
      sql<
        string | null
      >`(array_agg(last_error order by due_at desc) filter (where last_error is not null))[1]`.as(
        'last_error',
      ),
    ])
    .where((eb) => eb.or([eb('attempts', '>', 0), eb('due_at', '<=', now)]))
    .groupBy('tenant_id')
    .execute();
  return rows
    .flatMap((r) => {
      const e = entities.get(r.tenant_id);
      if (!e) return [];
      return [
        {
          entityId: e.id,
          dir3: e.dir3,
          name: e.name,
          owed: Number(r.owed),
          failing: Number(r.failing),
          oldestSince: new Date(r.oldest).toISOString(),
          lastError: r.last_error,
        },
      ];
    })
    .sort((a, b) => b.owed - a.owed || collator.compare(a.name, b.name));
}

/** Counts of entities by state. */
export function countByState(entities: readonly { status: EntityStatus }[]): ByState {
  const out = emptyByState();
  for (const e of entities) out[e.status]++;
  return out;
}

/**
 * The daily series: for each Europe/Madrid day from the first state change to today, how many
 * entities were in each state at the end of that day. An entity counts from the day it was
 * created; before its first recorded change it was in that change's `from` state (listed when
 * unknown); an entity with no recorded change has always been in its current state.
 */
export function progressSeries(
  entities: readonly DashboardEntity[],
  changes: readonly StateChange[],
  now: Date,
): { date: string; byState: ByState }[] {
  const today = madridDateOf(now);
  if (changes.length === 0) return [{ date: today, byState: countByState(entities) }];
  const byEntity = new Map<string, { date: string; to: EntityStatus }[]>();
  const initial = new Map<string, EntityStatus>();
  for (const c of changes) {
    let list = byEntity.get(c.entityId);
    if (!list) {
      list = [];
      byEntity.set(c.entityId, list);
      initial.set(c.entityId, c.from ?? 'listed');
    }
    list.push({ date: madridDateOf(c.at), to: c.to });
  }
  const tracks = entities.map((e) => ({
    created: madridDateOf(e.createdAt),
    state: byEntity.has(e.id) ? initial.get(e.id)! : e.status,
    changes: byEntity.get(e.id) ?? [],
    next: 0,
  }));
  const first = madridDateOf(changes[0]!.at);
  const out: { date: string; byState: ByState }[] = [];
  for (let d = first; d <= today; d = addDays(d, 1)) {
    const byState = emptyByState();
    for (const t of tracks) {
      while (t.next < t.changes.length && t.changes[t.next]!.date <= d) t.state = t.changes[t.next++]!.to;
      if (t.created <= d) byState[t.state]++;
    }
    out.push({ date: d, byState });
  }
  return out;
}

/**
 * Case files opened, registry entries and documents signed (a document counts once however many
 * signatures it got) in the last 30 days, per entity, each read in the entity's own tenant
 * transaction.
 */
export async function readUsage(
  db: Database,
  entities: readonly DashboardEntity[],
  now: Date,
): Promise<Usage[]> {
  const since = new Date(now.getTime() - USAGE_DAYS * 86_400_000);
  const out: Usage[] = [];
  for (const e of entities) {
    const counts = await db.tenant(e.id, async (tx) => {
      const expedients = await tx
        .selectFrom('expedients')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('tenant_id', '=', e.id)
        .where('opened_at', '>=', since)
        .where('opened_at', '<=', now)
        .executeTakeFirstOrThrow();
      const entries = await tx
        .selectFrom('registry_entries')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('tenant_id', '=', e.id)
        .where('registered_at', '>=', since)
        .where('registered_at', '<=', now)
        .executeTakeFirstOrThrow();
      const signed = await tx
        .selectFrom('document_signatures')
        .select((eb) => eb.fn.count<string>('document_id').distinct().as('n'))
        .where('tenant_id', '=', e.id)
        .where('created_at', '>=', since)
        .where('created_at', '<=', now)
        .executeTakeFirstOrThrow();
      return {
        expedientsOpened30d: Number(expedients.n),
        registryEntries30d: Number(entries.n),
        documentsSigned30d: Number(signed.n),
      };
    });
    out.push({ entityId: e.id, dir3: e.dir3, name: e.name, ...counts });
  }
  return out;
}

/** The dashboard from what the platform transaction read and the entities' usage. */
export function buildDashboard(figures: RolloutFigures, usage: Usage[], now: Date): Dashboard {
  const { entities, waves, changes } = figures;
  const byWave = waves.map((w) => ({
    waveId: w.id,
    name: w.name,
    byState: countByState(entities.filter((e) => e.waveId === w.id)),
  }));
  const comarques = new Map<string | null, DashboardEntity[]>();
  for (const e of entities) {
    const list = comarques.get(e.comarca) ?? [];
    list.push(e);
    comarques.set(e.comarca, list);
  }
  const byComarca = [...comarques.entries()]
    .sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : collator.compare(a, b)))
    .map(([comarca, list]) => ({ comarca, total: list.length, byState: countByState(list) }));
  return {
    byState: countByState(entities),
    byWave,
    byComarca,
    progress: progressSeries(entities, changes, now),
    usage,
    receiptsOwed: figures.receiptsOwed,
    generatedAt: now.toISOString(),
  };
}

export function usageEntities(entities: readonly DashboardEntity[]): DashboardEntity[] {
  return entities.filter((e) => USAGE_STATUSES.includes(e.status));
}

// ---------------------------------------------------------------------------------------------
// CSV

export const CSV_COLUMNS = [
  'ine',
  'dir3',
  'name',
  'kind',
  'comarca',
  'population',
  'status',
  'wave',
  'expedients_opened_30d',
  'registry_entries_30d',
  'documents_signed_30d',
] as const;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, quotes
 * doubled. Text that a spreadsheet would take for a formula (=, +, -, @, tab, CR first) gets a
 * leading apostrophe: an EMD's name comes from a public form.
 */
export function csvField(v: string | number | null): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The dashboard's CSV: UTF-8 with a byte order mark (Excel), CRLF line ends, one row per entity. */
export function dashboardCsv(entities: readonly DashboardEntity[], usage: readonly Usage[]): string {
  const byId = new Map(usage.map((u) => [u.entityId, u]));
  const lines = [CSV_COLUMNS.join(',')];
  for (const e of entities) {
    const u = byId.get(e.id);
    lines.push(
      [
        e.ine,
        e.dir3,
        e.name,
        e.kind,
        e.comarca,
        e.population,
        e.status,
        e.waveName,
        u ? u.expedientsOpened30d : null,
        u ? u.registryEntries30d : null,
        u ? u.documentsSigned30d : null,
      ]
        .map(csvField)
        .join(','),
    );
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

// ---------------------------------------------------------------------------------------------
// Map

/** The municipal boundaries for the map: data/seed's ICGC file (CC BY 4.0; see data/seed/SOURCES.md), simplified to 150 m by scripts/simplify-boundaries.ts. */
export const BOUNDARIES_FILE = path.join(SEED_DIR, 'lleida_municipis_map.geojson');

type Boundary = { ine: string; name: string; geometryJson: string };
let boundaries: Boundary[] | null = null;

/** The boundaries, parsed once and kept in memory (each geometry as its JSON text, ready to send). */
export function loadBoundaries(file = BOUNDARIES_FILE): Boundary[] {
  if (boundaries && file === BOUNDARIES_FILE) return boundaries;
  const fc = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    features: { properties: { ine: string; nom: string }; geometry: unknown }[];
  };
  const list = fc.features
    .map((f) => ({ ine: f.properties.ine, name: f.properties.nom, geometryJson: JSON.stringify(f.geometry) }))
    .sort((a, b) => a.ine.localeCompare(b.ine));
  if (file === BOUNDARIES_FILE) boundaries = list;
  return list;
}

/**
 * The map as GeoJSON text: one feature per municipality with its INE code, the entity's name and
 * its state (null where no entity has that INE code, e.g. before the province was imported).
 */
export function mapJson(
  entities: readonly { ine: string | null; name: string; status: EntityStatus }[],
): string {
  const byIne = new Map<string, { name: string; status: EntityStatus }>();
  for (const e of entities) if (e.ine) byIne.set(e.ine, e);
  const features = loadBoundaries().map((b) => {
    const e = byIne.get(b.ine);
    const properties = { ine: b.ine, name: e?.name ?? b.name, status: e?.status ?? null };
    return `{"type":"Feature","properties":${JSON.stringify(properties)},"geometry":${b.geometryJson}}`;
  });
  return `{"type":"FeatureCollection","features":[${features.join(',')}]}`;
}
