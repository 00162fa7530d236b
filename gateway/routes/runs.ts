// Runs of workflows: start one (waiting for its end, or in the background), read one with its
// steps, list, cancel. A run is a task of the workflow's agent, so it is read and cancelled with
// the tasks scopes, and its events (and its steps', with their paths) are on the stream.
import { TASK_STATUSES, type RunBody } from '../../runtime/protocol/index.js';
import { newTaskId } from '../../runtime/ids.js';
import type { GatewayDeps } from '../deps.js';
import type { HandlerRequest, HandlerResponse } from '../http.js';
import { idempotent } from '../idempotency.js';
import { route, type Route } from '../router.js';
import { ask } from '../service-client.js';
import { nextPageHeaders, pageParams } from './paging.js';
import { pathParam, queryEnum, queryString } from './params.js';

/** How long a run's request may wait: its own timeout, then the bus's margin. */
const runBudgetMs = (body: RunBody, deps: GatewayDeps): number => (body.timeout_ms ?? deps.config.taskTimeoutMs) + deps.config.busRequestTimeoutMs;

/** The run once it has ended (its own timeout ends it, as failed, before this wait gives up). */
async function finished(runId: string, req: HandlerRequest<RunBody>, deps: GatewayDeps): Promise<HandlerResponse> {
  const budgetMs = runBudgetMs(req.body, deps);
  await ask(deps, 'tasks.wait', { task_id: runId, timeout_ms: budgetMs }, budgetMs + deps.config.busRequestTimeoutMs);
  return { status: 200, body: await ask(deps, 'runs.get', { run_id: runId }), headers: { location: `/api/v1/runs/${runId}` } };
}

const start = idempotent<RunBody>(
  {
    operation: 'POST /api/v1/workflows/:name/runs',
    task: {
      // A retry while the first request's run goes on joins that run instead of starting another.
      join: async (runId, req, deps) => {
        if (req.body.mode === 'wait') return finished(runId, req, deps);
        const run = await ask(deps, 'runs.get', { run_id: runId });
        const body = { run_id: runId, workflow: run.workflow, version: run.version, agent: `wf.${run.workflow}`, status: 'queued' };
        return { status: 202, body, headers: { location: `/api/v1/runs/${runId}` } };
      },
      pendingMs: (req, deps) => runBudgetMs(req.body, deps) + deps.config.busRequestTimeoutMs,
    },
  },
  newTaskId,
  async (req, deps, runId) => {
    const { input, mode, timeout_ms } = req.body;
    const started = await ask(deps, 'runs.start', {
      workflow: pathParam(req, 'name'),
      input,
      ...(runId !== undefined && { run_id: runId }),
      ...(timeout_ms !== undefined && { timeout_ms }),
    });
    if (mode === 'background') return { status: 202, body: started, headers: { location: `/api/v1/runs/${started.run_id}` } };
    return finished(started.run_id, req, deps);
  },
);

const get = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => ({
  status: 200,
  body: await ask(deps, 'runs.get', { run_id: pathParam(req, 'id') }),
});

const list = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => {
  const workflow = queryString(req, 'workflow', 64);
  const status = queryEnum(req, 'status', TASK_STATUSES);
  const page = await ask(deps, 'runs.list', {
    ...pageParams(req),
    ...(workflow !== undefined && { workflow }),
    ...(status !== undefined && { status }),
  });
  return { status: 200, body: page, headers: nextPageHeaders('/api/v1/runs', req.query, page.next_cursor) };
};

const cancel = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => ({
  status: 200,
  body: await ask(deps, 'runs.cancel', { run_id: pathParam(req, 'id') }),
});

export const runRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: '/api/v1/workflows/:name/runs',
    scope: 'tasks:execute',
    handler: start,
    body: 'RunRequest',
    responses: { 200: 'RunRecord', 202: 'RunStarted' },
    summary: 'Run a workflow: mode wait answers the finished run (200), background answers at once (202, Location: /api/v1/runs/{id})',
  }),
  route({
    method: 'GET',
    path: '/api/v1/runs',
    scope: 'tasks:read',
    handler: list,
    responses: { 200: 'RunPage' },
    summary: 'List runs, newest first (?workflow=&status=&limit=&cursor=)',
  }),
  route({
    method: 'GET',
    path: '/api/v1/runs/:id',
    scope: 'tasks:read',
    handler: get,
    responses: { 200: 'RunRecord' },
    summary: 'Get a run with every step it ran (path, status, attempts, input, output, error, tokens, timings)',
  }),
  route({
    method: 'POST',
    path: '/api/v1/runs/:id/cancel',
    scope: 'tasks:execute',
    handler: cancel,
    responses: { 200: 'RunRecord' },
    summary: 'Cancel a run: every step it started stops, down to the LLM calls',
  }),
];
