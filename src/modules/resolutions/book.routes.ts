import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PDFDocument } from 'pdf-lib';
import { Type } from 'typebox';
import type { AppDeps } from '../../app.ts';
import { inEntity } from '../../http/scope.ts';
import { madridYear } from '#platform/db/counters.ts';
import { AppError } from '#platform/errors.ts';
import { embedFonts, TextFlow } from '#platform/pdf/layout.ts';
import { signPdfDocument } from '#platform/pdf/pades.ts';
import { formatCsv, newCsv } from '#modules/csv/csv.ts';
import { contentDisposition } from '#modules/documents/documents.service.ts';
import { ensureEntitySeal } from '#modules/seals/seals.service.ts';
import { preparePdf } from '#modules/signatures/circuits.signing.ts';
import { compileBook, renderDiligence } from './book.pdf.ts';
import {
  assertReadBook,
  auditBookDownload,
  bookStatus,
  type DiligenceKind,
  getDiligence,
  planDiligence,
  planDiligenceCircuit,
  planExport,
  recordDiligence,
  recordExport,
  startDiligenceCircuit,
} from './book.service.ts';
import { extractsOf } from './extracts.service.ts';
import { decreesForPle, listPleSessions, type PleList, recordPleSession } from './ple.service.ts';
import { decreeDate, listBook } from './resolutions.service.ts';

const strict = { additionalProperties: false } as const;
const Entity = Type.String({ minLength: 2, maxLength: 100 });
const YearParams = Type.Object({ entity: Entity, year: Type.String({ pattern: '^[0-9]{4}$' }) }, strict);
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Diligence = Type.Object({
  kind: Type.String({ description: 'opening | closing' }),
  year: Type.Integer(),
  state: Type.String({
    description:
      'draft (its circuit is being started) | pending (waits for the secretary) | signed | rejected | cancelled',
  }),
  documentId: Type.String(),
  expedientId: Type.String(),
  requestedAt: Type.String(),
  signedAt: Nullable(Type.String()),
  signerPosition: Nullable(Type.String()),
  bySubstitution: Type.Union([Type.Boolean(), Type.Null()]),
  firstNumber: Nullable(Type.String()),
  lastNumber: Nullable(Type.String()),
  decreeCount: Type.Union([Type.Integer(), Type.Null()]),
});
const BookStatus = Type.Object({
  year: Type.Integer(),
  opening: Type.Union([Diligence, Type.Null()]),
  closing: Type.Union([Diligence, Type.Null()]),
  decrees: Type.Integer(),
  transcribed: Type.Integer(),
  pendingTranscription: Type.Array(Type.String()),
  notTranscribed: Type.Array(Type.String()),
  latestExport: Type.Union([
    Type.Object({
      documentId: Type.String(),
      csv: Type.String(),
      createdAt: Type.String(),
      decrees: Type.Integer(),
      pages: Type.Integer(),
    }),
    Type.Null(),
  ]),
});
const ExtractStatus = Type.Object({
  recipient: Type.String({ description: 'AGE (the State) | GENCAT (the Generalitat)' }),
  due: Type.String({ description: '24:00 Europe/Madrid of the sixth day after the decree (LBRL art. 56.1)' }),
  sentAt: Nullable(Type.String()),
  ackId: Nullable(Type.String()),
  channel: Nullable(Type.String()),
  attempts: Type.Integer(),
  lastError: Nullable(Type.String()),
  overdue: Type.Boolean({ description: 'the limit passed without a sending' }),
  late: Type.Boolean({ description: 'sent after the limit' }),
});
const ExtractRow = Type.Object({
  number: Type.String(),
  signedAt: Type.String(),
  documentId: Type.String(),
  summary: Type.String(),
  extracts: Type.Array(ExtractStatus),
});
const PleSession = Type.Object({
  id: Type.String(),
  heldOn: Type.String(),
  kind: Type.String({ description: 'ordinary | extraordinary' }),
  reference: Nullable(Type.String()),
  createdAt: Type.String(),
});
const ExtractSummary = Type.Union([
  Type.Object({ sentAt: Nullable(Type.String()), due: Type.String() }),
  Type.Null(),
]);
const PleListSchema = Type.Object({
  since: Type.String(),
  until: Type.String(),
  lastOrdinarySession: Type.Union([PleSession, Type.Null()]),
  decrees: Type.Array(
    Type.Object({
      number: Type.String(),
      signedAt: Type.String(),
      title: Type.String(),
      summary: Type.String(),
      position: Nullable(Type.String()),
      bySubstitution: Type.Boolean(),
      expedientId: Type.String(),
      expedientNumber: Type.String(),
      documentId: Type.String(),
      transcribed: Type.Boolean(),
      extract: ExtractSummary,
    }),
  ),
});
const PleQuery = Type.Object(
  {
    since: Type.Optional(Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' })),
    until: Type.Optional(Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' })),
  },
  strict,
);

function verificationUrl(config: { publicUrl: string | undefined; port: number }): string {
  const origin = config.publicUrl?.replace(/\/+$/, '') ?? `http://localhost:${config.port}`;
  return `${origin}/verify`;
}

function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: string }).code === '23505';
}

