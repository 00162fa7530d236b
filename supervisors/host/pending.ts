// A task as its host holds it, from acceptance to outcome.
import type { Timer } from '../../runtime/clock.js';
import type { AuroraError } from '../../runtime/errors.js';
import type { Reply, TaskRequest, TaskResult } from '../../runtime/protocol/index.js';

export interface Pending {
  readonly task: TaskRequest;
  readonly reply: (reply: Reply<TaskResult>) => void;
  /** Monotonic ms when the mailbox took it. */
  readonly acceptedAt: number;
  /** Monotonic ms when it last started running. */
  startedAt: number;
  attempts: number;
  readonly deadline: Timer;
  /** When the task times out, ms since the epoch. */
  readonly deadlineAt: number;
  /** Set when the host asked the actor to abandon this task; says how the task ends. */
  abandonedWith: AuroraError | null;
  /** Index of the next streamed token of this task, across all its effects. */
  tokens: number;
  /** What the machine recorded about the task; written with its outcome (or at once when asked). */
  details: Record<string, unknown> | undefined;
  /** Others waiting for the outcome (a retry that joined, tasks.wait); made on the first. */
  joiners: ((reply: Reply<TaskResult>) => void)[] | null;
}
