// The `fetch` the Ollama client is given: node:http over a keep-alive agent with a bounded number of
// sockets, answering with just the part of a WHATWG Response the client reads.
//
// Why not the built-in fetch: against an instant stand-in Ollama, 64 streaming chats at once, the
// provider cost ~1.0 ms of CPU per call over it (the fetch itself, web streams, a Response,
// AbortSignal.any and a TransformStream per call) and ~0.3 ms over this transport; the bare client
// over the built-in fetch ~0.65 ms, bare node:http ~0.12 ms (bench/provider-calls.ts measures these).
// undici's Dispatcher under the same provider cost ~0.14 ms alone, but in Aurora (bench scenario 9)
// it saved under a tenth of a task's CPU, too little for a dependency of its own; if it is ever
// added, this file is the one to change.
//
// What the client reads of a response (ollama 0.6.4, dist/browser.mjs): ok, status, statusText,
// headers.get(), json(), text() and body.getReader() → read()/releaseLock(). Nothing else is given.
//
// Failures look like the built-in fetch's, so the provider tells them apart the same way: no answer
// at all rejects with TypeError('fetch failed', {cause}); a connection lost while the body is read
// fails the read with TypeError('terminated', {cause}); an abort rejects with its reason. Unlike
// it, redirects are not followed: an OLLAMA_HOST that redirects is misconfigured, and its 3xx
// answer fails the call as an HTTP error that names the status.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';

export interface HttpTransportOptions {
  /** Most sockets open to the host at once; requests beyond them wait for a free one. */
  maxSockets: number;
  /** An idle keep-alive socket is closed after this long (ms), before most servers and proxies would. */
  idleSocketMs?: number;
}

/** What one exchange reports as it goes; the provider's idle timer and NDJSON checks live here. */
export interface ExchangeHooks {
  /** The response head arrived. */
  onResponse(status: number): void;
  /** A piece of the body arrived. Throwing fails the body with that error and closes the request. */
  onChunk(chunk: Buffer): void;
  /** The body is complete. Throwing fails the body with that error. */
  onEnd(): void;
}

/** One request: its fetch, and the two ways to end it. */
export interface HttpExchange {
  readonly fetch: typeof fetch;
  /**
   * The caller has all it wants: what is left of a body still arriving (Ollama's chunked
   * terminator often comes after the final line) is read and dropped, so the socket goes back to
   * the pool; a server silent for idleSocketMs has it closed instead. Aborts no longer apply.
   */
  settle(): void;
  /**
   * Ends the exchange: a pending fetch and every read not yet made reject with `reason`. The
   * request is closed if its body has not fully arrived; a body that has is drained, so its socket
   * stays in the pool. A no-op once settled.
   */
  abort(reason?: unknown): void;
}

export interface HttpTransport {
  /** An exchange for one request, aborted also by `signal`, its progress reported to `hooks`. */
  open(hooks: ExchangeHooks, signal?: AbortSignal): HttpExchange;
  /** Closes the idle sockets; requests still running finish on theirs. */
  close(): void;
}

// A socket the server closed while it sat idle in the pool fails the next request written to it
// before any answer; that request never reached the server and is sent once more on a fresh socket.
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
// Bytes of body held unread before the socket is paused; Ollama's lines are far smaller.
const HIGH_WATER_BYTES = 64 * 1024;
// Below the 5 s keep-alive timeout of Node servers and most proxies, so we close an idle socket first.
const DEFAULT_IDLE_SOCKET_MS = 4_000;
// What a read after settle() rejects with; made once, as an Error's stack costs more than a call.
const SETTLED = new Error('the exchange was settled; its body is no longer read');

type Agents = Record<'http:' | 'https:', http.Agent>;

// The client asks for a handful of URLs over and over (/api/chat above all): parse each once.
const MAX_CACHED_URLS = 64;
const parsedUrls = new Map<string, URL>();

function parseUrl(input: string): URL {
  let url = parsedUrls.get(input);
  if (url === undefined) {
    url = new URL(input);
    if (parsedUrls.size >= MAX_CACHED_URLS) parsedUrls.clear();
    parsedUrls.set(input, url);
  }
  return url;
}

