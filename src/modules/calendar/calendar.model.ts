/**
 * Pure assembly of one place's holidays from the calendar data (the shipped seed, the operator's
 * corrections, an entity's own days), as a `HolidayCalendar` the deadline engine reads.
 *
 * Layers of a place, each complete or not for a given year:
 * - regional: the national and Catalan holidays (`catalonia` years), and in the Val d'Aran the
 *   regional substitution (`aran` years): the Catalan order replaces one Catalan holiday with
 *   17 June, Festa d'Aran. The shipped data does not say which day is replaced, so an Aran place's
 *   regional calendar is incomplete until an operator enters the substitution and marks the year.
 * - local: the municipality's two local holidays (DOGC order), or an entity's own.
 */
import { type CivilDate, datesOfYear, isWeekend, weekdayName, yearOf } from './civil-date.ts';
import type { Holiday, HolidayCalendar, HolidayScope, Incomplete } from './deadlines.ts';

export type Region = 'catalonia' | 'aran';
export type RegionalScope = 'national' | 'catalonia' | 'aran';

/** A regional row. `nonBusiness: false` (Aran only): the Catalan holiday of that date is not one in Aran. */
export type RegionalDay = { date: CivilDate; scope: RegionalScope; name: string; nonBusiness: boolean };
export type RegionalYear = { year: number; scope: Region; complete: boolean; note: string | null };
export type LocalDay = { date: CivilDate; name: string; scope: 'local' | 'entity' };
export type LocalYear = { year: number; complete: boolean; note: string | null };

export type PlaceData = {
  /** Shown in answers and errors, e.g. `Lleida (INE 25120)`. */
  place: string;
  ine: string | null;
  /** null: outside Catalonia, where Lligall has no regional holidays. */
  region: Region | null;
  regionalDays: RegionalDay[];
  regionalYears: RegionalYear[];
  localDays: LocalDay[];
  localYears: LocalYear[];
};

/** Catalonia's provinces by INE prefix: Barcelona, Girona, Lleida, Tarragona. */
const CATALAN_PROVINCES = new Set(['08', '17', '25', '43']);

/** The regional calendar that applies to a municipality (null: not in Catalonia, no data). */
export function regionOf(ine: string | null, comarca: string | null): Region | null {
  if (comarca === 'Aran') return 'aran';
  if (ine === null) return 'catalonia';
  return CATALAN_PROVINCES.has(ine.slice(0, 2)) ? 'catalonia' : null;
}

export function placeLabel(name: string | null, ine: string | null): string {
  if (name && ine) return `${name} (INE ${ine})`;
  if (ine) return `municipality INE ${ine}`;
  return name ?? 'unknown place';
}

function groupByDate<T extends { date: CivilDate }>(rows: T[]): Map<CivilDate, T[]> {
  const m = new Map<CivilDate, T[]>();
  for (const r of rows) {
    const list = m.get(r.date);
    if (list) list.push(r);
    else m.set(r.date, [r]);
  }
  return m;
}

type Compiled = {
  holidays: Map<CivilDate, Holiday[]>;
  missing(year: number): Incomplete | null;
};

function compile(d: PlaceData): Compiled {
  const holidays = new Map<CivilDate, Holiday[]>();
  const add = (date: CivilDate, name: string, scope: HolidayScope) => {
    const h: Holiday = { date, name, scope, place: d.place };
    const list = holidays.get(date);
    if (list) list.push(h);
    else holidays.set(date, [h]);
  };
  if (d.region) {
    const aran = d.region === 'aran';
    const byDate = groupByDate(d.regionalDays);
    for (const [date, rows] of byDate) {
      // The Val d'Aran substitution: an `aran` row with nonBusiness=false takes the Catalan day out.
      if (aran && rows.some((r) => r.scope === 'aran' && !r.nonBusiness)) {
        for (const r of rows) if (r.scope === 'aran' && r.nonBusiness) add(date, r.name, r.scope);
        continue;
      }
      for (const r of rows) {
        if (r.scope === 'aran' && !aran) continue;
        if (r.nonBusiness) add(date, r.name, r.scope);
      }
    }
  }
  for (const l of d.localDays) add(l.date, l.name, l.scope);

  const regionalComplete = new Map<string, RegionalYear>();
  for (const y of d.regionalYears) regionalComplete.set(`${y.scope}:${y.year}`, y);
  const localYears = new Map<number, LocalYear>();
  for (const y of d.localYears) localYears.set(y.year, y);

  const incomplete = (year: number, layer: 'regional' | 'local', reason: string): Incomplete => ({
    incomplete: true,
    year,
    place: d.place,
    ine: d.ine,
    layer,
    reason,
  });
  return {
    holidays,
    missing(year) {
      if (!d.region) {
        return incomplete(
          year,
          'regional',
          'the place is outside Catalonia and Lligall has no regional holidays for it',
        );
      }
      const cat = regionalComplete.get(`catalonia:${year}`);
      if (!cat?.complete) {
        return incomplete(
          year,
          'regional',
          cat?.note ?? `the national and Catalan holidays of ${year} are not in the calendar data`,
        );
      }
      if (d.region === 'aran') {
        const aran = regionalComplete.get(`aran:${year}`);
        if (!aran?.complete) {
          return incomplete(
            year,
            'regional',
            aran?.note ??
              `the Val d'Aran substitution of ${year} (the Catalan holiday replaced by 17 June, Festa d'Aran) has not been entered`,
          );
        }
      }
      const local = localYears.get(year);
      if (!local?.complete) {
        return incomplete(
          year,
          'local',
          local?.note
            ? `local holidays not known (${local.note})`
            : `the local holidays of ${year} are not known`,
        );
      }
      return null;
    },
  };
}

