/**
 * Acceptance (issue 3): registry numbers have no gap and no repeat under concurrency, registration
 * times follow the numbers, and every entry that was answered 201 has its sealed receipt — also
 * when an API process is killed (SIGKILL) in the middle and restarted.
 *
 * On PostgreSQL: two `lligall serve` processes sharing the database and the data directory (blobs,
 * master key). 1,000 concurrent filings give E/YYYY/000001…001000; then a second run kills one
 * process mid-run, restarts it (as `--role all`, so it also runs the jobs) and goes on; then a
 * third API process is killed at the very moment one of its entries is committed without its
 * receipt. In the end the numbers are exactly 1..count and every entry has its receipt: the
 * restarted process's worker issues, from the list of receipts due that each entry joins
 * (registry_receipts_due), those the killed processes could not — no operator step. On PGlite (one process owns the embedded database) 100 concurrent
 * filings go to one server.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { BlobStore } from '#platform/blobs/blob-store.ts';
import { madridYear } from '#platform/db/counters.ts';
import { backend } from '#test/helpers/harness.ts';
import {
  type Installation,
  openInstallation,
  provisionEntity,
  type ServerProcess,
  startServer,
} from '#test/helpers/installation.ts';
import { multipart } from '#test/helpers/multipart.ts';
import { nssDbTrusting, pdfsig } from '#test/helpers/pdf-tools.ts';

const IN_FLIGHT = 20;

type Answer = { status: number; number?: string; receipt?: { csv: string } | null; error?: string };

function entryBody(i: number) {
  return multipart(
    {
      direction: 'E',
      heading: 'Instància genèrica',
      summary: `Sol·licitud concurrent ${i}`,
      channel: 'in_person',
      party: JSON.stringify({ identifier: '12345678Z', name: 'Maria Rovira i Solé' }),
    },
    [
      {
        name: `annex-${i}.pdf`,
        type: 'application/pdf',
        data: Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(1024)]),
      },
    ],
  );
}

/**
 * Files `total` entries with IN_FLIGHT at once, request i to target(i); `onAnswered(n)` is called
 * after each answer (n answers so far), so a test can act mid-run. A request that cannot connect
 * (its server is gone) is recorded as status 0.
 */
