import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { simpleParser } from 'mailparser';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { type ConfigError, loadConfig } from '#src/config.ts';
import type { AppError } from '#platform/errors.ts';
import {
  enqueueMail,
  INVALID_ADDRESS_ERROR,
  MAIL_JOB,
  type MailRequest,
  sendQueuedMail,
  sweepUnsentMail,
} from '#platform/mail/mail.service.ts';
import { MAIL_MESSAGES, MAIL_PARAMS } from '#platform/mail/messages.ts';
import { makeTenant, openTestEnv, TestClock, type TestEnv } from '#test/helpers/harness.ts';
import { type ParsedMail, recipientsOf, type SmtpSink, startSmtpSink } from '#test/helpers/smtp.ts';

/**
 * E-mail (issue 5, item 7): a message queued in an act's transaction is sent after commit by the
 * `mail.send` job to a real SMTP server (smtp-server, in process), in the recipient's language and
 * from the configured sender; a rolled-back act sends nothing; a refusing server leaves the row
 * unsent with its attempts and error, and a later run sends it exactly once; without an SMTP
 * server the message is written as an .eml file; an alert never carries the notification.
 */

const FROM = 'Ajuntament de Prova <no-reply@prova.example.cat>';
const SENT_AT = '2026-03-02T09:00:00.000Z';

let env: TestEnv;
let sink: SmtpSink;
let tenant: Tenant;
let other: Tenant;
let n = 0;

const to = (label: string) => `${label}.${++n}@example.cat`;
const byRecipient = (addr: string) => (m: ParsedMail) => recipientsOf(m).includes(addr);

function alert(address: string, language: MailRequest['language']): MailRequest {
  return {
    tenantId: tenant.id,
    to: address,
    language,
    template: 'notification_alert',
    params: {
      entityName: tenant.name,
      seuUrl: `https://seu.example.cat/seu/${tenant.slug}`,
      availableUntil: '12/03/2026',
    },
  };
}

async function enqueue(mail: MailRequest): Promise<string> {
  return env.db.tenant(mail.tenantId, async (tx) => (await enqueueMail(env.jobs, tx, mail)).id);
}

async function row(id: string, tenantId = tenant.id) {
  return env.db.tenant(tenantId, (tx) =>
    tx.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirst(),
  );
}

async function jobOf(mailId: string) {
  const r = await env.db.owner((tx) =>
    sql<{ state: string; due: boolean }>`select state::text, start_after <= now() as due from pgboss.job
      where name = ${MAIL_JOB} and data->>'mailId' = ${mailId}`.execute(tx),
  );
  return r.rows;
}

/** Makes a message's retry due now (instead of waiting for pg-boss's backoff). */
async function makeDue(mailId: string) {
  await env.db.owner((tx) =>
    sql`update pgboss.job set start_after = now() where name = ${MAIL_JOB} and data->>'mailId' = ${mailId}`.execute(
      tx,
    ),
  );
}

