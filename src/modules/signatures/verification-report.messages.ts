/**
 * The message catalogue of the sealed verification report (ca first, es, Aranese): the report is
 * issued in the caller's language. Keys are the same in every language; a test checks it.
 */
export type ReportLanguage = 'ca' | 'es' | 'oc-aranes';

export const REPORT_LANGUAGES: readonly ReportLanguage[] = ['ca', 'es', 'oc-aranes'];

type Trust = 'trusted' | 'untrusted' | 'expired' | 'revoked' | 'unknown';

export type ReportMessages = {
  title: string;
  intro: string;
  /** The stored document's title: the report of the document named. */
  storedTitle: (documentTitle: string) => string;
  /** The file name's stem (before the document's short id and .pdf). */
  fileStem: string;
  documentSection: string;
  documentTitle: string;
  expedient: string;
  noExpedient: string;
  eniId: string;
  sha256: string;
  size: string;
  mimeType: string;
  verifiedAt: string;
  signaturesSection: string;
  noSignatures: string;
  signatureHeading: (n: number, total: number) => string;
  signer: string;
  position: string;
  signedAt: string;
  signedAtUnknown: string;
  format: string;
  integrity: string;
  integrityValues: Record<'valid' | 'invalid', string>;
  trust: string;
  trustValues: Record<Trust, string>;
  coverage: string;
  coverageWhole: string;
  coverageRevision: (n: number, total: number) => string;
  laterIncremental: string;
  laterNotIncremental: string;
  certificate: string;
  subject: string;
  issuer: string;
  serialNumber: string;
  validity: string;
  validityRange: (from: string, to: string) => string;
  noCertificate: string;
  /** The label of a signature made with a demo key of the installation CA. */
  demo: string;
  /** The label of a trusted signature whose certificate declares itself qualified. */
  qualified: string;
  demoNote: string;
  verdict: string;
  verdictSigned: (n: number) => string;
  verdictNone: string;
  verdictInvalid: string;
  verdictUntrusted: string;
  verdictDemo: string;
  csv: string;
  verifyAt: string;
  sealedBy: (entity: string) => string;
  notQualified: string;
  notQualifiedShort: string;
  page: (n: number, total: number) => string;
  timeZone: string;
  /** The seal's /Reason. */
  reason: string;
};

/** Catalan and Aranese elide "de" before a vowel or a mute h: "d'Abella", "de Lleida". */
function deName(name: string): string {
  return /^(h?[aeiouàèéíïòóúü])/i.test(name) ? `d'${name}` : `de ${name}`;
}

