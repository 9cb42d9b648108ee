import { createHash, randomBytes } from 'node:crypto';
import type { Actor, Clock, RequestMeta } from '#platform/context.ts';
import { sql } from 'kysely';
import { asTenant, type Executor, type Tx } from '#platform/db/database.ts';
import { type EntityRole, PLATFORM_TENANT, type PlatformRole } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { dummyHash, hashPassword, passwordProblem, verifyPassword } from './passwords.ts';
import { checkTotp, newTotpSecret, totpUri } from './totp.ts';

export const ENTITY_ROLES: EntityRole[] = ['admin', 'handler', 'registrar', 'signer', 'viewer'];
export const PLATFORM_ROLES: PlatformRole[] = ['operator', 'support'];

export type PlatformCtx = { actor: Actor; request: RequestMeta; clock: Clock };

/** The authenticated caller of a request. */
export type AuthUser = {
  id: string;
  username: string;
  name: string;
  platformRoles: PlatformRole[];
  /** tenant id → roles */
  memberships: Map<string, EntityRole[]>;
  totpEnabled: boolean;
  /** An admin, operator or support user without TOTP must enrol before anything else (ENS). */
  mustEnrolTotp: boolean;
  via: 'session' | 'token';
  sessionId: string | null;
};

export type IdentityPolicy = {
  sessionIdleMinutes: number;
  sessionMaxHours: number;
  loginMaxFailures: number;
  loginLockMinutes: number;
};

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** ENS (MEDIUM): privileged and administrative access needs two factors. */
export function requiresTotp(platformRoles: PlatformRole[], memberships: Iterable<EntityRole[]>): boolean {
  if (platformRoles.length > 0) return true;
  for (const roles of memberships) if (roles.includes('admin')) return true;
  return false;
}

export type CreateUserInput = {
  username: string;
  password: string;
  name?: string;
  email?: string | null;
  platformRoles?: PlatformRole[];
  demo?: boolean;
  totpSecret?: string | null;
};

export async function createUser(tx: Tx, ctx: PlatformCtx, input: CreateUserInput): Promise<{ id: string }> {
  if (!/^[a-z0-9][a-z0-9._@-]{1,63}$/.test(input.username)) {
    throw new AppError(
      'VALIDATION_FAILED',
      'A username has 2 to 64 characters: lower-case letters, digits, . _ @ -',
    );
  }
  const problem = passwordProblem(input.password);
  if (problem) throw new AppError('VALIDATION_FAILED', problem);
  const taken = await tx
    .selectFrom('users')
    .select('id')
    .where('username', '=', input.username)
    .executeTakeFirst();
  if (taken) throw new AppError('USERNAME_TAKEN', `The username ${input.username} is taken`);
  const id = newId();
  const now = ctx.clock.now();
  await tx
    .insertInto('users')
    .values({
      id,
      username: input.username,
      name: input.name ?? input.username,
      email: input.email ?? null,
      password_hash: await hashPassword(input.password),
      platform_roles: input.platformRoles ?? [],
      totp_secret: input.totpSecret ?? null,
      totp_enabled_at: input.totpSecret ? now : null,
      totp_last_step: null,
      locked_until: null,
      demo: input.demo ?? false,
      created_at: now,
    })
    .execute();
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    ...ctx,
    action: 'user.create',
    objectType: 'user',
    objectId: id,
    details: { username: input.username, platformRoles: input.platformRoles ?? [] },
  });
  return { id };
}

/** Gives a user roles in an entity (adds to any roles already held). */
export async function grantMembership(
  tx: Tx,
  ctx: PlatformCtx,
  input: { userId: string; tenantId: string; roles: EntityRole[] },
): Promise<void> {
  const existing = await tx
    .selectFrom('memberships')
    .select('roles')
    .where('user_id', '=', input.userId)
    .where('tenant_id', '=', input.tenantId)
    .executeTakeFirst();
  const roles = [...new Set([...(existing?.roles ?? []), ...input.roles])];
  if (existing) {
    await tx
      .updateTable('memberships')
      .set({ roles })
      .where('user_id', '=', input.userId)
      .where('tenant_id', '=', input.tenantId)
      .execute();
  } else {
    await tx
      .insertInto('memberships')
      .values({ user_id: input.userId, tenant_id: input.tenantId, roles, created_at: ctx.clock.now() })
      .execute();
  }
  const event = {
    ...ctx,
    action: 'membership.grant',
    objectType: 'user',
    objectId: input.userId,
    details: { tenantId: input.tenantId, roles },
  };
  await recordEvent(tx, { tenantId: PLATFORM_TENANT, ...event });
  // The entity sees in its own trail who was given access to it.
  await asTenant(tx, input.tenantId, () => recordEvent(tx, { tenantId: input.tenantId, ...event }));
}

