import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Ctx } from '#platform/context.ts';
import { noRequest } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import type { EntityRole } from '#platform/db/schema.ts';
import { AppError, type ErrorCode } from '#platform/errors.ts';
import { newId } from '#platform/ids.ts';
import { listEventsForObjects } from '#modules/audit/audit.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  makeTenant,
  makeUser,
  openTestEnv,
  TestClock,
  type TestEnv,
  type TestUser,
} from '#test/helpers/harness.ts';
import { nifCheckLetter } from './identifiers.ts';
import { canCreateParty, canReadParties, canUpdateParty } from './parties.policy.ts';
import { insertParty } from './parties.repository.ts';
import { createParty, getParty, listParties, type PartyInput, updateParty } from './parties.service.ts';

let env: TestEnv;
let a: Tenant;
let b: Tenant;
let staffA: TestUser;
let staffB: TestUser;

before(async () => {
  env = await openTestEnv({ clock: new TestClock('2026-03-02T09:00:00.000Z') });
  a = await makeTenant(env);
  b = await makeTenant(env);
  staffA = await makeUser(env, { tenant: a, roles: ['handler'] });
  staffB = await makeUser(env, { tenant: b, roles: ['handler'] });
});
after(async () => {
  await env.close();
});

function ctxFor(tenant: Tenant, user: TestUser, roles: EntityRole[]): Ctx {
  return {
    tenant: { id: tenant.id, dir3: tenant.dir3, slug: tenant.slug, name: tenant.name, status: tenant.status },
    actor: { kind: 'user', id: user.id, label: user.username, platformRoles: [] },
    roles,
    request: noRequest,
    clock: env.clock,
  };
}

/** Runs fn in a tenant transaction of A (or B) as a user with `roles`. */
function inA<T>(fn: (tx: Tx, ctx: Ctx) => Promise<T>, roles: EntityRole[] = ['handler']): Promise<T> {
  return env.db.tenant(a.id, (tx) => fn(tx, ctxFor(a, staffA, roles)));
}
function inB<T>(fn: (tx: Tx, ctx: Ctx) => Promise<T>): Promise<T> {
  return env.db.tenant(b.id, (tx) => fn(tx, ctxFor(b, staffB, ['handler'])));
}

let serial = 20_000_000;
/** A fresh valid NIF for each call. */
function nextNif(): string {
  serial += 7919;
  const digits = String(serial).padStart(8, '0');
  return digits + nifCheckLetter(digits);
}

async function rejects(p: Promise<unknown>, code: ErrorCode, field?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AppError, String(e));
    assert.equal(e.code, code, e.message);
    if (field) assert.equal(e.details?.field, field, e.message);
    return true;
  });
}

async function partyCount(tenant: Tenant): Promise<number> {
  const r = await env.db.owner((tx) =>
    tx
      .selectFrom('parties')
      .where('tenant_id', '=', tenant.id)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
  );
  return Number(r.n);
}

async function eventsOf(tenant: Tenant, partyId: string) {
  return env.db.owner((tx) => listEventsForObjects(tx, tenant.id, [{ type: 'party', id: partyId }]));
}

const person = (over: Partial<PartyInput> = {}): PartyInput => ({
  identifier: nextNif(),
  name: 'Maria',
  surname1: 'Puig',
  ...over,
});

describe('parties.policy', () => {
  it('admin, handler and registrar write; every member reads', () => {
    for (const role of ['admin', 'handler', 'registrar'] as const) {
      assert.ok(canCreateParty({ roles: [role] }), role);
      assert.ok(canUpdateParty({ roles: [role] }), role);
    }
    for (const role of ['viewer', 'signer'] as const) {
      assert.equal(canCreateParty({ roles: [role] }), false, role);
      assert.equal(canUpdateParty({ roles: [role] }), false, role);
      assert.ok(canReadParties({ roles: [role] }), role);
    }
    assert.equal(canReadParties({ roles: [] }), false);
  });
});

