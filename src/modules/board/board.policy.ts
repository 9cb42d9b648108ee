import type { EntityRole } from '#platform/db/schema.ts';

type Actor = { roles: readonly EntityRole[] };

/** Publishing on the notice board, withdrawing, asking for a certificate: administrators and case handlers. */
export function canPublish(a: Actor): boolean {
  return a.roles.some((r) => r === 'admin' || r === 'handler');
}

/** The staff view (original, unmasked text; every state): administrators and case handlers. */
export function canReadBoard(a: Actor): boolean {
  return a.roles.some((r) => r === 'admin' || r === 'handler');
}

/** The seu's technical incidents and the deadline extensions they cause are recorded by an administrator. */
export function canRecordIncident(a: Actor): boolean {
  return a.roles.includes('admin');
}

/** Every member of the entity reads its incidents (they are public in the seu anyway). */
export function canReadIncidents(a: Actor): boolean {
  return a.roles.length > 0;
}
