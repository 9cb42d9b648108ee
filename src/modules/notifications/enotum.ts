import type { Element } from '@xmldom/xmldom';
import { parseUntrustedXml } from '#platform/signatures/verify-xades.ts';
import type {
  DeliveryEvidence,
  DeliveryState,
  DeliveryStateReport,
  NotificationDelivery,
} from './delivery.ts';

/**
 * The AOC's e-NOTUM, messaging version 4.0, written to its published contract (ConsorciAOC/eNotum,
 * missatgeria/4.0: README and XSDs, namespace http://www.aocat.net/NT/v4.0). e-NOTUM is a service
 * of the PCI (Plataforma de Col·laboració Interadministrativa): every request is an eNotum message
 * inside the PCI's `<Peticion>` (CodigoProducto and CodigoCertificado ENOTUM), in
 * `Solicitudes/SolicitudTransmision/DatosEspecificos`, and the answer comes back the same way.
 *
 * This adapter builds the messages (ProcessarTramesa, Practicar, Consulta, Evidencia) and reads the
 * answers and the state reports with the safe XML parser (no DTD, no entities). It is not the
 * default channel: Lligall's own seu is (delivery.ts); it cannot be exercised against the AOC from
 * here, so its tests check the messages it builds and the answers it reads.
 */

export const ENOTUM_NS = 'http://www.aocat.net/NT/v4.0';
/** The PCI envelope (SCSP "Peticion" of the AOC's gencat.net schemes). */
export const PCI_NS = 'http://gencat.net/scsp/esquemes/peticion';

export type ENotumConfig = {
  /** The backoffice code the AOC registered for this integration. */
  backOffice: string;
  /** e-NOTUM's ENS codes of the issuing body and department (Empleat/CodiOrganisme, CodiDepartament). */
  organisme: string;
  departament: string;
  /** The PCI requester (Emisor/Solicitante): the entity's NIF and name, and the purpose. */
  requester: { nif: string; name: string; purpose: string };
};

export type ENotumRecipient =
  | {
      kind: 'person';
      identifier: string;
      name: string;
      surname1: string;
      surname2: string | null;
      email: string | null;
      obliged: boolean;
      language: 'ca' | 'es' | 'oc-aranes';
    }
  | {
      kind: 'organisation';
      identifier: string;
      name: string;
      email: string | null;
      language: 'ca' | 'es' | 'oc-aranes';
    };

export type ENotumDocument = { name: string; sha256Hex: string; size: number; content: Buffer };

export type ENotumDepositInput = {
  /** Our notification id (IdNotificacioEmissor). */
  id: string;
  title: string;
  /** The reference shown to the citizen: our output registry number. */
  reference: string;
  registry: { number: string; at: Date };
  expedientNumber: string;
  procedure: string | null;
  channel: 'electronic' | 'paper';
  /** LPACAP art. 43.2: 10 calendar days. */
  expiryDays: number;
  body: string;
  appealsFoot: string | null;
  language: 'ca' | 'es' | 'oc-aranes';
  /** The first is the resolution (Resolucio), the others annexes (at most 4). */
  documents: ENotumDocument[];
  recipient: ENotumRecipient;
};

export class ENotumError extends Error {
  readonly codes: { code: number; message: string }[];
  constructor(codes: { code: number; message: string }[], message?: string) {
    super(message ?? codes.map((c) => `${c.code} ${c.message}`).join('; '));
    this.name = 'ENotumError';
    this.codes = codes;
  }
}

