// The effects a workflow run asks its host for. The host performs them with the node's
// capabilities (supervisors/capabilities/workflow.ts): the machine only decides.
import type { RunTrace, WorkflowNode } from '../../runtime/protocol/index.js';

/** Loads what a run needs: its graph (the version it started with), its input, its checkpoints. */
export const WORKFLOW_LOAD = 'workflow.load';
/** Runs one step: a task on an agent, over the bus, checkpointed when it completes. */
export const WORKFLOW_STEP = 'workflow.step';
/** Waits (a retry's backoff, a node's timeout). */
export const WORKFLOW_TIMER = 'workflow.timer';
/** Records how the run ended (its record, metrics) before the task's outcome is recorded. */
export const WORKFLOW_FINISH = 'workflow.finish';

export interface LoadInput {
  run_id: string;
}

export interface LoadOutput {
  graph: WorkflowNode;
  input: unknown;
  /** Completed steps of earlier incarnations of the run, by path. */
  checkpoints: { path: string[]; output: unknown; tokens: number }[];
  /** Steps a dead process left running: each counts as a failed attempt (code `interrupted`). */
  interrupted: { path: string[]; attempts: number }[];
  /** The run's place in the tree of runs; its steps' tasks are traced below it. */
  trace: RunTrace;
}

export interface StepInput {
  run_id: string;
  /** The run's trace (LoadOutput.trace); the step's task is traced at trace.path + path. */
  trace: RunTrace;
  path: string[];
  node_id: string;
  type: string;
  agent: string;
  prompt: string;
  attempt: number;
  thread_id?: string;
  output_schema?: Record<string, unknown>;
  timeout_ms?: number;
}

export interface StepOutput {
  output: unknown;
  tokens: number;
}

export interface TimerInput {
  ms: number;
}

export interface FinishInput {
  run_id: string;
  status: 'completed' | 'failed';
  output?: unknown;
  error?: string;
  code?: string;
  tokens: number;
}
