import type { FastifyInstance } from 'fastify';
import type { AppDeps } from './app.ts';

/** Each domain module's routes. A new module adds its register function here. */
export function registerRouteModules(app: FastifyInstance, deps: AppDeps): void {
  void app;
  void deps;
}
