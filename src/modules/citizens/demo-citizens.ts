import type { CitizenLanguage } from './citizens.model.ts';

/**
 * The demo OpenID provider's people: clearly fictitious names, NIFs whose check letters are right
 * (they pass parties/identifiers.ts) but that belong to nobody. Demo, development and test only.
 */
export type DemoCitizen = {
  sub: string;
  identifier: string;
  givenName: string;
  familyName: string;
  email: string | null;
  language: CitizenLanguage;
};

export const DEMO_CITIZENS: readonly DemoCitizen[] = [
  {
    sub: 'demo-citizen-1',
    identifier: '11111111H',
    givenName: 'Marta',
    familyName: 'Exemple Demo',
    email: 'marta.exemple@example.org',
    language: 'ca',
  },
  {
    sub: 'demo-citizen-2',
    identifier: '22222222J',
    givenName: 'Jordi',
    familyName: 'Prova Demo',
    email: null,
    language: 'es',
  },
  {
    sub: 'demo-citizen-3',
    identifier: '33333333P',
    givenName: 'Núria',
    familyName: 'Assaig Demo',
    email: 'nuria.assaig@example.org',
    language: 'oc-aranes',
  },
];

export const demoCitizenName = (c: DemoCitizen) => `${c.givenName} ${c.familyName}`;
