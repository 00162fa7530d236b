// The gateway's whole REST surface, in one table.
import type { Route } from '../router.js';
import { agentRoutes } from './agents.js';
import { healthRoutes } from './health.js';
import { metricsRoutes } from './metrics.js';
import { modelRoutes } from './models.js';
import { taskRoutes } from './tasks.js';

export const ROUTES: readonly Route[] = [...healthRoutes, ...agentRoutes, ...modelRoutes, ...taskRoutes, ...metricsRoutes];