describe('createParty', () => {
  it('registers a person: normalised NIF, derived kind, defaults, audited without personal data', async () => {
    const nif = nextNif();
    const raw = `${nif.slice(0, 2)}.${nif.slice(2, 5)}.${nif.slice(5, 8)}-${nif[8]!.toLowerCase()}`;
    const p = await inA((tx, ctx) =>
      createParty(tx, ctx, {
        identifier: raw,
        name: '  Núria ',
        surname1: 'Solà',
        surname2: 'i Serra',
        email: 'nuria@example.cat',
        phone: '+34 973 00 00 00',
        address: {
          street: 'Carrer Major, 1',
          postalCode: '25001',
          municipality: 'Lleida',
          province: 'Lleida',
          country: 'ES',
        },
        residenceIne: '25120',
      }),
    );
    assert.equal(p.identifier, nif);
    assert.equal(p.identifierType, 'nif');
    assert.equal(p.kind, 'person');
    assert.equal(p.name, 'Núria');
    assert.equal(p.language, 'ca');
    assert.equal(p.eNotification, 'none');
    assert.equal(p.eNotificationChosenAt, null);
    assert.equal(p.preferredChannel, 'paper');
    assert.deepEqual(p.address, {
      street: 'Carrer Major, 1',
      postalCode: '25001',
      municipality: 'Lleida',
      province: 'Lleida',
      country: 'ES',
    });
    assert.equal(p.residenceIne, '25120');
    assert.equal(p.createdAt, '2026-03-02T09:00:00.000Z');
    assert.deepEqual(await inA((tx, ctx) => getParty(tx, ctx, p.id)), p);

    const events = await eventsOf(a, p.id);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.action, 'party.create');
    assert.equal(events[0]!.actor, staffA.username);
    assert.deepEqual(events[0]!.details, {
      identifierType: 'nif',
      kind: 'person',
      eNotification: 'none',
      preferredChannel: 'paper',
    });
  });

  it('an organisation (CIF) is compulsorily notified electronically and has no surnames', async () => {
    const org = await inA((tx, ctx) =>
      createParty(tx, ctx, { identifier: 'B64717838', name: 'Construccions Segrià SL' }),
    );
    assert.equal(org.identifierType, 'cif');
    assert.equal(org.kind, 'organisation');
    assert.equal(org.eNotification, 'compulsory');
    assert.equal(org.preferredChannel, 'electronic');

    await rejects(
      inA((tx, ctx) => createParty(tx, ctx, { identifier: 'A13585625', name: 'X SA', kind: 'person' })),
      'VALIDATION_FAILED',
      'kind',
    );
    await rejects(
      inA((tx, ctx) => createParty(tx, ctx, { identifier: 'A13585625', name: 'X SA', surname1: 'Y' })),
      'VALIDATION_FAILED',
      'surname1',
    );
    await rejects(
      inA((tx, ctx) =>
        createParty(tx, ctx, { identifier: 'A13585625', name: 'X SA', eNotification: 'none' }),
      ),
      'VALIDATION_FAILED',
      'eNotification',
    );
    await rejects(
      inA((tx, ctx) =>
        createParty(tx, ctx, { identifier: 'A13585625', name: 'X SA', preferredChannel: 'paper' }),
      ),
      'VALIDATION_FAILED',
      'preferredChannel',
    );
    await rejects(
      inA((tx, ctx) => createParty(tx, ctx, { identifier: nextNif(), name: 'X', kind: 'organisation' })),
      'VALIDATION_FAILED',
      'kind',
    );
  });

  it('another administration by its declared DIR3 code; passports and other documents unchecked', async () => {
    const dir3 = await inA((tx, ctx) =>
      createParty(tx, ctx, {
        identifier: 'A09002970',
        identifierType: 'dir3',
        name: 'Generalitat de Catalunya',
      }),
    );
    assert.equal(dir3.identifierType, 'dir3');
    assert.equal(dir3.kind, 'organisation');
    assert.equal(dir3.eNotification, 'compulsory');
    const passport = await inA((tx, ctx) =>
      createParty(tx, ctx, {
        identifier: 'ab 1234567',
        identifierType: 'passport',
        name: 'Jean',
        surname1: 'Dupont',
        language: 'es',
      }),
    );
    assert.deepEqual(
      [passport.identifier, passport.identifierType, passport.kind, passport.language],
      ['AB1234567', 'passport', 'person', 'es'],
    );
    const foreignCompany = await inA((tx, ctx) =>
      createParty(tx, ctx, {
        identifier: 'FR40303265045',
        identifierType: 'other',
        kind: 'organisation',
        name: 'Société X',
      }),
    );
    assert.equal(foreignCompany.eNotification, 'compulsory');
  });

  it('electronic notification chosen with evidence records when; compulsory for a professional', async () => {
    await rejects(
      inA((tx, ctx) => createParty(tx, ctx, person({ eNotification: 'chosen' }))),
      'VALIDATION_FAILED',
      'eNotificationEvidence',
    );
    await rejects(
      inA((tx, ctx) => createParty(tx, ctx, person({ eNotificationEvidence: 'Sol·licitud E/2026/000001' }))),
      'VALIDATION_FAILED',
      'eNotificationEvidence',
    );
    env.clock.set('2026-03-03T10:15:00.000Z');
    const chosen = await inA((tx, ctx) =>
      createParty(
        tx,
        ctx,
        person({ eNotification: 'chosen', eNotificationEvidence: 'Sol·licitud E/2026/000001' }),
      ),
    );
    assert.equal(chosen.eNotification, 'chosen');
    assert.equal(chosen.eNotificationChosenAt, '2026-03-03T10:15:00.000Z');
    assert.equal(chosen.eNotificationEvidence, 'Sol·licitud E/2026/000001');
    assert.equal(chosen.preferredChannel, 'electronic');

    const architect = await inA((tx, ctx) => createParty(tx, ctx, person({ eNotification: 'compulsory' })));
    assert.equal(architect.kind, 'person');
    assert.equal(architect.preferredChannel, 'electronic');
    await rejects(
      inA((tx, ctx) =>
        createParty(tx, ctx, person({ eNotification: 'compulsory', preferredChannel: 'paper' })),
      ),
      'VALIDATION_FAILED',
      'preferredChannel',
    );
  });

  it('refuses a bad identifier, e-mail, phone or INE code and adds no row', async () => {
    const before = await partyCount(a);
    await rejects(
      inA((tx, ctx) => createParty(tx, ctx, person({ identifier: '12345678A' }))),
      'INVALID_IDENTIFIER',
    );
    await rejects(
      inA((tx, ctx) => createParty(tx, ctx, person({ identifier: '1234567Z' }))),
      'INVALID_IDENTIFIER',
    );
    await rejects(
      inA((tx, ctx) => createParty(tx, ctx, person({ email: 'nuria@' }))),
      'VALIDATION_FAILED',
      'email',
    );
    await rejects(
      inA((tx, ctx) => createParty(tx, ctx, person({ phone: 'call me' }))),
      'VALIDATION_FAILED',
      'phone',
    );
    await rejects(
      inA((tx, ctx) => createParty(tx, ctx, person({ residenceIne: '99001' }))),
      'VALIDATION_FAILED',
      'residenceIne',
    );
    await rejects(
      inA((tx, ctx) => createParty(tx, ctx, person({ name: '   ' }))),
      'VALIDATION_FAILED',
      'name',
    );
    assert.equal(await partyCount(a), before);
  });

  it('an identifier is unique per entity, however it is written; other entities may hold it too', async () => {
    const nif = nextNif();
    const first = await inA((tx, ctx) => createParty(tx, ctx, person({ identifier: nif })));
    await assert.rejects(
      inA((tx, ctx) =>
        createParty(tx, ctx, person({ identifier: ` ${nif.slice(0, 4)} ${nif.slice(4).toLowerCase()}` })),
      ),
      (e: unknown) =>
        e instanceof AppError && e.code === 'PARTY_IDENTIFIER_TAKEN' && e.details?.partyId === first.id,
    );
    const inOtherEntity = await inB((tx, ctx) => createParty(tx, ctx, person({ identifier: nif })));
    assert.notEqual(inOtherEntity.id, first.id);
  });

  it('a unique violation from a concurrent insert is mapped to PARTY_IDENTIFIER_TAKEN', async () => {
    const nif = nextNif();
    await inA((tx, ctx) => createParty(tx, ctx, person({ identifier: nif })));
    const now = env.clock.now();
    await rejects(
      inA((tx) =>
        insertParty(tx, {
          tenant_id: a.id,
          id: newId(),
          identifier: nif,
          identifier_type: 'nif',
          kind: 'person',
          name: 'Race',
          e_notification: 'none',
          preferred_channel: 'paper',
          address: null,
          created_at: now,
          updated_at: now,
        } as Parameters<typeof insertParty>[1]),
      ),
      'PARTY_IDENTIFIER_TAKEN',
    );
  });

  it('a viewer or signer may not register parties; a registrar may', async () => {
    const before = await partyCount(a);
    await rejects(
      inA((tx, ctx) => createParty(tx, ctx, person()), ['viewer']),
      'FORBIDDEN',
    );
    await rejects(
      inA((tx, ctx) => createParty(tx, ctx, person()), ['signer']),
      'FORBIDDEN',
    );
    assert.equal(await partyCount(a), before);
    const p = await inA((tx, ctx) => createParty(tx, ctx, person()), ['registrar']);
    assert.equal(p.kind, 'person');
  });
});

