/**
 * The e-mail catalogue: every message the application sends, in Catalan, Spanish and Aranese.
 * Plain text only (every mail client shows it; links are written out in full).
 *
 * Placeholders are `{name}`; each template declares the parameters it takes, and `renderMail`
 * refuses a missing, empty or undeclared one (a programming error, caught at enqueue time).
 *
 * A notification alert says only that the entity has made a notification available, until when,
 * and where: never the notification's subject or content (LPACAP art. 41.1: the content is
 * reached in the seu, and accessing it is what notifies; art. 41.6: the alert is a courtesy whose
 * failure does not invalidate the notification).
 *
 * Aranese (oc-aranes): written with care, but it NEEDS A REVIEW BY A NATIVE SPEAKER (Conselh
 * Generau d'Aran's usage) before production.
 */

import { ROLLOUT_MAIL_MESSAGES, ROLLOUT_MAIL_PARAMS, type RolloutMailTemplate } from './rollout-messages.ts';

/** The recipient's language: a party's or citizen's preferred language (BCP 47 `oc-aranes` for Aranese). */
export type MailLanguage = 'ca' | 'es' | 'oc-aranes';
export type MailTemplate =
  | 'notification_alert'
  | 'filing_confirmation'
  | 'representation_granted'
  | 'representation_revoked'
  | RolloutMailTemplate;

export const MAIL_LANGUAGES: readonly MailLanguage[] = ['ca', 'es', 'oc-aranes'];

/** The parameters each template needs (all strings, all required, no others accepted). */
export const MAIL_PARAMS = {
  notification_alert: ['entityName', 'seuUrl', 'availableUntil'],
  filing_confirmation: ['entityName', 'seuUrl', 'entryNumber', 'presentedAt', 'receiptCsv', 'verifyUrl'],
  representation_granted: [
    'entityName',
    'seuUrl',
    'representativeName',
    'representedName',
    'scope',
    'validTo',
  ],
  representation_revoked: [
    'entityName',
    'seuUrl',
    'representativeName',
    'representedName',
    'scope',
    'validTo',
  ],
  ...ROLLOUT_MAIL_PARAMS,
} as const satisfies Record<MailTemplate, readonly string[]>;

export const MAIL_TEMPLATES = Object.keys(MAIL_PARAMS) as MailTemplate[];

type Message = { subject: string; text: string };

const FOOTER: Record<MailLanguage, string> = {
  ca: "Aquest missatge s'ha enviat automàticament; no hi respongueu.",
  es: 'Este mensaje se ha enviado automáticamente; no responda a él.',
  'oc-aranes': "Aguest messatge s'a mandat automaticament; non cau respóner-i.",
};

