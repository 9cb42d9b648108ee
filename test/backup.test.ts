import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import * as tar from 'tar';
import { main } from '#src/cli/main.ts';
import { createBackup } from '#platform/backup/backup.ts';
import { listTables } from '#platform/backup/catalogue.ts';
import { restoreBackup } from '#platform/backup/restore.ts';
import { Database } from '#platform/db/database.ts';
import { noRequest, systemActor } from '#platform/context.ts';
import { checkpointsDir, sealCheckpoints } from '#modules/audit/audit.checkpoint.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { verifyAudit } from '#modules/audit/audit.verify.ts';
import { backend, makeTenant, makeUser, openTestEnv, type TestEnv } from '#test/helpers/harness.ts';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-backup-test-'));
let source: TestEnv;
let archive: string;
const blobs: Buffer[] = [
  Buffer.from('%PDF-1.7 a small document'),
  randomBytes(600_000), // incompressible
  Buffer.alloc(2_000_000, 7), // compresses far beyond 1000:1
];

const src = (env: TestEnv) => ({
  db: env.db,
  blobs: env.blobs,
  clock: env.clock,
  files: { checkpoints: checkpointsDir(env.blobs) },
});
const dst = (env: TestEnv) => ({
  db: env.db,
  blobs: env.blobs,
  files: { checkpoints: checkpointsDir(env.blobs) },
});
const work = (env: TestEnv) => ({ workDir: path.join(env.dataDir, 'tmp') });

/** Every row of every table, as PostgreSQL serialises it, in primary-key order. */
async function snapshot(env: TestEnv): Promise<Record<string, string[]>> {
  return env.db.owner(async (tx) => {
    const out: Record<string, string[]> = {};
    for (const t of await listTables(tx)) {
      const r = await sql<{
        j: string;
      }>`select to_jsonb(t)::text as j from ${sql.table(`public.${t.name}`)} as t
        order by ${sql.join(t.primaryKey.map((c) => sql.ref(`t.${c}`)))}`.execute(tx);
      out[t.name] = r.rows.map((x) => x.j);
    }
    return out;
  });
}

async function assertEmpty(env: TestEnv): Promise<void> {
  const snap = await snapshot(env);
  for (const [t, rows] of Object.entries(snap)) assert.equal(rows.length, 0, `${t} has rows`);
  for await (const sha of env.blobs.list()) assert.fail(`blob ${sha} was written`);
  assert.equal(fs.existsSync(checkpointsDir(env.blobs)), false);
  assert.deepEqual(fs.readdirSync(env.blobs.tmpDir), []);
}

/**
 * Unpacks an archive, lets fn change it, and packs it again in the same order; `extra.add` is
 * appended as the entry path `extra.as` (which may be unsafe).
 */
async function repack(
  from: string,
  to: string,
  fn: (dir: string) => void,
  extra?: { add: string; as: string },
) {
  const dir = fs.mkdtempSync(path.join(scratch, 'repack-'));
  const names: string[] = [];
  await tar.t({ file: from, onReadEntry: (e) => names.push(e.path) });
  await tar.x({ file: from, cwd: dir });
  fn(dir);
  if (extra) names.push(extra.add);
  await tar.c(
    {
      gzip: true,
      file: to,
      cwd: dir,
      portable: true,
      noDirRecurse: true,
      preservePaths: true,
      onWriteEntry(e) {
        if (extra && e.path === extra.add) e.path = extra.as;
      },
    },
    names,
  );
}

before(async () => {
  source = await openTestEnv();
  const t1 = await makeTenant(source, { name: "Ajuntament d'Abella" });
  const t2 = await makeTenant(source);
  await makeUser(source, { tenant: t1, roles: ['admin', 'handler'] });
  await makeUser(source, { tenant: t2 });
  for (let i = 0; i < 25; i++) {
    source.clock.advance(1500);
    await source.db.tenant(t1.id, (tx) =>
      recordEvent(tx, {
        tenantId: t1.id,
        actor: systemActor,
        request: noRequest,
        clock: source.clock,
        action: 'test.event',
        details: { i, text: 'Vall d’Aran — àéíòú', n: 12345678901 },
      }),
    );
  }
  for (const b of blobs) await source.blobs.put(b);
  await source.db.owner(async (tx) => {
    // More rows than one batch (the dump fetches and the restore inserts 1000 at a time).
    await sql`insert into units (tenant_id, id, name, kind, created_at)
      select ${t1.id}::uuid, gen_random_uuid(), 'Unitat ' || i, 'unit', now()
      from generate_series(1, 2500) as i`.execute(tx);
    // A row that points to a later row of its own table (ids are not always in creation order).
    await sql`insert into tenants (id, kind, name, dir3, slug, parent_id, language, status, created_at, updated_at)
      values ('00000000-0000-7000-8000-000000000001', 'emd', 'EMD de Prova', 'L05999991', 'emd-de-prova',
              ${t2.id}, 'ca', 'live', now(), now())`.execute(tx);
  });
  await sealCheckpoints(source);
  archive = path.join(scratch, 'lligall.tar.gz');
  const r = await createBackup(src(source), archive, work(source));
  assert.equal(r.blobs, 3);
  assert.ok(r.rows > 30);
  assert.match(r.sha256, /^[0-9a-f]{64}$/);
});

