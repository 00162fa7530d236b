// Agents: create, list, inspect, delete, and the operator commands restart and fault.
// Every answer comes from the registry service over the bus.
import { AGENT_STATUSES, LIMITS, type AgentDefinition, type AgentListQuery } from '../../runtime/protocol/index.js';
import type { GatewayDeps } from '../deps.js';
import type { HandlerRequest, HandlerResponse } from '../http.js';
import { route, type Route } from '../router.js';
import { newId } from '../../runtime/ids.js';
import { idempotent } from '../idempotency.js';
import { kindNames, providerNames } from '../kinds.js';
import type { AgentCreateBody, AgentUpdateBody } from '../schemas.js';
import { ask } from '../service-client.js';
import { nextPageHeaders, pageParams } from './paging.js';
import { assertKnown, pathParam, queryBool, queryEnum, queryString } from './params.js';

const nameParam = (req: HandlerRequest): string => pathParam(req, 'name');

const LIST_PATH = '/api/v1/agents/';
/** Any of these asks for the page form; without them the answer is the seed's plain array. */
const PAGE_FORM_PARAMS = ['limit', 'cursor', 'status', 'kind', 'model'] as const;

/**
 * Without query parameters: the plain array of the first AGENTS_LIST_MAX agents, and when there
 * are more, a Link to the page form that continues it. With any of PAGE_FORM_PARAMS: a page.
 */
const list = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => {
  if (!PAGE_FORM_PARAMS.some((p) => req.query[p] !== undefined)) {
    const limit = deps.config.agentsListMax;
    const page = await ask(deps, 'registry.list', { limit });
    return {
      status: 200,
      body: page.agents,
      schema: 'AgentList',
      headers: nextPageHeaders(LIST_PATH, { limit: String(limit) }, page.next_cursor),
    };
  }
  const query: AgentListQuery = pageParams(req);
  const status = queryEnum(req, 'status', AGENT_STATUSES);
  const kind = queryString(req, 'kind', 64);
  const model = queryString(req, 'model', LIMITS.modelNameMaxLength);
  if (status !== undefined) query.status = status;
  if (kind !== undefined) query.kind = kind;
  if (model !== undefined) query.model = model;
  const page = await ask(deps, 'registry.list', query);
  return { status: 200, body: page, schema: 'AgentPage', headers: nextPageHeaders(LIST_PATH, req.query, page.next_cursor) };
};

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

const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** Its tasks and threads stay readable unless ?purge=true, which removes them in the same transaction. */
const remove = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => {
  const purge = queryBool(req, 'purge') ?? false;
  const { name, tasks_deleted, threads_deleted } = await ask(deps, 'registry.delete', { name: nameParam(req), purge });
  if (tasks_deleted === null || threads_deleted === null) {
    return { status: 200, body: { message: `Agent ${name} deleted successfully` } };
  }
  return {
    status: 200,
    body: {
      message: `Agent ${name} deleted successfully with its history: ${count(tasks_deleted, 'task')} and ${count(threads_deleted, 'thread')}`,
      tasks_deleted,
      threads_deleted,
    },
  };
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
    responses: { 200: 'AgentListing' },
    summary: 'List agents: a plain array without parameters, a page with ?limit=&cursor=&status=&kind=&model=',
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
    responses: { 200: 'AgentDeleted' },
    summary: 'Delete an agent; its tasks and threads stay readable unless ?purge=true',
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
