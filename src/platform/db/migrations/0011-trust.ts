import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * `trusted_cas` (platform table, on the allowlist): the certification authorities whose
 * signatures verification calls `trusted`, besides the installation CA. The operator manages it
 * (`lligall trust add|list|remove`, audited on the platform chain); in production it is fed from
 * the EU trusted lists (the Spanish TSL of qualified trust service providers: AOC, FNMT, …). A
 * removed CA keeps its row (removed_at/removed_by): what was trusted when stays known.
 */
const PLATFORM_GRANTS: Record<string, string> = {
  trusted_cas: 'SELECT, INSERT, UPDATE',
};

export function trust(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        CREATE TABLE trusted_cas (
          id uuid PRIMARY KEY,
          label text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
          certificate_pem text NOT NULL,
          fingerprint_sha256 text NOT NULL CHECK (fingerprint_sha256 ~ '^[0-9a-f]{64}$'),
          subject text NOT NULL,
          valid_from timestamptz NOT NULL,
          valid_to timestamptz NOT NULL,
          added_by text NOT NULL,
          added_at timestamptz NOT NULL,
          removed_by text,
          removed_at timestamptz,
          CHECK ((removed_at IS NULL) = (removed_by IS NULL))
        );
        CREATE UNIQUE INDEX trusted_cas_one_active ON trusted_cas (fingerprint_sha256) WHERE removed_at IS NULL;
      `,
      );
      await grantAccess(db, ctx.appRole, { platform: PLATFORM_GRANTS });
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await execScript(db, 'DROP TABLE trusted_cas;');
    },
  };
}
