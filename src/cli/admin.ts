import fs from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { openApp, type AppDeps } from '../app.ts';
import { cliActor, noRequest } from '#platform/context.ts';
import type { EntityKind, EntityRole, PlatformRole } from '#platform/db/schema.ts';
import { AppError } from '#platform/errors.ts';
import {
  createApiToken,
  createUser,
  ENTITY_ROLES,
  grantMembership,
  PLATFORM_ROLES,
} from '#modules/identity/identity.service.ts';
import {
  createTenant,
  getTenantOrThrow,
  importProvince,
  listTenants,
} from '#modules/tenancy/tenancy.service.ts';
import { createKeyFile } from '#modules/audit/audit.checkpoint.ts';
import { setUserNif } from '#modules/identity/user-nif.ts';
import type { Out } from './main.ts';
import { runningApp } from './relay.ts';

/** Opens the app for one CLI command and closes it after (or uses the running server's, when relayed). */
export async function withApp<T>(fn: (deps: AppDeps) => Promise<T>): Promise<T> {
  const running = runningApp.getStore();
  if (running) return fn(running); // relayed into a running server: use its open database
  const deps = await openApp(loadConfig());
  try {
    return await fn(deps);
  } finally {
    await deps.db.close();
  }
}

const cli = (deps: AppDeps) => ({ actor: cliActor, request: noRequest, clock: deps.clock });
const collect = (v: string, prev: string[]) => [...prev, v];

