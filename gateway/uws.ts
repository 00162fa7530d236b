// The thin adapter between uWebSockets.js and the dispatcher. uWS rules kept here and nowhere else:
// `onAborted` first; the request object is copied out before any await (it is stack-allocated and
// dies with the callback); body chunks are copied as they arrive (their ArrayBuffers are reused);
// every write after an await happens inside `cork`; nothing is written after an abort.
import { STATUS_CODES } from 'node:http';
import uws from 'uWebSockets.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Timer } from '../runtime/clock.js';
import type { GatewayDeps } from './deps.js';
import type { Dispatcher } from './dispatch.js';
import { standaloneErrorResponse, statusOf } from './error-response.js';
import type { IncomingRequest, OutgoingResponse } from './http.js';

export class UwsUnavailableError extends Error {
  override readonly name = 'UwsUnavailableError';
}

/** The gateway's address cannot be listened on; the message says why and what to do. */
export class PortUnavailableError extends Error {
  override readonly name = 'PortUnavailableError';
  /** `inUse`: another process holds the port (the usual case), which the message then says how to resolve. */
  constructor(host: string, port: number, why: string, inUse: boolean) {
    const hint = inUse
      ? 'Another Aurora (or another program) is listening there: stop it, or set PORT to a free port (0 picks one).'
      : 'Check HOST and PORT.';
    super(`Cannot listen on ${host}:${port}: ${why}. ${hint}`);
  }
}

/**
 * uWebSockets.js falls back to a JavaScript imitation when its native binary does not load on this
 * platform / Node ABI; that fallback is broken, so Aurora refuses to start on it.
 */
export function assertNativeUws(App: unknown): void {
  const native = typeof App === 'function' && /\[native code\]/.test(Function.prototype.toString.call(App));
  if (!native) {
    throw new UwsUnavailableError(
      `uWebSockets.js did not load its native binary for ${process.platform}-${process.arch} ` +
        `(Node ${process.versions.node}, ABI ${process.versions.modules}); its JavaScript fallback is ` +
        'not supported. Use a Node.js version the installed uWebSockets.js ships a binary for, and ' +
        'make sure UWS_USE_FALLBACK is not set.',
    );
  }
}

export function createUwsApp(): TemplatedApp {
  assertNativeUws(uws.App);
  return uws.App();
}

/** Copies what the dispatcher needs out of the uWS request; call synchronously in the handler. */
export function copyRequest(req: HttpRequest, remoteAddress?: string): IncomingRequest {
  const headers: Record<string, string> = {};
  req.forEach((key, value) => {
    const prev = headers[key];
    headers[key] = prev === undefined ? value : `${prev}, ${value}`;
  });
  const method = req.getCaseSensitiveMethod().toUpperCase();
  const url = req.getUrl();
  const query = req.getQuery() ?? '';
  return remoteAddress === undefined ? { method, url, query, headers } : { method, url, query, headers, remoteAddress };
}

/** Status lines by code, built once each (a handful of codes ever occur). */
const STATUS_LINES = new Map<number, string>();

function statusLine(status: number): string {
  let line = STATUS_LINES.get(status);
  if (line === undefined) {
    const reason = STATUS_CODES[status];
    line = reason === undefined ? String(status) : `${status} ${reason}`;
    if (STATUS_LINES.size < 1_000) STATUS_LINES.set(status, line);
  }
  return line;
}

/** The declared body length: a number, null when none is declared, NaN when it is malformed. */
function declaredLength(headers: IncomingRequest['headers']): number | null {
  const raw = headers['content-length'];
  if (raw === undefined) return null;
  return /^\d{1,15}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
}

export type HttpAdapterDeps = Pick<GatewayDeps, 'logger' | 'clock' | 'config'>;

/** Sends every HTTP request on `app` through `dispatcher`. */
export function attachHttp(app: TemplatedApp, dispatcher: Dispatcher, deps: HttpAdapterDeps): void {
  for (const constant of dispatcher.constantAnswers) {
    // Answered before this callback returns, so no onAborted and no copy of the request. uWS
    // routes only the exact path here; a trailing slash, HEAD, or a yield goes to the pipeline.
    app.get(constant.path, (res, req) => {
      const out = constant.answer(req.getHeader('x-request-id'), req.getHeader('origin'), req.getQuery() ?? '');
      if (out === null) {
        req.setYield(true);
        return;
      }
      res.cork(() => writeResponse(res, out, 'GET', false));
    });
  }
  app.any('/*', (res, req) => serveHttp(res, req, dispatcher, deps));
}

