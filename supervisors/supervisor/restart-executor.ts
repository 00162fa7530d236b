// Carrying out restarts: starting a plan's children in order, now or once its backoff has passed on
// the clock, with a failed start handled as a crash; and failing a child whose own budget is spent.
import type { Clock, Timer } from '../../runtime/clock.js';
import { describe as describeError } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/logger.js';
import type { ExitReason } from '../strategy.js';
import type { ChildRunner } from './child-runner.js';
import type { ChildEntry, ChildTable } from './child-table.js';
import type { Emit, SupervisorMetrics } from './events.js';
import type { JobQueue } from './job-queue.js';

/** Children to start in order, each only if it is still the generation the plan claimed. */
export interface Plan {
  readonly entries: readonly ChildEntry[];
  readonly gens: readonly number[];
  timer: Timer | undefined;
}

/** A supervisor's own jobs (besides its commands): an exit to decide on, a plan whose backoff has passed. */
export type RestartJob =
  | { readonly kind: 'exit'; readonly entry: ChildEntry; readonly gen: number; readonly exit: ExitReason }
  | { readonly kind: 'plan'; readonly plan: Plan };

export interface RestartExecutorDeps {
  readonly supervisorId: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: SupervisorMetrics | undefined;
  readonly emit: Emit;
  readonly table: ChildTable;
  readonly jobs: JobQueue<RestartJob>;
  readonly runner: ChildRunner;
}

export interface RestartExecutor {
  /** Starts the plan's children in order, skipping any claimed since; stops at the first failed start. */
  execPlan(plan: readonly ChildEntry[], gens: readonly number[], from: number): PromiseLike<unknown> | undefined;
  /** Queues the plan as a job once `delayMs` has passed, unless cancelled first. */
  schedule(plan: readonly ChildEntry[], gens: readonly number[], delayMs: number): void;
  cancelPlans(): void;
  /** Starts a supervised child; a failed start is handled as a crash. */
  startSupervised(entry: ChildEntry): boolean | Promise<boolean>;
  /** A failed start: reported like a crash and queued as the child's exit, to be decided on like one. */
  crashOnStart(entry: ChildEntry, error: unknown): void;
  /** The child spent its own (per_child) budget: it alone becomes 'failed'. */
  failChild(entry: ChildEntry, reason: string, now: number): void;
}

export function createRestartExecutor(deps: RestartExecutorDeps): RestartExecutor {
  const { supervisorId, clock, logger, metrics, emit, table, jobs, runner } = deps;
  const pendingPlans = new Set<Plan>();

  function schedule(plan: readonly ChildEntry[], gens: readonly number[], delayMs: number): void {
    const p: Plan = { entries: plan, gens, timer: undefined };
    pendingPlans.add(p);
    p.timer = clock.setTimeout(() => {
      if (pendingPlans.delete(p)) jobs.submit({ kind: 'plan', plan: p });
    }, delayMs);
  }

  function cancelPlans(): void {
    for (const p of pendingPlans) p.timer?.cancel();
    pendingPlans.clear();
  }

  function execPlan(plan: readonly ChildEntry[], gens: readonly number[], from: number): PromiseLike<unknown> | undefined {
    for (let i = from; i < plan.length; i++) {
      const entry = plan[i]!;
      if (entry.gen !== gens[i] || entry.status !== 'restarting') continue;
      const started = startSupervised(entry);
      // A failed start is queued as a crash of that child; its decision covers the children after
      // it (rest_for_one, one_for_all) or escalates, so the rest are not started without it.
      if (started === false) return undefined;
      if (started !== true) {
        const next = i + 1;
        return started.then((ok) => (ok ? execPlan(plan, gens, next) : undefined));
      }
    }
    return undefined;
  }

  function startSupervised(entry: ChildEntry): boolean | Promise<boolean> {
    const result = runner.start(entry);
    if (result === true) return true;
    if (!(result instanceof Promise)) {
      crashOnStart(entry, result.error);
      return false;
    }
    return result.then((r) => {
      if (r === true) return true;
      crashOnStart(entry, r.error);
      return false;
    });
  }

  function crashOnStart(entry: ChildEntry, error: unknown): void {
    const now = clock.now();
    if (Number.isNaN(entry.crashedAt)) entry.crashedAt = now;
    entry.handle = undefined;
    entry.pendingReason = 'crash';
    table.setStatus(entry, 'restarting');
    const { id, kind } = entry.spec;
    logger.warn('child start failed', {
      supervisor: supervisorId,
      child: id,
      kind,
      reason: 'start_failed',
      delay_ms: entry.delayMs,
      attempt: entry.attempt,
      error,
    });
    emit({
      type: 'crash',
      supervisor: supervisorId,
      child: id,
      kind,
      reason: 'start_failed',
      error: describeError(error),
      attempt: entry.attempt,
      at: now,
    });
    jobs.submit({ kind: 'exit', entry, gen: entry.gen, exit: 'crash' });
  }

  function failChild(entry: ChildEntry, reason: string, now: number): void {
    entry.gen++;
    entry.pendingReason = undefined;
    entry.crashedAt = NaN;
    table.setStatus(entry, 'failed');
    const { id, kind } = entry.spec;
    logger.error('child failed: restart budget spent', {
      supervisor: supervisorId,
      child: id,
      kind,
      reason,
      attempt: entry.history.length,
    });
    metrics?.supervisorEscalations.inc({ supervisor: `${supervisorId}/${id}` });
    emit({ type: 'failed', supervisor: supervisorId, child: id, kind, reason, at: now });
  }

  return { execPlan, schedule, cancelPlans, startSupervised, crashOnStart, failChild };
}
