// Fitting a conversation into the model's context window. Ollama cuts the FRONT of an over-long
// prompt silently (the system prompt first), so Aurora decides what to leave out itself: it keeps
// the system prompt, the task's own messages and the newest whole turns of history that fit.
//
// Token counts: a message the model counted (an answer's eval_count) uses that count; any other is
// estimated as one token per 3 bytes of UTF-8 plus 4 for the message's framing. Real tokenisers
// average 3.5–4.5 bytes per token on prose, so the estimate errs on the side of sending less.
import type { ToolCall } from '../../runtime/protocol/index.js';

export interface ConversationMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  tool_calls?: ToolCall[];
  tool_name?: string;
  /** Counted by the model, when known. */
  tokens?: number | null;
}

const BYTES_PER_TOKEN = 3;
const FRAMING_TOKENS = 4;
/** What one tool's name, description and parameter schema cost in the prompt, roughly. */
export const TOKENS_PER_TOOL = 120;

export function estimateTokens(message: ConversationMessage): number {
  if (typeof message.tokens === 'number' && message.tokens > 0) return message.tokens + FRAMING_TOKENS;
  let bytes = Buffer.byteLength(message.content, 'utf8');
  if (message.tool_calls !== undefined) bytes += Buffer.byteLength(JSON.stringify(message.tool_calls), 'utf8');
  return Math.ceil(bytes / BYTES_PER_TOKEN) + FRAMING_TOKENS;
}

export interface Fitted {
  /** The history messages kept: a suffix of the history starting at a user turn. */
  kept: ConversationMessage[];
  omitted: number;
  /** Estimated prompt tokens of what is sent. */
  estimate: number;
}

/**
 * Keeps the newest turns of `history` (a turn starts at a user message) that fit in `budget`
 * tokens after `fixed` (system prompt, the task's own messages, tool specs). Undefined when even
 * `fixed` does not fit.
 */
export function fitHistory(history: readonly ConversationMessage[], fixedTokens: number, budget: number): Fitted | undefined {
  if (fixedTokens > budget) return undefined;
  let used = fixedTokens;
  let start = history.length;
  let pending = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    pending += estimateTokens(history[i]!);
    if (history[i]!.role !== 'user') continue;
    // A whole turn (this user message and what followed it) fits, or nothing older is kept.
    if (used + pending > budget) break;
    used += pending;
    pending = 0;
    start = i;
  }
  return { kept: history.slice(start), omitted: start, estimate: used };
}
