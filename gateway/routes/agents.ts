// Agents: create, list, inspect, delete, and the operator commands restart and fault.
// Every answer comes from the registry service over the bus.
import type { AgentDefinition } from '../../runtime/protocol/index.js';
import type { GatewayDeps } from '../deps.js';
import type { HandlerRequest, HandlerResponse } from '../http.js';
import { route, type Route } from '../router.js';
import { newId } from '../../runtime/ids.js';
import { idempotent } from '../idempotency.js';
import { kindNames, providerNames } from '../kinds.js';
import type { AgentCreateBody, AgentUpdateBody } from '../schemas.js';
import { ask } from '../service-client.js';
import { assertKnown, pathParam } from './params.js';

const nameParam = (req: HandlerRequest): string => pathParam(req, 'name');

const list = async (_req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => ({
  status: 200,
  body: await ask(deps, 'registry.list', {}),
});

const create = idempotent<AgentCreateBody>({ operation: 'POST /api/v1/agents/' }, newId, async (req, deps) => {
  const b = req.body;
  assertKnown('agent_type', b.agent_type, kindNames(deps.kinds));
  assertKnown('provider', b.provider, providerNames(deps.kinds));
  const definition: AgentDefinition = {
    name: b.name,
    agent_type: b.agent_type,
    model_name: b.model_name,
    provider: b.provider,
    description: b.description,
    config: b.config,
  };
  return { status: 201, body: await ask(deps, 'registry.create', definition) };
});

/** Changes the agent's definition; tasks that start from now on use it, queued ones are kept. */
const update = async (req: HandlerRequest<AgentUpdateBody>, deps: GatewayDeps): Promise<HandlerResponse> => ({
  status: 200,
  body: await ask(deps, 'registry.update', { name: nameParam(req), ...req.body }),
});

const get = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => ({
  status: 200,
  body: await ask(deps, 'registry.get', { name: nameParam(req) }),
});

const remove = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => {
  const { name } = await ask(deps, 'registry.delete', { name: nameParam(req) });
  return { status: 200, body: { message: `Agent ${name} deleted successfully` } };
};

const restart = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => ({
  status: 200,
  body: await ask(deps, 'registry.restart', { name: nameParam(req) }),
});

/** Accepted, not done: the agent crashes on its own schedule and its supervisor takes over. */
const fault = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => {
  const { name } = await ask(deps, 'registry.fault', { name: nameParam(req) });
  return { status: 202, body: { message: `Fault injected into agent ${name}`, name } };
};

export const agentRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/api/v1/agents/',
    scope: 'agents:read',
    handler: list,
    responses: { 200: 'AgentList' },
    summary: 'List agents',
  }),
  route({
    method: 'POST',
    path: '/api/v1/agents/',
    scope: 'agents:write',
    handler: create,
    body: 'AgentCreateRequest',
    responses: { 201: 'AgentRecord' },
    summary: 'Create an agent',
  }),
  route({
    method: 'GET',
    path: '/api/v1/agents/:name',
    scope: 'agents:read',
    handler: get,
    responses: { 200: 'AgentRecord' },
    summary: 'Get an agent',
  }),
  route({
    method: 'PATCH',
    path: '/api/v1/agents/:name',
    scope: 'agents:write',
    handler: update,
    body: 'AgentUpdateRequest',
    responses: { 200: 'AgentRecord' },
    summary: "Change an agent's description, model or config (config is replaced whole)",
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/agents/:name',
    scope: 'agents:write',
    handler: remove,
    responses: { 200: 'Message' },
    summary: 'Delete an agent',
  }),
  route({
    method: 'POST',
    path: '/api/v1/agents/:name/restart',
    scope: 'admin',
    handler: restart,
    responses: { 200: 'AgentRecord' },
    summary: 'Bring a failed agent back',
  }),
  route({
    method: 'POST',
    path: '/api/v1/agents/:name/fault',
    scope: 'admin',
    handler: fault,
    responses: { 202: 'FaultAccepted' },
    summary: 'Crash an agent on purpose (fault injection must be enabled)',
  }),
];
