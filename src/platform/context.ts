import type { EntityRole, PlatformRole } from './db/schema.ts';

/** The source of "now". Injected so tests can move time; never read SQL now() for domain times. */
export type Clock = { now(): Date };
export const systemClock: Clock = { now: () => new Date() };

/**
 * Who acts: a user (staff), the CLI operator, the system itself, or a citizen logged in to the seu
 * (no entity roles, no platform roles: only what the seu's own policies allow; id null, label
 * "citizen:<NIF>", and "… for:<NIF>" when acting under a power of attorney).
 */
export type Actor = {
  kind: 'user' | 'cli' | 'system' | 'citizen';
  id: string | null;
  /** Shown in audit trails: username, "cli", "system". */
  label: string;
  platformRoles: PlatformRole[];
};

/** Where the request came from (audited). */
export type RequestMeta = { ip: string | null; userAgent: string | null };

export type TenantRef = { id: string; dir3: string; slug: string; name: string; status: string };

/** What every service call receives: who, for whom, from where (CONVENTIONS 4). */
export type Ctx = {
  tenant: TenantRef;
  actor: Actor;
  /** The actor's roles in this tenant. */
  roles: EntityRole[];
  request: RequestMeta;
  clock: Clock;
};

export const cliActor: Actor = { kind: 'cli', id: null, label: 'cli', platformRoles: ['operator'] };
export const systemActor: Actor = { kind: 'system', id: null, label: 'system', platformRoles: [] };
export const noRequest: RequestMeta = { ip: null, userAgent: null };
