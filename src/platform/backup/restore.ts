import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import { sql } from 'kysely';
import type { BlobStore, StagedBlob } from '../blobs/blob-store.ts';
import type { Database, Tx } from '../db/database.ts';
import { AppError } from '../errors.ts';
import { classifyEntryPath, readArchive, StopReading } from './archive.ts';
import { fsyncDir } from './backup.ts';
import { appliedMigrations, listSequences, listTables, type TableInfo } from './catalogue.ts';
import { invalid, type Manifest, type ManifestFile, type ManifestTable, parseManifest } from './manifest.ts';

/** Where a restore writes: an empty, migrated database, an empty blob store, empty file areas. */
export type RestoreTarget = {
  db: Database;
  blobs: BlobStore;
  /** Directories for the archive's `files/<area>/` entries, by area name (as given to the backup). */
  files?: Record<string, string>;
};

export type RestoreOptions = {
  /** Scratch directory for the verified entries before they are written. */
  workDir: string;
  /** Largest manifest accepted (default 256 MiB). Every other entry is bounded by the manifest. */
  maxManifestBytes?: number;
  /** Rows per INSERT (default 1000; a batch also ends at 4 MiB of JSON). */
  batchRows?: number;
};

export type RestoreSummary = {
  createdAt: string;
  sourceKind: Manifest['database']['kind'];
  tables: number;
  rows: number;
  blobs: number;
  blobBytes: number;
  files: number;
};

const BATCH_ROWS = 1000;
const BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Brings back an archive made by `createBackup`, all or nothing:
 * 1. reads the manifest and refuses unless the target is empty (no row in any table, no blob,
 *    no file in the areas) and migrated to exactly the archive's migrations;
 * 2. reads the whole archive, refusing unsafe or unexpected entries and entries larger than the
 *    manifest says, and checks the SHA-256 and size of every entry (and the row count of every
 *    table) before anything is written: blobs go to the store's temporary area, rows and files
 *    to the scratch directory;
 * 3. in ONE owner transaction inserts every table in dependency order
 *    (`jsonb_populate_recordset` in batches), sets the sequences, then moves the blobs and files
 *    into place; if anything fails, the transaction rolls back and the moved files are removed.
 */
export async function restoreBackup(
  target: RestoreTarget,
  file: string,
  opts: RestoreOptions,
): Promise<RestoreSummary> {
  const archive = path.resolve(file);
  if (!fs.existsSync(archive)) throw new AppError('NOT_FOUND', `${archive} does not exist`);
  const manifest = await readManifest(archive, opts.maxManifestBytes ?? 256 * 1024 * 1024);
  const tables = await checkTarget(target, manifest);
  const areas = target.files ?? {};
  await checkSpace(manifest, opts.workDir, target.blobs);

  await fsp.mkdir(opts.workDir, { recursive: true, mode: 0o700 });
  const work = await fsp.mkdtemp(path.join(opts.workDir, 'restore-'));
  const staged: StagedBlob[] = [];
  const created: string[] = [];
  let done = false;
  try {
    await stageArchive(archive, manifest, work, target.blobs, staged);
    await target.db.owner(async (tx) => {
      const busy = await nonEmptyTables(tx, tables);
      if (busy.length > 0) throw notEmpty(`tables ${busy.join(', ')} have rows`);
      const byName = new Map(manifest.database.tables.map((t) => [t.name, t]));
      for (const t of tables) await loadTable(tx, t, byName.get(t.name)!, work, opts.batchRows ?? BATCH_ROWS);
      // Fresh statistics, so the first queries after a restore are planned for the real sizes
      // (PGlite runs no autovacuum to collect them later).
      for (const t of tables) await sql`analyze ${sql.table(`public.${t.name}`)}`.execute(tx);
      for (const s of manifest.database.sequences) {
        if (s.lastValue === null) continue;
        await sql`select setval(${`public.${s.name}`}::regclass, ${s.lastValue}::bigint, ${s.isCalled})`.execute(
          tx,
        );
      }
      // Files last, still inside the transaction: a failure here rolls the rows back too.
      for (const b of staged) {
        if ((await target.blobs.commit(b)).created) created.push(target.blobs.pathOf(b.sha256));
      }
      staged.length = 0;
      for (const f of manifest.files) {
        const [, area, ...rest] = f.path.split('/');
        const dest = path.join(areas[area!]!, ...rest);
        await fsp.mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
        await copyAtomic(path.join(work, f.path), dest);
        created.push(dest);
      }
    });
    done = true;
  } finally {
    for (const b of staged) await target.blobs.discard(b);
    if (!done) for (const p of created) await fsp.rm(p, { force: true });
    await fsp.rm(work, { recursive: true, force: true });
  }
  return {
    createdAt: manifest.createdAt,
    sourceKind: manifest.database.kind,
    tables: manifest.database.tables.length,
    rows: manifest.database.tables.reduce((n, t) => n + t.rows, 0),
    blobs: manifest.blobs.length,
    blobBytes: manifest.blobs.reduce((n, b) => n + b.size, 0),
    files: manifest.files.length,
  };
}

