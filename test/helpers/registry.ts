import type { BlobStore } from '#platform/blobs/blob-store.ts';
import { BlobStore as Store } from '#platform/blobs/blob-store.ts';
import { type Ctx, noRequest, systemActor } from '#platform/context.ts';
import type { EntityRole } from '#platform/db/schema.ts';
import { type CreatedEntry, createEntry } from '#modules/registry/registry.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestEnv } from './harness.ts';

/** A context acting in the tenant as the system, with these roles (for services called directly). */
export function tenantCtx(env: TestEnv, tenant: Tenant, roles: EntityRole[]): Ctx {
  return {
    tenant: { id: tenant.id, dir3: tenant.dir3, slug: tenant.slug, name: tenant.name, status: tenant.status },
    actor: systemActor,
    roles,
    request: noRequest,
    clock: env.clock,
  };
}

/**
 * An input entry committed by a process that "dies" before it issues the receipt: the entry is
 * on registry_receipts_due, with no receipt.
 */
export function entryWithoutReceipt(env: TestEnv, tenant: Tenant, heading: string): Promise<CreatedEntry> {
  return env.db.tenant(tenant.id, (tx) =>
    createEntry(tx, tenantCtx(env, tenant, ['registrar']), {
      direction: 'E',
      heading,
      summary: 'Sol·licitud sense justificant',
      channel: 'in_person',
    }),
  );
}

/** A file store that cannot write (its temporary area is a file): every put fails with ENOTDIR. */
export function brokenBlobStore(): BlobStore {
  const store = new Store(fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-broken-')));
  fs.rmSync(store.tmpDir, { recursive: true });
  fs.writeFileSync(store.tmpDir, '');
  return store;
}
