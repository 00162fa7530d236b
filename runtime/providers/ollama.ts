// The Ollama provider: the one home of the `ollama` client. Streams chat through the real client,
// closes the HTTP request when the caller aborts or Ollama goes silent, and turns every way Ollama
// can fail into an AuroraError: a misbehaving model server fails the task, it never crashes the
// agent (crashes are for Aurora's own defects).
//
// Requests go over http-transport.ts (node:http, keep-alive, a bounded number of sockets), not the
// built-in fetch, with which a streaming call cost over three times the CPU. Model calls (chat, load, unload) take a
// slot of a per-host gate first, so a burst waits in Aurora in arrival order instead of opening a
// socket per call; listings, show and ping do not, so health checks and model checks never wait
// behind generations.
//
// Facts about ollama-js 0.6.4 this file relies on (see node_modules/ollama/dist/browser.mjs):
// - Only streaming requests get an AbortSignal (an internal one); non-streaming requests get none.
//   We therefore build a light client per request whose `fetch` is one exchange of the transport,
//   which we end ourselves, so an abort or the idle timeout closes the request at any stage
//   (connecting, waiting for headers, body).
// - The NDJSON parser SWALLOWS invalid lines (console.warn and carry on), so a corrupt stream would
//   silently lose tokens. The per-request fetch validates every line first and fails the stream.
// - HTTP errors are a `ResponseError` (name + status_code) that the package does not export.
// - An `{"error": ...}` line inside a stream becomes `new Error(message)`.
// - A stream whose body ends without a `done` line becomes Error(MISSING_DONE).
// - The transport reports "cannot connect" as TypeError('fetch failed') and a connection lost while
//   reading the body as TypeError('terminated'), each with the socket error as `cause`, as the
//   built-in fetch does.
import { Ollama, type ChatRequest, type ChatResponse, type Message, type Options, type ProgressResponse, type Tool } from 'ollama';
import { systemClock, type Clock, type Timer } from '../clock.js';
import { AuroraError, describe } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { createCallGate, type Release } from './call-gate.js';
import { createHttpTransport } from './http-transport.js';
import { modelMissingMessage, unreachableRemedy } from './remedies.js';
import type {
  ChatMessage,
  InstalledModel,
  LlmChatRequest,
  LlmChatResult,
  LlmProvider,
  LoadedModelInfo,
  ModelInfo,
  ModelOptions,
  ProviderStatus,
  PullProgress,
  ToolCall,
  ToolSpec,
} from './llm.js';

export interface OllamaProviderOptions {
  /** Base URL of the Ollama HTTP API, e.g. http://127.0.0.1:11434. */
  host: string;
  logger?: Logger;
  /** How long ping() waits for an answer before saying false. */
  pingTimeoutMs?: number;
  /** keep_alive used by load() when none is given. */
  defaultKeepAlive?: string | number;
  /**
   * Longest Ollama may send nothing (no headers, no body bytes) on any request before it is closed
   * and fails with llm_timeout. Measured between bytes, not over the whole answer, so a long
   * generation that keeps streaming is never cut.
   */
  idleTimeoutMs?: number;
  /** Model calls (chat, load, unload) in flight to this host at once; more wait in arrival order. */
  maxConcurrency?: number;
  clock?: Clock;
}

// Readiness probes wait about a second for the whole health check; a hung Ollama must read as
// `llm: false` within that, not time out the check and take `database` down with it.
const DEFAULT_PING_TIMEOUT_MS = 500;
const DEFAULT_KEEP_ALIVE = '5m';
// Generous because a cold model load sends nothing until the model is in memory.
export const DEFAULT_IDLE_TIMEOUT_MS = 300_000;
export const DEFAULT_MAX_CONCURRENCY = 32;
// Sockets beyond the model calls' for listings, show and ping, which take no slot of the gate.
const CONTROL_SOCKETS = 4;
const MISSING_DONE = 'Did not receive done or success response in stream.';
const SHOWN_LINE_CHARS = 200;

/** What one HTTP exchange with Ollama did, so failures can be told apart afterwards. */
interface Exchange {
  /** Response headers arrived: later network failures are a lost connection, not unreachability. */
  responded: boolean;
  /** The message of an `{"error": ...}` line seen in the stream. */
  errorLine: string | null;
  /** How Ollama's answer broke the protocol (an invalid line), when it did. */
  badResponse: string | null;
  /** Ollama stayed silent past the idle timeout and the request was closed. */
  idle: boolean;
  /** Ollama sent something: the idle timer starts over. */
  heard(): void;
}

