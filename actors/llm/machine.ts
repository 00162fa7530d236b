// The `llm` agent kind: one task at a time, each answered by one call to an LLM.
//
// The machine knows nothing of buses, stores or HTTP and performs no I/O: it decides. Its host
// feeds it one TASK at a time (the mailbox lives in the host, so it survives restarts), performs
// the call the machine asks for with `llm.call` using the capability the node injects, and
// answers with `llm.done` or `llm.failed` (the pipe-to-self pattern of Akka and Orleans). When the
// machine drops the task (CANCEL) or stops or crashes, the host aborts the call. An invoked child
// actor per task would express the same, but creating, starting and stopping one cost a fifth of
// a task's CPU (A/B: 108 -> 87 us per task embedded, 135 -> 111 us over NATS; bench/RESULTS.md).
// Expected failures (AuroraError) end the task and the machine goes back to idle; anything else
// is a defect and the machine enters `failed`, which its supervisor treats as a crash.
import { assign, emit, setup } from 'xstate';
import { AuroraError } from '../../runtime/errors.js';
import type { LlmChatResult } from '../../runtime/providers/llm.js';
import type { AgentDefinition, TaskRequest } from '../protocol.js';

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

export type LlmEvent =
  | { type: 'TASK'; task: TaskRequest }
  | { type: 'CANCEL'; taskId: string }
  | { type: 'STOP' }
  | { type: 'FAULT'; reason: string }
  /** The host's answer to `llm.call`. */
  | { type: 'llm.done'; taskId: string; output: LlmChatResult }
  | { type: 'llm.failed'; taskId: string; error: unknown };

export type LlmEmitted =
  /** Asks the host to perform the call; it answers with `llm.done` or `llm.failed` for `call.task`. */
  | { type: 'llm.call'; call: LlmInvocation }
  | { type: 'task.done'; taskId: string; output: LlmChatResult }
  | { type: 'task.error'; taskId: string; error: AuroraError }
  | { type: 'task.cancelled'; taskId: string };

/** An answer or a cancel for the task the machine is running (late answers of dropped tasks are ignored). */
const forCurrentTask = (context: LlmContext, event: LlmEvent): boolean =>
  (event.type === 'llm.done' || event.type === 'llm.failed' || event.type === 'CANCEL') &&
  context.task?.task_id === event.taskId;

export const llmMachine = setup({
  types: {
    context: {} as LlmContext,
    events: {} as LlmEvent,
    input: {} as { definition: AgentDefinition },
    emitted: {} as LlmEmitted,
  },
  actions: {
    injectFault: (_, params: { reason: string }) => {
      throw new Error(`Injected fault: ${params.reason}`);
    },
  },
  guards: {
    isCurrentTask: ({ context, event }) => forCurrentTask(context, event),
    isExpectedFailure: ({ context, event }) =>
      forCurrentTask(context, event) && (event as { error?: unknown }).error instanceof AuroraError,
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
            emit(({ context, event }) => ({ type: 'llm.call' as const, call: { definition: context.definition, task: event.task } })),
          ],
        },
      },
    },
    running: {
      on: {
        'llm.done': {
          guard: 'isCurrentTask',
          target: 'idle',
          actions: [
            emit(({ context, event }) => ({ type: 'task.done' as const, taskId: context.task!.task_id, output: event.output })),
            assign({ task: null }),
          ],
        },
        'llm.failed': [
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
        // The host aborts the call when it hears task.cancelled, which closes the HTTP request.
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
