import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app.ts';

/** The roll-out's waves routes (issue 6). */
export function registerWavesRoutes(_app: FastifyInstance, _deps: AppDeps): void {}
