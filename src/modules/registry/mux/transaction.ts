import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { AppError } from '#platform/errors.ts';
import type { IdentifierType } from '#modules/parties/identifiers.ts';
import type { PartyInput } from '#modules/parties/parties.service.ts';
import type { DesalRef } from './desal.ts';

/**
 * The MUX v3 transaction JSON as it reaches an entity's registry (guide 5.3: the whole
 * transaction of section 3), read into what a registry entry needs. Pure: no database.
 * The field mapping is documented in ./README.md.
 */

/** Numeric error codes of the guide's answer (`codiError`, 5.4). Stable; documented in README.md. */
export const MUX_ERROR_CODES = {
  invalid: 1,
  conflict: 2,
  party: 3,
  internal: 99,
} as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim().length > 0 ? v.trim() : null);
/** An enumeration the guide sends either as a string or as `{clau, descripcio}`. */
const clau = (v: unknown): string | null => (isObj(v) ? str(v.clau) : str(v));
const descr = (v: unknown): string | null => (isObj(v) ? (str(v.descripcio) ?? str(v.clau)) : str(v));

export type ParsedUnit = { dir3: string | null; name: string | null; chain: string[] };

export type ParsedTransaction = {
  idTransaccio: string;
  /** The transaction's type: E, S or ES (dual). */
  tipus: 'E' | 'S' | 'ES';
  fingerprint: string;
  presentedAt: string;
  summary: string;
  heading: string;
  text: string;
  party: PartyInput | null;
  origen: ParsedUnit | null;
  desti: ParsedUnit | null;
  /** For a dual transaction: whether the output entry (sortida) is already registered somewhere. */
  sortidaDone: boolean;
  testTransaction: boolean;
  application: string | null;
  documents: DesalRefDetails[];
};

/** Fields MUX changes from one execution of the same transaction to the next (guide 3.2.1, 3.2.5, 3.2.6). */
const VOLATILE = ['execucions', 'dataDarreraExecucio', 'ttl', 'TTL', 'assentaments', 'rebuts'];

/** SHA-256 of the transaction's RFC 8785 JSON without the fields that change between executions. */
export function fingerprintOf(tx: Obj): string {
  const rest: Obj = {};
  for (const [k, v] of Object.entries(tx)) if (!VOLATILE.includes(k)) rest[k] = v;
  return createHash('sha256')
    .update(canonicalize(rest) ?? '')
    .digest('hex');
}

/** An invalid transaction: problem+json that also carries the guide's error answer (5.4). */
export function invalid(
  message: string,
  tx: { idTransaccio?: unknown; tipus?: unknown } | null,
  code: keyof typeof MUX_ERROR_CODES = 'invalid',
): AppError {
  return new AppError('MUX_TRANSACTION_INVALID', message, muxErrorFields(message, tx, code));
}

export function muxErrorFields(
  message: string,
  tx: { idTransaccio?: unknown; tipus?: unknown } | null,
  code: keyof typeof MUX_ERROR_CODES,
): Record<string, unknown> {
  return {
    resultat: false,
    codiError: MUX_ERROR_CODES[code],
    missatgeError: message,
    ...(typeof tx?.idTransaccio === 'string' ? { idTransaccio: tx.idTransaccio } : {}),
    ...(typeof tx?.tipus === 'string' ? { tipus: tx.tipus } : {}),
  };
}

/**
 * dataPresentacio (guide 3.2.2.2): milliseconds since 1970 (an instant: no time zone to apply).
 * A string in the answer's own format (`dd/MM/yyyy'T'HH:mm:ss.SSS±hh:mm`) or ISO 8601 with an
 * offset is also taken, exactly; a local time without offset is refused (ambiguous at DST changes).
 */
export function parseDataPresentacio(v: unknown): Date | null {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v <= 0) return null;
    return new Date(v);
  }
  if (typeof v !== 'string') return null;
  const m = /^(\d{2})\/(\d{2})\/(\d{4})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?([+-]\d{2}:\d{2}|Z)$/.exec(v);
  const iso = m
    ? `${m[3]}-${m[2]}-${m[1]}T${m[4]}:${m[5]}:${m[6]}.${(m[7] ?? '0').padEnd(3, '0')}${m[8]}`
    : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?([+-]\d{2}:\d{2}|Z)$/.test(v)
      ? v
      : null;
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : new Date(t);
}

