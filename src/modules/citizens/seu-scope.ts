import type { FastifyRequest } from 'fastify';
import type { AppDeps } from '#src/app.ts';
import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { requestMeta } from '../../http/scope.ts';
import type { Acting, Citizen } from './citizens.model.ts';
import { findPowerInForce, personIdentifier } from './representations.service.ts';
import { citizenActor } from './sessions.service.ts';

/**
 * Whether an entity's seu is public (issue 6): from `live` on. A `pilot` entity works in Lligall
 * but its seu is not open yet, except the demo entity of demo mode (never in production), which
 * opens it so the quick start shows a seu.
 */
export function hasPublicSeu(tenant: { status: string; demo: boolean }): boolean {
  return tenant.status === 'live' || (tenant.status === 'pilot' && tenant.demo);
}

export type SeuOptions = {
  /** The represented person's NIF/NIE when the citizen acts for someone else. */
  onBehalfOf?: string | undefined;
  /**
   * The procedure the act belongs to. A general power covers every procedure, a procedure power
   * only its own; with no procedure named only a general power covers (e.g. the whole folder).
   */
  procedure?: string | undefined;
  /** Refuse with 401 CITIZEN_LOGIN_REQUIRED when nobody is logged in (otherwise acting is null). */
  requireCitizen: boolean;
};

/**
 * What an act done in the seu records about who did it, for the audit details and for the rows
 * that store it: the citizen, and when acting under a power, the power and the represented person.
 */
export type OnBehalfOf = { identifier: string; name: string; representationId: string };

export function onBehalfOf(acting: Acting | null): OnBehalfOf | null {
  if (!acting?.representation) return null;
  return {
    identifier: acting.subject.identifier,
    name: acting.subject.name,
    representationId: acting.representation.id,
  };
}

/** Audit details every seu act adds: `{ citizen, onBehalfOf }` (onBehalfOf null when acting for oneself). */
export function actingDetails(acting: Acting | null): {
  citizen: string | null;
  onBehalfOf: OnBehalfOf | null;
} {
  return { citizen: acting?.citizen.identifier ?? null, onBehalfOf: onBehalfOf(acting) };
}

/**
 * Runs `fn` in one tenant transaction of the entity whose seu is at `slug`, as the logged-in
 * citizen (actor kind 'citizen': no entity or platform roles). Resolves on whose behalf they act:
 * themself, or — with `onBehalfOf` — the represented person under a power in force today
 * (Europe/Madrid, ctx.clock) whose representative is the citizen and whose scope covers
 * `procedure`. No such power → NOT_FOUND (404, no hint whether the person or a power exists).
 * An unknown entity, or one not in pilot or live (suspended, only listed…) → ENTITY_NOT_FOUND. Under a power the actor's audit label says
 * so ("citizen:<NIF> for:<NIF>"); put `actingDetails(acting)` in the audit details of every act.
 */
export async function inSeu<T>(
  deps: AppDeps,
  req: FastifyRequest,
  slug: string,
  opts: SeuOptions,
  fn: (tx: Tx, ctx: Ctx, acting: Acting | null) => Promise<T>,
): Promise<T> {
  const citizen: Citizen | null = req.citizen ?? null;
  if (!citizen && (opts.requireCitizen || opts.onBehalfOf))
    throw new AppError('CITIZEN_LOGIN_REQUIRED', 'Log in to the seu first');
  if (!/^[a-z0-9][a-z0-9-]{0,99}$/.test(slug))
    throw new AppError('ENTITY_NOT_FOUND', `Entity ${slug} not found`);
  let represented: string | null = null;
  if (citizen && opts.onBehalfOf !== undefined && opts.onBehalfOf !== '') {
    try {
      represented = personIdentifier(opts.onBehalfOf);
    } catch {
      throw new AppError('NOT_FOUND', 'Nothing to act on for that person');
    }
    if (represented === citizen.identifier) represented = null;
  }
  return deps.db.tenantByRef(
    slug,
    (tenant) => {
      if (tenant.slug !== slug || !hasPublicSeu(tenant))
        throw new AppError('ENTITY_NOT_FOUND', `Entity ${slug} not found`);
    },
    async (tx, tenant) => {
      const base: Ctx = {
        tenant: {
          id: tenant.id,
          dir3: tenant.dir3,
          slug: tenant.slug,
          name: tenant.name,
          status: tenant.status,
        },
        actor: citizen
          ? citizenActor(citizen)
          : { kind: 'citizen', id: null, label: 'anonymous', platformRoles: [] },
        roles: [],
        request: requestMeta(req),
        clock: deps.clock,
      };
      if (!citizen) return fn(tx, base, null);
      if (!represented) {
        const acting: Acting = {
          citizen,
          subject: { identifier: citizen.identifier, name: citizen.name },
          representation: null,
        };
        return fn(tx, base, acting);
      }
      const power = await findPowerInForce(tx, base, {
        representative: citizen.identifier,
        represented,
        procedure: opts.procedure,
      });
      if (!power) throw new AppError('NOT_FOUND', 'Nothing to act on for that person');
      const acting: Acting = {
        citizen,
        subject: { identifier: power.represented_identifier, name: power.represented_name },
        representation: { id: power.id, scope: power.scope, procedure: power.procedure },
      };
      return fn(tx, { ...base, actor: citizenActor(citizen, power.represented_identifier) }, acting);
    },
  );
}