describe('updateParty', () => {
  it('changes the fields sent, clears with null, keeps the rest, and audits the field names', async () => {
    env.clock.set('2026-03-04T08:00:00.000Z');
    const p = await inA((tx, ctx) =>
      createParty(tx, ctx, person({ email: 'old@example.cat', phone: '973000000' })),
    );
    env.clock.set('2026-03-05T08:00:00.000Z');
    const u = await inA((tx, ctx) =>
      updateParty(tx, ctx, p.id, {
        email: 'new@example.cat',
        phone: null,
        address: { municipality: 'Balaguer' },
        residenceIne: '25040',
      }),
    );
    assert.equal(u.email, 'new@example.cat');
    assert.equal(u.phone, null);
    assert.deepEqual(u.address, { municipality: 'Balaguer' });
    assert.equal(u.residenceIne, '25040');
    assert.equal(u.name, p.name);
    assert.equal(u.surname1, p.surname1);
    assert.equal(u.createdAt, '2026-03-04T08:00:00.000Z');
    assert.equal(u.updatedAt, '2026-03-05T08:00:00.000Z');

    const events = await eventsOf(a, p.id);
    assert.deepEqual(
      events.map((e) => e.action),
      ['party.update', 'party.create'],
    );
    assert.deepEqual(events[0]!.details, { changed: ['email', 'phone', 'address', 'residenceIne'] });
    assert.ok(!JSON.stringify(events).includes('new@example.cat'), 'the audit log holds no personal data');
  });

  it('a patch that changes nothing writes nothing', async () => {
    const p = await inA((tx, ctx) => createParty(tx, ctx, person({ email: 'same@example.cat' })));
    env.clock.advance(60_000);
    const u = await inA((tx, ctx) => updateParty(tx, ctx, p.id, { email: 'same@example.cat', name: p.name }));
    assert.deepEqual(u, p);
    assert.equal((await eventsOf(a, p.id)).length, 1);
  });

  it('choosing electronic notification: evidence kept until a new one, withdrawn with none', async () => {
    env.clock.set('2026-03-06T09:00:00.000Z');
    const p = await inA((tx, ctx) => createParty(tx, ctx, person()));
    await rejects(
      inA((tx, ctx) => updateParty(tx, ctx, p.id, { eNotification: 'chosen' })),
      'VALIDATION_FAILED',
      'eNotificationEvidence',
    );
    env.clock.set('2026-03-07T09:00:00.000Z');
    const chosen = await inA((tx, ctx) =>
      updateParty(tx, ctx, p.id, { eNotification: 'chosen', eNotificationEvidence: 'Compareixença' }),
    );
    assert.equal(chosen.eNotificationChosenAt, '2026-03-07T09:00:00.000Z');
    assert.equal(chosen.preferredChannel, 'electronic');
    env.clock.set('2026-03-08T09:00:00.000Z');
    const same = await inA((tx, ctx) => updateParty(tx, ctx, p.id, { email: 'x@example.cat' }));
    assert.equal(same.eNotificationChosenAt, '2026-03-07T09:00:00.000Z');
    assert.equal(same.eNotificationEvidence, 'Compareixença');
    const renewed = await inA((tx, ctx) =>
      updateParty(tx, ctx, p.id, { eNotificationEvidence: 'E/2026/000077' }),
    );
    assert.equal(renewed.eNotificationChosenAt, '2026-03-08T09:00:00.000Z');
    assert.equal(renewed.eNotificationEvidence, 'E/2026/000077');
    const withdrawn = await inA((tx, ctx) =>
      updateParty(tx, ctx, p.id, { eNotification: 'none', preferredChannel: 'paper' }),
    );
    assert.deepEqual(
      [
        withdrawn.eNotification,
        withdrawn.eNotificationChosenAt,
        withdrawn.eNotificationEvidence,
        withdrawn.preferredChannel,
      ],
      ['none', null, null, 'paper'],
    );
    const events = await eventsOf(a, p.id);
    assert.deepEqual(events[0]!.details, {
      changed: ['eNotification', 'eNotificationChosenAt', 'eNotificationEvidence', 'preferredChannel'],
      eNotification: 'none',
      preferredChannel: 'paper',
    });
  });

  it('re-checks a changed identifier and its uniqueness; a CIF makes the party an organisation', async () => {
    const p = await inA((tx, ctx) =>
      createParty(tx, ctx, person({ identifier: 'AB123456', identifierType: 'passport' })),
    );
    const other = await inA((tx, ctx) => createParty(tx, ctx, person()));
    await rejects(
      inA((tx, ctx) => updateParty(tx, ctx, p.id, { identifier: '00000000A' })),
      'INVALID_IDENTIFIER',
    );
    await rejects(
      inA((tx, ctx) => updateParty(tx, ctx, p.id, { identifier: other.identifier })),
      'PARTY_IDENTIFIER_TAKEN',
    );
    // the party was registered with a passport and now has a NIE
    const nie = await inA((tx, ctx) => updateParty(tx, ctx, p.id, { identifier: 'X-1234567-L' }));
    assert.deepEqual([nie.identifier, nie.identifierType, nie.kind], ['X1234567L', 'nie', 'person']);
    await rejects(
      inA((tx, ctx) => updateParty(tx, ctx, p.id, { identifier: 'J99216582', name: 'SCP' })),
      'VALIDATION_FAILED',
      'surname1',
    );
    const org = await inA((tx, ctx) =>
      updateParty(tx, ctx, p.id, { identifier: 'J99216582', name: 'SCP', surname1: null }),
    );
    assert.deepEqual(
      [org.kind, org.eNotification, org.preferredChannel],
      ['organisation', 'compulsory', 'electronic'],
    );
    const events = await eventsOf(a, p.id);
    assert.deepEqual(events[0]!.details, {
      changed: [
        'identifier',
        'identifierType',
        'kind',
        'name',
        'surname1',
        'eNotification',
        'preferredChannel',
      ],
      identifierType: 'cif',
      kind: 'organisation',
      eNotification: 'compulsory',
      preferredChannel: 'electronic',
    });
  });

  it('a viewer may not change a party', async () => {
    const p = await inA((tx, ctx) => createParty(tx, ctx, person()));
    await rejects(
      inA((tx, ctx) => updateParty(tx, ctx, p.id, { name: 'Other' }), ['viewer']),
      'FORBIDDEN',
    );
    assert.equal((await inA((tx, ctx) => getParty(tx, ctx, p.id), ['viewer'])).name, p.name);
  });
});

