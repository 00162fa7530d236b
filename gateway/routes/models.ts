// Models: what is loaded, load (pulling first when asked), unload, and the status of one model.
// Answers come from the model manager service over the bus.
import type { GatewayDeps } from '../deps.js';
import type { HandlerRequest, HandlerResponse } from '../http.js';
import { route, type Route } from '../router.js';
import { providerNames } from '../kinds.js';
import type { ModelLoadBody } from '../schemas.js';
import { ask } from '../service-client.js';
import { assertKnown, pathParam } from './params.js';
import { pullAccepted, pullFailure } from './pulls.js';

export const DEFAULT_PROVIDER = 'ollama';

export function modelKey(provider: string, name: string): string {
  return `model:${provider}:${name}`;
}

const modelName = (req: HandlerRequest): string => pathParam(req, 'name');

function providerQuery(req: HandlerRequest, deps: GatewayDeps): string {
  const provider = req.query.provider ?? DEFAULT_PROVIDER;
  assertKnown('provider', provider, providerNames(deps.kinds));
  return provider;
}

const list = async (_req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => {
  const loaded = await ask(deps, 'models.list', {});
  const models: Record<string, { name: string; provider: string; loaded_at: string }> = {};
  for (const m of loaded) models[modelKey(m.provider, m.name)] = { name: m.name, provider: m.provider, loaded_at: m.loaded_at };
  return { status: 200, body: { models, count: Object.keys(models).length } };
};

/**
 * With `pull`, a model the provider lacks is pulled first (joining a pull already running for it).
 * The request waits for the pull up to BUS_REQUEST_TIMEOUT_MS, the budget of a control request:
 * pulled by then, the model is loaded (201); still pulling, the answer is 202 with the pull, to be
 * followed at its Location or on the stream, and load is asked again once it completes.
 */
const load = async (req: HandlerRequest<ModelLoadBody>, deps: GatewayDeps): Promise<HandlerResponse> => {
  const { name, provider, config, pull } = req.body;
  assertKnown('provider', provider, providerNames(deps.kinds));
  if (pull) {
    const waitMs = deps.config.busRequestTimeoutMs;
    const pulled = await ask(deps, 'models.pull', { name, provider, if_missing: true, wait_ms: waitMs }, waitMs + deps.config.busRequestTimeoutMs);
    if (pulled?.status === 'running') return pullAccepted(pulled);
    if (pulled !== null && pulled.status !== 'completed') throw pullFailure(pulled);
  }
  const model = await ask(deps, 'models.load', { name, provider, config });
  return {
    status: 201,
    body: { message: `Model ${model.name} loaded successfully`, name: model.name, provider: model.provider },
  };
};

const unload = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => {
  const { name } = await ask(deps, 'models.unload', { name: modelName(req), provider: providerQuery(req, deps) });
  return { status: 200, body: { message: `Model ${name} unloaded successfully` } };
};

const status = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => ({
  status: 200,
  body: await ask(deps, 'models.status', { name: modelName(req), provider: providerQuery(req, deps) }),
});

export const modelRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/api/v1/models/',
    scope: 'models:read',
    handler: list,
    responses: { 200: 'ModelMap' },
    summary: 'List loaded models',
  }),
  route({
    method: 'POST',
    path: '/api/v1/models/load',
    scope: 'models:write',
    handler: load,
    body: 'ModelLoadRequest',
    responses: { 201: 'ModelLoaded', 202: 'PullRecord' },
    summary: 'Load a model; with "pull": true pull it first when missing (202 with the pull when it takes longer than the request may wait)',
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/models/:name',
    scope: 'models:write',
    handler: unload,
    responses: { 200: 'ModelUnloaded' },
    summary: 'Unload a model (?provider=, default ollama)',
  }),
  route({
    method: 'GET',
    path: '/api/v1/models/:name/status',
    scope: 'models:read',
    handler: status,
    responses: { 200: 'ModelStatus' },
    summary: 'Installed / loaded status of one model (?provider=, default ollama)',
  }),
];
