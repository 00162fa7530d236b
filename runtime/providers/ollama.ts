// The Ollama provider: the one home of the `ollama` client. Streams chat through the real client,
// closes the HTTP request when the caller aborts, and turns the client's failures into AuroraErrors.
//
// Facts about ollama-js 0.6.4 this file relies on (see node_modules/ollama/dist/browser.mjs):
// - Only streaming requests get an AbortSignal (an internal one); non-streaming requests get none.
//   We therefore build a light client per request whose `fetch` joins the caller's signal, so an
//   abort closes the request at any stage (connecting, waiting for headers, streaming).
// - The NDJSON parser SWALLOWS invalid lines (console.warn and carry on), so a corrupt stream would
//   silently lose tokens. The per-request fetch validates every line first and fails the stream
//   with a plain Error: a malformed stream is a defect the supervisor must see.
// - HTTP errors are a `ResponseError` (name + status_code) that the package does not export.
// - An `{"error": ...}` line inside a stream becomes `new Error(message)`.
// - undici reports "cannot connect" as TypeError('fetch failed') and a connection lost while
//   reading the body as TypeError('terminated'), each with the socket error as `cause`.
import { Ollama, type ChatResponse, type Message, type Options } from 'ollama';
import { AuroraError, describe } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { InstalledModel, LlmChatRequest, LlmChatResult, LlmProvider, LoadedModelInfo } from './llm.js';

export interface OllamaProviderOptions {
  /** Base URL of the Ollama HTTP API, e.g. http://127.0.0.1:11434. */
  host: string;
  logger?: Logger;
  /** How long ping() waits for an answer before saying false. */
  pingTimeoutMs?: number;
  /** keep_alive used by load() when none is given. */
  defaultKeepAlive?: string | number;
}

// Readiness probes wait about a second for the whole health check; a hung Ollama must read as
// `llm: false` within that, not time out the check and take `database` down with it.
const DEFAULT_PING_TIMEOUT_MS = 500;
const DEFAULT_KEEP_ALIVE = '5m';
const MISSING_DONE = 'Did not receive done or success response in stream.';

/** What one HTTP exchange with Ollama did, so failures can be told apart afterwards. */
interface Exchange {
  /** Response headers arrived: later network failures are a lost connection, not unreachability. */
  responded: boolean;
  /** The message of an `{"error": ...}` line seen in the stream. */
  errorLine: string | null;
  /** The error raised for an invalid JSON line (a defect, passed through unchanged). */
  malformed: Error | null;
}