export async function findUserByUsername(tx: Tx, username: string) {
  return tx.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
}

export type LoginResult =
  | { ok: true; token: string; userId: string; mustEnrolTotp: boolean }
  | {
      ok: false;
      code:
        | 'INVALID_CREDENTIALS'
        | 'LOGIN_LOCKED'
        | 'TOTP_REQUIRED'
        | 'TOTP_INVALID'
        | 'ACCOUNT_DISABLED'
        | 'ENTITY_SUSPENDED';
      delayMs: number;
      retryAfterSeconds?: number;
    };

/**
 * Checks credentials and opens a session. Failures are returned, not thrown, so the failure
 * counter commits with the transaction; the route delays and answers after commit.
 * After `loginMaxFailures` wrong passwords in a row the account locks for `loginLockMinutes`,
 * doubling with each further lock.
 */
export async function login(
  tx: Tx,
  ctx: PlatformCtx,
  policy: IdentityPolicy,
  input: { username: string; password: string; totp?: string | undefined },
): Promise<LoginResult> {
  const now = ctx.clock.now();
  const user = await tx
    .selectFrom('users')
    .selectAll()
    .where('username', '=', input.username)
    .forUpdate()
    .executeTakeFirst();
  if (!user) {
    await verifyPassword(await dummyHash(), input.password);
    return { ok: false, code: 'INVALID_CREDENTIALS', delayMs: 300 };
  }
  const audit = (action: string, details: Record<string, unknown> = {}) =>
    recordEvent(tx, {
      tenantId: PLATFORM_TENANT,
      ...ctx,
      action,
      objectType: 'user',
      objectId: user.id,
      details,
    });
  if (user.locked_until && new Date(user.locked_until) > now) {
    const retryAfterSeconds = Math.ceil((new Date(user.locked_until).getTime() - now.getTime()) / 1000);
    await audit('session.login_refused_locked');
    return { ok: false, code: 'LOGIN_LOCKED', delayMs: 0, retryAfterSeconds };
  }
  const fail = async (code: 'INVALID_CREDENTIALS' | 'TOTP_INVALID'): Promise<LoginResult> => {
    const failures = user.failed_logins + 1;
    // Growing delay: 250 ms, 500 ms, 1 s, 2 s… at most 4 s.
    const delayMs = Math.min(250 * 2 ** (failures - 1), 4000);
    if (failures >= policy.loginMaxFailures) {
      const minutes = policy.loginLockMinutes * 2 ** Math.min(user.lock_count, 6);
      const until = new Date(now.getTime() + minutes * 60_000);
      await tx
        .updateTable('users')
        .set({ failed_logins: 0, lock_count: user.lock_count + 1, locked_until: until })
        .where('id', '=', user.id)
        .execute();
      await audit('session.account_locked', { minutes });
      return { ok: false, code: 'LOGIN_LOCKED', delayMs, retryAfterSeconds: minutes * 60 };
    }
    await tx.updateTable('users').set({ failed_logins: failures }).where('id', '=', user.id).execute();
    await audit('session.login_failed', { reason: code });
    return { ok: false, code, delayMs };
  };
  if (!(await verifyPassword(user.password_hash, input.password))) return fail('INVALID_CREDENTIALS');
  if (user.disabled) return { ok: false, code: 'ACCOUNT_DISABLED', delayMs: 0 };
  let totpStep: number | null = null;
  if (user.totp_enabled_at && user.totp_secret) {
    if (!input.totp) return { ok: false, code: 'TOTP_REQUIRED', delayMs: 0 };
    totpStep = checkTotp(user.totp_secret, input.totp, now);
    if (totpStep === null || (user.totp_last_step !== null && totpStep <= Number(user.totp_last_step))) {
      return fail('TOTP_INVALID');
    }
  }
  const memberships = await tx
    .selectFrom('memberships')
    .innerJoin('tenants', 'tenants.id', 'memberships.tenant_id')
    .select(['memberships.roles', 'tenants.status'])
    .where('user_id', '=', user.id)
    .execute();
  // Only `suspended` blocks logins (a user whose every entity is suspended cannot log in).
  if (
    user.platform_roles.length === 0 &&
    memberships.length > 0 &&
    memberships.every((m) => m.status === 'suspended')
  ) {
    await audit('session.login_refused_suspended');
    return { ok: false, code: 'ENTITY_SUSPENDED', delayMs: 0 };
  }
  await tx
    .updateTable('users')
    .set({
      failed_logins: 0,
      lock_count: 0,
      locked_until: null,
      ...(totpStep !== null ? { totp_last_step: totpStep } : {}),
    })
    .where('id', '=', user.id)
    .execute();
  const token = randomBytes(32).toString('base64url');
  await tx
    .insertInto('sessions')
    .values({
      id: sha256(token),
      user_id: user.id,
      mfa_satisfied: totpStep !== null,
      created_at: now,
      last_seen_at: now,
      expires_at: new Date(now.getTime() + policy.sessionMaxHours * 3_600_000),
      ip: ctx.request.ip,
      user_agent: ctx.request.userAgent,
    })
    .execute();
  await audit('session.login', { mfa: totpStep !== null });
  const mustEnrolTotp =
    !user.totp_enabled_at &&
    requiresTotp(
      user.platform_roles,
      memberships.map((m) => m.roles),
    );
  return { ok: true, token, userId: user.id, mustEnrolTotp };
}