/** One request's client, the state of its exchange, and the means to end it. */
interface Session {
  client: Ollama;
  exchange: Exchange;
  /** The answer is complete: the rest of the body is drained so the socket is reused; stops the idle timer. */
  settle(): void;
  /** Closes the request if it is still open (a no-op once it completed or settled) and stops the idle timer. */
  close(reason?: unknown): void;
}

export function createOllamaProvider(options: OllamaProviderOptions): LlmProvider {
  const host = options.host;
  const logger = (options.logger ?? silentLogger).child({ provider: 'ollama' });
  const pingTimeoutMs = options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS;
  const defaultKeepAlive = options.defaultKeepAlive ?? DEFAULT_KEEP_ALIVE;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const clock = options.clock ?? systemClock;
  const maxConcurrency = options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
  const gate = createCallGate(maxConcurrency);
  const transport = createHttpTransport({ maxSockets: maxConcurrency + CONTROL_SOCKETS });

  /** A client for one request; `streaming` requests have every line of their body checked. */
  const open = (streaming: boolean, extra?: AbortSignal): Session => {
    let lastHeard = clock.monotonic();
    let timer: Timer | null = null;
    const exchange: Exchange = {
      responded: false,
      errorLine: null,
      badResponse: null,
      idle: false,
      // Only a timestamp per chunk: rescheduling a timer per streamed line would cost more than the line.
      heard: () => {
        lastHeard = clock.monotonic();
      },
    };
    let lines: LineCheck | null = null;
    const wire = transport.open(
      {
        onResponse: (status) => {
          exchange.responded = true;
          exchange.heard();
          // Error answers are one JSON object, not a stream: the client reads them itself.
          if (streaming && status >= 200 && status <= 299) lines = lineCheck(exchange);
        },
        onChunk: (chunk) => {
          exchange.heard();
          lines?.chunk(chunk);
        },
        onEnd: () => lines?.end(),
      },
      extra,
    );
    const check = () => {
      const silentMs = clock.monotonic() - lastHeard;
      if (silentMs < idleTimeoutMs) {
        timer = clock.setTimeout(check, idleTimeoutMs - silentMs);
        return;
      }
      timer = null;
      exchange.idle = true;
      wire.abort(idleError(host, idleTimeoutMs));
    };
    timer = clock.setTimeout(check, idleTimeoutMs);
    const stop = () => {
      timer?.cancel();
      timer = null;
    };
    return {
      client: new Ollama({ host, fetch: wire.fetch }),
      exchange,
      settle: () => {
        stop();
        wire.settle();
      },
      close: (reason?: unknown) => {
        stop();
        wire.abort(reason);
      },
    };
  };

  /** Waits for a model-call slot; the signal's abort makes the caller leave the queue. */
  const slot = async (signal?: AbortSignal): Promise<Release> => {
    try {
      return await gate.acquire(signal);
    } catch (reason) {
      throw cancelled(reason);
    }
  };

  /** Runs one non-streaming call in its own session and maps its failure. */
  const call = async <T>(op: string, model: string | undefined, run: (client: Ollama) => Promise<T>): Promise<T> => {
    const session = open(false);
    try {
      return await run(session.client);
    } catch (err) {
      throw mapFailure(err, { host, model, exchange: session.exchange, logger, op, idleTimeoutMs });
    } finally {
      session.close();
    }
  };

  /** A non-streaming model call: it holds a slot of the gate for as long as it runs. */
  const modelCall = async <T>(op: string, model: string, run: (client: Ollama) => Promise<T>): Promise<T> => {
    const release = await slot();
    try {
      return await call(op, model, run);
    } finally {
      release();
    }
  };

  /** One streaming chat in its own session, once it holds a slot. */
  const streamChat = async (req: LlmChatRequest): Promise<LlmChatResult> => {
    const { signal } = req;
    const session = open(true);
    const follow = () => session.close(signal.reason);
    signal.addEventListener('abort', follow, { once: true });
    const tokenFailure: { thrown: boolean; error: unknown } = { thrown: false, error: undefined };

    let text = '';
    const toolCalls: ToolCall[] = [];
    let final: ChatResponse | null = null;
    try {
      const stream = await session.client.chat({ ...chatBody(req), stream: true });
      for await (const part of stream) {
        const piece = pieceOf(part);
        if (piece.content !== '') {
          text += piece.content;
          try {
            req.onToken?.(piece.content);
          } catch (error) {
            tokenFailure.thrown = true;
            tokenFailure.error = error;
            throw error;
          }
        }
        toolCalls.push(...piece.toolCalls);
        if (part.done) final = part;
      }
      session.settle();
    } catch (err) {
      if (tokenFailure.thrown && err === tokenFailure.error) throw err;
      if (signal.aborted) throw cancelled(signal.reason);
      throw mapFailure(err, { host, model: req.model, exchange: session.exchange, logger, op: 'chat', idleTimeoutMs });
    } finally {
      signal.removeEventListener('abort', follow);
      session.close();
    }
    if (final === null) {
      // The client returns only after a `done` line or throws, so this is a belt to its braces.
      throw new AuroraError('llm_bad_response', `the LLM provider at ${host} ended the stream without a final response`);
    }
    const result: LlmChatResult = {
      text,
      toolCalls,
      model: typeof final.model === 'string' && final.model !== '' ? final.model : req.model,
      promptTokens: countOrZero(final.prompt_eval_count),
      completionTokens: countOrZero(final.eval_count),
      doneReason: typeof final.done_reason === 'string' && final.done_reason !== '' ? final.done_reason : null,
      totalDurationMs: nsToMs(final.total_duration),
      loadDurationMs: nsToMs(final.load_duration),
      promptEvalDurationMs: nsToMs(final.prompt_eval_duration),
      evalDurationMs: nsToMs(final.eval_duration),
    };
    logger.debug('chat finished', {
      model: req.model,
      done_reason: result.doneReason,
      tool_calls: toolCalls.length,
      prompt_tokens: result.promptTokens,
      completion_tokens: result.completionTokens,
      total_duration_ms: result.totalDurationMs,
    });
    return result;
  };

  return {
    name: 'ollama',

    async chat(req: LlmChatRequest): Promise<LlmChatResult> {
      const { signal } = req;
      if (signal.aborted) throw cancelled(signal.reason);
      const release = await slot(signal);
      try {
        // The abort may have come in the same turn as the slot.
        if (signal.aborted) throw cancelled(signal.reason);
        return await streamChat(req);
      } finally {
        release();
      }
    },

    listInstalled: () =>
      call('list', undefined, async (client): Promise<InstalledModel[]> => {
        const res = await client.list();
        return modelsOf(res).map((m) => ({ name: m.name, sizeBytes: sizeOrNull(m.size) }));
      }),

    listLoaded: () =>
      call('ps', undefined, async (client): Promise<LoadedModelInfo[]> => {
        const res = await client.ps();
        return modelsOf(res).map((m) => ({ name: m.name, sizeBytes: sizeOrNull(m.size), expiresAt: isoOrNull(m.expires_at) }));
      }),

    async show(model) {
      try {
        return await call('show', model, async (client): Promise<ModelInfo> => modelInfoOf(await client.show({ model })));
      } catch (err) {
        if (err instanceof AuroraError && err.code === 'model_not_found') return null;
        throw err;
      }
    },

    load: (model, keepAlive = defaultKeepAlive) =>
      modelCall('load', model, async (client) => {
        await client.generate({ model, prompt: '', keep_alive: keepAlive, stream: false });
        logger.debug('model loaded', { model, keep_alive: keepAlive });
      }),

    unload: (model) =>
      modelCall('unload', model, async (client) => {
        await client.generate({ model, prompt: '', keep_alive: 0, stream: false });
        logger.debug('model unloaded', { model });
      }),

    async pull(model, { signal, onProgress }) {
      if (signal.aborted) throw cancelled(signal.reason);
      const session = open(true);
      const follow = () => session.close(signal.reason);
      signal.addEventListener('abort', follow, { once: true });
      const progressFailure: { thrown: boolean; error: unknown } = { thrown: false, error: undefined };
      let succeeded = false;
      try {
        const stream = await session.client.pull({ model, stream: true });
        for await (const part of stream) {
          const progress = progressOf(part);
          if (progress.status === 'success') succeeded = true;
          try {
            onProgress?.(progress);
          } catch (error) {
            progressFailure.thrown = true;
            progressFailure.error = error;
            throw error;
          }
        }
      } catch (err) {
        if (progressFailure.thrown && err === progressFailure.error) throw err;
        if (signal.aborted) throw cancelled(signal.reason);
        const mapped = mapFailure(err, { host, model, exchange: session.exchange, logger, op: 'pull', idleTimeoutMs });
        throw unknownToRegistry(mapped, session.exchange, model);
      } finally {
        signal.removeEventListener('abort', follow);
        session.close();
      }
      // The client returns only after a `success` line or throws, so this is a belt to its braces.
      if (!succeeded) throw new AuroraError('llm_bad_response', `the LLM provider at ${host} ended the pull without saying it succeeded`);
      logger.debug('model pulled', { model });
    },

    async ping() {
      const session = open(false, AbortSignal.timeout(pingTimeoutMs));
      try {
        await session.client.version();
        return true;
      } catch (err) {
        logger.debug('ping failed', { host, error: describe(err) });
        return false;
      } finally {
        session.close();
      }
    },

    async status(timeoutMs): Promise<ProviderStatus> {
      // One deadline for both requests; neither takes a slot of the gate.
      const deadline = AbortSignal.timeout(timeoutMs);
      const ask = async <T>(run: (client: Ollama) => Promise<T>): Promise<T> => {
        const session = open(false, deadline);
        try {
          return await run(session.client);
        } finally {
          session.close();
        }
      };
      try {
        const { version } = await ask((client) => client.version());
        const models = await ask(async (client) => modelsOf(await client.list()).map((m) => m.name));
        return { reachable: true, version: typeof version === 'string' && version !== '' ? version : null, models };
      } catch (err) {
        if (deadline.aborted) return { reachable: false, reason: `no answer within ${timeoutMs} ms` };
        return { reachable: false, reason: err instanceof TypeError ? networkReason(err) : describe(err) };
      }
    },
  };
}

