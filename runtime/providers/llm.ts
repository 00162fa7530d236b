// The LLM provider port: what agents need from a model server, independent of which one.
// Expected failures reject with an AuroraError (model_not_found, llm_unavailable, llm_error,
// llm_bad_response, llm_timeout, task_cancelled or the AuroraError given as the abort reason):
// whatever the model server does wrong is one of these, so it fails a task and never crashes an
// agent. Anything else is a defect of Aurora.

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

/** A function the model asks the caller to run. */
export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface ChatMessage {
  role: ChatRole;
  content: string;
  /** role 'assistant': the calls the model made in this turn, sent back as part of the history. */
  tool_calls?: ToolCall[];
  /** role 'tool': which tool answered */
  tool_name?: string;
}

/** A function the model may call. */
export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments object */
  parameters: Record<string, unknown>;
}

/** Sampling and context options, named as Ollama names them; omitted ones keep the model's defaults. */
export interface ModelOptions {
  temperature?: number;
  top_p?: number;
  top_k?: number;
  min_p?: number;
  /** Context window in tokens. Ollama silently drops the front of a prompt that does not fit. */
  num_ctx?: number;
  /** Upper bound on generated tokens. */
  num_predict?: number;
  stop?: string[];
  seed?: number;
  repeat_penalty?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
}

export interface LlmChatRequest {
  model: string;
  /** The whole conversation, oldest first: the provider keeps no state between calls. */
  messages: ChatMessage[];
  options?: ModelOptions;
  /** Functions the model may call instead of (or besides) answering; see LlmChatResult.toolCalls. */
  tools?: ToolSpec[];
  /** Ollama's `format`: 'json' or a JSON Schema */
  format?: 'json' | Record<string, unknown>;
  /** How long the model stays loaded after this call (provider default when omitted). */
  keepAlive?: string | number;
  /**
   * Aborting closes the request to the provider. chat then rejects with signal.reason when it is
   * an AuroraError (e.g. a timeout), otherwise with AuroraError('task_cancelled').
   */
  signal: AbortSignal;
  /** Called once per streamed piece of `text`, in order. An exception thrown here propagates unchanged. */
  onToken?: (token: string) => void;
}

export interface LlmChatResult {
  text: string;
  /** Calls the model asked for, in order; empty when it answered with text only. */
  toolCalls: ToolCall[];
  model: string;
  promptTokens: number;
  completionTokens: number;
  /** Why generation stopped as the provider says it ('stop', 'length', …), when it says. */
  doneReason: string | null;
  totalDurationMs: number | null;
  loadDurationMs: number | null;
  promptEvalDurationMs: number | null;
  evalDurationMs: number | null;
}

/** What the provider says a model can do. */
export interface ModelInfo {
  /** e.g. 'completion', 'tools', 'vision', 'embedding', 'thinking'. */
  capabilities: string[];
  /** The model's trained context length in tokens, when the provider reports it. */
  contextLength: number | null;
}

export interface InstalledModel {
  name: string;
  sizeBytes: number | null;
}

export interface LoadedModelInfo {
  name: string;
  sizeBytes: number | null;
  /** ISO-8601 time the provider will unload the model, when it says. */
  expiresAt: string | null;
}

/** One status line of a pull, as the provider reports it. */
export interface PullProgress {
  /** e.g. 'pulling manifest', 'pulling 6a0746a1ec1a', 'verifying sha256 digest', 'success'. */
  status: string;
  /** The layer this line is about, when it is about one. */
  digest: string | null;
  /** Bytes of that layer, and how many of them have arrived, when the line says. */
  total: number | null;
  completed: number | null;
}

export interface LlmPullOptions {
  /**
   * Aborting closes the request to the provider. pull then rejects with signal.reason when it is
   * an AuroraError, otherwise with AuroraError('task_cancelled').
   */
  signal: AbortSignal;
  /** Called once per status line, in order. An exception thrown here propagates unchanged. */
  onProgress?: (progress: PullProgress) => void;
}

/** Whether the provider answers, and what it has: the start-up line reports it. */
export type ProviderStatus =
  | { readonly reachable: true; readonly version: string | null; readonly models: readonly string[] }
  | { readonly reachable: false; readonly reason: string };

export interface LlmProvider {
  readonly name: string;
  chat(req: LlmChatRequest): Promise<LlmChatResult>;
  listInstalled(): Promise<InstalledModel[]>;
  /** What the model can do; null when it is not installed. */
  show(model: string): Promise<ModelInfo | null>;
  listLoaded(): Promise<LoadedModelInfo[]>;
  /** Loads the model into memory and keeps it there for keepAlive (provider default when omitted). */
  load(model: string, keepAlive?: string | number): Promise<void>;
  unload(model: string): Promise<void>;
  /**
   * Downloads the model (or the layers of it that changed) and resolves once the provider says it
   * succeeded. A model the registry does not know rejects with model_not_found.
   */
  pull(model: string, options: LlmPullOptions): Promise<void>;
  /** True when the provider answers; never throws. */
  ping(): Promise<boolean>;
  /**
   * Whether the provider answers within timeoutMs, its version and installed models; never
   * throws. Optional: a provider without it is not described at start-up.
   */
  status?(timeoutMs: number): Promise<ProviderStatus>;
}

/**
 * Model names compare equal when they differ only by an implicit `:latest` tag: providers list
 * `llama2:latest` for a model requested as `llama2`.
 */
export function sameModelName(a: string, b: string): boolean {
  return withTag(a) === withTag(b);
}

/** The form two names of the same model share: `llama2` → `llama2:latest`. */
export function canonicalModelName(name: string): string {
  return withTag(name);
}

function withTag(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  return base.includes(':') ? name : `${name}:latest`;
}
