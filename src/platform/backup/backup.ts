import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import { create as createTar } from 'tar';
import type { BlobStore } from '../blobs/blob-store.ts';
import type { Clock } from '../context.ts';
import type { Database, Tx } from '../db/database.ts';
import { AppError } from '../errors.ts';
import { appliedMigrations, listSequences, listTables, type TableInfo } from './catalogue.ts';
import {
  BACKUP_FORMAT,
  BACKUP_VERSION,
  type Manifest,
  type ManifestFile,
  type ManifestTable,
} from './manifest.ts';

/** What a backup reads: the database, the blob store, and other directories of files to keep. */
export type BackupSource = {
  db: Database;
  blobs: BlobStore;
  clock: Clock;
  /**
   * Directories of small files kept outside the database, by area name (`[a-z][a-z0-9-]*`),
   * archived under `files/<area>/`. Names starting with a dot (temporary files) are skipped.
   */
  files?: Record<string, string>;
};

export type BackupSummary = {
  file: string;
  /** SHA-256 of the archive file, to record beside it. */
  sha256: string;
  bytes: number;
  tables: number;
  rows: number;
  blobs: number;
  blobBytes: number;
  files: number;
};

const FETCH = 1000;

/**
 * Writes one consistent, verifiable archive (tar.gz) of the database and the blobs:
 * `manifest.json`, `db/<table>.jsonl` for every table of the public schema in dependency order,
 * `blobs/<sha256>` for every stored blob, and `files/<area>/…`.
 *
 * Consistency: the rows of every table are read in one REPEATABLE READ transaction (one
 * snapshot). The `files` areas are copied before the snapshot is taken, so they describe a state
 * no newer than the rows (an audit checkpoint never seals a head the archived rows lack); blobs
 * are listed after it, so every blob a row points to is present (blobs are written before the
 * rows that reference them). Every blob is verified against its hash while the archive is made:
 * a corrupt blob stops the backup rather than ending up in an archive that cannot be restored.
 *
 * The archive is written beside `file` under a temporary name and renamed when complete; an
 * existing file is never overwritten.
 */
export async function createBackup(
  src: BackupSource,
  file: string,
  opts: { workDir: string },
): Promise<BackupSummary> {
  const target = path.resolve(file);
  if (fs.existsSync(target))
    throw new AppError('CONFLICT', `${target} exists already; choose a new file name`);
  await fsp.mkdir(opts.workDir, { recursive: true, mode: 0o700 });
  const work = await fsp.mkdtemp(path.join(opts.workDir, 'backup-'));
  const partial = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${randomBytes(6).toString('hex')}.partial`,
  );
  try {
    await fsp.mkdir(path.join(work, 'db'), { mode: 0o700 });
    const files = await copyFileAreas(src.files ?? {}, work);
    const database = await src.db.owner(
      async (tx) => {
        const serverVersion = (
          await sql<{ v: string }>`select current_setting('server_version') as v`.execute(tx)
        ).rows[0]!.v;
        const migrations = await appliedMigrations(tx);
        const sequences = await listSequences(tx);
        const tables: ManifestTable[] = [];
        for (const t of await listTables(tx)) tables.push(await dumpTable(tx, t, work));
        return { kind: src.db.kind, serverVersion, migrations, tables, sequences };
      },
      { repeatableRead: true },
    );
    const blobs: Manifest['blobs'] = [];
    const shas: string[] = [];
    for await (const sha of src.blobs.list()) shas.push(sha);
    shas.sort();
    for (const sha of shas) blobs.push({ sha256: sha, size: await verifiedSize(src.blobs, sha) });
    const manifest: Manifest = {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      createdAt: src.clock.now().toISOString(),
      database,
      blobs,
      files,
    };
    await fsp.writeFile(path.join(work, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`, {
      mode: 0o600,
    });

    // Archive paths for the blobs, which are packed from the store in place.
    await (await fsp.open(partial, 'wx', 0o600)).close(); // tar truncates it, keeping the mode
    const blobEntry = new Map(shas.map((sha) => [src.blobs.pathOf(sha), `blobs/${sha}`]));
    await createTar(
      {
        gzip: true,
        file: partial,
        cwd: work,
        portable: true,
        onwarn: (code: string, message: string) => {
          if (code !== 'TAR_ENTRY_INFO') throw new Error(`${code}: ${message}`);
        },
        onWriteEntry(entry) {
          const name = blobEntry.get(entry.absolute);
          if (name) entry.path = name;
        },
      },
      [
        'manifest.json',
        ...database.tables.map((t) => t.file),
        ...files.map((f) => f.path),
        ...blobEntry.keys(),
      ],
    );
    const fh = await fsp.open(partial, 'r');
    const digest = createHash('sha256');
    try {
      for await (const chunk of fh.createReadStream({ autoClose: false })) digest.update(chunk as Buffer);
      await fh.sync();
    } finally {
      await fh.close();
    }
    const bytes = (await fsp.stat(partial)).size;
    await fsp.link(partial, target); // never replaces a file that appeared meanwhile
    await fsyncDir(path.dirname(target));
    return {
      file: target,
      sha256: digest.digest('hex'),
      bytes,
      tables: database.tables.length,
      rows: database.tables.reduce((n, t) => n + t.rows, 0),
      blobs: blobs.length,
      blobBytes: blobs.reduce((n, b) => n + b.size, 0),
      files: files.length,
    };
  } finally {
    await fsp.rm(partial, { force: true });
    await fsp.rm(work, { recursive: true, force: true });
  }
}

