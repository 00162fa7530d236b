// Workflow definitions: create, list, read (the current version or ?version=N), replace (a new
// version) and delete (every version). The workflows service checks each definition and stores it.
import { newId } from '../../runtime/ids.js';
import type { GatewayDeps } from '../deps.js';
import type { HandlerRequest, HandlerResponse } from '../http.js';
import { idempotent } from '../idempotency.js';
import { route, type Route } from '../router.js';
import type { WorkflowCreateBody, WorkflowUpdateBody } from '../schemas.js';
import { ask } from '../service-client.js';
import { nextPageHeaders, pageParams } from './paging.js';
import { pathParam, queryInt } from './params.js';

const LIST_PATH = '/api/v1/workflows';
const pathOf = (name: string): string => `${LIST_PATH}/${encodeURIComponent(name)}`;

const create = idempotent<WorkflowCreateBody>({ operation: `POST ${LIST_PATH}` }, newId, async (req, deps) => {
  const record = await ask(deps, 'workflows.create', req.body);
  return { status: 201, body: record, headers: { location: pathOf(record.name) } };
});

const list = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => {
  const page = await ask(deps, 'workflows.list', pageParams(req));
  return { status: 200, body: page, headers: nextPageHeaders(LIST_PATH, req.query, page.next_cursor) };
};

const get = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => {
  const name = pathParam(req, 'name');
  const version = req.query.version === undefined ? undefined : queryInt(req, 'version', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 1 });
  return { status: 200, body: await ask(deps, 'workflows.get', { name, ...(version !== undefined && { version }) }) };
};

/** PUT replaces the definition whole: the answer is the new version. */
const update = async (req: HandlerRequest<WorkflowUpdateBody>, deps: GatewayDeps): Promise<HandlerResponse> => ({
  status: 200,
  body: await ask(deps, 'workflows.update', { name: pathParam(req, 'name'), ...req.body }),
});

const remove = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => {
  await ask(deps, 'workflows.delete', { name: pathParam(req, 'name') });
  return { status: 204, body: '' };
};

export const workflowRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: LIST_PATH,
    scope: 'workflows:write',
    handler: create,
    body: 'WorkflowCreateRequest',
    responses: { 201: 'WorkflowRecord' },
    summary: 'Create a workflow (version 1); Location: /api/v1/workflows/{name}',
  }),
  route({
    method: 'GET',
    path: LIST_PATH,
    scope: 'workflows:read',
    handler: list,
    responses: { 200: 'WorkflowPage' },
    summary: 'List workflows (their current versions) by name (?limit=&cursor=)',
  }),
  route({
    method: 'GET',
    path: `${LIST_PATH}/:name`,
    scope: 'workflows:read',
    handler: get,
    responses: { 200: 'WorkflowRecord' },
    summary: 'Get a workflow: its current version, or ?version=N',
  }),
  route({
    method: 'PUT',
    path: `${LIST_PATH}/:name`,
    scope: 'workflows:write',
    handler: update,
    body: 'WorkflowUpdateRequest',
    responses: { 200: 'WorkflowRecord' },
    summary: 'Replace a workflow\'s definition: a new version (runs keep the version they started with)',
  }),
  route({
    method: 'DELETE',
    path: `${LIST_PATH}/:name`,
    scope: 'workflows:write',
    handler: remove,
    responses: { 204: 'Text' },
    summary: 'Delete a workflow and every version of it',
  }),
];
