import type { FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app.ts';
import { requestMeta, requireUser } from '../../http/scope.ts';
import type { Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import type { ConsoleRole } from './rollout.model.ts';
import type { PlatformCtx } from './lifecycle.service.ts';

/**
 * Runs `fn` in one platform transaction as a console user (the Diputació's staff): a logged-in
 * user (TOTP enrolled, as every platform role must) holding one of `roles`. Anyone else gets
 * 404 NOT_FOUND, as for a route that does not exist (the console is not advertised to entity staff).
 */
export async function inConsole<T>(
  deps: AppDeps,
  req: FastifyRequest,
  roles: readonly ConsoleRole[],
  fn: (tx: Tx, ctx: PlatformCtx) => Promise<T>,
): Promise<T> {
  const user = requireUser(req);
  if (!roles.some((r) => user.platformRoles.includes(r))) throw new AppError('NOT_FOUND', 'Not found');
  return deps.db.platform((tx) =>
    fn(tx, {
      actor: { kind: 'user', id: user.id, label: user.username, platformRoles: user.platformRoles },
      request: requestMeta(req),
      clock: deps.clock,
    }),
  );
}
