// Threads: an agent's conversations. A task sent with `thread_id` sees the thread's history and
// adds its turns to it; these routes create, read, page through and delete threads.
import type { GatewayDeps } from '../deps.js';
import type { HandlerRequest, HandlerResponse } from '../http.js';
import { route, type Route } from '../router.js';
import type { ThreadCreateBody } from '../schemas.js';
import { ask } from '../service-client.js';
import { nextPageHeaders, pageParams } from './paging.js';
import { pathParam, queryInt } from './params.js';

/** Most messages one GET of a thread returns (the newest ones). */
export const THREAD_MESSAGES_MAX = 1000;

const create = async (req: HandlerRequest<ThreadCreateBody>, deps: GatewayDeps): Promise<HandlerResponse> => ({
  status: 201,
  body: await ask(deps, 'threads.create', { agent: pathParam(req, 'name'), title: req.body.title ?? null }),
});

const list = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => {
  const agent = pathParam(req, 'name');
  const page = await ask(deps, 'threads.list', { agent, ...pageParams(req) });
  const path = `/api/v1/agents/${encodeURIComponent(agent)}/threads`;
  return { status: 200, body: page, headers: nextPageHeaders(path, req.query, page.next_cursor) };
};

const get = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => {
  const limit = queryInt(req, 'limit', { min: 1, max: THREAD_MESSAGES_MAX, fallback: THREAD_MESSAGES_MAX });
  return { status: 200, body: await ask(deps, 'threads.get', { thread_id: pathParam(req, 'id'), limit }) };
};

const remove = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => {
  const { thread_id } = await ask(deps, 'threads.delete', { thread_id: pathParam(req, 'id') });
  return { status: 200, body: { message: `Thread ${thread_id} deleted successfully` } };
};

export const threadRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: '/api/v1/agents/:name/threads',
    scope: 'tasks:execute',
    handler: create,
    body: 'ThreadCreateRequest',
    responses: { 201: 'ThreadRecord' },
    summary: 'Start a conversation with an agent',
  }),
  route({
    method: 'GET',
    path: '/api/v1/agents/:name/threads',
    scope: 'tasks:read',
    handler: list,
    responses: { 200: 'ThreadPage' },
    summary: "List an agent's threads, newest first (?limit=&cursor=)",
  }),
  route({
    method: 'GET',
    path: '/api/v1/threads/:id',
    scope: 'tasks:read',
    handler: get,
    responses: { 200: 'ThreadDetail' },
    summary: 'Read a thread and its newest messages (?limit=)',
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/threads/:id',
    scope: 'tasks:execute',
    handler: remove,
    responses: { 200: 'ThreadDeleted' },
    summary: 'Delete a thread and its messages',
  }),
];
