import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { main } from '#src/cli/main.ts';
import { runningApp } from '#src/cli/relay.ts';
import { cliActor, noRequest } from '#platform/context.ts';
import { newId } from '#platform/ids.ts';
import { changeEntityState } from '#modules/rollout/lifecycle.service.ts';
import { importProvince } from '#modules/tenancy/tenancy.service.ts';
import { openTestEnv, type TestEnv } from '#test/helpers/harness.ts';

// `lligall rollout …` (issue 6): calls, waves, the proposal, the operator's list, states and the
// go-live checklist. Each command runs bin/lligall.ts's `main` in this process, on the test's
// open database (as commands relayed into a running server do: `runningApp`), with what it would
// print and its exit code — one database open for the file instead of one per command.
let env: TestEnv;
type Run = { status: number; stdout: string; stderr: string };

async function lligall(...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runningApp.run(env, () =>
    main(['node', 'lligall', ...args], {
      log: (l) => out.push(`${l}\n`),
      error: (l) => err.push(`${l}\n`),
    }),
  );
  return { status, stdout: out.join(''), stderr: err.join('') };
}

// Four municipalities of the shipped data (data/seed/lleida_municipis.csv): INE, DIR3, population 2025.
const ARSEGUEL = { ine: '25032', dir3: 'L01250328', pop: 87 };
const FULLEDA = { ine: '25097', dir3: 'L01250978', pop: 87 };
const IVORRA = { ine: '25114', dir3: 'L01251142', pop: 100 };
const CAVA = { ine: '25071', dir3: 'L01250714', pop: 38 }; // on another provider

const cli = () => ({ actor: cliActor, request: noRequest, clock: env.clock });

before(async () => {
  env = await openTestEnv();
  await env.db.platform((tx) => importProvince(tx, cli()));
});
after(async () => {
  await env?.close();
});

