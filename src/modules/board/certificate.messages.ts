/**
 * The certificate of publication's message catalogue (ca first, es, Aranese): issued in the
 * entity's language. Keys are the same in every language (the type says so).
 */
export type CertificateLanguage = 'ca' | 'es' | 'oc-aranes';

/** Catalan and Aranese elide "de" before a vowel or a mute h: "d'Abella", "de Lleida". */
function deName(name: string): string {
  return /^(h?[aeiouàèéíïòóúü])/i.test(name) ? `d'${name}` : `de ${name}`;
}

export type CertificateMessages = {
  title: string;
  intro: string;
  entity: string;
  publication: string;
  publicTitle: string;
  summary: string;
  expedient: string;
  document: string;
  startDate: string;
  term: string;
  terms: { business_days: (n: number) => string; calendar_days: (n: number) => string; endDate: string };
  lastDay: string;
  realStart: string;
  realEnd: string;
  endedBy: { period: string; withdrawal: (reason: string) => string };
  outages: string;
  outageLine: (from: string, to: string, description: string) => string;
  ongoing: string;
  noOutages: string;
  csv: string;
  verifyAt: string;
  sealedBy: (entity: string) => string;
  notQualified: string;
  notQualifiedShort: string;
  authorisedBy: (resolution: string) => string;
  page: (n: number, total: number) => string;
  timeZone: string;
  reason: string;
  fileName: string;
};

const ca: CertificateMessages = {
  title: "Certificat de publicació al tauler d'edictes",
  intro:
    "Aquest certificat, emès com a actuació administrativa automatitzada, acredita que el document que s'hi identifica ha estat exposat al tauler d'edictes electrònic de la seu de l'entitat durant el període real que s'hi indica (Llei 26/2010, art. 58), i les interrupcions del servei de la seu que hi han coincidit (RD 203/2021; Llei 39/2015, art. 32.4).",
  entity: 'Entitat',
  publication: 'Identificador de la publicació',
  publicTitle: 'Títol publicat',
  summary: 'Extracte publicat',
  expedient: 'Expedient',
  document: 'Document publicat',
  startDate: "Data d'inici",
  term: 'Termini',
  terms: {
    business_days: (n) => `${n} dies hàbils`,
    calendar_days: (n) => `${n} dies naturals`,
    endDate: 'fins a la data final indicada',
  },
  lastDay: 'Darrer dia',
  realStart: "Inici real de l'exposició",
  realEnd: "Fi real de l'exposició",
  endedBy: {
    period: 'Exhaurit el període de publicació.',
    withdrawal: (r) => `Retirada abans del final del període. Motiu: ${r}`,
  },
  outages: 'Interrupcions del servei de la seu durant el període',
  outageLine: (from, to, d) => `Des de ${from} fins a ${to}: ${d}`,
  ongoing: 'en curs',
  noOutages: 'No consta cap interrupció del servei de la seu durant el període.',
  csv: 'Codi segur de verificació (CSV)',
  verifyAt: 'Verificació a',
  sealedBy: (e) => `Document segellat electrònicament amb el segell d'òrgan ${deName(e)}.`,
  notQualified: 'SEGELL DE DEMOSTRACIÓ — NO QUALIFICAT: aquest document no té validesa legal.',
  notQualifiedShort: 'segell de demostració, no qualificat',
  authorisedBy: (r) => `Actuació administrativa automatitzada aprovada per ${r}.`,
  page: (n, t) => `Pàgina ${n} de ${t}`,
  timeZone: 'hora de Madrid',
  reason: 'Certificat de publicació',
  fileName: 'certificat-publicacio',
};

