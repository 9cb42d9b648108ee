import { sql } from 'kysely';
import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { newId } from '#platform/ids.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { addDays, assertCivilDate, madridDateOf, madridStartOfDay } from '#modules/calendar/civil-date.ts';
import { assertManageBook, assertReadBook } from './book.service.ts';
import { extractsOf } from './extracts.service.ts';

/**
 * The entity's Ple sessions and the decrees reported to the next ordinary one (ROF art. 42: the
 * mayor reports the resolutions adopted since the last ordinary session). A session is recorded
 * with its date and kind; the list runs from the day after the last ordinary session held on or
 * before today (Europe/Madrid) — or from a given date — up to now (or a given date, included),
 * across years, in the order of the decrees' dates.
 */

export type PleKind = 'ordinary' | 'extraordinary';

export type PleSessionView = {
  id: string;
  heldOn: string;
  kind: PleKind;
  reference: string | null;
  createdAt: string;
};

const heldOn = sql<string>`to_char(held_on, 'YYYY-MM-DD')`;

export async function recordPleSession(
  tx: Tx,
  ctx: Ctx,
  input: { heldOn: string; kind: PleKind; reference?: string | null },
): Promise<PleSessionView> {
  await assertManageBook(tx, ctx);
  const day = assertCivilDate(input.heldOn, 'heldOn');
  const id = newId();
  const now = ctx.clock.now();
  const reference = input.reference?.trim() || null;
  await tx
    .insertInto('ple_sessions')
    .values({
      tenant_id: ctx.tenant.id,
      id,
      held_on: day,
      kind: input.kind,
      reference,
      created_by: ctx.actor.id!,
      created_at: now,
    })
    .execute();
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'ple_session.create',
    objectType: 'ple_session',
    objectId: id,
    details: { heldOn: day, kind: input.kind, reference },
  });
  return { id, heldOn: day, kind: input.kind, reference, createdAt: now.toISOString() };
}

export async function listPleSessions(tx: Tx, ctx: Ctx): Promise<PleSessionView[]> {
  assertReadBook(ctx);
  const rows = await tx
    .selectFrom('ple_sessions')
    .select(['id', heldOn.as('held_on'), 'kind', 'reference', 'created_at'])
    .where('tenant_id', '=', ctx.tenant.id)
    .orderBy('held_on', 'desc')
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    heldOn: r.held_on,
    kind: r.kind,
    reference: r.reference,
    createdAt: new Date(r.created_at).toISOString(),
  }));
}

export type PleDecree = {
  number: string;
  signedAt: string;
  title: string;
  summary: string;
  position: string | null;
  bySubstitution: boolean;
  expedientId: string;
  expedientNumber: string;
  documentId: string;
  transcribed: boolean;
  extract: { sentAt: string | null; due: string } | null;
};

export type PleList = {
  since: string;
  until: string;
  lastOrdinarySession: PleSessionView | null;
  decrees: PleDecree[];
};

/**
 * The decrees to report to the Ple: numbered from `since` (a date, included) — by default the day
 * after the last ordinary session held on or before today — to `until` (included; default today).
 */
export async function decreesForPle(
  tx: Tx,
  ctx: Ctx,
  q: { since?: string | undefined; until?: string | undefined },
): Promise<PleList> {
  assertReadBook(ctx);
  const today = madridDateOf(ctx.clock.now());
  const until = q.until ? assertCivilDate(q.until, 'until') : today;
  const last = await tx
    .selectFrom('ple_sessions')
    .select(['id', heldOn.as('held_on'), 'kind', 'reference', 'created_at'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('kind', '=', 'ordinary')
    .where('held_on', '<=', today)
    .orderBy('held_on', 'desc')
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  let since: string;
  if (q.since) since = assertCivilDate(q.since, 'since');
  else if (last) since = addDays(last.held_on, 1);
  else
    throw new AppError(
      'PLE_SESSION_NONE',
      'No ordinary Ple session is recorded: record the last one, or give the date to list from (since)',
    );
  if (since > until) throw new AppError('VALIDATION_FAILED', 'since is after until');
  const rows = await tx
    .selectFrom('resolutions as r')
    .innerJoin('expedients as e', (j) =>
      j.onRef('e.tenant_id', '=', 'r.tenant_id').onRef('e.id', '=', 'r.expedient_id'),
    )
    .select([
      'r.number',
      'r.decided_at',
      'r.title',
      'r.summary',
      'r.position_title',
      'r.by_substitution',
      'r.expedient_id',
      'e.number as expedient_number',
      'r.document_id',
      'r.transcribed_at',
    ])
    .where('r.tenant_id', '=', ctx.tenant.id)
    .where('r.number', 'is not', null)
    .where('r.decided_at', '>=', madridStartOfDay(since))
    .where('r.decided_at', '<', madridStartOfDay(addDays(until, 1)))
    .orderBy('r.decided_at')
    .orderBy('r.year')
    .orderBy('r.seq')
    .execute();
  const extracts = await extractsOf(
    tx,
    ctx,
    rows.map((r) => r.document_id),
  );
  return {
    since,
    until,
    lastOrdinarySession: last
      ? {
          id: last.id,
          heldOn: last.held_on,
          kind: last.kind,
          reference: last.reference,
          createdAt: new Date(last.created_at).toISOString(),
        }
      : null,
    decrees: rows.map((r) => {
      const ex = extracts.get(r.document_id);
      return {
        number: r.number!,
        signedAt: new Date(r.decided_at!).toISOString(),
        title: r.title,
        summary: r.summary,
        position: r.position_title,
        bySubstitution: r.by_substitution ?? false,
        expedientId: r.expedient_id,
        expedientNumber: r.expedient_number,
        documentId: r.document_id,
        transcribed: r.transcribed_at !== null,
        extract:
          ex && ex.length > 0
            ? {
                sentAt: ex.every((x) => x.sentAt)
                  ? ex
                      .map((x) => x.sentAt!)
                      .sort()
                      .at(-1)!
                  : null,
                due: ex[0]!.due,
              }
            : null,
      };
    }),
  };
}
