// The LLM provider port: what agents need from a model server, independent of which one.
// Expected failures reject with an AuroraError (model_not_found, llm_unavailable, llm_error,
// task_cancelled or the AuroraError given as the abort reason); anything else is a defect.

export interface LlmChatRequest {
  model: string;
  prompt: string;
  system?: string;
  temperature?: number;
  /** Upper bound on generated tokens. */
  maxTokens?: number;
  seed?: number;
  /**
   * Aborting closes the request to the provider. chat then rejects with signal.reason when it is
   * an AuroraError (e.g. a timeout), otherwise with AuroraError('task_cancelled').
   */
  signal: AbortSignal;
  /** Called once per streamed chunk, in order. An exception thrown here propagates unchanged. */
  onToken?: (token: string) => void;
}

export interface LlmChatResult {
  text: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  totalDurationMs: number | null;
  loadDurationMs: number | null;
  promptEvalDurationMs: number | null;
  evalDurationMs: number | null;
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

export interface LlmProvider {
  readonly name: string;
  chat(req: LlmChatRequest): Promise<LlmChatResult>;
  listInstalled(): Promise<InstalledModel[]>;
  listLoaded(): Promise<LoadedModelInfo[]>;
  /** Loads the model into memory and keeps it there for keepAlive (provider default when omitted). */
  load(model: string, keepAlive?: string | number): Promise<void>;
  unload(model: string): Promise<void>;
  /** True when the provider answers; never throws. */
  ping(): Promise<boolean>;
}

/**
 * Model names compare equal when they differ only by an implicit `:latest` tag: providers list
 * `llama2:latest` for a model requested as `llama2`.
 */
export function sameModelName(a: string, b: string): boolean {
  return withTag(a) === withTag(b);
}

function withTag(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  return base.includes(':') ? name : `${name}:latest`;
}
