import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Config } from '#src/config.ts';

/** One message as the application sends it (plain text, one recipient). */
export type OutgoingMail = {
  from: string;
  to: string;
  subject: string;
  text: string;
  /** BCP 47 tag of the text (Content-Language). */
  language: string;
  /** `<…@…>`: the same on every attempt, so a receiver can tell a repeat. */
  messageId: string;
  date: Date;
};

/**
 * Where messages go: an SMTP server (nodemailer), or — without one, outside production — .eml
 * files under <dataDir>/mail/, so the demo works with no mail server.
 */
export type MailTransport = {
  readonly kind: 'smtp' | 'file';
  /** Sends (or writes) one message; throws when the server refuses it or cannot be reached. */
  send(mail: OutgoingMail): Promise<void>;
};

/** Seconds to wait for an SMTP server before the attempt fails (and the job retries). */
const SMTP_TIMEOUTS = { connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 60_000 };

/** The transport the configuration asks for. */
export function mailTransportFor(config: Pick<Config, 'smtpUrl' | 'dataDir' | 'env'>): MailTransport {
  if (config.smtpUrl) return smtpTransport(config.smtpUrl);
  // loadConfig refuses production without LLIGALL_SMTP_URL; this guards a config built otherwise.
  if (config.env === 'production') throw new Error('LLIGALL_SMTP_URL is required in production');
  return fileTransport(path.join(config.dataDir, 'mail'));
}

function headersOf(mail: OutgoingMail) {
  return {
    from: mail.from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    messageId: mail.messageId,
    date: mail.date,
    headers: {
      'Content-Language': mail.language,
      // RFC 3834: automatic replies (vacation notices) must not answer this message.
      'Auto-Submitted': 'auto-generated',
    },
  };
}

/** nodemailer over one SMTP connection per message (smtp:// upgrades with STARTTLS when offered; smtps:// is TLS). */
export function smtpTransport(url: string): MailTransport {
  return {
    kind: 'smtp',
    async send(mail) {
      const t = nodemailer.createTransport({ url, ...SMTP_TIMEOUTS });
      try {
        await t.sendMail(headersOf(mail));
      } finally {
        t.close();
      }
    },
  };
}

/**
 * Writes each message as `<dir>/<id>.eml` (RFC 5322, built by nodemailer as it would be sent):
 * to a temporary file first, then renamed, so a file that exists is complete. Writing the same
 * message again replaces it (the name is the message's id).
 */
export function fileTransport(dir: string): MailTransport {
  const t = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    kind: 'file',
    async send(mail) {
      const info = await t.sendMail(headersOf(mail));
      const eml = info.message as Buffer;
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      const name = `${fileNameOf(mail.messageId)}.eml`;
      const tmp = path.join(dir, `.${name}.${process.pid}.tmp`);
      await fs.writeFile(tmp, eml, { mode: 0o600 });
      await fs.rename(tmp, path.join(dir, name));
    },
  };
}

/** The file name of a message: its Message-ID's local part, reduced to safe characters. */
function fileNameOf(messageId: string): string {
  const local = messageId.replace(/^</, '').split('@')[0] ?? 'message';
  return local.replace(/[^A-Za-z0-9._-]/g, '_') || 'message';
}