/** The request body for /api/chat, in Ollama's names; absent options stay absent. */
function chatBody(req: LlmChatRequest): Omit<ChatRequest, 'stream'> {
  const options = definedOptions(req.options);
  return {
    model: req.model,
    messages: req.messages.map(toOllamaMessage),
    ...(options !== null && { options }),
    ...(req.tools !== undefined && req.tools.length > 0 && { tools: req.tools.map(toOllamaTool) }),
    ...(req.format !== undefined && { format: req.format }),
    ...(req.keepAlive !== undefined && { keep_alive: req.keepAlive }),
  };
}

function toOllamaMessage(m: ChatMessage): Message {
  return {
    role: m.role,
    content: m.content,
    ...(m.tool_calls !== undefined &&
      m.tool_calls.length > 0 && { tool_calls: m.tool_calls.map((c) => ({ function: { name: c.name, arguments: c.arguments } })) }),
    ...(m.tool_name !== undefined && { tool_name: m.tool_name }),
  };
}

function toOllamaTool(t: ToolSpec): Tool {
  // The client types `parameters` narrower than JSON Schema; Ollama takes any schema object.
  return { type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters as Tool['function']['parameters'] } };
}

function definedOptions(options: ModelOptions | undefined): Partial<Options> | null {
  if (options === undefined) return null;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (value !== undefined) out[key] = value;
  return Object.keys(out).length > 0 ? (out as Partial<Options>) : null;
}