/** Streams one table, ordered by its primary key, through a cursor into `db/<name>.jsonl`. */
async function dumpTable(tx: Tx, t: TableInfo, work: string): Promise<ManifestTable> {
  const rel = `db/${t.name}.jsonl`;
  const order = t.primaryKey.length > 0 ? sql.join(t.primaryKey.map((c) => sql.ref(`t.${c}`))) : sql`t::text`;
  await sql`declare lligall_backup no scroll cursor for
    select to_jsonb(t)::text as j from ${sql.table(`public.${t.name}`)} as t order by ${order}`.execute(tx);
  const digest = createHash('sha256');
  let rows = 0;
  let size = 0;
  const fh = await fsp.open(path.join(work, rel), 'wx', 0o600);
  try {
    for (;;) {
      const r = await sql<{ j: string }>`fetch forward ${sql.raw(String(FETCH))} from lligall_backup`.execute(
        tx,
      );
      if (r.rows.length === 0) break;
      const chunk = Buffer.from(r.rows.map((x) => `${x.j}\n`).join(''), 'utf8');
      digest.update(chunk);
      size += chunk.length;
      rows += r.rows.length;
      await fh.write(chunk);
    }
  } finally {
    await fh.close();
  }
  await sql`close lligall_backup`.execute(tx);
  return { name: t.name, columns: t.columns, rows, file: rel, size, sha256: digest.digest('hex') };
}

/** Reads a blob through the store's verification; its size, or BLOB_CORRUPT. */
async function verifiedSize(blobs: BlobStore, sha: string): Promise<number> {
  let size = 0;
  for await (const chunk of blobs.openVerified(sha)) size += (chunk as Buffer).length;
  return size;
}

/** Copies every regular file of each area into `<work>/files/<area>/`, with its hash. */
async function copyFileAreas(areas: Record<string, string>, work: string): Promise<ManifestFile[]> {
  const out: ManifestFile[] = [];
  for (const [area, dir] of Object.entries(areas).sort(([a], [b]) => a.localeCompare(b))) {
    if (!/^[a-z][a-z0-9-]*$/.test(area)) throw new Error(`bad file area name: ${area}`);
    for (const rel of await listFiles(dir)) {
      const entry = `files/${area}/${rel}`;
      const dest = path.join(work, entry);
      await fsp.mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
      const digest = createHash('sha256');
      let size = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          digest.update(chunk);
          size += chunk.length;
          cb(null, chunk);
        },
      });
      await pipeline(
        fs.createReadStream(path.join(dir, rel)),
        meter,
        fs.createWriteStream(dest, { flags: 'wx', mode: 0o600 }),
      );
      out.push({ path: entry, size, sha256: digest.digest('hex') });
    }
  }
  return out;
}

/** Relative paths of the regular files under dir (sorted), skipping names that start with a dot. */
async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  let entries: fs.Dirent[];
  try {
    entries = await fsp.readdir(path.join(dir, prefix), { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.')) continue;
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
