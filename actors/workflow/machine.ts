// The `workflow` kind's machine: each task is one run of the agent's workflow. A run first loads
// its graph, input and checkpoints (workflow.load), then the interpreter (interpreter.ts) drives
// it; the machine holds the runs and hands their effects to the host. Several runs may be in
// flight at once (the agent's slots).
import { enqueueActions, setup } from 'xstate';
import { AuroraError } from '../../runtime/errors.js';
import type { AgentDefinition } from '../../runtime/protocol/index.js';
import type { HostEvent, MachineEmitted } from '../kind.js';
import { WORKFLOW_LOAD, type LoadOutput, type StepOutput } from './effects.js';
import { cancelWorkflowRun, onEffectDone, onEffectFailed, startWorkflowRun, type WorkflowRun } from './interpreter.js';

/** A run that waits for its load, or runs. */
type Slot = { loading: string } | { run: WorkflowRun };

export interface WorkflowContext {
  definition: AgentDefinition;
  /** Runs by task id; this actor's own state, mutated in place. */
  runs: Map<string, Slot>;
}

export const workflowMachine = setup({
  types: {
    context: {} as WorkflowContext,
    events: {} as HostEvent,
    input: {} as { definition: AgentDefinition },
    emitted: {} as MachineEmitted,
  },
}).createMachine({
  id: 'workflow',
  context: ({ input }) => ({ definition: input.definition, runs: new Map() }),
  initial: 'active',
  on: {
    FAULT: {
      actions: ({ event }) => {
        throw new Error(`Injected fault: ${event.reason}`);
      },
    },
    STOP: '.stopped',
  },
  states: {
    active: {
      on: {
        TASK: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const runId = event.task.task_id;
            if (context.runs.has(runId)) return;
            const effectId = `${runId}:load`;
            context.runs.set(runId, { loading: effectId });
            enqueue.emit({ type: 'effect', effectId, taskId: runId, capability: WORKFLOW_LOAD, input: { run_id: runId } });
          }),
        },
        UPDATE: {
          actions: enqueueActions(({ context, event }) => {
            context.definition = event.definition;
          }),
        },
        'effect.done': {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const slot = context.runs.get(event.taskId);
            if (slot === undefined) return;
            if ('loading' in slot) {
              if (slot.loading !== event.effectId) return;
              const loaded = event.output as LoadOutput;
              const checkpoints = new Map<string, StepOutput>(
                loaded.checkpoints.map((c) => [c.path.join('/'), { output: c.output, tokens: c.tokens }]),
              );
              const interrupted = new Map(loaded.interrupted.map((i) => [i.path.join('/'), i.attempts]));
              const step = startWorkflowRun(event.taskId, loaded.graph, loaded.input, loaded.trace, { checkpoints, interrupted });
              settle(context, event.taskId, step.run);
              for (const e of step.emits) enqueue.emit(e);
              return;
            }
            const step = onEffectDone(slot.run, event.effectId, event.output);
            settle(context, event.taskId, step.run);
            for (const e of step.emits) enqueue.emit(e);
          }),
        },
        'effect.failed': {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const slot = context.runs.get(event.taskId);
            if (slot === undefined) return;
            if ('loading' in slot) {
              if (slot.loading !== event.effectId) return;
              if (!(event.error instanceof AuroraError)) throw event.error;
              context.runs.delete(event.taskId);
              enqueue.emit({ type: 'task.error', taskId: event.taskId, error: event.error });
              return;
            }
            const step = onEffectFailed(slot.run, event.effectId, event.error);
            // A defect in what the host performed: the agent crashes, and its runs resume later.
            if ('defect' in step) throw step.defect;
            settle(context, event.taskId, step.run);
            for (const e of step.emits) enqueue.emit(e);
          }),
        },
        CANCEL: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const slot = context.runs.get(event.taskId);
            if (slot === undefined) return;
            context.runs.delete(event.taskId);
            if ('run' in slot) for (const e of cancelWorkflowRun(slot.run)) enqueue.emit(e);
            enqueue.emit({ type: 'task.cancelled', taskId: event.taskId });
          }),
        },
      },
    },
    stopped: { type: 'final' },
    failed: { type: 'final' },
  },
});

function settle(context: WorkflowContext, runId: string, run: WorkflowRun): void {
  if (run.finished) context.runs.delete(runId);
  else context.runs.set(runId, { run });
}
