import type { Command } from 'commander';
import type { AppDeps } from '../app.ts';
import { cliActor, noRequest } from '#platform/context.ts';
import { AppError } from '#platform/errors.ts';
import { enrolmentSummaries, resolveEntity, setEntityState } from '#modules/rollout/entities.service.ts';
import { missingForLive } from '#modules/rollout/checklist.service.ts';
import { provisionEntity } from '#modules/rollout/provisioning.service.ts';
import { CHECKLIST_ITEMS } from '#modules/rollout/rollout.model.ts';
import {
  assignWave,
  createCall,
  createWave,
  listCalls,
  listWaves,
  proposeWave,
  type Wave,
} from '#modules/rollout/waves.service.ts';
import { withApp } from './admin.ts';
import type { Out } from './main.ts';

const cli = (deps: AppDeps) => ({ actor: cliActor, request: noRequest, clock: deps.clock });

const REQUEST_STATUSES = ['submitted', 'corrections_requested', 'accepted', 'rejected'];

function capacityOf(v: string | undefined): number | null {
  if (v === undefined) return null;
  if (!/^\d{1,5}$/.test(v) || Number(v) < 1)
    throw new AppError('VALIDATION_FAILED', `--capacity must be a whole number from 1 (got "${v}")`);
  return Number(v);
}

const cols = (...v: (string | number | null | undefined)[]) =>
  v.map((x) => (x === null || x === undefined ? '-' : String(x))).join('\t');

function printWave(out: Out, w: Wave): void {
  out.log(
    `${w.name}\t${w.callName}\t${w.plannedStart}..${w.plannedEnd}\t${
      w.requiresCertification ? 'certification' : 'no system'
    }\t${w.entities.length}/${w.capacity ?? '∞'}\t${w.id}`,
  );
  for (const e of w.entities) out.log(`  ${cols(e.position, e.dir3, e.ine, e.name, e.population, e.status)}`);
}

/**
 * `lligall rollout …`: the Diputació's roll-out for operators (issue 6): enrolment requests,
 * calls and waves (the proposal by the roll-out rule and the operator's list), entity states, the
 * go-live checklist and provisioning. The CLI acts as an operator; every change is audited on
 * the platform chain, as from the console.
 */