export function createOllamaProvider(options: OllamaProviderOptions): LlmProvider {
  const host = options.host;
  const logger = (options.logger ?? silentLogger).child({ provider: 'ollama' });
  const pingTimeoutMs = options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS;
  const defaultKeepAlive = options.defaultKeepAlive ?? DEFAULT_KEEP_ALIVE;

  const clientFor = (signal: AbortSignal | undefined, exchange: Exchange): Ollama =>
    new Ollama({
      host,
      fetch: async (input, init) => {
        const signals = [init?.signal, signal].filter((s): s is AbortSignal => s != null);
        const response = await fetch(input, { ...init, signal: signals.length > 0 ? AbortSignal.any(signals) : null });
        exchange.responded = true;
        const type = response.headers.get('content-type') ?? '';
        if (!response.ok || response.body === null || !type.includes('application/x-ndjson')) return response;
        return new Response(response.body.pipeThrough(ndjsonGuard(exchange)), {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
        });
      },
    });

  /** Runs one non-streaming call with its own exchange and maps its failure. */
  const call = async <T>(op: string, model: string | undefined, run: (client: Ollama) => Promise<T>): Promise<T> => {
    const exchange = newExchange();
    try {
      return await run(clientFor(undefined, exchange));
    } catch (err) {
      throw mapFailure(err, { host, model, exchange, logger, op });
    }
  };

  return {
    name: 'ollama',

    async chat(req: LlmChatRequest): Promise<LlmChatResult> {
      const { signal } = req;
      if (signal.aborted) throw cancelled(signal.reason);
      // Our own controller: follows the caller's signal, and lets us close the request ourselves
      // when we stop reading early (e.g. onToken threw).
      const local = new AbortController();
      const follow = () => local.abort(signal.reason);
      signal.addEventListener('abort', follow, { once: true });
      const exchange = newExchange();
      const tokenFailure: { thrown: boolean; error: unknown } = { thrown: false, error: undefined };

      const messages: Message[] = [];
      if (req.system !== undefined) messages.push({ role: 'system', content: req.system });
      messages.push({ role: 'user', content: req.prompt });
      const opts: Partial<Options> = {};
      if (req.temperature !== undefined) opts.temperature = req.temperature;
      if (req.maxTokens !== undefined) opts.num_predict = req.maxTokens;
      if (req.seed !== undefined) opts.seed = req.seed;

      let text = '';
      let final: ChatResponse | null = null;
      try {
        const stream = await clientFor(local.signal, exchange).chat({
          model: req.model,
          messages,
          stream: true,
          ...(Object.keys(opts).length > 0 ? { options: opts } : {}),
        });
        for await (const part of stream) {
          const token = part.message?.content ?? '';
          if (token !== '') {
            text += token;
            try {
              req.onToken?.(token);
            } catch (error) {
              tokenFailure.thrown = true;
              tokenFailure.error = error;
              throw error;
            }
          }
          if (part.done) final = part;
        }
      } catch (err) {
        if (tokenFailure.thrown && err === tokenFailure.error) throw err;
        if (signal.aborted) throw cancelled(signal.reason);
        throw mapFailure(err, { host, model: req.model, exchange, logger, op: 'chat' });
      } finally {
        signal.removeEventListener('abort', follow);
        // Closes the HTTP request if it is still open; a no-op once the response has completed.
        local.abort();
      }
      if (final === null) {
        throw new AuroraError('llm_error', `the LLM provider at ${host} ended the stream without a final response`);
      }
      const result: LlmChatResult = {
        text,
        model: final.model ?? req.model,
        promptTokens: final.prompt_eval_count ?? 0,
        completionTokens: final.eval_count ?? 0,
        totalDurationMs: nsToMs(final.total_duration),
        loadDurationMs: nsToMs(final.load_duration),
        promptEvalDurationMs: nsToMs(final.prompt_eval_duration),
        evalDurationMs: nsToMs(final.eval_duration),
      };
      logger.debug('chat finished', {
        model: req.model,
        doneReason: final.done_reason,
        promptTokens: result.promptTokens,
        completionTokens: result.completionTokens,
        totalDurationMs: result.totalDurationMs,
      });
      return result;
    },

    listInstalled: () =>
      call('list', undefined, async (client): Promise<InstalledModel[]> => {
        const res = await client.list();
        return res.models.map((m) => ({ name: m.name, sizeBytes: sizeOrNull(m.size) }));
      }),

    listLoaded: () =>
      call('ps', undefined, async (client): Promise<LoadedModelInfo[]> => {
        const res = await client.ps();
        return res.models.map((m) => ({ name: m.name, sizeBytes: sizeOrNull(m.size), expiresAt: isoOrNull(m.expires_at) }));
      }),

    load: (model, keepAlive = defaultKeepAlive) =>
      call('load', model, async (client) => {
        await client.generate({ model, prompt: '', keep_alive: keepAlive, stream: false });
        logger.debug('model loaded', { model, keepAlive });
      }),

    unload: (model) =>
      call('unload', model, async (client) => {
        await client.generate({ model, prompt: '', keep_alive: 0, stream: false });
        logger.debug('model unloaded', { model });
      }),

    async ping() {
      try {
        await clientFor(AbortSignal.timeout(pingTimeoutMs), newExchange()).version();
        return true;
      } catch (err) {
        logger.debug('ping failed', { host, error: describe(err) });
        return false;
      }
    },
  };
}

