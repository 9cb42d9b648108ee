import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';

/** data/seed, shipped with the product (never ../shared at run time). */
export const SEED_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../data/seed');

export type Municipality = {
  ine: string;
  ine6: string;
  name: string;
  comarca: string;
  population2025: number;
  dir3: string;
  localHolidays2026: string[];
};

/** The province's 231 municipalities (IDESCAT codes, padró 2025; see data/seed/SOURCES.md). */
export function loadMunicipalities(seedDir = SEED_DIR): Municipality[] {
  const text = fs.readFileSync(path.join(seedDir, 'lleida_municipis.csv'), 'utf8');
  const rows = parse(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return rows.map((r) => ({
    ine: r.ine_code!,
    ine6: r.ine_code6!,
    name: r.name_display!,
    comarca: r.comarca_2025 || r.comarca_name!,
    population2025: Number(r.population_2025),
    dir3: r.dir3_derived!,
    localHolidays2026: (r.local_holidays_2026 ?? '').split(';').filter(Boolean),
  }));
}

/** In the Val d'Aran, Aranese is official and comes first (Llei 35/2010; DOMAIN: Documents). */
export function defaultLanguage(m: Municipality): string {
  return m.comarca === 'Aran' ? 'oc-aranes' : 'ca';
}
