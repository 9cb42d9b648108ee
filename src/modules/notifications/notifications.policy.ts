import type { EntityRole } from '#platform/db/schema.ts';

type Actor = { roles: readonly EntityRole[] };

/** Case handlers and administrators notify (they write the case file). */
export const canCreateNotification = (a: Actor) => a.roles.some((r) => r === 'admin' || r === 'handler');
/** Any member of the entity reads notifications of the case files they can see (viewers included). */
export const canReadNotifications = (a: Actor) => a.roles.length > 0;
/** Paper attempts are recorded by case handlers, administrators and the registry office. */
export const canRecordAttempt = (a: Actor) =>
  a.roles.some((r) => r === 'admin' || r === 'handler' || r === 'registrar');
/** Sending a failed notification for publication (art. 44) is the case handler's or an administrator's. */
export const canPublish = (a: Actor) => a.roles.some((r) => r === 'admin' || r === 'handler');