export function registerRolloutCommands(program: Command, out: Out): void {
  const rollout = program
    .command('rollout')
    .description("The Diputació's roll-out: enrolment requests, waves, provisioning, states");

  rollout
    .command('requests')
    .description(
      'Enrolment requests, oldest first: status, date, registry number, entity, DIR3, population, provider, call',
    )
    .option('--status <status>', REQUEST_STATUSES.join(' | '))
    .action((o) =>
      withApp(async (deps) => {
        if (o.status !== undefined && !REQUEST_STATUSES.includes(o.status))
          throw new AppError('VALIDATION_FAILED', `--status must be one of ${REQUEST_STATUSES.join(', ')}`);
        const rows = await deps.db.platform((tx) => enrolmentSummaries(tx, { status: o.status }));
        if (rows.length === 0) out.log('no enrolment requests');
        for (const r of rows)
          out.log(
            cols(
              r.status,
              r.submittedAt.slice(0, 10),
              r.registryNumber,
              r.entityName,
              r.dir3,
              r.population,
              r.currentProvider ?? 'none',
              r.callName,
            ),
          );
      }),
    );

  const calls = rollout.command('calls').description('Calls for enrolment');
  calls
    .command('list', { isDefault: true })
    .description('The calls: name, opens, closes (deadline)')
    .action(() =>
      withApp(async (deps) => {
        const rows = await deps.db.platform((tx) => listCalls(tx));
        if (rows.length === 0) out.log('no calls');
        for (const c of rows) out.log(cols(c.name, c.opensOn, c.closesOn, c.id));
      }),
    );
  calls
    .command('create')
    .description('Open a call for enrolment')
    .requiredOption('--name <name>')
    .requiredOption('--opens <YYYY-MM-DD>')
    .requiredOption('--closes <YYYY-MM-DD>', 'the deadline (later requests belong to the next call)')
    .action((o) =>
      withApp(async (deps) => {
        const c = await deps.db.platform((tx) =>
          createCall(tx, cli(deps), { name: o.name, opensOn: o.opens, closesOn: o.closes }),
        );
        out.log(`call ${c.name} created (${c.id})`);
      }),
    );

  const waves = rollout.command('waves').description('Waves of the roll-out');
  waves
    .command('list', { isDefault: true })
    .description('Every wave with its entities (position, DIR3, INE, name, population, state)')
    .action(() =>
      withApp(async (deps) => {
        const rows = await deps.db.platform((tx) => listWaves(tx));
        if (rows.length === 0) out.log('no waves');
        for (const w of rows) printWave(out, w);
      }),
    );
  waves
    .command('create')
    .description('Plan a wave of a call')
    .requiredOption('--call <call>', 'the call (name or id)')
    .requiredOption('--name <name>')
    .requiredOption('--start <YYYY-MM-DD>', 'planned start')
    .requiredOption('--end <YYYY-MM-DD>', 'planned end')
    .option('--certification', 'the wave takes entities on another provider, who must pass the certification')
    .option('--capacity <n>', 'at most n entities (default: no limit)')
    .action((o) =>
      withApp(async (deps) => {
        const w = await deps.db.platform((tx) =>
          createWave(tx, cli(deps), {
            callId: o.call,
            name: o.name,
            plannedStart: o.start,
            plannedEnd: o.end,
            requiresCertification: Boolean(o.certification),
            capacity: capacityOf(o.capacity),
          }),
        );
        out.log(`wave ${w.name} created (${w.id})`);
      }),
    );
  waves
    .command('propose <wave>')
    .description(
      'The entities the roll-out rule proposes for a wave (name or id): accepted requests of its call, in state requested and in no wave; no system (or, with certification, another provider); least populated first, then INE code; up to the free places',
    )
    .action((wave: string) =>
      withApp(async (deps) => {
        const p = await deps.db.platform((tx) => proposeWave(tx, wave));
        out.log(`rule: ${p.rule}`);
        if (p.entities.length === 0) out.log('no candidates');
        for (const [i, e] of p.entities.entries())
          out.log(cols(i + 1, e.dir3, e.ine, e.name, e.population, e.currentProvider ?? 'none'));
      }),
    );
  waves
    .command('assign <wave> [entities...]')
    .description(
      "Set a wave's entities (DIR3, slug or id), in order: the operator's final list. Added ones go requested → scheduled, removed ones back to requested",
    )
    .action((wave: string, refs: string[]) =>
      withApp(async (deps) => {
        const w = await deps.db.platform((tx) => assignWave(tx, cli(deps), wave, refs));
        printWave(out, w);
      }),
    );

  rollout
    .command('state <entity> <to>')
    .description(
      'Move an entity (DIR3 or slug) to another state: listed, requested, scheduled, provisioning, pilot, live, suspended (live needs the go-live checklist)',
    )
    .option('--reason <text>', 'why (recorded in the history)')
    .action((ref: string, to: string, o) =>
      withApp(async (deps) => {
        const d = await deps.db.platform((tx) =>
          setEntityState(tx, cli(deps), ref, to, o.reason?.trim() || null),
        );
        out.log(`${d.name} (${d.dir3}): ${d.status}`);
      }),
    );

  rollout
    .command('checklist <entity>')
    .description("An entity's go-live checklist: each item, how it is met, and what is still missing")
    .action((ref: string) =>
      withApp(async (deps) => {
        const { entity, rows, missing } = await deps.db.platform(async (tx) => {
          const entity = await resolveEntity(tx, ref);
          const rows = await tx
            .selectFrom('golive_checklist')
            .selectAll()
            .where('entity_id', '=', entity.id)
            .execute();
          return { entity, rows, missing: await missingForLive(tx, entity.id) };
        });
        out.log(`${entity.name} (${entity.dir3}): ${entity.status}`);
        const byItem = new Map(rows.map((r) => [r.item, r]));
        for (const item of CHECKLIST_ITEMS) {
          const r = byItem.get(item);
          if (r) {
            const what =
              r.kind === 'document'
                ? `document ${r.document_name ?? r.document_sha256}`
                : r.kind === 'fact'
                  ? `fact ${r.fact}`
                  : `bypass: ${r.bypass_reason}`;
            out.log(cols(item, r.kind, `${what}${r.reference ? ` (${r.reference})` : ''}`, r.recorded_by));
          } else out.log(cols(item, missing.includes(item) ? 'MISSING' : 'not required'));
        }
        out.log(missing.length === 0 ? 'complete: the entity may go live' : `missing: ${missing.join(', ')}`);
      }),
    );

  rollout
    .command('provision <entity>')
    .description(
      'Provision a scheduled entity (DIR3 or slug): codes, first administrator and invitation, calendar, units, positions, seu, seal (idempotent)',
    )
    .option('--admin-name <name>', "default: the accepted request's secretary")
    .option('--admin-email <email>', "default: the accepted request's secretary")
    .option('--admin-username <username>')
    .action((ref: string, o) =>
      withApp(async (deps) => {
        const r = await provisionEntity(deps, ref, cli(deps), {
          ...(o.adminName ? { adminName: o.adminName } : {}),
          ...(o.adminEmail ? { adminEmail: o.adminEmail } : {}),
          ...(o.adminUsername ? { adminUsername: o.adminUsername } : {}),
        });
        out.log(`${r.entity.name} (${r.entity.dir3}): ${r.entity.status}`);
        for (const s of r.steps) out.log(`  ${s.step}\t${s.done}`);
        out.log(`administrator: ${r.adminUsername}${r.invitationSent ? ' (invitation sent)' : ''}`);
      }),
    );
}
