// Artifacts: what browser agents leave behind (screenshots), served with their own content type.
// Scoped like the tasks that made them: reading one needs tasks:read.
import type { GatewayDeps } from '../deps.js';
import type { HandlerRequest, HandlerResponse } from '../http.js';
import { route, type Route } from '../router.js';
import { ask } from '../service-client.js';
import { pathParam } from './params.js';

const get = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => {
  const artifact = await ask(deps, 'artifacts.get', { artifact_id: pathParam(req, 'id') });
  return {
    status: 200,
    body: Buffer.from(artifact.data_base64, 'base64'),
    headers: {
      'content-type': artifact.content_type,
      // Immutable: an id never names other bytes.
      'cache-control': 'private, max-age=31536000, immutable',
      'x-task-id': artifact.task_id,
    },
  };
};

export const artifactRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/api/v1/artifacts/:id',
    scope: 'tasks:read',
    handler: get,
    responses: { 200: 'Binary' },
    summary: "An artifact of a browser agent's task (a screenshot), as its bytes with its content type",
  }),
];