after(async () => {
  await source?.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('backup and restore', () => {
  test('the archive holds a manifest first, every table in dependency order, the blobs and the checkpoints', async () => {
    const names: string[] = [];
    await tar.t({ file: archive, onReadEntry: (e) => names.push(e.path) });
    assert.equal(names[0], 'manifest.json');
    assert.equal(fs.statSync(archive).mode & 0o777, 0o600);
    const m = JSON.parse(
      await new Promise<string>((resolve, reject) => {
        let text = '';
        tar
          .t({
            file: archive,
            onReadEntry: (e) => e.path === 'manifest.json' && e.on('data', (c) => (text += c)),
          })
          .then(() => resolve(text), reject);
      }),
    );
    assert.equal(m.format, 'lligall-backup');
    assert.equal(m.database.kind, source.db.kind);
    assert.ok(m.database.migrations.includes('0001-core'));
    const tables: string[] = m.database.tables.map((t: { name: string }) => t.name);
    assert.ok(!tables.some((t) => t.startsWith('kysely_migration')));
    for (const [child, parent] of [
      ['memberships', 'tenants'],
      ['memberships', 'users'],
      ['unit_members', 'units'],
      ['index_entries', 'documents'],
      ['index_entries', 'expedients'],
    ] as const) {
      assert.ok(tables.indexOf(parent) < tables.indexOf(child), `${parent} before ${child}`);
    }
    for (const t of tables) assert.ok(names.includes(`db/${t}.jsonl`));
    for (const b of m.blobs) assert.ok(names.includes(`blobs/${b.sha256}`));
    assert.ok(names.some((n) => /^files\/checkpoints\/[0-9a-f-]{36}\/\d{20}\.json$/.test(n)));
    const audit = m.database.tables.find((t: { name: string }) => t.name === 'audit_events');
    assert.ok(audit.rows >= 25);
  });

  test('an existing file is never overwritten', async () => {
    await assert.rejects(createBackup(src(source), archive, work(source)), { code: 'CONFLICT' });
  });

  test('a restore into a non-empty installation is refused', async () => {
    await assert.rejects(restoreBackup(dst(source), archive, work(source)), { code: 'CONFLICT' });
  });

  describe('into a fresh installation', () => {
    let target: TestEnv;
    before(async () => {
      // The master key travels apart from the backups; the new installation is given the same one.
      target = await openTestEnv({ config: { masterKeyFile: source.config.masterKeyFile } });
    });
    after(async () => {
      await target?.close();
    });

    test('a blob changed by one byte is refused and nothing is written', async () => {
      const bad = path.join(scratch, 'blob-changed.tar.gz');
      await repack(archive, bad, (dir) => {
        const f = path.join(dir, 'blobs', sha256(blobs[1]!));
        const data = fs.readFileSync(f);
        data[1000] = data[1000]! ^ 0x01;
        fs.writeFileSync(f, data);
      });
      await assert.rejects(restoreBackup(dst(target), bad, work(target)), {
        code: 'BLOB_CORRUPT',
        message: /blobs\/[0-9a-f]{64} does not match its SHA-256/,
      });
      await assertEmpty(target);
    });

    test('a changed row is refused and nothing is written', async () => {
      const bad = path.join(scratch, 'row-changed.tar.gz');
      await repack(archive, bad, (dir) => {
        const f = path.join(dir, 'db', 'audit_events.jsonl');
        fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('test.event', 'test.evenT'));
      });
      await assert.rejects(restoreBackup(dst(target), bad, work(target)), { code: 'BLOB_CORRUPT' });
      await assertEmpty(target);
    });

    test('a damaged archive file is refused and nothing is written', async () => {
      const bad = path.join(scratch, 'byte-flipped.tar.gz');
      const data = fs.readFileSync(archive);
      const at = Math.floor(data.length * 0.6);
      data[at] = data[at]! ^ 0xff;
      fs.writeFileSync(bad, data);
      await assert.rejects(restoreBackup(dst(target), bad, work(target)));
      await assertEmpty(target);
    });

    test('entries with unsafe paths are refused and nothing is written', async () => {
      for (const evil of [
        '../evil',
        '/tmp/lligall-evil',
        'db/../../evil',
        'blobs/./x',
        'files/checkpoints/../../x',
      ]) {
        const bad = path.join(scratch, `unsafe-${randomBytes(4).toString('hex')}.tar.gz`);
        await repack(archive, bad, (dir) => fs.writeFileSync(path.join(dir, 'extra'), 'x'), {
          add: 'extra',
          as: evil,
        });
        await assert.rejects(
          restoreBackup(dst(target), bad, work(target)),
          { code: 'VALIDATION_FAILED' },
          evil,
        );
      }
      assert.equal(fs.existsSync(path.join(scratch, 'evil')), false);
      assert.equal(fs.existsSync('/tmp/lligall-evil'), false);
      await assertEmpty(target);
    });

    test('an archive whose first entry is not the manifest is refused', async () => {
      const bad = path.join(scratch, 'no-manifest.tar.gz');
      const dir = fs.mkdtempSync(path.join(scratch, 'nomanifest-'));
      fs.writeFileSync(path.join(dir, 'readme.txt'), 'hello');
      await tar.c({ gzip: true, file: bad, cwd: dir }, ['readme.txt']);
      await assert.rejects(restoreBackup(dst(target), bad, work(target)), { code: 'VALIDATION_FAILED' });
      await assertEmpty(target);
    });

    test('the archive restores the same rows, byte-identical blobs and checkpoints, and the audit log verifies', async () => {
      // Small batches: a tenant row whose parent comes in a later batch must still load.
      const r = await restoreBackup(dst(target), archive, { ...work(target), batchRows: 1 });
      assert.equal(r.blobs, 3);
      const before = await snapshot(source);
      const restored = await snapshot(target);
      assert.deepEqual(Object.keys(restored), Object.keys(before));
      for (const t of Object.keys(before)) {
        assert.equal(restored[t]!.length, before[t]!.length, `${t} row count`);
        assert.deepEqual(restored[t], before[t], `${t} rows`);
      }
      assert.ok(before.audit_events!.length >= 25);
      for (const b of blobs) {
        const sha = sha256(b);
        assert.ok((await target.blobs.readVerified(sha)).equals(b));
      }
      const cpFiles = (d: string) => fs.readdirSync(d, { recursive: true, encoding: 'utf8' }).sort();
      assert.deepEqual(cpFiles(checkpointsDir(target.blobs)), cpFiles(checkpointsDir(source.blobs)));
      const results = await verifyAudit(target);
      assert.ok(results.length >= 3);
      for (const v of results) {
        assert.equal(v.ok, true, `${v.tenantId}: ${v.reason}`);
        assert.ok(v.checkpoints >= 1);
      }
      // The restored database works: the application keeps appending to the restored chains.
      const t = await makeTenant(target);
      assert.ok(t.id);
      await assert.rejects(restoreBackup(dst(target), archive, work(target)), { code: 'CONFLICT' });
    });
  });
});

// Moving an embedded installation to a PostgreSQL server (and back) is a restore across backends;
// it needs both, so it runs with the PostgreSQL suite (which always has PGlite too).
if (backend() === 'postgres') {
  describe('across backends', () => {
    test('an archive made on PGlite restores into PostgreSQL, and back, and verifies', async () => {
      process.env.LLIGALL_TEST_BACKEND = 'pglite';
      const lite = await openTestEnv({ config: { masterKeyFile: source.config.masterKeyFile } });
      process.env.LLIGALL_TEST_BACKEND = 'postgres';
      const server = await openTestEnv({ config: { masterKeyFile: source.config.masterKeyFile } });
      const lite2 = await (async () => {
        process.env.LLIGALL_TEST_BACKEND = 'pglite';
        try {
          return await openTestEnv({ config: { masterKeyFile: source.config.masterKeyFile } });
        } finally {
          process.env.LLIGALL_TEST_BACKEND = 'postgres';
        }
      })();
      try {
        assert.equal(lite.db.kind, 'pglite');
        assert.equal(server.db.kind, 'postgres');
        // The archive made on PostgreSQL (this suite's source) into PGlite first…
        await restoreBackup(dst(lite), archive, work(lite));
        for (const v of await verifyAudit(lite)) assert.equal(v.ok, true, v.reason);
        const t = await makeTenant(lite);
        await makeUser(lite, { tenant: t });
        // …then PGlite's own archive into PostgreSQL and back into a new PGlite.
        const fromLite = path.join(scratch, 'from-pglite.tar.gz');
        await sealCheckpoints(lite);
        await createBackup(src(lite), fromLite, work(lite));
        await restoreBackup(dst(server), fromLite, work(server));
        for (const v of await verifyAudit(server, { seal: false })) assert.equal(v.ok, true, v.reason);
        assert.deepEqual(await snapshot(server), await snapshot(lite));
        const fromServer = path.join(scratch, 'from-postgres.tar.gz');
        await createBackup(src(server), fromServer, work(server));
        await restoreBackup(dst(lite2), fromServer, work(lite2));
        assert.deepEqual(await snapshot(lite2), await snapshot(server));
      } finally {
        await lite.close();
        await server.close();
        await lite2.close();
      }
    });
  });
}

describe('the CLI', () => {
  test('lligall backup, restore and audit verify', async () => {
    const a = fs.mkdtempSync(path.join(scratch, 'cli-a-'));
    const b = fs.mkdtempSync(path.join(scratch, 'cli-b-'));
    const key = path.join(a, 'keys', 'master.key');
    let pgA: TestEnv | undefined;
    let pgB: TestEnv | undefined;
    const vars = (dataDir: string, pg?: TestEnv): Record<string, string | undefined> => ({
      LLIGALL_ENV: 'test',
      LLIGALL_DATA_DIR: dataDir,
      LLIGALL_MASTER_KEY_FILE: key,
      LOG_LEVEL: 'warn',
      DATABASE_URL: pg?.urls?.app,
      DATABASE_OWNER_URL: pg?.urls?.owner,
    });
    if (backend() === 'postgres') {
      pgA = await openTestEnv();
      pgB = await openTestEnv();
    }
    try {
      const va = vars(a, pgA);
      const vb = vars(b, pgB);
      const created = await cli(
        ['tenant', 'create', '--name', 'Ajuntament de Prova CLI', '--dir3', 'L01259990'],
        va,
      );
      assert.equal(created.code, 0, created.err.join('\n'));
      const user = await cli(
        [
          'user',
          'create',
          '--username',
          'cli-admin',
          '--password',
          'a long password',
          '--entity',
          'L01259990',
          '--role',
          'admin',
        ],
        va,
      );
      assert.equal(user.code, 0, user.err.join('\n'));
      const verified = await cli(['audit', 'verify'], va);
      assert.equal(verified.code, 0, verified.err.join('\n'));
      assert.match(verified.out.join('\n'), /^ok +platform/m);
      assert.match(verified.out.join('\n'), /^ok +L01259990/m);
      const file = path.join(scratch, 'cli.tar.gz');
      const backedUp = await cli(['backup', file], va);
      assert.equal(backedUp.code, 0, backedUp.err.join('\n'));
      assert.match(backedUp.out.join('\n'), /backup written: .*sha256 [0-9a-f]{64}/s);
      const restored = await cli(['restore', file], vb);
      assert.equal(restored.code, 0, restored.err.join('\n') + restored.out.join('\n'));
      assert.match(restored.out.join('\n'), /^ok +L01259990/m);
      assert.match(restored.out.join('\n'), /0 failed/);

      // Tamper with the restored copy: the CLI names the entity and the first bad seq, and fails.
      const tamper = async (db: Database) => {
        await db.owner(async (tx) => {
          const t = await tx
            .selectFrom('tenants')
            .select('id')
            .where('dir3', '=', 'L01259990')
            .executeTakeFirstOrThrow();
          await sql`update audit_events set action = 'forged' where tenant_id = ${t.id} and seq = 1`.execute(
            tx,
          );
        });
      };
      if (pgB) await tamper(pgB.db);
      else {
        const db = await Database.open({ pgliteDir: path.join(b, 'db'), appRole: 'lligall_app' });
        try {
          await tamper(db);
        } finally {
          await db.close();
        }
      }
      const failed = await cli(['audit', 'verify', '--tenant', 'L01259990'], vb);
      assert.equal(failed.code, 3);
      assert.match(failed.out.join('\n'), /^FAIL +L01259990 .*first bad seq 1: /m);
      assert.match(failed.err.join('\n'), /audit chain of L01259990 .* is broken at seq 1/);
      const platformOnly = await cli(['audit', 'verify', '--tenant', 'platform'], vb);
      assert.equal(platformOnly.code, 0, platformOnly.out.join('\n'));
      const sealed = await cli(['audit', 'checkpoint'], vb);
      assert.equal(sealed.code, 0, sealed.out.join('\n'));
      assert.match(sealed.out.join('\n'), /unchanged .* seq 1\n.* 0 refused$/s);
    } finally {
      await pgA?.close();
      await pgB?.close();
    }
  });
});

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

async function cli(
  args: string[],
  vars: Record<string, string | undefined>,
): Promise<{ code: number; out: string[]; err: string[] }> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const out: string[] = [];
  const err: string[] = [];
  try {
    const code = await main(['node', 'lligall', ...args], {
      log: (l) => out.push(l),
      error: (l) => err.push(l),
    });
    return { code, out, err };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