describe('lligall rollout', () => {
  it('documents its commands with --help', async () => {
    const top = await lligall('rollout', '--help');
    assert.equal(top.status, 0, top.stderr);
    for (const c of ['requests', 'calls', 'waves', 'state', 'checklist', 'provision'])
      assert.match(top.stdout, new RegExp(`\\b${c}\\b`));
  });

  it('an operator opens a call, plans a wave, takes the proposal and schedules it', async () => {
    const call = await lligall(
      'rollout',
      'calls',
      'create',
      '--name',
      'Convocatòria 2026',
      '--opens',
      '2026-09-01',
      '--closes',
      '2026-10-31',
    );
    assert.equal(call.status, 0, call.stderr);
    // Accepted requests (the enrolment's own flow is tested elsewhere), entities moved to requested.
    await env.db.platform(async (tx) => {
      const c = await tx.selectFrom('rollout_calls').select('id').executeTakeFirstOrThrow();
      for (const m of [ARSEGUEL, FULLEDA, IVORRA, CAVA]) {
        const t = await tx
          .selectFrom('tenants')
          .select(['id', 'dir3', 'population'])
          .where('ine', '=', m.ine)
          .executeTakeFirstOrThrow();
        assert.equal(t.dir3, m.dir3);
        assert.equal(t.population, m.pop);
        const now = env.clock.now();
        await tx
          .insertInto('enrolment_requests')
          .values({
            id: newId(),
            entity_id: t.id,
            entity_kind: 'ajuntament',
            emd_name: null,
            emd_dir3: null,
            parent_entity_id: null,
            mayor_name: 'Alcalde',
            mayor_email: 'alcaldia@example.cat',
            mayor_phone: null,
            secretary_name: 'Secretària',
            secretary_email: 'secretaria@example.cat',
            secretary_phone: null,
            population: m.pop,
            current_provider: m === CAVA ? 'Gestiona' : null,
            adhesion_act_kind: 'mayor_decree',
            adhesion_act_date: '2026-09-10',
            files: JSON.stringify([]),
            request_signature: JSON.stringify({}),
            language: 'ca',
            status: 'accepted',
            status_reason: null,
            call_id: c.id,
            registry_tenant_id: null,
            registry_entry_id: null,
            registry_number: `E-${m.ine}`,
            filed_by: 'ciutada',
            submitted_at: now,
            decided_at: now,
            decided_by: 'cli',
            updated_at: now,
          })
          .execute();
        await changeEntityState(tx, cli(), t.id, 'requested');
      }
    });
    const reqs = await lligall('rollout', 'requests', '--status', 'accepted');
    assert.equal(reqs.status, 0, reqs.stderr);
    assert.equal(reqs.stdout.trim().split('\n').length, 4);
    assert.match(reqs.stdout, /accepted\t\S+\tE-25071\tCava\tL01250714\t38\tGestiona\tConvocatòria 2026/);

    const wave = await lligall(
      'rollout',
      'waves',
      'create',
      '--call',
      'Convocatòria 2026',
      '--name',
      'Onada 1',
      '--start',
      '2027-01-11',
      '--end',
      '2027-02-26',
      '--capacity',
      '2',
    );
    assert.equal(wave.status, 0, wave.stderr);
    // No system, at most 2: the two of 87 inhabitants (Arsèguel before Fulleda by INE code); Cava, the smallest, has a provider.
    const p = await lligall('rollout', 'waves', 'propose', 'Onada 1');
    assert.equal(p.status, 0, p.stderr);
    assert.deepEqual(p.stdout.trim().split('\n'), [
      'rule: no_system',
      `1\t${ARSEGUEL.dir3}\t25032\tArsèguel\t87\tnone`,
      `2\t${FULLEDA.dir3}\t25097\tFulleda\t87\tnone`,
    ]);
    const full = await lligall(
      'rollout',
      'waves',
      'assign',
      'Onada 1',
      ARSEGUEL.dir3,
      FULLEDA.dir3,
      IVORRA.dir3,
    );
    assert.equal(full.status, 1);
    assert.match(full.stderr, /WAVE_FULL/);
    const a = await lligall('rollout', 'waves', 'assign', 'Onada 1', ARSEGUEL.dir3, FULLEDA.dir3);
    assert.equal(a.status, 0, a.stderr);
    const list = await lligall('rollout', 'waves');
    assert.match(list.stdout, /^Onada 1\tConvocatòria 2026\t2027-01-11\.\.2027-02-26\tno system\t2\/2\t/);
    assert.match(list.stdout, new RegExp(`  1\\t${ARSEGUEL.dir3}\\t25032\\tArsèguel\\t87\\tscheduled`));
    assert.match(list.stdout, new RegExp(`  2\\t${FULLEDA.dir3}\\t25097\\tFulleda\\t87\\tscheduled`));
  });

  it('states follow the roll-out; the checklist shows what going live still needs', async () => {
    const bad = await lligall('rollout', 'state', ARSEGUEL.dir3, 'live');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /cannot go from scheduled to live \(STATE_TRANSITION_NOT_ALLOWED\)/);
    const back = await lligall('rollout', 'state', FULLEDA.dir3, 'requested', '--reason', 'ajornada');
    assert.equal(back.status, 0, back.stderr);
    assert.equal(back.stdout.trim(), `Fulleda (${FULLEDA.dir3}): requested`);
    const list = await lligall('rollout', 'waves');
    assert.doesNotMatch(list.stdout, /Fulleda/, 'sent back to requested, it left its wave');
    const c = await lligall('rollout', 'checklist', ARSEGUEL.dir3);
    assert.equal(c.status, 0, c.stderr);
    const lines = c.stdout.trim().split('\n');
    assert.equal(lines[0], `Arsèguel (${ARSEGUEL.dir3}): scheduled`);
    assert.ok(lines.includes('seu_decree\tMISSING'));
    assert.ok(lines.includes('certification\tnot required'));
    assert.match(lines.at(-1)!, /^missing: seu_decree, registry_decree, .*processing_record, dpa$/);
  });

  it('provisions a scheduled entity (idempotent) and shows its first administrator', async () => {
    const first = await lligall('rollout', 'provision', ARSEGUEL.dir3);
    assert.equal(first.status, 0, first.stderr);
    const lines = first.stdout.trim().split('\n');
    assert.match(lines[0]!, new RegExp(`^Arsèguel \\(${ARSEGUEL.dir3}\\): pilot$`));
    assert.ok(lines.some((l) => /\tcreated$/.test(l)));
    assert.match(lines.at(-1)!, /^administrator: \S+/);
    const again = await lligall('rollout', 'provision', ARSEGUEL.dir3);
    assert.equal(again.status, 0, again.stderr);
    assert.ok(
      again.stdout.split('\n').every((l) => !/\tcreated$/.test(l)),
      again.stdout,
    );
  });
});