describe('getParty across tenants and ids', () => {
  it('another entity’s party, an unknown id and a malformed id are all PARTY_NOT_FOUND', async () => {
    const ofB = await inB((tx, ctx) => createParty(tx, ctx, person()));
    await rejects(
      inA((tx, ctx) => getParty(tx, ctx, ofB.id)),
      'PARTY_NOT_FOUND',
    );
    await rejects(
      inA((tx, ctx) => updateParty(tx, ctx, ofB.id, { name: 'Hijacked' })),
      'PARTY_NOT_FOUND',
    );
    await rejects(
      inA((tx, ctx) => getParty(tx, ctx, newId())),
      'PARTY_NOT_FOUND',
    );
    await rejects(
      inA((tx, ctx) => getParty(tx, ctx, 'not-a-uuid')),
      'PARTY_NOT_FOUND',
    );
    assert.equal((await inB((tx, ctx) => getParty(tx, ctx, ofB.id))).name, ofB.name);
  });

  it('the repository filters by tenant even where row-level security does not apply (owner role)', async () => {
    const ofB = await inB((tx, ctx) => createParty(tx, ctx, person()));
    await rejects(
      env.db.owner((tx) => getParty(tx, ctxFor(a, staffA, ['handler']), ofB.id)),
      'PARTY_NOT_FOUND',
    );
    await rejects(
      env.db.owner((tx) => updateParty(tx, ctxFor(a, staffA, ['handler']), ofB.id, { name: 'Hijacked' })),
      'PARTY_NOT_FOUND',
    );
    const listed = await env.db.owner((tx) =>
      listParties(tx, ctxFor(a, staffA, ['handler']), { identifier: ofB.identifier }),
    );
    assert.equal(listed.total, 0);
  });
});

