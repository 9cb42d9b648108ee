import type { AppDeps } from '#src/app.ts';
import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';

/**
 * E-mails the parties of a power whose address is known when it is granted or revoked. The mail
 * module (src/platform/mail) is not there yet: nothing is sent for now.
 */
export async function notifyRepresentation(
  _deps: AppDeps,
  _tx: Tx,
  _ctx: Ctx,
  _representationId: string,
  _event: 'granted' | 'revoked',
): Promise<void> {}
