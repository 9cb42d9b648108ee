import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { inEntity } from '../../http/scope.ts';
import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';

/**
 * The entity's members (its users and their roles), for choosing colleagues: the signers of a
 * circuit, the users named on a restricted case file, a position's holder. Every member may read
 * it (a town hall's staff know each other); it shows names, usernames and roles, never contact
 * details, identifiers or credentials. Disabled users are left out.
 */
export type MemberView = {
  id: string;
  username: string;
  name: string;
  roles: string[];
  /** Whether the user confirms signatures with a second factor (TOTP) — a circuit's signers need one outside demo mode. */
  totp: boolean;
};

export async function listMembers(tx: Tx, ctx: Ctx): Promise<MemberView[]> {
  const rows = await tx
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.username', 'u.name', 'm.roles', 'u.totp_enabled_at'])
    .where('m.tenant_id', '=', ctx.tenant.id)
    .where('u.disabled', '=', false)
    .orderBy('u.name')
    .orderBy('u.username')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    username: r.username,
    name: r.name,
    roles: [...r.roles].sort(),
    totp: r.totp_enabled_at !== null,
  }));
}

const Member = Type.Object({
  id: Type.String(),
  username: Type.String(),
  name: Type.String(),
  roles: Type.Array(Type.String()),
  totp: Type.Boolean(),
});

export function registerMemberRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get(
    '/api/v1/entities/:entity/members',
    {
      schema: {
        tags: ['entities'],
        summary: "The entity's members: name, username, roles (any member may read it)",
        params: Type.Object(
          { entity: Type.String({ minLength: 2, maxLength: 100 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Member) },
      },
    },
    async (req: FastifyRequest) =>
      inEntity(deps, req, (req.params as { entity: string }).entity, (tx, ctx) => listMembers(tx, ctx)),
  );
}