describe('listParties', () => {
  let search: Tenant;
  let user: TestUser;
  const inSearch = <T>(fn: (tx: Tx, ctx: Ctx) => Promise<T>, roles: EntityRole[] = ['handler']) =>
    env.db.tenant(search.id, (tx) => fn(tx, ctxFor(search, user, roles)));
  const names = (r: { items: { name: string }[] }) => r.items.map((p) => p.name);
  let nuriaNif = '';

  before(async () => {
    search = await makeTenant(env);
    user = await makeUser(env, { tenant: search, roles: ['registrar'] });
    const nuria = await inSearch((tx, ctx) =>
      createParty(tx, ctx, person({ name: 'Núria', surname1: 'Solà', surname2: 'Puigdemont' })),
    );
    nuriaNif = nuria.identifier;
    await inSearch((tx, ctx) =>
      createParty(tx, ctx, person({ name: 'JORDI', surname1: 'Col·lell', surname2: null })),
    );
    await inSearch((tx, ctx) =>
      createParty(tx, ctx, { identifier: 'F25000019', name: "Cooperativa Agrícola de l'Urgell SCCL" }),
    );
    await inSearch((tx, ctx) => createParty(tx, ctx, person({ name: 'Anna', surname1: '100% Muñoz' })));
    // the same name in another entity never shows up here
    await inB((tx, ctx) => createParty(tx, ctx, person({ name: 'Núria', surname1: 'Solà' })));
  });

  it('matches every word in name, surnames or identifier, ignoring case and accents', async () => {
    assert.deepEqual(names(await inSearch((tx, ctx) => listParties(tx, ctx, { q: 'nuria sola' }))), [
      'Núria',
    ]);
    assert.deepEqual(names(await inSearch((tx, ctx) => listParties(tx, ctx, { q: 'SOLÀ' }))), ['Núria']);
    assert.deepEqual(names(await inSearch((tx, ctx) => listParties(tx, ctx, { q: 'puigdemont núria' }))), [
      'Núria',
    ]);
    assert.deepEqual(names(await inSearch((tx, ctx) => listParties(tx, ctx, { q: 'collell' }))), ['JORDI']);
    assert.deepEqual(names(await inSearch((tx, ctx) => listParties(tx, ctx, { q: 'jordi col·lell' }))), [
      'JORDI',
    ]);
    assert.deepEqual(names(await inSearch((tx, ctx) => listParties(tx, ctx, { q: 'agricola urgell' }))), [
      "Cooperativa Agrícola de l'Urgell SCCL",
    ]);
    assert.deepEqual(names(await inSearch((tx, ctx) => listParties(tx, ctx, { q: 'MUNOZ' }))), ['Anna']);
    assert.deepEqual(names(await inSearch((tx, ctx) => listParties(tx, ctx, { q: 'nuria jordi' }))), []);
  });

  it('finds by identifier, written with or without separators', async () => {
    const partial = `${nuriaNif.slice(0, 3)}.${nuriaNif.slice(3, 6)}`;
    assert.deepEqual(names(await inSearch((tx, ctx) => listParties(tx, ctx, { q: partial }))), ['Núria']);
    assert.deepEqual(
      names(await inSearch((tx, ctx) => listParties(tx, ctx, { q: nuriaNif.toLowerCase() }))),
      ['Núria'],
    );
    const exact = `${nuriaNif.slice(0, 8)}-${nuriaNif[8]!.toLowerCase()}`;
    assert.deepEqual(names(await inSearch((tx, ctx) => listParties(tx, ctx, { identifier: exact }))), [
      'Núria',
    ]);
    assert.deepEqual(
      names(await inSearch((tx, ctx) => listParties(tx, ctx, { identifier: nuriaNif.slice(0, 8) }))),
      [],
    );
  });

  it('treats LIKE wildcards in the query as text', async () => {
    assert.deepEqual(names(await inSearch((tx, ctx) => listParties(tx, ctx, { q: '%' }))), ['Anna']);
    assert.deepEqual(names(await inSearch((tx, ctx) => listParties(tx, ctx, { q: '_' }))), []);
  });

  it('pages through the entity’s parties in name order; viewers may list', async () => {
    const all = await inSearch((tx, ctx) => listParties(tx, ctx, {}), ['viewer']);
    assert.equal(all.total, 4);
    assert.deepEqual(names(all), ['Anna', "Cooperativa Agrícola de l'Urgell SCCL", 'JORDI', 'Núria']);
    const page2 = await inSearch((tx, ctx) => listParties(tx, ctx, { page: 2, pageSize: 3 }));
    assert.deepEqual([page2.total, page2.page, page2.pageSize], [4, 2, 3]);
    assert.deepEqual(names(page2), ['Núria']);
    const capped = await inSearch((tx, ctx) => listParties(tx, ctx, { pageSize: 1000 }));
    assert.equal(capped.pageSize, 100);
  });
});
