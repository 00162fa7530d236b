// Runs of workflows as the runs service and the gateway exchange them. A run is a task of the
// workflow's agent (run_id = task_id), so its status and timings are the task's.
import { Type, type Static } from '@sinclair/typebox';
import { TASK_STATUSES, type TaskStatus } from './tasks.js';
import { Nullable } from './common.js';
import { RunRecord } from './workflows.js';

export const RunStartCommand = Type.Object({
  /** Chosen by the gateway, so that a retry with the same Idempotency-Key can join the run. */
  run_id: Type.Optional(Type.String()),
  workflow: Type.String(),
  input: Type.Unknown(),
  timeout_ms: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type RunStartCommand = Static<typeof RunStartCommand>;

export const RunStarted = Type.Object({
  run_id: Type.String(),
  workflow: Type.String(),
  version: Type.Integer(),
  agent: Type.String({ description: 'The workflow agent that runs it' }),
  status: Type.Literal('queued'),
});
export type RunStarted = Static<typeof RunStarted>;

export const RunRef = Type.Object({ run_id: Type.String() });

export const RunSummary = Type.Omit(RunRecord, ['steps', 'input', 'output']);
export type RunSummary = Static<typeof RunSummary>;

export const RunListQuery = Type.Object({
  limit: Type.Integer({ minimum: 1 }),
  cursor: Type.Optional(Type.String()),
  workflow: Type.Optional(Type.String()),
  status: Type.Optional(Type.Unsafe<TaskStatus>({ type: 'string', enum: TASK_STATUSES })),
});
export type RunListQuery = Static<typeof RunListQuery>;

export const RunPage = Type.Object({
  runs: Type.Array(RunSummary),
  next_cursor: Nullable('string', { description: 'Pass as ?cursor= for the next page' }),
});
export type RunPage = Static<typeof RunPage>;
