// The WebSocket event stream (/api/v1/stream) as the client sees it: the messages it may receive,
// the filters of a subscription, and one connection over a socket the caller's platform provides
// (the `ws` package in Node: client/node.ts; the browser's WebSocket in a page). The protocol's
// full description is in gateway/stream-protocol.ts and README "Event stream".
import type { AuroraEvent, TaskExecuteRequest, TaskResult } from '../runtime/protocol/index.js';
import type { Static } from '@sinclair/typebox';
import { AuroraApiError, AuroraConnectionError } from './errors.js';

export const STREAM_PATH = '/api/v1/stream';

/** An event as the stream delivers it: what was published, numbered by the gateway. */
export type StreamEvent = AuroraEvent & { seq: number };

/** Everything the server sends on the stream: events, and replies to what the client sent. */
export type ServerMessage =
  | StreamEvent
  | { type: 'subscribed' | 'unsubscribed'; seq: number }
  | { type: 'replay.gap'; oldest_seq: number }
  | { type: 'pong' }
  | { type: 'task.submitted'; request_id?: string; task_id: string }
  | { type: 'task.result'; request_id?: string; task_id: string; result: TaskResult }
  | { type: 'task.error'; request_id?: string; task_id: string; detail: string; code: string }
  | { type: 'error'; detail: string; request_id?: string };

/** What the stream delivers for a subscription; an absent list matches everything. */
export interface StreamFilters {
  /** Agent names; `*` matches any run of characters. */
  agents?: readonly string[];
  /** Event types; `*` wildcards (`task.*`). */
  types?: readonly string[];
  /** Task ids (exact). */
  tasks?: readonly string[];
  /** Workflow run ids: each run's whole subtree. */
  runs?: readonly string[];
  /** Replay the events after this seq that are still in the gateway's window. */
  since?: number;
}

export type ExecuteMessage = Static<typeof TaskExecuteRequest> & { request_id?: string };

export type ClientMessage =
  | ({ op: 'subscribe' } & StreamFilters)
  | { op: 'unsubscribe' }
  | ({ op: 'execute' } & ExecuteMessage)
  | { op: 'ping' };

export function isStreamEvent(m: ServerMessage): m is StreamEvent {
  return 'seq' in m && 'payload' in m;
}

// ---------------------------------------------------------------- the socket port

export interface SocketHandlers {
  open(): void;
  message(text: string): void;
  close(code: number, reason: string): void;
  /** A failed connect (refused, or the upgrade answered with an HTTP error: an AuroraApiError). */
  error(err: Error): void;
}

export interface SocketLike {
  send(text: string): void;
  close(): void;
}

/**
 * Opens a WebSocket to `url`, presenting `token` as it can (an Authorization header in Node, the
 * `access_token` query parameter in a browser), and reports what happens to `handlers`.
 */
export type SocketFactory = (url: string, token: string | undefined, handlers: SocketHandlers) => SocketLike;

// ---------------------------------------------------------------- one connection

export interface StreamConnection {
  send(message: ClientMessage): void;
  close(): void;
  /** Resolves when the socket has closed (whoever closed it). */
  readonly closed: Promise<{ code: number; reason: string }>;
}

export function streamUrl(baseUrl: string, filters: StreamFilters = {}): string {
  const url = new URL(`${baseUrl.replace(/^http/, 'ws').replace(/\/+$/, '')}${STREAM_PATH}`);
  for (const key of ['agents', 'types', 'tasks', 'runs'] as const) {
    const list = filters[key];
    if (list !== undefined) url.searchParams.set(key, list.join(','));
  }
  if (filters.since !== undefined) url.searchParams.set('since', String(filters.since));
  return url.toString();
}

/**
 * Connects and resolves once the server has confirmed the subscription (its "subscribed" reply),
 * so every event published after that reaches `onMessage`. Rejects with an AuroraApiError when the
 * upgrade is refused (401, 403, 400 for a bad filter) or, unless `eventsRequired` is false, the
 * token may not read events (403); an AuroraConnectionError when nothing answers.
 */
