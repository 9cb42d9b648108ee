/**
 * The stamp of an authentic copy made at the registry desk (LPACAP art. 27), in the entity's
 * language (Catalan by default; Spanish; Aranese where it is official). Keys are the same in every
 * language; a test checks it.
 */
export type CopySealLanguage = 'ca' | 'es' | 'oc-aranes';

export type CopyStampFacts = {
  csv: string;
  verifyUrl: string;
  entity: string;
  official: string;
  date: string;
};

export type CopySealMessages = {
  /** The stamp printed on every page of the sealed copy. */
  stamp: (f: CopyStampFacts) => string;
  /** Printed after the stamp when the seal is the installation's demo seal. */
  notQualified: string;
  page: (n: number, total: number) => string;
  /** The signature's /Reason. */
  reason: string;
  /** Suffix of the sealed copy's file name (before .pdf). */
  fileSuffix: string;
};

const ca: CopySealMessages = {
  stamp: (f) =>
    `Còpia electrònica autèntica de document en paper (Llei 39/2015, art. 27) — CSV ${f.csv} — verificació a ${f.verifyUrl} — segellat per ${f.entity} — feta per ${f.official} el ${f.date}`,
  notQualified: 'SEGELL DE DEMOSTRACIÓ — NO QUALIFICAT',
  page: (n, t) => `Pàgina ${n} de ${t}`,
  reason: 'Còpia electrònica autèntica de document en paper',
  fileSuffix: 'copia-autentica',
};

const es: CopySealMessages = {
  stamp: (f) =>
    `Copia electrónica auténtica de documento en papel (Ley 39/2015, art. 27) — CSV ${f.csv} — verificación en ${f.verifyUrl} — sellado por ${f.entity} — realizada por ${f.official} el ${f.date}`,
  notQualified: 'SELLO DE DEMOSTRACIÓN — NO CUALIFICADO',
  page: (n, t) => `Página ${n} de ${t}`,
  reason: 'Copia electrónica auténtica de documento en papel',
  fileSuffix: 'copia-autentica',
};

const oc: CopySealMessages = {
  stamp: (f) =>
    `Còpia electronica autentica de document en papèr (Lei 39/2015, art. 27) — CSV ${f.csv} — verificacion en ${f.verifyUrl} — sagerat per ${f.entity} — hèta per ${f.official} eth ${f.date}`,
  notQualified: 'SAGÈTH DE DEMOSTRACION — NON QUALIFICAT',
  page: (n, t) => `Pagina ${n} de ${t}`,
  reason: 'Còpia electronica autentica de document en papèr',
  fileSuffix: 'copia-autentica',
};

export const COPY_SEAL_MESSAGES: Record<CopySealLanguage, CopySealMessages> = { ca, es, 'oc-aranes': oc };

/** The catalogue of a language, Catalan when the entity's language has none. */
export function copySealMessages(language: string): { lang: CopySealLanguage; m: CopySealMessages } {
  const lang = (language in COPY_SEAL_MESSAGES ? language : 'ca') as CopySealLanguage;
  return { lang, m: COPY_SEAL_MESSAGES[lang] };
}
