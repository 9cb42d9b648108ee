import rateLimit from '@fastify/rate-limit';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import { registerAjvFormats, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { sql } from 'kysely';
import type { AppDeps } from './app.ts';
import { registerAuth } from './http/auth.ts';
import { problemFor, sendProblem } from '#platform/http/problem.ts';
import { securityHeaders } from '#platform/http/security.ts';
import { chainAppends } from '#modules/audit/audit.service.ts';
import { registerIdentityRoutes } from '#modules/identity/identity.routes.ts';
import { registerRouteModules } from './routes.ts';

export const WEB_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../web/dist');

export type ServerOptions = { logger?: boolean | object };

/**
 * Fastify compiles every route's validators and response serializers when the server starts:
 * about 1.4 s of CPU for this API, paid by every process that serves it (a `lligall serve`, each
 * test). Here each one is compiled when its route first validates or answers (a few ms, once); a
 * schema fast-json-stringify or TypeBox cannot compile fails that route's first request, and the
 * tests reach every route.
 */
function lazy<A extends unknown[], R>(compile: () => (...a: A) => R): (...a: A) => R {
  let fn: ((...a: A) => R) | undefined;
  return (...a) => {
    fn ??= compile();
    return fn(...a);
  };
}
const lazyValidator: typeof TypeBoxValidatorCompiler = (route) => lazy(() => TypeBoxValidatorCompiler(route));
function lazySerializers(externalSchemas: unknown, serializerOpts: unknown) {
  const compile = SerializerSelector()(externalSchemas as never, serializerOpts as never);
  return (route: Parameters<typeof compile>[0]) => lazy(() => compile(route));
}

/** Builds the HTTP server: API under /api/v1 (OpenAPI, strict validation, problem+json) and the web app under /app. */
export async function buildServer(deps: AppDeps, opts: ServerOptions = {}): Promise<FastifyInstance> {
  registerAjvFormats();
  const app = Fastify({
    logger: opts.logger ?? { level: deps.config.logLevel },
    trustProxy: process.env.LLIGALL_TRUST_PROXY === 'true',
    bodyLimit: 1024 * 1024,
    // One log line per request (in onResponse) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // Bodies are validated as sent: no coercion, no removal of unknown properties (TypeBox compiler).
    schemaController: { compilersFactory: { buildSerializer: lazySerializers } },
  });
  app.setValidatorCompiler(lazyValidator);
  app.setErrorHandler((err, req, reply) => sendProblem(req, reply, err));
  app.setNotFoundHandler((req, reply) => {
    if (
      req.url.startsWith('/app') &&
      req.method === 'GET' &&
      fs.existsSync(path.join(WEB_DIST, 'index.html'))
    ) {
      return reply.type('text/html').sendFile('index.html', WEB_DIST);
    }
    // The seu electrònica of each entity (/seu/<slug>/…): its own page of the web build. The
    // notice board's pages ask search engines not to index them (LOPDGDD DA 7).
    if (
      /^\/seu\/[^/?#]+/.test(req.url) &&
      req.method === 'GET' &&
      fs.existsSync(path.join(WEB_DIST, 'seu.html'))
    ) {
      if (/^\/seu\/[^/?#]+\/tauler(?:[/?#]|$)/.test(req.url))
        reply.header('x-robots-tag', 'noindex, nofollow');
      return reply.type('text/html').sendFile('seu.html', WEB_DIST);
    }
    return reply
      .status(404)
      .type('application/problem+json')
      .send(problemFor('NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}`));
  });
  app.addHook('onSend', async (req, reply) => {
    securityHeaders(req, reply);
  });

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const requests = new Counter({
    name: 'lligall_http_requests_total',
    help: 'HTTP requests',
    labelNames: ['method', 'route', 'status'],
    registers: [metrics],
  });
  const latency = new Histogram({
    name: 'lligall_http_request_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [metrics],
  });
  new Counter({
    name: 'lligall_audit_chain_appends_total',
    help: 'Audit chain appends of this process: sent with the COMMIT (with_commit) or on their own (alone)',
    labelNames: ['how'],
    registers: [metrics],
    collect() {
      this.reset();
      this.inc({ how: 'with_commit' }, chainAppends.withCommit);
      this.inc({ how: 'alone' }, chainAppends.alone);
    },
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown';
    req.log.info(
      {
        method: req.method,
        url: req.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
    requests.inc({ method: req.method, route, status: reply.statusCode });
    latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });

  await app.register(cookie);
  // Per-route limits only (e.g. public CSV verification: 30 a minute per client).
  await app.register(rateLimit, { global: false });
  await app.register(multipart, {
    limits: { fileSize: deps.config.maxUploadBytes, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 24 },
    throwFileSizeLimit: true,
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Lligall API',
        version: '1',
        description:
          'Electronic case files for local government. Errors are application/problem+json with a stable `code`. ' +
          'Authenticate with the session cookie (POST /api/v1/session) or `Authorization: Bearer <token>`.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'lligall_session' },
          muxJwt: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'HS256 JWT of the AOC MUX v3 router, configured per entity (lligall mux configure)',
          },
        },
      },
      security: [{ bearer: [] }, { cookie: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: false });
  app.get('/api/v1/openapi.json', { schema: { hide: true }, config: { public: true } }, async () =>
    app.swagger(),
  );

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    try {
      await deps.db.platform((tx) => sql`select 1`.execute(tx));
      return { status: 'ready', database: deps.db.kind };
    } catch {
      return reply
        .status(503)
        .type('application/problem+json')
        .send(problemFor('INTERNAL', 'database not reachable'));
    }
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) =>
    reply.type(metrics.contentType).send(await metrics.metrics()),
  );

  registerAuth(app, deps);
  registerIdentityRoutes(app, deps);
  registerRouteModules(app, deps);

  if (fs.existsSync(WEB_DIST)) {
    await app.register(fastifyStatic, {
      root: WEB_DIST,
      prefix: '/app/',
      decorateReply: true,
      index: ['index.html'],
    });
  }
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/app/'));
  app.get('/app', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/app/'));
  // The Diputació's console is a part of the web app (same login, same session).
  app.get('/console', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/app/console'));
  // The public CSV verification page (LRJSP art. 42.b): a short address printed on documents,
  // answered by the web app's /verify page, which needs no session. The query (?csv=…) is kept.
  app.get('/verify', { schema: { hide: true } }, async (req, reply) => {
    const q = req.url.indexOf('?');
    return reply.redirect(`/app/verify${q >= 0 ? req.url.slice(q) : ''}`);
  });
  return app;
}
