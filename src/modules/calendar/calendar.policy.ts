import type { Actor } from '#platform/context.ts';
import type { EntityRole } from '#platform/db/schema.ts';

/** Every member of an entity may read its calendar and compute deadlines. */
export function canReadCalendar(a: { roles: readonly EntityRole[] }): boolean {
  return a.roles.length > 0;
}

/** An entity's administrator adds or corrects its local days and declares a year complete. */
export function canEditEntityCalendar(a: { roles: readonly EntityRole[] }): boolean {
  return a.roles.includes('admin');
}

/** The national, Catalan and Val d'Aran days, and any municipality's shared data: the operator (the Diputació). */
export function canEditPlatformCalendar(actor: Actor): boolean {
  return actor.platformRoles.includes('operator');
}