const ca: ReportMessages = {
  title: 'Informe de verificació de signatures electròniques',
  intro:
    "Aquest informe recull el resultat de la verificació de les signatures electròniques del document que s'hi identifica, feta automàticament per Lligall en la data i hora indicades: la integritat de cada signatura, la confiança en el seu certificat i la part del document que cobreix. No substitueix un servei qualificat de validació (Reglament (UE) 910/2014, art. 33).",
  storedTitle: (t) => `Informe de verificació de signatures — ${t}`,
  fileStem: 'informe-verificacio',
  documentSection: 'Document verificat',
  documentTitle: 'Títol',
  expedient: 'Expedient',
  noExpedient: 'Cap',
  eniId: 'Identificador ENI',
  sha256: 'Empremta SHA-256',
  size: 'Mida',
  mimeType: 'Tipus de fitxer',
  verifiedAt: 'Data i hora de la verificació',
  signaturesSection: 'Signatures',
  noSignatures: 'El document no conté cap signatura electrònica.',
  signatureHeading: (n, t) => `Signatura ${n} de ${t}`,
  signer: 'Signant',
  position: 'Càrrec',
  signedAt: 'Data i hora de signatura (declarada)',
  signedAtUnknown: 'No consta',
  format: 'Format',
  integrity: 'Integritat',
  integrityValues: {
    valid: 'vàlida',
    invalid: 'NO VÀLIDA: el contingut signat ha estat alterat o la signatura és defectuosa',
  },
  trust: 'Confiança',
  trustValues: {
    trusted: 'de confiança',
    untrusted: "no de confiança: l'emissor del certificat no és una autoritat de certificació reconeguda",
    expired: 'certificat caducat',
    revoked: 'certificat revocat',
    unknown: 'no determinada',
  },
  coverage: 'Abast',
  coverageWhole: 'tot el document',
  coverageRevision: (n, t) => `revisió ${n} de ${t}`,
  laterIncremental: 'les revisions posteriors són actualitzacions incrementals (p. ex., altres signatures)',
  laterNotIncremental: 'ATENCIÓ: el document ha estat modificat després de la signatura',
  certificate: 'Certificat del signant',
  subject: 'Titular',
  issuer: 'Emissor',
  serialNumber: 'Número de sèrie',
  validity: 'Vigència',
  validityRange: (f, t) => `del ${f} al ${t}`,
  noCertificate: 'El certificat del signant no consta a la signatura.',
  demo: 'demo — no qualificada',
  qualified: 'qualificada',
  demoNote:
    "Signatura feta amb una clau de demostració emesa per l'autoritat de certificació de la instal·lació: no té validesa legal.",
  verdict: 'Resultat',
  verdictSigned: (n) =>
    n === 1
      ? 'La signatura és íntegra i el seu certificat és de confiança: el document consta com a signat.'
      : `Les ${n} signatures són íntegres i els seus certificats són de confiança: el document consta com a signat.`,
  verdictNone: 'El document no consta com a signat: no conté cap signatura electrònica.',
  verdictInvalid:
    'El document NO consta com a signat: almenys una signatura no és íntegra (el document ha estat alterat o la signatura és defectuosa).',
  verdictUntrusted:
    'El document NO consta com a signat: les signatures són íntegres, però almenys un certificat no és de confiança.',
  verdictDemo: 'Inclou signatures de demostració, no qualificades, sense validesa legal.',
  csv: 'Codi segur de verificació (CSV) d’aquest informe',
  verifyAt: 'Verificació a',
  sealedBy: (e) => `Informe segellat electrònicament amb el segell d'òrgan ${deName(e)}.`,
  notQualified: 'SEGELL DE DEMOSTRACIÓ — NO QUALIFICAT: aquest informe no té validesa legal.',
  notQualifiedShort: 'segell de demostració, no qualificat',
  page: (n, t) => `Pàgina ${n} de ${t}`,
  timeZone: 'hora de Madrid',
  reason: 'Informe de verificació de signatures',
};

