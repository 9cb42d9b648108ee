import type { EntityRole } from '#platform/db/schema.ts';

type Actor = { roles: readonly EntityRole[] };

/** Powers granted at the office (apud acta) or from a notarial document are recorded by the entity's front-line staff. */
export function canRecordRepresentations(a: Actor): boolean {
  return a.roles.some((r) => r === 'admin' || r === 'registrar' || r === 'handler');
}

/** Any member reads the register (viewers included): staff check who may act for whom. */
export function canReadRepresentations(a: Actor): boolean {
  return a.roles.length > 0;
}
