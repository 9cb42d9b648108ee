import type { AppDeps } from '#src/app.ts';
import { type Ctx, noRequest, systemActor } from '#platform/context.ts';
import { listTenants } from '#modules/tenancy/tenancy.repository.ts';
import { issueEvidenceAfterCommit } from './evidence.service.ts';
import type { EvidenceJobData } from './notifications.model.ts';
import { deemRejected, pendingEvidence } from './notifications.service.ts';

/** Evidence still unissued this long after its outcome is issued again by the sweep. */
const PENDING_AFTER_MS = 60 * 60_000;

/**
 * The sweeper of LPACAP art. 43.2 (every 15 minutes): in every entity, the electronic
 * notifications not accessed by 24:00 of their tenth day are deemed rejected, as of that instant.
 * It reads deps.clock (never SQL now()), so tests move time; each entity is one transaction, and
 * the evidence is issued after it commits (its job does it otherwise). It also issues evidence left
 * unissued for an hour (a job that gave up), so an outcome never stays without its evidence.
 */
export async function sweepDeemedRejections(
  deps: Pick<AppDeps, 'db' | 'clock' | 'jobs' | 'blobs' | 'config'>,
): Promise<{ deemedRejected: number }> {
  const tenants = await deps.db.platform((tx) => listTenants(tx));
  let n = 0;
  for (const t of tenants) {
    if (t.status === 'suspended') continue;
    const ctx: Ctx = {
      tenant: { id: t.id, dir3: t.dir3, slug: t.slug, name: t.name, status: t.status },
      actor: systemActor,
      roles: [],
      request: noRequest,
      clock: deps.clock,
    };
    const { evidence, deemed } = await deps.db.tenant(t.id, async (tx) => {
      const late = await pendingEvidence(tx, ctx, new Date(deps.clock.now().getTime() - PENDING_AFTER_MS));
      const made = await deemRejected(tx, ctx, deps.jobs);
      return { evidence: [...late, ...made] as EvidenceJobData[], deemed: made.length };
    });
    n += deemed;
    await issueEvidenceAfterCommit(deps, evidence, (e, it) =>
      console.error(`notification ${it.notificationId}: ${it.key} evidence left to its job: ${String(e)}`),
    );
  }
  return { deemedRejected: n };
}