type AuthRow = {
  id: string;
  username: string;
  name: string;
  platform_roles: PlatformRole[];
  totp_enabled_at: Date | null;
  memberships: { t: string; r: EntityRole[] }[] | string;
};

/** The user and their memberships in one statement (every request authenticates). */
function authColumns() {
  return [
    'users.id',
    'users.username',
    'users.name',
    'users.platform_roles',
    'users.totp_enabled_at',
    sql<
      AuthRow['memberships']
    >`coalesce((select json_agg(json_build_object('t', m.tenant_id, 'r', m.roles)) from memberships m where m.user_id = users.id), '[]')`.as(
      'memberships',
    ),
  ] as const;
}

function toAuthUser(row: AuthRow, via: 'session' | 'token', sessionId: string | null): AuthUser {
  const list =
    typeof row.memberships === 'string'
      ? (JSON.parse(row.memberships) as { t: string; r: EntityRole[] }[])
      : row.memberships;
  const memberships = new Map(list.map((m) => [m.t, m.r]));
  const totpEnabled = Boolean(row.totp_enabled_at);
  return {
    id: row.id,
    username: row.username,
    name: row.name,
    platformRoles: row.platform_roles,
    memberships,
    totpEnabled,
    // API tokens are a credential of their own, issued by an operator: no TOTP step for them.
    mustEnrolTotp:
      via === 'session' && !totpEnabled && requiresTotp(row.platform_roles, memberships.values()),
    via,
    sessionId,
  };
}

/** What a session cookie resolves to, and what must be written about it (rarely). */
export type SessionCheck = { auth: AuthUser | null; write: 'none' | 'touch' | 'delete'; sessionId: string };

/**
 * The user behind a session cookie, or null when it is unknown, idle too long or expired.
 * A read of the platform tables only; the caller applies `write` in a transaction when needed
 * (the session is touched at most once a minute, to keep requests cheap).
 */
export async function checkSession(
  q: Executor,
  policy: IdentityPolicy,
  token: string,
  now: Date,
): Promise<SessionCheck> {
  const id = sha256(token);
  const row = await q
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([...authColumns(), 'sessions.last_seen_at', 'sessions.expires_at', 'users.disabled'])
    .where('sessions.id', '=', id)
    .executeTakeFirst();
  if (!row) return { auth: null, write: 'none', sessionId: id };
  const idleLimit = new Date(row.last_seen_at).getTime() + policy.sessionIdleMinutes * 60_000;
  if (now.getTime() > idleLimit || now > new Date(row.expires_at))
    return { auth: null, write: 'delete', sessionId: id };
  if (row.disabled) return { auth: null, write: 'none', sessionId: id };
  const touch = now.getTime() - new Date(row.last_seen_at).getTime() > 60_000;
  return { auth: toAuthUser(row as AuthRow, 'session', id), write: touch ? 'touch' : 'none', sessionId: id };
}

