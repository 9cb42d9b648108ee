import type { ColumnType } from 'kysely';
import type { Timestamp } from '../schema.ts';

/** A civil date column (`date`), written and read as `YYYY-MM-DD` (read through to_char). */
type CivilDateColumn = ColumnType<string, string, string>;

/** A publication of the notice board (migration 0021-board). Never deleted. */
export type BoardPublicationsTable = {
  tenant_id: string;
  id: string;
  expedient_id: string;
  /** The case file's number (its public reference), as it was when published. */
  expedient_number: string;
  document_id: string;
  /** As staff wrote them. */
  title: string;
  summary: string;
  /** As the public sees them: personal identifiers masked (LOPDGDD AP7). */
  public_title: string;
  public_summary: string;
  start_date: CivilDateColumn;
  /** The last day: visible until 24:00 of it (Europe/Madrid). */
  end_date: CivilDateColumn;
  term_amount: number | null;
  term_unit: 'business_days' | 'calendar_days' | null;
  visible_from: Timestamp;
  visible_until: Timestamp;
  personal_data_reviewed: boolean;
  created_by: string;
  created_at: Timestamp;
  withdrawn_at: Timestamp | null;
  withdrawn_by: string | null;
  withdrawal_reason: string | null;
  ended_at: Timestamp | null;
  certificate_document_id: string | null;
  certificate_csv: string | null;
  certificate_issued_at: Timestamp | null;
  certificate_incorporated: boolean | null;
};

/** A technical incident of the seu (RD 203/2021; LPACAP 32.4). */
export type BoardIncidentsTable = {
  tenant_id: string;
  id: string;
  started_at: Timestamp;
  ended_at: Timestamp | null;
  description: string;
  /** The seu was not available (an outage). */
  outage: boolean;
  extension_decision: string | null;
  extension_new_date: ColumnType<string | null, string | null, string | null>;
  extension_days: number | null;
  extension_recorded_at: Timestamp | null;
  created_by: string;
  created_at: Timestamp;
};

/** Platform table: publications whose end the sweeper still has to process. */
export type BoardDueTable = { tenant_id: string; publication_id: string; due_at: Timestamp };

/** Tables of the board module (issue 5). Added to DB in ../schema.ts; platform tables also go on PLATFORM_TABLES there. */
export type BoardTables = {
  board_publications: BoardPublicationsTable;
  board_incidents: BoardIncidentsTable;
  board_due: BoardDueTable;
};
