// Prometheus exposition of the process registry.
import type { GatewayDeps } from '../deps.js';
import type { HandlerResponse } from '../http.js';
import { route, type Route } from '../router.js';

const metrics = async (_req: unknown, deps: GatewayDeps): Promise<HandlerResponse> => {
  const { registry } = deps.metrics;
  return { status: 200, body: await registry.metrics(), headers: { 'content-type': registry.contentType } };
};

export const metricsRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/metrics',
    scope: 'metrics:read',
    guard: 'metrics',
    handler: metrics,
    responses: { 200: 'Text' },
    summary: 'Prometheus metrics',
  }),
];
