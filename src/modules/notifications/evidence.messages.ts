import type { EvidenceKey } from '#platform/db/schema/notifications.ts';
import { deName } from '#modules/registry/receipt.messages.ts';

/**
 * The catalogue of the notification evidence and the edict (ca first, es, Aranese): they are
 * issued in the entity's language. Keys are the same in every language; a test checks it.
 */
export type EvidenceLanguage = 'ca' | 'es' | 'oc-aranes';

export type EvidenceMessages = {
  titles: Record<EvidenceKey, string>;
  intro: string;
  legal: Record<EvidenceKey, string>;
  entity: string;
  notification: string;
  registryNumber: string;
  expedient: string;
  subject: string;
  recipient: string;
  channel: string;
  channels: Record<'electronic' | 'paper', string>;
  madeAvailableAt: string;
  availableUntil: string;
  outcomeAt: string;
  actedBy: string;
  representation: (id: string, represented: string) => string;
  attempts: string;
  attemptLine: (n: number, at: string, outcome: string) => string;
  attemptOutcomes: Record<'delivered' | 'absent' | 'unknown_address' | 'rejected', string>;
  receiverParty: string;
  receiverOther: (name: string, document: string, relationship: string | null) => string;
  documents: string;
  noDocuments: string;
  hashNote: string;
  csv: string;
  verifyAt: string;
  sealedBy: (entity: string) => string;
  notQualified: string;
  notQualifiedShort: string;
  authorisedBy: (resolution: string) => string;
  page: (n: number, total: number) => string;
  timeZone: string;
  reason: string;
  edictBody: (f: {
    entity: string;
    identifier: string;
    subject: string;
    expedient: string;
    registry: string;
  }) => string;
};

const ca: EvidenceMessages = {
  titles: {
    accepted: 'Evidència de notificació: accés al contingut',
    rejected: 'Evidència de notificació: rebuig',
    deemed_rejected: 'Evidència de notificació: rebuig per transcurs del termini',
    delivered: 'Evidència de notificació: lliurament en paper',
    rejected_on_paper: 'Evidència de notificació: rebuig en el lliurament en paper',
    failed: 'Evidència de notificació: notificació infructuosa',
    edict: 'Anunci de notificació (art. 44 de la Llei 39/2015)',
  },
  intro:
    'Aquesta evidència acredita la posada a disposició de la notificació que s’hi descriu i el resultat que se’n va produir, amb la data i l’hora (Llei 39/2015, art. 40–46).',
  legal: {
    accepted:
      'L’accés al contingut és la notificació (art. 43.2 de la Llei 39/2015): la data i l’hora de l’accés en són la data de notificació.',
    rejected:
      'La persona interessada va rebutjar la notificació: el rebuig es fa constar a l’expedient, s’entén efectuat el tràmit i el procediment segueix (art. 41.5).',
    deemed_rejected:
      'La notificació no es va consultar en els deu dies naturals següents a la posada a disposició: s’entén rebutjada a les 00:00 del dia següent al desè (art. 43.2) i el procediment segueix (art. 41.5).',
    delivered:
      'La notificació en paper es va lliurar al domicili (art. 42.2); la primera data entre l’accés a la seu i el lliurament és la data de notificació (art. 41.7).',
    rejected_on_paper:
      'En el lliurament en paper es va rebutjar la notificació: s’entén efectuat el tràmit (art. 41.5).',
    failed:
      'La notificació en paper no es va poder practicar (art. 42.2): es pot fer per mitjà d’un anunci al Butlletí Oficial de l’Estat (art. 44).',
    edict: '',
  },
  entity: 'Entitat',
  notification: 'Notificació',
  registryNumber: 'Registre de sortida',
  expedient: 'Expedient',
  subject: 'Assumpte',
  recipient: 'Persona interessada',
  channel: 'Canal',
  channels: { electronic: 'Electrònic (seu electrònica)', paper: 'Paper (i seu electrònica)' },
  madeAvailableAt: 'Posada a disposició',
  availableUntil: 'Accessible fins a',
  outcomeAt: 'Data i hora del resultat',
  actedBy: 'Ha actuat',
  representation: (id, represented) => `en representació de ${represented} (representació ${id})`,
  attempts: 'Intents de lliurament en paper',
  attemptLine: (n, at, outcome) => `${n}. ${at}: ${outcome}`,
  attemptOutcomes: {
    delivered: 'lliurada',
    absent: 'absent',
    unknown_address: 'adreça desconeguda',
    rejected: 'rebutjada',
  },
  receiverParty: 'rebuda per la persona interessada',
  receiverOther: (name, doc, rel) => `rebuda per ${name} (${doc})${rel ? `, ${rel}` : ''}`,
  documents: 'Documents notificats',
  noDocuments: 'Cap document annex.',
  hashNote: 'SHA-256:',
  csv: 'Codi segur de verificació (CSV)',
  verifyAt: 'Verificació a',
  sealedBy: (e) => `Document segellat electrònicament amb el segell d'òrgan ${deName(e)}.`,
  notQualified: 'SEGELL DE DEMOSTRACIÓ — NO QUALIFICAT: aquest document no té validesa legal.',
  notQualifiedShort: 'segell de demostració, no qualificat',
  authorisedBy: (r) => `Actuació administrativa automatitzada aprovada per ${r}.`,
  page: (n, t) => `Pàgina ${n} de ${t}`,
  timeZone: 'hora de Madrid',
  reason: 'Evidència de notificació',
  edictBody: (f) =>
    `De conformitat amb l’article 44 de la Llei 39/2015, de l’1 d’octubre, intentada la notificació sense que s’hagi pogut practicar, ${f.entity} fa públic aquest anunci. Persona interessada: document d’identificació ${f.identifier}. Acte: ${f.subject}. Expedient: ${f.expedient} (registre de sortida ${f.registry}). D’acord amb l’article 46 de la mateixa llei, el text íntegre de l’acte i els documents es poden consultar a la seu electrònica de l’entitat i a les seves oficines.`,
};

