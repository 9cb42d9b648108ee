import type { EntityStatus } from '#platform/db/schema.ts';

/**
 * The roll-out's shared vocabulary (issue 6). The lifecycle of an entity on the service:
 * listed → requested → scheduled → provisioning → pilot → live (→ suspended). Staff of an entity
 * can log in from `pilot` on; its seu is public from `live` (pilot entities already serve it for
 * testing, as the seu module decides).
 */
export const ENTITY_STATUSES: readonly EntityStatus[] = [
  'listed',
  'requested',
  'scheduled',
  'provisioning',
  'pilot',
  'live',
  'suspended',
];

/**
 * The changes an operator may make. Forward along the roll-out; back one step where a plan
 * changes (a request withdrawn, an entity taken out of its wave); suspension and reinstatement.
 * Going `live` also needs the go-live checklist (checklist.service.ts).
 */
export const STATE_TRANSITIONS: Record<EntityStatus, readonly EntityStatus[]> = {
  listed: ['requested'],
  requested: ['scheduled', 'listed'],
  scheduled: ['provisioning', 'requested'],
  provisioning: ['pilot', 'scheduled'],
  pilot: ['live', 'suspended'],
  live: ['suspended'],
  suspended: ['pilot', 'live'],
};

/**
 * The go-live checklist (DOMAIN.md; issue 6 item 3): each item a document or a recorded fact.
 * `certification` applies only to entities in a wave that requires it; it is passed by the ENI
 * import's validation (a later issue) or bypassed by an operator with a recorded reason.
 */
export const CHECKLIST_ITEMS = [
  'seu_decree',
  'registry_decree',
  'csv_resolution',
  'seal',
  'privacy_notice',
  'accessibility_statement',
  'processing_record',
  'dpa',
  'certification',
] as const;
export type ChecklistItem = (typeof CHECKLIST_ITEMS)[number];

/** Console roles: the Diputació's operators (roll-out, provisioning) and support technicians. */
export type ConsoleRole = 'operator' | 'support';

/**
 * Whether an entity's staff may work in it (issue 6): from `pilot` on. Before that it is being
 * prepared by the Diputació (provisioning) and its users, if any, see no entity; `suspended` is
 * refused separately, with its own error, by the entity scope.
 */
export function staffCanEnter(status: EntityStatus): boolean {
  return status === 'pilot' || status === 'live' || status === 'suspended';
}
