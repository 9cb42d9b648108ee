import type { EntityRole } from '#platform/db/schema.ts';

type Actor = { roles: readonly EntityRole[] };

/** Every member reads the book, its extracts' status, the Ple sessions and the Ple list (as the first slice's list). */
export function canReadBook(a: Actor): boolean {
  return a.roles.length > 0;
}

/**
 * Who asks for the opening or closing diligence, exports the sealed book and records Ple
 * sessions: an administrator of the entity, or whoever acts today as its secretary (holder or
 * substitute; the caller passes that fact, read from the positions module). The diligence itself
 * is always signed by the secretary position's acting holder, whoever asked for it.
 */
export function canManageBook(a: Actor, actsAsSecretary: boolean): boolean {
  return a.roles.includes('admin') || actsAsSecretary;
}
