import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '#src/app.ts';

/** The citizens module's HTTP routes (issue 5). */
export function registerCitizenRoutes(_app: FastifyInstance, _deps: AppDeps): void {}
