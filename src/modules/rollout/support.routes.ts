import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app.ts';

/** The roll-out's support routes (issue 6). */
export function registerSupportRoutes(_app: FastifyInstance, _deps: AppDeps): void {}
