import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app.ts';

/** The roll-out's enrolment routes (issue 6). */
export function registerEnrolmentRoutes(_app: FastifyInstance, _deps: AppDeps): void {}
