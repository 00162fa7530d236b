// The live supervision tree, answered by the node's supervision service over the bus. A picture
// at one instant: the stream's supervisor.* and agent.* events carry what changes after it.
import type { GatewayDeps } from '../deps.js';
import type { HandlerResponse } from '../http.js';
import { route, type Route } from '../router.js';
import { ask } from '../service-client.js';

const tree = async (_req: unknown, deps: GatewayDeps): Promise<HandlerResponse> => ({
  status: 200,
  body: await ask(deps, 'supervision.tree', {}),
});

export const supervisionRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/api/v1/supervision',
    // Who may list agents may see them in their tree: it names the same agents and their statuses.
    scope: 'agents:read',
    handler: tree,
    responses: { 200: 'SupervisionTree' },
    summary: "The node's supervision tree: supervisors, their policies, and each child's status, restarts and last crash",
  }),
];
