// Preparing a run of a workflow: its input checked against the workflow's input_schema and its
// record written with a copy of the graph (a run keeps the version it started with). The runs
// service does it for POST /api/v1/workflows/{name}/runs; a workflow agent does it itself when it
// is handed a task nobody prepared (a step of another run, or a task sent to it directly).
import type { EffectContext } from '../actors/kind.js';
import { isoNow, type Clock } from '../runtime/clock.js';
import { AuroraError } from '../runtime/errors.js';
import type { RunTrace, WorkflowRecord } from '../runtime/protocol/index.js';
import type { Store } from '../runtime/store/index.js';
import type { RunRow } from '../runtime/store/runs.js';
import { compileUserSchema } from '../runtime/validation.js';

/** Workflow agents are named after their workflow: `wf.<name>`. */
export const WORKFLOW_AGENT_PREFIX = 'wf.';
export const workflowAgentName = (workflow: string): string => `${WORKFLOW_AGENT_PREFIX}${workflow}`;

export function getWorkflow(store: Store, name: string): WorkflowRecord {
  const workflow = store.workflows.get(name);
  if (workflow === undefined) throw new AuroraError('workflow_not_found', `Workflow ${name} not found`);
  return workflow;
}

export function checkInput(workflow: WorkflowRecord, input: unknown): void {
  if (workflow.input_schema === null) return;
  const check = compileUserSchema(workflow.input_schema);
  // The schema was compiled when the workflow was written; a failure here is a defect.
  if (typeof check === 'string') throw new Error(`workflow ${workflow.name}: input_schema does not compile: ${check}`);
  const result = check(input);
  if (!result.ok) throw new AuroraError('invalid_request', `input does not match the input_schema of ${workflow.name}: ${result.errors.join('; ')}`);
}

/** Writes the run's record; `parent` is the trace of the step that started it, if any. */
export function prepareRun(store: Store, clock: Clock, runId: string, workflow: WorkflowRecord, input: unknown, parent?: RunTrace): RunRow {
  checkInput(workflow, input);
  store.runs.insert({
    run_id: runId,
    workflow: workflow.name,
    version: workflow.version,
    agent: workflowAgentName(workflow.name),
    graph: workflow.graph,
    input,
    parent_run_id: parent?.run_id ?? null,
    root_run_id: parent?.lineage[0] ?? runId,
    created_at: isoNow(clock),
  });
  return store.runs.get(runId)!;
}

/** A task a workflow agent got without a prepared run: its prompt is the input (JSON, or the text). */
export function startNestedRun(store: Store, clock: Clock, ctx: EffectContext): RunRow {
  const name = (ctx.agent.config as { workflow: string }).workflow;
  let input: unknown = ctx.task.prompt;
  try {
    input = JSON.parse(ctx.task.prompt);
  } catch {
    // Plain text is an input too.
  }
  return prepareRun(store, clock, ctx.taskId, getWorkflow(store, name), input, ctx.task.trace);
}
