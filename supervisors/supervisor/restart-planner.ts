// Deciding what a child's exit means: the exit is recorded and reported, the pure decide() is asked
// with the right budget (one window for the supervisor, or one per child), and its answer becomes a
// plan — which children to stop and start again, after what backoff — or a failed child, or an
// escalation.
import type { Clock } from '../../runtime/clock.js';
import { describe as describeError } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/logger.js';
import { decide, type ExitReason, type SupervisorPolicy } from '../strategy.js';
import type { ChildRunner } from './child-runner.js';
import type { ChildExit, ChildHandle } from './child-spec.js';
import type { ChildEntry, ChildTable } from './child-table.js';
import type { Emit } from './events.js';
import type { JobQueue } from './job-queue.js';
import type { RestartExecutor, RestartJob } from './restart-executor.js';

export interface RestartPlannerDeps {
  readonly supervisorId: string;
  readonly policy: SupervisorPolicy;
  /** Each child spends its own budget (per_child) instead of the supervisor's shared one. */
  readonly perChild: boolean;
  readonly clock: Clock;
  readonly rng: () => number;
  readonly logger: Logger;
  readonly emit: Emit;
  readonly table: ChildTable;
  readonly jobs: JobQueue<RestartJob>;
  readonly runner: ChildRunner;
  readonly executor: RestartExecutor;
  /** Exits and plans are only acted on while the supervisor runs. */
  readonly isRunning: () => boolean;
  /** The shared budget is spent: the supervisor fails and tells its parent. */
  readonly escalate: (trigger: ChildEntry, reason: string) => Promise<void>;
  readonly onDefect: (error: unknown) => void;
}

export interface RestartPlanner {
  /** An exit report from a child's incarnation `gen` (see ChildRunnerDeps.onExit). */
  onChildExit(entry: ChildEntry, gen: number, exit: ChildExit | undefined): void;
  runJob(job: RestartJob): PromiseLike<unknown> | undefined;
  /** A restart takes the child over: older reports and plans for it become stale. */
  claim(entry: ChildEntry, delayMs: number, attempt: number): void;
  /** A new run of the supervisor starts with a fresh shared budget (children's own are reset by the caller). */
  resetSharedBudget(): void;
  /** Restarts in the shared budget's window, as of the last decision. */
  sharedRestartCount(): number;
}