const madridParts = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Madrid',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** The answer's date format (guide 5.4): `dd/MM/yyyy'T'HH:mm:ss.SSS±hh:mm`, in Europe/Madrid. */
export function formatMuxDate(d: Date): string {
  const p: Record<string, string> = {};
  for (const x of madridParts.formatToParts(d)) p[x.type] = x.value;
  const ms = d.getTime();
  const wall = Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!, ms % 1000);
  const off = Math.round((wall - ms) / 60_000);
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  const hh = String(Math.floor(a / 60)).padStart(2, '0');
  const mm = String(a % 60).padStart(2, '0');
  const SSS = String(((ms % 1000) + 1000) % 1000).padStart(3, '0');
  return `${p.day}/${p.month}/${p.year}T${p.hour}:${p.minute}:${p.second}.${SSS}${sign}${hh}:${mm}`;
}

function unitOf(reg: unknown): ParsedUnit | null {
  if (!isObj(reg) || !isObj(reg.unitatOrganica)) return null;
  const u = reg.unitatOrganica;
  const chain: string[] = [];
  let cur: unknown = u;
  for (let i = 0; i < 20 && isObj(cur); i++) {
    const d = str(cur.dir3);
    if (d) chain.push(d.toUpperCase());
    cur = cur.unitatPare;
  }
  return { dir3: str(u.dir3)?.toUpperCase() ?? null, name: str(u.nom), chain };
}

/** tipusIdentificador (guide 3.2.2.5) → the party register's identifier type; NIF is recognised from its shape. */
const IDENTIFIER_TYPES: Record<string, IdentifierType | undefined> = {
  NIF: undefined,
  DNI: 'nif',
  NIE: 'nie',
  CIF: 'cif',
  PAS: 'passport',
  VAT: 'other',
};

function personLabel(p: Obj): string {
  const name = [str(p.nom), str(p.cognom1), str(p.cognom2)].filter(Boolean).join(' ');
  const who = name || str(p.raoSocial) || '—';
  return `${who} (${clau(p.tipusIdentificador) ?? '?'} ${str(p.identificador) ?? '?'})`;
}

/** The first interessat as a party of the register (created if the entity does not have it). */
function partyOf(p: Obj, problems: string[]): PartyInput | null {
  const identifier = str(p.identificador);
  if (!identifier) {
    problems.push('interessats[0].identificador is required');
    return null;
  }
  const type = clau(p.tipusIdentificador)?.toUpperCase() ?? 'NIF';
  if (!(type in IDENTIFIER_TYPES)) {
    problems.push(
      `interessats[0].tipusIdentificador ${type} is not one of ${Object.keys(IDENTIFIER_TYPES).join(', ')}`,
    );
    return null;
  }
  const info = isObj(p.informacioIdentificador) ? p.informacioIdentificador : {};
  const legal = str(info.tipusPersona) === 'J' || (!str(p.nom) && !!str(p.raoSocial));
  const name = legal ? str(p.raoSocial) : str(p.nom);
  if (!name) {
    problems.push(`interessats[0] needs ${legal ? 'raoSocial' : 'nom'}`);
    return null;
  }
  const street =
    str(p.adressaCompleta) ??
    ([descr(p.tipusVia), str(p.nomVia), str(p.numeroInferior), str(p.pis), str(p.porta)]
      .filter(Boolean)
      .join(' ') ||
      null);
  const address = {
    ...(street ? { street } : {}),
    ...(str(p.codiPostal) ? { postalCode: str(p.codiPostal)! } : {}),
    ...(str(p.municipi) ? { municipality: str(p.municipi)! } : {}),
    ...(str(p.provincia) ? { province: str(p.provincia)! } : {}),
    ...(str(p.pais) ? { country: str(p.pais)! } : {}),
  };
  const ine6 = str(p.codiMunicipi);
  const identifierType = IDENTIFIER_TYPES[type];
  return {
    identifier,
    ...(identifierType ? { identifierType } : {}),
    kind: legal ? 'organisation' : 'person',
    name,
    surname1: legal ? null : str(p.cognom1),
    surname2: legal ? null : str(p.cognom2),
    email: str(p.email),
    address: Object.keys(address).length ? address : null,
    // codiMunicipi is INE6 (province, municipality, control digit): the register keeps INE5.
    residenceIne: ine6 && /^\d{6}$/.test(ine6) ? ine6.slice(0, 5) : null,
  };
}

