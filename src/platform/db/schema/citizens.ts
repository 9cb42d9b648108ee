/** Tables of the citizens module (issue 5). Added to DB in ../schema.ts; platform tables also go on PLATFORM_TABLES there. */
import type { ColumnType } from 'kysely';
import type { Timestamp } from '../schema.ts';

type CivilDateColumn = ColumnType<string, string, string>;

/** A citizen logged in to the seu (platform table; id = sha256 hex of the cookie token). */
export type CitizenSessionsTable = {
  id: string;
  identifier: string;
  name: string;
  email: string | null;
  language: 'ca' | 'es' | 'oc-aranes' | null;
  /** The OpenID provider's issuer that authenticated the citizen. */
  idp: string;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
};

/** An OpenID Connect authorization in flight (platform table; id = sha256 hex of the state). */
export type CitizenLoginsTable = {
  id: string;
  slug: string;
  code_verifier: string;
  nonce: string;
  return_to: string;
  created_at: Timestamp;
  expires_at: Timestamp;
};

export type RepresentationScope = 'general' | 'procedure';
export type RepresentationOrigin = 'apud_acta' | 'electronic' | 'notarial';

/** A power of attorney in the entity's register (LPACAP art. 6). */
export type RepresentationsTable = {
  tenant_id: string;
  id: string;
  represented_identifier: string;
  represented_name: string;
  represented_email: string | null;
  representative_identifier: string;
  representative_name: string;
  representative_email: string | null;
  scope: RepresentationScope;
  procedure: string | null;
  origin: RepresentationOrigin;
  valid_from: CivilDateColumn;
  valid_to: CivilDateColumn;
  notarial_sha256: string | null;
  notarial_filename: string | null;
  notarial_size: ColumnType<number | null, number | null, number | null>;
  notes: string | null;
  created_by: string | null;
  created_by_label: string;
  created_at: Timestamp;
  revoked_at: Timestamp | null;
  revoked_by: string | null;
  revoked_by_label: string | null;
  revoked_reason: string | null;
};

export type CitizensTables = {
  citizen_sessions: CitizenSessionsTable;
  citizen_logins: CitizenLoginsTable;
  representations: RepresentationsTable;
};
