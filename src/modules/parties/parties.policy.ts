import type { EntityRole } from '#platform/db/schema.ts';

/** Who asks: their roles in the entity (membership was checked when the tenant transaction opened). */
type Actor = { roles: readonly EntityRole[] };

/** Staff who register persons and organisations: administrators, case handlers, registry clerks. */
const WRITERS: readonly EntityRole[] = ['admin', 'handler', 'registrar'];

/** Every member of the entity may consult its register of parties (viewers and signers included). */
export function canReadParties(a: Actor): boolean {
  return a.roles.length > 0;
}

export function canCreateParty(a: Actor): boolean {
  return a.roles.some((r) => WRITERS.includes(r));
}

export function canUpdateParty(a: Actor): boolean {
  return a.roles.some((r) => WRITERS.includes(r));
}
