// Model pulls: start one (or join the one running for that model), follow it, cancel it. The jobs
// run in the model manager on the node; their progress also streams as model.pull.* events.
import { AuroraError, isErrorCode } from '../../runtime/errors.js';
import type { PullRecord } from '../../runtime/protocol/index.js';
import type { GatewayDeps } from '../deps.js';
import type { HandlerRequest, HandlerResponse } from '../http.js';
import { newId } from '../../runtime/ids.js';
import { idempotent } from '../idempotency.js';
import { providerNames } from '../kinds.js';
import { route, type Route } from '../router.js';
import type { PullBody } from '../schemas.js';
import { ask } from '../service-client.js';
import { assertKnown, pathParam } from './params.js';

export const PULLS_PATH = '/api/v1/models/pulls';

/** 202: the pull goes on; Location is where to follow it. */
export function pullAccepted(record: PullRecord): HandlerResponse {
  return { status: 202, body: record, headers: { location: `${PULLS_PATH}/${encodeURIComponent(record.pull_id)}` } };
}

/** The error a request that waited for a pull answers when the pull did not complete. */
export function pullFailure(record: PullRecord): AuroraError {
  const code = isErrorCode(record.error_code) ? record.error_code : 'llm_error';
  return new AuroraError(code, `Pull ${record.pull_id} of ${record.name} ${record.status}: ${record.error ?? 'no reason given'}`);
}

const start = idempotent<PullBody>({ operation: 'POST /api/v1/models/pull' }, newId, async (req, deps) => {
  assertKnown('provider', req.body.provider, providerNames(deps.kinds));
  const record = await ask(deps, 'models.pull', { name: req.body.name, provider: req.body.provider, if_missing: false, wait_ms: 0 });
  if (record === null) throw new Error('models.pull answered null to a pull without if_missing');
  return pullAccepted(record);
});

const get = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => ({
  status: 200,
  body: await ask(deps, 'models.pull_get', { pull_id: pathParam(req, 'id') }),
});

const cancel = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => ({
  status: 200,
  body: await ask(deps, 'models.pull_cancel', { pull_id: pathParam(req, 'id') }),
});

export const pullRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: '/api/v1/models/pull',
    scope: 'models:write',
    handler: start,
    body: 'PullRequest',
    responses: { 202: 'PullRecord' },
    summary: 'Pull a model into the provider; a pull of a model already being pulled joins it (same pull_id)',
  }),
  route({
    method: 'GET',
    path: `${PULLS_PATH}/:id`,
    scope: 'models:read',
    handler: get,
    responses: { 200: 'PullRecord' },
    summary: 'One pull: status, bytes, percent, the provider\'s last status line',
  }),
  route({
    method: 'DELETE',
    path: `${PULLS_PATH}/:id`,
    scope: 'models:write',
    handler: cancel,
    responses: { 200: 'PullRecord' },
    summary: 'Cancel a running pull (closes the request to the provider); cancelling a cancelled pull answers it again',
  }),
];
