import { createHash, randomBytes } from 'node:crypto';
import { asTenant, type Tx } from '#platform/db/database.ts';
import { PLATFORM_TENANT } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import { newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import type { PlatformCtx } from './identity.service.ts';
import { hashPassword, passwordProblem } from './passwords.ts';

/**
 * One-time invitation links (issue 6): a new user (an entity's first administrator) sets a
 * password through a link sent by e-mail, then logs in and, being an administrator, enrols TOTP
 * (ENS: the login sends them to /app/totp). Only the SHA-256 of the token is stored
 * (user_invitations.token_hash): a copy of the database opens no account.
 */
export const INVITATION_VALID_DAYS = 7;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** A token is 32 random bytes, base64url (43 characters). */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Where a user stands with invitations: `password_set` (a link was used), `pending` (an unused
 * link still in force), `expired` (links sent, all unused and out of time), `none` (never invited:
 * the user was created with a password).
 */
export type InvitationState = 'password_set' | 'pending' | 'expired' | 'none';

export async function invitationState(tx: Tx, userId: string, now: Date): Promise<InvitationState> {
  const rows = await tx
    .selectFrom('user_invitations')
    .select(['expires_at', 'used_at'])
    .where('user_id', '=', userId)
    .execute();
  if (rows.some((r) => r.used_at !== null)) return 'password_set';
  if (rows.some((r) => new Date(r.expires_at) > now)) return 'pending';
  return rows.length > 0 ? 'expired' : 'none';
}

/**
 * A new link for a user, valid INVITATION_VALID_DAYS days; returns the token (never stored).
 * Audited on the platform chain and, when for an entity, on the entity's own chain.
 */
export async function createInvitation(
  tx: Tx,
  ctx: PlatformCtx,
  input: { userId: string; entityId: string | null },
): Promise<{ id: string; token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  const now = ctx.clock.now();
  const expiresAt = new Date(now.getTime() + INVITATION_VALID_DAYS * 86_400_000);
  const id = newId();
  await tx
    .insertInto('user_invitations')
    .values({
      id,
      user_id: input.userId,
      entity_id: input.entityId,
      token_hash: sha256(token),
      created_at: now,
      expires_at: expiresAt,
      used_at: null,
    })
    .execute();
  const event = {
    ...ctx,
    action: 'invitation.create',
    objectType: 'user',
    objectId: input.userId,
    details: { invitationId: id, entityId: input.entityId, expiresAt: expiresAt.toISOString() },
  };
  await recordEvent(tx, { tenantId: PLATFORM_TENANT, ...event });
  const entityId = input.entityId;
  if (entityId) await asTenant(tx, entityId, () => recordEvent(tx, { tenantId: entityId, ...event }));
  return { id, token, expiresAt };
}

export type InvitationView = { username: string; name: string; entityName: string | null };

/** The invitation a token opens, locked when `lock`; INVITATION_INVALID if unknown, used or expired. */
async function openInvitation(tx: Tx, token: string, now: Date, lock: boolean) {
  if (!TOKEN.test(token)) throw invalid();
  let q = tx
    .selectFrom('user_invitations as i')
    .innerJoin('users as u', 'u.id', 'i.user_id')
    .leftJoin('tenants as t', 't.id', 'i.entity_id')
    .select([
      'i.id',
      'i.user_id',
      'i.entity_id',
      'i.expires_at',
      'i.used_at',
      'u.username',
      'u.name',
      'u.disabled',
      't.name as entity_name',
    ])
    .where('i.token_hash', '=', sha256(token));
  if (lock) q = q.forUpdate('i');
  const row = await q.executeTakeFirst();
  if (!row || row.used_at !== null || new Date(row.expires_at) <= now || row.disabled) throw invalid();
  return row;
}

function invalid(): AppError {
  return new AppError(
    'INVITATION_INVALID',
    'This invitation link is not valid: it was used, it expired, or it does not exist',
  );
}

/** What the invitation page shows before the password is chosen (public; not audited: it changes nothing). */
export async function readInvitation(tx: Tx, token: string, now: Date): Promise<InvitationView> {
  const row = await openInvitation(tx, token, now, false);
  return { username: row.username, name: row.name, entityName: row.entity_name };
}

/**
 * Sets the user's password through the link and spends it (and any other open link of the same
 * user: a password exists now). The password follows passwordProblem (VALIDATION_FAILED). Audited
 * as the user, on the platform chain and the entity's.
 */
export async function acceptInvitation(
  tx: Tx,
  ctx: Omit<PlatformCtx, 'actor'>,
  token: string,
  password: string,
): Promise<{ username: string }> {
  const now = ctx.clock.now();
  const row = await openInvitation(tx, token, now, true);
  const problem = passwordProblem(password);
  if (problem) throw new AppError('VALIDATION_FAILED', problem);
  await tx
    .updateTable('users')
    .set({ password_hash: await hashPassword(password), failed_logins: 0, lock_count: 0, locked_until: null })
    .where('id', '=', row.user_id)
    .execute();
  await tx
    .updateTable('user_invitations')
    .set({ used_at: now })
    .where('user_id', '=', row.user_id)
    .where('used_at', 'is', null)
    .execute();
  const event = {
    ...ctx,
    actor: { kind: 'user' as const, id: row.user_id, label: row.username, platformRoles: [] },
    action: 'invitation.accept',
    objectType: 'user',
    objectId: row.user_id,
    details: { invitationId: row.id, entityId: row.entity_id },
  };
  await recordEvent(tx, { tenantId: PLATFORM_TENANT, ...event });
  const entityId = row.entity_id;
  if (entityId) await asTenant(tx, entityId, () => recordEvent(tx, { tenantId: entityId, ...event }));
  return { username: row.username };
}