const es: ReportMessages = {
  title: 'Informe de verificación de firmas electrónicas',
  intro:
    'Este informe recoge el resultado de la verificación de las firmas electrónicas del documento que se identifica, realizada automáticamente por Lligall en la fecha y hora indicadas: la integridad de cada firma, la confianza en su certificado y la parte del documento que cubre. No sustituye a un servicio cualificado de validación (Reglamento (UE) 910/2014, art. 33).',
  storedTitle: (t) => `Informe de verificación de firmas — ${t}`,
  fileStem: 'informe-verificacion',
  documentSection: 'Documento verificado',
  documentTitle: 'Título',
  expedient: 'Expediente',
  noExpedient: 'Ninguno',
  eniId: 'Identificador ENI',
  sha256: 'Huella SHA-256',
  size: 'Tamaño',
  mimeType: 'Tipo de fichero',
  verifiedAt: 'Fecha y hora de la verificación',
  signaturesSection: 'Firmas',
  noSignatures: 'El documento no contiene ninguna firma electrónica.',
  signatureHeading: (n, t) => `Firma ${n} de ${t}`,
  signer: 'Firmante',
  position: 'Cargo',
  signedAt: 'Fecha y hora de firma (declarada)',
  signedAtUnknown: 'No consta',
  format: 'Formato',
  integrity: 'Integridad',
  integrityValues: {
    valid: 'válida',
    invalid: 'NO VÁLIDA: el contenido firmado ha sido alterado o la firma es defectuosa',
  },
  trust: 'Confianza',
  trustValues: {
    trusted: 'de confianza',
    untrusted: 'no de confianza: el emisor del certificado no es una autoridad de certificación reconocida',
    expired: 'certificado caducado',
    revoked: 'certificado revocado',
    unknown: 'no determinada',
  },
  coverage: 'Alcance',
  coverageWhole: 'todo el documento',
  coverageRevision: (n, t) => `revisión ${n} de ${t}`,
  laterIncremental: 'las revisiones posteriores son actualizaciones incrementales (p. ej., otras firmas)',
  laterNotIncremental: 'ATENCIÓN: el documento ha sido modificado después de la firma',
  certificate: 'Certificado del firmante',
  subject: 'Titular',
  issuer: 'Emisor',
  serialNumber: 'Número de serie',
  validity: 'Vigencia',
  validityRange: (f, t) => `del ${f} al ${t}`,
  noCertificate: 'El certificado del firmante no consta en la firma.',
  demo: 'demo — no cualificada',
  qualified: 'cualificada',
  demoNote:
    'Firma realizada con una clave de demostración emitida por la autoridad de certificación de la instalación: no tiene validez legal.',
  verdict: 'Resultado',
  verdictSigned: (n) =>
    n === 1
      ? 'La firma es íntegra y su certificado es de confianza: el documento consta como firmado.'
      : `Las ${n} firmas son íntegras y sus certificados son de confianza: el documento consta como firmado.`,
  verdictNone: 'El documento no consta como firmado: no contiene ninguna firma electrónica.',
  verdictInvalid:
    'El documento NO consta como firmado: al menos una firma no es íntegra (el documento ha sido alterado o la firma es defectuosa).',
  verdictUntrusted:
    'El documento NO consta como firmado: las firmas son íntegras, pero al menos un certificado no es de confianza.',
  verdictDemo: 'Incluye firmas de demostración, no cualificadas, sin validez legal.',
  csv: 'Código seguro de verificación (CSV) de este informe',
  verifyAt: 'Verificación en',
  sealedBy: (e) => `Informe sellado electrónicamente con el sello de órgano de ${e}.`,
  notQualified: 'SELLO DE DEMOSTRACIÓN — NO CUALIFICADO: este informe no tiene validez legal.',
  notQualifiedShort: 'sello de demostración, no cualificado',
  page: (n, t) => `Página ${n} de ${t}`,
  timeZone: 'hora de Madrid',
  reason: 'Informe de verificación de firmas',
};

