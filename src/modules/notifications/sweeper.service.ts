import type { AppDeps } from '#src/app.ts';
import { type Ctx, noRequest, systemActor } from '#platform/context.ts';
import { listTenants } from '#modules/tenancy/tenancy.repository.ts';
import { issueEvidenceAfterCommit } from './evidence.service.ts';
import type { EvidenceJobData } from './notifications.model.ts';
import { deemRejected } from './notifications.service.ts';

/**
 * The sweeper of LPACAP art. 43.2 (every 15 minutes): in every entity, the electronic
 * notifications not accessed by 24:00 of their tenth day are deemed rejected, as of that instant.
 * It reads deps.clock (never SQL now()), so tests move time; each entity is one transaction, and
 * the evidence is issued after it commits (its job does it otherwise).
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
    const evidence: EvidenceJobData[] = await deps.db.tenant(t.id, (tx) => deemRejected(tx, ctx, deps.jobs));
    n += evidence.length;
    await issueEvidenceAfterCommit(deps, evidence, (e, it) =>
      console.error(`notification ${it.notificationId}: ${it.key} evidence left to its job: ${String(e)}`),
    );
  }
  return { deemedRejected: n };
}