export const MAIL_MESSAGES: Record<MailTemplate, Record<MailLanguage, Message>> = {
  notification_alert: {
    ca: {
      subject: '{entityName}: teniu una notificació a la seu electrònica',
      text: `{entityName} ha posat a la vostra disposició una notificació a la seu electrònica.

Per accedir-hi, identifiqueu-vos a la seu electrònica:
{seuUrl}

La notificació és a la vostra disposició fins al {availableUntil}. Si la notificació electrònica és obligatòria per a vós o l'heu escollida i no hi accediu dins d'aquest termini, s'entendrà rebutjada (article 43.2 de la Llei 39/2015).

Aquest missatge és només un avís i no conté la notificació. Si l'avís no us arriba, la notificació és igualment vàlida (article 41.6 de la Llei 39/2015).`,
    },
    es: {
      subject: '{entityName}: tiene una notificación en la sede electrónica',
      text: `{entityName} ha puesto a su disposición una notificación en la sede electrónica.

Para acceder a ella, identifíquese en la sede electrónica:
{seuUrl}

La notificación está a su disposición hasta el {availableUntil}. Si la notificación electrónica es obligatoria para usted o la ha elegido y no accede a ella dentro de este plazo, se entenderá rechazada (artículo 43.2 de la Ley 39/2015).

Este mensaje es solo un aviso y no contiene la notificación. Si el aviso no le llega, la notificación es igualmente válida (artículo 41.6 de la Ley 39/2015).`,
    },
    'oc-aranes': {
      subject: '{entityName}: auetz ua notificacion ena seu electronica',
      text: `{entityName} a botat a vòsta disposicion ua notificacion ena seu electronica.

Entà accedir-i, identificatz-vos ena seu electronica:
{seuUrl}

Era notificacion ei a vòsta disposicion enquia {availableUntil}. Se era notificacion electronica ei obligatòria entà vos o l'auetz causida e non i accedetz laguens d'aguest termini, se considerarà refusada (article 43.2 dera Lei 39/2015).

Aguest messatge ei solament un avís e non contien era notificacion. Se non recebetz er avís, era notificacion ei madeish valida (article 41.6 dera Lei 39/2015).`,
    },
  },
  filing_confirmation: {
    ca: {
      subject: '{entityName}: justificant de presentació, registre {entryNumber}',
      text: `{entityName} ha registrat la vostra sol·licitud.

Número de registre d'entrada: {entryNumber}
Data i hora de presentació: {presentedAt}

El justificant de presentació, segellat electrònicament, és a «La meva carpeta» de la seu electrònica:
{seuUrl}

Podeu comprovar-ne l'autenticitat amb el codi segur de verificació (CSV) {receiptCsv} a:
{verifyUrl}`,
    },
    es: {
      subject: '{entityName}: justificante de presentación, registro {entryNumber}',
      text: `{entityName} ha registrado su solicitud.

Número de registro de entrada: {entryNumber}
Fecha y hora de presentación: {presentedAt}

El justificante de presentación, sellado electrónicamente, está en «Mi carpeta» de la sede electrónica:
{seuUrl}

Puede comprobar su autenticidad con el código seguro de verificación (CSV) {receiptCsv} en:
{verifyUrl}`,
    },
    'oc-aranes': {
      subject: '{entityName}: justificant de presentacion, registre {entryNumber}',
      text: `{entityName} a registrat era vòsta sollicitud.

Numèro de registre d'entrada: {entryNumber}
Data e ora de presentacion: {presentedAt}

Eth justificant de presentacion, sagerat electronicament, ei en «Era mia carpeta» dera seu electronica:
{seuUrl}

Podetz verificar-ne era autenticitat damb eth còdi segur de verificacion (CSV) {receiptCsv} en:
{verifyUrl}`,
    },
  },
  representation_granted: {
    ca: {
      subject: "{entityName}: s'ha inscrit una representació",
      text: `{entityName} ha inscrit una representació al seu registre electrònic d'apoderaments.

Representant: {representativeName}
Persona representada: {representedName}
Abast: {scope}
Vigent fins al: {validTo}

Podeu consultar les vostres representacions a «La meva carpeta» de la seu electrònica:
{seuUrl}

Si no reconeixeu aquesta representació, adreceu-vos a {entityName}.`,
    },
    es: {
      subject: '{entityName}: se ha inscrito una representación',
      text: `{entityName} ha inscrito una representación en su registro electrónico de apoderamientos.

Representante: {representativeName}
Persona representada: {representedName}
Alcance: {scope}
Vigente hasta el: {validTo}

Puede consultar sus representaciones en «Mi carpeta» de la sede electrónica:
{seuUrl}

Si no reconoce esta representación, diríjase a {entityName}.`,
    },
    'oc-aranes': {
      subject: "{entityName}: s'a registrat ua representacion",
      text: `{entityName} a registrat ua representacion ath registre electronic d'apoderaments.

Representant: {representativeName}
Persona representada: {representedName}
Abast: {scope}
Vigenta enquia: {validTo}

Podetz consultar es vòstes representacions en «Era mia carpeta» dera seu electronica:
{seuUrl}

Se non reconeishetz aguesta representacion, adreçatz-vos a {entityName}.`,
    },
  },
  representation_revoked: {
    ca: {
      subject: "{entityName}: s'ha revocat una representació",
      text: `{entityName} ha inscrit la revocació d'una representació al seu registre electrònic d'apoderaments.

Representant: {representativeName}
Persona representada: {representedName}
Abast: {scope}
Havia de ser vigent fins al: {validTo}

Des d'ara, {representativeName} ja no pot actuar en nom de {representedName} amb aquesta representació.

Podeu consultar les vostres representacions a «La meva carpeta» de la seu electrònica:
{seuUrl}`,
    },
    es: {
      subject: '{entityName}: se ha revocado una representación',
      text: `{entityName} ha inscrito la revocación de una representación en su registro electrónico de apoderamientos.

Representante: {representativeName}
Persona representada: {representedName}
Alcance: {scope}
Debía estar vigente hasta el: {validTo}

Desde ahora, {representativeName} ya no puede actuar en nombre de {representedName} con esta representación.

Puede consultar sus representaciones en «Mi carpeta» de la sede electrónica:
{seuUrl}`,
    },
    'oc-aranes': {
      subject: "{entityName}: s'a revocat ua representacion",
      text: `{entityName} a registrat era revocacion d'ua representacion ath registre electronic d'apoderaments.

Representant: {representativeName}
Persona representada: {representedName}
Abast: {scope}
Vigéncia prevista enquia: {validTo}

A compdar d'ara, {representativeName} non pòt mès actuar en nòm de {representedName} damb aguesta representacion.

Podetz consultar es vòstes representacions en «Era mia carpeta» dera seu electronica:
{seuUrl}`,
    },
  },
  ...ROLLOUT_MAIL_MESSAGES,
};

/** A rendered message, ready for the transport. */
export type RenderedMail = { subject: string; text: string };

/**
 * Checks a template's parameters: every declared one present as a non-empty string, none other.
 * Returns the list of problems (empty when valid).
 */
export function mailParamProblems(template: MailTemplate, params: Record<string, unknown>): string[] {
  const declared: readonly string[] = MAIL_PARAMS[template];
  const problems: string[] = [];
  for (const name of declared) {
    const v = params[name];
    if (typeof v !== 'string' || v.trim() === '') problems.push(`missing parameter ${name}`);
  }
  for (const name of Object.keys(params)) {
    if (!declared.includes(name)) problems.push(`unknown parameter ${name}`);
  }
  return problems;
}

/**
 * The message of a template in a language, with its parameters filled in. Line breaks in a
 * parameter become spaces (a name never breaks a header or a line of the letter).
 */
export function renderMail(
  template: MailTemplate,
  language: MailLanguage,
  params: Record<string, string>,
): RenderedMail {
  const m = MAIL_MESSAGES[template]?.[language];
  if (!m) throw new Error(`No message ${template} in ${language}`);
  const problems = mailParamProblems(template, params);
  if (problems.length > 0) throw new Error(`Mail ${template}: ${problems.join(', ')}`);
  const fill = (s: string) =>
    s.replace(/\{(\w+)\}/g, (_, name: string) => {
      const v = params[name];
      if (v === undefined) throw new Error(`Mail ${template}/${language} uses undeclared {${name}}`);
      return v.replace(/[\r\n\t]+/g, ' ').trim();
    });
  return { subject: fill(m.subject), text: `${fill(m.text)}\n\n-- \n${FOOTER[language]}\n` };
}