describe('e-mail', () => {
  before(async () => {
    sink = await startSmtpSink();
    env = await openTestEnv({
      config: { smtpUrl: sink.url, mailFrom: FROM },
      clock: new TestClock(SENT_AT),
    });
    tenant = await makeTenant(env, { name: 'Ajuntament de Prova del Correu' });
    other = await makeTenant(env);
  });
  after(async () => {
    await env?.close();
    await sink?.close();
  });

  it('sends after commit, in each recipient language, from the configured sender', async () => {
    const addrs = { ca: to('ca'), es: to('es'), 'oc-aranes': to('oc') } as const;
    const ids = await env.db.tenant(tenant.id, async (tx) => {
      const out: Record<string, string> = {};
      for (const [lang, addr] of Object.entries(addrs)) {
        out[lang] = (await enqueueMail(env.jobs, tx, alert(addr, lang as MailRequest['language']))).id;
      }
      return out;
    });
    assert.equal(sink.messages.length, 0, 'nothing is sent before the job runs');
    assert.equal(await env.jobs.drain(MAIL_JOB), 3);

    const phrases = {
      ca: /ha posat a la vostra disposició una notificació a la seu electrònica/,
      es: /ha puesto a su disposición una notificación en la sede electrónica/,
      'oc-aranes': /a botat a vòsta disposicion ua notificacion ena seu electronica/,
    };
    const subjects = {
      ca: 'Ajuntament de Prova del Correu: teniu una notificació a la seu electrònica',
      es: 'Ajuntament de Prova del Correu: tiene una notificación en la sede electrónica',
      'oc-aranes': 'Ajuntament de Prova del Correu: auetz ua notificacion ena seu electronica',
    };
    for (const lang of ['ca', 'es', 'oc-aranes'] as const) {
      const m = await sink.waitFor(byRecipient(addrs[lang]));
      assert.match(m.text ?? '', phrases[lang], lang);
      assert.match(m.text ?? '', new RegExp(`https://seu\\.example\\.cat/seu/${tenant.slug}`));
      assert.match(m.text ?? '', /12\/03\/2026/);
      assert.equal(m.subject, subjects[lang]);
      assert.equal(m.from?.text, '"Ajuntament de Prova" <no-reply@prova.example.cat>');
      assert.equal(m.headers.get('content-language'), lang);
      assert.equal(m.headers.get('auto-submitted'), 'auto-generated');
      const r = await row(ids[lang]!);
      assert.equal(r?.sent_at?.toISOString(), SENT_AT, 'sent_at from the injected clock');
      assert.equal(r?.attempts, 1);
      assert.equal(r?.last_error, null);
      assert.equal(r?.message_id, m.messageId);
      assert.equal(r?.message_id, `<${ids[lang]}@prova.example.cat>`);
    }
    // The other languages' phrases are absent: one language per message.
    const ca = await sink.waitFor(byRecipient(addrs.ca));
    assert.doesNotMatch(ca.text ?? '', phrases.es);
    assert.doesNotMatch(ca.text ?? '', phrases['oc-aranes']);
  });

  it('a filing confirmation and the representation notices carry their facts', async () => {
    const a = to('filer');
    const b = to('repr');
    await env.db.tenant(tenant.id, async (tx) => {
      await enqueueMail(env.jobs, tx, {
        tenantId: tenant.id,
        to: a,
        language: 'es',
        template: 'filing_confirmation',
        params: {
          entityName: tenant.name,
          seuUrl: 'https://seu.example.cat/seu/x',
          entryNumber: 'E/2026/000045',
          presentedAt: '02/03/2026 10:00:00',
          receiptCsv: 'ABCDE-FGHJK-MNPQR-STVWX',
          verifyUrl: 'https://seu.example.cat/verify',
        },
      });
      await enqueueMail(env.jobs, tx, {
        tenantId: tenant.id,
        to: b,
        language: 'oc-aranes',
        template: 'representation_revoked',
        params: {
          entityName: tenant.name,
          seuUrl: 'https://seu.example.cat/seu/x',
          representativeName: 'Joan Representant',
          representedName: 'Maria Representada',
          scope: 'General',
          validTo: '01/03/2031',
        },
      });
    });
    assert.equal(await env.jobs.drain(MAIL_JOB), 2);
    const filing = await sink.waitFor(byRecipient(a));
    assert.match(filing.subject ?? '', /justificante de presentación, registro E\/2026\/000045/);
    assert.match(filing.text ?? '', /ABCDE-FGHJK-MNPQR-STVWX/);
    assert.match(filing.text ?? '', /02\/03\/2026 10:00:00/);
    const revoked = await sink.waitFor(byRecipient(b));
    assert.match(revoked.text ?? '', /Joan Representant non pòt mès actuar en nòm de Maria Representada/);
  });

  it('an alert carries no notification content: only entity, link and date are accepted', async () => {
    // What an alert may say is fixed by its template: no placeholder for a subject or a text.
    assert.deepEqual([...MAIL_PARAMS.notification_alert], ['entityName', 'seuUrl', 'availableUntil']);
    for (const m of Object.values(MAIL_MESSAGES.notification_alert)) {
      const used = [...`${m.subject}${m.text}`.matchAll(/\{(\w+)\}/g)].map((x) => x[1]);
      for (const p of used) assert.ok((MAIL_PARAMS.notification_alert as readonly string[]).includes(p!));
    }
    // A caller that tries to put the act in the alert is stopped at enqueue time (and its
    // transaction, here, rolls back).
    const secret = 'Resolució de denegació de la llicència d’obres';
    const bad = { ...alert(to('leak'), 'ca'), params: { ...alert('x@y', 'ca').params, subject: secret } };
    await assert.rejects(
      enqueue(bad),
      (e: AppError) => e.code === 'INTERNAL' && /unknown parameter subject/.test(e.message),
    );
    const sent = await (async () => {
      const addr = to('alert');
      await enqueue(alert(addr, 'ca'));
      await env.jobs.drain(MAIL_JOB);
      return sink.waitFor(byRecipient(addr));
    })();
    assert.doesNotMatch(`${sent.subject}\n${sent.text}`, /denegació|llicència/);
    assert.equal(sink.messages.filter((m) => (m.text ?? '').includes(secret)).length, 0);
  });

  it('a missing parameter is an error at enqueue time; nothing is queued', async () => {
    const addr = to('missing');
    const { availableUntil: _, ...params } = alert(addr, 'es').params;
    await assert.rejects(
      enqueue({ ...alert(addr, 'es'), params }),
      (e: AppError) => e.code === 'INTERNAL' && /missing parameter availableUntil/.test(e.message),
    );
    await assert.rejects(
      enqueue({ ...alert(addr, 'es'), params: { ...params, availableUntil: ' ' } }),
      /missing parameter availableUntil/,
    );
    const rows = await env.db.tenant(tenant.id, (tx) =>
      tx.selectFrom('mail_outbox').select('id').where('to_address', '=', addr).execute(),
    );
    assert.equal(rows.length, 0);
  });

  it('a rolled-back transaction sends nothing', async () => {
    const addr = to('rollback');
    await assert.rejects(
      env.db.tenant(tenant.id, async (tx) => {
        await enqueueMail(env.jobs, tx, alert(addr, 'ca'));
        throw new Error('the act failed');
      }),
      /the act failed/,
    );
    assert.equal(await env.jobs.drain(MAIL_JOB), 0);
    const rows = await env.db.tenant(tenant.id, (tx) =>
      tx.selectFrom('mail_outbox').select('id').where('to_address', '=', addr).execute(),
    );
    assert.equal(rows.length, 0);
    assert.equal(sink.messages.filter(byRecipient(addr)).length, 0);
  });

  it('a refusing server leaves the message unsent with the error; a later run sends it once', async () => {
    const addr = to('retry');
    sink.refuse(true);
    const id = await enqueue(alert(addr, 'es'));
    assert.equal(await env.jobs.drain(MAIL_JOB), 1);
    let r = await row(id);
    assert.equal(r?.sent_at, null);
    assert.equal(r?.attempts, 1);
    assert.match(r?.last_error ?? '', /451/);
    // pg-boss holds it for a retry (with backoff, so not due yet); the sweeper leaves it to its job.
    assert.deepEqual(await jobOf(id), [{ state: 'retry', due: false }]);
    assert.equal(await sweepUnsentMail(env), 0);

    // The server is back; the retry falls due (made due at once here) and sends it.
    sink.refuse(false);
    await makeDue(id);
    assert.equal(await env.jobs.drain(MAIL_JOB), 1);
    await sink.waitFor(byRecipient(addr));
    r = await row(id);
    assert.ok(r?.sent_at);
    assert.equal(r?.attempts, 2);
    assert.equal(r?.last_error, null);

    // Once sent, never again.
    assert.equal(await sendQueuedMail(env, tenant.id, id), 'already-sent');
    assert.equal(await sweepUnsentMail(env), 0);
    assert.equal(await env.jobs.drain(MAIL_JOB), 0);
    assert.equal(sink.messages.filter(byRecipient(addr)).length, 1);
  });

  it('unsent messages whose job was lost (a restore) are queued again, up to 7 days old', async () => {
    const recent = to('lost');
    const old = to('old');
    const ids = await env.db.tenant(tenant.id, async (tx) => ({
      recent: (await enqueueMail(env.jobs, tx, alert(recent, 'ca'))).id,
      old: (
        await enqueueMail(env.jobs, tx, alert(old, 'ca'), {
          clock: new TestClock(new Date(env.clock.now().getTime() - 8 * 86_400_000)),
        })
      ).id,
    }));
    // A restored database has no job queue (docs/operations.md, Backup and restore).
    await env.db.owner((tx) =>
      sql`delete from pgboss.job where name = ${MAIL_JOB} and data->>'mailId' in (${ids.recent}, ${ids.old})`.execute(
        tx,
      ),
    );
    assert.equal(await sweepUnsentMail(env), 1);
    assert.equal(await env.jobs.drain(MAIL_JOB), 1);
    await sink.waitFor(byRecipient(recent));
    assert.equal(sink.messages.filter(byRecipient(old)).length, 0);
    assert.equal((await row(ids.old))?.sent_at, null);
  });

  it('a server that is down: the attempt and its error are recorded, and the job is told to retry', async () => {
    const down = await startSmtpSink();
    const downUrl = down.url;
    await down.close(); // nothing listens there any more
    const addr = to('down');
    const id = await enqueue(alert(addr, 'ca'));
    await assert.rejects(
      sendQueuedMail({ ...env, config: { ...env.config, smtpUrl: downUrl } }, tenant.id, id),
      /not sent \(smtp\).*ECONNREFUSED/,
    );
    const r = await row(id);
    assert.equal(r?.sent_at, null);
    assert.equal(r?.attempts, 1);
    assert.match(r?.last_error ?? '', /ECONNREFUSED/);
    // Its queued job then sends it to the configured server.
    assert.equal(await env.jobs.drain(MAIL_JOB), 1);
    assert.equal((await row(id))?.attempts, 2);
    assert.equal(sink.messages.filter(byRecipient(addr)).length, 1);
  });

  it('without an SMTP server the message is written as an .eml file under <dataDir>/mail/', async () => {
    const addr = to('eml');
    const id = await enqueue(alert(addr, 'oc-aranes'));
    const local = { ...env, config: { ...env.config, smtpUrl: undefined } };
    assert.equal(await sendQueuedMail(local, tenant.id, id), 'sent');
    const file = path.join(env.dataDir, 'mail', `${id}.eml`);
    const parsed = await simpleParser(fs.readFileSync(file));
    assert.deepEqual(recipientsOf(parsed), [addr]);
    assert.equal(parsed.from?.text, '"Ajuntament de Prova" <no-reply@prova.example.cat>');
    assert.match(parsed.text ?? '', /a botat a vòsta disposicion ua notificacion/);
    assert.equal(fs.readdirSync(path.join(env.dataDir, 'mail')).filter((f) => f.endsWith('.tmp')).length, 0);
    assert.equal((await row(id))?.message_id, `<${id}@prova.example.cat>`);
    // Its job finds it sent and sends nothing.
    assert.equal(await env.jobs.drain(MAIL_JOB), 1);
    assert.equal(sink.messages.filter(byRecipient(addr)).length, 0);
  });

  it('an unusable address never undoes the act: the row records it, no job is sent', async () => {
    const id = await enqueue(alert('not an address', 'ca'));
    const r = await row(id);
    assert.equal(r?.last_error, INVALID_ADDRESS_ERROR);
    assert.equal(r?.sent_at, null);
    assert.equal(await env.jobs.drain(MAIL_JOB), 0);
  });

  it('another entity sees none of the messages', async () => {
    const id = await enqueue(alert(to('iso'), 'ca'));
    assert.equal(await row(id, other.id), undefined);
    await env.jobs.drain(MAIL_JOB);
    assert.equal(await sendQueuedMail(env, other.id, id), 'not-found');
  });
});

