/**
 * The roll-out's e-mails (issue 6): the Diputació's answer to an enrolment request, the
 * invitation of an entity's first administrator, and a support technician's request for access.
 * Merged into the catalogue by messages.ts. Aranese NEEDS A NATIVE SPEAKER'S REVIEW (as there).
 */

export const ROLLOUT_MAIL_PARAMS = {
  enrolment_accepted: ['entityName', 'registryNumber'],
  enrolment_corrections: ['entityName', 'registryNumber', 'reason', 'formUrl'],
  enrolment_rejected: ['entityName', 'registryNumber', 'reason'],
  user_invitation: ['entityName', 'name', 'link', 'expiresAt'],
  support_access_requested: ['entityName', 'technicianName', 'reason', 'duration', 'link'],
} as const;

export type RolloutMailTemplate = keyof typeof ROLLOUT_MAIL_PARAMS;
type Message = { subject: string; text: string };

export const ROLLOUT_MAIL_MESSAGES: Record<
  RolloutMailTemplate,
  Record<'ca' | 'es' | 'oc-aranes', Message>
> = {
  enrolment_accepted: {
    ca: {
      subject: "Diputació de Lleida: s'ha acceptat la sol·licitud d'alta de {entityName}",
      text: `La Diputació de Lleida ha acceptat la sol·licitud d'alta de {entityName} al servei de gestió d'expedients Lligall (registre d'entrada {registryNumber}).

L'entitat s'assignarà a una onada del desplegament; us comunicarem les dates i l'alta de l'administrador o administradora de l'entitat.`,
    },
    es: {
      subject: 'Diputació de Lleida: se ha aceptado la solicitud de alta de {entityName}',
      text: `La Diputació de Lleida ha aceptado la solicitud de alta de {entityName} en el servicio de gestión de expedientes Lligall (registro de entrada {registryNumber}).

La entidad se asignará a una oleada del despliegue; le comunicaremos las fechas y el alta del administrador o administradora de la entidad.`,
    },
    'oc-aranes': {
      subject: "Diputació de Lleida: s'a acceptat era sollicitud d'alta de {entityName}",
      text: `Era Diputació de Lleida a acceptat era sollicitud d'alta de {entityName} en servici de gestion d'expedients Lligall (registre d'entrada {registryNumber}).

Era entitat s'assignarà a ua ondada deth desplegament; vos comunicaram es dates e era alta der administrador o administradora dera entitat.`,
    },
  },
  enrolment_corrections: {
    ca: {
      subject: "Diputació de Lleida: cal esmenar la sol·licitud d'alta de {entityName}",
      text: `La Diputació de Lleida ha revisat la sol·licitud d'alta de {entityName} (registre d'entrada {registryNumber}) i cal esmenar-la:

{reason}

Podeu presentar l'esmena a la seu electrònica de la Diputació:
{formUrl}`,
    },
    es: {
      subject: 'Diputació de Lleida: hay que subsanar la solicitud de alta de {entityName}',
      text: `La Diputació de Lleida ha revisado la solicitud de alta de {entityName} (registro de entrada {registryNumber}) y hay que subsanarla:

{reason}

Puede presentar la subsanación en la sede electrónica de la Diputació:
{formUrl}`,
    },
    'oc-aranes': {
      subject: "Diputació de Lleida: cau esmenar era sollicitud d'alta de {entityName}",
      text: `Era Diputació de Lleida a revisat era sollicitud d'alta de {entityName} (registre d'entrada {registryNumber}) e cau esmenar-la:

{reason}

Podetz presentar era esmena ena seu electronica dera Diputació:
{formUrl}`,
    },
  },
  enrolment_rejected: {
    ca: {
      subject: "Diputació de Lleida: s'ha denegat la sol·licitud d'alta de {entityName}",
      text: `La Diputació de Lleida ha denegat la sol·licitud d'alta de {entityName} (registre d'entrada {registryNumber}) pel motiu següent:

{reason}`,
    },
    es: {
      subject: 'Diputació de Lleida: se ha denegado la solicitud de alta de {entityName}',
      text: `La Diputació de Lleida ha denegado la solicitud de alta de {entityName} (registro de entrada {registryNumber}) por el motivo siguiente:

{reason}`,
    },
    'oc-aranes': {
      subject: "Diputació de Lleida: s'a denegat era sollicitud d'alta de {entityName}",
      text: `Era Diputació de Lleida a denegat era sollicitud d'alta de {entityName} (registre d'entrada {registryNumber}) peth motiu següent:

{reason}`,
    },
  },
  user_invitation: {
    ca: {
      subject: '{entityName}: invitació a Lligall',
      text: `Hola, {name}:

La Diputació de Lleida us ha donat d'alta a Lligall, el gestor d'expedients de {entityName}.

Obriu aquest enllaç per triar la contrasenya i activar la verificació en dos passos:
{link}

L'enllaç és personal, només es pot fer servir una vegada i caduca el {expiresAt}.`,
    },
    es: {
      subject: '{entityName}: invitación a Lligall',
      text: `Hola, {name}:

La Diputació de Lleida le ha dado de alta en Lligall, el gestor de expedientes de {entityName}.

Abra este enlace para elegir la contraseña y activar la verificación en dos pasos:
{link}

El enlace es personal, solo se puede usar una vez y caduca el {expiresAt}.`,
    },
    'oc-aranes': {
      subject: '{entityName}: invitacion a Lligall',
      text: `Bon dia, {name}:

Era Diputació de Lleida vos a dat d'alta en Lligall, eth gestor d'expedients de {entityName}.

Obritz aguest ligam entà causir era contrasenha e activar era verificacion en dus passi:
{link}

Eth ligam ei personau, sonque se pòt emplegar un còp e cadúque eth {expiresAt}.`,
    },
  },
  support_access_requested: {
    ca: {
      subject: '{entityName}: {technicianName} demana accés de suport',
      text: `{technicianName}, tècnic o tècnica de suport, demana accés a les dades de {entityName} durant {duration}, pel motiu següent:

{reason}

L'administrador o administradora de l'entitat pot concedir-lo o denegar-lo a Lligall:
{link}

Cada accés que es faci amb el permís quedarà registrat a la traça d'auditoria de l'entitat.`,
    },
    es: {
      subject: '{entityName}: {technicianName} pide acceso de soporte',
      text: `{technicianName}, técnico o técnica de soporte, pide acceso a los datos de {entityName} durante {duration}, por el motivo siguiente:

{reason}

El administrador o administradora de la entidad puede concederlo o denegarlo en Lligall:
{link}

Cada acceso que se haga con el permiso quedará registrado en la traza de auditoría de la entidad.`,
    },
    'oc-aranes': {
      subject: '{entityName}: {technicianName} demane accès de supòrt',
      text: `{technicianName}, tecnic o tecnica de supòrt, demane accès as donades de {entityName} pendent {duration}, peth motiu següent:

{reason}

Er administrador o administradora dera entitat pòt autrejar-lo o denegar-lo en Lligall:
{link}

Cada accès que se hèsque damb eth permís demorarà registrat ena traça d'auditoria dera entitat.`,
    },
  },
};
