import { sql } from 'kysely';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import {
  type AuditDeps,
  type HashListReader,
  type LoadedCheckpoint,
  listCheckpointChains,
  listCheckpointSeqs,
  loadCheckpoint,
  loadMasterKey,
  openHashList,
  sealChain,
  sealKey,
} from './audit.checkpoint.ts';
import { type ChainProblem, createChainWalker, readChain } from './audit.walk.ts';

/**
 * The result of verifying one audit chain.
 *
 * `firstBadSeq` is the first sequence number that can no longer be proved:
 * - an event that is missing (deleted from the middle) → its seq;
 * - an event whose content, stored hash or previous-hash link is wrong → its seq;
 * - an event whose stored hash differs from the hash a checkpoint sealed for that seq → its seq.
 *   Checkpoints keep the hash of every event they cover, so when history is rewritten and every
 *   later hash (and the head) recomputed, the changed event itself is named, provided a
 *   checkpoint was sealed at or after it. A change after the latest checkpoint, with every later
 *   hash recomputed, cannot be detected by any means until the next checkpoint is sealed;
 * - the log ends before the head or a checkpoint says it should (truncated tail) → last seq + 1;
 * - the head's hash differs from the last event's → the last seq.
 * A checkpoint file whose seal fails makes the chain fail without a seq (the evidence itself was
 * altered, or the master key is not the one that sealed it).
 */
export type ChainVerification = {
  tenantId: string;
  /** The entity's DIR3 code; null for the platform chain (or a tenant row that no longer exists). */
  dir3: string | null;
  /** Events read. */
  events: number;
  ok: boolean;
  firstBadSeq?: number;
  reason?: string;
  /** Checkpoints whose seal and hash list checked out and were compared with the chain. */
  checkpoints: number;
  /** Not failures: e.g. a chain not sealed yet (a new installation). */
  warnings: string[];
  /** The seq of the checkpoint sealed after a successful verification. */
  sealedSeq?: number;
};

export type VerifyOptions = {
  /** Only this entity's chain (DIR3 code), or `platform` for the platform chain. */
  tenantDir3?: string | undefined;
  /** Seal new checkpoints for the chains that verified (default true). */
  seal?: boolean;
  batchSize?: number;
};

/**
 * Proves every audit chain (or one) against its links, its head and its sealed checkpoints
 * (`lligall audit verify`), then seals the heads of the chains that verified.
 */
export async function verifyAudit(deps: AuditDeps, opts: VerifyOptions = {}): Promise<ChainVerification[]> {
  const key = sealKey(loadMasterKey(deps.config));
  const chains = await discoverChains(deps, opts.tenantDir3);
  const results: ChainVerification[] = [];
  for (const c of chains) {
    const r = await verifyChain(deps, key, c.tenantId, c.dir3, opts.batchSize ?? 5000);
    if (r.ok && opts.seal !== false && r.events > 0) {
      const s = await sealChain(deps, key, c.tenantId);
      if (s.status === 'sealed') r.sealedSeq = s.seq;
      if (s.status === 'refused') r.warnings.push(`could not seal a new checkpoint: ${s.reason}`);
    }
    results.push(r);
  }
  return results;
}

type Chain = { tenantId: string; dir3: string | null };

/**
 * Every chain: tenant ids with a head, with events (a loose index scan over the primary key, so a
 * chain whose head row was deleted is still found), or with checkpoints (a chain deleted from the
 * database entirely is still checked). The platform chain first, then by DIR3.
 */
async function discoverChains(deps: AuditDeps, dir3Filter?: string): Promise<Chain[]> {
  const { ids, dir3s } = await deps.db.owner(async (tx) => {
    const r = await sql<{ tenant_id: string }>`
      with recursive ev(tenant_id) as (
        (select tenant_id from audit_events order by tenant_id limit 1)
        union all
        select (select e.tenant_id from audit_events e where e.tenant_id > ev.tenant_id order by e.tenant_id limit 1)
        from ev where ev.tenant_id is not null
      )
      select tenant_id::text from ev where tenant_id is not null
      union
      select tenant_id::text from audit_heads`.execute(tx);
    const tenants = await tx.selectFrom('tenants').select(['id', 'dir3']).execute();
    return { ids: r.rows.map((x) => x.tenant_id), dir3s: new Map(tenants.map((t) => [t.id, t.dir3])) };
  });
  const all = new Set([...ids, ...(await listCheckpointChains(deps.blobs))]);
  let chains: Chain[] = [...all].map((tenantId) => ({ tenantId, dir3: dir3s.get(tenantId) ?? null }));
  if (dir3Filter !== undefined) {
    let wanted: string | undefined;
    if (dir3Filter === 'platform') wanted = PLATFORM_TENANT;
    else wanted = [...dir3s].find(([, d]) => d === dir3Filter.toUpperCase())?.[0];
    if (!wanted) throw new AppError('ENTITY_NOT_FOUND', `No entity with DIR3 code ${dir3Filter}`);
    chains = chains.filter((c) => c.tenantId === wanted);
    if (chains.length === 0) chains = [{ tenantId: wanted, dir3: dir3s.get(wanted) ?? null }];
  }
  const rank = (c: Chain) => (c.tenantId === PLATFORM_TENANT ? '' : (c.dir3 ?? `~${c.tenantId}`));
  return chains.sort((a, b) => rank(a).localeCompare(rank(b)));
}

/** A problem found in a chain; those with a seq name the first event that cannot be proved. */
type Finding = { seq?: number; reason: string };

