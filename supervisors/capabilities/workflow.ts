// What a workflow run asks its host for (actors/workflow/effects.ts). The run's machine decides;
// these do the I/O: read the run and its checkpoints, run a step as a task of another agent over
// the bus (never an object reference: the agent may live on another node), wait, record the end.
//
// Durability: a step's row is written `running` before its task is sent and `completed`, with its
// output, when the answer arrives; the machine hears of it only once that write is committed, so a
// step it built on is never lost. A process killed mid-step leaves the row `running`: the next
// load settles it from the step task's own record (completed → checkpoint) or reports it
// interrupted, which the run counts as a failed attempt and retries per the node's `retry`.
import type { CapabilityTable, EffectContext } from '../../actors/kind.js';
import {
  WORKFLOW_FINISH,
  WORKFLOW_LOAD,
  WORKFLOW_STEP,
  WORKFLOW_TIMER,
  type FinishInput,
  type LoadInput,
  type LoadOutput,
  type StepInput,
  type StepOutput,
  type TimerInput,
} from '../../actors/workflow/effects.js';
import type { Bus } from '../../runtime/bus/bus.js';
import { isoNow, type Clock } from '../../runtime/clock.js';
import type { Config } from '../../runtime/config.js';
import { AuroraError } from '../../runtime/errors.js';
import type { EventPublisher } from '../../runtime/events.js';
import { newTaskId } from '../../runtime/ids.js';
import type { Logger } from '../../runtime/logger.js';
import type { Metrics } from '../../runtime/metrics.js';
import type { AgentReplyOf, RunTrace, TaskRequest } from '../../runtime/protocol/index.js';
import { call } from '../../runtime/rpc.js';
import { committed, type Store } from '../../runtime/store/index.js';
import type { RunRow } from '../../runtime/store/runs.js';
import type { Subjects } from '../../runtime/subjects.js';
import { ensureWorkflowAgent, startNestedRun, WORKFLOW_AGENT_PREFIX, workflowOfAgent } from '../workflow-runs.js';

/** Kept back from the run's deadline so a step's answer can still travel before the run times out. */
const DEADLINE_MARGIN_MS = 50;

export interface WorkflowCapabilityDeps {
  store: Store;
  bus: Bus;
  subjects: Subjects;
  config: Pick<Config, 'agentCallMaxDepth' | 'busRequestTimeoutMs'>;
  clock: Clock;
  logger: Logger;
  events: EventPublisher;
  metrics: Metrics;
}