export function createRestartPlanner(deps: RestartPlannerDeps): RestartPlanner {
  const { supervisorId, policy, perChild, clock, rng, logger, emit, table, jobs, runner, executor, isRunning, escalate, onDefect } =
    deps;
  let sharedHistory: number[] = [];

  function onChildExit(entry: ChildEntry, gen: number, exit: ChildExit | undefined): void {
    if (entry.gen !== gen || entry.status !== 'running') {
      // An incarnation we already stopped or replaced (e.g. it crashed while being stopped), or a
      // second report of the same exit: nothing to decide, but leave a trace.
      if (exit?.reason !== 'normal') {
        logger.debug('exit of a stopped or replaced child ignored', {
          supervisor: supervisorId,
          child: entry.spec.id,
          kind: entry.spec.kind,
          reason: 'crash',
          error: exit?.error,
        });
      }
      return;
    }
    entry.handle = undefined;
    table.setStatus(entry, 'restarting');
    const now = clock.now();
    if (Number.isNaN(entry.crashedAt)) entry.crashedAt = now;
    // Anything but an explicit normal exit is a crash: a malformed report must not hide one.
    const reason: ExitReason = exit?.reason === 'normal' ? 'normal' : 'crash';
    entry.pendingReason = reason;
    const { id, kind } = entry.spec;
    if (reason === 'crash') {
      const error = exit?.error;
      logger.warn('child crashed', { supervisor: supervisorId, child: id, kind, reason, error });
      emit({
        type: 'crash',
        supervisor: supervisorId,
        child: id,
        kind,
        reason,
        error: error === undefined ? undefined : describeError(error),
        at: now,
      });
    } else {
      logger.info('child exited', { supervisor: supervisorId, child: id, kind, reason });
    }
    // Fast path: nothing else in flight, decide and (with zero backoff and a synchronous start)
    // restart right here, without a timer hop or a queued job.
    if (!jobs.enterIfIdle()) {
      jobs.submit({ kind: 'exit', entry, gen, exit: reason });
      return;
    }
    let pending: PromiseLike<unknown> | undefined;
    try {
      pending = handleExit(entry, gen, reason);
    } catch (error) {
      onDefect(error);
    }
    jobs.resume(pending);
  }

  function runJob(job: RestartJob): PromiseLike<unknown> | undefined {
    switch (job.kind) {
      case 'exit':
        return handleExit(job.entry, job.gen, job.exit);
      case 'plan':
        return isRunning() ? executor.execPlan(job.plan.entries, job.plan.gens, 0) : undefined;
    }
  }

  function handleExit(entry: ChildEntry, gen: number, exit: ExitReason): PromiseLike<unknown> | undefined {
    if (!isRunning() || entry.gen !== gen || entry.status !== 'restarting') return undefined;
    const now = clock.now();
    const decision = decide({
      child: entry.spec,
      exit,
      history: perChild ? entry.history : sharedHistory,
      policy,
      now,
      children: table.order,
      rng,
    });
    switch (decision.action) {
      case 'ignore': {
        entry.pendingReason = undefined;
        entry.crashedAt = NaN;
        table.setStatus(entry, 'stopped');
        logger.info('child not restarted', {
          supervisor: supervisorId,
          child: entry.spec.id,
          kind: entry.spec.kind,
          reason: exit,
          restart: entry.spec.restart,
        });
        // OTP: a temporary child is forgotten once it exits, so dynamic ones do not pile up.
        if (entry.spec.restart === 'temporary') table.remove(entry);
        return undefined;
      }
      case 'escalate':
        if (perChild) {
          executor.failChild(entry, decision.reason, now);
          return undefined;
        }
        return escalate(entry, decision.reason);
      case 'restart':
        if (perChild) entry.history = decision.history;
        else sharedHistory = decision.history;
        return restart(entry, decision.ids, decision.delayMs, decision.history.length);
    }
  }

  function claim(entry: ChildEntry, delayMs: number, attempt: number): void {
    entry.gen++;
    table.setStatus(entry, 'restarting');
    entry.delayMs = delayMs;
    entry.attempt = attempt;
  }

  function restart(entry: ChildEntry, ids: readonly string[], delayMs: number, attempt: number): PromiseLike<unknown> | undefined {
    const { id, kind } = entry.spec;
    logger.warn('restarting child', {
      supervisor: supervisorId,
      child: id,
      kind,
      reason: entry.pendingReason,
      delay_ms: delayMs,
      attempt,
      strategy: policy.strategy,
      affected: ids.length > 1 ? ids : undefined,
    });

    if (ids.length === 1 && ids[0] === id) {
      claim(entry, delayMs, attempt);
      if (delayMs === 0) {
        const started = executor.startSupervised(entry);
        return started === true || started === false ? undefined : started;
      }
      executor.schedule([entry], [entry.gen], delayMs);
      return undefined;
    }

    // one_for_all / rest_for_one: stop the other affected children (reverse start order), then
    // start them all again in start order. Siblings already stopped or failed stay as they are;
    // temporary siblings are stopped and not restarted (OTP).
    const plan: ChildEntry[] = [];
    const toStop: Array<{ entry: ChildEntry; handle: ChildHandle }> = [];
    const dropped: ChildEntry[] = [];
    for (const childId of ids) {
      const sibling = table.find(childId);
      if (sibling === undefined) continue;
      if (sibling !== entry && sibling.status !== 'running' && sibling.status !== 'restarting') continue;
      if (sibling.handle !== undefined) {
        toStop.push({ entry: sibling, handle: sibling.handle });
        sibling.handle = undefined;
        sibling.gen++;
      }
      if (sibling !== entry && sibling.spec.restart === 'temporary') {
        dropped.push(sibling);
        table.setStatus(sibling, 'stopped');
        continue;
      }
      claim(sibling, delayMs, attempt);
      if (sibling.pendingReason === undefined) sibling.pendingReason = 'sibling';
      plan.push(sibling);
    }
    const gens = plan.map((e) => e.gen);
    const proceed = (): PromiseLike<unknown> | undefined => {
      for (const d of dropped) table.remove(d);
      if (delayMs === 0) return executor.execPlan(plan, gens, 0);
      executor.schedule(plan, gens, delayMs);
      return undefined;
    };
    if (toStop.length === 0) return proceed();
    return runner.stopInReverse(toStop).then(proceed);
  }

  return {
    onChildExit,
    runJob,
    claim,
    resetSharedBudget() {
      sharedHistory = [];
    },
    sharedRestartCount: () => sharedHistory.length,
  };
}
