// The runs service: starts runs of workflows, reads them back with their steps, lists and cancels
// them. A run is a task of its workflow's agent (`wf.<name>`, created on first use), so it queues,
// times out, is cancelled and streams its events like any task; this service only prepares it and
// joins the run's record with its task's.
import type { Bus, Subscription } from '../runtime/bus/bus.js';
import { isoNow, type Clock } from '../runtime/clock.js';
import type { Config } from '../runtime/config.js';
import { AuroraError } from '../runtime/errors.js';
import { newTaskId } from '../runtime/ids.js';
import type { Logger } from '../runtime/logger.js';
import type { RunRecord, RunSummary, TaskRecord, TaskRequest } from '../runtime/protocol/index.js';
import { call, serveOperation } from '../runtime/rpc.js';
import { committed, type Store } from '../runtime/store/index.js';
import type { RunRow } from '../runtime/store/runs.js';
import type { Subjects } from '../runtime/subjects.js';
import { checkInput, ensureWorkflowAgent, getWorkflow, prepareRun, workflowAgentName } from './workflow-runs.js';

/**
 * A run's task is retried this many times when its agent's actor crashes under it: the retry
 * resumes from the checkpoints, so no completed step runs again.
 */
const RUN_RETRIES = 3;
/** Inputs longer than this are not copied into the task's prompt (the run's record has them). */
const PROMPT_INPUT_MAX = 16_384;

export interface RunsServiceDeps {
  bus: Bus;
  subjects: Subjects;
  store: Store;
  clock: Clock;
  logger: Logger;
  config: Pick<Config, 'busRequestTimeoutMs'>;
}

export function createRunsService(deps: RunsServiceDeps) {
  const { bus, subjects, store, clock, config } = deps;
  const subscriptions: Subscription[] = [];
  // Runs live beside their agents in each node's store, so the registry's queue group serves them.
  const opts = { queue: subjects.queue('registry'), logger: deps.logger };

  async function start({ run_id, workflow: name, input, timeout_ms }: { run_id?: string; workflow: string; input: unknown; timeout_ms?: number }) {
    const workflow = getWorkflow(store, name);
    checkInput(workflow, input);
    const agent = await ensureWorkflowAgent(deps, name);
    const runId = run_id ?? newTaskId(clock);
    prepareRun(store, clock, runId, workflow, input);
    if (!(await committed(store))) throw new AuroraError('internal', 'the run could not be stored');
    const text = JSON.stringify(input ?? null);
    const request: TaskRequest = {
      task_id: runId,
      agent,
      prompt: text.length <= PROMPT_INPUT_MAX ? text : `(input of ${text.length} characters: GET /api/v1/runs/${runId})`,
      parameters: { retries: RUN_RETRIES, ...(timeout_ms !== undefined && { timeout_ms }) },
      trace: { run_id: runId, path: [], lineage: [runId] },
    };
    try {
      await call(bus, subjects.agent(agent, 'submit'), request, config.busRequestTimeoutMs);
    } catch (err) {
      const message = err instanceof AuroraError ? err.message : 'the run could not be handed to its agent';
      store.runs.finished(runId, { error: message, error_code: err instanceof AuroraError ? err.code : 'internal', tokens: 0, at: isoNow(clock) });
      throw err;
    }
    return { run_id: runId, workflow: name, version: workflow.version, agent, status: 'queued' as const };
  }

  function summary(run: RunRow, task: TaskRecord | undefined): RunSummary {
    return {
      run_id: run.run_id,
      workflow: run.workflow,
      version: run.version,
      // No task: the run was never accepted by its agent (start() recorded why).
      status: task?.status ?? (run.finished_at !== null ? 'failed' : 'queued'),
      error: task?.error ?? run.error,
      error_code: task?.error_code ?? run.error_code,
      parent_run_id: run.parent_run_id,
      created_at: run.created_at,
      started_at: task?.started_at ?? run.started_at,
      completed_at: task?.completed_at ?? run.finished_at,
      duration_ms: task?.duration_ms ?? null,
      tokens: run.tokens,
    };
  }

  function get(runId: string): RunRecord {
    const run = store.runs.get(runId);
    if (run === undefined) throw new AuroraError('run_not_found', `Run ${runId} not found`);
    const record: RunRecord = { ...summary(run, store.tasks.get(runId)), input: run.input, steps: store.runs.steps(runId) };
    if (run.output !== null) record.output = run.output;
    return record;
  }

  return {
    start(): void {
      subscriptions.push(
        serveOperation(bus, subjects, 'runs.start', start, opts),
        serveOperation(bus, subjects, 'runs.get', ({ run_id }) => get(run_id), opts),
        serveOperation(bus, subjects, 'runs.list', ({ limit, cursor, workflow, status }) => {
          const page = store.runs.page({
            limit,
            ...(cursor !== undefined && { cursor }),
            ...(workflow !== undefined && { workflow }),
            ...(status !== undefined && { status }),
          });
          return { runs: page.runs.map((r) => summary(r, store.tasks.get(r.run_id))), next_cursor: page.next_cursor };
        }, opts),
        serveOperation(bus, subjects, 'runs.cancel', async ({ run_id }) => {
          const run = get(run_id);
          if (run.status === 'queued' || run.status === 'running') {
            // Cancelling the run's task stops its machine, which stops every step down to the LLM calls.
            await call(bus, subjects.agent(workflowAgentName(run.workflow), 'cancel'), { task_id: run_id }, config.busRequestTimeoutMs);
            await committed(store);
          }
          return get(run_id);
        }, opts),
      );
    },
    stop(): void {
      for (const s of subscriptions.splice(0)) s.unsubscribe();
    },
  };
}