const es: EvidenceMessages = {
  titles: {
    accepted: 'Evidencia de notificación: acceso al contenido',
    rejected: 'Evidencia de notificación: rechazo',
    deemed_rejected: 'Evidencia de notificación: rechazo por transcurso del plazo',
    delivered: 'Evidencia de notificación: entrega en papel',
    rejected_on_paper: 'Evidencia de notificación: rechazo en la entrega en papel',
    failed: 'Evidencia de notificación: notificación infructuosa',
    edict: 'Anuncio de notificación (art. 44 de la Ley 39/2015)',
  },
  intro:
    'Esta evidencia acredita la puesta a disposición de la notificación que se describe y el resultado que se produjo, con su fecha y hora (Ley 39/2015, art. 40–46).',
  legal: {
    accepted:
      'El acceso al contenido es la notificación (art. 43.2 de la Ley 39/2015): la fecha y hora del acceso son la fecha de notificación.',
    rejected:
      'La persona interesada rechazó la notificación: el rechazo se hace constar en el expediente, se tiene por efectuado el trámite y sigue el procedimiento (art. 41.5).',
    deemed_rejected:
      'La notificación no se consultó en los diez días naturales siguientes a su puesta a disposición: se entiende rechazada a las 00:00 del día siguiente al décimo (art. 43.2) y sigue el procedimiento (art. 41.5).',
    delivered:
      'La notificación en papel se entregó en el domicilio (art. 42.2); la primera fecha entre el acceso en la sede y la entrega es la fecha de notificación (art. 41.7).',
    rejected_on_paper:
      'En la entrega en papel se rechazó la notificación: se tiene por efectuado el trámite (art. 41.5).',
    failed:
      'La notificación en papel no pudo practicarse (art. 42.2): puede hacerse por medio de un anuncio en el Boletín Oficial del Estado (art. 44).',
    edict: '',
  },
  entity: 'Entidad',
  notification: 'Notificación',
  registryNumber: 'Registro de salida',
  expedient: 'Expediente',
  subject: 'Asunto',
  recipient: 'Persona interesada',
  channel: 'Canal',
  channels: { electronic: 'Electrónico (sede electrónica)', paper: 'Papel (y sede electrónica)' },
  madeAvailableAt: 'Puesta a disposición',
  availableUntil: 'Accesible hasta',
  outcomeAt: 'Fecha y hora del resultado',
  actedBy: 'Ha actuado',
  representation: (id, represented) => `en representación de ${represented} (representación ${id})`,
  attempts: 'Intentos de entrega en papel',
  attemptLine: (n, at, outcome) => `${n}. ${at}: ${outcome}`,
  attemptOutcomes: {
    delivered: 'entregada',
    absent: 'ausente',
    unknown_address: 'dirección desconocida',
    rejected: 'rechazada',
  },
  receiverParty: 'recibida por la persona interesada',
  receiverOther: (name, doc, rel) => `recibida por ${name} (${doc})${rel ? `, ${rel}` : ''}`,
  documents: 'Documentos notificados',
  noDocuments: 'Ningún documento anexo.',
  hashNote: 'SHA-256:',
  csv: 'Código seguro de verificación (CSV)',
  verifyAt: 'Verificación en',
  sealedBy: (e) => `Documento sellado electrónicamente con el sello de órgano de ${e}.`,
  notQualified: 'SELLO DE DEMOSTRACIÓN — NO CUALIFICADO: este documento no tiene validez legal.',
  notQualifiedShort: 'sello de demostración, no cualificado',
  authorisedBy: (r) => `Actuación administrativa automatizada aprobada por ${r}.`,
  page: (n, t) => `Página ${n} de ${t}`,
  timeZone: 'hora de Madrid',
  reason: 'Evidencia de notificación',
  edictBody: (f) =>
    `De conformidad con el artículo 44 de la Ley 39/2015, de 1 de octubre, intentada la notificación sin que se haya podido practicar, ${f.entity} hace público este anuncio. Persona interesada: documento de identificación ${f.identifier}. Acto: ${f.subject}. Expediente: ${f.expedient} (registro de salida ${f.registry}). De acuerdo con el artículo 46 de la misma ley, el texto íntegro del acto y los documentos pueden consultarse en la sede electrónica de la entidad y en sus oficinas.`,
};

