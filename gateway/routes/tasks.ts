// Tasks: run one, run a batch, look one up, list, cancel. A task goes to the agent's own subject
// and is answered by the node hosting that agent; history and cancellation go to the tasks service.
import { AuroraError, toErrorPayload } from '../../runtime/errors.js';
import { newTaskId } from '../../runtime/ids.js';
import { AGENT_NAME_PATTERN, TASK_STATUSES, type TaskListQuery, type TaskRequest } from '../../runtime/protocol/index.js';
import type { GatewayDeps } from '../deps.js';
import type { HandlerRequest, HandlerResponse } from '../http.js';
import { route, type Route } from '../router.js';
import type { TaskBatchBody, TaskExecuteBody } from '../schemas.js';
import { ask, runTask } from '../service-client.js';
import { nextPageHeaders, pageParams } from './paging.js';
import { pathParam, queryEnum, queryPattern, queryString } from './params.js';

export interface BatchFailure {
  task_id: string;
  agent: string;
  status: 'failed';
  error: string;
  error_code: string;
}

function toRequest(body: TaskExecuteBody): TaskRequest {
  const request: TaskRequest = { task_id: newTaskId(), agent: body.agent, prompt: body.prompt, parameters: body.parameters };
  if (body.thread_id !== undefined) request.thread_id = body.thread_id;
  return request;
}

const execute = async (req: HandlerRequest<TaskExecuteBody>, deps: GatewayDeps): Promise<HandlerResponse> => ({
  status: 200,
  body: await runTask(deps, toRequest(req.body)),
});

/**
 * Every task is sent at once, in input order (the runtime keeps per-agent mailbox order), and the
 * answer lists one outcome per input in the same order: a failure of one task fails only that item.
 */
const batch = async (req: HandlerRequest<TaskBatchBody>, deps: GatewayDeps): Promise<HandlerResponse> => {
  const { tasks } = req.body;
  if (tasks.length > deps.config.batchMaxTasks) {
    throw new AuroraError(
      'invalid_request',
      `tasks: at most ${deps.config.batchMaxTasks} tasks per batch, got ${tasks.length}`,
    );
  }
  const outcomes = await Promise.all(
    tasks.map((task) => {
      const request = toRequest(task);
      return runTask(deps, request).catch((err: unknown): BatchFailure => {
        if (!(err instanceof AuroraError)) {
          deps.logger.error('batch task failed with a defect', {
            request_id: req.headers['x-request-id'],
            task_id: request.task_id,
            agent: request.agent,
            err,
          });
        }
        const payload = toErrorPayload(err);
        return { task_id: request.task_id, agent: request.agent, status: 'failed', error: payload.message, error_code: payload.code };
      });
    }),
  );
  return { status: 200, body: outcomes };
};

const get = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => ({
  status: 200,
  body: await ask(deps, 'tasks.get', { task_id: pathParam(req, 'id') }),
});

/** The seed's plain array, newest first; the next page is in the Link and X-Next-Cursor headers. */
const list = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => {
  const agent = queryPattern(req, 'agent', AGENT_NAME_PATTERN);
  const agentId = queryString(req, 'agent_id', 64);
  const status = queryEnum(req, 'status', TASK_STATUSES);
  const query: TaskListQuery = pageParams(req);
  if (agent !== undefined) query.agent = agent;
  if (agentId !== undefined) query.agent_id = agentId;
  if (status !== undefined) query.status = status;
  const page = await ask(deps, 'tasks.list', query);
  return { status: 200, body: page.tasks, headers: nextPageHeaders('/api/v1/tasks/', req.query, page.next_cursor) };
};

const cancel = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => ({
  status: 200,
  body: await ask(deps, 'tasks.cancel', { task_id: pathParam(req, 'id') }),
});

export const taskRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: '/api/v1/tasks/execute',
    scope: 'tasks:execute',
    handler: execute,
    body: 'TaskExecuteRequest',
    responses: { 200: 'TaskResult' },
    summary: 'Run one task and wait for its result',
  }),
  route({
    method: 'POST',
    path: '/api/v1/tasks/execute/batch',
    scope: 'tasks:execute',
    handler: batch,
    body: 'TaskBatchRequest',
    responses: { 200: 'TaskBatchResult' },
    summary: 'Run several tasks; one outcome per input, in input order',
  }),
  route({
    method: 'GET',
    path: '/api/v1/tasks/',
    scope: 'tasks:read',
    handler: list,
    responses: { 200: 'TaskList' },
    summary: 'List tasks, newest first (?agent=&agent_id=&status=&limit=&cursor=; next page in the Link header)',
  }),
  route({
    method: 'GET',
    path: '/api/v1/tasks/:id',
    scope: 'tasks:read',
    handler: get,
    responses: { 200: 'TaskRecord' },
    summary: 'Get a task',
  }),
  route({
    method: 'POST',
    path: '/api/v1/tasks/:id/cancel',
    scope: 'tasks:execute',
    handler: cancel,
    responses: { 200: 'TaskCancelled' },
    summary: 'Cancel a queued or running task',
  }),
];
