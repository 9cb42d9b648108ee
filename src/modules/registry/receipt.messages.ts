/**
 * The receipt's message catalogue (ca first, es, Aranese): the receipt is issued in the filer's
 * language (LPACAP art. 15). Keys are the same in every language; a test checks it.
 */
export type ReceiptLanguage = 'ca' | 'es' | 'oc-aranes';

/** Catalan and Aranese elide "de" before a vowel or a mute h: "d'Abella", "de Lleida". */
export function deName(name: string): string {
  return /^(h?[aeiouàèéíïòóúü])/i.test(name) ? `d'${name}` : `de ${name}`;
}

export type ReceiptMessages = {
  titleE: string;
  titleS: string;
  intro: string;
  entity: string;
  number: string;
  presentedAt: string;
  registeredAt: string;
  effectiveAt: string;
  effectiveUnknown: string;
  channel: string;
  channels: Record<'in_person' | 'electronic' | 'mux' | 'postal' | 'sir', string>;
  office: string;
  party: string;
  sendingBody: string;
  recipient: string;
  heading: string;
  summary: string;
  language: string;
  languages: Record<ReceiptLanguage, string>;
  filedText: string;
  attachments: string;
  noAttachments: string;
  attachmentLine: (n: number, name: string, size: string) => string;
  hashNote: string;
  csv: string;
  verifyAt: string;
  sealedBy: (entity: string) => string;
  notQualified: string;
  /** The same, short enough for the page footer. */
  notQualifiedShort: string;
  authorisedBy: (resolution: string) => string;
  page: (n: number, total: number) => string;
  timeZone: string;
  reason: string;
};

const ca: ReceiptMessages = {
  titleE: "Justificant de registre d'entrada",
  titleS: 'Justificant de registre de sortida',
  intro:
    "Aquest justificant acredita la presentació i el registre del document que s'hi transcriu i dels documents annexos, la integritat dels quals garanteix la seva empremta SHA-256 (Llei 39/2015, art. 16.3).",
  entity: 'Entitat',
  number: "Número d'assentament",
  presentedAt: 'Data i hora de presentació',
  registeredAt: 'Data i hora de registre',
  effectiveAt: 'Data i hora als efectes del còmput de terminis (art. 31.2.b)',
  effectiveUnknown: "No determinada: el calendari de dies inhàbils d'aquest dia no consta",
  channel: 'Canal',
  channels: {
    in_person: 'Presencial',
    electronic: 'Electrònic',
    mux: 'Electrònic (MUX de l’AOC)',
    postal: 'Correu postal',
    sir: 'Sistema d’Interconnexió de Registres (SIR)',
  },
  office: 'Oficina de registre',
  party: 'Interessat',
  sendingBody: 'Òrgan remitent',
  recipient: 'Destinatari',
  heading: 'Assumpte',
  summary: 'Extracte',
  language: 'Llengua',
  languages: { ca: 'català', es: 'castellà', 'oc-aranes': 'aranès' },
  filedText: 'Text presentat',
  attachments: 'Documents annexos',
  noAttachments: 'Cap document annex.',
  attachmentLine: (n, name, size) => `${n}. ${name} (${size})`,
  hashNote: 'SHA-256:',
  csv: 'Codi segur de verificació (CSV)',
  verifyAt: 'Verificació a',
  sealedBy: (e) => `Document segellat electrònicament amb el segell d'òrgan ${deName(e)}.`,
  notQualified: 'SEGELL DE DEMOSTRACIÓ — NO QUALIFICAT: aquest document no té validesa legal.',
  notQualifiedShort: 'segell de demostració, no qualificat',
  authorisedBy: (r) => `Actuació administrativa automatitzada aprovada per ${r}.`,
  page: (n, t) => `Pàgina ${n} de ${t}`,
  timeZone: 'hora de Madrid',
  reason: 'Justificant de registre',
};

