import type { EntityRole } from '#platform/db/schema.ts';
import type { RegistryDirection } from '#platform/db/schema.ts';

type Actor = { roles: readonly EntityRole[] };

/** Input entries are made by the registry office; output entries also by case handlers. */
export function canCreateEntry(a: Actor, direction: RegistryDirection): boolean {
  return a.roles.some((r) => r === 'admin' || r === 'registrar' || (direction === 'S' && r === 'handler'));
}

/** The registry book is read by administrators, registry clerks and case handlers. */
export function canReadRegistry(a: Actor): boolean {
  return a.roles.some((r) => r === 'admin' || r === 'registrar' || r === 'handler');
}

/** Corrections (annotations) are the registry office's. */
export function canAnnotateEntry(a: Actor): boolean {
  return a.roles.some((r) => r === 'admin' || r === 'registrar');
}