const es: CertificateMessages = {
  title: 'Certificado de publicación en el tablón de edictos',
  intro:
    'Este certificado, emitido como actuación administrativa automatizada, acredita que el documento que se identifica ha estado expuesto en el tablón de edictos electrónico de la sede de la entidad durante el período real que se indica (Ley catalana 26/2010, art. 58), y las interrupciones del servicio de la sede que han coincidido con él (RD 203/2021; Ley 39/2015, art. 32.4).',
  entity: 'Entidad',
  publication: 'Identificador de la publicación',
  publicTitle: 'Título publicado',
  summary: 'Extracto publicado',
  expedient: 'Expediente',
  document: 'Documento publicado',
  startDate: 'Fecha de inicio',
  term: 'Plazo',
  terms: {
    business_days: (n) => `${n} días hábiles`,
    calendar_days: (n) => `${n} días naturales`,
    endDate: 'hasta la fecha final indicada',
  },
  lastDay: 'Último día',
  realStart: 'Inicio real de la exposición',
  realEnd: 'Fin real de la exposición',
  endedBy: {
    period: 'Agotado el período de publicación.',
    withdrawal: (r) => `Retirada antes del final del período. Motivo: ${r}`,
  },
  outages: 'Interrupciones del servicio de la sede durante el período',
  outageLine: (from, to, d) => `Desde ${from} hasta ${to}: ${d}`,
  ongoing: 'en curso',
  noOutages: 'No consta ninguna interrupción del servicio de la sede durante el período.',
  csv: 'Código seguro de verificación (CSV)',
  verifyAt: 'Verificación en',
  sealedBy: (e) => `Documento sellado electrónicamente con el sello de órgano de ${e}.`,
  notQualified: 'SELLO DE DEMOSTRACIÓN — NO CUALIFICADO: este documento no tiene validez legal.',
  notQualifiedShort: 'sello de demostración, no cualificado',
  authorisedBy: (r) => `Actuación administrativa automatizada aprobada por ${r}.`,
  page: (n, t) => `Página ${n} de ${t}`,
  timeZone: 'hora de Madrid',
  reason: 'Certificado de publicación',
  fileName: 'certificado-publicacion',
};

const oc: CertificateMessages = {
  title: "Certificat de publicacion en taulèr d'edictes",
  intro:
    "Aguest certificat, emetut coma actuacion administrativa automatizada, acredite qu'eth document que s'i identifique a estat expausat en taulèr d'edictes electronic dera sèu dera entitat pendent eth periòde reau que s'i indique (Lei 26/2010, art. 58), e es interrupcions deth servici dera sèu que i an coincidit (RD 203/2021; Lei 39/2015, art. 32.4).",
  entity: 'Entitat',
  publication: 'Identificador dera publicacion',
  publicTitle: 'Títol publicat',
  summary: 'Extrait publicat',
  expedient: 'Expedient',
  document: 'Document publicat',
  startDate: "Data d'inici",
  term: 'Tèrmi',
  terms: {
    business_days: (n) => `${n} dies abils`,
    calendar_days: (n) => `${n} dies naturaus`,
    endDate: 'enquiath ara data finau indicada',
  },
  lastDay: 'Darrèr dia',
  realStart: 'Inici reau dera exposicion',
  realEnd: 'Fin reau dera exposicion',
  endedBy: {
    period: 'Acabat eth periòde de publicacion.',
    withdrawal: (r) => `Retirada abans dera fin deth periòde. Motiu: ${r}`,
  },
  outages: 'Interrupcions deth servici dera sèu pendent eth periòde',
  outageLine: (from, to, d) => `Dempús ${from} enquiath ${to}: ${d}`,
  ongoing: 'en cors',
  noOutages: 'Non consta cap d’interrupcion deth servici dera sèu pendent eth periòde.',
  csv: 'Còdi segur de verificacion (CSV)',
  verifyAt: 'Verificacion en',
  sealedBy: (e) => `Document sagerat electronicament damb eth sagèth d'organ ${deName(e)}.`,
  notQualified: 'SAGÈTH DE DEMOSTRACION — NON QUALIFICAT: aguest document non a validesa legau.',
  notQualifiedShort: 'sagèth de demostracion, non qualificat',
  authorisedBy: (r) => `Actuacion administrativa automatizada aprovada per ${r}.`,
  page: (n, t) => `Pagina ${n} de ${t}`,
  timeZone: 'ora de Madrid',
  reason: 'Certificat de publicacion',
  fileName: 'certificat-publicacion',
};

export const CERTIFICATE_MESSAGES: Record<CertificateLanguage, CertificateMessages> = {
  ca,
  es,
  'oc-aranes': oc,
};

export function certificateLanguage(lang: string): CertificateLanguage {
  return lang === 'es' || lang === 'oc-aranes' ? lang : 'ca';
}
