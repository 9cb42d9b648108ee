import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * The local Cloud Signature Consortium (CSC API v2) service that Lligall serves in demo,
 * development and test modes (src/modules/signatures/csc). Platform tables (on the allowlist):
 * signing credentials belong to users, who are platform-wide, not to an entity.
 *
 * - `demo_signing_keys`: one demo key per user, issued by the installation CA and labelled
 *   "(demo — no qualificat)", wrapped under the master key (platform/crypto/keywrap.ts) and
 *   bound to its row. Never created in production.
 * - `demo_signing_sads`: the Signature Activation Data issued by `credentials/authorize`, stored
 *   by hash only: short-lived, single-use, bound to the hashes authorised.
 */
const PLATFORM_GRANTS: Record<string, string> = {
  demo_signing_keys: 'SELECT, INSERT',
  demo_signing_sads: 'SELECT, INSERT, UPDATE',
};

export function csc(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        CREATE TABLE demo_signing_keys (
          id uuid PRIMARY KEY,
          user_id uuid NOT NULL UNIQUE REFERENCES users(id),
          certificate_pem text NOT NULL,
          chain_pem text NOT NULL,
          wrapped_key bytea NOT NULL,
          valid_from timestamptz NOT NULL,
          valid_to timestamptz NOT NULL,
          created_at timestamptz NOT NULL
        );
        CREATE TABLE demo_signing_sads (
          id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{64}$'),
          credential_id uuid NOT NULL REFERENCES demo_signing_keys(id),
          user_id uuid NOT NULL REFERENCES users(id),
          hashes text[] NOT NULL CHECK (cardinality(hashes) BETWEEN 1 AND 1000),
          num_signatures integer NOT NULL CHECK (num_signatures BETWEEN 1 AND 1000),
          expires_at timestamptz NOT NULL,
          used_at timestamptz,
          created_at timestamptz NOT NULL
        );
        CREATE INDEX demo_signing_sads_expiry ON demo_signing_sads (expires_at);
      `,
      );
      await grantAccess(db, ctx.appRole, { platform: PLATFORM_GRANTS });
    },
  };
}
