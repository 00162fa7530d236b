// The `llm` agent kind's machine: one task at a time, each answered by one `llm.chat` effect.
//
// The machine knows nothing of buses, stores or HTTP and performs no I/O: it decides. Its host
// feeds it one TASK at a time (the mailbox lives in the host, so it survives restarts), performs
// the effect the machine asks for with the node's `llm.chat` capability, and answers with
// `effect.done` or `effect.failed` (the pipe-to-self pattern of Akka and Orleans). When the
// machine drops the task (CANCEL) or stops or crashes, the host aborts the effect. An invoked child
// actor per task would express the same, but creating, starting and stopping one cost a fifth of
// a task's CPU (A/B: 108 -> 87 us per task embedded, 135 -> 111 us over NATS; bench/RESULTS.md).
// Expected failures (AuroraError) end the task and the machine goes back to idle; anything else
// is a defect and the machine enters `failed`, which its supervisor treats as a crash.
import { assign, emit, setup } from 'xstate';
import { AuroraError } from '../../runtime/errors.js';
import type { AgentDefinition, TaskOutcome, TaskRequest } from '../../runtime/protocol/index.js';
import type { HostEvent, MachineEmitted } from '../kind.js';

export const LLM_CHAT = 'llm.chat';

/** The input of an `llm.chat` effect. */
export interface LlmInvocation {
  definition: AgentDefinition;
  task: TaskRequest;
}

export interface LlmContext {
  definition: AgentDefinition;
  task: TaskRequest | null;
  /** Why the machine failed, when it did. */
  failure: unknown;
}

/** An answer or a cancel for the task the machine is running (late answers of dropped tasks are ignored). */
const forCurrentTask = (context: LlmContext, event: HostEvent): boolean =>
  (event.type === 'effect.done' || event.type === 'effect.failed' || event.type === 'CANCEL') &&
  context.task?.task_id === event.taskId;

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
  guards: {
    isCurrentTask: ({ context, event }) => forCurrentTask(context, event),
    isExpectedFailure: ({ context, event }) =>
      forCurrentTask(context, event) && event.type === 'effect.failed' && event.error instanceof AuroraError,
  },
}).createMachine({
  id: 'llm',
  context: ({ input }) => ({ definition: input.definition, task: null, failure: null }),
  initial: 'idle',
  on: {
    FAULT: { actions: { type: 'injectFault', params: ({ event }) => ({ reason: event.reason }) } },
    STOP: '.stopped',
  },
  states: {
    idle: {
      on: {
        TASK: {
          target: 'running',
          actions: [
            assign({ task: ({ event }) => event.task }),
            emit(({ context, event }) => ({
              type: 'effect' as const,
              effectId: event.task.task_id,
              taskId: event.task.task_id,
              capability: LLM_CHAT,
              input: { definition: context.definition, task: event.task } satisfies LlmInvocation,
            })),
          ],
        },
      },
    },
    running: {
      on: {
        'effect.done': {
          guard: 'isCurrentTask',
          target: 'idle',
          actions: [
            emit(({ context, event }) => ({
              type: 'task.done' as const,
              taskId: context.task!.task_id,
              output: event.output as TaskOutcome,
            })),
            assign({ task: null }),
          ],
        },
        'effect.failed': [
          {
            guard: 'isExpectedFailure',
            target: 'idle',
            actions: [
              emit(({ context, event }) => ({
                type: 'task.error' as const,
                taskId: context.task!.task_id,
                error: event.error as AuroraError,
              })),
              assign({ task: null }),
            ],
          },
          { guard: 'isCurrentTask', target: 'failed', actions: assign({ failure: ({ event }) => event.error }) },
        ],
        // The host aborts the effect when it hears task.cancelled, which closes the HTTP request.
        CANCEL: {
          guard: 'isCurrentTask',
          target: 'idle',
          actions: [
            emit(({ context }) => ({ type: 'task.cancelled' as const, taskId: context.task!.task_id })),
            assign({ task: null }),
          ],
        },
      },
    },
    failed: { type: 'final' },
    stopped: { type: 'final' },
  },
});

export type LlmMachine = typeof llmMachine;
