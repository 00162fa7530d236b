// A task's events as Server-Sent Events: GET /api/v1/tasks/{id}/events, and POST
// /api/v1/tasks/execute with Accept: text/event-stream (the route in tasks.ts hands over here).
// Each event is `id: <per-task index>`, `event: <type>`, `data: <the event's JSON>`; a client that
// reconnects with Last-Event-ID gets what it missed from the gateway's feed (gateway/task-events.ts).
import { AuroraError, isAuroraError, toErrorPayload } from '../../runtime/errors.js';
import type { AgentRequestOf } from '../../runtime/protocol/index.js';
import type { GatewayDeps } from '../deps.js';
import type { HandlerRequest, HandlerResponse } from '../http.js';
import { ask, runTask } from '../service-client.js';
import { EVENT_STREAM_HEADERS, lastEventId, sseEvent, type ResponseSink } from '../sse.js';
import type { TaskEvents, TaskFeed } from '../task-events.js';
import { pathParam } from './params.js';

/** SSE event types of the stream itself (beside the task's own events). */
export const SSE_EVENTS = {
  /** Events between the client's Last-Event-ID and `oldest_id` are not available any more. */
  gap: 'replay.gap',
  /** Execute's answer: the TaskResult, as the JSON form of execute answers it. */
  result: 'task.result',
  /** Execute's failure: `{detail, code}`, the detail the JSON form answers with. */
  error: 'task.error',
} as const;

function taskEventsOf(deps: GatewayDeps): TaskEvents {
  if (deps.taskEvents === undefined) throw new AuroraError('unavailable', 'This gateway does not serve event streams');
  return deps.taskEvents;
}

const ended = (status: string): boolean => status !== 'queued' && status !== 'running';

/** GET /api/v1/tasks/{id}/events */
export async function streamTaskEvents(req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> {
  const source = taskEventsOf(deps);
  const taskId = pathParam(req, 'id');
  const after = lastEventId(req.headers['last-event-id']);
  let feed: TaskFeed;
  let gap = false;
  const known = source.peek(taskId);
  if (known !== undefined) {
    feed = known;
  } else {
    const record = await ask(deps, 'tasks.get', { task_id: taskId });
    // The client followed this task before and it has ended since; this gateway no longer holds
    // its events, so there is nothing to resume: 204 tells an EventSource to stop reconnecting.
    if (after !== undefined && ended(record.status)) return { status: 204, body: '' };
    feed = source.open(taskId, record.agent, after ?? 0);
    // Resuming where this gateway never followed the task (another gateway, or forgotten): what
    // happened in between is unknown.
    gap = after !== undefined && after > 0;
    feed.finishFrom(record);
    return open(feed, after ?? 0, gap);
  }
  if (after !== undefined && feed.ended && after >= feed.lastIndex) return { status: 204, body: '' };
  source.open(taskId, '', 0); // one more follower of the same feed
  return open(feed, after ?? 0, gap);
}

function open(feed: TaskFeed, after: number, gap: boolean): HandlerResponse {
  // Someone must notice the task's end even when its final event went by unseen.
  feed.watchOutcome();
  return {
    status: 200,
    body: '',
    headers: EVENT_STREAM_HEADERS,
    stream: (sink) => {
      // A comment line first: the head goes out with it, so the client knows it is following
      // even while the task is still queued.
      sink.write(`: task ${feed.taskId}\n\n`);
      const stop = follow(feed, after, sink, gap, () => sink.end());
      sink.onClose(() => {
        stop();
        feed.release();
      });
    },
  };
}

/**
 * Writes the feed's events after `after`, then live ones; calls `atEnd` once the feed has ended.
 * Returns the unlisten.
 */
function follow(feed: TaskFeed, after: number, sink: ResponseSink, gap: boolean, atEnd: () => void): () => void {
  const replay = feed.since(after);
  if (gap || replay.gap) sink.write(sseEvent(SSE_EVENTS.gap, { oldest_id: replay.oldest }));
  for (const e of replay.events) sink.write(sseEvent(e.type, e.data, e.index));
  if (feed.ended) {
    atEnd();
    return () => undefined;
  }
  return feed.listen((e) => {
    if (e === null) atEnd();
    else sink.write(sseEvent(e.type, e.data, e.index));
  });
}

type Settled = { ok: true; result: unknown } | { ok: false; error: unknown };

/**
 * POST /api/v1/tasks/execute with Accept: text/event-stream: the task's events as they happen,
 * then `task.result` (or `task.error`), then the end. A task refused before it produced an event
 * (unknown agent, full mailbox) is answered as JSON with its status, as without the header.
 */
export async function executeAsEventStream(deps: GatewayDeps, request: AgentRequestOf<'task'>): Promise<HandlerResponse> {
  const source = taskEventsOf(deps);
  const feed = source.open(request.task_id, request.agent);
  const settled: Promise<Settled> = runTask(deps, request).then(
    (result) => ({ ok: true, result }),
    (error: unknown) => ({ ok: false, error }),
  );
  let unlisten: () => void = () => undefined;
  const firstEvent = new Promise<'event'>((resolve) => {
    unlisten = feed.listen(() => resolve('event'));
  });
  const first = await Promise.race([settled, firstEvent]);
  unlisten();
  if (first !== 'event' && !first.ok && feed.lastIndex === 0) {
    feed.release();
    throw first.error;
  }
  return {
    status: 200,
    body: '',
    headers: EVENT_STREAM_HEADERS,
    stream: (sink) => {
      let stop = follow(feed, 0, sink, false, () => undefined);
      sink.onClose(() => {
        stop();
        feed.release();
      });
      void settled.then((outcome) => {
        stop();
        stop = () => undefined;
        if (outcome.ok) {
          sink.write(sseEvent(SSE_EVENTS.result, outcome.result));
        } else {
          if (!isAuroraError(outcome.error)) {
            deps.logger.error('streamed task failed with a defect', { task_id: request.task_id, err: outcome.error });
          }
          const { code, message } = toErrorPayload(outcome.error);
          sink.write(sseEvent(SSE_EVENTS.error, { detail: message, code }));
        }
        sink.end();
      });
    },
  };
}
