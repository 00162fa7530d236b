// What a task's event feed offers its followers (gateway/task-events.ts implements it). Types
// only, so the gateway's deps can name the feeds without importing what builds them.
import type { AuroraEvent, TaskRecord } from '../runtime/protocol/index.js';

export interface IndexedEvent {
  /** The per-task index: the SSE id. */
  readonly index: number;
  /** The SSE event type: the event's own, or STREAM_ERROR_EVENT. */
  readonly type: string;
  readonly data: AuroraEvent | { detail: string; code: string };
}

export interface FeedReplay {
  /** Events after the cursor were lost (dropped by the bound, or before this gateway followed the task). */
  readonly gap: boolean;
  /** Index of the oldest event kept (the next one when none is). */
  readonly oldest: number;
  readonly events: readonly IndexedEvent[];
}

export interface TaskFeed {
  readonly taskId: string;
  /** The final event is recorded: nothing follows it. */
  readonly ended: boolean;
  /** Index of the newest event, 0 before the first. */
  readonly lastIndex: number;
  /** The events kept after `after` (an index the client saw, 0 for all). */
  since(after: number): FeedReplay;
  /** Calls `listener` with every event recorded from now on; the feed's end comes as `null`. Returns the unlisten. */
  listen(listener: (event: IndexedEvent | null) => void): () => void;
  /** Records the task's outcome from its record, unless its final event came already. */
  finishFrom(record: TaskRecord): void;
  /** Follows the task's end through the node (tasks.wait), for tasks nobody else awaits. */
  watchOutcome(): void;
  /** This follower is done; the feed lingers, then goes. */
  release(): void;
}

export interface TaskEvents {
  /**
   * The feed of a task, shared by everyone following it. A new feed numbers its events from
   * `resumeAfter + 1` (a client resuming on a gateway that had forgotten the task).
   */
  open(taskId: string, agent: string, resumeAfter?: number): TaskFeed;
  /** The feed of a task this gateway still holds, if any (for a resume). */
  peek(taskId: string): TaskFeed | undefined;
  /** Unsubscribes every feed. */
  close(): void;
}