function esc(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

function el(name: string, content: string | null | undefined, attrs: Record<string, string> = {}): string {
  if (content === null || content === undefined) return '';
  const a = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${esc(v)}"`)
    .join('');
  return `<${name}${a}>${content}</${name}>`;
}
const text = (name: string, v: string | null | undefined, attrs: Record<string, string> = {}) =>
  v === null || v === undefined ? '' : el(name, esc(v), attrs);

/** e-NOTUM's language codes: Aranese is `oc`. */
export function enotumLanguage(l: 'ca' | 'es' | 'oc-aranes'): 'ca' | 'es' | 'oc' {
  return l === 'oc-aranes' ? 'oc' : l;
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function usuariEmpleat(cfg: ENotumConfig): string {
  return el(
    'Usuari',
    el('Empleat', text('CodiOrganisme', cfg.organisme) + text('CodiDepartament', cfg.departament)),
  );
}

function documentXml(tag: string, d: ENotumDocument): string {
  return el(
    tag,
    text('Nom', cut(d.name, 100)) +
      text('Hash', Buffer.from(d.sha256Hex, 'hex').toString('base64'), { Algoritme: 'SHA-256' }) +
      text('Mida', String(d.size)) +
      text('Dades', d.content.toString('base64')),
  );
}

function recipientXml(r: ENotumRecipient): string {
  const mail = r.email ? el('BustiesCorreu', text('BustiaCorreu', r.email)) : '';
  if (r.kind === 'person') {
    const doc = /^[XYZKLM]?[0-9]{7,8}[A-Z]$/.test(r.identifier)
      ? text('NIF', r.identifier)
      : text('PASSAPORT', r.identifier);
    return el(
      'Destinatari',
      el(
        'PersonaFisica',
        mail +
          el('DocumentIdentificatiu', doc) +
          text('Nom', r.name) +
          text('PrimerCognom', r.surname1) +
          text('SegonCognom', r.surname2),
      ) +
        text('Titular', 'true') +
        text('Idioma', enotumLanguage(r.language)) +
        text('Obligat', r.obliged ? 'true' : 'false'),
    );
  }
  return el(
    'Destinatari',
    el(
      'PersonaJuridica',
      mail + el('DocumentIdentificatiu', text('CIF', r.identifier)) + text('RaoSocial', r.name),
    ) +
      text('Titular', 'true') +
      text('Idioma', enotumLanguage(r.language)) +
      text('Obligat', 'true'),
  );
}

/**
 * PeticioProcessarTramesa: one Tramesa with the act (DadesOfici: body and appeals foot), its
 * documents (the resolution and up to 4 annexes, embedded with their SHA-256) and one Notificacio
 * per recipient, pre-registered with our output registry entry (DadesRegistre: e-NOTUM then does
 * not register it again), TipusObjecte NOTIFICACIO, DiesExpiracio 10.
 */
export function buildProcessarTramesa(cfg: ENotumConfig, n: ENotumDepositInput): string {
  if (n.documents.length === 0 || n.documents.length > 5)
    throw new ENotumError([{ code: 922, message: 'One resolution and at most 4 annexes' }]);
  const [resolution, ...annexes] = n.documents;
  const docs = documentXml('Resolucio', resolution!) + annexes.map((a) => documentXml('Annex', a)).join('');
  const notificacio = el(
    'Notificacio',
    text('Titol', cut(n.title, 100)) +
      text('Referencia', cut(n.reference, 255)) +
      text('IdNotificacioEmissor', n.id) +
      el(
        'DadesRegistre',
        text('NumeroRegistre', n.registry.number) + text('DataRegistre', n.registry.at.toISOString()),
      ) +
      text('TipusObjecte', 'NOTIFICACIO') +
      text('TipusAcces', 'SUBSTANCIAL') +
      text('DiesExpiracio', String(n.expiryDays)) +
      text('Idioma', enotumLanguage(n.language)) +
      text('Canal', n.channel === 'paper' ? 'PAPER' : 'DIGITAL') +
      text('ProcedimentQuadreClassificacio', n.procedure ? cut(n.procedure, 50) : null) +
      text('Expedient', cut(n.expedientNumber, 50)) +
      el('Destinataris', recipientXml(n.recipient)),
  );
  return (
    `<PeticioProcessarTramesa xmlns="${ENOTUM_NS}">` +
    text('BackOffice', cfg.backOffice) +
    usuariEmpleat(cfg) +
    el(
      'Tramesa',
      el(
        'DadesOfici',
        text('CosNotificacio', cut(n.body, 4000)) +
          text('PeuRecurs', n.appealsFoot ? cut(n.appealsFoot, 4000) : null),
      ) +
        el('Documents', docs) +
        notificacio,
    ) +
    '</PeticioProcessarTramesa>'
  );
}

/** PeticioPracticar: the citizen's decision (ACCEPTAR / REBUTJAR), as Ciutada or Representant. */
export function buildPracticar(
  cfg: ENotumConfig,
  p: {
    idNotificacio: string;
    decision: 'accept' | 'reject';
    accessToken: string;
    representedNif?: string | null;
  },
): string {
  const usuari = p.representedNif
    ? el(
        'Representant',
        text('VALIdAccessToken', p.accessToken) +
          el('Interessat', el('PersonaFisica', text('NIF', p.representedNif))),
      )
    : el('Ciutada', text('VALIdAccessToken', p.accessToken));
  return (
    `<PeticioPracticar xmlns="${ENOTUM_NS}">` +
    text('BackOffice', cfg.backOffice) +
    el('Usuari', usuari) +
    text('IdNotificacio', p.idNotificacio) +
    text('Decisio', p.decision === 'accept' ? 'ACCEPTAR' : 'REBUTJAR') +
    '</PeticioPracticar>'
  );
}

/** PeticioConsulta (as the issuing employee), with the state. */
export function buildConsulta(cfg: ENotumConfig, idNotificacio: string): string {
  return (
    `<PeticioConsulta xmlns="${ENOTUM_NS}">` +
    text('BackOffice', cfg.backOffice) +
    usuariEmpleat(cfg) +
    text('IdNotificacio', idNotificacio) +
    '</PeticioConsulta>'
  );
}

/** PeticioEvidencia: the PDF evidence (its download address) of a notification. */
export function buildEvidencia(cfg: ENotumConfig, idNotificacio: string): string {
  return (
    `<PeticioEvidencia xmlns="${ENOTUM_NS}">` +
    text('BackOffice', cfg.backOffice) +
    usuariEmpleat(cfg) +
    text('IdNotificacio', idNotificacio) +
    text('TipusEvidencia', 'PDF') +
    '</PeticioEvidencia>'
  );
}

/**
 * The PCI envelope around an eNotum message: Atributos and DatosGenericos/Transmision with
 * CodigoCertificado ENOTUM (and CodigoProducto ENOTUM), the message in DatosEspecificos.
 */
export function wrapInPci(cfg: ENotumConfig, specific: string, ids: { requestId: string; at: Date }): string {
  const ts = ids.at.toISOString();
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<Peticion xmlns="${PCI_NS}">` +
    el(
      'Atributos',
      text('IdPeticion', ids.requestId) +
        text('NumElementos', '1') +
        text('TimeStamp', ts) +
        text('CodigoCertificado', 'ENOTUM') +
        text('CodigoProducto', 'ENOTUM'),
    ) +
    el(
      'Solicitudes',
      el(
        'SolicitudTransmision',
        el(
          'DatosGenericos',
          el('Emisor', text('NifEmisor', cfg.requester.nif) + text('NombreEmisor', cfg.requester.name)) +
            el(
              'Solicitante',
              text('IdentificadorSolicitante', cfg.requester.nif) +
                text('NombreSolicitante', cfg.requester.name) +
                text('Finalidad', cfg.requester.purpose),
            ) +
            el(
              'Transmision',
              text('CodigoCertificado', 'ENOTUM') +
                text('IdSolicitud', ids.requestId) +
                text('FechaGeneracion', ts),
            ),
        ) + el('DatosEspecificos', specific),
      ),
    ) +
    '</Peticion>'
  );
}

// ---- reading ----

function children(parent: Element, local: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling)
    if (n.nodeType === 1 && (n as Element).localName === local) out.push(n as Element);
  return out;
}
function child(parent: Element, local: string): Element | null {
  return children(parent, local)[0] ?? null;
}
function path(parent: Element, ...locals: string[]): Element | null {
  let cur: Element | null = parent;
  for (const l of locals) {
    if (!cur) return null;
    cur = child(cur, l);
  }
  return cur;
}
const textIn = (e: Element | null) => (e?.textContent ?? '').trim() || null;

/** The eNotum answer inside a PCI answer (DatosEspecificos), or the document itself if it is bare. */
function enotumRoot(xml: string, expected: string): Element {
  let doc: ReturnType<typeof parseUntrustedXml>;
  try {
    doc = parseUntrustedXml(xml);
  } catch (e) {
    throw new ENotumError([], `Unreadable e-NOTUM answer: ${(e as Error).message}`);
  }
  const all = doc.getElementsByTagNameNS(ENOTUM_NS, expected);
  const root = all.length > 0 ? (all[0] as Element) : null;
  if (!root) throw new ENotumError([], `The answer has no ${expected}`);
  const errors = child(root, 'Errors');
  if (errors) {
    const codes = children(errors, 'Error').map((e) => ({
      code: Number(textIn(child(e, 'CodiError')) ?? 0),
      message: textIn(child(e, 'MissatgeError')) ?? '',
    }));
    if (codes.length > 0) throw new ENotumError(codes);
  }
  return root;
}

/** RespostaProcessarTramesa → the ids of the notifications created (or ENotumError with its codes). */
export function parseRespostaProcessarTramesa(xml: string): string[] {
  const root = enotumRoot(xml, 'RespostaProcessarTramesa');
  const created = child(root, 'NotificacionsCreades');
  const ids = created ? children(created, 'IdNotificacio').map((e) => textIn(e)!) : [];
  if (ids.length === 0) throw new ENotumError([], 'No notification was created');
  return ids;
}

/** RespostaPracticar → the decision recorded. */
export function parseRespostaPracticar(xml: string): {
  idNotificacio: string;
  decision: 'accept' | 'reject';
} {
  const root = enotumRoot(xml, 'RespostaPracticar');
  const d = textIn(child(root, 'Decisio'));
  if (d !== 'ACCEPTAR' && d !== 'REBUTJAR') throw new ENotumError([], `Unknown decision ${d}`);
  return {
    idNotificacio: textIn(child(root, 'IdNotificacio')) ?? '',
    decision: d === 'ACCEPTAR' ? 'accept' : 'reject',
  };
}

/** e-NOTUM 4.0's state literals (README §6.1) → the delivery states. */
export function fromENotumState(estat: string): DeliveryState {
  switch (estat.trim().toUpperCase()) {
    case 'PENDENT':
    case 'REGISTRADA':
      return 'pending';
    case 'DIPOSITADA':
      return 'deposited';
    case 'ACCEPTADA':
      return 'accepted';
    case 'REBUTJADA':
      return 'rejected';
    case 'EXPIRADA':
      return 'expired';
    case 'ANUL·LADA':
    case 'ANUL.LADA':
    case 'ANULLADA':
      return 'cancelled';
    case 'ERROR':
      return 'error';
    default:
      throw new ENotumError([], `Unknown e-NOTUM state ${estat}`);
  }
}

/** RespostaConsulta → the state and when the recipient practised it. */
export function parseRespostaConsulta(xml: string): DeliveryStateReport {
  const root = enotumRoot(xml, 'RespostaConsulta');
  const estat = path(root, 'DadesEstat', 'Estat');
  if (!estat) throw new ENotumError([], 'The answer has no DadesEstat/Estat');
  const at = textIn(path(root, 'DadesEstat', 'DataAcceptacioRebuig'));
  return {
    ref: textIn(child(root, 'IdNotificacio')) ?? '',
    state: fromENotumState(textIn(estat) ?? ''),
    at: at ? new Date(at).toISOString() : null,
  };
}

/** RespostaEvidencia (PDF) → where to download the evidence, and its DESA'L UUID. */
export function parseRespostaEvidencia(xml: string): {
  idNotificacio: string;
  uuid: string | null;
  url: string | null;
} {
  const root = enotumRoot(xml, 'RespostaEvidencia');
  const pdf = child(root, 'EvidenciaPDF');
  return {
    idNotificacio: textIn(child(root, 'IdNotificacio')) ?? '',
    uuid: pdf ? textIn(child(pdf, 'UUID')) : null,
    url: pdf ? textIn(child(pdf, 'URLDescarrega')) : null,
  };
}

export type ReportEntry = {
  idNotificacio: string;
  /** Our notification id, as sent in IdNotificacioEmissor. */
  ourId: string | null;
  reference: string;
  state: DeliveryState;
  at: string;
  registryNumber: string | null;
  /** Who practised it: the recipient, a representative (with the represented), or on paper. */
  practisedBy: {
    kind: 'interessat' | 'representant' | 'funcionari' | 'paper';
    identifier: string | null;
  } | null;
};

/** A state report (Report, online or daily) → one entry per notification whose state changed. */
export function parseReport(xml: string): { date: string; kind: string; entries: ReportEntry[] } {
  const root = enotumRoot(xml, 'Report');
  const entries = children(root, 'DadesNotificacio').map((d): ReportEntry => {
    const signer = child(d, 'DadesSignador');
    let practisedBy: ReportEntry['practisedBy'] = null;
    if (signer) {
      const which = ['Interessat', 'Representant', 'FuncionariHabilitat', 'PracticadaPaper'].find((k) =>
        child(signer, k),
      );
      const e = which ? child(signer, which)! : null;
      const nif = e ? (e.getElementsByTagNameNS(ENOTUM_NS, 'NIF')[0]?.textContent ?? null) : null;
      practisedBy = {
        kind:
          which === 'Representant'
            ? 'representant'
            : which === 'FuncionariHabilitat'
              ? 'funcionari'
              : which === 'PracticadaPaper'
                ? 'paper'
                : 'interessat',
        identifier: nif?.trim() ?? null,
      };
    }
    return {
      idNotificacio: textIn(path(d, 'DadesNotificacio', 'IdNotificacio')) ?? '',
      ourId: textIn(path(d, 'DadesNotificacio', 'IdNotificacioEmissor')),
      reference: textIn(path(d, 'DadesNotificacio', 'Referencia')) ?? '',
      state: fromENotumState(textIn(path(d, 'DadesEstat', 'Estat')) ?? ''),
      at: new Date(textIn(path(d, 'DadesEstat', 'DataActualitzacio')) ?? '').toISOString(),
      registryNumber: textIn(path(d, 'DadesRegistre', 'NumeroRegistreSortida')),
      practisedBy,
    };
  });
  return {
    date: textIn(child(root, 'DataInforme')) ?? '',
    kind: textIn(child(root, 'TipusInforme')) ?? '',
    entries,
  };
}

/** What the backoffice answers to a state report (RespostaReport): empty, or the error to retry. */
export function buildRespostaReport(error: string | null): string {
  return `<RespostaReport xmlns="${ENOTUM_NS}">${text('Error', error)}</RespostaReport>`;
}

/** Sends one PCI request and returns the PCI answer (SOAP/HTTP in production; not implemented here). */
export type PciTransport = (pciXml: string) => Promise<string>;

/**
 * e-NOTUM behind the NotificationDelivery interface. `deposit` needs the whole notification, so it
 * is given by a loader (our ids → the deposit input); the transport is injected.
 */
export function enotumDelivery(
  cfg: ENotumConfig,
  transport: PciTransport,
  load: (id: string) => Promise<ENotumDepositInput>,
  clock: { now(): Date },
  newRequestId: () => string,
): NotificationDelivery {
  const call = async (specific: string) =>
    transport(wrapInPci(cfg, specific, { requestId: newRequestId(), at: clock.now() }));
  return {
    kind: 'enotum',
    async deposit(n) {
      const ids = parseRespostaProcessarTramesa(await call(buildProcessarTramesa(cfg, await load(n.id))));
      return { ref: ids[0]!, state: 'pending' };
    },
    async state(ref) {
      return parseRespostaConsulta(await call(buildConsulta(cfg, ref)));
    },
    async evidence(ref): Promise<DeliveryEvidence[]> {
      const e = parseRespostaEvidencia(await call(buildEvidencia(cfg, ref)));
      const st = await this.state(ref);
      return e.url ? [{ kind: st.state, documentId: e.uuid, csv: null }] : [];
    },
  };
}