/** The Ple list as a plain PDF (not sealed: a working paper for the session's agenda). */
async function renderPleList(entity: { name: string; dir3: string }, list: PleList): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.setTitle(`Decrets per donar compte al Ple (${list.since} – ${list.until})`);
  doc.setAuthor(entity.name);
  doc.setLanguage('ca');
  doc.setCreator('Lligall');
  doc.setProducer('Lligall');
  const flow = new TextFlow(doc, await embedFonts(doc));
  flow.text(`${entity.name} (DIR3 ${entity.dir3})`, { font: 'bold', size: 11, gapAfter: 6 });
  flow.text('Decrets de què es dona compte al Ple', { font: 'bold', size: 15, gapAfter: 4 });
  const [sy, sm, sd] = list.since.split('-');
  const [uy, um, ud] = list.until.split('-');
  flow.text(`Del ${sd}/${sm}/${sy} al ${ud}/${um}/${uy} · ${list.decrees.length} decrets`, { size: 10 });
  if (list.lastOrdinarySession) {
    const [y, m, d] = list.lastOrdinarySession.heldOn.split('-');
    flow.text(`Darrera sessió ordinària: ${d}/${m}/${y}`, { size: 10 });
  }
  flow.rule();
  for (const e of list.decrees) {
    const who = e.position ? `${e.position}${e.bySubstitution ? ' (per substitució)' : ''}` : '—';
    flow.text(
      `Decret ${e.number} · ${decreeDate(new Date(e.signedAt))} · ${who} · Exp. ${e.expedientNumber}`,
      { font: 'bold', size: 9.5 },
    );
    flow.text(e.summary, { size: 9.5, indent: 14, gapAfter: 3 });
  }
  flow.footer([`${entity.name} · Decrets per al Ple`], (n, t) => `Pàgina ${n} de ${t}`);
  return Buffer.from(await doc.save());
}

