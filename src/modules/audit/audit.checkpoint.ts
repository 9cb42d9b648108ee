import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import canonicalize from 'canonicalize';
import { sql } from 'kysely';
import type { BlobStore } from '#platform/blobs/blob-store.ts';
import type { Clock } from '#platform/context.ts';
import type { Database } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { GENESIS_HASH } from './audit.chain.ts';
import { createChainWalker, readChain } from './audit.walk.ts';

/** What sealing and verifying need (AppDeps has all of it). */
export type AuditDeps = {
  config: { env: string; masterKeyFile: string };
  db: Database;
  blobs: BlobStore;
  clock: Clock;
};

/**
 * A checkpoint: the head of one audit chain at one moment, kept outside the database and sealed
 * with a key the database does not hold, so that rewriting the whole chain in the database is
 * detected (ARCHITECTURE data rule 5).
 *
 * Stored as `<blobs>/checkpoints/<tenantId>/<seq, 20 digits>.json` beside
 * `<seq, 20 digits>.hashes`: the hash of every event from `fromSeq` (the previous checkpoint's seq
 * + 1) to `seq`, one 64-hex line each (fixed width: line i is event fromSeq + i). The seal is an
 * HMAC-SHA256, keyed from the master key, over the RFC 8785 canonical JSON of every other field,
 * and covers the hash list through `hashesSha256`.
 */
export type Checkpoint = {
  format: typeof CHECKPOINT_FORMAT;
  tenantId: string;
  seq: number;
  hash: string;
  /** First seq whose hash is in the hash list (1 for the first checkpoint of a chain). */
  fromSeq: number;
  /** Hash of event fromSeq - 1 (the previous checkpoint's hash; the genesis hash for the first). */
  prevHash: string;
  /** SHA-256 of the hash-list file. */
  hashesSha256: string;
  sealedAt: string;
};

export type SealedCheckpoint = Checkpoint & { seal: string };

export const CHECKPOINT_FORMAT = 'lligall-audit-checkpoint/1';

const HEX64 = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CHECKPOINT_FILE = /^(\d{20})\.json$/;
/** One line of a hash list: 64 hex digits and a newline. */
const LINE = 65;
/** Session-independent lock id: one sealer at a time across processes and nodes. */
const SEAL_LOCK = 7_243_110_001;

// ---------------------------------------------------------------- master key and seal

/**
 * The master key (ARCHITECTURE: from a file named in the config, never from the database).
 * Outside production a missing key file is created (32 random bytes, mode 0600, directory 0700);
 * in production it is an error, because a new key would make every existing seal unverifiable.
 */
export function loadMasterKey(config: AuditDeps['config']): Buffer {
  const file = config.masterKeyFile;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const key = fs.readFileSync(file);
      if (key.length < 32) {
        throw new AppError('INTERNAL', `The master key file ${file} holds fewer than 32 bytes`);
      }
      return key;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (config.env === 'production') {
      throw new AppError(
        'INTERNAL',
        `The master key file ${file} does not exist (LLIGALL_MASTER_KEY_FILE). On a new installation create it with ` +
          '"lligall key init"; otherwise restore it from the key backup: a new key cannot verify existing audit checkpoints or decrypt stored keys.',
      );
    }
    createKeyFile(file);
  }
  throw new AppError('INTERNAL', `Could not read the master key file ${file}`);
}

/** Writes 32 random bytes to a temporary file, fsyncs it and links it into place (never overwrites). */
export function createKeyFile(file: string): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, randomBytes(32));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, file); // fails if another process created the key meanwhile: keep theirs
    fsyncDirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** The seal key, derived from the master key so the raw key is never used for two purposes. */
export function sealKey(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'lligall/audit-checkpoint-seal/v1', 32));
}

export function sealCheckpoint(key: Buffer, cp: Checkpoint): SealedCheckpoint {
  return { ...cp, seal: computeSeal(key, cp) };
}

/** True when the seal matches the other fields under this key. */
export function checkSeal(key: Buffer, sealed: SealedCheckpoint): boolean {
  const { seal, ...rest } = sealed;
  if (typeof seal !== 'string' || !HEX64.test(seal)) return false;
  return timingSafeEqual(Buffer.from(seal, 'hex'), Buffer.from(computeSeal(key, rest), 'hex'));
}