/** The manifest, which must be the archive's first entry; the rest of the archive is not read. */
export async function readManifest(archive: string, maxBytes: number): Promise<Manifest> {
  let manifest: Manifest | undefined;
  let first = true;
  await readArchive(archive, async (entry, data) => {
    // Entries after the first may be announced before the first one's handler finishes.
    if (!first) {
      data.resume();
      return;
    }
    first = false;
    if (entry.path !== 'manifest.json' || entry.type !== 'File')
      throw invalid('the first entry is not manifest.json');
    if (entry.size > maxBytes) throw invalid(`manifest.json is larger than ${maxBytes} bytes`);
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of data) {
      n += (c as Buffer).length;
      if (n > maxBytes) throw invalid(`manifest.json is larger than ${maxBytes} bytes`);
      chunks.push(c as Buffer);
    }
    manifest = parseManifest(Buffer.concat(chunks).toString('utf8'));
    throw new StopReading();
  });
  if (!manifest) throw invalid('the archive is empty');
  return manifest;
}

function notEmpty(what: string): AppError {
  return new AppError(
    'CONFLICT',
    `Restore refused: the target is not empty (${what}). Restore into a new, empty installation whose database has been migrated.`,
  );
}

/** Refuses a target that is not empty or not migrated like the archive; the target's tables in load order. */
async function checkTarget(target: RestoreTarget, m: Manifest): Promise<TableInfo[]> {
  const { tables, migrations, sequences, busy } = await target.db.owner(async (tx) => {
    const tables = await listTables(tx);
    return {
      tables,
      migrations: await appliedMigrations(tx),
      sequences: await listSequences(tx),
      busy: await nonEmptyTables(tx, tables),
    };
  });
  if (busy.length > 0) throw notEmpty(`tables ${busy.join(', ')} have rows`);
  for await (const _ of target.blobs.list()) throw notEmpty(`${target.blobs.root} holds blobs`);
  const areas = target.files ?? {};
  for (const f of m.files) {
    const area = f.path.split('/')[1]!;
    if (!areas[area]) throw invalid(`it holds files of an unknown area "${area}"`);
  }
  for (const [area, dir] of Object.entries(areas)) {
    if (await hasFiles(dir)) throw notEmpty(`${dir} (${area}) holds files`);
  }
  const want = m.database.migrations.join(', ');
  const have = migrations.join(', ');
  if (want !== have) {
    throw new AppError(
      'SCHEMA_UNKNOWN',
      `Restore refused: the archive was made at migrations [${want}], the target database is at [${have}]. ` +
        'Restore with the Lligall version that made the backup into a database migrated by it, then upgrade.',
    );
  }
  const byName = new Map(tables.map((t) => [t.name, t]));
  const archived = new Set(m.database.tables.map((t) => t.name));
  for (const t of m.database.tables) {
    const mine = byName.get(t.name);
    if (!mine || mine.columns.join(',') !== t.columns.join(',')) {
      throw new AppError(
        'SCHEMA_UNKNOWN',
        `Restore refused: table ${t.name} differs between the archive and the target`,
      );
    }
  }
  for (const t of tables) {
    if (!archived.has(t.name))
      throw new AppError('SCHEMA_UNKNOWN', `Restore refused: the archive has no table ${t.name}`);
  }
  const seqs = new Set(sequences.map((s) => s.name));
  for (const s of m.database.sequences) {
    if (!seqs.has(s.name))
      throw new AppError('SCHEMA_UNKNOWN', `Restore refused: the target has no sequence ${s.name}`);
  }
  return tables;
}

