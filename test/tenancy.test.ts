import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { noRequest, systemActor } from '#platform/context.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { findTenantByRef, listTenants } from '#modules/tenancy/tenancy.repository.ts';
import { createTenant, importProvince } from '#modules/tenancy/tenancy.service.ts';
import { openTestEnv, type TestEnv } from '#test/helpers/harness.ts';

let env: TestEnv;
before(async () => {
  env = await openTestEnv();
});
after(async () => {
  await env.close();
});
const ctx = () => ({ actor: systemActor, request: noRequest, clock: env.clock });

describe('province import', () => {
  it('creates the 231 municipalities from the shipped data, then changes nothing on a second run', async () => {
    const first = await env.db.platform((tx) => importProvince(tx, ctx()));
    assert.deepEqual(first, { created: 231, updated: 0, unchanged: 0 });
    const lleida = await env.db.platform((tx) => findTenantByRef(tx, 'L01251207'));
    assert.equal(lleida?.name, 'Lleida');
    assert.equal(lleida?.ine, '25120');
    assert.equal(lleida?.population, 146266); // padró 2025
    assert.equal(lleida?.comarca, 'Segrià');
    assert.equal(lleida?.status, 'listed');
    assert.equal(lleida?.language, 'ca');
    const seu = await env.db.platform((tx) => findTenantByRef(tx, 'la-seu-d-urgell'));
    assert.equal(seu?.dir3, 'L01252038');
    const all = await env.db.platform((tx) => listTenants(tx));
    const aranese = all.filter((t) => t.language === 'oc-aranes').map((t) => t.name);
    assert.equal(aranese.length, 9, 'the nine municipalities of the Val d’Aran have Aranese first');
    assert.ok(aranese.includes('Vielha e Mijaran'));
    const events = await env.db.platform((tx) =>
      tx
        .selectFrom('audit_events')
        .select('seq')
        .where('tenant_id', '=', PLATFORM_TENANT)
        .where('action', '=', 'tenant.create')
        .execute(),
    );
    assert.equal(events.length, 231);

    const second = await env.db.platform((tx) => importProvince(tx, ctx()));
    assert.deepEqual(second, { created: 0, updated: 0, unchanged: 231 });
    const after = await env.db.platform((tx) =>
      tx.selectFrom('audit_events').select('seq').where('tenant_id', '=', PLATFORM_TENANT).execute(),
    );
    assert.equal(after.length, 231, 'an idempotent re-run records nothing');
  });

  it('an EMD needs its parent municipality; DIR3 and slug are unique', async () => {
    await assert.rejects(
      env.db.platform((tx) => createTenant(tx, ctx(), { kind: 'emd', name: 'Ars', dir3: 'L05000001' })),
      (e: Error & { code?: string }) => e.code === 'VALIDATION_FAILED',
    );
    const emd = await env.db.platform((tx) =>
      createTenant(tx, ctx(), { kind: 'emd', name: 'Ars', dir3: 'L05000001', parentRef: 'L01252398' }),
    );
    const parent = await env.db.platform((tx) => findTenantByRef(tx, 'L01252398'));
    assert.equal(emd.parentId, parent?.id);
    assert.equal(emd.slug, 'ars');
    await assert.rejects(
      env.db.platform((tx) =>
        createTenant(tx, ctx(), { kind: 'ajuntament', name: 'Ars', dir3: 'L05000002' }),
      ),
      (e: Error & { code?: string }) => e.code === 'CONFLICT',
    );
    await assert.rejects(
      env.db.platform((tx) => createTenant(tx, ctx(), { kind: 'ajuntament', name: 'Nou', dir3: 'bad' })),
      (e: Error & { code?: string }) => e.code === 'VALIDATION_FAILED',
    );
  });
});
