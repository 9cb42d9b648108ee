import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * The business-day calendar (Ley 39/2015 art. 30). Holidays are data:
 *
 * - platform tables (shared by every entity, no tenant_id, on the allowlist): the national, Catalan
 *   and Val d'Aran days by date and scope, the local days of each municipality by INE code, which
 *   years of each are complete, and which shipped seed files have been loaded. They are filled from
 *   data/seed on first use (not here: a restore needs an empty, migrated database) and corrected by
 *   operators; a correction withdraws a row instead of deleting it, so re-seeding never brings it back.
 * - tenant tables (row-level security): an entity's own local days and corrections (append-only: the
 *   latest row for a date wins) and its declarations that a year's local calendar is complete.
 *
 * `calendar_regional_days.non_business = false` is a Val d'Aran row saying that a Catalan holiday is
 * not one in Aran (the regional substitution by 17 June, Festa d'Aran). No quote characters in the SQL
 * below: the script splitter reads them as string delimiters.
 */
const TENANT_TABLES: Record<string, string> = {
  calendar_entity_days: 'SELECT, INSERT',
  calendar_entity_years: 'SELECT, INSERT, UPDATE',
};

const PLATFORM_GRANTS: Record<string, string> = {
  calendar_regional_days: 'SELECT, INSERT, UPDATE',
  calendar_regional_years: 'SELECT, INSERT, UPDATE',
  calendar_local_days: 'SELECT, INSERT, UPDATE',
  calendar_local_years: 'SELECT, INSERT, UPDATE',
  calendar_seeds: 'SELECT, INSERT',
};

export function calendar(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        CREATE TABLE calendar_regional_days (
          date date NOT NULL,
          scope text NOT NULL CHECK (scope IN ('national','catalonia','aran')),
          name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
          non_business boolean NOT NULL,
          source text NOT NULL,
          created_at timestamptz NOT NULL,
          withdrawn_at timestamptz,
          withdrawn_reason text,
          PRIMARY KEY (date, scope),
          CHECK (non_business OR scope = 'aran'),
          CHECK ((withdrawn_at IS NULL) = (withdrawn_reason IS NULL))
        );
        CREATE TABLE calendar_regional_years (
          year integer NOT NULL CHECK (year BETWEEN 1900 AND 2999),
          scope text NOT NULL CHECK (scope IN ('catalonia','aran')),
          complete boolean NOT NULL,
          source text NOT NULL,
          note text,
          updated_at timestamptz NOT NULL,
          PRIMARY KEY (year, scope)
        );
        CREATE TABLE calendar_local_days (
          ine text NOT NULL CHECK (ine ~ '^[0-9]{5}$'),
          date date NOT NULL,
          name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
          source text NOT NULL,
          created_at timestamptz NOT NULL,
          withdrawn_at timestamptz,
          withdrawn_reason text,
          PRIMARY KEY (ine, date),
          CHECK ((withdrawn_at IS NULL) = (withdrawn_reason IS NULL))
        );
        CREATE TABLE calendar_local_years (
          ine text NOT NULL CHECK (ine ~ '^[0-9]{5}$'),
          year integer NOT NULL CHECK (year BETWEEN 1900 AND 2999),
          complete boolean NOT NULL,
          source text NOT NULL,
          note text,
          updated_at timestamptz NOT NULL,
          PRIMARY KEY (ine, year)
        );
        CREATE TABLE calendar_seeds (
          sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
          files text[] NOT NULL,
          applied_at timestamptz NOT NULL
        );

        CREATE TABLE calendar_entity_days (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          id uuid NOT NULL,
          date date NOT NULL,
          action text NOT NULL CHECK (action IN ('add','remove')),
          name text CHECK (length(name) BETWEEN 1 AND 200),
          reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
          actor_id uuid,
          actor_label text NOT NULL,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id),
          CHECK ((action = 'add') = (name IS NOT NULL))
        );
        CREATE INDEX calendar_entity_days_date ON calendar_entity_days (tenant_id, date, created_at);
        CREATE TABLE calendar_entity_years (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          year integer NOT NULL CHECK (year BETWEEN 1900 AND 2999),
          local_complete boolean NOT NULL,
          reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
          actor_id uuid,
          actor_label text NOT NULL,
          updated_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, year)
        );
      `,
      );

      await grantAccess(db, ctx.appRole, { platform: PLATFORM_GRANTS, tenant: TENANT_TABLES });
    },
  };
}