async function nonEmptyTables(tx: Tx, tables: TableInfo[]): Promise<string[]> {
  const busy: string[] = [];
  for (const t of tables) {
    const r = await sql<{
      e: boolean;
    }>`select exists (select 1 from ${sql.table(`public.${t.name}`)}) as e`.execute(tx);
    if (r.rows[0]?.e) busy.push(t.name);
  }
  return busy;
}

async function hasFiles(dir: string): Promise<boolean> {
  let entries: fs.Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (e.isFile() || !e.isDirectory()) return true;
    if (await hasFiles(path.join(dir, e.name))) return true;
  }
  return false;
}

/** Refuses early when the verified entries would not fit on the disks they are staged on. */
async function checkSpace(m: Manifest, workDir: string, blobs: BlobStore): Promise<void> {
  await fsp.mkdir(workDir, { recursive: true, mode: 0o700 });
  const need = new Map<number, { dir: string; bytes: number }>();
  const add = async (dir: string, bytes: number) => {
    const dev = (await fsp.stat(dir)).dev;
    const cur = need.get(dev) ?? { dir, bytes: 0 };
    cur.bytes += bytes;
    need.set(dev, cur);
  };
  await add(
    workDir,
    m.database.tables.reduce((n, t) => n + t.size, 0) + m.files.reduce((n, f) => n + f.size, 0),
  );
  await add(
    blobs.tmpDir,
    m.blobs.reduce((n, b) => n + b.size, 0),
  );
  for (const { dir, bytes } of need.values()) {
    const st = await fsp.statfs(dir);
    const free = st.bavail * st.bsize;
    if (bytes > free) {
      throw new AppError(
        'PAYLOAD_TOO_LARGE',
        `Restore refused: it needs ${bytes} bytes in ${dir}, ${free} are free`,
      );
    }
  }
}

type Expected =
  | { kind: 'table'; table: ManifestTable }
  | { kind: 'blob'; sha256: string; size: number }
  | { kind: 'file'; file: ManifestFile };

/** Reads every entry, refusing what the manifest does not announce, and checks every hash. */
async function stageArchive(
  archive: string,
  m: Manifest,
  work: string,
  blobs: BlobStore,
  staged: StagedBlob[],
): Promise<void> {
  const expected = new Map<string, Expected>();
  for (const t of m.database.tables) expected.set(t.file, { kind: 'table', table: t });
  for (const b of m.blobs)
    expected.set(`blobs/${b.sha256}`, { kind: 'blob', sha256: b.sha256, size: b.size });
  for (const f of m.files) {
    const c = classifyEntryPath(f.path, false);
    if (c?.kind !== 'file') throw invalid(`unsafe file path in the manifest: ${f.path}`);
    expected.set(f.path, { kind: 'file', file: f });
  }
  const seen = new Set<string>();
  let first = true;
  await readArchive(archive, async (entry, data) => {
    const p = entry.path;
    const isDir = entry.type === 'Directory';
    if (first) {
      first = false;
      if (p !== 'manifest.json') throw invalid('the first entry is not manifest.json');
      data.resume(); // already read and checked
      seen.add(p);
      return;
    }
    if (!isDir && entry.type !== 'File' && entry.type !== 'OldFile') {
      throw invalid(`entry ${JSON.stringify(p)} is a ${entry.type}, not a file`);
    }
    const kind = classifyEntryPath(p, isDir);
    if (!kind) throw invalid(`unsafe or unexpected entry path ${JSON.stringify(p)}`);
    if (kind.kind === 'dir') {
      data.resume();
      return;
    }
    if (seen.has(p)) throw invalid(`entry ${p} appears twice`);
    seen.add(p);
    const exp = expected.get(p);
    if (!exp) throw invalid(`entry ${p} is not in the manifest`);
    const size = exp.kind === 'table' ? exp.table.size : exp.kind === 'blob' ? exp.size : exp.file.size;
    if (entry.size !== size) throw invalid(`entry ${p} has ${entry.size} bytes, the manifest says ${size}`);
    if (exp.kind === 'blob') {
      const s = await blobs.stage(data, { maxBytes: size });
      if (s.sha256 !== exp.sha256 || s.size !== size) {
        await blobs.discard(s);
        throw corrupt(p);
      }
      staged.push(s);
      return;
    }
    const dest = path.join(work, p);
    await fsp.mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
    const got = await writeHashed(p, data, dest, size);
    const sha = exp.kind === 'table' ? exp.table.sha256 : exp.file.sha256;
    if (got.sha256 !== sha || got.size !== size) throw corrupt(p);
    if (exp.kind === 'table' && got.lines !== exp.table.rows) {
      throw invalid(`${p} has ${got.lines} rows, the manifest says ${exp.table.rows}`);
    }
  });
  const missing = [...expected.keys()].filter((p) => !seen.has(p));
  if (missing.length > 0) {
    throw invalid(`${missing.length} entries of the manifest are missing (first: ${missing[0]})`);
  }
}