export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const idleSocketMs = options.idleSocketMs ?? DEFAULT_IDLE_SOCKET_MS;
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, timeout: idleSocketMs };
  const agents: Agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };
  return {
    open: (hooks, signal) => new Exchange(agents, hooks, idleSocketMs, signal),
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

type Phase = 'idle' | 'head' | 'body' | 'over';

class Exchange implements HttpExchange {
  private phase: Phase = 'idle';
  private req: http.ClientRequest | null = null;
  private reader: BodyReader | null = null;
  private rejectHead: ((error: unknown) => void) | null = null;
  private abortedWith: { reason: unknown } | null = null;
  private readonly onSignal: (() => void) | null = null;

  constructor(
    private readonly agents: Agents,
    private readonly hooks: ExchangeHooks,
    private readonly idleSocketMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    if (signal === undefined) return;
    if (signal.aborted) {
      this.abortedWith = { reason: signal.reason };
      return;
    }
    this.onSignal = () => this.abort(signal.reason);
    signal.addEventListener('abort', this.onSignal, { once: true });
  }

  // The client's own signal (init.signal) is ignored: only client.abort() fires it, and nobody has
  // these per-request clients to call it; every way to end a request comes through abort().
  readonly fetch: typeof fetch = (input, init) => {
    if (this.abortedWith !== null) return Promise.reject(abortError(this.abortedWith.reason));
    if (this.phase !== 'idle') return Promise.reject(new Error('an exchange carries one request'));
    if (typeof input !== 'string' && !(input instanceof URL)) return Promise.reject(new TypeError('this fetch takes a URL, not a Request'));
    const url = typeof input === 'string' ? parseUrl(input) : input;
    const protocol = url.protocol;
    if (protocol !== 'http:' && protocol !== 'https:') return Promise.reject(new TypeError(`fetch failed: ${protocol} is not http or https`));
    const body = bodyText(init?.body);
    const headers = plainHeaders(init?.headers);
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const options: http.RequestOptions = {
      agent: this.agents[protocol],
      protocol,
      hostname: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      method: init?.method ?? 'GET',
      headers,
      ...(url.username !== '' && { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` }),
    };
    const request = protocol === 'https:' ? https.request : http.request;
    this.phase = 'head';
    return new Promise<Response>((resolve, reject) => {
      this.rejectHead = reject;
      this.send(request, options, body, resolve, false);
    });
  };

  settle(): void {
    if (this.phase === 'over') return;
    if (this.reader !== null) this.reader.settle();
    this.finish();
  }

  abort(reason?: unknown): void {
    if (this.phase === 'over') return;
    if (this.phase === 'idle') {
      this.abortedWith = { reason };
      this.finish();
      return;
    }
    if (this.reader !== null) {
      this.reader.fail(reason);
      return;
    }
    this.req?.destroy();
    this.failHead(abortError(reason));
  }

  private send(
    request: (options: http.RequestOptions) => http.ClientRequest,
    options: http.RequestOptions,
    body: string | undefined,
    resolve: (response: Response) => void,
    retried: boolean,
  ): void {
    const req = request(options);
    this.req = req;
    // Kept for the request's whole life: an 'error' nobody listens to would end the process.
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (req !== this.req || this.phase === 'over') return;
      if (this.reader !== null) {
        this.reader.fail(new TypeError('terminated', { cause: err }));
        return;
      }
      if (!retried && req.reusedSocket && err.code !== undefined && STALE_SOCKET_CODES.has(err.code)) {
        this.send(request, options, body, resolve, true);
        return;
      }
      this.failHead(new TypeError('fetch failed', { cause: err }));
    });
    req.once('response', (res: IncomingMessage) => {
      if (req !== this.req || this.phase === 'over') {
        res.destroy();
        return;
      }
      this.phase = 'body';
      this.rejectHead = null;
      const reader = new BodyReader(res, req, this.hooks, this.idleSocketMs, () => this.finish());
      this.reader = reader;
      try {
        this.hooks.onResponse(res.statusCode ?? 0);
      } catch (err) {
        reader.fail(err);
      }
      resolve(leanResponse(res, reader));
    });
    req.end(body);
  }

  private failHead(error: unknown): void {
    const reject = this.rejectHead;
    this.rejectHead = null;
    this.finish();
    reject?.(error);
  }

  private finish(): void {
    this.phase = 'over';
    if (this.onSignal !== null) this.signal?.removeEventListener('abort', this.onSignal);
  }
}

type ReadResult = { done: false; value: Uint8Array } | { done: true; value: undefined };

/**
 * The body of one response as the client reads it, pushed by the socket and pulled by read().
 * Chunks are handed to the hooks as they arrive (so silence is measured on the wire, not on how fast
 * the client reads) and queued until read; past the high-water mark the socket is paused.
 */
class BodyReader {
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private waiter: { resolve(r: ReadResult): void; reject(e: unknown): void } | null = null;
  private ended = false;
  /** Why reads fail from now on; `reason` undefined is an abort without one (made into an AbortError when read). */
  private failure: { reason: unknown } | null = null;

  constructor(
    private readonly res: IncomingMessage,
    private readonly req: http.ClientRequest,
    private readonly hooks: ExchangeHooks,
    private readonly idleSocketMs: number,
    private readonly done: () => void,
  ) {
    res.on('data', (chunk: Buffer) => this.push(chunk));
    res.once('end', () => this.end());
    res.once('error', (err) => this.fail(new TypeError('terminated', { cause: err })));
    res.once('close', () => {
      if (!this.ended) this.fail(new TypeError('terminated', { cause: new Error('the connection closed before the body was complete') }));
    });
  }

  read(): Promise<ReadResult> {
    if (this.failure !== null) return Promise.reject(abortError(this.failure.reason));
    const value = this.queue.shift();
    if (value !== undefined) {
      this.queuedBytes -= value.length;
      if (this.res.isPaused() && this.queuedBytes < HIGH_WATER_BYTES) this.res.resume();
      return Promise.resolve({ done: false, value });
    }
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Reads what is left of the body whole. */
  async all(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (;;) {
      const r = await this.read();
      if (r.done) return Buffer.concat(parts);
      parts.push(r.value as Buffer);
    }
  }

  /**
   * Fails the body: the pending and later reads reject with `reason`. A body that already arrived
   * whole is drained rather than cut, so its socket stays in the pool.
   */
  fail(reason: unknown): void {
    if (this.failure !== null) return;
    this.failure = { reason };
    this.release();
    if (!this.res.complete) this.req.destroy();
    const w = this.waiter;
    this.waiter = null;
    w?.reject(abortError(reason));
  }

  /** No more reads will come: the rest of the body is dropped as it arrives, then the socket is reused. */
  settle(): void {
    if (this.failure !== null) return;
    this.failure = { reason: SETTLED };
    this.release();
    if (this.res.complete) return;
    // Bounded: a server that never ends the body loses the socket instead of holding it forever.
    this.req.setTimeout(this.idleSocketMs, () => this.req.destroy());
  }

  private release(): void {
    this.done();
    this.queue.length = 0;
    this.queuedBytes = 0;
    if (!this.ended) this.res.resume();
  }

  private push(chunk: Buffer): void {
    if (this.failure !== null) return;
    try {
      this.hooks.onChunk(chunk);
    } catch (err) {
      this.fail(err);
      return;
    }
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w.resolve({ done: false, value: chunk });
      return;
    }
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    if (this.queuedBytes >= HIGH_WATER_BYTES) this.res.pause();
  }

  private end(): void {
    if (this.failure !== null) return;
    try {
      this.hooks.onEnd();
    } catch (err) {
      this.fail(err);
      return;
    }
    this.ended = true;
    const w = this.waiter;
    this.waiter = null;
    w?.resolve({ done: true, value: undefined });
  }
}

function leanResponse(res: IncomingMessage, reader: BodyReader): Response {
  const status = res.statusCode ?? 0;
  const lean = {
    ok: status >= 200 && status <= 299,
    status,
    statusText: res.statusMessage ?? '',
    headers: {
      get(name: string): string | null {
        const value = res.headers[name.toLowerCase()];
        if (value === undefined) return null;
        return Array.isArray(value) ? value.join(', ') : value;
      },
    },
    body: {
      getReader: () => ({
        read: () => reader.read(),
        releaseLock() {},
        cancel: (reason?: unknown) => {
          reader.fail(reason);
          return Promise.resolve();
        },
      }),
    },
    text: async () => (await reader.all()).toString('utf8'),
    json: async (): Promise<unknown> => JSON.parse((await reader.all()).toString('utf8')),
  };
  // Only the members above (see the top of this file): a full Response would cost a web stream per call.
  return lean as unknown as Response;
}

function plainHeaders(headers: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined || headers === null) return out;
  if (headers instanceof Headers) {
    headers.forEach((value, key) => (out[key] = value));
  } else if (Array.isArray(headers)) {
    for (const [key, value] of headers) if (key !== undefined && value !== undefined) out[key.toLowerCase()] = value;
  } else {
    for (const [key, value] of Object.entries(headers as Record<string, string>)) out[key.toLowerCase()] = value;
  }
  return out;
}

function bodyText(body: RequestInit['body']): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  // The client sends JSON text; anything else would be a change in the client this file must follow.
  throw new TypeError(`this fetch sends string bodies only, got ${Object.prototype.toString.call(body)}`);
}

/** What an abort rejects with: its reason, or the AbortError the built-in fetch would give. */
function abortError(reason: unknown): unknown {
  return reason ?? new DOMException('This operation was aborted', 'AbortError');
}
