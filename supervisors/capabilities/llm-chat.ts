// `llm.chat`: one call to the model an agent names, its tools offered by spec, its tokens streamed
// as task.token events.
import type { Capability } from '../../actors/kind.js';
import type { ChatInput, ChatOutput } from '../../actors/llm/effects.js';
import type { LlmProvider } from '../../runtime/providers/llm.js';
import type { ToolRegistry } from './tools/index.js';

export function llmChat(providers: Readonly<Record<string, LlmProvider>>, tools: ToolRegistry): Capability {
  return (input, ctx): Promise<ChatOutput> => {
    const chat = input as ChatInput;
    const provider = providers[chat.provider];
    if (!provider) return Promise.reject(new Error(`No LLM provider named ${chat.provider} is configured`));
    return provider.chat({
      model: chat.model,
      messages: chat.messages,
      options: chat.options,
      ...(chat.tools.length > 0 && { tools: tools.specs(chat.tools).map((s) => ({ ...s, parameters: { ...s.parameters } })) }),
      ...(chat.format !== undefined && { format: chat.format }),
      ...(chat.keep_alive !== undefined && { keepAlive: chat.keep_alive }),
      signal: ctx.signal,
      onToken: ctx.token,
    });
  };
}
