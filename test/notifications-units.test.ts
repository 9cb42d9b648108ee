import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Element } from '@xmldom/xmldom';
import type { CivilDate } from '#modules/calendar/civil-date.ts';
import type { HolidayCalendar } from '#modules/calendar/deadlines.ts';
import { toDeliveryState } from '#modules/notifications/delivery.ts';
import {
  buildPracticar,
  buildProcessarTramesa,
  type ENotumConfig,
  type ENotumDepositInput,
  ENotumError,
  ENOTUM_NS,
  enotumDelivery,
  fromENotumState,
  PCI_NS,
  parseReport,
  parseRespostaConsulta,
  parseRespostaProcessarTramesa,
  wrapInPci,
} from '#modules/notifications/enotum.ts';
import { EVIDENCE_MESSAGES } from '#modules/notifications/evidence.messages.ts';
import { accessibleUntil } from '#modules/notifications/notifications.model.ts';
import {
  assertSecondAttempt,
  halfOfDay,
  secondAttemptLastDay,
} from '#modules/notifications/paper.service.ts';
import { AppError } from '#platform/errors.ts';
import { parseUntrustedXml } from '#platform/signatures/verify-xades.ts';

const cfg: ENotumConfig = {
  backOffice: 'LLIGALL',
  organisme: '9821920002',
  departament: '1',
  requester: {
    nif: 'P2500100J',
    name: 'Ajuntament d’Abella de la Conca',
    purpose: 'Notificació electrònica',
  },
};
const pdf = Buffer.from('%PDF-1.4\n% resolució\n');
const input: ENotumDepositInput = {
  id: '01960000-0000-7000-8000-000000000001',
  title: 'Resolució de la llicència d’obres <menors> & altres',
  reference: 'S/2026/000007',
  registry: { number: 'S/2026/000007', at: new Date('2026-03-02T09:00:00Z') },
  expedientNumber: '2026/000003',
  procedure: null,
  channel: 'electronic',
  expiryDays: 10,
  body: 'RESOLC: Atorgar la llicència. Import < 100 € & sense taxes.',
  appealsFoot: 'Recurs potestatiu de reposició davant l’Alcaldia en el termini d’un mes.',
  language: 'oc-aranes',
  documents: [
    {
      name: 'resolucio.pdf',
      sha256Hex: createHash('sha256').update(pdf).digest('hex'),
      size: pdf.length,
      content: pdf,
    },
  ],
  recipient: {
    kind: 'person',
    identifier: '00000001R',
    name: 'Anna',
    surname1: 'Prova',
    surname2: 'Exemple',
    email: 'anna@example.cat',
    obliged: false,
    language: 'oc-aranes',
  },
};

function first(doc: ReturnType<typeof parseUntrustedXml>, ns: string, local: string): Element {
  const e = doc.getElementsByTagNameNS(ns, local)[0];
  assert.ok(e, `${local} is present`);
  return e as Element;
}
const textOf = (doc: ReturnType<typeof parseUntrustedXml>, local: string) =>
  first(doc, ENOTUM_NS, local).textContent;

