import type { EntityRole } from '#platform/db/schema.ts';

type Actor = { roles: EntityRole[] };

export const canCreateExpedient = (a: Actor) => a.roles.some((r) => r === 'admin' || r === 'handler');
/** Incorporate documents, add parties, close. */
export const canWriteExpedient = (a: Actor) => a.roles.some((r) => r === 'admin' || r === 'handler');
/** Reopening a closed case file is an admin's act, with a reason. */
export const canReopenExpedient = (a: Actor) => a.roles.includes('admin');
export const canManageAccess = (a: Actor) => a.roles.includes('admin');
export const canReadAudit = (a: Actor) => a.roles.some((r) => r === 'admin' || r === 'handler');

/**
 * Restricted case files are visible only to the users and units named on them (and the members
 * of the responsible unit); public and internal ones to every member of the entity.
 */
export function canSeeRestricted(access: { userNamed: boolean; unitMember: boolean }): boolean {
  return access.userNamed || access.unitMember;
}
