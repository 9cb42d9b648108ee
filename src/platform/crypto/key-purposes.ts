/**
 * What each key-encryption key derived from the master key protects, and what each wrapped
 * secret is bound to (the wrap's associated data), shared by the modules that wrap secrets and by
 * `lligall key rotate`, which re-wraps them all without depending on those modules.
 */

/** The KEK purpose of integration secrets: every entity's MUX HS256 key. */
export const INTEGRATION_SECRET_PURPOSE = 'integration-secrets';

/** An entity's MUX secret is bound to its tenant: a wrapped secret moved to another row fails to unwrap. */
export const muxSecretBinding = (tenantId: string) => `mux-secret:${tenantId}`;
