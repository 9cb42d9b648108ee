import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { PDFDocument } from 'pdf-lib';
import { type Ctx, noRequest } from '#platform/context.ts';
import { madridYear } from '#platform/db/counters.ts';
import { totpCode } from '#modules/identity/totp.ts';
import { appointHolder, createPosition, recordDelegation } from '#modules/positions/positions.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  backend,
  currentTotp,
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  type TestEnv,
  type TestUser,
  tokenHeaders,
} from '#test/helpers/harness.ts';
import { type Installation, type ServerProcess, startServer } from '#test/helpers/installation.ts';
import { multipart } from '#test/helpers/multipart.ts';

/**
 * Acceptance (issue 4, decree numbering) with real processes on PostgreSQL: 200 resolutions reach
 * their deciding signature at once through two `lligall serve --role api` processes sharing the
 * database and data directory; one process is SIGKILLed while deciding signatures are in flight
 * and restarted (`--role all`, so its worker stamps what the killed one left). A signer whose
 * request died signs again, as a mayor would. In the end the book holds exactly the next 200
 * numbers — no gap, no repeat — and every numbered decree is stamped with its number and date.
 *
 * The set-up (users with TOTP, positions, drafts, circuits) is made in this process on the same
 * database; the servers use the real clock, as does this test's clock (never moved here).
 * PostgreSQL only: on PGlite one process owns the embedded database (test/resolutions.http.test.ts
 * covers numbering there, in process).
 */

const TOTAL = 200;
const KILL_AFTER = 60;
const IN_FLIGHT = 25;

type Signed = { status: number; body: string };

