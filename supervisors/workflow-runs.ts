// Preparing a run of a workflow: its input checked against the workflow's input_schema and its
// record written with a copy of the graph (a run keeps the version it started with). The runs
// service does it for POST /api/v1/workflows/{name}/runs; a workflow agent does it itself when it
// is handed a task nobody prepared (a step of another run, or a task sent to it directly).
import { NO_PROVIDER, type EffectContext } from '../actors/kind.js';
import type { Bus } from '../runtime/bus/bus.js';
import { isoNow, type Clock } from '../runtime/clock.js';
import type { Config } from '../runtime/config.js';
import { AuroraError } from '../runtime/errors.js';
import type { RunTrace, WorkflowRecord } from '../runtime/protocol/index.js';
import { callOperation } from '../runtime/rpc.js';
import type { Store } from '../runtime/store/index.js';
import type { Subjects } from '../runtime/subjects.js';
import type { RunRow } from '../runtime/store/runs.js';
import { compileUserSchema } from '../runtime/validation.js';

/** Workflow agents are named after their workflow: `wf.<name>`. */
export const WORKFLOW_AGENT_PREFIX = 'wf.';
export const workflowAgentName = (workflow: string): string => `${WORKFLOW_AGENT_PREFIX}${workflow}`;

/** The workflow a `wf.<name>` agent name stands for, if that workflow exists. */
export function workflowOfAgent(store: Store, agent: string): string | undefined {
  if (!agent.startsWith(WORKFLOW_AGENT_PREFIX)) return undefined;
  const name = agent.slice(WORKFLOW_AGENT_PREFIX.length);
  return store.workflows.get(name) === undefined ? undefined : name;
}

/**
 * The workflow's agent, created the first time the workflow runs (or is run by another workflow).
 * A user's agent of that name that runs something else is a conflict the user must resolve.
 */
export async function ensureWorkflowAgent(
  deps: { store: Store; bus: Bus; subjects: Subjects; config: Pick<Config, 'busRequestTimeoutMs'> },
  workflow: string,
): Promise<string> {
  const name = workflowAgentName(workflow);
  for (let tries = 0; tries < 2; tries++) {
    const existing = deps.store.agents.get(name);
    if (existing !== undefined) {
      if (existing.agent_type !== 'workflow' || (existing.config as { workflow?: unknown }).workflow !== workflow) {
        throw new AuroraError('agent_exists', `Agent ${name} exists and does not run workflow ${workflow}; rename or delete it`);
      }
      return name;
    }
    try {
      await callOperation(
        deps.bus,
        deps.subjects,
        'registry.create',
        { name, agent_type: 'workflow', model_name: 'workflow', provider: NO_PROVIDER, description: `Runs workflow ${workflow}`, config: { workflow } },
        deps.config.busRequestTimeoutMs,
      );
      return name;
    } catch (err) {
      // Another start created it meanwhile: look again.
      if (!(err instanceof AuroraError) || err.code !== 'agent_exists') throw err;
    }
  }
  return name;
}

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
