import type { EntityRole } from '#platform/db/schema.ts';

type Actor = { roles: readonly EntityRole[] };

/** An entity's positions, holders, absences and delegations are kept by its administrators. */
export function canManagePositions(a: Actor): boolean {
  return a.roles.includes('admin');
}

/** Every member reads them: signatures and decrees show the position of whoever signs. */
export function canReadPositions(a: Actor): boolean {
  return a.roles.length > 0;
}
