import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * The Diputació's roll-out (issue 6; DOMAIN.md "The Diputació's roll-out"). All platform tables:
 * they belong to the Diputació's operation of the service, not to one entity's administration,
 * and the console reads them across entities. An entity's own data never goes here.
 *
 * - `rollout_calls`: a call for enrolment (convocatòria) with its deadline; a request filed after
 *   `closes_on` (Europe/Madrid) belongs to the next call.
 * - `rollout_waves`: a wave of a call: planned dates, whether certification is required, and the
 *   number of entities it takes (`capacity`, the K of the roll-out rule).
 * - `rollout_assignments`: which wave an entity is in (at most one), in the order the operator left.
 * - `enrolment_requests`: an entity's request to join (the alta). The files (act of adhesion,
 *   signed request, signed data processing agreement) are blobs, also attachments of the input
 *   entry in the Diputació's registry. An EMD not yet known names its parent and DIR3;
 *   `entity_id` is set when the request is accepted (the EMD's tenant is created then).
 * - `entity_state_changes`: every lifecycle change of an entity, dated and attributed (the tenant
 *   row keeps the current state).
 * - `golive_checklist`: per entity, each go-live item as a document (blob) or a recorded fact; the
 *   certification gate's bypass carries its reason.
 * - `support_grants`: a support technician's time-limited access to one entity, asked with a
 *   reason, granted or denied by the entity's administrator, revocable.
 * - `user_invitations`: one-time links (hash only) that let a new user set a password and enrol
 *   TOTP.
 */
const PLATFORM_GRANTS: Record<string, string> = {
  rollout_calls: 'SELECT, INSERT, UPDATE',
  rollout_waves: 'SELECT, INSERT, UPDATE',
  rollout_assignments: 'SELECT, INSERT, UPDATE, DELETE',
  enrolment_requests: 'SELECT, INSERT, UPDATE',
  entity_state_changes: 'SELECT, INSERT',
  golive_checklist: 'SELECT, INSERT, UPDATE',
  support_grants: 'SELECT, INSERT, UPDATE',
  user_invitations: 'SELECT, INSERT, UPDATE',
};

export function rolloutMigration(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        CREATE TABLE rollout_calls (
          id uuid PRIMARY KEY,
          name text NOT NULL UNIQUE,
          opens_on date NOT NULL,
          closes_on date NOT NULL,
          created_at timestamptz NOT NULL,
          created_by text NOT NULL,
          CHECK (closes_on >= opens_on)
        );

        CREATE TABLE rollout_waves (
          id uuid PRIMARY KEY,
          call_id uuid NOT NULL REFERENCES rollout_calls(id),
          name text NOT NULL UNIQUE,
          planned_start date NOT NULL,
          planned_end date NOT NULL,
          requires_certification boolean NOT NULL,
          capacity integer CHECK (capacity > 0),
          created_at timestamptz NOT NULL,
          created_by text NOT NULL,
          CHECK (planned_end >= planned_start)
        );

        CREATE TABLE rollout_assignments (
          entity_id uuid PRIMARY KEY REFERENCES tenants(id),
          wave_id uuid NOT NULL REFERENCES rollout_waves(id),
          position integer NOT NULL,
          assigned_at timestamptz NOT NULL,
          assigned_by text NOT NULL
        );
        CREATE INDEX rollout_assignments_wave ON rollout_assignments (wave_id, position);

        CREATE TABLE enrolment_requests (
          id uuid PRIMARY KEY,
          entity_id uuid REFERENCES tenants(id),
          entity_kind text NOT NULL CHECK (entity_kind IN ('ajuntament','emd')),
          emd_name text,
          emd_dir3 text,
          parent_entity_id uuid REFERENCES tenants(id),
          mayor_name text NOT NULL,
          mayor_email text NOT NULL,
          mayor_phone text,
          secretary_name text NOT NULL,
          secretary_email text NOT NULL,
          secretary_phone text,
          population integer NOT NULL CHECK (population >= 0),
          current_provider text,
          adhesion_act_kind text NOT NULL CHECK (adhesion_act_kind IN ('ple_resolution','mayor_decree')),
          adhesion_act_date date NOT NULL,
          files jsonb NOT NULL,
          request_signature jsonb NOT NULL,
          language text NOT NULL,
          status text NOT NULL CHECK (status IN ('submitted','corrections_requested','accepted','rejected')),
          status_reason text,
          call_id uuid REFERENCES rollout_calls(id),
          registry_tenant_id uuid,
          registry_entry_id uuid,
          registry_number text,
          filed_by text NOT NULL,
          submitted_at timestamptz NOT NULL,
          decided_at timestamptz,
          decided_by text,
          updated_at timestamptz NOT NULL,
          CHECK ((entity_kind = 'ajuntament') = (emd_name IS NULL)),
          CHECK (entity_kind = 'ajuntament' OR (emd_dir3 IS NOT NULL AND parent_entity_id IS NOT NULL)),
          CHECK (status NOT IN ('rejected','corrections_requested') OR status_reason IS NOT NULL)
        );
        CREATE INDEX enrolment_requests_status ON enrolment_requests (status, submitted_at);
        CREATE INDEX enrolment_requests_entity ON enrolment_requests (entity_id);

        CREATE TABLE entity_state_changes (
          id uuid PRIMARY KEY,
          entity_id uuid NOT NULL REFERENCES tenants(id),
          from_status text,
          to_status text NOT NULL,
          at timestamptz NOT NULL,
          actor_id uuid,
          actor_label text NOT NULL,
          reason text
        );
        CREATE INDEX entity_state_changes_entity ON entity_state_changes (entity_id, at);
        CREATE INDEX entity_state_changes_at ON entity_state_changes (at);

        CREATE TABLE golive_checklist (
          entity_id uuid NOT NULL REFERENCES tenants(id),
          item text NOT NULL,
          kind text NOT NULL CHECK (kind IN ('document','fact','bypass')),
          document_sha256 text,
          document_name text,
          fact text,
          reference text,
          bypass_reason text,
          recorded_at timestamptz NOT NULL,
          recorded_by text NOT NULL,
          PRIMARY KEY (entity_id, item),
          CHECK ((kind = 'document') = (document_sha256 IS NOT NULL)),
          CHECK ((kind = 'bypass') = (bypass_reason IS NOT NULL))
        );

        CREATE TABLE support_grants (
          id uuid PRIMARY KEY,
          entity_id uuid NOT NULL REFERENCES tenants(id),
          technician_id uuid NOT NULL REFERENCES users(id),
          reason text NOT NULL,
          duration_hours integer NOT NULL CHECK (duration_hours > 0),
          roles text[] NOT NULL,
          status text NOT NULL CHECK (status IN ('requested','granted','denied','revoked')),
          requested_at timestamptz NOT NULL,
          decided_at timestamptz,
          decided_by uuid REFERENCES users(id),
          decision_note text,
          starts_at timestamptz,
          ends_at timestamptz,
          revoked_at timestamptz,
          revoked_by uuid REFERENCES users(id),
          CHECK (status NOT IN ('granted','revoked') OR (starts_at IS NOT NULL AND ends_at IS NOT NULL))
        );
        CREATE INDEX support_grants_entity ON support_grants (entity_id, status);
        CREATE INDEX support_grants_technician ON support_grants (technician_id, status);

        CREATE TABLE user_invitations (
          id uuid PRIMARY KEY,
          user_id uuid NOT NULL REFERENCES users(id),
          entity_id uuid REFERENCES tenants(id),
          token_hash text NOT NULL UNIQUE,
          created_at timestamptz NOT NULL,
          expires_at timestamptz NOT NULL,
          used_at timestamptz
        );
        CREATE INDEX user_invitations_user ON user_invitations (user_id);
      `,
      );
      await grantAccess(db, ctx.appRole, { platform: PLATFORM_GRANTS });
    },
  };
}