/** Writes a whole response; call inside `cork`. `close` ends the connection after it. */
export function writeResponse(res: HttpResponse, out: OutgoingResponse, method: string, close: boolean): void {
  res.writeStatus(statusLine(out.status));
  const headers = out.headers;
  for (const key in headers) res.writeHeader(key, headers[key]!);
  const body = out.bytes ?? out.body;
  if (method === 'HEAD') {
    // uWS writes the body after a HEAD too, and the client then reads those bytes as the next
    // response on the connection. The GET's length is announced by hand: this uWS build closes
    // the connection, unanswered, when given any argument to endWithoutBody. A HEAD never reads
    // a body, so `close` (only set when one is left unread) does not arise here.
    res.writeHeader('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength));
    res.endWithoutBody();
  } else {
    // uWS closes without saying so; the header tells the client not to send another request.
    if (close) res.writeHeader('connection', 'close');
    res.end(body, close);
  }
}

function serveHttp(res: HttpResponse, req: HttpRequest, dispatcher: Dispatcher, deps: HttpAdapterDeps): void {
  const { logger, clock } = deps;
  let aborted = false;
  let answered = false;
  /** Pending while a body is being read. */
  let bodyTimer: Timer | undefined;
  /** Set while a streamed body is being written: told when the client goes away. */
  let onGone: (() => void) | undefined;
  res.onAborted(() => {
    aborted = true;
    bodyTimer?.cancel();
    onGone?.();
    // uWS reports an abort only after this handler has returned, so `exchange` is set by then.
    logger.debug('client went away before its response', { request_id: exchange.requestId, answered });
  });
  // The peer address lives in the socket, which is gone once the response ends: copy it now.
  const incoming = copyRequest(req, Buffer.from(res.getRemoteAddressAsText()).toString());
  const exchange = dispatcher.begin(incoming);

  /** The one place that writes. `close` ends the connection (used when a body is left unread). */
  const send = (out: OutgoingResponse, close = false): void => {
    if (aborted || answered) return;
    answered = true;
    if (out.stream !== undefined && incoming.method !== 'HEAD') {
      onGone = streamBody(res, out, deps, exchange.requestId);
      return;
    }
    res.cork(() => writeResponse(res, out, incoming.method, close));
  };

  const run = (body: Uint8Array | null): void => {
    exchange.run(body).then(
      (out) => send(out),
      (err: unknown) => {
        // run() never rejects; reaching this is a bug in the dispatcher itself.
        logger.error('dispatcher rejected', { request_id: exchange.requestId, err });
        send(standaloneErrorResponse(statusOf('internal'), 'Internal server error', exchange.requestId));
      },
    );
  };

  const limit = exchange.bodyLimit;
  if (limit === null) {
    run(null);
    return;
  }
  const declared = declaredLength(incoming.headers);
  const chunked = incoming.headers['transfer-encoding'] !== undefined;
  const tooLarge = declared !== null && declared > limit;
  if (!tooLarge && !chunked && (declared === null || declared === 0)) {
    run(new Uint8Array(0));
    return;
  }

  const chunks: Buffer[] = [];
  let received = 0;
  let state: 'reading' | 'discarding' | 'stopped' = 'reading';
  const discardLimit = Math.max(DISCARD_MIN_BYTES, 2 * limit);

  // A body over the cap is answered 413 and the connection closed. Closing while the client still
  // sends makes the client's kernel reset the connection, and many clients (Node's http among
  // them) then report EPIPE or ECONNRESET instead of the 413 they were sent. So the rest of the
  // body is read and thrown away first, within DISCARD_MS and discardLimit, and the 413 goes out
  // once it is all in (or a bound is reached). Answering first and discarding after is not
  // possible here: this uWS build lets nothing close a connection once its response has ended,
  // and a response begun with write() (chunked) breaks when ended with a close.
  const refuseTooLarge = (): void => {
    state = 'stopped';
    chunks.length = 0;
    bodyTimer?.cancel();
    bodyTimer = undefined;
    send(exchange.tooLarge(), true);
  };
  const discardRest = (): void => {
    state = 'discarding';
    chunks.length = 0;
    bodyTimer?.cancel();
    bodyTimer = clock.setTimeout(() => {
      bodyTimer = undefined;
      if (state === 'discarding') refuseTooLarge();
    }, DISCARD_MS);
  };

  if (tooLarge && declared > discardLimit) {
    // More than will ever be read: refuse before a byte of the body is read.
    send(exchange.tooLarge(), true);
    return;
  }
  if (tooLarge) {
    // Honour Content-Length: nothing of the body is kept.
    discardRest();
  } else {
    // A client that declares more than it sends, or drips its body, would hold the request open
    // (uWS itself only drops such a connection silently, once its own ~10 s idle timeout passes).
    bodyTimer = clock.setTimeout(() => {
      bodyTimer = undefined;
      if (state !== 'reading' || aborted) return;
      state = 'stopped';
      chunks.length = 0;
      send(exchange.bodyTimedOut(), true);
    }, dispatcher.bodyReadTimeoutMs);
  }
  res.onData((chunk, isLast) => {
    if (aborted || state === 'stopped') return;
    received += chunk.byteLength;
    if (state === 'discarding') {
      if (isLast || received > discardLimit) refuseTooLarge();
      return;
    }
    if (received > limit) {
      if (isLast) refuseTooLarge();
      else discardRest();
      return;
    }
    // The chunk's memory is reused by uWS once this callback returns: copy it.
    chunks.push(Buffer.from(new Uint8Array(chunk)));
    if (isLast) {
      state = 'stopped';
      bodyTimer?.cancel();
      bodyTimer = undefined;
      run(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    }
  });
}

/**
 * Writes the head (uWS sends it with the first chunk), then hands the stream a sink over the connection. uWS buffers what the socket
 * cannot take yet; a client that lets more than WS_MAX_QUEUE_BYTES pile up is cut, as a slow
 * WebSocket is. Returns what the adapter calls when the client goes away.
 */
function streamBody(res: HttpResponse, out: OutgoingResponse, deps: HttpAdapterDeps, requestId: string): () => void {
  const maxQueueBytes = deps.config.wsMaxQueueBytes;
  let over = false;
  let backlog = 0;
  const listeners: (() => void)[] = [];
  const finish = (): void => {
    if (over) return;
    over = true;
    for (const l of listeners.splice(0)) l();
  };
  res.cork(() => {
    res.writeStatus(statusLine(out.status));
    for (const key in out.headers) res.writeHeader(key, out.headers[key]!);
  });
  out.stream!({
    write(chunk) {
      if (over) return false;
      let flushed = true;
      res.cork(() => {
        flushed = res.write(chunk);
      });
      if (flushed) return true;
      backlog += Buffer.byteLength(chunk);
      if (backlog > maxQueueBytes) {
        deps.logger.warn('closing slow event-stream client', { request_id: requestId, queued_bytes: backlog, max_bytes: maxQueueBytes });
        finish();
        res.close();
        return false;
      }
      res.onWritable(() => {
        backlog = 0;
        return true;
      });
      return true;
    },
    end() {
      if (over) return;
      finish();
      res.cork(() => res.end());
    },
    onClose(listener) {
      if (over) listener();
      else listeners.push(listener);
    },
  });
  return finish;
}

/** Longest the rest of a refused body is read and thrown away before its 413 goes out anyway. */
const DISCARD_MS = 2_000;
/** Least a refused body may send in all before its 413 goes out anyway (else twice the cap). */
const DISCARD_MIN_BYTES = 4 * 1024 * 1024;

export interface Listening {
  readonly port: number;
  /** Stops accepting and closes every open socket (HTTP and WebSocket). Idempotent. */
  close(): void;
}

/**
 * uWS listens with SO_REUSEPORT unless told otherwise, and then a second process on the same port
 * starts happily and the kernel splits connections between the two (one with auth on, one off:
 * every other request skips auth). This option makes the bind fail instead. The typings (20.30)
 * declare the option only for listen(port, options, cb); the native listen takes
 * (host, port, options, cb) as well, which listenExclusive below relies on.
 */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;

type ListenCallback = (listenSocket: uws.us_listen_socket | false) => void;

function listenExclusive(app: TemplatedApp, host: string, port: number, cb: ListenCallback): void {
  const native = app as unknown as { listen(host: string, port: number, options: number, cb: ListenCallback): unknown };
  native.listen(host, port, LIBUS_LISTEN_EXCLUSIVE_PORT, cb);
}

/** Listens on host:port, alone (see LIBUS_LISTEN_EXCLUSIVE_PORT); port 0 picks a free port, read back from the socket. */
export function listen(app: TemplatedApp, host: string, port: number): Promise<Listening> {
  return new Promise((resolve, reject) => {
    listenExclusive(app, host, port, (listenSocket) => {
      if (!listenSocket) {
        // uWS does not say why; the usual reason is another process on the port (bin/aurora.ts
        // checks that earlier with the real error code, so reaching this is a lost race).
        reject(new PortUnavailableError(host, port, 'the port is already in use (or the address is not available)', true));
        return;
      }
      const actual = uws.us_socket_local_port(listenSocket as unknown as uws.us_socket);
      let closed = false;
      resolve({
        port: actual,
        close() {
          if (closed) return;
          closed = true;
          uws.us_listen_socket_close(listenSocket);
          // Native builds have app.close(), which also ends the open connections; the typings lag.
          const closable = app as TemplatedApp & { close?: () => void };
          closable.close?.();
        },
      });
    });
  });
}
