// The `llm` agent kind's machine: it holds the agent's running tasks (up to its slots) and moves
// each through its run (run.ts: history → think → tools → think … → answer).
//
// The machine knows nothing of buses, stores or HTTP and performs no I/O: it decides. Its host
// feeds it TASKs while a slot is free (the mailbox lives in the host, so it survives restarts),
// performs the effects the machine asks for with the node's capabilities, and answers with
// `effect.done` or `effect.failed` (the pipe-to-self pattern of Akka and Orleans). When the
// machine drops a task (CANCEL) or stops or crashes, the host aborts that task's effects. An
// invoked child actor per task would express the same, but creating, starting and stopping one
// cost a fifth of a task's CPU (A/B: 108 -> 87 us per task embedded, 135 -> 111 us over NATS;
// bench/RESULTS.md), so the runs are plain state inside this one actor.
//
// A crash is the agent's: one task's defect fails the machine, every task it held ends (or is
// retried) and the supervisor restarts the agent, exactly as with one task at a time.
import { enqueueActions, setup } from 'xstate';
import type { AgentDefinition } from '../../runtime/protocol/index.js';
import type { HostEvent, MachineEmitted } from '../kind.js';
import { cancelRun, effectDone, effectFailed, startRun, type Run, type Step } from './run.js';

export interface LlmContext {
  /** The definition new tasks start with (an update applies to the next task). */
  definition: AgentDefinition;
  /** Running tasks by id. Mutated in place: it is this actor's own state and never leaves it. */
  runs: Map<string, Run>;
  /** Why the machine failed, when it did (a defect throws instead; see effect.failed). */
  failure: unknown;
}

export const llmMachine = setup({
  types: {
    context: {} as LlmContext,
    events: {} as HostEvent,
    input: {} as { definition: AgentDefinition },
    emitted: {} as MachineEmitted,
  },
  actions: {
    injectFault: (_, params: { reason: string }) => {
      throw new Error(`Injected fault: ${params.reason}`);
    },
  },
}).createMachine({
  id: 'llm',
  context: ({ input }) => ({ definition: input.definition, runs: new Map(), failure: null }),
  initial: 'active',
  on: {
    FAULT: { actions: { type: 'injectFault', params: ({ event }) => ({ reason: event.reason }) } },
    STOP: '.stopped',
  },
  states: {
    active: {
      on: {
        TASK: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            // A second TASK for a task already running would be the host's bug; the first wins.
            if (context.runs.has(event.task.task_id)) return;
            apply(context, event.task.task_id, startRun(context.definition, event.task), enqueue.emit);
          }),
        },
        UPDATE: {
          actions: enqueueActions(({ context, event }) => {
            context.definition = event.definition;
          }),
        },
        'effect.done': {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const run = context.runs.get(event.taskId);
            if (run !== undefined) apply(context, event.taskId, effectDone(run, event.effectId, event.output), enqueue.emit);
          }),
        },
        'effect.failed': {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const run = context.runs.get(event.taskId);
            if (run === undefined) return;
            const step = effectFailed(run, event.effectId, event.error);
            // A defect in what the host performed for a running task: the agent crashes with it.
            if ('defect' in step) throw step.defect;
            apply(context, event.taskId, step, enqueue.emit);
          }),
        },
        CANCEL: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const run = context.runs.get(event.taskId);
            if (run === undefined) return;
            context.runs.delete(event.taskId);
            for (const e of cancelRun(run)) enqueue.emit(e);
          }),
        },
      },
    },
    failed: { type: 'final' },
    stopped: { type: 'final' },
  },
});

/** Stores the run's next state (or drops it once ended) and emits what the step said. */
function apply(context: LlmContext, taskId: string, step: Step, emit: (e: MachineEmitted) => void): void {
  if (step.run === null) context.runs.delete(taskId);
  else context.runs.set(taskId, step.run);
  for (const e of step.emits) emit(e);
}

export type LlmMachine = typeof llmMachine;
