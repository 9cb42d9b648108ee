/** Support access (issue 6 item 4): the API shapes shared by the console page and the entity's page. */

export type GrantStatus = 'requested' | 'granted' | 'denied' | 'revoked' | 'expired';

export type SupportGrant = {
  id: string;
  entity: { id: string; dir3: string; slug: string; name: string };
  technician: { id: string; username: string; name: string };
  reason: string;
  durationHours: number;
  roles: string[];
  status: GrantStatus;
  requestedAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  decisionNote: string | null;
  startsAt: string | null;
  endsAt: string | null;
  revokedAt: string | null;
};

/** The longest access a technician may ask for, in hours (the server's SUPPORT_GRANT_MAX_HOURS). */
export const SUPPORT_GRANT_MAX_HOURS = 72;

/** Roles an entity's admin may give a technician (the server's GRANTABLE_ROLES). */
export const GRANTABLE_ROLES = ['viewer', 'handler', 'registrar'] as const;

export const supportKeys = {
  console: ['console', 'support-grants'] as const,
  entity: (slug: string) => ['support-grants', slug] as const,
  audit: (slug: string) => ['support-audit', slug] as const,
};
