import type { FastifyInstance } from 'fastify';
import type { AppDeps } from './app.ts';
import { registerCsvRoutes } from '#modules/csv/csv.routes.ts';
import { registerCalendarRoutes } from '#modules/calendar/calendar.routes.ts';
import { registerExpedientRoutes } from '#modules/expedients/expedients.routes.ts';
import { registerMemberRoutes } from '#modules/identity/members.routes.ts';
import { registerPartyRoutes } from '#modules/parties/parties.routes.ts';
import { registerPositionRoutes } from '#modules/positions/positions.routes.ts';
import { registerResolutionBookRoutes } from '#modules/resolutions/book.routes.ts';
import { registerResolutionRoutes } from '#modules/resolutions/resolutions.routes.ts';
import { resolutionHooks } from '#modules/resolutions/resolutions.service.ts';
import { registerDeskRoutes } from '#modules/registry/desk.routes.ts';
import { registerRegistryRoutes } from '#modules/registry/registry.routes.ts';
import { registerMuxRoutes } from '#modules/registry/mux/mux.routes.ts';
import { registerSealRoutes } from '#modules/seals/seals.routes.ts';
import { registerBatchSignatureRoutes } from '#modules/signatures/batch.routes.ts';
import { registerCircuitRoutes } from '#modules/signatures/circuits.routes.ts';
import { registerLocalCscRoutes } from '#modules/signatures/csc/csc.routes.ts';
import { registerVerificationRoutes } from '#modules/signatures/verification.routes.ts';
import { registerTenancyRoutes } from '#modules/tenancy/tenancy.routes.ts';
import { registerBoardRoutes } from '#modules/board/board.routes.ts';
import { registerCitizenRoutes } from '#modules/citizens/citizens.routes.ts';
import { registerNotificationRoutes } from '#modules/notifications/notifications.routes.ts';
import { registerSeuRoutes } from '#modules/seu/seu.routes.ts';
import { registerFilingRoutes } from '#modules/filings/filings.routes.ts';
import { registerRolloutRoutes } from '#modules/rollout/rollout.routes.ts';

/** Each domain module's routes. A new module adds its register function here. */
export function registerRouteModules(app: FastifyInstance, deps: AppDeps): void {
  registerTenancyRoutes(app, deps);
  registerMemberRoutes(app, deps);
  registerPartyRoutes(app, deps);
  registerExpedientRoutes(app, deps);
  registerCalendarRoutes(app, deps);
  registerSealRoutes(app, deps);
  registerRegistryRoutes(app, deps);
  registerCsvRoutes(app, deps);
  registerMuxRoutes(app, deps);
  registerDeskRoutes(app, deps);
  registerVerificationRoutes(app, deps);
  registerPositionRoutes(app, deps);
  // The resolutions book numbers and stamps decrees inside the circuits' own transactions.
  // The batch route signs through the same hooks as the single-document routes.
  const circuitHooks = resolutionHooks(deps);
  registerCircuitRoutes(app, deps, circuitHooks);
  registerResolutionRoutes(app, deps);
  registerResolutionBookRoutes(app, deps);
  registerBatchSignatureRoutes(app, deps, circuitHooks);
  // Issue 5: the seu electrònica (citizens, representation, filings, notifications, notice board).
  registerCitizenRoutes(app, deps);
  registerSeuRoutes(app, deps);
  registerFilingRoutes(app, deps);
  registerNotificationRoutes(app, deps);
  registerBoardRoutes(app, deps);
  // Issue 6: the Diputació's console (enrolment, waves, provisioning, support access, dashboard).
  registerRolloutRoutes(app, deps);
  // Only in demo, development and test modes (the function returns at once in production).
  registerLocalCscRoutes(app, deps);
}
