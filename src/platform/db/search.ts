/**
 * Accent folding for search, done the same way in SQL and here: Latin letters with diacritics
 * become their base letter (à, À → a; ç → c; ñ → n), the Catalan middle dot and full stops are
 * dropped (`col·legi`, `col.legi` → `collegi`; `S.L.` → `sl`). Upper-case accented letters are
 * mapped directly, because lower() leaves them alone under the C collation. `translate()` runs
 * the same on PostgreSQL 15 and PGlite and needs no extension (unaccent is not available).
 */
const FOLD_FROM: string[] = [];
const FOLD_TO: string[] = [];
for (let cp = 0xc0; cp <= 0x17f; cp++) {
  const ch = String.fromCodePoint(cp);
  const base = ch.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  if (/^[a-z]$/.test(base)) {
    FOLD_FROM.push(ch);
    FOLD_TO.push(base);
  }
}
FOLD_FROM.push('\u2019');
FOLD_TO.push("'");
/** `translate(lower(x), FOLD_SQL_FROM, FOLD_SQL_TO)`: characters in `from` without a counterpart in `to` are deleted. */
export const FOLD_SQL_FROM = `${FOLD_FROM.join('')}\u00b7.`;
export const FOLD_SQL_TO = FOLD_TO.join('');
const FOLD_MAP = new Map(FOLD_FROM.map((c, i) => [c, FOLD_TO[i]!]));

/** The JavaScript half of the search folding. */
export function foldForSearch(s: string): string {
  let out = '';
  for (const ch of s.toLowerCase()) {
    if (ch === '\u00b7' || ch === '.') continue;
    out += FOLD_MAP.get(ch) ?? ch;
  }
  return out;
}

/** Escapes LIKE wildcards so a search term matches literally. */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
