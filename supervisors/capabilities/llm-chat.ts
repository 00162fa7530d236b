// `llm.chat`: one chat call to the provider an agent names, streaming its tokens as task.token.
import type { Capability } from '../../actors/kind.js';
import type { LlmInvocation } from '../../actors/llm/machine.js';
import type { LlmChatResult, LlmProvider } from '../../runtime/providers/llm.js';

export function llmChat(providers: Readonly<Record<string, LlmProvider>>): Capability {
  return (input, ctx): Promise<LlmChatResult> => {
    const { definition, task } = input as LlmInvocation;
    const provider = providers[definition.provider];
    if (!provider) return Promise.reject(new Error(`No LLM provider named ${definition.provider} is configured`));
    const p = task.parameters;
    return provider.chat({
      model: definition.model_name,
      prompt: task.prompt,
      ...(p.system !== undefined && { system: p.system }),
      ...(p.temperature !== undefined && { temperature: p.temperature }),
      ...(p.max_tokens !== undefined && { maxTokens: p.max_tokens }),
      ...(p.seed !== undefined && { seed: p.seed }),
      signal: ctx.signal,
      onToken: ctx.token,
    });
  };
}
