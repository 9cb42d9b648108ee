import { sql } from 'kysely';
import type { Tx } from '../db/database.ts';

/** A table of the public schema as the catalogue describes it. */
export type TableInfo = {
  name: string;
  /** Every column, in table order. */
  columns: string[];
  /** Columns an INSERT may write (not generated). */
  insertable: string[];
  /** True when a column is GENERATED ALWAYS AS IDENTITY (the insert must override it). */
  identityAlways: boolean;
  /** Primary-key columns in key order; empty when the table has none. */
  primaryKey: string[];
  /** Other tables this one references with a foreign key. */
  references: string[];
  /** True when a foreign key points back into the same table (e.g. a parent row). */
  selfReferencing: boolean;
};

const IDENT = /^[a-z_][a-z0-9_$]*$/;

/**
 * The tables to back up: every ordinary or partitioned table of the `public` schema except the
 * migrator's bookkeeping (`kysely_migration*`) and the versions of cached data (`calendar_version`,
 * `cache_versions`: keys their triggers renew as the restore loads the data), ordered so that referenced tables come first.
 * Read from the catalogue, so tables added by later migrations are covered without a change here.
 */
export async function listTables(tx: Tx): Promise<TableInfo[]> {
  const cols = await sql<{ table: string; column: string; generated: string; identity: string }>`
    select c.relname as table, a.attname as column, a.attgenerated::text as generated, a.attidentity::text as identity
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
      and c.relname not like 'kysely\\_migration%' and c.relname not in ('calendar_version', 'cache_versions')
    order by c.relname, a.attnum`.execute(tx);
  const pks = await sql<{ table: string; column: string }>`
    select c.relname as table, a.attname as column
    from pg_index i
    join pg_class c on c.oid = i.indrelid
    join pg_namespace n on n.oid = c.relnamespace
    cross join lateral unnest(i.indkey::int2[]) with ordinality as k(attnum, pos)
    join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum
    where n.nspname = 'public' and i.indisprimary
    order by c.relname, k.pos`.execute(tx);
  const fks = await sql<{ table: string; referenced: string }>`
    select distinct c.relname as table, r.relname as referenced
    from pg_constraint k
    join pg_class c on c.oid = k.conrelid
    join pg_class r on r.oid = k.confrelid
    join pg_namespace n on n.oid = c.relnamespace
    join pg_namespace rn on rn.oid = r.relnamespace
    where k.contype = 'f' and n.nspname = 'public' and rn.nspname = 'public'`.execute(tx);

  const tables = new Map<string, TableInfo>();
  for (const c of cols.rows) {
    if (!IDENT.test(c.table) || !IDENT.test(c.column)) {
      throw new Error(`unsupported identifier in the schema: ${c.table}.${c.column}`);
    }
    let t = tables.get(c.table);
    if (!t) {
      t = {
        name: c.table,
        columns: [],
        insertable: [],
        identityAlways: false,
        primaryKey: [],
        references: [],
        selfReferencing: false,
      };
      tables.set(c.table, t);
    }
    t.columns.push(c.column);
    if (c.generated === '') t.insertable.push(c.column);
    if (c.identity === 'a') t.identityAlways = true;
  }
  for (const k of pks.rows) tables.get(k.table)?.primaryKey.push(k.column);
  for (const f of fks.rows) {
    const t = tables.get(f.table);
    if (!t) continue;
    if (f.referenced === f.table) t.selfReferencing = true;
    else if (tables.has(f.referenced)) t.references.push(f.referenced);
  }
  return orderByDependencies([...tables.values()]);
}

/**
 * Topological order: every table after the tables it references; ties by name, so the order is
 * stable. Tables in a reference cycle (which only deferrable constraints could restore) keep
 * their name order after everything else.
 */
export function orderByDependencies<T extends { name: string; references: string[] }>(tables: T[]): T[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const pending = new Map(
    tables.map((t) => [t.name, new Set(t.references.filter((r) => r !== t.name && byName.has(r)))]),
  );
  const out: T[] = [];
  while (pending.size > 0) {
    const ready = [...pending].filter(([, deps]) => deps.size === 0).map(([n]) => n);
    if (ready.length === 0) {
      for (const n of [...pending.keys()].sort()) out.push(byName.get(n)!);
      break;
    }
    ready.sort();
    for (const n of ready) {
      out.push(byName.get(n)!);
      pending.delete(n);
      for (const deps of pending.values()) deps.delete(n);
    }
  }
  return out;
}

/** Sequences of the public schema with their current state (not transactional: may run ahead). */
export async function listSequences(
  tx: Tx,
): Promise<{ name: string; lastValue: string | null; isCalled: boolean }[]> {
  const r = await sql<{ name: string; last_value: string | null }>`
    select sequencename as name, last_value::text as last_value
    from pg_sequences where schemaname = 'public' order by sequencename`.execute(tx);
  return r.rows.map((s) => {
    if (!IDENT.test(s.name)) throw new Error(`unsupported identifier in the schema: ${s.name}`);
    return { name: s.name, lastValue: s.last_value, isCalled: s.last_value !== null };
  });
}

/** Names of the applied migrations, in order. */
export async function appliedMigrations(tx: Tx): Promise<string[]> {
  const r = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(tx);
  return r.rows.map((x) => x.name);
}
