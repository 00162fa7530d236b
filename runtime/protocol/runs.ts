// Runs of workflows as the runs service and the gateway exchange them. A run is a task of the
// workflow's agent (run_id = task_id), so its status and timings are the task's.
import { Type, type Static } from '@sinclair/typebox';
import { TASK_STATUSES, type TaskStatus } from './tasks.js';
import { Nullable } from './common.js';
import { EXAMPLE } from './examples.js';
import { RUN_SUMMARY_EXAMPLE, RunRecord } from './workflows.js';

export const RunStartCommand = Type.Object({
  /** Chosen by the gateway, so that a retry with the same Idempotency-Key can join the run. */
  run_id: Type.Optional(Type.String()),
  workflow: Type.String(),
  input: Type.Unknown(),
  timeout_ms: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type RunStartCommand = Static<typeof RunStartCommand>;

export const RunStarted = Type.Object(
  {
    run_id: Type.String({ description: 'Id of the run: GET /api/v1/runs/{id}' }),
    workflow: Type.String({ description: 'Workflow it runs' }),
    version: Type.Integer({ description: 'The version of the workflow it started with' }),
    agent: Type.String({ description: 'The workflow agent that runs it' }),
    status: Type.Literal('queued', { description: 'Always `queued`: the run is accepted' }),
  },
  { examples: [{ run_id: EXAMPLE.runId, workflow: EXAMPLE.workflow, version: 1, agent: `wf.${EXAMPLE.workflow}`, status: 'queued' }] },
);
export type RunStarted = Static<typeof RunStarted>;

export const RunRef = Type.Object({ run_id: Type.String() });

export const RunSummary = Type.Omit(RunRecord, ['steps', 'input', 'output'], { examples: [RUN_SUMMARY_EXAMPLE] });
export type RunSummary = Static<typeof RunSummary>;

export const RunListQuery = Type.Object({
  limit: Type.Integer({ minimum: 1 }),
  cursor: Type.Optional(Type.String()),
  workflow: Type.Optional(Type.String()),
  status: Type.Optional(Type.Unsafe<TaskStatus>({ type: 'string', enum: TASK_STATUSES })),
});
export type RunListQuery = Static<typeof RunListQuery>;

export const RunPage = Type.Object(
  {
    runs: Type.Array(RunSummary, { description: 'Runs of this page, newest first' }),
    next_cursor: Nullable('string', { description: 'Pass as ?cursor= for the next page' }),
  },
  { examples: [{ runs: [RUN_SUMMARY_EXAMPLE], next_cursor: null }] },
);
export type RunPage = Static<typeof RunPage>;