/** The text and tool calls one streamed line carries; a line of the wrong shape is a bad response. */
function pieceOf(part: ChatResponse): { content: string; toolCalls: ToolCall[] } {
  const message: unknown = (part as { message?: unknown }).message;
  if (message === undefined || message === null) return { content: '', toolCalls: [] };
  if (typeof message !== 'object') throw badResponse(`a stream line whose message is ${JSON.stringify(message)}`);
  const { content, tool_calls: calls } = message as { content?: unknown; tool_calls?: unknown };
  if (content !== undefined && typeof content !== 'string') throw badResponse('a stream line whose message content is not a string');
  if (calls === undefined || calls === null) return { content: content ?? '', toolCalls: [] };
  if (!Array.isArray(calls)) throw badResponse('a stream line whose tool_calls is not an array');
  return { content: content ?? '', toolCalls: calls.map(toolCallOf) };
}

function toolCallOf(call: unknown): ToolCall {
  const fn: unknown = typeof call === 'object' && call !== null ? (call as { function?: unknown }).function : undefined;
  if (typeof fn !== 'object' || fn === null) throw badResponse(`a tool call without a function: ${shown(JSON.stringify(call))}`);
  const { name, arguments: args } = fn as { name?: unknown; arguments?: unknown };
  if (typeof name !== 'string' || name === '') throw badResponse(`a tool call without a name: ${shown(JSON.stringify(call))}`);
  if (!isPlainObject(args)) {
    throw badResponse(`tool call ${name} has arguments that are not an object: ${shown(JSON.stringify(args) ?? 'undefined')}`);
  }
  return { name, arguments: args };
}

