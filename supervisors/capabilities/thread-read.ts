// `thread.read`: the newest messages of a thread, for the agent to replay as history.
import type { Capability } from '../../actors/kind.js';
import type { ThreadReadInput, ThreadReadOutput } from '../../actors/llm/effects.js';
import { AuroraError } from '../../runtime/errors.js';
import type { Store } from '../../runtime/store/index.js';

export function threadRead(store: Store): Capability {
  return (input): Promise<ThreadReadOutput> => {
    const { thread_id, limit } = input as ThreadReadInput;
    const thread = store.threads.get(thread_id);
    // Deleted between the task's acceptance and its start.
    if (thread === undefined) return Promise.reject(new AuroraError('thread_not_found', `Thread ${thread_id} not found`));
    const { messages } = store.threads.messages(thread_id, limit);
    return Promise.resolve({
      messages: messages.map((m) => ({
        role: m.role,
        content: m.content,
        ...(m.tool_calls !== undefined && { tool_calls: m.tool_calls }),
        ...(m.tool_name !== undefined && { tool_name: m.tool_name }),
        tokens: m.tokens,
      })),
    });
  };
}