describe('mail configuration', () => {
  const base = { LLIGALL_DATA_DIR: '/tmp/lligall-mail-config' };
  it('production requires LLIGALL_SMTP_URL and LLIGALL_MAIL_FROM', () => {
    assert.throws(
      () => loadConfig({ ...base, LLIGALL_ENV: 'production' }),
      (e: ConfigError) =>
        e.problems.some((p) => p.startsWith('LLIGALL_SMTP_URL is required')) &&
        e.problems.some((p) => p.startsWith('LLIGALL_MAIL_FROM is required')),
    );
    const c = loadConfig({
      ...base,
      LLIGALL_ENV: 'production',
      LLIGALL_SMTP_URL: 'smtps://user:secret@mail.example.cat:465',
      LLIGALL_MAIL_FROM: 'Ajuntament <no-reply@example.cat>',
    });
    assert.equal(c.smtpUrl, 'smtps://user:secret@mail.example.cat:465');
  });
  it('elsewhere SMTP is optional and the sender has a default', () => {
    const c = loadConfig({ ...base, LLIGALL_ENV: 'demo' });
    assert.equal(c.smtpUrl, undefined);
    assert.equal(c.mailFrom, 'Lligall <no-reply@localhost>');
  });
  it('a malformed URL or sender is a config problem that does not echo the password', () => {
    assert.throws(
      () =>
        loadConfig({
          ...base,
          LLIGALL_SMTP_URL: 'https://user:secret@mail.example.cat',
          LLIGALL_MAIL_FROM: 'Ajuntament no-reply',
        }),
      (e: ConfigError) =>
        e.problems.some((p) => p.startsWith('LLIGALL_SMTP_URL must be')) &&
        e.problems.some((p) => p.startsWith('LLIGALL_MAIL_FROM must be')) &&
        !e.message.includes('secret'),
    );
  });
});
