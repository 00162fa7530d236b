// The cluster as NATS sees it: nodes, their heartbeats and who holds the ownership lease. Read
// from the KV bucket directly, so it answers even when no node does (that is when it is needed).
import { AuroraError, describe } from '../../runtime/errors.js';
import type { GatewayDeps } from '../deps.js';
import type { HandlerResponse } from '../http.js';
import { route, type Route } from '../router.js';

const read = async (_req: unknown, deps: GatewayDeps): Promise<HandlerResponse> => {
  if (deps.cluster === undefined) throw new AuroraError('unavailable', 'This process does not read the cluster state');
  try {
    return { status: 200, body: await deps.cluster.read() };
  } catch (err) {
    if (err instanceof AuroraError) throw err;
    throw new AuroraError('unavailable', `Cannot read the cluster state from NATS: ${describe(err)}`, { cause: err });
  }
};

export const clusterRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/api/v1/cluster',
    scope: 'agents:read',
    handler: read,
    responses: { 200: 'ClusterStatus' },
    summary: 'Nodes of this namespace, their heartbeats, and which one holds the ownership lease',
  }),
];
