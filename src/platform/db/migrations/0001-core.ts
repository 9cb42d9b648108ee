import { type Kysely, sql } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/** Tables with tenant_id, row-level security forced, and what the application role may do on them. */
const TENANT_TABLES: Record<string, string> = {
  units: 'SELECT, INSERT, UPDATE, DELETE',
  unit_members: 'SELECT, INSERT, DELETE',
  parties: 'SELECT, INSERT, UPDATE',
  counters: 'SELECT, INSERT, UPDATE',
  expedients: 'SELECT, INSERT, UPDATE',
  expedient_parties: 'SELECT, INSERT, DELETE',
  expedient_access: 'SELECT, INSERT, DELETE',
  // Incorporated documents are immutable (LPACAP art. 26, NTI): the trigger below refuses UPDATE and DELETE.
  documents: 'SELECT, INSERT, UPDATE, DELETE',
  // The index and the audit log are append-only for the application.
  index_entries: 'SELECT, INSERT',
  audit_events: 'SELECT, INSERT',
  audit_heads: 'SELECT, INSERT, UPDATE',
};

const PLATFORM_GRANTS: Record<string, string> = {
  tenants: 'SELECT, INSERT, UPDATE',
  users: 'SELECT, INSERT, UPDATE',
  memberships: 'SELECT, INSERT, UPDATE, DELETE',
  sessions: 'SELECT, INSERT, UPDATE, DELETE',
  api_tokens: 'SELECT, INSERT, UPDATE',
};

