import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type TSchema, Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { inEntity } from '../../http/scope.ts';
import { AppError } from '#platform/errors.ts';
import {
  createParty,
  getParty,
  listParties,
  type PartyInput,
  type PartyListQuery,
  type PartyPatch,
  updateParty,
} from './parties.service.ts';

const strict = { additionalProperties: false } as const;
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

const EntityParams = Type.Object({ entity: Type.String({ maxLength: 100 }) }, strict);
const IdParams = Type.Object(
  { entity: Type.String({ maxLength: 100 }), id: Type.String({ format: 'uuid' }) },
  strict,
);

const IdentifierType = Type.Union(
  [
    Type.Literal('nif'),
    Type.Literal('nie'),
    Type.Literal('cif'),
    Type.Literal('passport'),
    Type.Literal('dir3'),
    Type.Literal('other'),
  ],
  {
    description:
      'Omit for a NIF, NIE or CIF (recognised and its check character verified). `passport` and `other`: 3–20 ' +
      'letters and digits, not checked. `dir3`: the 9-character DIR3 code of another administration.',
  },
);
const Kind = Type.Union([Type.Literal('person'), Type.Literal('organisation')], {
  description:
    'Derived from NIF/NIE (person) and CIF/DIR3 (organisation); for passport/other, default person.',
});
const Language = Type.Union([Type.Literal('ca'), Type.Literal('es'), Type.Literal('oc-aranes')]);
const ENotification = Type.Union([Type.Literal('compulsory'), Type.Literal('chosen'), Type.Literal('none')], {
  description:
    'Always `compulsory` for organisations (LPACAP art. 14.2); `compulsory` may also be set for professionals; ' +
    '`chosen` needs eNotificationEvidence and records the time of the choice.',
});
const Channel = Type.Union([Type.Literal('electronic'), Type.Literal('paper')], {
  description: '`electronic` whenever electronic notification is compulsory or chosen.',
});
const AddressFields = {
  street: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
  postalCode: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
  municipality: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  province: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  country: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
};
const Address = Type.Object(AddressFields, { ...strict, description: 'Replaced as a whole when changed.' });

const Identifier = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'Spaces, dots and hyphens are ignored.',
});
const Name = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'Given name, or the whole name of an organisation.',
});
const OptionalFields = {
  identifierType: Type.Optional(IdentifierType),
  kind: Type.Optional(Kind),
  surname1: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  surname2: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
  phone: Type.Optional(Nullable(Type.String({ pattern: '^\\+?[0-9 ().-]{6,30}$' }))),
  address: Type.Optional(Nullable(Address)),
  residenceIne: Type.Optional(
    Nullable(
      Type.String({
        pattern: '^[0-9]{5}$',
        description: 'INE code of the municipality of residence (LPACAP art. 30.6).',
      }),
    ),
  ),
  language: Type.Optional(Language),
  eNotification: Type.Optional(ENotification),
  eNotificationEvidence: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 2000 }))),
  preferredChannel: Type.Optional(Channel),
};
const CreateBody = Type.Object({ identifier: Identifier, name: Name, ...OptionalFields }, strict);
const PatchBody = Type.Object(
  { identifier: Type.Optional(Identifier), name: Type.Optional(Name), ...OptionalFields },
  { ...strict, minProperties: 1 },
);

const NullableString = Nullable(Type.String());
const Party = Type.Object({
  id: Type.String({ format: 'uuid' }),
  identifier: Type.String(),
  identifierType: IdentifierType,
  kind: Kind,
  name: Type.String(),
  surname1: NullableString,
  surname2: NullableString,
  email: NullableString,
  phone: NullableString,
  address: Nullable(Type.Object(AddressFields)),
  residenceIne: NullableString,
  language: Language,
  eNotification: ENotification,
  eNotificationChosenAt: Nullable(Type.String({ format: 'date-time' })),
  eNotificationEvidence: NullableString,
  preferredChannel: Channel,
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
const PartyList = Type.Object({
  items: Type.Array(Party),
  total: Type.Integer(),
  page: Type.Integer(),
  pageSize: Type.Integer(),
});
const ListQuery = Type.Object(
  {
    q: Type.Optional(
      Type.String({
        maxLength: 100,
        description: 'Words of the name, surnames or identifier; case and accents ignored.',
      }),
    ),
    identifier: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Exact identifier.' })),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
    pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  },
  strict,
);

type EntityRef = { entity: string };
type IdRef = { entity: string; id: string };

/**
 * Routes with an `:id` attach validation errors instead of answering 400 at once: a malformed id
 * names no party, so after the usual authentication and membership checks it gets the same 404
 * as an unknown id or another entity's. Any other validation error is answered as usual.
 */
function malformedId(req: FastifyRequest): boolean {
  const err = req.validationError;
  if (!err) return false;
  const validation = (err.validation ?? []) as { instancePath?: string }[];
  if (err.validationContext === 'params' && validation.some((v) => v.instancePath === '/id')) return true;
  throw err;
}

const partyNotFound = async (): Promise<never> => {
  throw new AppError('PARTY_NOT_FOUND', 'Party not found');
};

export function registerPartyRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post(
    '/api/v1/entities/:entity/parties',
    {
      schema: {
        tags: ['parties'],
        summary: 'Register a person or organisation (tercer)',
        params: EntityParams,
        body: CreateBody,
        response: { 201: Party },
      },
    },
    async (req, reply) => {
      const { entity } = req.params as EntityRef;
      const party = await inEntity(deps, req, entity, (tx, ctx) =>
        createParty(tx, ctx, req.body as PartyInput),
      );
      return reply.status(201).send(party);
    },
  );

  app.get(
    '/api/v1/entities/:entity/parties',
    {
      schema: {
        tags: ['parties'],
        summary: "Search the entity's parties",
        params: EntityParams,
        querystring: ListQuery,
        response: { 200: PartyList },
      },
    },
    async (req) => {
      const { entity } = req.params as EntityRef;
      return inEntity(deps, req, entity, (tx, ctx) => listParties(tx, ctx, req.query as PartyListQuery));
    },
  );

  app.get(
    '/api/v1/entities/:entity/parties/:id',
    {
      attachValidation: true,
      schema: { tags: ['parties'], summary: 'One party', params: IdParams, response: { 200: Party } },
    },
    async (req) => {
      const { entity, id } = req.params as IdRef;
      if (malformedId(req)) return inEntity(deps, req, entity, partyNotFound);
      return inEntity(deps, req, entity, (tx, ctx) => getParty(tx, ctx, id));
    },
  );

  app.patch(
    '/api/v1/entities/:entity/parties/:id',
    {
      attachValidation: true,
      schema: {
        tags: ['parties'],
        summary: 'Change a party (only the fields sent; null clears an optional field)',
        params: IdParams,
        body: PatchBody,
        response: { 200: Party },
      },
    },
    async (req) => {
      const { entity, id } = req.params as IdRef;
      if (malformedId(req)) return inEntity(deps, req, entity, partyNotFound);
      return inEntity(deps, req, entity, (tx, ctx) => updateParty(tx, ctx, id, req.body as PartyPatch));
    },
  );
}
