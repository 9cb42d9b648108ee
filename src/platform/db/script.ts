import { type Kysely, sql } from 'kysely';

/** Splits SQL text into statements on `;` outside quotes and dollar-quoted bodies. */
export function splitSql(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let i = 0;
  let dollar: string | null = null;
  let quote = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (dollar) {
      if (text.startsWith(dollar, i)) {
        cur += dollar;
        i += dollar.length;
        dollar = null;
        continue;
      }
    } else if (quote) {
      if (ch === "'") quote = false;
    } else if (ch === "'") {
      quote = true;
    } else if (ch === '$') {
      const m = /^\$[A-Za-z_]*\$/.exec(text.slice(i));
      if (m) {
        dollar = m[0];
        cur += dollar;
        i += dollar.length;
        continue;
      }
    } else if (ch === ';') {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
      i++;
      continue;
    }
    cur += ch;
    i++;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** Runs a multi-statement script one statement at a time (prepared statements take one command). */
export async function execScript(db: Kysely<unknown>, text: string): Promise<void> {
  for (const stmt of splitSql(text)) await sql.raw(stmt).execute(db);
}
