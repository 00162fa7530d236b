// The `llm` agent kind: one task at a time through an injected `llm` capability.
//
// The machine knows nothing of buses, stores or HTTP. Its host feeds it one TASK at a time (the
// mailbox lives in the host, so it survives restarts) and listens for what it emits. Expected
// failures (AuroraError) end the task and the machine goes back to idle; anything else is a
// defect and the machine enters `failed`, which its supervisor treats as a crash.
import { assign, emit, fromPromise, setup } from 'xstate';
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
  | { type: 'FAULT'; reason: string };

export type LlmEmitted =
  | { type: 'task.done'; taskId: string; output: LlmChatResult }
  | { type: 'task.error'; taskId: string; error: AuroraError }
  | { type: 'task.cancelled'; taskId: string };

export const llmMachine = setup({
  types: {
    context: {} as LlmContext,
    events: {} as LlmEvent,
    input: {} as { definition: AgentDefinition },
    emitted: {} as LlmEmitted,
  },
  actors: {
    // Replaced by the host with the real provider; reaching this one is a wiring defect.
    llm: fromPromise<LlmChatResult, LlmInvocation>(async () => {
      throw new Error('llm capability was not provided to the machine');
    }),
  },
  actions: {
    injectFault: (_, params: { reason: string }) => {
      throw new Error(`Injected fault: ${params.reason}`);
    },
  },
  guards: {
    isExpectedFailure: ({ event }) => (event as { error?: unknown }).error instanceof AuroraError,
    isCurrentTask: ({ context, event }) => event.type === 'CANCEL' && context.task?.task_id === event.taskId,
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
        TASK: { target: 'running', actions: assign({ task: ({ event }) => event.task }) },
      },
    },
    running: {
      invoke: {
        src: 'llm',
        input: ({ context }) => ({ definition: context.definition, task: context.task! }),
        onDone: {
          target: 'idle',
          actions: [
            emit(({ context, event }) => ({ type: 'task.done' as const, taskId: context.task!.task_id, output: event.output })),
            assign({ task: null }),
          ],
        },
        onError: [
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
          { target: 'failed', actions: assign({ failure: ({ event }) => event.error }) },
        ],
      },
      on: {
        // Leaving `running` stops the invoked call, which aborts its signal and closes the HTTP request.
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