/** One line of a pull's stream; a line without a status string is a bad response. */
function progressOf(part: ProgressResponse): PullProgress {
  const { status, digest, total, completed } = part as Partial<Record<keyof ProgressResponse, unknown>>;
  if (typeof status !== 'string') throw badResponse(`a pull line without a status: ${shown(JSON.stringify(part))}`);
  return {
    status,
    digest: typeof digest === 'string' && digest !== '' ? digest : null,
    total: byteCount(total),
    completed: byteCount(completed),
  };
}

function byteCount(n: unknown): number | null {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : null;
}

/**
 * Ollama answers a pull of a model its registry does not have with an error line inside a 200
 * stream ("pull model manifest: file does not exist"), not with a 404: that is model_not_found.
 */
function unknownToRegistry(mapped: unknown, exchange: Exchange, model: string): unknown {
  const line = exchange.errorLine;
  if (!(mapped instanceof AuroraError) || mapped.code !== 'llm_error' || line === null) return mapped;
  if (!/file does not exist|not found/i.test(line)) return mapped;
  return new AuroraError('model_not_found', `Model ${model} not found in the registry: ${line}`, { cause: mapped });
}

function modelsOf<T>(res: { models?: T[] } | null | undefined): T[] {
  if (!Array.isArray(res?.models)) throw badResponse('a model listing without a models array');
  return res.models;
}

/**
 * Ollama reports a model's trained context length under `<architecture>.context_length` in
 * model_info (e.g. `llama.context_length`); older servers send no capabilities at all.
 */
function modelInfoOf(res: unknown): ModelInfo {
  if (!isPlainObject(res)) throw badResponse('a /api/show answer that is not an object');
  const capabilities = Array.isArray(res.capabilities) ? res.capabilities.filter((c): c is string => typeof c === 'string') : [];
  const info = isPlainObject(res.model_info) ? res.model_info : {};
  const arch = info['general.architecture'];
  const preferred = typeof arch === 'string' ? info[`${arch}.context_length`] : undefined;
  const anyLength = Object.entries(info).find(([key, value]) => key.endsWith('.context_length') && typeof value === 'number')?.[1];
  const length = typeof preferred === 'number' ? preferred : anyLength;
  return { capabilities, contextLength: typeof length === 'number' && Number.isFinite(length) && length > 0 ? length : null };
}

interface LineCheck {
  chunk(bytes: Buffer): void;
  end(): void;
}

const NEWLINE = 0x0a;

/**
 * Checks every NDJSON line of a streaming answer before the client's parser sees it (that parser
 * drops invalid lines silently). Throwing fails the body, which also closes the HTTP request.
 * Lines are cut on the newline byte, which never occurs inside a multi-byte UTF-8 character, so no
 * decoder is kept per call.
 */
function lineCheck(exchange: Exchange): LineCheck {
  let pending: Buffer | null = null;
  const check = (line: string) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (cause) {
      exchange.badResponse = `invalid JSON line ${JSON.stringify(shown(line))}`;
      throw new Error(exchange.badResponse, { cause });
    }
    if (!isPlainObject(value)) {
      exchange.badResponse = `a line that is not a JSON object: ${JSON.stringify(shown(line))}`;
      throw new Error(exchange.badResponse);
    }
    // The client throws `new Error(line.error)` for any line that has the key, whatever its type.
    if ('error' in value) exchange.errorLine = String(value.error as string);
  };
  return {
    chunk(bytes) {
      let buf = bytes;
      let start = 0;
      let newline = buf.indexOf(NEWLINE);
      if (newline !== -1 && pending !== null) {
        buf = Buffer.concat([pending, bytes]);
        newline += pending.length;
      }
      if (newline === -1) {
        pending = pending === null ? bytes : Buffer.concat([pending, bytes]);
        return;
      }
      pending = null;
      while (newline !== -1) {
        check(buf.toString('utf8', start, newline));
        start = newline + 1;
        newline = buf.indexOf(NEWLINE, start);
      }
      if (start < buf.length) pending = buf.subarray(start);
    },
    end() {
      if (pending !== null) check(pending.toString('utf8'));
      pending = null;
    },
  };
}

