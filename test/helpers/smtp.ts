import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

export type { ParsedMail };

/** One message the sink accepted: the parsed message and the SMTP envelope it came with. */
export type SinkEnvelope = { mailFrom: string | null; rcptTo: string[] };

/**
 * A real SMTP server (npm `smtp-server`) in this process, on 127.0.0.1 and a free port, for tests
 * that check what the application sends. Plain SMTP (no TLS, STARTTLS not offered); AUTH is
 * optional and any user/password is accepted. Each accepted message is parsed with mailparser's
 * `simpleParser` and appended to `messages` (in order of arrival).
 */
export type SmtpSink = {
  /** `smtp://127.0.0.1:<port>` — pass it as `config.smtpUrl`. */
  url: string;
  /** Every message accepted so far, parsed. */
  messages: ParsedMail[];
  /** The SMTP envelope of each message, same index as `messages`. */
  envelopes: SinkEnvelope[];
  /**
   * Resolves with the first message (already received or still to come) that matches `pred`;
   * rejects after `timeoutMs` (default 5000) naming how many messages did arrive.
   */
  waitFor(pred: (m: ParsedMail) => boolean, timeoutMs?: number): Promise<ParsedMail>;
  /**
   * While on, the server refuses every recipient with a temporary failure (451), as a mail server
   * that is unavailable would: for tests of retries. Off by default.
   */
  refuse(on: boolean): void;
  /** Forgets the messages received so far. */
  clear(): void;
  /** Stops the server and ends any open connection. */
  close(): Promise<void>;
};

/** The addresses of a parsed message's To header, lower-cased. */
export function recipientsOf(m: ParsedMail): string[] {
  const to = m.to === undefined ? [] : Array.isArray(m.to) ? m.to : [m.to];
  return to.flatMap((a) => a.value.map((v) => (v.address ?? '').toLowerCase()));
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ParsedMail[] = [];
  const envelopes: SinkEnvelope[] = [];
  const waiters = new Set<{ pred: (m: ParsedMail) => boolean; resolve: (m: ParsedMail) => void }>();
  let refusing = false;

  const server = new SMTPServer({
    secure: false,
    hideSTARTTLS: true,
    authOptional: true,
    // AUTH over plain text: the sink is only ever on the loopback interface.
    allowInsecureAuth: true,
    disableReverseLookup: true,
    logger: false,
    size: 25 * 1024 * 1024,
    closeTimeout: 100,
    onAuth(_auth, _session, callback) {
      callback(null, { user: 'test' });
    },
    onRcptTo(_address, _session, callback) {
      if (refusing) {
        const err = new Error('Mailbox temporarily unavailable (test sink refusing)') as Error & {
          responseCode: number;
        };
        err.responseCode = 451;
        callback(err);
        return;
      }
      callback();
    },
    onData(stream, session: SMTPServerSession, callback) {
      simpleParser(stream)
        .then((parsed) => {
          messages.push(parsed);
          envelopes.push({
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
            rcptTo: session.envelope.rcptTo.map((r) => r.address),
          });
          for (const w of [...waiters]) {
            if (w.pred(parsed)) {
              waiters.delete(w);
              w.resolve(parsed);
            }
          }
          callback();
        })
        .catch((e: Error) => callback(e));
    },
  });
  server.on('error', () => {
    // A client that drops its connection mid-session is not the test's failure.
  });

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;

  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    envelopes,
    waitFor(pred, timeoutMs = 5000) {
      const found = messages.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise<ParsedMail>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(
            new Error(
              `No matching message within ${timeoutMs} ms (${messages.length} received: ${messages
                .map((m) => JSON.stringify(m.subject ?? ''))
                .join(', ')})`,
            ),
          );
        }, timeoutMs);
        const w = {
          pred,
          resolve: (m: ParsedMail) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        waiters.add(w);
      });
    },
    refuse(on) {
      refusing = on;
    },
    clear() {
      messages.length = 0;
      envelopes.length = 0;
    },
    close() {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