const es: ReceiptMessages = {
  titleE: 'Justificante de registro de entrada',
  titleS: 'Justificante de registro de salida',
  intro:
    'Este justificante acredita la presentación y el registro del documento que se transcribe y de los documentos anexos, cuya integridad garantiza su huella SHA-256 (Ley 39/2015, art. 16.3).',
  entity: 'Entidad',
  number: 'Número de asiento',
  presentedAt: 'Fecha y hora de presentación',
  registeredAt: 'Fecha y hora de registro',
  effectiveAt: 'Fecha y hora a efectos del cómputo de plazos (art. 31.2.b)',
  effectiveUnknown: 'No determinada: no consta el calendario de días inhábiles de este día',
  channel: 'Canal',
  channels: {
    in_person: 'Presencial',
    electronic: 'Electrónico',
    mux: 'Electrónico (MUX del AOC)',
    postal: 'Correo postal',
    sir: 'Sistema de Interconexión de Registros (SIR)',
  },
  office: 'Oficina de registro',
  party: 'Interesado',
  sendingBody: 'Órgano remitente',
  recipient: 'Destinatario',
  heading: 'Asunto',
  summary: 'Extracto',
  language: 'Lengua',
  languages: { ca: 'catalán', es: 'castellano', 'oc-aranes': 'aranés' },
  filedText: 'Texto presentado',
  attachments: 'Documentos anexos',
  noAttachments: 'Ningún documento anexo.',
  attachmentLine: (n, name, size) => `${n}. ${name} (${size})`,
  hashNote: 'SHA-256:',
  csv: 'Código seguro de verificación (CSV)',
  verifyAt: 'Verificación en',
  sealedBy: (e) => `Documento sellado electrónicamente con el sello de órgano de ${e}.`,
  notQualified: 'SELLO DE DEMOSTRACIÓN — NO CUALIFICADO: este documento no tiene validez legal.',
  notQualifiedShort: 'sello de demostración, no cualificado',
  authorisedBy: (r) => `Actuación administrativa automatizada aprobada por ${r}.`,
  page: (n, t) => `Página ${n} de ${t}`,
  timeZone: 'hora de Madrid',
  reason: 'Justificante de registro',
};

const oc: ReceiptMessages = {
  titleE: "Justificant de registre d'entrada",
  titleS: 'Justificant de registre de sortida',
  intro:
    "Aguest justificant acredite era presentacion e eth registre deth document que s'i transcriu e des documents annèxes, dera quau integritat ne garantís era sua empremta SHA-256 (Lei 39/2015, art. 16.3).",
  entity: 'Entitat',
  number: "Numèro d'assentament",
  presentedAt: 'Data e ora de presentacion',
  registeredAt: 'Data e ora de registre',
  effectiveAt: 'Data e ora as efèctes deth compde de terminis (art. 31.2.b)',
  effectiveUnknown: "Non determinada: eth calendari de dies inabils d'aguest dia non consta",
  channel: 'Canau',
  channels: {
    in_person: 'Presenciau',
    electronic: 'Electronic',
    mux: 'Electronic (MUX der AOC)',
    postal: 'Corrèu postau',
    sir: "Sistèma d'Interconnexion de Registres (SIR)",
  },
  office: 'Oficina de registre',
  party: 'Interessat',
  sendingBody: 'Organ remitent',
  recipient: 'Destinatari',
  heading: 'Afèr',
  summary: 'Extrait',
  language: 'Lengua',
  languages: { ca: 'catalan', es: 'castelhan', 'oc-aranes': 'aranés' },
  filedText: 'Tèxte presentat',
  attachments: 'Documents annèxes',
  noAttachments: 'Cap de document annèxe.',
  attachmentLine: (n, name, size) => `${n}. ${name} (${size})`,
  hashNote: 'SHA-256:',
  csv: 'Còdi segur de verificacion (CSV)',
  verifyAt: 'Verificacion en',
  sealedBy: (e) => `Document sagerat electronicament damb eth sagèth d'organ ${deName(e)}.`,
  notQualified: 'SAGÈTH DE DEMOSTRACION — NON QUALIFICAT: aguest document non a validesa legau.',
  notQualifiedShort: 'sagèth de demostracion, non qualificat',
  authorisedBy: (r) => `Actuacion administrativa automatizada aprovada per ${r}.`,
  page: (n, t) => `Pagina ${n} de ${t}`,
  timeZone: 'ora de Madrid',
  reason: 'Justificant de registre',
};

export const RECEIPT_MESSAGES: Record<ReceiptLanguage, ReceiptMessages> = { ca, es, 'oc-aranes': oc };