if (backend() === 'postgres') {
  describe('decree numbers under concurrency, across processes, through a crash (postgres)', () => {
    let env: TestEnv;
    let app: FastifyInstance;
    let tenant: Tenant;
    let base: string;
    let creator: TestUser;
    const headers = new Map<string, Record<string, string>>();
    const servers: ServerProcess[] = [];

    const ctxOf = (admin: TestUser): Ctx => ({
      tenant: {
        id: tenant.id,
        dir3: tenant.dir3,
        slug: tenant.slug,
        name: tenant.name,
        status: tenant.status,
      },
      actor: { kind: 'user', id: admin.id, label: admin.username, platformRoles: [] },
      roles: ['admin'],
      request: noRequest,
      clock: env.clock,
    });

    async function draftWithCircuit(
      title: string,
      deciderPos: string,
      secretaryPos: string,
    ): Promise<string> {
      const doc = await PDFDocument.create();
      doc.addPage().drawText(title, { x: 50, y: 780, size: 12 });
      const form = multipart(
        { title, documentType: 'TD01', draft: 'true' },
        { name: 'decret.pdf', type: 'application/pdf', data: Buffer.from(await doc.save()) },
      );
      const expedient = await app.inject({
        method: 'POST',
        url: `${base}/expedients`,
        headers: headers.get(creator.id)!,
        payload: { title },
      });
      assert.equal(expedient.statusCode, 201, expedient.body);
      const d = await app.inject({
        method: 'POST',
        url: `${base}/expedients/${expedient.json().id}/documents`,
        headers: { ...headers.get(creator.id)!, ...form.headers },
        payload: form.body,
      });
      assert.equal(d.statusCode, 201, d.body);
      const c = await app.inject({
        method: 'POST',
        url: `${base}/documents/${d.json().id}/circuit`,
        headers: headers.get(creator.id)!,
        payload: {
          steps: [
            { kind: 'sign', mode: 'all', signers: [{ positionId: deciderPos }] },
            { kind: 'sign', mode: 'all', signers: [{ positionId: secretaryPos }] },
          ],
          resolution: { summary: title },
        },
      });
      assert.equal(c.statusCode, 201, c.body);
      return d.json().id;
    }

    /** Signs with the current TOTP code, or (`nextStep`) with the next 30-second step's. */
    async function sign(url: string, documentId: string, user: TestUser, nextStep = false): Promise<Signed> {
      const totp = nextStep
        ? totpCode(user.totpSecret!, new Date(Date.now() + 30_000))
        : currentTotp(env, user);
      try {
        const res = await fetch(`${url}/api/v1/entities/${tenant.slug}/documents/${documentId}/sign`, {
          method: 'POST',
          headers: { ...headers.get(user.id)!, 'content-type': 'application/json' },
          body: JSON.stringify({ totp }),
        });
        return { status: res.status, body: await res.text() };
      } catch (e) {
        return { status: 0, body: (e as Error).message }; // the process died with the request
      }
    }

    async function resolutions(): Promise<
      { document_id: string; number: string | null; seq: number | null; stamped_at: Date | null }[]
    > {
      return env.db.owner(async (tx) => {
        const r = await sql<{
          document_id: string;
          number: string | null;
          seq: number | null;
          stamped_at: Date | null;
        }>`SELECT document_id, number, seq, stamped_at FROM resolutions WHERE tenant_id = ${tenant.id}`.execute(
          tx,
        );
        return r.rows;
      });
    }

    before(async () => {
      env = await openTestEnv();
      app = await makeServer(env);
      tenant = await makeTenant(env);
      base = `/api/v1/entities/${tenant.slug}`;
      const admin = await makeUser(env, { tenant, roles: ['admin'], totp: true });
      creator = await makeUser(env, { tenant, roles: ['handler'], totp: true });
      headers.set(creator.id, await tokenHeaders(env, creator));
      // Whoever starts the circuits is the secretary too: the transcription is not signed here.
      await env.db.tenant(tenant.id, async (tx) => {
        const s = await createPosition(tx, ctxOf(admin), { kind: 'secretary', title: 'El secretari' });
        await appointHolder(tx, ctxOf(admin), s.id, { userId: creator.id, validFrom: '2020-01-01' });
      });
    });
    after(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      await app?.close();
      await env?.close();
    });

    it(`${TOTAL} deciding signatures at once through two API processes, one SIGKILLed mid-run: numbers 1..${TOTAL}, no gap, no repeat, every decree stamped`, async (t) => {
      const admin = await makeUser(env, { tenant, roles: ['admin'], totp: true });
      const secretaryPos = await env.db.tenant(tenant.id, async (tx) => {
        const r = await sql<{
          id: string;
        }>`SELECT id FROM positions WHERE tenant_id = ${tenant.id} AND kind = 'secretary'`.execute(tx);
        return r.rows[0]!.id;
      });
      // Each decree has its own deciding councillor (one TOTP code confirms one act of one user).
      const deciders: { user: TestUser; documentId: string }[] = new Array(TOTAL);
      const setUp = async (i: number) => {
        const user = await makeUser(env, { tenant, roles: ['handler'], totp: true });
        headers.set(user.id, await tokenHeaders(env, user));
        const pos = await env.db.tenant(tenant.id, async (tx) => {
          const p = await createPosition(tx, ctxOf(admin), {
            kind: 'councillor',
            title: `Regidor ${i + 1}`,
            area: `Àrea ${i + 1}`,
          });
          await appointHolder(tx, ctxOf(admin), p.id, { userId: user.id, validFrom: '2020-01-01' });
          await recordDelegation(tx, ctxOf(admin), p.id, {
            areas: [`Àrea ${i + 1}`],
            powers: 'Resoldre els expedients de l’àrea',
            decreeReference: `Decret 2020/${String(i + 1).padStart(6, '0')}`,
            decreeDate: '2020-01-01',
          });
          return p.id;
        });
        deciders[i] = { user, documentId: await draftWithCircuit(`Decret ${i + 1}`, pos, secretaryPos) };
      };
      // Ten at a time over the pool (the set-up is not what is measured).
      for (let i = 0; i < TOTAL; i += 10)
        await Promise.all(Array.from({ length: Math.min(10, TOTAL - i) }, (_, j) => setUp(i + j)));

      // Two API processes on this test's database and data directory (blobs, master key).
      const inst = {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          LLIGALL_ENV: 'development',
          LLIGALL_DATA_DIR: env.dataDir,
          DATABASE_URL: env.urls!.app,
          DATABASE_OWNER_URL: env.urls!.owner,
          ...(process.env.LLIGALL_DB_APP_ROLE
            ? { LLIGALL_DB_APP_ROLE: process.env.LLIGALL_DB_APP_ROLE }
            : {}),
          HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
        },
      } as unknown as Installation;
      // Started side by side (each start waits on its own process); both are stopped in after().
      const started = await Promise.allSettled([
        startServer(inst, { role: 'api' }),
        startServer(inst, { role: 'api' }),
      ]);
      const up = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      servers.push(...up);
      for (const s of started) if (s.status === 'rejected') throw s.reason;
      const [a, b] = up as [ServerProcess, ServerProcess];

      let killed = false;
      let restarted: ServerProcess | null = null;
      let answered = 0;
      let next = 0;
      const results: Signed[] = new Array(TOTAL);
      const target = (i: number) => (i % 2 === 0 ? a.url : (restarted?.url ?? (killed ? a.url : b.url)));
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < TOTAL) {
            const i = next++;
            results[i] = await sign(target(i), deciders[i]!.documentId, deciders[i]!.user);
            if (++answered === KILL_AFTER && !killed) {
              killed = true;
              await b.kill(); // requests in flight on b die with it, some after their number
              restarted = await startServer(inst, { role: 'all' });
              servers.push(restarted);
            }
          }
        }),
      );
      assert.ok(killed && restarted);
      const died = results.map((r, i) => ({ r, i })).filter(({ r }) => r.status !== 200);
      t.diagnostic(
        `${TOTAL - died.length}/${TOTAL} answered 200; lost with the killed process or refused: ${JSON.stringify(died.map(({ r }) => r.status))}`,
      );
      for (const { r } of died)
        assert.ok(r.status === 0 || r.status >= 500, `unexpected answer ${r.status} ${r.body}`);

      // Those whose request died sign again (a new TOTP step: a code is single-use). A decree
      // numbered before the crash is past its deciding step: signing again is refused (409), and
      // its number stays; one that died before its record commit signs now and gets its number.
      // The new step is the next one, whose code the server accepts now (±1 step of tolerance)
      // and which is later than any step used before: no waiting for the clock to reach it.
      const numberedBefore = new Set((await resolutions()).filter((r) => r.number).map((r) => r.document_id));
      t.diagnostic(
        `${died.filter(({ i }) => numberedBefore.has(deciders[i]!.documentId)).length} of those had their number before the process died`,
      );
      if (died.length) {
        for (const { i } of died) {
          const again = await sign(a.url, deciders[i]!.documentId, deciders[i]!.user, true);
          if (numberedBefore.has(deciders[i]!.documentId))
            assert.equal(again.status, 409, `${again.status} ${again.body}`);
          else assert.equal(again.status, 200, `${again.status} ${again.body}`);
        }
      }

      // Every decree is numbered once; the numbers are exactly 1..200 (this entity's first year).
      const rows = await resolutions();
      const mine = new Set(deciders.map((d) => d.documentId));
      const numbered = rows.filter((r) => mine.has(r.document_id));
      assert.equal(numbered.filter((r) => r.number).length, TOTAL, 'every decree has its number');
      const year = madridYear(new Date());
      assert.deepEqual(
        numbered.map((r) => r.number).sort(),
        Array.from({ length: TOTAL }, (_, i) => `${year}/${String(i + 1).padStart(6, '0')}`),
        'numbers 1..200, no gap, no repeat',
      );
      // The stamp (number and date on the PDF, before the secretary signs) is done by the request
      // that numbered the decree or, if that process died, by the restarted worker's job.
      let unstamped = numbered.filter((r) => !r.stamped_at);
      for (let i = 0; i < 480 && unstamped.length; i++) {
        await new Promise((res) => setTimeout(res, 250));
        const now = await resolutions();
        unstamped = now.filter((r) => mine.has(r.document_id) && !r.stamped_at);
      }
      assert.deepEqual(
        unstamped.map((r) => r.number),
        [],
        `every decree stamped; the restarted process said:\n${unstamped.length ? (restarted as ServerProcess | null)?.output() : ''}`,
      );
    });
  });
}
