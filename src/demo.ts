import { randomBytes } from 'node:crypto';
import type { AppDeps } from './app.ts';
import { systemActor, noRequest } from '#platform/context.ts';
import { newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { createUser, grantMembership } from '#modules/identity/identity.service.ts';
import { totpCode, newTotpSecret, totpUri } from '#modules/identity/totp.ts';
import { createTenant, findTenantByRef, importProvince } from '#modules/tenancy/tenancy.service.ts';
import { updateTenant } from '#modules/tenancy/tenancy.repository.ts';
import { ensureEntitySeal } from '#modules/seals/seals.service.ts';
import { DEMO_CITIZENS, demoCitizenName } from '#modules/citizens/demo-citizens.ts';
import { createRepresentation } from '#modules/citizens/representations.service.ts';

/** The demo entity: a real municipality from the shipped data (Abella de la Conca, Pallars Jussà). */
export const DEMO_ENTITY_DIR3 = 'L01250019';
/** The platform operator: DIR3 of the Diputació de Lleida (L02 + 0000 + province 25, as DOMAIN.md derives it). */
export const DIPUTACIO_DIR3 = 'L02000025';

export type DemoCredentials = {
  username: string;
  password: string;
  role: string;
  totpSecret?: string;
  totpUri?: string;
}[];

/**
 * Seeds demo mode, once: the province's municipalities, the Diputació, the demo entity with its
 * units, a demo secretary (admin, with TOTP enrolled) and a demo case handler. Returns the
 * credentials to print, or null when already seeded. Never called when LLIGALL_ENV=production.
 */
export async function seedDemo(deps: AppDeps): Promise<DemoCredentials | null> {
  if (deps.config.env === 'production') throw new Error('demo seed refused in production');
  const ctx = { actor: systemActor, request: noRequest, clock: deps.clock };
  return deps.db.platform(async (tx) => {
    const seeded = await tx.selectFrom('users').select('id').where('demo', '=', true).executeTakeFirst();
    if (seeded) return null;
    await importProvince(tx, ctx);
    if (!(await findTenantByRef(tx, DIPUTACIO_DIR3))) {
      await createTenant(tx, ctx, {
        kind: 'diputacio',
        name: 'Diputació de Lleida',
        dir3: DIPUTACIO_DIR3,
        status: 'live',
      });
    }
    const entity = (await findTenantByRef(tx, DEMO_ENTITY_DIR3))!;
    await updateTenant(tx, entity.id, { status: 'pilot' }, deps.clock.now());
    await tx.updateTable('tenants').set({ demo: true }).where('id', '=', entity.id).execute();
    const password = () => randomBytes(9).toString('base64url');
    const secretary = { username: 'secretaria', password: password(), totpSecret: newTotpSecret() };
    const handler = { username: 'tramitador', password: password() };
    // The Diputació's console (issue 6): an operator of the roll-out and a support technician,
    // both with TOTP (platform roles must have it, ENS).
    const operator = { username: 'operador', password: password(), totpSecret: newTotpSecret() };
    const support = { username: 'suport', password: password(), totpSecret: newTotpSecret() };
    const s = await createUser(tx, ctx, { ...secretary, name: 'Secretària (demo)', demo: true });
    const h = await createUser(tx, ctx, { ...handler, name: 'Tramitador (demo)', demo: true });
    await grantMembership(tx, ctx, {
      userId: s.id,
      tenantId: entity.id,
      roles: ['admin', 'handler', 'registrar', 'signer'],
    });
    await grantMembership(tx, ctx, { userId: h.id, tenantId: entity.id, roles: ['handler'] });
    await createUser(tx, ctx, {
      ...operator,
      name: 'Operadora de la Diputació (demo)',
      platformRoles: ['operator'],
      demo: true,
    });
    await createUser(tx, ctx, {
      ...support,
      name: 'Tècnic de suport (demo)',
      platformRoles: ['support'],
      demo: true,
    });
    // Units of the demo entity (no DIR3 codes: those are not in the shipped data; an admin enters them).
    return [
      {
        username: secretary.username,
        password: secretary.password,
        role: 'admin (secretary)',
        totpSecret: secretary.totpSecret,
        totpUri: totpUri(secretary.totpSecret, secretary.username),
      },
      { username: handler.username, password: handler.password, role: 'handler' },
      ...(
        [
          [operator, 'console operator'],
          [support, 'console support'],
        ] as const
      ).map(([u, role]) => ({
        username: u.username,
        password: u.password,
        role,
        totpSecret: u.totpSecret,
        totpUri: totpUri(u.totpSecret, u.username),
      })),
    ];
  });
}

/** Units of the demo entity, created in its own tenant transaction. */
export async function seedDemoUnits(deps: AppDeps): Promise<void> {
  const entity = await deps.db.platform((tx) => findTenantByRef(tx, DEMO_ENTITY_DIR3));
  if (!entity) return;
  await ensureEntitySeal(deps, entity.id); // the demo seal (installation CA; not qualified)
  await deps.db.tenant(entity.id, async (tx) => {
    const any = await tx.selectFrom('units').select('id').executeTakeFirst();
    if (any) return;
    const now = deps.clock.now();
    for (const [name, kind] of [
      ['Alcaldia', 'organ'],
      ['Secretaria-Intervenció', 'unit'],
      ['Oficina de Registre General', 'office'],
    ] as const) {
      const id = newId();
      await tx
        .insertInto('units')
        .values({ tenant_id: entity.id, id, name, dir3: null, kind, created_at: now })
        .execute();
      await recordEvent(tx, {
        tenantId: entity.id,
        actor: systemActor,
        request: noRequest,
        clock: deps.clock,
        action: 'unit.create',
        objectType: 'unit',
        objectId: id,
        details: { name, kind },
      });
    }
    // A power of attorney between two demo citizens, so the seu shows representation at once.
    const [marta, jordi] = DEMO_CITIZENS;
    if (marta && jordi)
      await createRepresentation(
        tx,
        {
          tenant: {
            id: entity.id,
            dir3: entity.dir3,
            slug: entity.slug,
            name: entity.name,
            status: entity.status,
          },
          actor: systemActor,
          roles: [],
          request: noRequest,
          clock: deps.clock,
        },
        {
          represented: { identifier: marta.identifier, name: demoCitizenName(marta), email: marta.email },
          representative: { identifier: jordi.identifier, name: demoCitizenName(jordi), email: jordi.email },
          scope: 'general',
          origin: 'apud_acta',
          notes: 'Demo',
        },
      );
  });
}

export function formatCredentials(creds: DemoCredentials, baseUrl: string): string {
  const lines = [
    '',
    '================ Lligall demo ================',
    `Web app: ${baseUrl}/app   (entity: Ajuntament d'Abella de la Conca, ${DEMO_ENTITY_DIR3})`,
    `Console of the Diputació: ${baseUrl}/console   (operator and support users below)`,
    'Demo users (shown once; demonstration only, not for real data):',
  ];
  for (const c of creds) {
    lines.push(`  ${c.role.padEnd(18)} user: ${c.username}   password: ${c.password}`);
    if (c.totpSecret)
      lines.push(
        `  ${''.padEnd(18)} TOTP secret: ${c.totpSecret}   (${c.totpUri}) current code: ${totpCode(c.totpSecret, new Date())}`,
      );
  }
  lines.push(
    `Seu: ${baseUrl}/seu/<slug>  — demo citizens at its login (fictitious): ${DEMO_CITIZENS.map((c) => `${demoCitizenName(c)} (${c.identifier})`).join(', ')}`,
  );
  lines.push('==============================================', '');
  return lines.join('\n');
}
