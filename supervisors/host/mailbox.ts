// An agent's tasks: the queue (which outlives the actor) and the running set (up to the agent's
// slots). A thread is the unit of ordering: a queued task whose thread already has one running
// waits for it, while tasks behind it of other threads may start.
import type { Metrics } from '../../runtime/metrics.js';
import type { TaskRequest } from '../../runtime/protocol/index.js';
import type { Pending } from './pending.js';

export class Mailbox {
  private readonly queue: Pending[] = [];
  /** In start order. */
  private readonly running = new Map<string, Pending>();
  /** Threads with a task running; made on the first task that names a thread. */
  private busyThreads: Set<string> | null = null;

  constructor(private readonly metrics: Pick<Metrics, 'mailboxDepth'>) {}

  get queued(): number {
    return this.queue.length;
  }

  get runningCount(): number {
    return this.running.size;
  }

  get empty(): boolean {
    return this.queue.length === 0 && this.running.size === 0;
  }

  /** Whether `task` could start at once if a slot were free: nothing queued ahead, its thread idle. */
  startsAtOnce(task: TaskRequest): boolean {
    return this.queue.length === 0 && !this.threadBusy(task);
  }

  enqueue(pending: Pending): number {
    this.queue.push(pending);
    this.metrics.mailboxDepth.inc();
    return this.queue.length;
  }

  /** Puts tasks back at the front, in the order given (retries after a crash). */
  requeue(tasks: readonly Pending[]): void {
    if (tasks.length === 0) return;
    this.queue.unshift(...tasks);
    this.metrics.mailboxDepth.inc(tasks.length);
  }

  /** Takes the first queued task that may start now and marks it running. */
  startNext(): Pending | undefined {
    const index =
      this.busyThreads === null || this.busyThreads.size === 0
        ? this.queue.length > 0
          ? 0
          : -1
        : this.queue.findIndex((p) => !this.threadBusy(p.task));
    if (index < 0) return undefined;
    const next = index === 0 ? this.queue.shift()! : this.queue.splice(index, 1)[0]!;
    this.metrics.mailboxDepth.dec();
    this.running.set(next.task.task_id, next);
    if (next.task.thread_id !== undefined) (this.busyThreads ??= new Set()).add(next.task.thread_id);
    return next;
  }

  /** Removes a queued task; undefined when it is not queued. */
  unqueue(match: (p: Pending) => boolean): Pending | undefined {
    const index = this.queue.findIndex(match);
    if (index < 0) return undefined;
    const [pending] = this.queue.splice(index, 1);
    this.metrics.mailboxDepth.dec();
    return pending;
  }

  /** Empties the queue. */
  drain(): Pending[] {
    const queued = this.queue.splice(0);
    this.metrics.mailboxDepth.dec(queued.length);
    return queued;
  }

  queuedTask(taskId: string): Pending | undefined {
    return this.queue.find((p) => p.task.task_id === taskId);
  }

  runningTask(taskId: string): Pending | undefined {
    return this.running.get(taskId);
  }

  runningTasks(): Pending[] {
    return [...this.running.values()];
  }

  /** The task no longer runs: its slot and its thread are free. */
  release(pending: Pending): void {
    this.running.delete(pending.task.task_id);
    if (pending.task.thread_id !== undefined) this.busyThreads?.delete(pending.task.thread_id);
  }

  private threadBusy(task: TaskRequest): boolean {
    return task.thread_id !== undefined && this.busyThreads !== null && this.busyThreads.has(task.thread_id);
  }
}
