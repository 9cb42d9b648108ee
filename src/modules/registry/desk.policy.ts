import type { EntityRole } from '#platform/db/schema.ts';

type Actor = { roles: readonly EntityRole[] };

/** The register of authorised officials is kept by the entity's administrators (LPACAP art. 12.3, 27.1). */
export function canManageOfficials(a: Actor): boolean {
  return a.roles.includes('admin');
}

/** Any member may read the register: the seu will publish it anyway. */
export function canReadOfficials(a: Actor): boolean {
  return a.roles.length > 0;
}

/**
 * Bringing an entry into a case file is the case handler's act (the expedients module also checks
 * that the caller may open or change the case file).
 */
export function canLinkEntry(a: Actor): boolean {
  return a.roles.some((r) => r === 'admin' || r === 'handler');
}

/**
 * Desk work on an entry (digitising paper, returning originals) is done by registry staff; a
 * digitisation also needs an authorised official in force for copies (checked in the service).
 */
export function canWorkAtDesk(a: Actor): boolean {
  return a.roles.some((r) => r === 'admin' || r === 'registrar' || r === 'handler');
}
