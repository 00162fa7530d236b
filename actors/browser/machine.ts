// The `browser` kind's machine: it holds the agent's running scripted tasks (up to its slots) and
// moves each through its actions (script.ts), one effect at a time. It performs no I/O; the host
// runs every action with the node's browser pool.
import { enqueueActions, setup } from 'xstate';
import { AuroraError } from '../../runtime/errors.js';
import type { AgentDefinition } from '../../runtime/protocol/index.js';
import type { HostEvent, MachineEmitted } from '../kind.js';
import type { ActOutput } from './effects.js';
import { actionDone, actionFailed, cancelScript, startScript, type Script, type ScriptStep } from './script.js';

export interface BrowserContext {
  definition: AgentDefinition;
  /** Running tasks by id; this actor's own state, mutated in place. */
  scripts: Map<string, Script>;
}

export const browserMachine = setup({
  types: {
    context: {} as BrowserContext,
    events: {} as HostEvent,
    input: {} as { definition: AgentDefinition },
    emitted: {} as MachineEmitted,
  },
}).createMachine({
  id: 'browser',
  context: ({ input }) => ({ definition: input.definition, scripts: new Map() }),
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
            if (context.scripts.has(event.task.task_id)) return;
            apply(context, event.task.task_id, startScript(event.task), enqueue.emit);
          }),
        },
        UPDATE: {
          actions: enqueueActions(({ context, event }) => {
            context.definition = event.definition;
          }),
        },
        'effect.done': {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const script = context.scripts.get(event.taskId);
            if (script === undefined || script.effectId !== event.effectId) return;
            apply(context, event.taskId, actionDone(script, event.output as ActOutput), enqueue.emit);
          }),
        },
        'effect.failed': {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const script = context.scripts.get(event.taskId);
            if (script === undefined || script.effectId !== event.effectId) return;
            // A defect in what the host performed: the agent crashes with it.
            if (!(event.error instanceof AuroraError)) throw event.error;
            apply(context, event.taskId, actionFailed(script, event.error), enqueue.emit);
          }),
        },
        CANCEL: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const script = context.scripts.get(event.taskId);
            if (script === undefined) return;
            context.scripts.delete(event.taskId);
            for (const e of cancelScript(script)) enqueue.emit(e);
          }),
        },
      },
    },
    stopped: { type: 'final' },
    failed: { type: 'final' },
  },
});

function apply(context: BrowserContext, taskId: string, step: ScriptStep, emit: (e: MachineEmitted) => void): void {
  if (step.script === null) context.scripts.delete(taskId);
  else context.scripts.set(taskId, step.script);
  for (const e of step.emits) emit(e);
}
