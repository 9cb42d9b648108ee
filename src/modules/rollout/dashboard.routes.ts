import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app.ts';

/** The roll-out's dashboard routes (issue 6). */
export function registerDashboardRoutes(_app: FastifyInstance, _deps: AppDeps): void {}