const oc: EvidenceMessages = {
  titles: {
    accepted: 'Evidéncia de notificacion: accès ath contengut',
    rejected: 'Evidéncia de notificacion: refús',
    deemed_rejected: 'Evidéncia de notificacion: refús per passada deth tèrme',
    delivered: 'Evidéncia de notificacion: liurament en papèr',
    rejected_on_paper: 'Evidéncia de notificacion: refús en liurament en papèr',
    failed: 'Evidéncia de notificacion: notificacion infructuosa',
    edict: 'Anonci de notificacion (art. 44 dera Lei 39/2015)',
  },
  intro:
    'Aguesta evidéncia acredite era botada a disposicion dera notificacion que s’i descriu e eth resultat que se’n produsec, damb era data e era ora (Lei 39/2015, art. 40–46).',
  legal: {
    accepted:
      'Er accès ath contengut ei era notificacion (art. 43.2 dera Lei 39/2015): era data e era ora der accès ne son era data de notificacion.',
    rejected:
      'Era persona interessada refusèc era notificacion: eth refús se hè constar ena expedient, s’enten efectuat eth tramit e eth procediment seguís (art. 41.5).',
    deemed_rejected:
      'Era notificacion non se consultèc enes dètz dies naturaus següents ara botada a disposicion: s’enten refusada a 00:00 deth dia següent ath desau (art. 43.2) e eth procediment seguís (art. 41.5).',
    delivered:
      'Era notificacion en papèr se liurèc ath domicili (art. 42.2); era prumèra data entre er accès ena sèu e eth liurament ei era data de notificacion (art. 41.7).',
    rejected_on_paper:
      'En liurament en papèr se refusèc era notificacion: s’enten efectuat eth tramit (art. 41.5).',
    failed:
      'Era notificacion en papèr non se podec practicar (art. 42.2): se pòt hèr per mejan d’un anonci en Butlletin Oficiau der Estat (art. 44).',
    edict: '',
  },
  entity: 'Entitat',
  notification: 'Notificacion',
  registryNumber: 'Registre de sortida',
  expedient: 'Expedient',
  subject: 'Afèr',
  recipient: 'Persona interessada',
  channel: 'Canau',
  channels: { electronic: 'Electronic (sèu electronica)', paper: 'Papèr (e sèu electronica)' },
  madeAvailableAt: 'Botada a disposicion',
  availableUntil: 'Accessibla enquia',
  outcomeAt: 'Data e ora deth resultat',
  actedBy: 'A actuat',
  representation: (id, represented) => `en representacion de ${represented} (representacion ${id})`,
  attempts: 'Intents de liurament en papèr',
  attemptLine: (n, at, outcome) => `${n}. ${at}: ${outcome}`,
  attemptOutcomes: {
    delivered: 'liurada',
    absent: 'absent',
    unknown_address: 'adreça desconeishuda',
    rejected: 'refusada',
  },
  receiverParty: 'recebuda pera persona interessada',
  receiverOther: (name, doc, rel) => `recebuda per ${name} (${doc})${rel ? `, ${rel}` : ''}`,
  documents: 'Documents notificats',
  noDocuments: 'Cap de document annèxe.',
  hashNote: 'SHA-256:',
  csv: 'Còdi segur de verificacion (CSV)',
  verifyAt: 'Verificacion en',
  sealedBy: (e) => `Document sagerat electronicament damb eth sagèth d'organ ${deName(e)}.`,
  notQualified: 'SAGÈTH DE DEMOSTRACION — NON QUALIFICAT: aguest document non a validesa legau.',
  notQualifiedShort: 'sagèth de demostracion, non qualificat',
  authorisedBy: (r) => `Actuacion administrativa automatizada aprovada per ${r}.`,
  page: (n, t) => `Pagina ${n} de ${t}`,
  timeZone: 'ora de Madrid',
  reason: 'Evidéncia de notificacion',
  edictBody: (f) =>
    `D’acòrd damb er article 44 dera Lei 39/2015, de 1 d’octòbre, intentada era notificacion sense que s’age podut practicar, ${f.entity} hè public aguest anonci. Persona interessada: document d’identificacion ${f.identifier}. Acte: ${f.subject}. Expedient: ${f.expedient} (registre de sortida ${f.registry}). D’acòrd damb er article 46 dera madeisha lei, eth tèxte integre der acte e es documents se pòden consultar ena sèu electronica dera entitat e enes sues oficines.`,
};

export const EVIDENCE_MESSAGES: Record<EvidenceLanguage, EvidenceMessages> = { ca, es, 'oc-aranes': oc };
