// The effects an `llm` agent asks its host for, and what each answers. The host performs them with
// the node's capabilities (supervisors/capabilities/); the machine only decides.
import type { ModelOptions, ToolCall } from '../../runtime/protocol/index.js';
import type { ConversationMessage } from './context.js';

/** One call to the model. */
export const LLM_CHAT = 'llm.chat';
/** Reads the newest messages of a thread. */
export const THREAD_READ = 'thread.read';
/** Runs one tool call. */
export const TOOL_CALL = 'tool.call';
/** The task is over: tools drop what they hold for it (a browser context). Sent only by tasks that called tools. */
export const TOOL_RELEASE = 'tool.release';

export interface ChatInput {
  provider: string;
  model: string;
  messages: ConversationMessage[];
  options: ModelOptions;
  /** Tool names; the capability hands the model their specs. */
  tools: string[];
  format?: 'json' | Record<string, unknown>;
  keep_alive?: string | number;
}

export interface ChatOutput {
  text: string;
  toolCalls: ToolCall[];
  model: string;
  promptTokens: number;
  completionTokens: number;
  doneReason: string | null;
  totalDurationMs: number | null;
  loadDurationMs: number | null;
  promptEvalDurationMs: number | null;
  evalDurationMs: number | null;
}

export interface ThreadReadInput {
  thread_id: string;
  /** Newest messages wanted. */
  limit: number;
}

export interface ThreadReadOutput {
  messages: ConversationMessage[];
}

export interface ToolCallInput {
  name: string;
  arguments: Record<string, unknown>;
  timeout_ms: number;
}

export interface ToolCallOutput {
  content: string;
}
