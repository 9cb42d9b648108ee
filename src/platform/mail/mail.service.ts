import { sql } from 'kysely';
import type { Config } from '#src/config.ts';
import { type Clock, systemClock } from '../context.ts';
import type { Database, Tx } from '../db/database.ts';
import { AppError } from '../errors.ts';
import { newId } from '../ids.ts';
import type { Jobs } from '../jobs/jobs.ts';
import {
  MAIL_LANGUAGES,
  MAIL_TEMPLATES,
  type MailLanguage,
  type MailTemplate,
  mailParamProblems,
  renderMail,
} from './messages.ts';
import { type MailTransport, mailTransportFor } from './transport.ts';

export type { MailLanguage, MailTemplate } from './messages.ts';

/**
 * One e-mail to send on behalf of an entity: to one address, in the recipient's language, from a
 * template of messages.ts with its parameters (see MAIL_PARAMS there: all required, no others).
 */
export type MailRequest = {
  tenantId: string;
  to: string;
  language: MailLanguage;
  template: MailTemplate;
  params: Record<string, string>;
};

/** The job that sends one queued message. */
export const MAIL_JOB = 'mail.send';
export type MailJobData = { tenantId: string; mailId: string };

/**
 * Retries of a message whose server refused it or could not be reached: 8 more attempts, 1 minute
 * apart doubling (about 4 hours in all); after that the row stays unsent with its last error.
 */
const MAIL_RETRY = { retryLimit: 8, retryDelaySeconds: 60 };

/** What `last_error` says of a recipient address that cannot be used (no job is sent for it). */
export const INVALID_ADDRESS_ERROR = 'invalid recipient address';

/** An address that can go in an SMTP envelope: local@domain, no spaces, brackets or separators. */
function isUsableAddress(a: string): boolean {
  return a.length <= 254 && /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+$/.test(a);
}

/**
 * Queues one message in the caller's transaction (row + pg-boss job through the same connection);
 * sent after commit by the `mail.send` job, so a rolled-back act sends nothing.
 *
 * A missing or unknown parameter, language or template is a programming error: it throws
 * (AppError INTERNAL) here, at enqueue time. A recipient address that cannot be used does NOT
 * throw — an alert's failure never undoes the act that caused it (LPACAP art. 41.6): the row is
 * kept, unsent, with last_error = INVALID_ADDRESS_ERROR, and no job.
 */
export async function enqueueMail(
  jobs: Jobs,
  tx: Tx,
  mail: MailRequest,
  opts: { clock?: Clock } = {},
): Promise<{ id: string }> {
  if (!MAIL_TEMPLATES.includes(mail.template))
    throw new AppError('INTERNAL', `Unknown mail template ${String(mail.template)}`);
  if (!MAIL_LANGUAGES.includes(mail.language))
    throw new AppError('INTERNAL', `Unknown mail language ${String(mail.language)}`);
  const problems = mailParamProblems(mail.template, mail.params);
  if (problems.length > 0)
    throw new AppError('INTERNAL', `Mail ${mail.template}: ${problems.join(', ')}`, {
      template: mail.template,
      problems,
    });
  const id = newId();
  const to = mail.to.trim();
  const usable = isUsableAddress(to);
  await tx
    .insertInto('mail_outbox')
    .values({
      tenant_id: mail.tenantId,
      id,
      to_address: to,
      language: mail.language,
      template: mail.template,
      params: JSON.stringify(mail.params),
      subject: renderMail(mail.template, mail.language, mail.params).subject,
      created_at: (opts.clock ?? systemClock).now(),
      last_error: usable ? null : INVALID_ADDRESS_ERROR,
    })
    .execute();
  if (usable) {
    const data: MailJobData = { tenantId: mail.tenantId, mailId: id };
    await jobs.send(tx, MAIL_JOB, data, { singletonKey: id, ...MAIL_RETRY });
  }
  return { id };
}

export type MailDeps = {
  db: Database;
  clock: Clock;
  config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'dataDir' | 'env'>;
};

export type SendOutcome = 'sent' | 'already-sent' | 'not-found' | 'undeliverable';

/** `<mail id@domain of the sender>`: the same on every attempt. */
function messageIdOf(id: string, from: string): string {
  const domain = /@([^\s@<>]+)>?\s*$/.exec(from)?.[1] ?? 'lligall.invalid';
  return `<${id}@${domain}>`;
}

