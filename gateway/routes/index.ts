// The gateway's whole REST surface, in one table.
import type { Route } from '../router.js';
import { agentRoutes } from './agents.js';
import { artifactRoutes } from './artifacts.js';
import { clusterRoutes } from './cluster.js';
import { docsRoutes } from './docs.js';
import { eventRoutes } from './events.js';
import { healthRoutes } from './health.js';
import { metricsRoutes } from './metrics.js';
import { modelRoutes } from './models.js';
import { pullRoutes } from './pulls.js';
import { runRoutes } from './runs.js';
import { streamRoutes } from './stream.js';
import { supervisionRoutes } from './supervision.js';
import { taskRoutes } from './tasks.js';
import { threadRoutes } from './threads.js';
import { workflowRoutes } from './workflows.js';

/** The API: every route here is described by the OpenAPI document (gateway/openapi.ts). */
export const API_ROUTES: readonly Route[] = [
  ...healthRoutes,
  ...agentRoutes,
  ...supervisionRoutes,
  ...threadRoutes,
  ...modelRoutes,
  ...pullRoutes,
  ...taskRoutes,
  ...artifactRoutes,
  ...runRoutes,
  ...workflowRoutes,
  ...eventRoutes,
  ...metricsRoutes,
  ...clusterRoutes,
];

/**
 * Everything the router serves: the API, the documentation of it (`docs`) and the dashboard
 * (`ui`, gateway/routes/ui.ts: open by design, its files hold no data), which the document leaves out.
 */
export function servedRoutes(docs: readonly Route[], ui: readonly Route[] = []): readonly Route[] {
  // The stream's plain-GET answer (426) is described with the stream, not as an operation.
  return [...API_ROUTES, ...streamRoutes, ...docs, ...ui];
}

/**
 * The table of a gateway without a docs site (the dispatcher's default): the docs paths answer 404.
 * startGateway serves `servedRoutes(docsRoutes(site))` instead.
 */
export const ROUTES: readonly Route[] = servedRoutes(docsRoutes(undefined));

/** What an actor node without the API serves (AURORA_ROLE=node): its probes and its metrics. */
export const OPS_ROUTES: readonly Route[] = [...healthRoutes, ...metricsRoutes];
