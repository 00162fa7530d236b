// Tasks: run one, run a batch, look one up, list, cancel. A task goes to the agent's own subject
// and is answered by the node hosting that agent; history and cancellation go to the tasks service.
import { AuroraError, toErrorPayload } from '../../runtime/errors.js';
import { newTaskId } from '../../runtime/ids.js';
import { AGENT_NAME_PATTERN, TASK_STATUSES, type TaskListQuery, type TaskRequest } from '../../runtime/protocol/index.js';
import type { GatewayDeps } from '../deps.js';
import type { HandlerRequest, HandlerResponse } from '../http.js';
import { route, type Route } from '../router.js';
import type { TaskBatchBody, TaskExecuteBody } from '../schemas.js';
import { IDEMPOTENCY_HEADER, idempotent } from '../idempotency.js';
import { answerFromRecord } from '../task-answer.js';
import { ask, runTask, submitTask } from '../service-client.js';
import { acceptsEventStream } from '../sse.js';
import { nextPageHeaders, pageParams } from './paging.js';
import { pathParam, queryEnum, queryPattern, queryString } from './params.js';
import { executeAsEventStream, streamTaskEvents } from './task-stream.js';

export interface BatchFailure {
  task_id: string;
  agent: string;
  status: 'failed';
  error: string;
  error_code: string;
}

function toRequest(body: TaskExecuteBody, taskId: string = newTaskId()): TaskRequest {
  const request: TaskRequest = { task_id: taskId, agent: body.agent, prompt: body.prompt, parameters: body.parameters };
  if (body.thread_id !== undefined) request.thread_id = body.thread_id;
  return request;
}

/** How long a task's request may wait: its own timeout, then the bus's margin. */
const taskBudgetMs = (body: TaskExecuteBody, deps: GatewayDeps): number =>
  (body.parameters.timeout_ms ?? deps.config.taskTimeoutMs) + deps.config.busRequestTimeoutMs;

const executeJson = idempotent<TaskExecuteBody>(
  {
    operation: 'POST /api/v1/tasks/execute',
    task: {
      // A retry of a request whose task still runs waits for that task, and answers as it would have.
      join: async (taskId, req, deps) => ({
        status: 200,
        body: answerFromRecord(await ask(deps, 'tasks.wait', { task_id: taskId, timeout_ms: taskBudgetMs(req.body, deps) }, taskBudgetMs(req.body, deps) + deps.config.busRequestTimeoutMs)),
      }),
      pendingMs: (req, deps) => taskBudgetMs(req.body, deps) + deps.config.busRequestTimeoutMs,
    },
  },
  newTaskId,
  async (req, deps, taskId) => ({ status: 200, body: await runTask(deps, toRequest(req.body, taskId)) }),
);

/** With Accept: text/event-stream the task's events stream as they happen (routes/task-stream.ts). */
const execute = async (req: HandlerRequest<TaskExecuteBody>, deps: GatewayDeps): Promise<HandlerResponse> => {
  if (!acceptsEventStream(req.headers.accept)) return executeJson(req, deps);
  if (req.headers[IDEMPOTENCY_HEADER] !== undefined) {
    throw new AuroraError('invalid_request', 'Idempotency-Key is not supported with Accept: text/event-stream; a retry can follow GET /api/v1/tasks/{id}/events');
  }
  return executeAsEventStream(deps, toRequest(req.body));
};

/** Accepted into the agent's mailbox; its progress is GET /api/v1/tasks/{id} and the stream. */
const submit = idempotent<TaskExecuteBody>(
  {
    operation: 'POST /api/v1/tasks/',
    task: {
      join: async (taskId) => accepted(taskId),
      pendingMs: (req, deps) => taskBudgetMs(req.body, deps),
    },
  },
  newTaskId,
  async (req, deps, taskId) => {
    const { task_id } = await submitTask(deps, toRequest(req.body, taskId));
    return accepted(task_id);
  },
);

function accepted(taskId: string): HandlerResponse {
  return { status: 202, body: { task_id: taskId, status: 'queued' }, headers: { location: `/api/v1/tasks/${taskId}` } };
}

/**
 * Every task is sent at once, in input order (the runtime keeps per-agent mailbox order), and the
 * answer lists one outcome per input in the same order: a failure of one task fails only that item.
 */
const batch = idempotent<TaskBatchBody>({ operation: 'POST /api/v1/tasks/execute/batch' }, newTaskId, async (req, deps) => {
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
});

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
    eventStream: true,
    summary: 'Run one task and wait for its result (Accept: text/event-stream: its events as they happen, then the result)',
  }),
  route({
    method: 'POST',
    path: '/api/v1/tasks/',
    scope: 'tasks:execute',
    handler: submit,
    body: 'TaskExecuteRequest',
    responses: { 202: 'TaskSubmitted' },
    summary: 'Submit a task and return at once (202 with its id; Location: /api/v1/tasks/{id})',
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
    method: 'GET',
    path: '/api/v1/tasks/:id/events',
    scope: 'tasks:read',
    handler: streamTaskEvents,
    responses: { 200: 'EventStream', 204: 'Text' },
    summary: "A task's events as Server-Sent Events, ending after its final event (Last-Event-ID resumes; 204 when there is nothing left to resume)",
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