export async function applySessionWrite(tx: Tx, check: SessionCheck, now: Date): Promise<void> {
  if (check.write === 'delete') await tx.deleteFrom('sessions').where('id', '=', check.sessionId).execute();
  if (check.write === 'touch')
    await tx.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', check.sessionId).execute();
}

export type TokenCheck = { auth: AuthUser | null; touchTokenId: string | null };

/** The user behind an API token (stored as its SHA-256), or null when unknown or revoked. */
export async function checkToken(q: Executor, token: string, now: Date): Promise<TokenCheck> {
  const row = await q
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .select([...authColumns(), 'api_tokens.id as token_id', 'api_tokens.last_used_at', 'users.disabled'])
    .where('api_tokens.token_hash', '=', sha256(token))
    .where('api_tokens.revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row || row.disabled) return { auth: null, touchTokenId: null };
  const touch = !row.last_used_at || now.getTime() - new Date(row.last_used_at).getTime() > 60_000;
  return { auth: toAuthUser(row as AuthRow, 'token', null), touchTokenId: touch ? row.token_id : null };
}

export async function touchToken(tx: Tx, tokenId: string, now: Date): Promise<void> {
  await tx.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', tokenId).execute();
}

export async function logout(tx: Tx, ctx: PlatformCtx, auth: AuthUser): Promise<void> {
  if (!auth.sessionId) return;
  await tx.deleteFrom('sessions').where('id', '=', auth.sessionId).execute();
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    ...ctx,
    action: 'session.logout',
    objectType: 'user',
    objectId: auth.id,
  });
}

/** Issues an API token for a user; only its hash is stored, the token is shown once. */
export async function createApiToken(
  tx: Tx,
  ctx: PlatformCtx,
  input: { username: string; label?: string },
): Promise<string> {
  const user = await findUserByUsername(tx, input.username);
  if (!user) throw new AppError('USER_NOT_FOUND', `No user ${input.username}`);
  const token = `llg_${randomBytes(32).toString('base64url')}`;
  const id = newId();
  await tx
    .insertInto('api_tokens')
    .values({
      id,
      user_id: user.id,
      token_hash: sha256(token),
      label: input.label ?? null,
      created_at: ctx.clock.now(),
      last_used_at: null,
      revoked_at: null,
    })
    .execute();
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    ...ctx,
    action: 'token.create',
    objectType: 'api_token',
    objectId: id,
    details: { userId: user.id, label: input.label ?? null },
  });
  return token;
}

/** Starts TOTP enrolment: stores a fresh secret (not yet active) and returns it with its otpauth URI. */
export async function startTotpEnrolment(
  tx: Tx,
  ctx: PlatformCtx,
  auth: AuthUser,
): Promise<{ secret: string; uri: string }> {
  if (auth.totpEnabled)
    throw new AppError('TOTP_ALREADY_ENROLLED', 'Two-factor authentication is already active');
  const secret = newTotpSecret();
  await tx.updateTable('users').set({ totp_secret: secret }).where('id', '=', auth.id).execute();
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    ...ctx,
    action: 'totp.enrolment_started',
    objectType: 'user',
    objectId: auth.id,
  });
  return { secret, uri: totpUri(secret, auth.username) };
}

/** Activates TOTP once the user proves the code; the current session counts as two-factor. */
export async function confirmTotpEnrolment(
  tx: Tx,
  ctx: PlatformCtx,
  auth: AuthUser,
  code: string,
): Promise<void> {
  const user = await tx
    .selectFrom('users')
    .selectAll()
    .where('id', '=', auth.id)
    .forUpdate()
    .executeTakeFirstOrThrow();
  if (user.totp_enabled_at)
    throw new AppError('TOTP_ALREADY_ENROLLED', 'Two-factor authentication is already active');
  if (!user.totp_secret) throw new AppError('CONFLICT', 'Start the enrolment first');
  const now = ctx.clock.now();
  const step = checkTotp(user.totp_secret, code, now);
  if (step === null) throw new AppError('TOTP_INVALID', 'The code is not valid');
  await tx
    .updateTable('users')
    .set({ totp_enabled_at: now, totp_last_step: step })
    .where('id', '=', auth.id)
    .execute();
  if (auth.sessionId)
    await tx.updateTable('sessions').set({ mfa_satisfied: true }).where('id', '=', auth.sessionId).execute();
  await recordEvent(tx, {
    tenantId: PLATFORM_TENANT,
    ...ctx,
    action: 'totp.enrolled',
    objectType: 'user',
    objectId: auth.id,
  });
}
