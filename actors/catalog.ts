// The one list of agent kinds: what each kind is called, which providers it accepts, its machine,
// and how the calls its machine asks for are performed with the node's capabilities.
import type { AnyStateMachine } from 'xstate';
import type { LlmChatResult, LlmProvider } from '../runtime/providers/llm.js';
import { llmMachine, type LlmInvocation } from './llm/machine.js';
import { AGENT_KIND_PROVIDERS } from './protocol.js';

export interface Capabilities {
  /** LLM providers by name, e.g. { ollama }. */
  llmProviders: Readonly<Record<string, LlmProvider>>;
  /** Called for every streamed token of a task, in order. */
  onToken(agent: string, taskId: string, token: string, index: number): void;
}

/** Performs one `llm.call` of a machine; aborting `signal` abandons it (and closes its HTTP request). */
export type LlmCall = (call: LlmInvocation, signal: AbortSignal) => Promise<LlmChatResult>;

/** A kind as one node runs it: its machine, and its calls bound to the node's capabilities. */
export interface KindRuntime {
  machine: AnyStateMachine;
  perform: LlmCall;
}

export interface AgentKind {
  providers: readonly string[];
  /** Decides; performs no I/O. Shared by every agent of the kind. */
  machine: AnyStateMachine;
  /** Builds what performs the machine's calls with the node's capabilities; done once per node. */
  perform(caps: Capabilities): LlmCall;
}

export const AGENT_KINDS = {
  llm: {
    providers: AGENT_KIND_PROVIDERS.llm,
    machine: llmMachine,
    perform: (caps) => (call, signal) => {
      const { definition, task } = call;
      const provider = caps.llmProviders[definition.provider];
      if (!provider) return Promise.reject(new Error(`No LLM provider named ${definition.provider} is configured`));
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
    },
  },
} as const satisfies Record<keyof typeof AGENT_KIND_PROVIDERS, AgentKind>;

export type AgentKindName = keyof typeof AGENT_KINDS;

export function isAgentKind(kind: string): kind is AgentKindName {
  return Object.hasOwn(AGENT_KINDS, kind);
}