export function registerAdminCommands(program: Command, out: Out): void {
  program
    .command('migrate')
    .description('Apply pending database migrations (as the owner role, under an advisory lock)')
    .action(async () => {
      const config = loadConfig();
      const deps = await openApp(config, { migrate: true });
      await deps.db.close();
      out.log('Database schema is up to date.');
    });

  const tenant = program.command('tenant').description('Entities (tenants)');
  tenant
    .command('import-province')
    .description("Create or update the province's 231 municipalities from the shipped data (idempotent)")
    .action(() =>
      withApp(async (deps) => {
        const r = await deps.db.platform((tx) => importProvince(tx, cli(deps)));
        out.log(`municipalities: ${r.created} created, ${r.updated} updated, ${r.unchanged} unchanged`);
      }),
    );
  tenant
    .command('create')
    .description('Create an entity')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--dir3 <code>', 'DIR3 code (9 characters)')
    .option('--kind <kind>', 'ajuntament | emd | consell_comarcal | diputacio', 'ajuntament')
    .option('--ine <code>', 'INE municipality code (5 digits)')
    .option('--parent <ref>', "an EMD's municipality (DIR3 or slug)")
    .option('--comarca <name>')
    .option('--population <n>', 'population (2025)')
    .option('--language <lang>', 'ca | oc-aranes', 'ca')
    .option(
      '--status <status>',
      'listed | requested | scheduled | provisioning | pilot | live | suspended',
      'listed',
    )
    .action((o) =>
      withApp(async (deps) => {
        if (!['ajuntament', 'emd', 'consell_comarcal', 'diputacio'].includes(o.kind)) {
          throw new AppError(
            'VALIDATION_FAILED',
            `--kind must be ajuntament, emd, consell_comarcal or diputacio`,
          );
        }
        const t = await deps.db.platform((tx) =>
          createTenant(tx, cli(deps), {
            kind: o.kind as EntityKind,
            name: o.name,
            dir3: o.dir3,
            ine: o.ine ?? null,
            parentRef: o.parent ?? null,
            comarca: o.comarca ?? null,
            population: o.population ? Number(o.population) : null,
            language: o.language,
            status: o.status,
          }),
        );
        out.log(`${t.dir3}\t${t.slug}\t${t.id}`);
      }),
    );
  tenant
    .command('list')
    .description('List entities')
    .option('--status <status>', 'only this status')
    .action((o) =>
      withApp(async (deps) => {
        const all = await deps.db.platform((tx) => listTenants(tx));
        for (const t of all.filter((x) => !o.status || x.status === o.status)) {
          out.log([t.dir3, t.slug, t.kind, t.status, t.population ?? '', t.name].join('\t'));
        }
      }),
    );

  const user = program.command('user').description('Users');
  user
    .command('create')
    .description('Create a user, optionally with roles in an entity')
    .requiredOption('--username <u>')
    .requiredOption('--password <p>', 'at least 10 characters')
    .option('--name <name>')
    .option('--email <email>')
    .option('--entity <ref>', 'entity (DIR3 or slug) for --role')
    .option('--role <role>', `entity role (${ENTITY_ROLES.join(', ')}); repeatable`, collect, [])
    .option('--platform-role <role>', `platform role (${PLATFORM_ROLES.join(', ')}); repeatable`, collect, [])
    .action((o) =>
      withApp(async (deps) => {
        const roles = o.role as string[];
        const platformRoles = o.platformRole as string[];
        const bad = roles.filter((r) => !(ENTITY_ROLES as string[]).includes(r));
        if (bad.length)
          throw new AppError(
            'VALIDATION_FAILED',
            `Unknown role ${bad.join(', ')}; roles: ${ENTITY_ROLES.join(', ')}`,
          );
        const badP = platformRoles.filter((r) => !(PLATFORM_ROLES as string[]).includes(r));
        if (badP.length) throw new AppError('VALIDATION_FAILED', `Unknown platform role ${badP.join(', ')}`);
        if (roles.length && !o.entity) throw new AppError('VALIDATION_FAILED', '--role needs --entity');
        const id = await deps.db.platform(async (tx) => {
          const created = await createUser(tx, cli(deps), {
            username: o.username,
            password: o.password,
            name: o.name,
            email: o.email,
            platformRoles: platformRoles as PlatformRole[],
          });
          if (o.entity) {
            const t = await getTenantOrThrow(tx, o.entity);
            await grantMembership(tx, cli(deps), {
              userId: created.id,
              tenantId: t.id,
              roles: (roles.length ? roles : ['viewer']) as EntityRole[],
            });
          }
          return created.id;
        });
        out.log(id);
      }),
    );
  user
    .command('grant')
    .description('Give an existing user roles in an entity')
    .requiredOption('--username <u>')
    .requiredOption('--entity <ref>')
    .requiredOption('--role <role>', 'repeatable', collect, [])
    .action((o) =>
      withApp(async (deps) => {
        await deps.db.platform(async (tx) => {
          const u = await tx
            .selectFrom('users')
            .select('id')
            .where('username', '=', o.username)
            .executeTakeFirst();
          if (!u) throw new AppError('USER_NOT_FOUND', `No user ${o.username}`);
          const t = await getTenantOrThrow(tx, o.entity);
          await grantMembership(tx, cli(deps), {
            userId: u.id,
            tenantId: t.id,
            roles: o.role as EntityRole[],
          });
        });
        out.log('ok');
      }),
    );

  user
    .command('set-nif')
    .description(
      "Record a user's NIF/NIE (what the certificate of a signature they upload must carry); --clear removes it",
    )
    .requiredOption('--username <u>')
    .option('--nif <nif>')
    .option('--clear', 'remove the NIF')
    .action((o) =>
      withApp(async (deps) => {
        if (!o.nif === !o.clear) throw new AppError('VALIDATION_FAILED', 'Give --nif or --clear');
        const r = await deps.db.platform((tx) =>
          setUserNif(tx, cli(deps), o.username, o.clear ? null : o.nif),
        );
        out.log(r.nif ?? '(none)');
      }),
    );

  program
    .command('key')
    .description('The master key (seals audit checkpoints, encrypts private keys)')
    .command('init')
    .description(
      'Create the master key file named by LLIGALL_MASTER_KEY_FILE (32 random bytes, owner-only); never overwrites one',
    )
    .action(() => {
      const config = loadConfig();
      if (fs.existsSync(config.masterKeyFile))
        throw new AppError('CONFLICT', `The master key file ${config.masterKeyFile} exists already`);
      createKeyFile(config.masterKeyFile);
      out.log(`Created ${config.masterKeyFile}. Back it up apart from the data and its backups.`);
    });

  program
    .command('token')
    .description('API tokens')
    .command('create')
    .description('Issue an API bearer token for a user; prints only the token (shown once, stored hashed)')
    .requiredOption('--user <username>')
    .option('--label <label>')
    .action((o) =>
      withApp(async (deps) => {
        const token = await deps.db.platform((tx) =>
          createApiToken(tx, cli(deps), { username: o.user, label: o.label }),
        );
        out.log(token);
      }),
    );
}
