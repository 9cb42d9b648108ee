import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '#src/app.ts';

/** The notifications module's HTTP routes (issue 5). */
export function registerNotificationRoutes(_app: FastifyInstance, _deps: AppDeps): void {}