export function core(ctx: MigrationContext) {
  const app = sql.id(ctx.appRole);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await sql`DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${sql.lit(ctx.appRole)}) THEN
          CREATE ROLE ${app} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
        END IF;
      END $$`.execute(db);
      await sql`GRANT USAGE ON SCHEMA public TO ${app}`.execute(db);

      await execScript(
        db,
        `
        CREATE TABLE tenants (
          id uuid PRIMARY KEY,
          kind text NOT NULL CHECK (kind IN ('ajuntament','emd','consell_comarcal','diputacio')),
          name text NOT NULL,
          dir3 text NOT NULL UNIQUE CHECK (dir3 ~ '^[A-Z0-9]{9}$'),
          ine text UNIQUE,
          slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
          parent_id uuid REFERENCES tenants(id),
          comarca text,
          population integer,
          language text NOT NULL DEFAULT 'ca',
          status text NOT NULL DEFAULT 'listed'
            CHECK (status IN ('listed','requested','scheduled','provisioning','pilot','live','suspended')),
          demo boolean NOT NULL DEFAULT false,
          created_at timestamptz NOT NULL,
          updated_at timestamptz NOT NULL
        );
        CREATE TABLE users (
          id uuid PRIMARY KEY,
          username text NOT NULL UNIQUE,
          name text NOT NULL,
          email text,
          password_hash text NOT NULL,
          platform_roles text[] NOT NULL DEFAULT '{}',
          totp_secret text,
          totp_enabled_at timestamptz,
          totp_last_step bigint,
          failed_logins integer NOT NULL DEFAULT 0,
          lock_count integer NOT NULL DEFAULT 0,
          locked_until timestamptz,
          disabled boolean NOT NULL DEFAULT false,
          demo boolean NOT NULL DEFAULT false,
          created_at timestamptz NOT NULL
        );
        CREATE TABLE memberships (
          user_id uuid NOT NULL REFERENCES users(id),
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          roles text[] NOT NULL,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (user_id, tenant_id)
        );
        CREATE TABLE sessions (
          id text PRIMARY KEY,
          user_id uuid NOT NULL REFERENCES users(id),
          mfa_satisfied boolean NOT NULL,
          created_at timestamptz NOT NULL,
          last_seen_at timestamptz NOT NULL,
          expires_at timestamptz NOT NULL,
          ip text,
          user_agent text
        );
        CREATE TABLE api_tokens (
          id uuid PRIMARY KEY,
          user_id uuid NOT NULL REFERENCES users(id),
          token_hash text NOT NULL UNIQUE,
          label text,
          created_at timestamptz NOT NULL,
          last_used_at timestamptz,
          revoked_at timestamptz
        );

        CREATE TABLE units (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          id uuid NOT NULL,
          name text NOT NULL,
          dir3 text,
          kind text NOT NULL CHECK (kind IN ('organ','unit','office')),
          created_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id)
        );
        CREATE TABLE unit_members (
          tenant_id uuid NOT NULL,
          unit_id uuid NOT NULL,
          user_id uuid NOT NULL REFERENCES users(id),
          PRIMARY KEY (tenant_id, unit_id, user_id),
          FOREIGN KEY (tenant_id, unit_id) REFERENCES units(tenant_id, id)
        );
        CREATE TABLE parties (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          id uuid NOT NULL,
          identifier text NOT NULL,
          identifier_type text NOT NULL CHECK (identifier_type IN ('nif','nie','cif','passport','dir3','other')),
          kind text NOT NULL CHECK (kind IN ('person','organisation')),
          name text NOT NULL,
          surname1 text,
          surname2 text,
          email text,
          phone text,
          address jsonb,
          residence_ine text,
          language text NOT NULL DEFAULT 'ca',
          e_notification text NOT NULL CHECK (e_notification IN ('compulsory','chosen','none')),
          e_notification_chosen_at timestamptz,
          e_notification_evidence text,
          preferred_channel text NOT NULL CHECK (preferred_channel IN ('electronic','paper')),
          created_at timestamptz NOT NULL,
          updated_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id),
          UNIQUE (tenant_id, identifier)
        );
        CREATE TABLE counters (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          series text NOT NULL,
          year integer NOT NULL,
          value integer NOT NULL,
          PRIMARY KEY (tenant_id, series, year)
        );
        CREATE TABLE expedients (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          id uuid NOT NULL,
          number text NOT NULL,
          year integer NOT NULL,
          seq integer NOT NULL,
          eni_id text NOT NULL CHECK (length(eni_id) <= 52),
          title text NOT NULL,
          classification text,
          unit_id uuid,
          access_level text NOT NULL CHECK (access_level IN ('public','internal','restricted')),
          state text NOT NULL CHECK (state IN ('E01','E02','E03')),
          opened_at timestamptz NOT NULL,
          closed_at timestamptz,
          created_by uuid,
          updated_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id),
          UNIQUE (tenant_id, year, seq),
          UNIQUE (tenant_id, eni_id),
          FOREIGN KEY (tenant_id, unit_id) REFERENCES units(tenant_id, id)
        );
        CREATE INDEX expedients_list ON expedients (tenant_id, opened_at DESC, id DESC);
        CREATE INDEX expedients_state ON expedients (tenant_id, state, year);
        CREATE TABLE expedient_parties (
          tenant_id uuid NOT NULL,
          expedient_id uuid NOT NULL,
          party_id uuid NOT NULL,
          role text NOT NULL CHECK (role IN ('applicant','representative','interested')),
          added_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, expedient_id, party_id, role),
          FOREIGN KEY (tenant_id, expedient_id) REFERENCES expedients(tenant_id, id),
          FOREIGN KEY (tenant_id, party_id) REFERENCES parties(tenant_id, id)
        );
        CREATE INDEX expedient_parties_party ON expedient_parties (tenant_id, party_id);
        CREATE TABLE expedient_access (
          tenant_id uuid NOT NULL,
          id uuid NOT NULL,
          expedient_id uuid NOT NULL,
          user_id uuid REFERENCES users(id),
          unit_id uuid,
          granted_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id),
          CHECK ((user_id IS NULL) <> (unit_id IS NULL)),
          FOREIGN KEY (tenant_id, expedient_id) REFERENCES expedients(tenant_id, id),
          FOREIGN KEY (tenant_id, unit_id) REFERENCES units(tenant_id, id)
        );
        CREATE INDEX expedient_access_exp ON expedient_access (tenant_id, expedient_id);
        CREATE TABLE documents (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          id uuid NOT NULL,
          eni_id text NOT NULL CHECK (length(eni_id) <= 52),
          title text NOT NULL,
          file_name text NOT NULL,
          mime_type text NOT NULL,
          size_bytes bigint NOT NULL,
          sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
          document_type text NOT NULL,
          elaboration_state text NOT NULL,
          original_eni_id text,
          origin text NOT NULL CHECK (origin IN ('administration','citizen')),
          captured_at timestamptz NOT NULL,
          organ text[] NOT NULL,
          format text NOT NULL,
          supersedes_id uuid,
          incorporated_at timestamptz,
          created_by uuid,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id),
          UNIQUE (tenant_id, eni_id),
          FOREIGN KEY (tenant_id, supersedes_id) REFERENCES documents(tenant_id, id)
        );
        CREATE INDEX documents_sha ON documents (sha256);
        CREATE TABLE index_entries (
          tenant_id uuid NOT NULL,
          expedient_id uuid NOT NULL,
          position integer NOT NULL,
          document_id uuid NOT NULL,
          incorporated_at timestamptz NOT NULL,
          hash_function text NOT NULL,
          PRIMARY KEY (tenant_id, expedient_id, position),
          UNIQUE (tenant_id, expedient_id, document_id),
          FOREIGN KEY (tenant_id, expedient_id) REFERENCES expedients(tenant_id, id),
          FOREIGN KEY (tenant_id, document_id) REFERENCES documents(tenant_id, id)
        );
        CREATE INDEX index_entries_doc ON index_entries (tenant_id, document_id);
        CREATE TABLE audit_events (
          tenant_id uuid NOT NULL,
          seq bigint NOT NULL,
          id uuid NOT NULL,
          at timestamptz NOT NULL,
          actor_id uuid,
          actor_label text NOT NULL,
          action text NOT NULL,
          object_type text,
          object_id text,
          ip text,
          user_agent text,
          details jsonb NOT NULL,
          prev_hash text NOT NULL,
          hash text NOT NULL,
          PRIMARY KEY (tenant_id, seq)
        );
        CREATE INDEX audit_events_object ON audit_events (tenant_id, object_type, object_id);
        CREATE TABLE audit_heads (
          tenant_id uuid PRIMARY KEY,
          seq bigint NOT NULL,
          hash text NOT NULL
        );
      `,
      );

      // Ley 39/2015 art. 26 and the NTI: once incorporated into a case file a document is immutable;
      // a change is a new version. Enforced in the database for every role.
      await execScript(
        db,
        `
        CREATE FUNCTION lligall_documents_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.incorporated_at IS NOT NULL THEN
            RAISE EXCEPTION 'DOCUMENT_IMMUTABLE: document % is incorporated and cannot be changed', OLD.id
              USING ERRCODE = 'check_violation';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER documents_immutable BEFORE UPDATE OR DELETE ON documents
          FOR EACH ROW EXECUTE FUNCTION lligall_documents_immutable();
      `,
      );

      await grantAccess(db, ctx.appRole, { platform: PLATFORM_GRANTS, tenant: TENANT_TABLES });
    },
  };
}
