import { sql } from 'kysely';
import type { Tx } from './database.ts';

/**
 * Takes the next number of a per-tenant, per-series, per-year counter in the caller's
 * transaction (ARCHITECTURE data rule 2): the row lock is held until commit, so numbers have no
 * gaps and no repeats across API processes. Take it before the audit head (lock order).
 */
export async function nextNumber(tx: Tx, tenantId: string, series: string, year: number): Promise<number> {
  return (await nextNumberAt(tx, tenantId, series, year)).value;
}

/**
 * nextNumber, and the database's clock_timestamp() read in the same statement after the counter's
 * row lock is taken: a later number never gets an earlier time, across API processes, and the
 * number and its time cost one round trip.
 */
export async function nextNumberAt(
  tx: Tx,
  tenantId: string,
  series: string,
  year: number,
): Promise<{ value: number; at: Date }> {
  const r = await sql<{ value: number; at: Date | string }>`
    INSERT INTO counters (tenant_id, series, year, value) VALUES (${tenantId}, ${series}, ${year}, 1)
    ON CONFLICT (tenant_id, series, year) DO UPDATE SET value = counters.value + 1
    RETURNING value, clock_timestamp() AS at`.execute(tx);
  const row = r.rows[0]!;
  return { value: Number(row.value), at: new Date(row.at) };
}

/** The year in Europe/Madrid of an instant: numbering years are Madrid years (DOMAIN: Registry). */
const madridYearFormat = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Madrid', year: 'numeric' });
export function madridYear(at: Date): number {
  return Number(madridYearFormat.format(at));
}