/**
 * Sends one queued message (the `mail.send` job's work), in its recipient's language.
 *
 * - Already sent (sent_at set): does nothing — a message is never sent twice by us.
 * - Sent: records sent_at (the injected clock), message_id and the attempt.
 * - Refused or unreachable server: records the attempt and last_error, then throws, so pg-boss
 *   retries it with backoff.
 *
 * No transaction is open while the server is talked to (slow network work never holds one). If
 * the process dies between the server's acceptance and the recording, the retry sends it again
 * with the same Message-ID (at-least-once; receivers may drop the repeat).
 */
export async function sendQueuedMail(
  deps: MailDeps,
  tenantId: string,
  mailId: string,
  transport: MailTransport = mailTransportFor(deps.config),
): Promise<SendOutcome> {
  const row = await deps.db.tenant(tenantId, (tx) =>
    tx
      .selectFrom('mail_outbox')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', mailId)
      .executeTakeFirst(),
  );
  if (!row) return 'not-found';
  if (row.sent_at) return 'already-sent';
  if (!isUsableAddress(row.to_address)) return 'undeliverable';
  const rendered = renderMail(row.template as MailTemplate, row.language, row.params);
  const messageId = messageIdOf(row.id, deps.config.mailFrom);
  try {
    await transport.send({
      from: deps.config.mailFrom,
      to: row.to_address,
      subject: rendered.subject,
      text: rendered.text,
      language: row.language,
      messageId,
      date: deps.clock.now(),
    });
  } catch (e) {
    const reason = errorText(e);
    await deps.db.tenant(tenantId, (tx) =>
      tx
        .updateTable('mail_outbox')
        .set({ attempts: sql<number>`attempts + 1`, last_error: reason })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', mailId)
        .where('sent_at', 'is', null)
        .execute(),
    );
    throw new Error(`mail ${mailId} of tenant ${tenantId} not sent (${transport.kind}): ${reason}`);
  }
  await deps.db.tenant(tenantId, (tx) =>
    tx
      .updateTable('mail_outbox')
      .set({
        attempts: sql<number>`attempts + 1`,
        sent_at: deps.clock.now(),
        message_id: messageId,
        last_error: null,
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', mailId)
      .where('sent_at', 'is', null)
      .execute(),
  );
  return 'sent';
}

/** The sweeper of unsent messages: hourly. */
export const MAIL_SWEEP_JOB = 'mail.sweep';
/** A message still unsent after this many days is given up (it stays in the outbox, unsent, with its last error). */
export const MAIL_GIVE_UP_DAYS = 7;

/**
 * Queues again every message that is still unsent, less than MAIL_GIVE_UP_DAYS old by the
 * injected clock, and has no job left (its retries ran out while the server was down). A message
 * whose job is still queued, retrying or running is left to it (the job's singleton key is the
 * message's id). Tenant by tenant, each in its own tenant transaction. Returns how many were
 * queued again.
 */
export async function sweepUnsentMail(deps: { db: Database; jobs: Jobs; clock: Clock }): Promise<number> {
  const since = new Date(deps.clock.now().getTime() - MAIL_GIVE_UP_DAYS * 86_400_000);
  const tenants = await deps.db.platformRead((q) => q.selectFrom('tenants').select('id').execute());
  let queued = 0;
  for (const { id: tenantId } of tenants) {
    const unsent = await deps.db.tenant(tenantId, (tx) =>
      tx
        .selectFrom('mail_outbox')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('sent_at', 'is', null)
        .where('created_at', '>=', since)
        .where((eb) => eb.or([eb('last_error', 'is', null), eb('last_error', '!=', INVALID_ADDRESS_ERROR)]))
        .execute(),
    );
    for (const { id } of unsent) {
      const data: MailJobData = { tenantId, mailId: id };
      if (await deps.jobs.sendNow(MAIL_JOB, data, { singletonKey: id, ...MAIL_RETRY })) queued++;
    }
  }
  return queued;
}

/** A failure's text for last_error: the server's reply when there is one, at most 1000 characters. */
function errorText(e: unknown): string {
  const err = e as { message?: unknown; response?: unknown; code?: unknown };
  const text =
    typeof err.response === 'string' && err.response !== ''
      ? err.response
      : typeof err.message === 'string'
        ? err.message
        : String(e);
  const code = typeof err.code === 'string' ? `${err.code}: ` : '';
  return `${code}${text}`.replace(/\s+/g, ' ').slice(0, 1000);
}
