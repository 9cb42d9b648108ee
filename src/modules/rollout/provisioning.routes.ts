import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app.ts';

/** The roll-out's provisioning routes (issue 6). */
export function registerProvisioningRoutes(_app: FastifyInstance, _deps: AppDeps): void {}
