import { createHash, randomBytes } from 'node:crypto';
import type { Actor, RequestMeta } from '#platform/context.ts';
import type { Executor, Tx } from '#platform/db/database.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import type { IdentityPolicy } from '#modules/identity/identity.service.ts';
import type { Citizen, CitizenLanguage } from './citizens.model.ts';

/** The seu's session cookie (installation-wide; separate from the staff session). */
export const CITIZEN_COOKIE = 'lligall_seu';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export type CitizenIdentity = {
  identifier: string;
  name: string;
  email?: string | null;
  language?: CitizenLanguage | null;
  /** The issuer of the OpenID provider that authenticated the citizen. */
  idp: string;
};

/** The actor a citizen acts as (no roles anywhere); `forIdentifier` when under a power of attorney. */
export function citizenActor(citizen: Pick<Citizen, 'identifier'>, forIdentifier?: string | null): Actor {
  return {
    kind: 'citizen',
    id: null,
    label: forIdentifier
      ? `citizen:${citizen.identifier} for:${forIdentifier}`
      : `citizen:${citizen.identifier}`,
    platformRoles: [],
  };
}

/**
 * Opens a citizen session and returns its random token (the cookie value; only its SHA-256 is
 * stored). Audited on the platform's chain as the citizen.
 */
export async function createCitizenSession(
  tx: Tx,
  ctx: { request: RequestMeta; clock: { now(): Date } },
  policy: Pick<IdentityPolicy, 'sessionMaxHours'>,
  who: CitizenIdentity,
): Promise<string> {
  const now = ctx.clock.now();
  const token = randomBytes(32).toString('base64url');
  const id = sha256(token);
  // Sessions past their absolute limit go when someone logs in (idle ones when next presented).
  await tx.deleteFrom('citizen_sessions').where('expires_at', '<', now).execute();
  await tx
    .insertInto('citizen_sessions')
    .values({
      id,
      identifier: who.identifier,
      name: who.name,
      email: who.email ?? null,
      language: who.language ?? null,
      idp: who.idp,
      created_at: now,
      last_seen_at: now,
      expires_at: new Date(now.getTime() + policy.sessionMaxHours * 3_600_000),
    })
    .execute();
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    actor: citizenActor(who),
    request: ctx.request,
    clock: ctx.clock,
    action: 'citizen.login',
    objectType: 'citizen',
    objectId: null,
    details: { identifier: who.identifier, idp: who.idp },
  });
  return token;
}

export type CitizenSessionCheck = {
  citizen: Citizen | null;
  write: 'none' | 'touch' | 'delete';
  sessionId: string;
};

/**
 * The citizen behind a seu cookie, or null when unknown, idle too long or past its absolute
 * limit. A read only; the caller applies `write` (touched at most once a minute).
 */
export async function checkCitizenSession(
  q: Executor,
  policy: Pick<IdentityPolicy, 'sessionIdleMinutes'>,
  token: string,
  now: Date,
): Promise<CitizenSessionCheck> {
  const id = sha256(token);
  const row = await q.selectFrom('citizen_sessions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return { citizen: null, write: 'none', sessionId: id };
  const idleLimit = new Date(row.last_seen_at).getTime() + policy.sessionIdleMinutes * 60_000;
  if (now.getTime() > idleLimit || now > new Date(row.expires_at))
    return { citizen: null, write: 'delete', sessionId: id };
  const touch = now.getTime() - new Date(row.last_seen_at).getTime() > 60_000;
  return {
    citizen: {
      sessionId: id,
      identifier: row.identifier,
      name: row.name,
      email: row.email,
      language: row.language,
    },
    write: touch ? 'touch' : 'none',
    sessionId: id,
  };
}

export async function applyCitizenSessionWrite(tx: Tx, check: CitizenSessionCheck, now: Date): Promise<void> {
  if (check.write === 'delete')
    await tx.deleteFrom('citizen_sessions').where('id', '=', check.sessionId).execute();
  if (check.write === 'touch')
    await tx
      .updateTable('citizen_sessions')
      .set({ last_seen_at: now })
      .where('id', '=', check.sessionId)
      .execute();
}

/** Ends a citizen session (logout); audited. */
export async function endCitizenSession(
  tx: Tx,
  ctx: { request: RequestMeta; clock: { now(): Date } },
  citizen: Citizen,
): Promise<void> {
  await tx.deleteFrom('citizen_sessions').where('id', '=', citizen.sessionId).execute();
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    actor: citizenActor(citizen),
    request: ctx.request,
    clock: ctx.clock,
    action: 'citizen.logout',
    objectType: 'citizen',
    objectId: null,
    details: { identifier: citizen.identifier },
  });
}

/** An OpenID Connect authorization in flight lives this long (the citizen logs in at the provider meanwhile). */
export const LOGIN_ATTEMPT_MINUTES = 10;

/** Records a login in flight, keyed by the SHA-256 of its state; old ones are swept at the same time. */
export async function recordLoginAttempt(
  tx: Tx,
  now: Date,
  a: { state: string; slug: string; codeVerifier: string; nonce: string; returnTo: string },
): Promise<void> {
  await tx.deleteFrom('citizen_logins').where('expires_at', '<', now).execute();
  await tx
    .insertInto('citizen_logins')
    .values({
      id: sha256(a.state),
      slug: a.slug,
      code_verifier: a.codeVerifier,
      nonce: a.nonce,
      return_to: a.returnTo,
      created_at: now,
      expires_at: new Date(now.getTime() + LOGIN_ATTEMPT_MINUTES * 60_000),
    })
    .execute();
}

/** Takes (and deletes: a state is used once) the login in flight with that state, if it has not expired. */
export async function takeLoginAttempt(tx: Tx, now: Date, state: string) {
  const row = await tx
    .deleteFrom('citizen_logins')
    .where('id', '=', sha256(state))
    .returningAll()
    .executeTakeFirst();
  if (!row || new Date(row.expires_at) < now) return null;
  return row;
}