function corrupt(p: string): AppError {
  return new AppError(
    'BLOB_CORRUPT',
    `Backup archive refused: ${p} does not match its SHA-256 in the manifest`,
  );
}

/** Writes an entry to dest, counting bytes (never more than max) and newlines, hashing as it goes. */
async function writeHashed(
  name: string,
  data: Readable,
  dest: string,
  max: number,
): Promise<{ sha256: string; size: number; lines: number }> {
  const digest = createHash('sha256');
  let size = 0;
  let lines = 0;
  const fh = await fsp.open(dest, 'wx', 0o600);
  try {
    for await (const c of data) {
      const chunk = c as Buffer;
      size += chunk.length;
      if (size > max) throw invalid(`entry ${name} is larger than the manifest says`);
      digest.update(chunk);
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      await fh.write(chunk);
    }
  } finally {
    await fh.close();
  }
  return { sha256: digest.digest('hex'), size, lines };
}

/**
 * Inserts one table's rows in batches. A table with a foreign key into itself is loaded through a
 * temporary table and copied in one statement, because a foreign key is checked at the end of
 * each statement and a row may point to one in a later batch.
 */
async function loadTable(
  tx: Tx,
  t: TableInfo,
  mt: ManifestTable,
  work: string,
  batchRows: number,
): Promise<void> {
  if (mt.rows === 0) return;
  const table = sql.table(`public.${t.name}`);
  const cols = sql.join(t.insertable.map((c) => sql.id(c)));
  const overriding = t.identityAlways ? sql`overriding system value` : sql``;
  const stage = sql.id('lligall_restore_stage');
  if (t.selfReferencing) {
    await sql`create temp table ${stage} (like ${table}) on commit drop`.execute(tx);
  }
  const flush = async (batch: string[]) => {
    if (batch.length === 0) return;
    const json = `[${batch.join(',')}]`;
    const rows = sql`jsonb_populate_recordset(null::${table}, ${json}::jsonb)`;
    if (t.selfReferencing) await sql`insert into ${stage} select * from ${rows}`.execute(tx);
    else await sql`insert into ${table} (${cols}) ${overriding} select ${cols} from ${rows}`.execute(tx);
  };
  const lines = readline.createInterface({
    input: fs.createReadStream(path.join(work, mt.file)),
    crlfDelay: Infinity,
  });
  let batch: string[] = [];
  let bytes = 0;
  for await (const line of lines) {
    if (line.length === 0) continue;
    batch.push(line);
    bytes += line.length;
    if (batch.length >= batchRows || bytes >= BATCH_BYTES) {
      await flush(batch);
      batch = [];
      bytes = 0;
    }
  }
  await flush(batch);
  if (t.selfReferencing) {
    await sql`insert into ${table} (${cols}) ${overriding} select ${cols} from ${stage}`.execute(tx);
    await sql`drop table ${stage}`.execute(tx);
  }
}

/** Copy to a temporary name beside dest, fsync, rename. */
async function copyAtomic(from: string, dest: string): Promise<void> {
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${randomBytes(6).toString('hex')}.tmp`);
  await fsp.copyFile(from, tmp, fs.constants.COPYFILE_EXCL);
  try {
    const fh = await fsp.open(tmp, 'r+');
    try {
      await fh.chmod(0o600);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, dest);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(path.dirname(dest));
}
