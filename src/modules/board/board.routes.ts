import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '#src/app.ts';

/** The board module's HTTP routes (issue 5). */
export function registerBoardRoutes(_app: FastifyInstance, _deps: AppDeps): void {}