export function registerResolutionBookRoutes(app: FastifyInstance, deps: AppDeps): void {
  const base = '/api/v1/entities/:entity/resolutions';
  const yp = (req: FastifyRequest) => {
    const { entity, year } = req.params as { entity: string; year: string };
    return { entity, year: Number(year) };
  };

  app.get(
    `${base}/book/:year`,
    {
      schema: {
        tags: ['resolutions'],
        summary: "A year's book: its diligences, its decrees' transcription, its latest sealed edition",
        params: YearParams,
        response: { 200: BookStatus },
      },
    },
    async (req) => {
      const { entity, year } = yp(req);
      return inEntity(deps, req, entity, (tx, ctx) => bookStatus(tx, ctx, year));
    },
  );

  const requestDiligence = async (req: FastifyRequest, reply: FastifyReply, kind: DiligenceKind) => {
    const { entity, year } = yp(req);
    const expedientId = (req.body as { expedientId?: string } | undefined)?.expedientId ?? null;
    const plan = await inEntity(deps, req, entity, (tx, ctx) =>
      planDiligence(tx, ctx, year, kind, expedientId),
    );
    let documentId: string;
    if ('resume' in plan) documentId = plan.resume;
    else {
      const stored = await deps.blobs.put(await renderDiligence(plan.facts)); // the file before the rows
      try {
        documentId = await inEntity(deps, req, entity, (tx, ctx) =>
          recordDiligence(tx, ctx, year, kind, expedientId, plan, stored),
        );
      } catch (e) {
        if (isUniqueViolation(e))
          throw new AppError(
            'RESOLUTION_DILIGENCE_PENDING',
            `The ${kind} diligence of ${year} was just requested`,
          );
        throw e;
      }
    }
    const c = await inEntity(deps, req, entity, (tx, ctx) => planDiligenceCircuit(tx, ctx, documentId));
    const prepared = await preparePdf(await deps.blobs.readVerified(c.baseSha256), c.slots, c.title);
    const stored = await deps.blobs.put(prepared);
    await inEntity(deps, req, entity, (tx, ctx) =>
      startDiligenceCircuit(tx, ctx, documentId, c.steps, { baseSha256: c.baseSha256, ...stored }),
    );
    const view = await inEntity(deps, req, entity, (tx, ctx) => getDiligence(tx, ctx, year, kind));
    return reply.status(201).send(view);
  };
  const DiligenceBody = Type.Optional(
    Type.Object(
      {
        expedientId: Type.Optional(
          Type.String({
            maxLength: 64,
            description:
              'the book\'s case file; default: the opening diligence\'s, else a new case file "Llibre de resolucions YYYY"',
          }),
        ),
      },
      strict,
    ),
  );

  app.post(
    `${base}/book/:year/opening`,
    {
      schema: {
        tags: ['resolutions'],
        summary: "Open a year's book: the opening diligence, to be signed by the secretary",
        description:
          'Renders the opening diligence (TD12), records it as a draft in the book\'s case file and starts a circuit with one sign step for the secretary position (its acting holder signs, "per substitució" when a substitute acts). The book is open once the secretary signs. Numbering never waits for it. Administrators and the acting secretary only.',
        params: YearParams,
        body: DiligenceBody,
        response: { 201: Diligence },
      },
    },
    (req, reply) => requestDiligence(req, reply, 'opening'),
  );

  app.post(
    `${base}/book/:year/closing`,
    {
      schema: {
        tags: ['resolutions'],
        summary:
          "Close a year's book: the closing diligence (first and last numbers, count), to be signed by the secretary",
        description:
          'Only after the year has ended (409 RESOLUTION_BOOK_YEAR_NOT_ENDED), once the opening is signed (409 RESOLUTION_BOOK_NOT_OPEN), and when no numbered decree of the year waits for its transcription (409 RESOLUTION_BOOK_TRANSCRIPTION_PENDING, details.numbers). Decrees whose transcription was rejected or cancelled are named in the diligence.',
        params: YearParams,
        body: DiligenceBody,
        response: { 201: Diligence },
      },
    },
    (req, reply) => requestDiligence(req, reply, 'closing'),
  );

  app.get(
    `${base}/book/:year.pdf`,
    {
      schema: {
        tags: ['resolutions'],
        summary: "The year's book as one sealed PDF with an index",
        description:
          "Cover, index (number, date, deciding position, summary, case file, page), the opening diligence, every numbered decree's current PDF (its signatures' stamps kept as page content: each decree stays verifiable by its own CSV) and the closing diligence; sealed PAdES-B-B with the entity's seal, with a CSV that /verify finds. A new edition is compiled only when the book changed since the latest one. Administrators and the acting secretary only.",
        params: YearParams,
      },
    },
    async (req, reply) => {
      const { entity, year } = yp(req);
      let plan = await inEntity(deps, req, entity, (tx, ctx) => planExport(tx, ctx, year, deps.config));
      if (!plan.existing && plan.noSeal) {
        if (deps.config.env === 'production')
          throw new AppError(
            'SEAL_UNAVAILABLE',
            'The entity has no active seal: import it with "lligall seal import"',
          );
        const tenantId = await inEntity(deps, req, entity, async (_tx, ctx) => ctx.tenant.id);
        await ensureEntitySeal(deps, tenantId);
        plan = await inEntity(deps, req, entity, (tx, ctx) => planExport(tx, ctx, year, deps.config));
      }
      let out: { documentId: string; sha256: string; csv: string };
      if (plan.existing) out = plan.existing;
      else if (plan.noSeal) throw new AppError('SEAL_UNAVAILABLE', 'The entity has no active seal');
      else {
        const tenant = await inEntity(deps, req, entity, async (_tx, ctx) => ctx.tenant);
        const csv = newCsv();
        const issuedAt = deps.clock.now();
        const parts = [];
        for (const s of plan.sources)
          parts.push({
            kind: s.kind,
            pdf: await deps.blobs.readVerified(s.sha256),
            ...(s.entry ? { entry: s.entry } : {}),
          });
        const { doc, pages } = await compileBook(
          {
            entity: { name: tenant.name, dir3: tenant.dir3 },
            year,
            issuedAt,
            csv: formatCsv(csv),
            verifyUrl: verificationUrl(deps.config),
            qualified: plan.seal.qualified,
            opening: plan.opening,
            closing: plan.closing,
          },
          parts,
        );
        const signed = await signPdfDocument(doc, plan.seal, {
          name: tenant.name,
          reason: `Llibre de resolucions ${year}`,
          location: tenant.dir3,
          contactInfo: verificationUrl(deps.config),
          signingTime: issuedAt,
        });
        const stored = await deps.blobs.put(signed);
        const p = plan;
        out = await inEntity(deps, req, entity, (tx, ctx) =>
          recordExport(tx, ctx, year, {
            fingerprint: p.fingerprint,
            csv,
            sealId: p.seal.id,
            file: stored,
            decrees: p.sources.filter((s) => s.kind === 'decree').length,
            pages,
            issuedAt,
          }),
        );
      }
      await inEntity(deps, req, entity, (tx, ctx) => auditBookDownload(tx, ctx, year, out.documentId));
      return reply
        .header('content-type', 'application/pdf')
        .header('content-disposition', contentDisposition(`llibre-resolucions-${year}.pdf`))
        .header('cache-control', 'private, no-store')
        .header('x-document-id', out.documentId)
        .header('x-csv', formatCsv(out.csv))
        .send(deps.blobs.openVerified(out.sha256));
    },
  );

  app.get(
    `${base}/extracts`,
    {
      schema: {
        tags: ['resolutions'],
        summary: "Each decree's extracts for the State (AGE) and the Generalitat, and their sending",
        description:
          'Sent by the local outbox sender (no published EACAT contract is available); due 24:00 Europe/Madrid of the sixth calendar day after the decree.',
        params: Type.Object({ entity: Entity }, strict),
        querystring: Type.Object({ year: Type.Optional(Type.String({ pattern: '^[0-9]{4}$' })) }, strict),
        response: { 200: Type.Array(ExtractRow) },
      },
    },
    async (req) => {
      const { entity } = req.params as { entity: string };
      const q = req.query as { year?: string };
      const year = q.year ? Number(q.year) : madridYear(deps.clock.now());
      return inEntity(deps, req, entity, async (tx, ctx) => {
        assertReadBook(ctx);
        const book = await listBook(tx, ctx, year);
        const ex = await extractsOf(
          tx,
          ctx,
          book.map((b) => b.documentId),
        );
        return book.map((b) => ({
          number: b.number,
          signedAt: b.signedAt,
          documentId: b.documentId,
          summary: b.summary,
          extracts: ex.get(b.documentId) ?? [],
        }));
      });
    },
  );

  app.get(
    `${base}/for-ple`,
    {
      schema: {
        tags: ['resolutions'],
        summary: 'The decrees to report to the Ple: since the last ordinary session, or since a date',
        description:
          'From `since` (included; default: the day after the last ordinary session held on or before today) to `until` (included; default today), Europe/Madrid dates. 422 PLE_SESSION_NONE without a recorded ordinary session and without `since`.',
        params: Type.Object({ entity: Entity }, strict),
        querystring: PleQuery,
        response: { 200: PleListSchema },
      },
    },
    async (req) => {
      const { entity } = req.params as { entity: string };
      return inEntity(deps, req, entity, (tx, ctx) =>
        decreesForPle(tx, ctx, req.query as { since?: string }),
      );
    },
  );

  app.get(
    `${base}/for-ple.pdf`,
    {
      schema: {
        tags: ['resolutions'],
        summary: 'The same list for the Ple as a PDF',
        params: Type.Object({ entity: Entity }, strict),
        querystring: PleQuery,
      },
    },
    async (req, reply) => {
      const { entity } = req.params as { entity: string };
      const { list, tenant } = await inEntity(deps, req, entity, async (tx, ctx) => ({
        list: await decreesForPle(tx, ctx, req.query as { since?: string }),
        tenant: ctx.tenant,
      }));
      const pdf = await renderPleList({ name: tenant.name, dir3: tenant.dir3 }, list);
      return reply
        .header('content-type', 'application/pdf')
        .header('content-disposition', contentDisposition(`decrets-ple-${list.since}-${list.until}.pdf`))
        .header('cache-control', 'private, no-store')
        .send(pdf);
    },
  );

  app.get(
    '/api/v1/entities/:entity/ple-sessions',
    {
      schema: {
        tags: ['resolutions'],
        summary: "The entity's Ple sessions, latest first",
        params: Type.Object({ entity: Entity }, strict),
        response: { 200: Type.Array(PleSession) },
      },
    },
    async (req) =>
      inEntity(deps, req, (req.params as { entity: string }).entity, (tx, ctx) => listPleSessions(tx, ctx)),
  );

  app.post(
    '/api/v1/entities/:entity/ple-sessions',
    {
      schema: {
        tags: ['resolutions'],
        summary: 'Record a Ple session (administrators and the acting secretary)',
        params: Type.Object({ entity: Entity }, strict),
        body: Type.Object(
          {
            heldOn: Type.String({
              pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
              description: 'Europe/Madrid date',
            }),
            kind: Type.Union([Type.Literal('ordinary'), Type.Literal('extraordinary')]),
            reference: Type.Optional(Type.String({ maxLength: 500 })),
          },
          strict,
        ),
        response: { 201: PleSession },
      },
    },
    async (req, reply) => {
      const body = req.body as { heldOn: string; kind: 'ordinary' | 'extraordinary'; reference?: string };
      const view = await inEntity(deps, req, (req.params as { entity: string }).entity, (tx, ctx) =>
        recordPleSession(tx, ctx, body),
      );
      return reply.status(201).send(view);
    },
  );
}
