import type { Migration, MigrationProvider } from 'kysely/migration';
import { core } from './0001-core.ts';
import { calendar } from './0003-calendar.ts';
import { expedientSearch } from './0004-expedient-search.ts';
import { seals } from './0005-seals.ts';
import { registry } from './0006-registry.ts';
import { receipts } from './0007-receipts.ts';
import { desk } from './0008-desk.ts';
import { mux } from './0009-mux.ts';
import { positions } from './0010-positions.ts';
import { trust } from './0011-trust.ts';
import { csc } from './0012-csc.ts';
import { circuits } from './0013-circuits.ts';
import { resolutions } from './0014-resolutions.ts';
import { resolutionsBook } from './0015-resolutions-book.ts';
import { detachedSignatures } from './0016-detached-signatures.ts';
import { signatureReminders } from './0017-signature-reminders.ts';
import { citizensMigration } from './0018-citizens.ts';
import { mailMigration } from './0019-mail.ts';
import { notificationsMigration } from './0020-notifications.ts';
import { boardMigration } from './0021-board.ts';
import { seuMigration } from './0022-seu.ts';
import { rolloutMigration } from './0023-rollout.ts';
import { calendarVersionMigration } from './0024-calendar-version.ts';
import { receiptsDueMigration } from './0025-receipts-due.ts';
import { cacheVersionsMigration } from './0026-cache-versions.ts';

export type MigrationContext = { appRole: string };

/** Every migration, in order. Names never change once released. */
export function migrationProvider(ctx: MigrationContext): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return {
        '0001-core': core(ctx),
        '0003-calendar': calendar(ctx),
        '0004-expedient-search': expedientSearch(ctx),
        '0005-seals': seals(ctx),
        '0006-registry': registry(ctx),
        '0007-receipts': receipts(ctx),
        '0008-desk': desk(ctx),
        '0009-mux': mux(ctx),
        '0010-positions': positions(ctx),
        '0011-trust': trust(ctx),
        '0012-csc': csc(ctx),
        '0013-circuits': circuits(ctx),
        '0014-resolutions': resolutions(ctx),
        '0015-resolutions-book': resolutionsBook(ctx),
        '0016-detached-signatures': detachedSignatures(ctx),
        '0017-signature-reminders': signatureReminders(ctx),
        '0018-citizens': citizensMigration(ctx),
        '0019-mail': mailMigration(ctx),
        '0020-notifications': notificationsMigration(ctx),
        '0021-board': boardMigration(ctx),
        '0022-seu': seuMigration(ctx),
        '0023-rollout': rolloutMigration(ctx),
        '0024-calendar-version': calendarVersionMigration(ctx),
        '0025-receipts-due': receiptsDueMigration(ctx),
        '0026-cache-versions': cacheVersionsMigration(ctx),
      };
    },
  };
}
