import type { Kysely } from 'kysely';
import { execScript } from '../script.ts';
import { grantAccess } from './access.ts';
import type { MigrationContext } from './index.ts';

/**
 * The registry desk (OAMR, LPACAP art. 12, 16.5 and 27):
 *
 * - `registry_entry_expedients`: which case files an entry was brought into, by whom and when.
 *   A link is permanent (its documents are in the case file's index): read and insert only.
 * - `authorised_officials`: the register of officials authorised to make authentic copies and to
 *   assist citizens (art. 12.3, 27.1). Never deleted; a record can only be revoked, once.
 * - `paper_originals`: a paper original digitised at the desk, its authentic copy (EE03), and its
 *   return to the filer (art. 16.5). Only the return, once, and the later seal of the copy, once,
 *   may change a row; the database refuses anything else.
 */
const TENANT_TABLES: Record<string, string> = {
  registry_entry_expedients: 'SELECT, INSERT',
  authorised_officials: 'SELECT, INSERT, UPDATE',
  paper_originals: 'SELECT, INSERT, UPDATE',
};

export function desk(ctx: MigrationContext) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await execScript(
        db,
        `
        CREATE TABLE registry_entry_expedients (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          entry_id uuid NOT NULL,
          expedient_id uuid NOT NULL,
          created_expedient boolean NOT NULL,
          linked_by uuid REFERENCES users(id),
          linked_by_label text NOT NULL,
          linked_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, entry_id, expedient_id),
          FOREIGN KEY (tenant_id, entry_id) REFERENCES registry_entries(tenant_id, id),
          FOREIGN KEY (tenant_id, expedient_id) REFERENCES expedients(tenant_id, id)
        );
        CREATE INDEX registry_entry_expedients_expedient ON registry_entry_expedients (tenant_id, expedient_id);

        CREATE TABLE authorised_officials (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          id uuid NOT NULL,
          user_id uuid NOT NULL REFERENCES users(id),
          name text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
          position text CHECK (length(position) BETWEEN 1 AND 300),
          scopes text[] NOT NULL CHECK (cardinality(scopes) BETWEEN 1 AND 2 AND scopes <@ ARRAY['copies','assistance']),
          valid_from date NOT NULL,
          valid_to date,
          created_by text NOT NULL,
          created_at timestamptz NOT NULL,
          revoked_at timestamptz,
          revoked_by text,
          revoked_reason text CHECK (length(revoked_reason) BETWEEN 1 AND 2000),
          PRIMARY KEY (tenant_id, id),
          CHECK (valid_to IS NULL OR valid_to >= valid_from),
          CHECK ((revoked_at IS NULL) = (revoked_by IS NULL) AND (revoked_at IS NULL) = (revoked_reason IS NULL))
        );
        CREATE INDEX authorised_officials_user ON authorised_officials (tenant_id, user_id);
        CREATE FUNCTION lligall_authorised_officials_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'authorised officials are never deleted' USING ERRCODE = '55000';
          END IF;
          IF OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL
             OR (to_jsonb(NEW) - 'revoked_at' - 'revoked_by' - 'revoked_reason')
                <> (to_jsonb(OLD) - 'revoked_at' - 'revoked_by' - 'revoked_reason') THEN
            RAISE EXCEPTION 'an authorised official can only be revoked, once' USING ERRCODE = '55000';
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER authorised_officials_append_only BEFORE UPDATE OR DELETE ON authorised_officials
          FOR EACH ROW EXECUTE FUNCTION lligall_authorised_officials_append_only();

        CREATE TABLE paper_originals (
          tenant_id uuid NOT NULL REFERENCES tenants(id),
          id uuid NOT NULL,
          entry_id uuid NOT NULL,
          description text NOT NULL CHECK (length(description) BETWEEN 1 AND 2000),
          copy_document_id uuid NOT NULL,
          official_id uuid NOT NULL,
          digitised_by uuid REFERENCES users(id),
          digitised_by_label text NOT NULL,
          digitised_at timestamptz NOT NULL,
          -- A PDF copy waits for the PAdES seal of the entity with a CSV, added by the receipts work.
          -- The sealed PDF is a new document that supersedes the copy.
          seal_status text NOT NULL CHECK (seal_status IN ('pending','sealed','not_applicable')),
          sealed_document_id uuid,
          returned_to text CHECK (length(returned_to) BETWEEN 1 AND 300),
          returned_by text,
          returned_at timestamptz,
          PRIMARY KEY (tenant_id, id),
          UNIQUE (tenant_id, copy_document_id),
          FOREIGN KEY (tenant_id, entry_id) REFERENCES registry_entries(tenant_id, id),
          FOREIGN KEY (tenant_id, copy_document_id) REFERENCES documents(tenant_id, id),
          FOREIGN KEY (tenant_id, sealed_document_id) REFERENCES documents(tenant_id, id),
          FOREIGN KEY (tenant_id, official_id) REFERENCES authorised_officials(tenant_id, id),
          CHECK ((returned_at IS NULL) = (returned_to IS NULL) AND (returned_at IS NULL) = (returned_by IS NULL)),
          CHECK ((seal_status = 'sealed') = (sealed_document_id IS NOT NULL))
        );
        CREATE INDEX paper_originals_entry ON paper_originals (tenant_id, entry_id, digitised_at);
        CREATE FUNCTION lligall_paper_originals_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'paper originals are never deleted' USING ERRCODE = '55000';
          END IF;
          IF (to_jsonb(NEW) - 'returned_to' - 'returned_by' - 'returned_at' - 'seal_status' - 'sealed_document_id')
             <> (to_jsonb(OLD) - 'returned_to' - 'returned_by' - 'returned_at' - 'seal_status' - 'sealed_document_id')
             OR (OLD.returned_at IS NOT NULL AND (to_jsonb(NEW) -> 'returned_at') IS DISTINCT FROM (to_jsonb(OLD) -> 'returned_at'))
             OR (OLD.returned_at IS NOT NULL AND (NEW.returned_to, NEW.returned_by) IS DISTINCT FROM (OLD.returned_to, OLD.returned_by))
             OR (OLD.seal_status <> NEW.seal_status AND NOT (OLD.seal_status = 'pending' AND NEW.seal_status = 'sealed'))
             OR (OLD.seal_status = NEW.seal_status AND OLD.sealed_document_id IS DISTINCT FROM NEW.sealed_document_id) THEN
            RAISE EXCEPTION 'a paper original can only be returned once, and its copy sealed once' USING ERRCODE = '55000';
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER paper_originals_guard BEFORE UPDATE OR DELETE ON paper_originals
          FOR EACH ROW EXECUTE FUNCTION lligall_paper_originals_guard();
      `,
      );

      await grantAccess(db, ctx.appRole, { tenant: TENANT_TABLES });
    },
  };
}