describe('e-NOTUM 4.0 messages (built to the published contract)', () => {
  it('ProcessarTramesa carries the act, the pre-registered entry, 10 days, the recipient and the document with its SHA-256', () => {
    const xml = buildProcessarTramesa(cfg, input);
    const doc = parseUntrustedXml(xml);
    assert.equal(doc.documentElement!.localName, 'PeticioProcessarTramesa');
    assert.equal(doc.documentElement!.namespaceURI, ENOTUM_NS);
    assert.equal(textOf(doc, 'BackOffice'), 'LLIGALL');
    assert.equal(textOf(doc, 'CodiOrganisme'), '9821920002');
    assert.equal(textOf(doc, 'CosNotificacio'), input.body, 'escaped and read back intact');
    assert.equal(
      textOf(doc, 'Titol'),
      input.title.slice(0, 99) + (input.title.length > 100 ? '…' : input.title.slice(99)),
    );
    assert.equal(textOf(doc, 'NumeroRegistre'), 'S/2026/000007');
    assert.equal(textOf(doc, 'DataRegistre'), '2026-03-02T09:00:00.000Z');
    assert.equal(textOf(doc, 'TipusObjecte'), 'NOTIFICACIO');
    assert.equal(textOf(doc, 'DiesExpiracio'), '10');
    assert.equal(textOf(doc, 'Canal'), 'DIGITAL');
    assert.equal(textOf(doc, 'Idioma'), 'oc');
    assert.equal(textOf(doc, 'IdNotificacioEmissor'), input.id);
    assert.equal(textOf(doc, 'NIF'), '00000001R');
    assert.equal(textOf(doc, 'PrimerCognom'), 'Prova');
    assert.equal(textOf(doc, 'Obligat'), 'false');
    assert.equal(textOf(doc, 'BustiaCorreu'), 'anna@example.cat');
    const hash = first(doc, ENOTUM_NS, 'Hash');
    assert.equal(hash.getAttribute('Algoritme'), 'SHA-256');
    assert.equal(hash.textContent, createHash('sha256').update(pdf).digest('base64'));
    assert.equal(Buffer.from(textOf(doc, 'Dades')!, 'base64').toString(), pdf.toString());
    // The order the XSD's sequence asks: DadesOfici, Documents, Notificacio.
    const tramesa = first(doc, ENOTUM_NS, 'Tramesa');
    const order: string[] = [];
    for (let n = tramesa.firstChild; n; n = n.nextSibling)
      if (n.nodeType === 1) order.push((n as Element).localName!);
    assert.deepEqual(order, ['DadesOfici', 'Documents', 'Notificacio']);
  });

  it('the PCI envelope names ENOTUM and carries the message in DatosEspecificos', () => {
    const xml = wrapInPci(cfg, buildProcessarTramesa(cfg, input), {
      requestId: 'REQ-1',
      at: new Date('2026-03-02T09:00:00Z'),
    });
    const doc = parseUntrustedXml(xml);
    assert.equal(doc.documentElement!.localName, 'Peticion');
    const attrs = first(doc, PCI_NS, 'Atributos');
    assert.equal(attrs.getElementsByTagNameNS(PCI_NS, 'CodigoProducto')[0]!.textContent, 'ENOTUM');
    assert.equal(attrs.getElementsByTagNameNS(PCI_NS, 'CodigoCertificado')[0]!.textContent, 'ENOTUM');
    const transmision = first(doc, PCI_NS, 'Transmision');
    assert.equal(transmision.getElementsByTagNameNS(PCI_NS, 'CodigoCertificado')[0]!.textContent, 'ENOTUM');
    const specific = first(doc, PCI_NS, 'DatosEspecificos');
    assert.equal(specific.getElementsByTagNameNS(ENOTUM_NS, 'PeticioProcessarTramesa').length, 1);
  });

  it('Practicar as a representative names the represented person', () => {
    const doc = parseUntrustedXml(
      buildPracticar(cfg, {
        idNotificacio: '123',
        decision: 'reject',
        accessToken: 'tok',
        representedNif: '00000001R',
      }),
    );
    assert.equal(textOf(doc, 'Decisio'), 'REBUTJAR');
    assert.equal(
      first(doc, ENOTUM_NS, 'Representant').getElementsByTagNameNS(ENOTUM_NS, 'NIF')[0]!.textContent,
      '00000001R',
    );
  });

  it('reads the created ids from the answer inside the PCI, and e-NOTUM’s errors with their codes', () => {
    const ok = `<Respuesta xmlns="${PCI_NS}"><Transmisiones><TransmisionDatos><DatosEspecificos><RespostaProcessarTramesa xmlns="${ENOTUM_NS}"><NotificacionsCreades><IdNotificacio>4711</IdNotificacio></NotificacionsCreades></RespostaProcessarTramesa></DatosEspecificos></TransmisionDatos></Transmisiones></Respuesta>`;
    assert.deepEqual(parseRespostaProcessarTramesa(ok), ['4711']);
    const bad = `<RespostaProcessarTramesa xmlns="${ENOTUM_NS}"><Errors><Error><CodiError>701</CodiError><MissatgeError>És obligatori com a mínim un mètode de contacte</MissatgeError></Error></Errors></RespostaProcessarTramesa>`;
    assert.throws(
      () => parseRespostaProcessarTramesa(bad),
      (e: unknown) => e instanceof ENotumError && e.codes[0]!.code === 701,
    );
  });

  it('refuses an answer with a DTD (no entity expansion)', () => {
    const evil = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "xxxxxxxx">]><RespostaProcessarTramesa xmlns="${ENOTUM_NS}"><NotificacionsCreades><IdNotificacio>&x;</IdNotificacio></NotificacionsCreades></RespostaProcessarTramesa>`;
    assert.throws(() => parseRespostaProcessarTramesa(evil), ENotumError);
  });

  it('maps e-NOTUM states to the delivery states, and reads a state report', () => {
    const expected: Record<string, string> = {
      PENDENT: 'pending',
      REGISTRADA: 'pending',
      DIPOSITADA: 'deposited',
      ACCEPTADA: 'accepted',
      REBUTJADA: 'rejected',
      EXPIRADA: 'expired',
      ANUL·LADA: 'cancelled',
      ERROR: 'error',
    };
    for (const [k, v] of Object.entries(expected)) assert.equal(fromENotumState(k), v);
    assert.throws(() => fromENotumState('PUBLICADA'), ENotumError);
    const report = `<Report xmlns="${ENOTUM_NS}"><Emissor><CodiOrganisme>1</CodiOrganisme></Emissor><DataInforme>2026-03-13</DataInforme><TipusInforme>OnLine</TipusInforme>
      <DadesNotificacio><DadesEstat><Estat>ACCEPTADA</Estat><DataActualitzacio>2026-03-12T22:30:00Z</DataActualitzacio></DadesEstat>
        <DadesNotificacio><Referencia>S/2026/000007</Referencia><IdNotificacio>4711</IdNotificacio><TipusObjecte>NOTIFICACIO</TipusObjecte><IdNotificacioEmissor>${input.id}</IdNotificacioEmissor></DadesNotificacio>
        <DadesRegistre><DataRegistre>2026-03-02T09:00:00Z</DataRegistre><NumeroRegistreSortida>S/2026/000007</NumeroRegistreSortida></DadesRegistre>
        <DadesSignador><Representant><PersonaFisica><DocumentIdentificatiu><NIF>00000003A</NIF></DocumentIdentificatiu><NomComplet>Carla</NomComplet></PersonaFisica><Interessat><PersonaFisica><DocumentIdentificatiu><NIF>00000001R</NIF></DocumentIdentificatiu><NomComplet>Anna</NomComplet></PersonaFisica></Interessat></Representant></DadesSignador></DadesNotificacio>
      <DadesNotificacio><DadesEstat><Estat>EXPIRADA</Estat><DataActualitzacio>2026-03-12T23:00:00Z</DataActualitzacio></DadesEstat>
        <DadesNotificacio><Referencia>S/2026/000008</Referencia><IdNotificacio>4712</IdNotificacio><TipusObjecte>NOTIFICACIO</TipusObjecte></DadesNotificacio>
        <DadesRegistre><DataRegistre>2026-03-02T09:00:00Z</DataRegistre><NumeroRegistreSortida>S/2026/000008</NumeroRegistreSortida></DadesRegistre></DadesNotificacio></Report>`;
    const r = parseReport(report);
    assert.equal(r.entries.length, 2);
    assert.deepEqual(r.entries[0], {
      idNotificacio: '4711',
      ourId: input.id,
      reference: 'S/2026/000007',
      state: 'accepted',
      at: '2026-03-12T22:30:00.000Z',
      registryNumber: 'S/2026/000007',
      practisedBy: { kind: 'representant', identifier: '00000003A' },
    });
    assert.equal(r.entries[1]!.state, 'expired');
    assert.equal(r.entries[1]!.practisedBy, null);
    const consulta = parseRespostaConsulta(
      `<RespostaConsulta xmlns="${ENOTUM_NS}"><IdNotificacio>4711</IdNotificacio><Emissor/><DadesEstat><Estat>REBUTJADA</Estat><DataPublicacio>2026-03-02T09:00:00Z</DataPublicacio><DataAcceptacioRebuig>2026-03-05T10:00:00Z</DataAcceptacioRebuig></DadesEstat></RespostaConsulta>`,
    );
    assert.deepEqual(consulta, { ref: '4711', state: 'rejected', at: '2026-03-05T10:00:00.000Z' });
  });

  it('our states map onto e-NOTUM’s (docs/notifications.md)', () => {
    assert.equal(toDeliveryState('available'), 'deposited');
    assert.equal(toDeliveryState('accepted'), 'accepted');
    assert.equal(toDeliveryState('delivered'), 'accepted');
    assert.equal(toDeliveryState('rejected'), 'rejected');
    assert.equal(toDeliveryState('deemed_rejected'), 'expired');
  });

  it('the e-NOTUM delivery deposits through its transport and keeps e-NOTUM’s id as the reference', async () => {
    const sent: string[] = [];
    const d = enotumDelivery(
      cfg,
      async (xml) => {
        sent.push(xml);
        return `<RespostaProcessarTramesa xmlns="${ENOTUM_NS}"><NotificacionsCreades><IdNotificacio>99</IdNotificacio></NotificacionsCreades></RespostaProcessarTramesa>`;
      },
      async () => input,
      { now: () => new Date('2026-03-02T09:00:00Z') },
      () => 'REQ-2',
    );
    assert.deepEqual(await d.deposit({ id: input.id }), { ref: '99', state: 'pending' });
    assert.match(sent[0]!, /<CodigoProducto>ENOTUM<\/CodigoProducto>/);
    assert.match(sent[0]!, /PeticioProcessarTramesa/);
  });
});

describe('time rules', () => {
  it('accessible until 24:00 (Madrid) of the 10th calendar day after the day it was made available', () => {
    assert.equal(accessibleUntil(new Date('2026-03-02T09:00:00Z')).toISOString(), '2026-03-12T23:00:00.000Z');
    // Made available at 23:30 on 2 March (Madrid) still counts from 3 March.
    assert.equal(accessibleUntil(new Date('2026-03-02T22:30:00Z')).toISOString(), '2026-03-12T23:00:00.000Z');
    // Across the change to summer time (29 March): 24:00 of 31 March is 22:00 UTC.
    assert.equal(accessibleUntil(new Date('2026-03-20T09:00:00Z')).toISOString(), '2026-03-30T22:00:00.000Z');
  });

  const easter: HolidayCalendar = {
    place: 'test',
    holidaysOn: (d: CivilDate) =>
      d === '2026-04-03' || d === '2026-04-06'
        ? [{ date: d, name: 'Pasqua', scope: 'catalonia', place: 'test' }]
        : [],
  };
  const code = (f: () => void) => {
    try {
      f();
      return 'ACCEPTED';
    } catch (e) {
      return e instanceof AppError ? e.code : String(e);
    }
  };

  it('the second attempt’s window, halves of the day and the 3 hours (art. 42.2)', () => {
    assert.equal(secondAttemptLastDay(easter, '2026-04-02'), '2026-04-09');
    assert.equal(halfOfDay(new Date('2026-04-02T12:59:59Z')), 'before_15');
    assert.equal(halfOfDay(new Date('2026-04-02T13:00:00Z')), 'after_15');
    const first = new Date('2026-04-02T08:00:00Z');
    assert.equal(
      code(() => assertSecondAttempt(easter, first, new Date('2026-04-08T14:00:00Z'))),
      'ACCEPTED',
    );
    assert.equal(
      code(() => assertSecondAttempt(easter, first, new Date('2026-04-09T14:00:00Z'))),
      'ACCEPTED',
    );
    assert.equal(
      code(() => assertSecondAttempt(easter, first, new Date('2026-04-10T14:00:00Z'))),
      'NOTIFICATION_ATTEMPT_OUT_OF_TERM',
    );
    assert.equal(
      code(() => assertSecondAttempt(easter, first, new Date('2026-04-08T09:00:00Z'))),
      'NOTIFICATION_ATTEMPT_SAME_HALF_DAY',
    );
    assert.equal(
      code(() =>
        assertSecondAttempt(easter, new Date('2026-04-02T12:30:00Z'), new Date('2026-04-02T14:00:00Z')),
      ),
      'NOTIFICATION_ATTEMPT_TOO_SOON',
    );
  });
});

describe('the evidence catalogue', () => {
  it('has the same keys in Catalan, Spanish and Aranese, and every title filled', () => {
    const keys = (o: object) => Object.keys(o).sort();
    for (const lang of ['es', 'oc-aranes'] as const) {
      assert.deepEqual(keys(EVIDENCE_MESSAGES[lang]), keys(EVIDENCE_MESSAGES.ca));
      assert.deepEqual(keys(EVIDENCE_MESSAGES[lang].titles), keys(EVIDENCE_MESSAGES.ca.titles));
      for (const t of Object.values(EVIDENCE_MESSAGES[lang].titles)) assert.ok(t.length > 5);
    }
  });
});
