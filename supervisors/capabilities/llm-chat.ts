// `llm.chat`: one chat call to the provider an agent names, streaming its tokens as task.token.
import type { Capability } from '../../actors/kind.js';
import type { LlmInvocation } from '../../actors/llm/machine.js';
import type { ChatMessage, LlmChatResult, LlmProvider, ModelOptions } from '../../runtime/providers/llm.js';
import type { TaskParameters, TaskRequest } from '../../runtime/protocol/index.js';

export function llmChat(providers: Readonly<Record<string, LlmProvider>>): Capability {
  return (input, ctx): Promise<LlmChatResult> => {
    const { definition, task } = input as LlmInvocation;
    const provider = providers[definition.provider];
    if (!provider) return Promise.reject(new Error(`No LLM provider named ${definition.provider} is configured`));
    const options = modelOptions(task.parameters);
    return provider.chat({
      model: definition.model_name,
      messages: taskMessages(task),
      ...(options !== null && { options }),
      signal: ctx.signal,
      onToken: ctx.token,
    });
  };
}

/** A one-shot task as a conversation: its system prompt (if any), then its prompt. */
export function taskMessages(task: TaskRequest): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (task.parameters.system !== undefined) messages.push({ role: 'system', content: task.parameters.system });
  messages.push({ role: 'user', content: task.prompt });
  return messages;
}

/** The task's sampling parameters in the provider's names; null when it sets none (model defaults). */
export function modelOptions(p: TaskParameters): ModelOptions | null {
  const options: ModelOptions = {
    ...(p.temperature !== undefined && { temperature: p.temperature }),
    ...(p.max_tokens !== undefined && { num_predict: p.max_tokens }),
    ...(p.seed !== undefined && { seed: p.seed }),
  };
  return Object.keys(options).length > 0 ? options : null;
}