export function workflowCapabilities(deps: WorkflowCapabilityDeps): CapabilityTable {
  const { store, bus, subjects, config, clock, events, metrics } = deps;

  /** The run's own place: its trace, or one level below the trace of the step that started it. */
  function traceOf(run: RunRow, ctx: EffectContext): RunTrace {
    const given = ctx.task.trace;
    if (given === undefined) return { run_id: run.run_id, path: [], lineage: [run.run_id] };
    if (given.run_id === run.run_id) return given;
    return { run_id: run.run_id, path: given.path, lineage: [...given.lineage, run.run_id] };
  }

  async function load(raw: unknown, ctx: EffectContext): Promise<LoadOutput> {
    const { run_id: runId } = raw as LoadInput;
    const run = store.runs.get(runId) ?? startNestedRun(store, clock, ctx);
    store.runs.started(runId, isoNow(clock));
    const interrupted: LoadOutput['interrupted'] = [];
    for (const step of store.runs.steps(runId)) {
      if (step.status !== 'running') continue;
      const task = step.task_id === null ? undefined : store.tasks.get(step.task_id);
      const at = isoNow(clock);
      if (task?.status === 'completed') {
        // The step's task finished but the process died before the step was recorded.
        const output = task.output !== undefined ? task.output : task.result;
        store.runs.stepFinished(runId, step.path, { status: 'completed', output, tokens: task.tokens_used ?? 0, at });
      } else {
        const error = 'Aurora stopped while the step was running';
        store.runs.stepFinished(runId, step.path, { status: 'failed', error, error_code: 'interrupted', tokens: 0, at });
        interrupted.push({ path: step.path, attempts: step.attempts });
      }
    }
    await committed(store);
    return { graph: run.graph, input: run.input, checkpoints: store.runs.checkpoints(runId), interrupted, trace: traceOf(run, ctx) };
  }

  async function step(raw: unknown, ctx: EffectContext): Promise<StepOutput> {
    const input = raw as StepInput;
    const depth = (ctx.task.depth ?? 0) + 1;
    if (depth > config.agentCallMaxDepth) {
      throw new AuroraError(
        'invalid_request',
        `step ${input.path.join('/')} would make a chain of ${depth} agent calls; AGENT_CALL_MAX_DEPTH is ${config.agentCallMaxDepth}`,
      );
    }
    const remainingMs = Math.floor(ctx.deadlineAt - clock.now()) - DEADLINE_MARGIN_MS;
    if (remainingMs <= 0) throw new AuroraError('timeout', `no time left in the run for step ${input.path.join('/')}`);
    const timeoutMs = Math.min(input.timeout_ms ?? remainingMs, remainingMs);
    // A step that runs another workflow: its agent is made on first use, as a run of it would.
    // Only a wf.<name> agent can be a workflow's (checked by name first: no store read per step).
    const nested =
      input.agent.startsWith(WORKFLOW_AGENT_PREFIX) && store.agents.get(input.agent) === undefined ? workflowOfAgent(store, input.agent) : undefined;
    if (nested !== undefined) await ensureWorkflowAgent(deps, nested);
    const request: TaskRequest = {
      task_id: newTaskId(clock),
      agent: input.agent,
      prompt: input.prompt,
      parameters: { timeout_ms: timeoutMs, ...(input.output_schema !== undefined && { output_schema: input.output_schema }) },
      depth,
      trace: { run_id: input.trace.run_id, path: [...input.trace.path, ...input.path], lineage: input.trace.lineage },
      ...(input.thread_id !== undefined && { thread_id: input.thread_id }),
    };
    const runId = input.run_id;
    const startedAt = clock.now();
    store.runs.stepStarted(runId, input.path, {
      node_id: input.node_id,
      type: input.type,
      agent: input.agent,
      input: input.prompt,
      attempt: input.attempt,
      task_id: request.task_id,
      started_at: isoNow(clock),
    });
    const announce = (status: string, extra: Record<string, unknown> = {}) =>
      events.publish('run.step', {
        agent: ctx.agent.name,
        task_id: runId,
        trace: request.trace,
        payload: { status, path: input.path, node_id: input.node_id, agent: input.agent, step_task_id: request.task_id, attempt: input.attempt, ...extra },
      });
    announce('running');
    metrics.workflowStepsInFlight.inc();
    let ended = false;
    const end = (status: 'completed' | 'failed' | 'cancelled', fields: { output?: unknown; error?: string; error_code?: string; tokens: number }) => {
      if (ended) return;
      ended = true;
      metrics.workflowStepsInFlight.dec();
      metrics.workflowStepDuration.observe({ outcome: status }, (clock.now() - startedAt) / 1000);
      store.runs.stepFinished(runId, input.path, { status, ...fields, at: isoNow(clock) });
      announce(status, { duration_ms: clock.now() - startedAt, ...(fields.error_code !== undefined && { error: fields.error, code: fields.error_code }) });
    };
    const cancel = () => {
      // Recorded now, in the turn the run stops it: the run's record never shows it running after its end.
      end('cancelled', { error: 'the step was stopped', error_code: 'task_cancelled', tokens: 0 });
      // The step's task runs on its agent's node: it is told over the bus, and its answer ignored.
      call(bus, subjects.agent(input.agent, 'cancel'), { task_id: request.task_id }, config.busRequestTimeoutMs).catch((err: unknown) =>
        deps.logger.debug('cancel of a workflow step found nothing to cancel', { agent: input.agent, task_id: request.task_id, err }),
      );
    };
    ctx.signal.addEventListener('abort', cancel, { once: true });
    try {
      const reply = await call<AgentReplyOf<'task'>>(bus, subjects.agent(input.agent, 'task'), request, timeoutMs + config.busRequestTimeoutMs);
      const output = reply.output !== undefined ? reply.output : reply.result;
      end('completed', { output, tokens: reply.tokens_used });
      if (!(await committed(store))) throw new AuroraError('internal', `step ${input.path.join('/')} could not be recorded`);
      return { output, tokens: reply.tokens_used };
    } catch (err) {
      if (ctx.signal.aborted) throw new AuroraError('task_cancelled', 'the step was stopped');
      if (!(err instanceof AuroraError)) {
        end('failed', { error: 'internal error', error_code: 'internal', tokens: 0 });
        throw err;
      }
      end('failed', { error: err.message, error_code: err.code, tokens: 0 });
      throw new AuroraError(err.code, `${input.agent}: ${err.message}`, { cause: err });
    } finally {
      ctx.signal.removeEventListener('abort', cancel);
    }
  }

  function timer(raw: unknown, ctx: EffectContext): Promise<null> {
    const { ms } = raw as TimerInput;
    return new Promise((resolve, reject) => {
      if (ctx.signal.aborted) return reject(new AuroraError('task_cancelled', 'the timer was stopped'));
      const handle = clock.setTimeout(() => {
        ctx.signal.removeEventListener('abort', stop);
        resolve(null);
      }, ms);
      const stop = () => {
        handle.cancel();
        reject(new AuroraError('task_cancelled', 'the timer was stopped'));
      };
      ctx.signal.addEventListener('abort', stop, { once: true });
    });
  }

  async function finish(raw: unknown): Promise<null> {
    const input = raw as FinishInput;
    const workflow = store.runs.workflowOf(input.run_id);
    store.runs.finished(input.run_id, {
      output: input.output,
      ...(input.error !== undefined && { error: input.error }),
      ...(input.code !== undefined && { error_code: input.code }),
      tokens: input.tokens,
      at: isoNow(clock),
    });
    metrics.workflowRuns.inc({ workflow: workflow ?? 'unknown', outcome: input.status });
    await committed(store);
    return null;
  }

  return { [WORKFLOW_LOAD]: load, [WORKFLOW_STEP]: step, [WORKFLOW_TIMER]: timer, [WORKFLOW_FINISH]: finish };
}