async function fileConcurrently(
  total: number,
  target: (i: number) => string,
  path_: string,
  token: string,
  onAnswered?: (n: number) => Promise<void> | void,
): Promise<Answer[]> {
  const answers: Answer[] = new Array(total);
  let next = 0;
  let answered = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const body = entryBody(i);
      try {
        const res = await fetch(`${target(i)}${path_}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, ...body.headers },
          body: body.body,
        });
        const text = await res.text();
        const json =
          res.status === 201
            ? (JSON.parse(text) as { number: string; receipt: { csv: string } | null })
            : null;
        answers[i] = json
          ? { status: 201, number: json.number, receipt: json.receipt }
          : { status: res.status, error: text.slice(0, 300) };
      } catch (e) {
        answers[i] = { status: 0, error: (e as Error).message };
      }
      answered++;
      await onAnswered?.(answered);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return answers;
}

const numberOf = (year: number, n: number) => `E/${year}/${String(n).padStart(6, '0')}`;

type Row = { number: string; seq: number; registered_at: Date; receipt_sha: string | null; late: boolean };

async function entriesOf(ownerUrl: string, tenantId: string): Promise<Row[]> {
  const c = new pg.Client({ connectionString: ownerUrl });
  await c.connect();
  try {
    const r = await c.query<Row>(
      `select e.number, e.seq, e.registered_at, d.sha256 as receipt_sha,
              coalesce(r.issued_at > e.registered_at + interval '5 seconds', false) as late
         from registry_entries e
         left join registry_receipts r on r.tenant_id = e.tenant_id and r.entry_id = e.id
         left join documents d on d.tenant_id = r.tenant_id and d.id = r.document_id
        where e.tenant_id = $1 and e.direction = 'E'
        order by e.seq`,
      [tenantId],
    );
    return r.rows;
  } finally {
    await c.end();
  }
}

/** The given entries on the list of receipts due (due time, attempts, last error). */
async function receiptsDueOf(ownerUrl: string, tenantId: string, numbers: string[]): Promise<unknown[]> {
  const c = new pg.Client({ connectionString: ownerUrl });
  await c.connect();
  try {
    const r = await c.query(
      `select e.number, d.due_at, d.attempts, d.last_error, now() as now
         from registry_entries e
         left join registry_receipts_due d on d.tenant_id = e.tenant_id and d.entry_id = e.id
        where e.tenant_id = $1 and e.number = any($2)`,
      [tenantId, numbers],
    );
    return r.rows;
  } finally {
    await c.end();
  }
}

/**
 * Files entries one at a time through `server` while watching the database, and SIGKILLs the
 * server as soon as an entry exists without its receipt (committed, receipt not yet issued).
 * Returns the numbers of the entries left without a receipt at that moment.
 */
async function killWhileAReceiptIsOwed(
  ownerUrl: string,
  entity: { dir3: string; token: string; tenantId: string },
  server: ServerProcess,
): Promise<string[]> {
  const c = new pg.Client({ connectionString: ownerUrl });
  await c.connect();
  let owed: string[] = [];
  let filingsDone = false;
  const watcher = (async () => {
    while (owed.length === 0 && !filingsDone) {
      const r = await c.query<{ number: string }>(
        `select e.number from registry_entries e
          where e.tenant_id = $1 and e.direction = 'E'
            and not exists (select 1 from registry_receipts r where r.tenant_id = e.tenant_id and r.entry_id = e.id)`,
        [entity.tenantId],
      );
      if (r.rows.length) {
        await server.kill();
        owed = r.rows.map((x) => x.number);
      }
    }
  })();
  try {
    for (let i = 0; i < 200 && owed.length === 0; i++) {
      const body = entryBody(10_000 + i);
      await fetch(`${server.url}/api/v1/entities/${entity.dir3}/registry`, {
        method: 'POST',
        headers: { authorization: `Bearer ${entity.token}`, ...body.headers },
        body: body.body,
      }).then(
        (res) => res.text(),
        () => undefined, // the answer the killed process never gave
      );
    }
    filingsDone = true;
    await watcher;
    return owed;
  } finally {
    await c.end();
  }
}

function assertGapless(rows: Row[], year: number): void {
  assert.deepEqual(
    rows.map((r) => r.number),
    rows.map((_, i) => numberOf(year, i + 1)),
    'numbers are exactly 1..count, no gap, no repeat',
  );
  for (let i = 1; i < rows.length; i++)
    assert.ok(
      rows[i]!.registered_at.getTime() >= rows[i - 1]!.registered_at.getTime(),
      `${rows[i]!.number} is registered after ${rows[i - 1]!.number}`,
    );
}

describe(`registry entries filed concurrently (${backend()})`, () => {
  let inst: Installation;
  const servers: ServerProcess[] = [];

  before(async () => {
    inst = await openInstallation(backend());
    if (!fs.existsSync(path.join(inst.dataDir, 'keys', 'master.key'))) await inst.cli(['key', 'init']);
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await inst?.close();
  });

  if (backend() === 'postgres') {
    it('two API processes number 1,000 entries 1..1000, times follow numbers, each answered with its receipt', async (t) => {
      const entity = await provisionEntity(inst, { role: 'registrar', username: 'registre' });
      // Both processes share the database and the data directory (blobs, master key).
      // Started side by side (each start waits on its own process); both are stopped in after().
      const started = await Promise.allSettled([
        startServer(inst, { role: 'api' }),
        startServer(inst, { role: 'api' }),
      ]);
      const up = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      servers.push(...up);
      for (const s of started) if (s.status === 'rejected') throw s.reason;
      const [a, b] = up as [ServerProcess, ServerProcess];
      const year = madridYear(new Date());
      const answers = await fileConcurrently(
        1000,
        (i) => (i % 2 ? b.url : a.url),
        `/api/v1/entities/${entity.dir3}/registry`,
        entity.token,
      );
      const failed = answers.filter((x) => x.status !== 201);
      assert.equal(failed.length, 0, `${failed.length} filings failed, e.g. ${JSON.stringify(failed[0])}`);
      assert.deepEqual(
        answers.map((x) => x.number).sort(),
        Array.from({ length: 1000 }, (_, i) => numberOf(year, i + 1)),
      );
      const rows = await entriesOf(inst.urls!.owner, entity.tenantId);
      assertGapless(rows, year);
      assert.equal(rows.length, 1000);
      const withReceipt = answers.filter((x) => x.receipt?.csv).length;
      assert.equal(withReceipt, 1000, 'every entry was answered with its receipt');
      assert.equal(rows.filter((r) => r.receipt_sha).length, 1000);

      // Kill one process in the middle of a second run, restart it, go on.
      let killed = false;
      let restarted: ServerProcess | null = null;
      const second = await fileConcurrently(
        200,
        (i) => (i % 2 && restarted ? restarted.url : i % 2 && !killed ? b.url : a.url),
        `/api/v1/entities/${entity.dir3}/registry`,
        entity.token,
        async (n) => {
          if (n === 60 && !killed) {
            killed = true;
            await b.kill();
            // The restarted process also runs the jobs and sweepers (the receipts the killed one left).
            restarted = await startServer(inst, { role: 'all' });
            servers.push(restarted);
          }
        },
      );
      assert.ok(killed && restarted);
      const ok = second.filter((x) => x.status === 201);
      assert.ok(ok.length >= 150, `most filings of the second run succeeded (${ok.length})`);

      // Kill an API process at the moment one of its entries is committed but its receipt not yet
      // issued: filings go one at a time to a fresh API process, and a watcher on the database
      // SIGKILLs it as soon as an entry has no receipt — so at least one receipt is certainly owed.
      const c = await startServer(inst, { role: 'api' });
      servers.push(c);
      const owed = await killWhileAReceiptIsOwed(inst.urls!.owner, entity, c);
      t.diagnostic(`killed a process while ${owed.join(', ')} had no receipt`);
      assert.ok(owed.length > 0);

      // Every number answered 201 exists; numbers are 1..count; the restarted worker issues every
      // receipt the killed processes owed (from registry_receipts_due), with no operator step.
      let all = await entriesOf(inst.urls!.owner, entity.tenantId);
      for (let i = 0; i < 480 && all.some((r) => !r.receipt_sha); i++) {
        await new Promise((r) => setTimeout(r, 250));
        all = await entriesOf(inst.urls!.owner, entity.tenantId);
      }
      const unissued = all.filter((r) => !r.receipt_sha).map((r) => r.number);
      if (unissued.length) {
        t.diagnostic(
          `on the list of receipts due: ${JSON.stringify(await receiptsDueOf(inst.urls!.owner, entity.tenantId, unissued))}`,
        );
      }
      assert.deepEqual(
        unissued,
        [],
        `the restarted worker issued every receipt owed; the restarted process said:\n${unissued.length ? (restarted as ServerProcess | null)?.output() : ''}`,
      );
      for (const n of owed)
        assert.ok(all.find((r) => r.number === n)?.late, `${n}'s receipt was issued by the sweeper`);
      assertGapless(all, year);
      const stored = new Set(all.map((r) => r.number));
      for (const x of ok) assert.ok(stored.has(x.number!), `${x.number} was answered 201 and is in the book`);
      // The receipts are real signed PDFs; those issued late (by the sweeper) are checked by pdfsig.
      const blobs = new BlobStore(path.join(inst.dataDir, 'blobs'));
      for (const r of all) {
        const pdf = await blobs.readVerified(r.receipt_sha!);
        assert.ok(pdf.subarray(0, 5).toString() === '%PDF-' && pdf.includes('/ETSI.CAdES.detached'));
      }
      const ca = await inst.cli(['ca', 'export']);
      const nss = nssDbTrusting(ca.slice(ca.indexOf('-----BEGIN')));
      const late = all.filter((r) => r.late);
      t.diagnostic(
        `second run: ${ok.length}/200 answered 201, ${all.length} entries in all, ${late.length} receipts issued late (by the sweeper)`,
      );
      const sample = [...late.slice(0, 10), all[0]!, all[all.length - 1]!];
      for (const r of sample) {
        const out = pdfsig(await blobs.readVerified(r.receipt_sha!), nss).out;
        assert.match(out, /Signature is Valid/, `${r.number}: ${out}`);
        assert.match(out, /Certificate is Trusted/, `${r.number}: ${out}`);
      }
    });
  } else {
    it('one server on the embedded database numbers 100 entries 1..100, each with its receipt', async () => {
      const entity = await provisionEntity(inst, { role: 'registrar', username: 'registre' });
      const a = await startServer(inst, { role: 'api' });
      servers.push(a);
      const year = madridYear(new Date());
      const answers = await fileConcurrently(
        100,
        () => a.url,
        `/api/v1/entities/${entity.dir3}/registry`,
        entity.token,
      );
      const failed = answers.filter((x) => x.status !== 201);
      assert.equal(failed.length, 0, `${failed.length} filings failed, e.g. ${JSON.stringify(failed[0])}`);
      assert.deepEqual(
        answers.map((x) => x.number).sort(),
        Array.from({ length: 100 }, (_, i) => numberOf(year, i + 1)),
      );
      assert.equal(answers.filter((x) => x.receipt?.csv).length, 100);
    });
  }
});
