import type { ColumnType } from 'kysely';
import type { Timestamp } from '../schema.ts';

/** One row per entity: what its administrator entered for the seu to publish (migration 0022). */
export type SeuSettingsTable = {
  tenant_id: string;
  /** The settings as validated by the route (SeuSettings in src/modules/seu/seu.model.ts); jsonb. */
  data: ColumnType<unknown, string, string>;
  updated_at: Timestamp;
  updated_by: string | null;
};

/** Tables of the seu module (issue 5). Added to DB in ../schema.ts. */
export type SeuTables = { seu_settings: SeuSettingsTable };
