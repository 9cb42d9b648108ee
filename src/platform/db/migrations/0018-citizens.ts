import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * Citizen identity and representation (issue 5, items 1 and 2).
 *
 * - `citizen_sessions` (platform): a citizen logged in to the seu through OpenID Connect. The id
 *   is the SHA-256 of the cookie's random token; idle and absolute timeouts as staff sessions.
 *   Installation-wide: one session serves every entity's seu.
 * - `citizen_logins` (platform): an OpenID Connect authorization in flight (state, nonce, PKCE
 *   verifier, where to return), keyed by the SHA-256 of the state; used once, short-lived.
 * - `representations` (tenant): the entity's register of powers of attorney (LPACAP art. 6):
 *   who represents whom, for all procedures or one, from when to when (at most 5 years), how it
 *   was granted (apud acta, electronically in the seu, notarial document), and its revocation.
 */
const PLATFORM_TABLES: Record<string, string> = {
  citizen_sessions: 'SELECT, INSERT, UPDATE, DELETE',
  citizen_logins: 'SELECT, INSERT, DELETE',
};
const TENANT_TABLES: Record<string, string> = {
  representations: 'SELECT, INSERT, UPDATE',
};

export function citizensMigration(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        CREATE TABLE citizen_sessions (
          id text PRIMARY KEY,
          identifier text NOT NULL,
          name text NOT NULL,
          email text,
          language text CHECK (language IN ('ca','es','oc-aranes')),
          idp text NOT NULL,
          created_at timestamptz NOT NULL,
          last_seen_at timestamptz NOT NULL,
          expires_at timestamptz NOT NULL
        );
        CREATE INDEX citizen_sessions_identifier ON citizen_sessions (identifier);
        CREATE INDEX citizen_sessions_expires ON citizen_sessions (expires_at);
        CREATE TABLE citizen_logins (
          id text PRIMARY KEY,
          slug text NOT NULL,
          code_verifier text NOT NULL,
          nonce text NOT NULL,
          return_to text NOT NULL,
          created_at timestamptz NOT NULL,
          expires_at timestamptz NOT NULL
        );
        CREATE TABLE representations (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          id uuid NOT NULL,
          represented_identifier text NOT NULL,
          represented_name text NOT NULL,
          represented_email text,
          representative_identifier text NOT NULL,
          representative_name text NOT NULL,
          representative_email text,
          scope text NOT NULL CHECK (scope IN ('general','procedure')),
          procedure text,
          origin text NOT NULL CHECK (origin IN ('apud_acta','electronic','notarial')),
          valid_from date NOT NULL,
          valid_to date NOT NULL,
          notarial_sha256 text,
          notarial_filename text,
          notarial_size integer,
          notes text,
          created_by uuid,
          created_by_label text NOT NULL,
          created_at timestamptz NOT NULL,
          revoked_at timestamptz,
          revoked_by uuid,
          revoked_by_label text,
          revoked_reason text,
          PRIMARY KEY (tenant_id, id),
          CHECK ((scope = 'general') = (procedure IS NULL)),
          CHECK (valid_to >= valid_from),
          CHECK ((origin = 'notarial') = (notarial_sha256 IS NOT NULL)),
          CHECK (represented_identifier <> representative_identifier)
        );
        CREATE INDEX representations_representative ON representations (tenant_id, representative_identifier);
        CREATE INDEX representations_represented ON representations (tenant_id, represented_identifier);
      `,
      );
      await grantAccess(db, ctx.appRole, { platform: PLATFORM_TABLES, tenant: TENANT_TABLES });
    },
  };
}