/** The place's holidays as the deadline engine reads them. */
export function placeCalendar(d: PlaceData): HolidayCalendar {
  const c = compile(d);
  const missingByYear = new Map<number, Incomplete | null>();
  return {
    place: d.place,
    holidaysOn(date) {
      const year = yearOf(date);
      let m = missingByYear.get(year);
      if (m === undefined) {
        m = c.missing(year);
        missingByYear.set(year, m);
      }
      if (m) return m;
      return c.holidays.get(date) ?? [];
    },
  };
}

export type YearDay = {
  date: CivilDate;
  weekday: string;
  /** The day is a Saturday or Sunday (non-business anyway). */
  weekend: boolean;
  holidays: { name: string; scope: HolidayScope }[];
};

export type YearView = {
  year: number;
  place: string;
  complete: boolean;
  missing: Incomplete | null;
  /** The known holidays of the year (weekends are non-business too but not listed unless a holiday falls on one). */
  days: YearDay[];
};

/** The year's known holidays of a place and whether the year is complete. */
export function yearView(d: PlaceData, year: number): YearView {
  const c = compile(d);
  const missing = c.missing(year);
  const days: YearDay[] = [];
  for (const date of datesOfYear(year)) {
    const h = c.holidays.get(date);
    if (!h) continue;
    days.push({
      date,
      weekday: weekdayName(date),
      weekend: isWeekend(date),
      holidays: h.map((x) => ({ name: x.name, scope: x.scope })),
    });
  }
  return { year, place: d.place, complete: missing === null, missing, days };
}

/** One row of an entity's own calendar history: the latest row for a date wins. */
export type EntityDayRow = {
  date: CivilDate;
  action: 'add' | 'remove';
  name: string | null;
  createdAt: number;
};

/**
 * An entity's local layer: its municipality's local days (for an EMD, its parent municipality's,
 * unless the EMD has entered its own days for that year: then only its own), with the entity's
 * corrections applied (the latest `add` or `remove` for a date wins). A year is complete when the
 * municipality's data is (and the EMD uses it), or when the entity's administrator declared it.
 */
export function entityLocalLayer(input: {
  isEmd: boolean;
  base: { days: { date: CivilDate; name: string }[]; years: LocalYear[] };
  rows: EntityDayRow[];
  declaredYears: { year: number; complete: boolean }[];
}): { localDays: LocalDay[]; localYears: LocalYear[] } {
  const latest = new Map<CivilDate, EntityDayRow>();
  for (const r of [...input.rows].sort((a, b) => a.createdAt - b.createdAt)) latest.set(r.date, r);
  const added = [...latest.values()].filter((r) => r.action === 'add');
  const removed = new Set([...latest.values()].filter((r) => r.action === 'remove').map((r) => r.date));
  const ownYears = new Set(input.isEmd ? added.map((r) => yearOf(r.date)) : []);

  const localDays: LocalDay[] = [];
  for (const b of input.base.days) {
    if (ownYears.has(yearOf(b.date)) || removed.has(b.date) || latest.get(b.date)?.action === 'add') continue;
    localDays.push({ date: b.date, name: b.name, scope: 'local' });
  }
  for (const r of added) localDays.push({ date: r.date, name: r.name ?? 'Festa local', scope: 'entity' });

  const years = new Map<number, LocalYear>();
  for (const y of input.base.years) {
    if (!ownYears.has(y.year)) years.set(y.year, y);
  }
  for (const y of ownYears) {
    years.set(y, {
      year: y,
      complete: false,
      note: `the entity entered its own local days for ${y} but has not declared the year complete`,
    });
  }
  for (const d of input.declaredYears) {
    if (d.complete) years.set(d.year, { year: d.year, complete: true, note: null });
  }
  return { localDays, localYears: [...years.values()] };
}
