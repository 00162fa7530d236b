// The tab's one WebSocket on /api/v1/stream. The view on screen says which events it needs
// (useLive); the socket is re-subscribed with those filters rather than a second socket opened.
// Each "subscribed" bumps `generation`, and views fetch their REST snapshot after it, so no event
// falls between the snapshot and the deltas. Events reach views batched per animation frame.
// Tasks run over the same socket (the stream's `execute` op).
import { effect, signal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import {
  AuroraApiError,
  isStreamEvent,
  type ServerMessage,
  type StreamConnection,
  type StreamEvent,
  type StreamFilters,
} from '../../client/index.js';
import type { TaskExecuteRequest, TaskResult } from '../../runtime/protocol/index.js';
import type { Static } from '@sinclair/typebox';
import { currentClient } from './api.js';
import { createFrameBatch } from './frame-batch.js';
import { allows, authRequired, token } from './session.js';

/** `tasks-only`: the token may not read events, but tasks it runs over the socket still report. */
export type StreamState = 'connecting' | 'open' | 'closed' | 'forbidden' | 'tasks-only';
export const streamState = signal<StreamState>('connecting');
/** Bumped on every confirmed subscription: views refetch their snapshot when it moves. */
export const generation = signal(0);
/** The server's last refusal of a subscription (a filter that matches no event type), until the next one it accepts. */
export const subscribeError = signal<string | null>(null);
/** Events dropped because frames did not come (background tab) while they arrived. */
export const droppedEvents = signal(0);

/** Events queued for the next frame at most; older ones are dropped first. */
const MAX_QUEUED_EVENTS = 5000;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 15000;

type Listener = (events: StreamEvent[]) => void;
const listeners = new Set<Listener>();
const taskWatchers = new Map<string, (m: ServerMessage) => void>();
/** Tasks running over the socket: told when it closes before their end (their result is then lost to it). */
const pendingTasks = new Set<(err: Error) => void>();

let filters: StreamFilters = { types: [] };
let connection: StreamConnection | undefined;
let retryMs = RETRY_MIN_MS;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let epoch = 0;

const batch = createFrameBatch<StreamEvent>(
  (events, dropped) => {
    if (dropped > 0) droppedEvents.value += dropped;
    for (const l of listeners) l(events);
  },
  MAX_QUEUED_EVENTS,
  (run) => requestAnimationFrame(run),
);

function onMessage(m: ServerMessage): void {
  if (isStreamEvent(m)) {
    batch.push(m);
    if (m.task_id !== undefined) taskWatchers.get(`task:${m.task_id}`)?.(m);
    return;
  }
  if (m.type === 'subscribed') {
    subscribeError.value = null;
    generation.value++;
    return;
  }
  if ('request_id' in m && m.request_id !== undefined) {
    taskWatchers.get(`req:${m.request_id}`)?.(m);
    return;
  }
  if (m.type === 'error') subscribeError.value = m.detail;
}

function connect(): void {
  const mine = ++epoch;
  clearTimeout(retryTimer);
  connection?.close();
  connection = undefined;
  if (authRequired.value && token.value === '') {
    streamState.value = 'closed';
    return;
  }
  streamState.value = 'connecting';
  const asked = filters;
  // Without events:read the server sends no "subscribed", only an error; the socket still runs tasks.
  const readsEvents = allows('events:read');
  currentClient()
    .stream.connect(asked, onMessage, { eventsRequired: readsEvents })
    .then((c) => {
      if (mine !== epoch) return c.close();
      connection = c;
      // A view mounted while the socket was opening asked for other filters.
      if (readsEvents && filters !== asked) c.send({ op: 'subscribe', ...filters });
      retryMs = RETRY_MIN_MS;
      streamState.value = readsEvents ? 'open' : 'tasks-only';
      generation.value++;
      void c.closed.then(() => {
        for (const fail of [...pendingTasks]) fail(new Error('The event stream closed before the task ended; see it under Agents'));
        if (mine !== epoch) return;
        connection = undefined;
        streamState.value = 'closed';
        retryLater(mine);
      });
    })
    .catch((err: unknown) => {
      if (mine !== epoch) return;
      if (err instanceof AuroraApiError && err.status === 403) {
        // The token may not read events: views still work from REST snapshots.
        streamState.value = 'forbidden';
        return;
      }
      streamState.value = 'closed';
      retryLater(mine);
    });
}

function retryLater(mine: number): void {
  retryTimer = setTimeout(() => {
    if (mine === epoch) connect();
  }, retryMs);
  retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
}

function setFilters(next: StreamFilters): void {
  filters = next;
  if (connection !== undefined && streamState.value === 'open') connection.send({ op: 'subscribe', ...next });
}

let started = false;
/** Opens the socket, and again whenever the token changes. */
export function startLive(): void {
  if (started) return;
  started = true;
  effect(() => {
    void token.value;
    void authRequired.value;
    connect();
  });
}

/**
 * Subscribes the tab's socket to `wanted` while the calling view is mounted, and hands it each
 * frame's events. `key` must change when `wanted` does.
 */
export function useLive(wanted: StreamFilters, onEvents: Listener): void {
  const handler = useRef(onEvents);
  handler.current = onEvents;
  const key = JSON.stringify(wanted);
  useEffect(() => {
    setFilters(wanted);
    const l: Listener = (events) => handler.current(events);
    listeners.add(l);
    return () => listeners.delete(l);
    // `key` stands for `wanted`, which is a new object on every render
  }, [key]);
}

export interface ExecuteHandlers {
  onSubmitted(taskId: string): void;
  onEvent(event: StreamEvent): void;
}

/** Runs a task over the tab's socket: its events as they come, then its result (or the error). */
export function executeTask(task: Static<typeof TaskExecuteRequest>, handlers: ExecuteHandlers): Promise<TaskResult> {
  const c = connection;
  if (c === undefined) return Promise.reject(new Error('The event stream is not connected'));
  const requestId = crypto.randomUUID();
  return new Promise<TaskResult>((resolve, reject) => {
    let taskKey: string | undefined;
    const reqKey = `req:${requestId}`;
    const done = () => {
      taskWatchers.delete(reqKey);
      if (taskKey !== undefined) taskWatchers.delete(taskKey);
      pendingTasks.delete(lost);
    };
    const lost = (err: Error) => {
      done();
      reject(err);
    };
    pendingTasks.add(lost);
    taskWatchers.set(reqKey, (m) => {
      if (isStreamEvent(m)) return;
      switch (m.type) {
        case 'task.submitted':
          taskKey = `task:${m.task_id}`;
          taskWatchers.set(taskKey, (e) => {
            if (isStreamEvent(e)) handlers.onEvent(e);
          });
          handlers.onSubmitted(m.task_id);
          break;
        case 'task.result':
          done();
          resolve(m.result);
          break;
        case 'task.error':
          done();
          reject(AuroraApiError.fromCode(m.code, m.detail));
          break;
        case 'error':
          done();
          reject(new AuroraApiError(400, m.detail, 'invalid_request'));
          break;
        default:
          break;
      }
    });
    c.send({ op: 'execute', ...task, request_id: requestId });
  });
}
