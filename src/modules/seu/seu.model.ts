import { type Static, type TSchema, Type } from 'typebox';

/**
 * What an entity's administrator enters for its seu electrònica to publish (RD 203/2021 art. 11;
 * RD 1112/2018 for the accessibility statement; GDPR art. 13 for the privacy notice). Stored as
 * `seu_settings.data` (migration 0022) after this strict schema validated it.
 */
const strict = { additionalProperties: false } as const;
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Text = (max: number, description?: string) =>
  Type.String({ minLength: 1, maxLength: max, ...(description ? { description } : {}) });
const CivilDate = (description: string) =>
  Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description });
const Url = (description: string) =>
  Type.String({ maxLength: 2000, pattern: '^https?://[^\\s]+$', description });
const Email = Type.String({ maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$' });

export const Contact = Type.Object(
  {
    address: Nullable(Text(300, 'Street address of the seat')),
    postalCode: Nullable(Type.String({ pattern: '^[0-9]{5}$' })),
    town: Nullable(Text(200)),
    phone: Nullable(Type.String({ minLength: 3, maxLength: 40, pattern: '^[0-9 +().-]+$' })),
    email: Nullable(Email),
    web: Nullable(Url('The entity’s website')),
  },
  strict,
);

export const CreationAct = Type.Object(
  {
    reference: Text(300, 'How the act is cited, e.g. "Decret d’Alcaldia 2026/000012"'),
    date: CivilDate('The date of the act'),
    url: Nullable(Url('Where the act is published (official bulletin, notice board)')),
  },
  strict,
);

export const Silence = Type.Union([Type.Literal('estimatory'), Type.Literal('dismissive')], {
  description:
    'The effect of the administration not resolving in time (LPACAP art. 24): `estimatory` (positive) or `dismissive` (negative)',
});

export const GenericRequest = Type.Object(
  {
    maxTermMonths: Type.Integer({
      minimum: 1,
      maximum: 6,
      description:
        'Maximum term to resolve and notify, in months (LPACAP art. 21.2: at most six unless a law says more; 21.3: three when no rule sets it)',
    }),
    termBasis: Nullable(Text(500, 'The rule that sets the term')),
    silence: Silence,
    silenceBasis: Nullable(Text(500, 'The rule that sets the effect of silence')),
  },
  strict,
);

export const Accessibility = Type.Object(
  {
    status: Type.Union([Type.Literal('full'), Type.Literal('partial'), Type.Literal('non_compliant')], {
      description: 'Compliance with RD 1112/2018 (EN 301 549, WCAG 2.1 AA)',
    }),
    statementDate: CivilDate('When the statement was prepared'),
    reviewedOn: Nullable(CivilDate('When it was last reviewed')),
    nonAccessibleContent: Nullable(Text(4000, 'Content that is not accessible and why')),
    complaintsEmail: Email,
    complaintsPhone: Nullable(Type.String({ minLength: 3, maxLength: 40, pattern: '^[0-9 +().-]+$' })),
    complaintsUrl: Nullable(Url('A form for accessibility complaints and requests')),
  },
  strict,
);

export const Privacy = Type.Object(
  {
    dpoName: Nullable(Text(300, 'The data protection officer (a person or a service)')),
    dpoEmail: Email,
    purposes: Type.Array(Text(500), { minItems: 1, maxItems: 30, description: 'Purposes of the processing' }),
    legalBasis: Nullable(Text(2000)),
    retention: Nullable(Text(2000, 'How long the data are kept')),
    rightsChannel: Text(1000, 'How to exercise the rights (access, rectification, erasure, …)'),
  },
  strict,
);

export const SeuSettings = Type.Object(
  {
    contact: Nullable(Contact),
    creationAct: Nullable(CreationAct),
    genericRequest: Nullable(GenericRequest),
    accessibility: Nullable(Accessibility),
    privacy: Nullable(Privacy),
  },
  strict,
);
export type SeuSettings = Static<typeof SeuSettings>;

export const EMPTY_SETTINGS: SeuSettings = {
  contact: null,
  creationAct: null,
  genericRequest: null,
  accessibility: null,
  privacy: null,
};

/**
 * The generic request when the administrator has entered nothing: LPACAP art. 21.3 (three months
 * when no rule sets the term) and art. 24.1 (silence is estimatory in procedures started by the
 * interested party, save the exceptions that article lists). Published as the legal default.
 */
export const GENERIC_REQUEST_DEFAULT = {
  maxTermMonths: 3,
  termBasis: 'Llei 39/2015, art. 21.3',
  silence: 'estimatory' as const,
  silenceBasis: 'Llei 39/2015, art. 24.1',
};

/** The languages the seu offers, in order (BCP 47). Aranese ('oc') first in the Val d'Aran. */
export type SeuLanguage = 'ca' | 'es' | 'oc';
export function seuLanguages(tenantLanguage: string): SeuLanguage[] {
  return tenantLanguage === 'oc' || tenantLanguage.startsWith('oc-') ? ['oc', 'ca', 'es'] : ['ca', 'es'];
}