function documentsOf(v: unknown, problems: string[]): DesalRefDetails[] {
  if (v === undefined || v === null) return [];
  if (!isObj(v)) {
    problems.push('documents must be a map of DESA’L documents by UUID');
    return [];
  }
  const out: DesalRefDetails[] = [];
  for (const [key, d] of Object.entries(v)) {
    if (!isObj(d)) {
      problems.push(`documents.${key} must be an object`);
      continue;
    }
    const uuid = str(d.uuid) ?? key;
    const contingut = d.contingut === undefined ? 1 : Number(clau(d.contingut) ?? d.contingut);
    if (contingut !== 1 && contingut !== 2 && contingut !== 3) {
      problems.push(`documents.${key}.contingut must be 1, 2 or 3`);
      continue;
    }
    const size = typeof d.tamany === 'number' && Number.isSafeInteger(d.tamany) ? d.tamany : null;
    out.push({
      uuid,
      contingut,
      externalUrl: str(d.URLDocumentExtern),
      fileName: str(d.nomFitxer) ?? uuid,
      mimeType: str(d.formatFitxer) ?? 'application/octet-stream',
      declaredSize: size,
      title: str(d.nomNatural) ?? str(d.descripcio) ?? str(d.nomFitxer) ?? uuid,
      hash: str(d.hash),
      hashAlgorithm: str(d.hashAlgoritme),
    });
  }
  return out;
}

/** Extra facts of a document reference kept beside it (title and declared hash). */
export type DesalRefDetails = DesalRef & { title: string; hash: string | null; hashAlgorithm: string | null };

function line(label: string, ...parts: (string | null)[]): string | null {
  const v = parts.filter(Boolean).join(' · ');
  return v ? `${label}: ${v}` : null;
}

