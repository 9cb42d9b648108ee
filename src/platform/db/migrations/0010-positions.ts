import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * An entity's positions (càrrecs), who holds them when, their absences and the powers delegated
 * to them (src/modules/positions):
 *
 * - `positions`: alcalde/president, tinent d'alcalde, secretari(-interventor), interventor,
 *   tresorer, regidor… with an optional substitute (a user, or another position: the first deputy
 *   mayor for the mayor, ROF art. 47).
 * - `position_holders`: who holds a position from one civil date (Europe/Madrid) to another (both
 *   included; no end = until the next holder). Never two holders on one day (the service checks
 *   under a lock on the position row); a new holder ends the previous one, which is the only update.
 * - `position_absences`: the holder's absences (from–to, reason), during which the substitute acts
 *   "per substitució".
 * - `position_delegations`: the areas and powers delegated to a position by a decree of the mayor
 *   (LBRL art. 21.3, 23.4; ROF art. 43–44), with the decree's reference and date.
 */
const TENANT_TABLES: Record<string, string> = {
  // UPDATE only so that SELECT … FOR UPDATE can lock a position row (it needs the privilege); the
  // trigger positions_immutable refuses every actual update.
  positions: 'SELECT, INSERT, UPDATE',
  position_holders: 'SELECT, INSERT, UPDATE',
  position_absences: 'SELECT, INSERT',
  position_delegations: 'SELECT, INSERT',
};

export function positions(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        CREATE TABLE positions (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          id uuid NOT NULL,
          kind text NOT NULL CHECK (kind IN ('mayor','deputy_mayor','secretary','secretary_intervenor','intervenor','treasurer','councillor','other')),
          title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
          area text CHECK (length(area) BETWEEN 1 AND 200),
          deputy_order smallint CHECK (deputy_order BETWEEN 1 AND 20),
          substitute_user_id uuid REFERENCES users(id),
          substitute_position_id uuid,
          created_by text NOT NULL,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id),
          UNIQUE (tenant_id, title),
          FOREIGN KEY (tenant_id, substitute_position_id) REFERENCES positions(tenant_id, id),
          CHECK (substitute_user_id IS NULL OR substitute_position_id IS NULL),
          CHECK (substitute_position_id IS NULL OR substitute_position_id <> id),
          CHECK ((kind = 'deputy_mayor') = (deputy_order IS NOT NULL))
        );
        CREATE UNIQUE INDEX positions_one_mayor ON positions (tenant_id) WHERE kind = 'mayor';
        CREATE UNIQUE INDEX positions_deputy_order ON positions (tenant_id, deputy_order) WHERE kind = 'deputy_mayor';
        CREATE TABLE position_holders (
          tenant_id uuid NOT NULL,
          id uuid NOT NULL,
          position_id uuid NOT NULL,
          user_id uuid NOT NULL REFERENCES users(id),
          valid_from date NOT NULL,
          valid_to date,
          appointment_reference text CHECK (length(appointment_reference) BETWEEN 1 AND 200),
          created_by text NOT NULL,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id),
          FOREIGN KEY (tenant_id, position_id) REFERENCES positions(tenant_id, id),
          CHECK (valid_to IS NULL OR valid_to >= valid_from)
        );
        CREATE INDEX position_holders_position ON position_holders (tenant_id, position_id, valid_from);
        CREATE INDEX position_holders_user ON position_holders (tenant_id, user_id);
        CREATE TABLE position_absences (
          tenant_id uuid NOT NULL,
          id uuid NOT NULL,
          position_id uuid NOT NULL,
          date_from date NOT NULL,
          date_to date NOT NULL,
          reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
          created_by text NOT NULL,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id),
          FOREIGN KEY (tenant_id, position_id) REFERENCES positions(tenant_id, id),
          CHECK (date_to >= date_from)
        );
        CREATE INDEX position_absences_position ON position_absences (tenant_id, position_id, date_from);
        CREATE TABLE position_delegations (
          tenant_id uuid NOT NULL,
          id uuid NOT NULL,
          position_id uuid NOT NULL,
          areas text[] NOT NULL CHECK (cardinality(areas) BETWEEN 1 AND 50),
          powers text NOT NULL CHECK (length(powers) BETWEEN 1 AND 4000),
          decree_reference text NOT NULL CHECK (length(decree_reference) BETWEEN 1 AND 200),
          decree_date date NOT NULL,
          valid_from date NOT NULL,
          valid_to date,
          created_by text NOT NULL,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id),
          FOREIGN KEY (tenant_id, position_id) REFERENCES positions(tenant_id, id),
          CHECK (valid_to IS NULL OR valid_to >= valid_from),
          CHECK (valid_from >= decree_date)
        );
        CREATE INDEX position_delegations_position ON position_delegations (tenant_id, position_id, valid_from);
        -- A holder row changes only by being ended (valid_to set or brought forward), never otherwise.
        CREATE FUNCTION lligall_position_holders_end_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF (to_jsonb(NEW) - 'valid_to') <> (to_jsonb(OLD) - 'valid_to')
             OR NEW.valid_to IS NULL
             OR (OLD.valid_to IS NOT NULL AND NEW.valid_to > OLD.valid_to) THEN
            RAISE EXCEPTION 'a position holder can only be ended earlier' USING ERRCODE = '55000';
          END IF;
          RETURN NEW;
        END $$;
        CREATE FUNCTION lligall_positions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'positions are never changed or deleted' USING ERRCODE = '55000';
        END $$;
        CREATE TRIGGER positions_immutable BEFORE UPDATE OR DELETE ON positions
          FOR EACH ROW EXECUTE FUNCTION lligall_positions_immutable();
        CREATE TRIGGER position_holders_end_only BEFORE UPDATE ON position_holders
          FOR EACH ROW EXECUTE FUNCTION lligall_position_holders_end_only();
      `,
      );
      await grantAccess(db, ctx.appRole, { tenant: TENANT_TABLES });
    },
  };
}
