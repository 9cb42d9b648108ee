/**
 * The dashboard's fixture (issue 6): the province imported from data/seed, one EMD, two waves and
 * eight entities moved along the roll-out on known days through the lifecycle service (so each
 * change is a dated entity_state_changes row, as in production), the live one with its go-live
 * checklist recorded. Used by test/rollout-dashboard.http.test.ts and
 * test/browser/console-dashboard.test.ts, which hard-code the counts it must give.
 *
 * Timeline (Europe/Madrid days; the clock ends on 2026-03-10):
 * - 03-02 the province's 231 municipalities are imported (listed);
 * - 03-03 seven municipalities request to join;
 * - 03-04 five of them are scheduled (Onada 1: three; Onada 2: two);
 * - 03-05 the three of Onada 1 go to provisioning; an EMD is registered and requests to join;
 * - 03-06 two go to pilot;
 * - 03-09 one goes live.
 */
import { cliActor, noRequest } from '#platform/context.ts';
import type { EntityStatus } from '#platform/db/schema.ts';
import { newId } from '#platform/ids.ts';
import { recordChecklistItem } from '#modules/rollout/checklist.service.ts';
import { applyStateChange } from '#modules/rollout/lifecycle.service.ts';
import { findTenantByRef, type Tenant } from '#modules/tenancy/tenancy.repository.ts';
import { createTenant, importProvince } from '#modules/tenancy/tenancy.service.ts';
import type { TestEnv } from './harness.ts';

/** Final states by DIR3 (every other municipality stays listed). */
export const FIXTURE_STATES: Record<string, EntityStatus> = {
  L01250019: 'live', // Abella de la Conca (Pallars Jussà)
  L01252347: 'pilot', // Tremp (Pallars Jussà)
  L01251155: 'provisioning', // Isona i Conca Dellà (Pallars Jussà)
  L01251207: 'scheduled', // Lleida (Segrià)
  L01252326: 'scheduled', // Torres de Segre (Segrià)
  L01250024: 'requested', // Àger (Noguera)
  L01251214: 'requested', // Les (Aran)
  L05000001: 'requested', // the fixture's EMD (Segrià)
};
export const FIXTURE_EMD = { name: 'EMD "Prova", del Tauler', dir3: 'L05000001', parent: 'L01251207' };
export const FIXTURE_NOW = '2026-03-10T10:00:00Z';

const GOLIVE_FACTS = [
  'seu_decree',
  'registry_decree',
  'csv_resolution',
  'seal',
  'privacy_notice',
  'accessibility_statement',
  'processing_record',
  'dpa',
] as const;

export type DashboardFixture = {
  byDir3: Map<string, Tenant>;
  waves: { one: string; two: string };
};

export async function seedDashboardFixture(env: TestEnv): Promise<DashboardFixture> {
  const ctx = { actor: { ...cliActor, label: 'fixture operator' }, request: noRequest, clock: env.clock };
  const at = (day: string) => env.clock.set(`2026-03-${day}T09:00:00Z`);
  const byDir3 = new Map<string, Tenant>();
  const get = async (dir3: string): Promise<Tenant> => {
    const t = await env.db.platform((tx) => findTenantByRef(tx, dir3));
    if (!t) throw new Error(`no entity ${dir3}`);
    byDir3.set(dir3, t);
    return t;
  };
  const move = async (dir3s: string[], to: EntityStatus) => {
    for (const dir3 of dir3s) {
      const t = await get(dir3);
      await env.db.platform((tx) => applyStateChange(tx, ctx, t, to, null));
    }
  };

  at('02');
  await env.db.platform((tx) => importProvince(tx, ctx));
  const waves = await env.db.platform(async (tx) => {
    const callId = newId();
    await tx
      .insertInto('rollout_calls')
      .values({
        id: callId,
        name: 'Convocatòria 2026',
        opens_on: '2026-02-01',
        closes_on: '2026-02-28',
        created_at: env.clock.now(),
        created_by: 'fixture',
      })
      .execute();
    const ids = { one: newId(), two: newId() };
    for (const [id, name, start] of [
      [ids.one, 'Onada 1', '2026-03-04'],
      [ids.two, 'Onada 2', '2026-04-01'],
    ] as const) {
      await tx
        .insertInto('rollout_waves')
        .values({
          id,
          call_id: callId,
          name,
          planned_start: start,
          planned_end: '2026-06-30',
          requires_certification: false,
          capacity: null,
          created_at: env.clock.now(),
          created_by: 'fixture',
        })
        .execute();
    }
    return ids;
  });

  at('03');
  await move(
    ['L01250019', 'L01252347', 'L01251155', 'L01251207', 'L01252326', 'L01250024', 'L01251214'],
    'requested',
  );

  at('04');
  await move(['L01250019', 'L01252347', 'L01251155', 'L01251207', 'L01252326'], 'scheduled');
  const assign = async (dir3s: string[], waveId: string) => {
    for (const [i, dir3] of dir3s.entries()) {
      await env.db.platform((tx) =>
        tx
          .insertInto('rollout_assignments')
          .values({
            entity_id: byDir3.get(dir3)!.id,
            wave_id: waveId,
            position: i + 1,
            assigned_at: env.clock.now(),
            assigned_by: 'fixture',
          })
          .execute(),
      );
    }
  };
  await assign(['L01250019', 'L01252347', 'L01251155'], waves.one);
  await assign(['L01251207', 'L01252326'], waves.two);

  at('05');
  await move(['L01250019', 'L01252347', 'L01251155'], 'provisioning');
  await env.db.platform((tx) =>
    createTenant(tx, ctx, {
      kind: 'emd',
      name: FIXTURE_EMD.name,
      dir3: FIXTURE_EMD.dir3,
      parentRef: FIXTURE_EMD.parent,
      comarca: 'Segrià',
      population: 500,
    }),
  );
  await move([FIXTURE_EMD.dir3], 'requested');

  at('06');
  await move(['L01250019', 'L01252347'], 'pilot');

  at('09');
  const live = byDir3.get('L01250019')!;
  for (const item of GOLIVE_FACTS)
    await env.db.platform((tx) =>
      recordChecklistItem(tx, ctx, live, item, { kind: 'fact', fact: `Fet del tauler: ${item}` }),
    );
  await move(['L01250019'], 'live');

  env.clock.set(FIXTURE_NOW);
  for (const dir3 of Object.keys(FIXTURE_STATES)) await get(dir3);
  return { byDir3, waves };
}