function newExchange(): Exchange {
  return { responded: false, errorLine: null, malformed: null };
}

/**
 * Checks every NDJSON line before the client's parser sees it (that parser drops invalid lines
 * silently). An invalid line fails the stream with a plain Error, which also cancels the body and
 * so closes the HTTP request.
 */
function ndjsonGuard(exchange: Exchange): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  const check = (line: string) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (cause) {
      const shown = line.length > 200 ? `${line.slice(0, 200)}…` : line;
      exchange.malformed = new Error(`malformed stream from the LLM provider: invalid JSON line ${JSON.stringify(shown)}`, { cause });
      throw exchange.malformed;
    }
    if (typeof value === 'object' && value !== null && typeof (value as { error?: unknown }).error === 'string') {
      exchange.errorLine = (value as { error: string }).error;
    }
  };
  return new TransformStream({
    transform(chunk, controller) {
      pending += decoder.decode(chunk, { stream: true });
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) check(line);
      controller.enqueue(chunk);
    },
    flush() {
      pending += decoder.decode();
      check(pending);
    },
  });
}

function cancelled(reason: unknown): AuroraError {
  if (reason instanceof AuroraError) return reason;
  return new AuroraError('task_cancelled', 'task cancelled', { cause: reason });
}

interface FailureContext {
  host: string;
  model: string | undefined;
  exchange: Exchange;
  logger: Logger;
  op: string;
}

/** The client's failure as an AuroraError when it is an expected one; defects come back unchanged. */
function mapFailure(err: unknown, ctx: FailureContext): unknown {
  const mapped = classify(err, ctx);
  if (mapped instanceof AuroraError && mapped !== err) {
    ctx.logger.debug('llm request failed', { op: ctx.op, model: ctx.model, code: mapped.code, error: describe(err) });
  }
  return mapped;
}

function classify(err: unknown, { host, model, exchange }: FailureContext): unknown {
  if (err instanceof AuroraError) return err;
  if (exchange.malformed !== null && err === exchange.malformed) return err;
  const status = responseStatus(err);
  if (status !== null) {
    if (status === 404 && model !== undefined) return new AuroraError('model_not_found', `Model ${model} not found`, { cause: err });
    return new AuroraError('llm_error', `LLM provider error (HTTP ${status}): ${describe(err)}`, { cause: err });
  }
  if (!(err instanceof Error)) return err;
  if (exchange.errorLine !== null && err.message === exchange.errorLine) {
    return new AuroraError('llm_error', `LLM provider error: ${err.message}`, { cause: err });
  }
  if (!exchange.responded) {
    if (err instanceof TypeError) {
      return new AuroraError('llm_unavailable', `LLM provider unreachable at ${host}: ${networkReason(err)}`, { cause: err });
    }
    return err;
  }
  if (err instanceof TypeError) {
    return new AuroraError('llm_error', `connection to the LLM provider was lost mid-response: ${networkReason(err)}`, { cause: err });
  }
  if (err.message === MISSING_DONE) {
    return new AuroraError('llm_error', `connection to the LLM provider was lost: the stream ended without a final response`, { cause: err });
  }
  return err;
}

/** The HTTP status of the client's (unexported) ResponseError, if that is what this is. */
function responseStatus(err: unknown): number | null {
  if (err instanceof Error && err.name === 'ResponseError') {
    const status = (err as { status_code?: unknown }).status_code;
    if (typeof status === 'number') return status;
  }
  return null;
}

function networkReason(err: Error): string {
  const cause = err.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' && !cause.message.includes(code) ? `${code} ${cause.message}` : cause.message;
  }
  return err.message;
}

function nsToMs(ns: number | undefined): number | null {
  return typeof ns === 'number' && Number.isFinite(ns) ? ns / 1_000_000 : null;
}

function sizeOrNull(size: unknown): number | null {
  return typeof size === 'number' && Number.isFinite(size) ? size : null;
}

/** Ollama sends expires_at as an RFC 3339 string (typed as Date by the client). */
function isoOrNull(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  const date = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
