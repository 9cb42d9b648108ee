import { noRequest, systemActor, type Ctx } from '#platform/context.ts';
import type { CitizenLanguage } from '#modules/citizens/citizens.model.ts';
import {
  type CreateRepresentationInput,
  createRepresentation,
  type Representation,
} from '#modules/citizens/representations.service.ts';
import { CITIZEN_COOKIE, createCitizenSession } from '#modules/citizens/sessions.service.ts';
import { ORIGIN, type TestEnv } from './harness.ts';

/** Test citizens with valid NIFs (check letters right; clearly fictitious people). */
export const CITIZENS = {
  anna: { identifier: '00000001R', name: 'Anna Prova Exemple' },
  bernat: { identifier: '00000002W', name: 'Bernat Prova Exemple' },
  carla: { identifier: '00000003A', name: 'Carla Prova Exemple' },
} as const;

/**
 * Opens a seu session for a citizen directly (as a completed OpenID Connect login would) and
 * returns the Cookie header value, `lligall_seu=<token>`.
 */
export async function citizenCookie(
  env: TestEnv,
  c: { identifier: string; name: string; email?: string; language?: CitizenLanguage },
): Promise<string> {
  const token = await env.db.platform((tx) =>
    createCitizenSession(tx, { request: noRequest, clock: env.clock }, env.identity, {
      identifier: c.identifier,
      name: c.name,
      email: c.email ?? null,
      language: c.language ?? null,
      idp: 'test',
    }),
  );
  return `${CITIZEN_COOKIE}=${token}`;
}

/** The headers a same-origin browser logged in to the seu sends (cookie, Origin, Host). */
export async function citizenHeaders(
  env: TestEnv,
  c: { identifier: string; name: string; email?: string; language?: CitizenLanguage },
): Promise<Record<string, string>> {
  return { cookie: await citizenCookie(env, c), origin: ORIGIN, host: 'localhost:80' };
}

/**
 * Records a power of attorney directly through the service (as staff recording it apud acta
 * would, unless `origin` says otherwise). Defaults: general, from today for five years.
 */
export async function grantPower(
  env: TestEnv,
  tenantId: string,
  p: {
    represented: { identifier: string; name: string; email?: string | null };
    representative: { identifier: string; name: string; email?: string | null };
    scope?: CreateRepresentationInput['scope'];
    procedure?: string | null;
    origin?: Exclude<CreateRepresentationInput['origin'], 'notarial'>;
    validFrom?: string;
    validTo?: string;
  },
): Promise<Representation> {
  return env.db.tenant(tenantId, async (tx) => {
    const t = await tx
      .selectFrom('tenants')
      .select(['id', 'dir3', 'slug', 'name', 'status'])
      .where('id', '=', tenantId)
      .executeTakeFirstOrThrow();
    const ctx: Ctx = { tenant: t, actor: systemActor, roles: [], request: noRequest, clock: env.clock };
    return createRepresentation(tx, ctx, {
      represented: p.represented,
      representative: p.representative,
      scope: p.scope ?? 'general',
      procedure: p.procedure ?? null,
      origin: p.origin ?? 'apud_acta',
      ...(p.validFrom ? { validFrom: p.validFrom } : {}),
      ...(p.validTo ? { validTo: p.validTo } : {}),
    });
  });
}
