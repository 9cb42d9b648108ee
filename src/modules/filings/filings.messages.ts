/**
 * The words a generic request is filed with, in the filer's language (LPACAP art. 15; Llei 1/1998
 * art. 10; Aranese is official in the Val d'Aran). They become the registry entry's heading and
 * the labels of its text, which the receipt transcribes. Keys are the same in every language.
 */
export type FilingLanguage = 'ca' | 'es' | 'oc-aranes';

export type FilingMessages = {
  /** The registry entry's heading (assumpte). */
  heading: string;
  /** LPACAP art. 66.1.c: the facts and reasons… */
  exposo: string;
  /** …and the request itself. */
  solicito: string;
  /** A representative's filing says so (LPACAP art. 5 and 6). */
  onBehalf: (p: {
    representative: string;
    representativeId: string;
    subject: string;
    subjectId: string;
    power: string;
  }) => string;
};

const ca: FilingMessages = {
  heading: 'Instància genèrica',
  exposo: 'EXPOSO',
  solicito: 'SOL·LICITO',
  onBehalf: (p) =>
    `Presentada per ${p.representative} (${p.representativeId}) en representació de ${p.subject} (${p.subjectId}), amb l'apoderament ${p.power}.`,
};

const es: FilingMessages = {
  heading: 'Instancia genérica',
  exposo: 'EXPONGO',
  solicito: 'SOLICITO',
  onBehalf: (p) =>
    `Presentada por ${p.representative} (${p.representativeId}) en representación de ${p.subject} (${p.subjectId}), con el apoderamiento ${p.power}.`,
};

const oc: FilingMessages = {
  heading: 'Instància generica',
  exposo: 'EXPOSICION',
  solicito: 'SOLLICITUD',
  onBehalf: (p) =>
    `Presentada per ${p.representative} (${p.representativeId}) en representacion de ${p.subject} (${p.subjectId}), damb er apoderament ${p.power}.`,
};

export const FILING_MESSAGES: Record<FilingLanguage, FilingMessages> = { ca, es, 'oc-aranes': oc };
