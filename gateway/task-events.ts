// One task's events for Server-Sent Events clients (GET /api/v1/tasks/{id}/events, and execute
// with Accept: text/event-stream). Unlike the WebSocket stream, which listens to every event while
// it has sockets, a task feed subscribes to the events of the task's agent only, and only while
// someone follows the task (then STREAM_LINGER_MS more, so a client that reconnects with
// Last-Event-ID is answered from the feed). Each event the feed keeps gets a per-task index, its
// SSE id; at most EVENT_REPLAY_SIZE are kept per task (the oldest go first, and a resume from
// before them is told of the gap). The feed ends with the task's final event: task.completed,
// task.failed or task.cancelled, live or (for a task that ended unseen) rebuilt from its record.
import type { Subscription } from '../runtime/bus/bus.js';
import type { Timer } from '../runtime/clock.js';
import { isAuroraError, toErrorPayload } from '../runtime/errors.js';
import type { AuroraEvent, TaskRecord } from '../runtime/protocol/index.js';
import type { GatewayDeps } from './deps.js';
import type { FeedReplay, IndexedEvent, TaskEvents, TaskFeed } from './task-feed.js';
import { ask } from './service-client.js';

export type { FeedReplay, IndexedEvent, TaskEvents, TaskFeed } from './task-feed.js';

export const FINAL_TASK_EVENTS: ReadonlySet<string> = new Set(['task.completed', 'task.failed', 'task.cancelled']);

/** SSE event type of a feed that ended without the task's outcome (the node could not be asked). */
export const STREAM_ERROR_EVENT = 'stream.error';

/** Longest one wait for a task's end; the feed asks again while the task runs. */
const OUTCOME_WAIT_MS = 60_000;

type Deps = Pick<GatewayDeps, 'bus' | 'subjects' | 'config' | 'clock' | 'logger'>;

export function createTaskEvents(deps: Deps): TaskEvents {
  const feeds = new Map<string, Feed>();
  let closed = false;

  class Feed implements TaskFeed {
    ended = false;
    lastIndex: number;
    private readonly kept: IndexedEvent[] = [];
    private readonly listeners = new Set<(event: IndexedEvent | null) => void>();
    private users = 0;
    private subscription: Subscription | undefined;
    private linger: Timer | undefined;
    private watching = false;

    constructor(
      readonly taskId: string,
      agent: string,
      resumeAfter: number,
    ) {
      this.lastIndex = resumeAfter;
      this.subscription = deps.bus.subscribe(deps.subjects.agentEvents(agent), (msg) => {
        const event = msg.data as AuroraEvent;
        if (event?.task_id === taskId && typeof event.type === 'string') this.record(event.type, event);
      });
    }

    since(after: number): FeedReplay {
      const oldest = this.kept[0]?.index ?? this.lastIndex + 1;
      return { gap: after + 1 < oldest, oldest, events: this.kept.filter((e) => e.index > after) };
    }

    listen(listener: (event: IndexedEvent | null) => void): () => void {
      this.listeners.add(listener);
      return () => this.listeners.delete(listener);
    }

    finishFrom(record: TaskRecord): void {
      if (!this.ended && record.status !== 'queued' && record.status !== 'running') this.record(finalType(record), outcomeEvent(record));
    }

    watchOutcome(): void {
      if (this.watching || this.ended) return;
      this.watching = true;
      const wait = (): void => {
        if (this.ended || closed) return;
        ask(deps, 'tasks.wait', { task_id: this.taskId, timeout_ms: OUTCOME_WAIT_MS }, OUTCOME_WAIT_MS + deps.config.busRequestTimeoutMs).then(
          (record) => {
            if (record.status === 'queued' || record.status === 'running') {
              // Nobody follows any more: stop asking; the next follower starts again.
              if (this.users > 0) wait();
              else this.watching = false;
              return;
            }
            this.finishFrom(record);
          },
          (err: unknown) => {
            if (!isAuroraError(err)) deps.logger.error('following a task for its event stream failed', { task_id: this.taskId, err });
            const { code, message } = toErrorPayload(err);
            this.record(STREAM_ERROR_EVENT, { detail: `The task's outcome could not be read: ${message}`, code });
          },
        );
      };
      wait();
    }

    hold(): void {
      this.users += 1;
      this.linger?.cancel();
      this.linger = undefined;
    }

    release(): void {
      this.users -= 1;
      if (this.users > 0 || closed) return;
      this.linger = deps.clock.setTimeout(() => this.drop(), deps.config.streamLingerMs);
    }

    drop(): void {
      this.linger?.cancel();
      this.unsubscribe();
      if (feeds.get(this.taskId) === this) feeds.delete(this.taskId);
    }

    private unsubscribe(): void {
      this.subscription?.unsubscribe();
      this.subscription = undefined;
    }

    private record(type: string, data: IndexedEvent['data']): void {
      if (this.ended) return;
      const entry: IndexedEvent = { index: ++this.lastIndex, type, data };
      this.kept.push(entry);
      // At least the final event is kept, whatever the bound.
      if (this.kept.length > Math.max(1, deps.config.eventReplaySize)) this.kept.shift();
      const final = FINAL_TASK_EVENTS.has(type) || type === STREAM_ERROR_EVENT;
      if (final) {
        this.ended = true;
        this.unsubscribe();
      }
      for (const l of [...this.listeners]) l(entry);
      if (final) for (const l of [...this.listeners]) l(null);
    }
  }

  return {
    open(taskId, agent, resumeAfter = 0) {
      let feed = feeds.get(taskId);
      if (feed === undefined) {
        feed = new Feed(taskId, agent, resumeAfter);
        feeds.set(taskId, feed);
      }
      feed.hold();
      return feed;
    },
    peek: (taskId) => feeds.get(taskId),
    close() {
      closed = true;
      for (const feed of [...feeds.values()]) feed.drop();
    },
  };
}

function finalType(record: TaskRecord): string {
  return record.status === 'completed' ? 'task.completed' : record.status === 'cancelled' ? 'task.cancelled' : 'task.failed';
}

/** The final event of a task that ended unseen, rebuilt from its record; a completed one carries its result. */
export function outcomeEvent(record: TaskRecord): AuroraEvent {
  const payload: Record<string, unknown> =
    record.status === 'completed'
      ? { tokens_used: record.tokens_used ?? 0, duration_ms: record.duration_ms ?? 0, result: record.result ?? '' }
      : { code: record.error_code ?? 'internal', detail: record.error ?? '' };
  return {
    type: finalType(record),
    time: record.completed_at ?? record.created_at,
    agent: record.agent,
    task_id: record.task_id,
    payload,
  };
}
