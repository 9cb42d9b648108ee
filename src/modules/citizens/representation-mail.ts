import type { AppDeps } from '#src/app.ts';
import type { Ctx } from '#platform/context.ts';
import type { Tx } from '#platform/db/database.ts';
import { enqueueMail, type MailLanguage } from '#platform/mail/mail.service.ts';
import { getRepresentationRow } from './representations.service.ts';

/** The power's scope as the e-mail states it, in the recipient's language. */
function scopeText(language: MailLanguage, scope: 'general' | 'procedure', procedure: string | null): string {
  if (scope === 'general')
    return {
      ca: "general (tots els procediments de l'entitat)",
      es: 'general (todos los procedimientos de la entidad)',
      'oc-aranes': 'generau (toti es procediments dera entitat)',
    }[language];
  return (
    { ca: 'el procediment', es: 'el procedimiento', 'oc-aranes': 'eth procediment' }[language] +
    ` ${procedure}`
  );
}

/** 2031-03-02 → 02/03/2031 (how a date is written in Catalan and Spanish). */
const civil = (d: string) => `${d.slice(8, 10)}/${d.slice(5, 7)}/${d.slice(0, 4)}`;

function mailLanguage(raw: string | null | undefined): MailLanguage {
  if (raw === 'es') return 'es';
  if (raw === 'oc' || raw === 'oc-aranes') return 'oc-aranes';
  return 'ca';
}

/**
 * E-mails both parties of a power, where their address is known, when it is granted or revoked
 * (in the acting citizen's language for themself; otherwise in the entity's language). Queued in
 * the same transaction: a rolled-back act sends nothing; a bad address never undoes the act.
 */
export async function notifyRepresentation(
  deps: AppDeps,
  tx: Tx,
  ctx: Ctx,
  representationId: string,
  event: 'granted' | 'revoked',
  actingCitizen?: { identifier: string; language: string | null } | null,
): Promise<number> {
  const row = await getRepresentationRow(tx, representationId);
  if (!row) return 0;
  const entity = await tx
    .selectFrom('tenants')
    .select('language')
    .where('id', '=', ctx.tenant.id)
    .executeTakeFirst();
  const origin = deps.config.publicUrl?.replace(/\/+$/, '') ?? `http://localhost:${deps.config.port}`;
  const recipients = [
    { identifier: row.represented_identifier, email: row.represented_email },
    { identifier: row.representative_identifier, email: row.representative_email },
  ];
  let sent = 0;
  for (const r of recipients) {
    if (!r.email) continue;
    const language = mailLanguage(
      actingCitizen?.identifier === r.identifier && actingCitizen.language
        ? actingCitizen.language
        : entity?.language,
    );
    await enqueueMail(
      deps.jobs,
      tx,
      {
        tenantId: ctx.tenant.id,
        to: r.email,
        language,
        template: event === 'granted' ? 'representation_granted' : 'representation_revoked',
        params: {
          entityName: ctx.tenant.name,
          seuUrl: `${origin}/seu/${ctx.tenant.slug}/carpeta`,
          representativeName: row.representative_name,
          representedName: row.represented_name,
          scope: scopeText(language, row.scope, row.procedure),
          validTo: civil(row.valid_to),
        },
      },
      { clock: ctx.clock },
    );
    sent++;
  }
  return sent;
}