export function connectStream(
  socketFactory: SocketFactory,
  baseUrl: string,
  token: string | undefined,
  filters: StreamFilters,
  onMessage: (message: ServerMessage) => void,
  options: { eventsRequired?: boolean } = {},
): Promise<StreamConnection> {
  const eventsRequired = options.eventsRequired ?? true;
  const url = streamUrl(baseUrl, filters);
  return new Promise<StreamConnection>((resolve, reject) => {
    let subscribed = false;
    let resolveClosed!: (value: { code: number; reason: string }) => void;
    const closed = new Promise<{ code: number; reason: string }>((r) => (resolveClosed = r));
    const connection: StreamConnection = {
      send: (message) => socket.send(JSON.stringify(message)),
      close: () => socket.close(),
      closed,
    };
    const socket = socketFactory(url, token, {
      open: () => {},
      message: (text) => {
        let message: ServerMessage;
        try {
          message = JSON.parse(text) as ServerMessage;
        } catch {
          return; // the stream speaks JSON; anything else is not for us
        }
        if (!subscribed) {
          // A token without events:read gets no "subscribed", but this error, and may still run tasks.
          if (message.type === 'subscribed' || (message.type === 'error' && !eventsRequired)) {
            subscribed = true;
            resolve(connection);
            return;
          }
          if (message.type === 'error' && 'detail' in message) {
            reject(new AuroraApiError(403, message.detail, 'forbidden'));
            socket.close();
            return;
          }
        }
        onMessage(message);
      },
      close: (code, reason) => {
        resolveClosed({ code, reason });
        if (!subscribed) reject(new AuroraConnectionError(url, `the stream closed before it was ready (${code} ${reason})`));
      },
      error: (err) => {
        if (subscribed) return; // the close that follows says the rest
        if (err instanceof AuroraApiError) reject(err);
        else reject(new AuroraConnectionError(url, `cannot reach Aurora's stream at ${url.split('?')[0]}: ${err.message}`, { cause: err }));
      },
    });
  });
}

/** What a task run over the stream may tell as it goes. */
export interface ExecuteHandlers {
  /** The task was accepted; its events follow. */
  onSubmitted?(taskId: string): void;
  /** Each event of the task (task.queued, task.started, task.token, task.tool_call, …), in order. */
  onEvent?(event: StreamEvent): void;
}

/**
 * Runs a task over the stream (the `execute` op) and resolves with its result; its events go to
 * `handlers.onEvent` as they arrive. Rejects with an AuroraApiError when the task ends with an
 * error (its code's status) or the request is refused, and an AuroraConnectionError when the
 * socket closes before the task's final message.
 */
export async function executeOverStream(
  socketFactory: SocketFactory,
  baseUrl: string,
  token: string | undefined,
  task: Static<typeof TaskExecuteRequest>,
  handlers: ExecuteHandlers = {},
): Promise<{ task_id: string; result: TaskResult }> {
  const requestId = crypto.randomUUID();
  let taskId: string | undefined;
  /** Events that arrived before task.submitted named our task (kept only until it does). */
  const early: StreamEvent[] = [];
  let settle!: { resolve(v: { task_id: string; result: TaskResult }): void; reject(err: Error): void };
  const done = new Promise<{ task_id: string; result: TaskResult }>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => {}); // awaited below once the socket is up; an early end must not count as unhandled

  // `types=` (an empty list) matches no event: the socket receives its own task's events only.
  const connection = await connectStream(socketFactory, baseUrl, token, { types: [] }, (m) => {
    if (isStreamEvent(m)) {
      if (taskId === undefined) early.push(m);
      else if (m.task_id === taskId) handlers.onEvent?.(m);
      return;
    }
    // Replies about anything but our request (another request's, a notice) are not ours.
    if (!('request_id' in m) || m.request_id !== requestId) return;
    switch (m.type) {
      case 'task.submitted':
        taskId = m.task_id;
        handlers.onSubmitted?.(taskId);
        for (const e of early.splice(0)) if (e.task_id === taskId) handlers.onEvent?.(e);
        break;
      case 'task.result':
        settle.resolve({ task_id: m.task_id, result: m.result });
        break;
      case 'task.error':
        settle.reject(AuroraApiError.fromCode(m.code, m.detail));
        break;
      case 'error':
        settle.reject(new AuroraApiError(400, m.detail, 'invalid_request'));
        break;
      default:
        break;
    }
  }, { eventsRequired: false });
  connection.send({ op: 'execute', ...task, request_id: requestId });
  void connection.closed.then(({ code, reason }) =>
    settle.reject(new AuroraConnectionError(baseUrl, `the stream closed before the task ended (${code}${reason === '' ? '' : ` ${reason}`})`)),
  );
  try {
    return await done;
  } finally {
    connection.close();
  }
}