const oc: ReportMessages = {
  title: 'Informe de verificacion de signatures electroniques',
  intro:
    "Aguest informe recuelh eth resultat dera verificacion des signatures electroniques deth document que s'i identifique, hèta automaticament per Lligall ena data e ora indicades: era integritat de cada signatura, era confiança en sòn certificat e era part deth document que cobrís. Non remplace un servici qualificat de validacion (Reglament (UE) 910/2014, art. 33).",
  storedTitle: (t) => `Informe de verificacion de signatures — ${t}`,
  fileStem: 'informe-verificacion',
  documentSection: 'Document verificat',
  documentTitle: 'Títol',
  expedient: 'Expedient',
  noExpedient: 'Cap',
  eniId: 'Identificador ENI',
  sha256: 'Empremta SHA-256',
  size: 'Talha',
  mimeType: 'Tipe de fichèr',
  verifiedAt: 'Data e ora dera verificacion',
  signaturesSection: 'Signatures',
  noSignatures: 'Eth document non contie cap de signatura electronica.',
  signatureHeading: (n, t) => `Signatura ${n} de ${t}`,
  signer: 'Signant',
  position: 'Carg',
  signedAt: 'Data e ora de signatura (declarada)',
  signedAtUnknown: 'Non consta',
  format: 'Format',
  integrity: 'Integritat',
  integrityValues: {
    valid: 'valida',
    invalid: 'NON VALIDA: eth contengut signat a estat alterat o era signatura ei defectuosa',
  },
  trust: 'Confiança',
  trustValues: {
    trusted: 'de confiança',
    untrusted:
      'non de confiança: er emissor deth certificat non ei ua autoritat de certificacion reconeishuda',
    expired: 'certificat caducat',
    revoked: 'certificat revocat',
    unknown: 'non determinada',
  },
  coverage: 'Abast',
  coverageWhole: 'tot eth document',
  coverageRevision: (n, t) => `revision ${n} de ${t}`,
  laterIncremental: 'es revisions posteriores son actualizacions incrementaus (p. ex., autes signatures)',
  laterNotIncremental: 'ATENCION: eth document a estat modificat dempús dera signatura',
  certificate: 'Certificat deth signant',
  subject: 'Titular',
  issuer: 'Emissor',
  serialNumber: 'Numèro de sèria',
  validity: 'Vigéncia',
  validityRange: (f, t) => `deth ${f} ath ${t}`,
  noCertificate: 'Eth certificat deth signant non consta ena signatura.',
  demo: 'demo — non qualificada',
  qualified: 'qualificada',
  demoNote:
    'Signatura hèta damb ua clau de demostracion emetuda pera autoritat de certificacion dera installacion: non a validesa legau.',
  verdict: 'Resultat',
  verdictSigned: (n) =>
    n === 1
      ? 'Era signatura ei integra e eth sòn certificat ei de confiança: eth document consta coma signat.'
      : `Es ${n} signatures son integres e es sòns certificats son de confiança: eth document consta coma signat.`,
  verdictNone: 'Eth document non consta coma signat: non contie cap de signatura electronica.',
  verdictInvalid:
    'Eth document NON consta coma signat: almens ua signatura non ei integra (eth document a estat alterat o era signatura ei defectuosa).',
  verdictUntrusted:
    'Eth document NON consta coma signat: es signatures son integres, mès almens un certificat non ei de confiança.',
  verdictDemo: 'Includís signatures de demostracion, non qualificades, sense validesa legau.',
  csv: "Còdi segur de verificacion (CSV) d'aguest informe",
  verifyAt: 'Verificacion en',
  sealedBy: (e) => `Informe sagerat electronicament damb eth sagèth d'organ ${deName(e)}.`,
  notQualified: 'SAGÈTH DE DEMOSTRACION — NON QUALIFICAT: aguest informe non a validesa legau.',
  notQualifiedShort: 'sagèth de demostracion, non qualificat',
  page: (n, t) => `Pagina ${n} de ${t}`,
  timeZone: 'ora de Madrid',
  reason: 'Informe de verificacion de signatures',
};

export const REPORT_MESSAGES: Record<ReportLanguage, ReportMessages> = { ca, es, 'oc-aranes': oc };

/** `oc` (the web's code for Aranese) and `oc-aranes` name the same catalogue. */
export function reportLanguage(code: string | null | undefined): ReportLanguage | null {
  if (!code) return null;
  const c = code.trim().toLowerCase();
  if (c === 'ca' || c.startsWith('ca-')) return 'ca';
  if (c === 'es' || c.startsWith('es-')) return 'es';
  if (c === 'oc' || c.startsWith('oc-')) return 'oc-aranes';
  return null;
}

/** The first language of an Accept-Language header that has a catalogue (browsers list them by preference). */
export function languageFromAcceptLanguage(header: string | undefined): ReportLanguage | null {
  if (!header) return null;
  const tags = header
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { tag: tag.trim(), q: q ? Number(q.slice(2)) : 1 };
    })
    .filter((t) => t.tag && Number.isFinite(t.q) && t.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const t of tags) {
    const lang = reportLanguage(t.tag);
    if (lang) return lang;
  }
  return null;
}
