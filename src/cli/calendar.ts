import type { Command } from 'commander';
import type { AppDeps } from '../app.ts';
import { cliActor, noRequest } from '#platform/context.ts';
import { AppError } from '#platform/errors.ts';
import type { Region, RegionalScope } from '#modules/calendar/calendar.model.ts';
import {
  ensureCalendarSeeded,
  municipalityYear,
  setLocalDay,
  setLocalYear,
  setRegionalDay,
  setRegionalYear,
  withdrawLocal,
  withdrawRegional,
} from '#modules/calendar/calendar.service.ts';
import { withApp } from './admin.ts';
import type { Out } from './main.ts';

const cli = (deps: AppDeps) => ({ actor: cliActor, request: noRequest, clock: deps.clock });

function scopeOf(v: string): RegionalScope {
  if (v === 'national' || v === 'catalonia' || v === 'aran') return v;
  throw new AppError('VALIDATION_FAILED', `--scope must be national, catalonia or aran (got "${v}")`);
}

function regionOf(v: string): Region {
  if (v === 'catalonia' || v === 'aran') return v;
  throw new AppError('VALIDATION_FAILED', `--scope must be catalonia or aran (got "${v}")`);
}

function yearOf(v: string): number {
  const y = Number(v);
  if (!/^\d{4}$/.test(v) || y < 1900 || y > 2999)
    throw new AppError('VALIDATION_FAILED', `--year must be a year (got "${v}")`);
  return y;
}

/**
 * `lligall calendar …`: the shared business-day calendar, kept by the platform operator (the
 * Diputació): national, Catalan and Val d'Aran days, and municipalities' local days as they count
 * for residents (LPACAP art. 30.6). Every change needs a reason and is audited on the platform chain.
 * An entity's own corrections are made by its administrator in the application (HTTP API).
 */
export function registerCalendarCommands(program: Command, out: Out): void {
  const calendar = program
    .command('calendar')
    .description('The shared business-day calendar: national, Catalan, Val d’Aran and municipal local days');

  calendar
    .command('seed')
    .description('Load the calendar data shipped in data/seed (idempotent; operator corrections are kept)')
    .action(() =>
      withApp(async (deps) => {
        const r = await deps.db.platform((tx) => ensureCalendarSeeded(tx, deps.clock.now()));
        out.log(r.loaded ? 'calendar data loaded' : 'calendar data already loaded');
      }),
    );

  calendar
    .command('show')
    .description(
      "A municipality's non-business days of a year (weekends not listed) and whether the year is complete",
    )
    .requiredOption('--ine <code>', 'INE code of the municipality (5 digits)')
    .requiredOption('--year <year>')
    .action((o) =>
      withApp(async (deps) => {
        const v = await deps.db.platform((tx) =>
          municipalityYear(tx, o.ine, yearOf(o.year), deps.clock.now()),
        );
        out.log(`${v.place} ${v.year}: ${v.complete ? 'complete' : `INCOMPLETE (${v.missing?.reason})`}`);
        for (const d of v.days) {
          out.log([d.date, d.weekday, d.holidays.map((h) => `${h.name} [${h.scope}]`).join('; ')].join('\t'));
        }
      }),
    );

  const regional = calendar
    .command('regional')
    .description('National, Catalan and Val d’Aran days (operator)');
  regional
    .command('set')
    .description(
      'Add or correct a day. In the Val d’Aran: --scope aran for 17 June (Festa d’Aran), and --not-holiday for the Catalan day it replaces',
    )
    .requiredOption('--date <YYYY-MM-DD>')
    .requiredOption('--scope <scope>', 'national | catalonia | aran')
    .requiredOption('--name <name>')
    .requiredOption('--reason <text>', 'why (e.g. the order that publishes it); audited')
    .option('--not-holiday', 'aran only: the Catalan holiday of this date is not one in the Val d’Aran')
    .action((o) =>
      withApp(async (deps) => {
        await deps.db.platform((tx) =>
          setRegionalDay(tx, cli(deps), {
            date: o.date,
            scope: scopeOf(o.scope),
            name: o.name,
            nonBusiness: !o.notHoliday,
            reason: o.reason,
          }),
        );
        out.log('ok');
      }),
    );
  regional
    .command('withdraw')
    .description('Withdraw a day entered by mistake (kept in the history, never re-seeded)')
    .requiredOption('--date <YYYY-MM-DD>')
    .requiredOption('--scope <scope>', 'national | catalonia | aran')
    .requiredOption('--reason <text>')
    .action((o) =>
      withApp(async (deps) => {
        await deps.db.platform((tx) =>
          withdrawRegional(tx, cli(deps), { date: o.date, scope: scopeOf(o.scope), reason: o.reason }),
        );
        out.log('ok');
      }),
    );
  regional
    .command('year')
    .description(
      'Declare a year of the Catalan calendar, or of the Val d’Aran substitution, complete (or not)',
    )
    .requiredOption('--year <year>')
    .requiredOption('--scope <scope>', 'catalonia | aran')
    .requiredOption('--reason <text>')
    .option('--incomplete', 'mark the year incomplete instead')
    .action((o) =>
      withApp(async (deps) => {
        await deps.db.platform((tx) =>
          setRegionalYear(tx, cli(deps), {
            year: yearOf(o.year),
            scope: regionOf(o.scope),
            complete: !o.incomplete,
            reason: o.reason,
          }),
        );
        out.log('ok');
      }),
    );

  const local = calendar
    .command('local')
    .description("A municipality's local days in the shared data (they count for its residents everywhere)");
  local
    .command('set')
    .description('Add or correct a local day of a municipality')
    .requiredOption('--ine <code>')
    .requiredOption('--date <YYYY-MM-DD>')
    .requiredOption('--name <name>')
    .requiredOption('--reason <text>')
    .action((o) =>
      withApp(async (deps) => {
        await deps.db.platform((tx) =>
          setLocalDay(tx, cli(deps), { ine: o.ine, date: o.date, name: o.name, reason: o.reason }),
        );
        out.log('ok');
      }),
    );
  local
    .command('withdraw')
    .description('Withdraw a local day of a municipality')
    .requiredOption('--ine <code>')
    .requiredOption('--date <YYYY-MM-DD>')
    .requiredOption('--reason <text>')
    .action((o) =>
      withApp(async (deps) => {
        await deps.db.platform((tx) =>
          withdrawLocal(tx, cli(deps), { ine: o.ine, date: o.date, reason: o.reason }),
        );
        out.log('ok');
      }),
    );
  local
    .command('year')
    .description("Declare a municipality's local days of a year complete (or not)")
    .requiredOption('--ine <code>')
    .requiredOption('--year <year>')
    .requiredOption('--reason <text>')
    .option('--incomplete', 'mark the year incomplete instead')
    .action((o) =>
      withApp(async (deps) => {
        await deps.db.platform((tx) =>
          setLocalYear(tx, cli(deps), {
            ine: o.ine,
            year: yearOf(o.year),
            complete: !o.incomplete,
            reason: o.reason,
          }),
        );
        out.log('ok');
      }),
    );
}
