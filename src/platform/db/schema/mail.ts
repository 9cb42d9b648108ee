import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

/**
 * One e-mail of an entity (migration 0019): queued in the transaction of the act that causes it,
 * sent by the `mail.send` job after commit. `sent_at` is set once, when the SMTP server (or the
 * local .eml writer) accepted it; `attempts` and `last_error` record failed tries.
 */
export type MailOutboxTable = {
  tenant_id: string;
  id: string;
  to_address: string;
  language: 'ca' | 'es' | 'oc-aranes';
  template: string;
  /** The template's parameters, as strings (jsonb). */
  params: ColumnType<Record<string, string>, string, string>;
  /** The subject as rendered at enqueue time (what staff see in lists). */
  subject: string;
  created_at: Timestamp;
  sent_at: Timestamp | null;
  attempts: Generated<number>;
  last_error: string | null;
  /** The Message-ID the message was sent with. */
  message_id: string | null;
};

/** Tables of the mail module (issue 5). Added to DB in ../schema.ts. */
export type MailTables = {
  mail_outbox: MailOutboxTable;
};