function cancelled(reason: unknown): AuroraError {
  if (reason instanceof AuroraError) return reason;
  return new AuroraError('task_cancelled', 'task cancelled', { cause: reason });
}

function idleError(host: string, idleTimeoutMs: number): AuroraError {
  return new AuroraError('llm_timeout', `the LLM provider at ${host} sent nothing for ${idleTimeoutMs} ms; the request was closed`);
}

function badResponse(what: string): AuroraError {
  return new AuroraError('llm_bad_response', `malformed response from the LLM provider: ${what}`);
}

interface FailureContext {
  host: string;
  model: string | undefined;
  exchange: Exchange;
  logger: Logger;
  op: string;
  idleTimeoutMs: number;
}

/** The client's failure as an AuroraError when it is an expected one; defects come back unchanged. */
function mapFailure(err: unknown, ctx: FailureContext): unknown {
  const mapped = classify(err, ctx);
  if (mapped instanceof AuroraError && mapped !== err) {
    ctx.logger.debug('llm request failed', { op: ctx.op, model: ctx.model, code: mapped.code, error: describe(err) });
  }
  return mapped;
}

function classify(err: unknown, { host, model, exchange, idleTimeoutMs, op }: FailureContext): unknown {
  // Checked before anything else: the idle abort surfaces as whatever the aborted read throws.
  if (exchange.idle) return err instanceof AuroraError && err.code === 'llm_timeout' ? err : idleError(host, idleTimeoutMs);
  if (err instanceof AuroraError) return err;
  if (exchange.badResponse !== null) {
    return new AuroraError('llm_bad_response', `malformed response from the LLM provider at ${host}: ${exchange.badResponse}`, { cause: err });
  }
  const status = responseStatus(err);
  if (status !== null) {
    if (status === 404 && model !== undefined) {
      // Unloading or pulling a model is not helped by being told to pull it.
      const message = op === 'unload' || op === 'pull' ? `Model ${model} not found` : modelMissingMessage(model);
      return new AuroraError('model_not_found', message, { cause: err });
    }
    return new AuroraError('llm_error', `LLM provider error (HTTP ${status}): ${describe(err)}`, { cause: err });
  }
  if (!(err instanceof Error)) return err;
  if (exchange.errorLine !== null && err.message === exchange.errorLine) {
    return new AuroraError('llm_error', `LLM provider error: ${err.message}`, { cause: err });
  }
  if (!exchange.responded) {
    if (err instanceof TypeError) {
      return new AuroraError('llm_unavailable', `LLM provider unreachable at ${host}: ${networkReason(err)}; ${unreachableRemedy()}`, {
        cause: err,
      });
    }
    return err;
  }
  if (err instanceof TypeError) {
    return new AuroraError('llm_error', `connection to the LLM provider was lost mid-response: ${networkReason(err)}`, { cause: err });
  }
  if (err.message === MISSING_DONE) {
    return new AuroraError('llm_bad_response', `the LLM provider at ${host} ended the stream without a final response`, { cause: err });
  }
  // A non-streaming answer whose body is not JSON (response.json() failed).
  if (err instanceof SyntaxError) {
    return new AuroraError('llm_bad_response', `malformed response from the LLM provider at ${host}: ${err.message}`, { cause: err });
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

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function shown(text: string): string {
  return text.length > SHOWN_LINE_CHARS ? `${text.slice(0, SHOWN_LINE_CHARS)}…` : text;
}

function nsToMs(ns: number | undefined): number | null {
  return typeof ns === 'number' && Number.isFinite(ns) ? ns / 1_000_000 : null;
}

function countOrZero(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : 0;
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
