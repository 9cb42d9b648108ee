import { AppError } from '../errors.ts';

export const BACKUP_FORMAT = 'lligall-backup';
export const BACKUP_VERSION = 1;

/**
 * `manifest.json`, the first entry of a backup archive: what the archive must contain, with the
 * SHA-256 and size of every other entry, so the whole archive is verified before anything is
 * restored.
 */
export type Manifest = {
  format: typeof BACKUP_FORMAT;
  version: typeof BACKUP_VERSION;
  createdAt: string;
  database: {
    kind: 'pglite' | 'postgres';
    serverVersion: string;
    /** Applied migrations: a restore needs a database migrated to exactly these. */
    migrations: string[];
    /** Tables in dependency order (referenced tables first); data in `db/<name>.jsonl`. */
    tables: ManifestTable[];
    sequences: { name: string; lastValue: string | null; isCalled: boolean }[];
  };
  /** Content-addressed blobs, in `blobs/<sha256>`. */
  blobs: { sha256: string; size: number }[];
  /** Other files kept beside the blobs, in `files/<area>/<relative path>`. */
  files: ManifestFile[];
};

export type ManifestTable = {
  name: string;
  columns: string[];
  rows: number;
  /** Entry path, `db/<name>.jsonl`: one `to_jsonb(row)` per line, ordered by primary key. */
  file: string;
  size: number;
  sha256: string;
};

export type ManifestFile = { path: string; size: number; sha256: string };

const HEX64 = /^[0-9a-f]{64}$/;
const IDENT = /^[a-z_][a-z0-9_$]*$/;

/** Checks the shape of a parsed manifest; throws VALIDATION_FAILED naming the first problem. */
export function parseManifest(text: string): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch {
    throw invalid('manifest.json is not JSON');
  }
  if (typeof m !== 'object' || m === null || m.format !== BACKUP_FORMAT)
    throw invalid('not a Lligall backup');
  if (m.version !== BACKUP_VERSION)
    throw invalid(`backup format version ${String(m.version)} is not supported`);
  const d = m.database;
  if (typeof d !== 'object' || d === null) throw invalid('manifest has no database section');
  if (d.kind !== 'pglite' && d.kind !== 'postgres') throw invalid('manifest database kind is unknown');
  if (!Array.isArray(d.migrations) || !d.migrations.every((x) => typeof x === 'string')) {
    throw invalid('manifest migrations are malformed');
  }
  if (!Array.isArray(d.tables) || !Array.isArray(d.sequences)) throw invalid('manifest tables are malformed');
  const seen = new Set<string>();
  for (const t of d.tables) {
    if (
      typeof t !== 'object' ||
      t === null ||
      typeof t.name !== 'string' ||
      !IDENT.test(t.name) ||
      t.file !== `db/${t.name}.jsonl` ||
      !Array.isArray(t.columns) ||
      !t.columns.every((c) => typeof c === 'string' && IDENT.test(c)) ||
      !isCount(t.rows) ||
      !isCount(t.size) ||
      typeof t.sha256 !== 'string' ||
      !HEX64.test(t.sha256)
    ) {
      throw invalid('a table entry of the manifest is malformed');
    }
    if (seen.has(t.name)) throw invalid(`table ${t.name} appears twice in the manifest`);
    seen.add(t.name);
  }
  for (const s of d.sequences) {
    if (
      typeof s !== 'object' ||
      s === null ||
      typeof s.name !== 'string' ||
      !IDENT.test(s.name) ||
      (s.lastValue !== null && (typeof s.lastValue !== 'string' || !/^-?\d+$/.test(s.lastValue))) ||
      typeof s.isCalled !== 'boolean'
    ) {
      throw invalid('a sequence entry of the manifest is malformed');
    }
  }
  if (!Array.isArray(m.blobs) || !Array.isArray(m.files))
    throw invalid('manifest blobs or files are malformed');
  for (const b of m.blobs) {
    if (
      typeof b !== 'object' ||
      b === null ||
      typeof b.sha256 !== 'string' ||
      !HEX64.test(b.sha256) ||
      !isCount(b.size)
    ) {
      throw invalid('a blob entry of the manifest is malformed');
    }
  }
  for (const f of m.files) {
    if (
      typeof f !== 'object' ||
      f === null ||
      typeof f.path !== 'string' ||
      !isCount(f.size) ||
      typeof f.sha256 !== 'string' ||
      !HEX64.test(f.sha256)
    ) {
      throw invalid('a file entry of the manifest is malformed');
    }
  }
  return m;
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

export function invalid(message: string): AppError {
  return new AppError('VALIDATION_FAILED', `Backup archive refused: ${message}`);
}
