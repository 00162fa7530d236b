// Expected failures are values with a code; the code decides the HTTP status in this one table.
// Anything that is not an AuroraError is a defect: it is not caught locally, the supervisor sees it.

export const ERROR_CODES = {
  invalid_request: { status: 400, retryable: false, expose: true },
  unauthorized: { status: 401, retryable: false, expose: true },
  forbidden: { status: 403, retryable: false, expose: true },
  not_found: { status: 404, retryable: false, expose: true },
  agent_not_found: { status: 404, retryable: false, expose: true },
  workflow_not_found: { status: 404, retryable: false, expose: true },
  run_not_found: { status: 404, retryable: false, expose: true },
  model_not_found: { status: 404, retryable: false, expose: true },
  model_not_loaded: { status: 404, retryable: false, expose: true },
  task_not_found: { status: 404, retryable: false, expose: true },
  method_not_allowed: { status: 405, retryable: false, expose: true },
  // A plain request to the WebSocket stream's path, without the upgrade.
  upgrade_required: { status: 426, retryable: false, expose: true },
  agent_exists: { status: 409, retryable: false, expose: true },
  agent_failed: { status: 409, retryable: false, expose: true },
  agent_stopped: { status: 409, retryable: false, expose: true },
  task_finished: { status: 409, retryable: false, expose: true },
  request_timeout: { status: 408, retryable: true, expose: true },
  payload_too_large: { status: 413, retryable: false, expose: true },
  // A body that does not say it is JSON (Content-Type missing, text/plain, a non-UTF-8 charset).
  unsupported_media_type: { status: 415, retryable: false, expose: true },
  queue_full: { status: 429, retryable: true, expose: true },
  rate_limited: { status: 429, retryable: true, expose: true },
  task_cancelled: { status: 409, retryable: false, expose: true },
  agent_crashed: { status: 500, retryable: true, expose: true },
  // The process holding the task went away; the task may be submitted again.
  interrupted: { status: 503, retryable: true, expose: true },
  internal: { status: 500, retryable: false, expose: false },
  llm_error: { status: 502, retryable: true, expose: true },
  // Ollama answered something that is not its protocol (invalid JSON, a stream without its final
  // line, tool-call arguments that are not an object): a fault of the provider, not of Aurora.
  llm_bad_response: { status: 502, retryable: true, expose: true },
  llm_unavailable: { status: 503, retryable: true, expose: true },
  no_responders: { status: 503, retryable: true, expose: true },
  unavailable: { status: 503, retryable: true, expose: true },
  // The bus connection dropped while the request waited for its answer: whether it was done is
  // unknown (a task's outcome can be read later by its id).
  bus_disconnected: { status: 503, retryable: true, expose: true },
  fault_injection_disabled: { status: 403, retryable: false, expose: true },
  timeout: { status: 504, retryable: true, expose: true },
  bus_timeout: { status: 504, retryable: true, expose: true },
  llm_timeout: { status: 504, retryable: true, expose: true },
  thread_not_found: { status: 404, retryable: false, expose: true },
  // The model kept asking for tools past the task's max_turns.
  max_turns_exceeded: { status: 422, retryable: false, expose: true },
  // The answer did not match the output_schema, even after one repair round.
  output_invalid: { status: 422, retryable: false, expose: true },
  // The system prompt and the task's own messages do not fit num_ctx, even without history.
  context_overflow: { status: 422, retryable: false, expose: true },
  // A workflow's router kept handing off past its max_handoffs.
  max_handoffs_exceeded: { status: 422, retryable: false, expose: true },
  // The same Idempotency-Key was sent with a different request.
  idempotency_mismatch: { status: 422, retryable: false, expose: true },
  // The first request with this Idempotency-Key is still being answered.
  idempotency_in_progress: { status: 409, retryable: true, expose: true },
  pull_not_found: { status: 404, retryable: false, expose: true },
  // Creating a workflow whose name is taken; PUT makes a new version of it instead.
  workflow_exists: { status: 409, retryable: false, expose: true },
  // Cancelling a pull that already completed or failed.
  pull_finished: { status: 409, retryable: false, expose: true },
  // The pull a request waited for was cancelled.
  pull_cancelled: { status: 409, retryable: false, expose: true },
  artifact_not_found: { status: 404, retryable: false, expose: true },
  // A browser action could not be done (no such element, a wait that never came true, a bad selector).
  browser_action_failed: { status: 422, retryable: false, expose: true },
  // Chromium or the page's renderer crashed or hung under the action; a fresh one serves a retry.
  browser_crashed: { status: 503, retryable: true, expose: true },
  // A browser agent's navigation or request went where its allowed_origins do not let it.
  navigation_refused: { status: 403, retryable: false, expose: true },
} as const satisfies Record<string, { status: number; retryable: boolean; expose: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
}

export interface AuroraErrorOptions {
  cause?: unknown;
  /**
   * Response headers that belong to this answer wherever it is answered over HTTP (Allow,
   * WWW-Authenticate, Retry-After, RateLimit-*), keys lower-case. They stay in this process:
   * toPayload() leaves them out, so an error that crossed the bus arrives without any.
   */
  headers?: Readonly<Record<string, string>>;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

export class AuroraError extends Error {
  override readonly name = 'AuroraError';
  /** See AuroraErrorOptions.headers; empty when none were given. */
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: AuroraErrorOptions,
  ) {
    // Error reads only `cause` from its options; `headers` is ours.
    super(message, options);
    this.headers = options?.headers ?? NO_HEADERS;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }

  toPayload(): ErrorPayload {
    return { code: this.code, message: ERROR_CODES[this.code].expose ? this.message : 'Internal server error' };
  }

  static fromPayload(payload: { code: string; message: string }): AuroraError {
    const code = isErrorCode(payload.code) ? payload.code : 'internal';
    return new AuroraError(code, payload.message);
  }
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

export function isAuroraError(err: unknown): err is AuroraError {
  return err instanceof AuroraError;
}

/** Turns anything thrown into something safe to send: defects become an opaque `internal`. */
export function toErrorPayload(err: unknown): ErrorPayload {
  if (err instanceof AuroraError) return err.toPayload();
  return { code: 'internal', message: 'Internal server error' };
}

export function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
