import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { SEED_DIR } from '#modules/tenancy/province.ts';
import { isCivilDate, yearOf } from './civil-date.ts';
import type { RegionalDay, RegionalScope } from './calendar.model.ts';

export const REGIONAL_FILE = 'festius_catalunya_2025_2026.csv';
export const LOCAL_FILE = 'festes_locals_lleida_2026.csv';

export type SeedRegionalDay = RegionalDay & { source: string };
export type SeedRegionalYear = { year: number; scope: 'catalonia'; complete: true; source: string };
export type SeedLocalDay = { ine: string; date: string; name: string; source: string };
export type SeedLocalYear = {
  ine: string;
  year: number;
  complete: boolean;
  note: string | null;
  source: string;
};

/** The calendar data shipped in data/seed (see data/seed/SOURCES.md), as rows to load. */
export type CalendarSeed = {
  /** SHA-256 over the files read: a new version of the data is loaded once. */
  sha256: string;
  files: string[];
  regionalDays: SeedRegionalDay[];
  regionalYears: SeedRegionalYear[];
  localDays: SeedLocalDay[];
  localYears: SeedLocalYear[];
};

function rows(text: string): Record<string, string>[] {
  return parse(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
}

function bad(file: string, line: number, what: string): Error {
  return new Error(`data/seed/${file}, row ${line}: ${what}`);
}

/**
 * The 2025 rows (Generalitat labour calendar) carry no scope: it lists every holiday in Catalonia
 * without telling the national ones apart, so they are `catalonia`. The 2026 rows (BOE) say
 * `country` (national) or `autonomous-community` (Catalonia). Names are kept as the source gives
 * them (Catalan for 2025, Spanish for 2026). There is no Val d'Aran row: see calendar.model.ts.
 */
function regionalScope(raw: string, file: string, line: number): RegionalScope {
  if (raw === '' || raw === 'autonomous-community') return 'catalonia';
  if (raw === 'country') return 'national';
  throw bad(file, line, `unknown scope "${raw}"`);
}

const cache = new Map<string, CalendarSeed>();

/** Reads and checks the shipped calendar files (once per process and directory). */
export function readCalendarSeed(seedDir = SEED_DIR): CalendarSeed {
  const hit = cache.get(seedDir);
  if (hit) return hit;
  const regionalText = fs.readFileSync(path.join(seedDir, REGIONAL_FILE), 'utf8');
  const localText = fs.readFileSync(path.join(seedDir, LOCAL_FILE), 'utf8');
  const sha256 = createHash('sha256')
    .update(REGIONAL_FILE)
    .update('\0')
    .update(regionalText)
    .update('\0')
    .update(LOCAL_FILE)
    .update('\0')
    .update(localText)
    .digest('hex');

  const regionalSource = `seed:${REGIONAL_FILE}`;
  const regionalDays: SeedRegionalDay[] = [];
  const years = new Set<number>();
  rows(regionalText).forEach((r, i) => {
    const date = r.date ?? '';
    if (!isCivilDate(date) || String(yearOf(date)) !== r.year)
      throw bad(REGIONAL_FILE, i + 2, `bad date "${date}"`);
    if (!r.name) throw bad(REGIONAL_FILE, i + 2, 'no name');
    years.add(yearOf(date));
    regionalDays.push({
      date,
      scope: regionalScope(r.scope ?? '', REGIONAL_FILE, i + 2),
      name: r.name,
      nonBusiness: true,
      source: regionalSource,
    });
  });
  const regionalYears: SeedRegionalYear[] = [...years]
    .sort()
    .map((year) => ({ year, scope: 'catalonia', complete: true, source: regionalSource }));

  const localSource = `seed:${LOCAL_FILE}`;
  const localDays: SeedLocalDay[] = [];
  const localYears = new Map<string, SeedLocalYear>();
  rows(localText).forEach((r, i) => {
    const ine = r.ine_code ?? '';
    const year = Number(r.year);
    if (!/^\d{5}$/.test(ine) || !Number.isInteger(year)) throw bad(LOCAL_FILE, i + 2, 'bad INE code or year');
    const key = `${ine}:${year}`;
    const status = r.status ?? '';
    if (status === 'published') {
      const date = r.date ?? '';
      if (!isCivilDate(date) || yearOf(date) !== year) throw bad(LOCAL_FILE, i + 2, `bad date "${date}"`);
      localDays.push({ ine, date, name: r.name || 'Festa local', source: localSource });
      if (!localYears.has(key))
        localYears.set(key, { ine, year, complete: true, note: null, source: localSource });
    } else if (status.startsWith('omitted')) {
      // DOGC orders EMT/208/2025 and EMT/3/2026 give no dates for these municipalities.
      const note = status.replace(/^omitted[^:]*:\s*/, '') || 'not published';
      localYears.set(key, { ine, year, complete: false, note: `source: ${note}`, source: localSource });
    } else {
      throw bad(LOCAL_FILE, i + 2, `unknown status "${status}"`);
    }
  });

  const seed: CalendarSeed = {
    sha256,
    files: [REGIONAL_FILE, LOCAL_FILE],
    regionalDays,
    regionalYears,
    localDays,
    localYears: [...localYears.values()],
  };
  cache.set(seedDir, seed);
  return seed;
}
