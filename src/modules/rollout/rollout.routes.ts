import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app.ts';
import { registerDashboardRoutes } from './dashboard.routes.ts';
import { registerEnrolmentRoutes } from './enrolment.routes.ts';
import { registerProvisioningRoutes } from './provisioning.routes.ts';
import { registerSupportRoutes } from './support.routes.ts';
import { registerWavesRoutes } from './waves.routes.ts';

/**
 * The Diputació's console API (issue 6) under /api/v1/console/…, for operators and support
 * technicians (inConsole), and the public enrolment form's routes in the Diputació's seu.
 */
export function registerRolloutRoutes(app: FastifyInstance, deps: AppDeps): void {
  registerEnrolmentRoutes(app, deps);
  registerWavesRoutes(app, deps);
  registerProvisioningRoutes(app, deps);
  registerSupportRoutes(app, deps);
  registerDashboardRoutes(app, deps);
}