async function verifyChain(
  deps: AuditDeps,
  key: Buffer,
  tenantId: string,
  dir3: string | null,
  batchSize: number,
): Promise<ChainVerification> {
  const findings: Finding[] = [];
  const warnings: string[] = [];
  // Checkpoints are read before the snapshot is taken: each sealed a head that was committed
  // before it was written, so every one of them is visible to the snapshot taken after.
  const { checkpoints, dirExists } = await loadChainCheckpoints(deps, key, tenantId, findings);
  if (!dirExists) warnings.push('no checkpoints yet (a new installation, or never sealed)');
  for (let i = 1; i < checkpoints.length; i++) {
    const a = checkpoints[i - 1]!;
    const b = checkpoints[i]!;
    if (b.fromSeq !== a.seq + 1) warnings.push(`checkpoints ${a.seq} and ${b.seq} do not follow each other`);
  }
  let events = 0;
  await deps.db.owner(
    async (tx) => {
      const head = await tx
        .selectFrom('audit_heads')
        .select(['seq', 'hash'])
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      const stray = await sql<{ n: string }>`
        select count(*)::text as n from audit_events where tenant_id = ${tenantId} and seq < 1`.execute(tx);
      if (stray.rows[0]?.n !== '0') {
        findings.push({
          reason: `${stray.rows[0]?.n} events with a seq below 1 (written outside the chain)`,
        });
      }
      const walker = createChainWalker();
      const pending = [...checkpoints].sort((a, b) => a.fromSeq - b.fromSeq);
      const active: { cp: LoadedCheckpoint; reader: HashListReader }[] = [];
      let broken: ChainProblem | null = null;
      try {
        for await (const batch of readChain(tx, tenantId, { batchSize })) {
          events += batch.length;
          if (broken) continue; // only counting now
          for (const e of batch) {
            const seq = walker.last.seq + 1;
            while (pending.length > 0 && pending[0]!.fromSeq <= seq) {
              const cp = pending.shift()!;
              // A checkpoint that starts where its predecessor's file is gone still proves its start.
              if (cp.fromSeq === seq && cp.prevHash !== walker.last.hash) {
                broken = {
                  seq: seq - 1,
                  reason:
                    `event ${seq - 1} differs from the hash sealed at the start of checkpoint ${cp.seq} ` +
                    '(history up to it was rewritten)',
                };
                break;
              }
              active.push({ cp, reader: await openHashList(cp.hashesPath, cp.fromSeq, cp.seq) });
            }
            if (broken) break;
            for (let i = active.length - 1; i >= 0; i--) {
              if (active[i]!.cp.seq < seq) await active.splice(i, 1)[0]!.reader.close();
            }
            let sealed: string | undefined;
            for (const a of active) {
              const h = await a.reader.read(seq);
              if (h !== undefined && (sealed === undefined || h !== e.hash)) sealed = h;
            }
            broken = walker.step(e, sealed);
            if (broken) break;
          }
        }
      } finally {
        for (const a of active) await a.reader.close();
      }
      if (broken) {
        findings.push(broken);
        return;
      }
      const last = walker.last;
      if (!head) {
        if (last.seq > 0) findings.push({ reason: 'the chain head row is missing' });
      } else if (Number(head.seq) > last.seq) {
        findings.push({
          seq: last.seq + 1,
          reason: `the head is at ${head.seq} but the log ends at ${last.seq} (events removed from the end)`,
        });
      } else if (Number(head.seq) < last.seq) {
        findings.push({ seq: Number(head.seq) + 1, reason: `events after the chain head (${head.seq})` });
      } else if (head.hash !== last.hash) {
        findings.push({ seq: last.seq, reason: 'the chain head hash does not match the last event' });
      }
      const beyond = checkpoints.filter((cp) => cp.seq > last.seq).at(-1);
      if (beyond) {
        findings.push({
          seq: last.seq + 1,
          reason: `a checkpoint sealed at ${beyond.sealedAt} covers up to ${beyond.seq}, but the log ends at ${last.seq}`,
        });
      }
    },
    { repeatableRead: true },
  );
  const withSeq = findings.filter((f) => f.seq !== undefined).sort((a, b) => a.seq! - b.seq!);
  const ordered = [...withSeq, ...findings.filter((f) => f.seq === undefined)];
  const result: ChainVerification = {
    tenantId,
    dir3,
    events,
    ok: ordered.length === 0,
    checkpoints: checkpoints.length,
    warnings,
  };
  if (withSeq[0]) result.firstBadSeq = withSeq[0].seq!;
  if (ordered.length > 0) result.reason = ordered.map((f) => f.reason).join('; ');
  return result;
}

async function loadChainCheckpoints(
  deps: AuditDeps,
  key: Buffer,
  tenantId: string,
  findings: Finding[],
): Promise<{ checkpoints: LoadedCheckpoint[]; dirExists: boolean }> {
  const seqs = await listCheckpointSeqs(deps.blobs, tenantId);
  if (seqs === null) return { checkpoints: [], dirExists: false };
  const checkpoints: LoadedCheckpoint[] = [];
  for (const seq of seqs) {
    const r = await loadCheckpoint(deps.blobs, key, tenantId, seq, { checkHashes: true });
    if (r.ok) checkpoints.push(r.checkpoint);
    else findings.push({ reason: `checkpoint ${r.file}: ${r.reason}` });
  }
  return { checkpoints, dirExists: true };
}