/** Reads and checks a transaction; throws MUX_TRANSACTION_INVALID listing every problem. */
export function parseTransaction(raw: unknown, opts: { maxDocuments: number }): ParsedTransaction {
  if (!isObj(raw)) throw invalid('The body must be the MUX v3 transaction (a JSON object)', null);
  const problems: string[] = [];
  const idTransaccio = str(raw.idTransaccio);
  if (!idTransaccio || idTransaccio.length > 100 || !/^[0-9A-Za-z-]+$/.test(idTransaccio))
    problems.push('idTransaccio is required (hexadecimal groups separated by hyphens)');
  const tipus = str(raw.tipus);
  if (tipus !== 'E' && tipus !== 'S' && tipus !== 'ES') problems.push('tipus must be E, S or ES');
  const assumpte = isObj(raw.assumpte) ? raw.assumpte : null;
  if (!assumpte) problems.push('assumpte is required');
  const presented = parseDataPresentacio(assumpte?.dataPresentacio);
  if (assumpte && !presented)
    problems.push('assumpte.dataPresentacio is required: milliseconds since 1970 (guide 3.2.2.2)');
  const summary = str(assumpte?.resum);
  if (assumpte && !summary) problems.push('assumpte.resum is required');
  if (summary && summary.length > 4000) problems.push('assumpte.resum has more than 4000 characters');
  const control = isObj(raw.control) ? raw.control : {};
  const interessats = raw.interessats;
  if (interessats !== undefined && interessats !== null && !Array.isArray(interessats))
    problems.push('interessats must be a list');
  const people = (Array.isArray(interessats) ? interessats : []).filter(isObj);
  const party = people[0] ? partyOf(people[0], problems) : null;
  const documents = documentsOf(raw.documents, problems);
  if (documents.length > opts.maxDocuments)
    problems.push(`at most ${opts.maxDocuments} documents per transaction`);
  if (problems.length) throw invalid(problems.join('; '), raw);

  const registres = isObj(raw.registres) ? raw.registres : {};
  const origen = unitOf(registres.origen);
  const desti = unitOf(registres.desti);
  const a = assumpte!;
  const heading = (
    str(a.nomTramit) ??
    str(a.nomProcediment) ??
    str(a.nomSIA) ??
    `Tramesa MUX${str(control.aplicacio) ? ` (${str(control.aplicacio)})` : ''}`
  ).slice(0, 500);
  const generic = isObj(raw.instanciaGenerica) ? raw.instanciaGenerica : {};
  const others = people.slice(1).map(personLabel);
  const reps = people
    .filter((p) => isObj(p.representant))
    .map((p) => `${personLabel(p.representant as Obj)} per ${personLabel(p)}`);
  const text = [
    `Transacció MUX v3 ${idTransaccio} (${tipus})`,
    line('Aplicació', str(control.aplicacio), str(control.urlAplicacio)),
    line('Usuari', str(control.usuari), str(control.contacteUsuari)),
    line('Observacions de l’apunt', str(control.observacionsApunt)),
    line('Documentació física', descr(control.documentacioFisica)),
    line('Observacions', str(a.observacions)),
    line('Exposa', str(generic.exposa)),
    line('Sol·licita', str(generic.solicita)),
    line('Procediment', str(a.codiProcediment), str(a.nomProcediment)),
    line('SIA', str(a.codiSIA), str(a.nomSIA)),
    line('Tràmit', str(a.codiTramit), str(a.nomTramit)),
    line('Família', str(a.codiFamilia), str(a.nomFamilia)),
    line('Codi d’assumpte segons destí', str(a.codiAssumpteSegonsDesti)),
    line('Expedient (origen)', str(a.numeroExpedient)),
    line('Expedient segons destí', str(a.numeroExpedientSegonsDesti)),
    line('Referència externa', str(a.referenciaExterna)),
    line('Origen', origen?.name ?? null, origen?.dir3 ?? null),
    line('Destí', desti?.name ?? null, desti?.dir3 ?? null),
    line('Interessat', people[0] ? personLabel(people[0]) : null),
    line('Altres interessats', ...others),
    line('Representants', ...reps),
    line('Documents (DESA’L)', ...documents.map((d) => `${d.title} [${d.fileName}, ${d.uuid}]`)),
  ]
    .filter(Boolean)
    .join('\n')
    .slice(0, 200000);
  const assentaments = isObj(raw.assentaments) ? raw.assentaments : {};
  const sortida = isObj(assentaments.sortida) ? assentaments.sortida : {};
  const sortidaDone = [sortida.principal, sortida.auxiliar].some(
    (l) => Array.isArray(l) && l.some((x) => isObj(x) && x.resultat === true),
  );
  const indicador = clau(control.indicadorProva);
  return {
    idTransaccio: idTransaccio!,
    tipus: tipus as 'E' | 'S' | 'ES',
    fingerprint: fingerprintOf(raw),
    presentedAt: presented!.toISOString(),
    summary: summary!,
    heading,
    text,
    party,
    origen,
    desti,
    sortidaDone,
    testTransaction: indicador === '1',
    application: str(control.aplicacio),
    documents,
  };
}

/**
 * The direction of the entry this registry makes (guide 3.2.1, 5.1). E and S say it. A dual
 * transaction (ES) makes the output entry at the origin's registry and the input entry at the
 * destination's: this entity's side is the one whose unit (or a parent) has its DIR3; when both
 * are this entity, MUX registers the output first, so the input comes once the output is done.
 */
export function directionFor(t: ParsedTransaction, entityDir3: string): 'E' | 'S' {
  if (t.tipus !== 'ES') return t.tipus;
  const dir3 = entityDir3.toUpperCase();
  const atOrigin = t.origen?.chain.includes(dir3) ?? false;
  const atDestination = t.desti?.chain.includes(dir3) ?? false;
  if (atOrigin && atDestination) return t.sortidaDone ? 'E' : 'S';
  if (atOrigin) return 'S';
  if (atDestination) return 'E';
  throw invalid(
    `A dual (ES) transaction whose origin and destination are both other entities than ${dir3}`,
    t,
  );
}