function computeSeal(key: Buffer, cp: Checkpoint): string {
  const body: Checkpoint = {
    format: cp.format,
    tenantId: cp.tenantId,
    seq: cp.seq,
    hash: cp.hash,
    fromSeq: cp.fromSeq,
    prevHash: cp.prevHash,
    hashesSha256: cp.hashesSha256,
    sealedAt: cp.sealedAt,
  };
  return createHmac('sha256', key).update(canonicalize(body)!).digest('hex');
}

// ---------------------------------------------------------------- files

export function checkpointsDir(blobs: BlobStore): string {
  return path.join(blobs.root, 'checkpoints');
}

function chainDir(blobs: BlobStore, tenantId: string): string {
  if (!UUID.test(tenantId)) throw new Error(`not a tenant id: ${tenantId}`);
  return path.join(checkpointsDir(blobs), tenantId);
}

const pad = (seq: number) => String(seq).padStart(20, '0');

/** Tenant ids that have a checkpoint directory. */
export async function listCheckpointChains(blobs: BlobStore): Promise<string[]> {
  const names = await fsp.readdir(checkpointsDir(blobs)).catch(() => [] as string[]);
  return names.filter((n) => UUID.test(n)).sort();
}

/** The seqs of a chain's checkpoint files, ascending; null when the chain has no directory. */
export async function listCheckpointSeqs(blobs: BlobStore, tenantId: string): Promise<number[] | null> {
  let names: string[];
  try {
    names = await fsp.readdir(chainDir(blobs, tenantId));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return names
    .map((n) => CHECKPOINT_FILE.exec(n)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** A checkpoint read from disk whose seal (and, when asked, hash list) checked out. */
export type LoadedCheckpoint = SealedCheckpoint & { hashesPath: string };

export type CheckpointLoad =
  | { ok: true; checkpoint: LoadedCheckpoint }
  | { ok: false; file: string; reason: string };

/**
 * Reads and checks one checkpoint: its shape, its seal, and (with checkHashes) that its hash list
 * has the sealed digest and length and ends with the sealed head hash.
 */
export async function loadCheckpoint(
  blobs: BlobStore,
  key: Buffer,
  tenantId: string,
  seq: number,
  opts: { checkHashes: boolean },
): Promise<CheckpointLoad> {
  const dir = chainDir(blobs, tenantId);
  const file = path.join(dir, `${pad(seq)}.json`);
  const hashesPath = path.join(dir, `${pad(seq)}.hashes`);
  const bad = (reason: string): CheckpointLoad => ({ ok: false, file, reason });
  let parsed: unknown;
  try {
    const st = await fsp.stat(file);
    if (st.size > 64 * 1024) return bad('file is too large to be a checkpoint');
    parsed = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch (e) {
    return bad(`unreadable (${(e as Error).message})`);
  }
  const cp = parsed as SealedCheckpoint;
  if (!isCheckpointShape(cp)) return bad('not a checkpoint');
  if (!checkSeal(key, cp)) {
    return bad(
      'its seal does not match (altered, or sealed with another master key: check LLIGALL_MASTER_KEY_FILE)',
    );
  }
  if (cp.tenantId !== tenantId || cp.seq !== seq)
    return bad('its tenant or seq does not match its file name');
  if (opts.checkHashes) {
    const count = cp.seq - cp.fromSeq + 1;
    const st = await fsp.stat(hashesPath).catch(() => null);
    if (!st) return bad('its hash list is missing');
    if (st.size !== count * LINE) return bad('its hash list has the wrong length');
    const digest = createHash('sha256');
    for await (const chunk of fs.createReadStream(hashesPath)) digest.update(chunk as Buffer);
    if (digest.digest('hex') !== cp.hashesSha256) return bad('its hash list does not match its seal');
    const reader = await openHashList(hashesPath, cp.fromSeq, cp.seq);
    try {
      if ((await reader.read(cp.seq)) !== cp.hash)
        return bad('its hash list does not end with its head hash');
      if (cp.fromSeq === 1 && cp.prevHash !== GENESIS_HASH)
        return bad('its first link is not the genesis hash');
    } finally {
      await reader.close();
    }
  }
  return { ok: true, checkpoint: { ...cp, hashesPath } };
}

function isCheckpointShape(x: SealedCheckpoint): boolean {
  return (
    typeof x === 'object' &&
    x !== null &&
    x.format === CHECKPOINT_FORMAT &&
    typeof x.tenantId === 'string' &&
    Number.isSafeInteger(x.seq) &&
    Number.isSafeInteger(x.fromSeq) &&
    x.fromSeq >= 1 &&
    x.fromSeq <= x.seq &&
    typeof x.hash === 'string' &&
    HEX64.test(x.hash) &&
    typeof x.prevHash === 'string' &&
    HEX64.test(x.prevHash) &&
    typeof x.hashesSha256 === 'string' &&
    HEX64.test(x.hashesSha256) &&
    typeof x.sealedAt === 'string'
  );
}

/** Random access to a fixed-width hash list, read in blocks as the seq advances. */
export type HashListReader = {
  /** The sealed hash of seq, or undefined outside the list. */
  read(seq: number): Promise<string | undefined>;
  close(): Promise<void>;
};

export async function openHashList(file: string, fromSeq: number, toSeq: number): Promise<HashListReader> {
  const fh = await fsp.open(file, 'r');
  const blockLines = 4096;
  let blockStart = 0; // first seq in the buffer
  let blockEnd = -1; // last seq in the buffer
  let buf = Buffer.alloc(0);
  return {
    async read(seq) {
      if (seq < fromSeq || seq > toSeq) return undefined;
      if (seq < blockStart || seq > blockEnd) {
        const n = Math.min(blockLines, toSeq - seq + 1);
        buf = Buffer.alloc(n * LINE);
        const { bytesRead } = await fh.read(buf, 0, buf.length, (seq - fromSeq) * LINE);
        if (bytesRead !== buf.length) throw new Error(`hash list ${file} is shorter than sealed`);
        blockStart = seq;
        blockEnd = seq + n - 1;
      }
      const at = (seq - blockStart) * LINE;
      return buf.toString('latin1', at, at + 64);
    },
    async close() {
      await fh.close();
    },
  };
}

// ---------------------------------------------------------------- sealing

export type SealResult = {
  tenantId: string;
  /** sealed: a new checkpoint; unchanged: the head has not moved; refused: the new events do not verify. */
  status: 'sealed' | 'unchanged' | 'refused';
  /** The head seq that is now sealed (or that was found). */
  seq: number;
  reason?: string;
};

/**
 * Seals a checkpoint for every chain whose head moved since its latest checkpoint (every
 * tenant_id in audit_heads, the platform pseudo-tenant included).
 */
export async function sealCheckpoints(
  deps: AuditDeps,
  opts: { tenantIds?: string[] } = {},
): Promise<SealResult[]> {
  const key = sealKey(loadMasterKey(deps.config));
  const heads = await deps.db.owner(async (tx) => {
    let q = tx.selectFrom('audit_heads').select(['tenant_id', 'seq', 'hash']).orderBy('tenant_id');
    if (opts.tenantIds) {
      if (opts.tenantIds.length === 0) return [];
      q = q.where('tenant_id', 'in', opts.tenantIds);
    }
    return q.execute();
  });
  const results: SealResult[] = [];
  for (const h of heads) {
    // Cheap test outside the lock: the latest checkpoint already seals this head.
    const seqs = await listCheckpointSeqs(deps.blobs, h.tenant_id);
    const latestSeq = seqs?.at(-1);
    if (latestSeq !== undefined && latestSeq === Number(h.seq)) {
      const latest = await loadCheckpoint(deps.blobs, key, h.tenant_id, latestSeq, { checkHashes: false });
      if (latest.ok && latest.checkpoint.hash === h.hash) {
        results.push({ tenantId: h.tenant_id, status: 'unchanged', seq: latestSeq });
        continue;
      }
    }
    results.push(await sealChain(deps, key, h.tenant_id));
  }
  return results;
}

/**
 * Seals the head of one chain. Only what is new since the latest checkpoint is read, and it is
 * verified first (links and content, from the latest checkpoint's hash), so a chain already
 * broken in the database is never sealed as if it were sound.
 */
export async function sealChain(deps: AuditDeps, key: Buffer, tenantId: string): Promise<SealResult> {
  const dir = chainDir(deps.blobs, tenantId);
  return deps.db.owner(
    async (tx) => {
      await sql`select pg_advisory_xact_lock(${SEAL_LOCK})`.execute(tx);
      const refuse = (seq: number, reason: string): SealResult => ({
        tenantId,
        status: 'refused',
        seq,
        reason,
      });
      const head = await tx
        .selectFrom('audit_heads')
        .select(['seq', 'hash'])
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      if (!head || Number(head.seq) === 0) return { tenantId, status: 'unchanged', seq: 0 };
      const headSeq = Number(head.seq);
      const seqs = (await listCheckpointSeqs(deps.blobs, tenantId)) ?? [];
      let start = { seq: 0, hash: GENESIS_HASH };
      const latestSeq = seqs.at(-1);
      if (latestSeq !== undefined) {
        const latest = await loadCheckpoint(deps.blobs, key, tenantId, latestSeq, { checkHashes: false });
        if (!latest.ok) return refuse(headSeq, `latest checkpoint ${latest.file}: ${latest.reason}`);
        start = { seq: latest.checkpoint.seq, hash: latest.checkpoint.hash };
        if (headSeq < start.seq) {
          return refuse(
            headSeq,
            `the chain head (${headSeq}) is behind its latest checkpoint (${start.seq})`,
          );
        }
        if (headSeq === start.seq) {
          if (head.hash === start.hash) return { tenantId, status: 'unchanged', seq: headSeq };
          return refuse(headSeq, `the chain head hash differs from its checkpoint at seq ${headSeq}`);
        }
      }
      await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
      const hashesTmp = path.join(dir, `.${pad(headSeq)}.hashes.${randomBytes(6).toString('hex')}.tmp`);
      const out = await fsp.open(hashesTmp, 'wx', 0o600);
      let committed = false;
      try {
        const digest = createHash('sha256');
        const walker = createChainWalker(start);
        for await (const batch of readChain(tx, tenantId, { fromSeq: start.seq + 1, toSeq: headSeq })) {
          const lines: string[] = [];
          for (const e of batch) {
            const problem = walker.step(e);
            if (problem) return refuse(headSeq, problem.reason);
            lines.push(`${e.hash}\n`);
          }
          const chunk = Buffer.from(lines.join(''), 'latin1');
          digest.update(chunk);
          await out.write(chunk);
        }
        const last = walker.last;
        if (last.seq !== headSeq)
          return refuse(headSeq, `event ${last.seq + 1} is missing (the head is at ${headSeq})`);
        if (last.hash !== head.hash)
          return refuse(headSeq, 'the chain head hash does not match its last event');
        await out.sync();
        await out.close();
        const sealed = sealCheckpoint(key, {
          format: CHECKPOINT_FORMAT,
          tenantId,
          seq: headSeq,
          hash: head.hash,
          fromSeq: start.seq + 1,
          prevHash: start.hash,
          hashesSha256: digest.digest('hex'),
          sealedAt: deps.clock.now().toISOString(),
        });
        // The hash list first: a checkpoint file never points to a list that is not in place.
        await fsp.rename(hashesTmp, path.join(dir, `${pad(headSeq)}.hashes`));
        committed = true;
        await writeFileAtomic(path.join(dir, `${pad(headSeq)}.json`), `${JSON.stringify(sealed, null, 2)}\n`);
        return { tenantId, status: 'sealed', seq: headSeq };
      } finally {
        if (!committed) {
          await out.close().catch(() => {});
          await fsp.rm(hashesTmp, { force: true });
        }
      }
    },
    { repeatableRead: true },
  );
}

/** Temporary file, fsync, rename, fsync of the directory. */
export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await fsp.open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await fsp.rename(tmp, file);
  await fsyncDir(dir);
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function fsyncDirSync(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
