import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '#src/app.ts';

/** The seu module's HTTP routes (issue 5). */
export function registerSeuRoutes(_app: FastifyInstance, _deps: AppDeps): void {}
