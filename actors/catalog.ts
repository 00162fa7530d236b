// The one list of agent kinds: what each kind is called, which providers it accepts, and how its
// machine is given its capabilities.
import { fromPromise, type AnyStateMachine } from 'xstate';
import type { LlmChatResult, LlmProvider } from '../runtime/providers/llm.js';
import { llmMachine, type LlmInvocation } from './llm/machine.js';
import { AGENT_KIND_PROVIDERS } from './protocol.js';

export interface Capabilities {
  /** LLM providers by name, e.g. { ollama }. */
  llmProviders: Readonly<Record<string, LlmProvider>>;
  /** Called for every streamed token of a task, in order. */
  onToken(agent: string, taskId: string, token: string, index: number): void;
}

export interface AgentKind {
  providers: readonly string[];
  /** Builds the kind's machine with its capabilities; done once per node, shared by its agents. */
  machine(caps: Capabilities): AnyStateMachine;
}

export const AGENT_KINDS = {
  llm: {
    providers: AGENT_KIND_PROVIDERS.llm,
    machine: (caps) =>
      llmMachine.provide({
        actors: {
          llm: fromPromise<LlmChatResult, LlmInvocation>(({ input, signal }) => {
            const { definition, task } = input;
            const provider = caps.llmProviders[definition.provider];
            if (!provider) throw new Error(`No LLM provider named ${definition.provider} is configured`);
            let index = 0;
            const p = task.parameters;
            return provider.chat({
              model: definition.model_name,
              prompt: task.prompt,
              ...(p.system !== undefined && { system: p.system }),
              ...(p.temperature !== undefined && { temperature: p.temperature }),
              ...(p.max_tokens !== undefined && { maxTokens: p.max_tokens }),
              ...(p.seed !== undefined && { seed: p.seed }),
              signal,
              onToken: (token) => caps.onToken(definition.name, task.task_id, token, index++),
            });
          }),
        },
      }),
  },
} as const satisfies Record<keyof typeof AGENT_KIND_PROVIDERS, AgentKind>;

export type AgentKindName = keyof typeof AGENT_KINDS;

export function isAgentKind(kind: string): kind is AgentKindName {
  return Object.hasOwn(AGENT_KINDS, kind);
}
