// An Erlang/OTP-style supervisor: starts children in order, watches their exits, asks the pure
// decide() what to do and carries it out — restart (after a backoff on the injected clock), leave
// alone, or escalate to its parent. A supervisor is itself a child (asChild), so a tree is built by
// nesting: root → {registry, model manager, agents}.
//
// Concurrency model: one supervisor handles one thing at a time. Exits, scheduled restarts and
// operator commands are jobs run in arrival order; a job that waits on a child's start()/stop()
// holds the queue, a backoff delay does not (it is a timer that enqueues the restart job), so one
// agent's 10 s backoff never delays another agent's restart. Every child incarnation carries a
// generation number; an exit report or a scheduled restart for an older generation is stale and
// ignored, which makes exits racing a restart deterministic.
//
// This file is the supervisor's API and its own start, stop and escalation; the parts it composes
// live in supervisor/: the child table, the job queue, the child runner (start/stop within time
// bounds), the restart planner (exit → decision → plan) and executor (plans carried out), the
// commands on one child, and the incarnation a parent watches (beside the spec and event shapes).
import type { Clock } from '../runtime/clock.js';
import { describe as describeError } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import type { RestartType } from './strategy.js';
import { createChildCommands } from './supervisor/child-commands.js';
import { createChildRunner } from './supervisor/child-runner.js';
import type { ChildHandle, ChildInfo, ChildSpec, ChildStatus } from './supervisor/child-spec.js';
import { createChildTable, type ChildEntry } from './supervisor/child-table.js';
import {
  createEmit,
  SupervisorEscalationError,
  type SupervisorEscalation,
  type SupervisorEvent,
  type SupervisorMetrics,
} from './supervisor/events.js';
import { createIncarnations } from './supervisor/incarnation.js';
import { createJobQueue } from './supervisor/job-queue.js';
import { createRestartExecutor, type RestartJob } from './supervisor/restart-executor.js';
import { createRestartPlanner } from './supervisor/restart-planner.js';
import { resolveSpec, type SupervisorSpec, type SupervisorState } from './supervisor/supervisor-spec.js';

export { CHILD_STATUSES, type ChildExit, type ChildHandle, type ChildInfo, type ChildSpec, type ChildStatus } from './supervisor/child-spec.js';
export {
  RESTART_REASONS,
  SUPERVISOR_EVENT_TYPES,
  SupervisorEscalationError,
  type RestartReason,
  type SupervisorEscalation,
  type SupervisorEvent,
  type SupervisorEventType,
  type SupervisorMetrics,
} from './supervisor/events.js';
export {
  DEFAULT_START_TIMEOUT_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  RESTART_BUDGETS,
  SUPERVISOR_STATES,
  type RestartBudget,
  type SupervisorSpec,
  type SupervisorState,
} from './supervisor/supervisor-spec.js';

export interface SupervisorDeps {
  readonly clock: Clock;
  readonly rng: () => number;
  readonly logger: Logger;
  readonly metrics?: SupervisorMetrics;
  readonly onEvent?: (event: SupervisorEvent) => void;
  /** Called after this supervisor escalated (its children are stopped by then). */
  readonly parent?: (escalation: SupervisorEscalation) => void;
}

export interface Supervisor {
  readonly id: string;
  /** Starts every child in order. A child whose start fails stops the ones already started and rejects. */
  start(): Promise<void>;
  /** Adds a dynamic child (e.g. an agent) after the others and starts it if the supervisor runs. */
  startChild(spec: ChildSpec): Promise<void>;
  /**
   * Adds a dynamic child as `failed`, not started: one that spent its budget before the process
   * last stopped. restartChild (the operator) brings it back.
   */
  addFailedChild(spec: ChildSpec): Promise<void>;
  /** Stops a child and keeps it as 'stopped' (restartChild brings it back). */
  stopChild(id: string): Promise<void>;
  /** Stops a child if needed and forgets it. */
  removeChild(id: string): Promise<void>;
  /** Operator command: clears the child's failure state and budget and starts it again. */
  restartChild(id: string): Promise<void>;
  /** Stops the children in reverse order. */
  stop(): Promise<void>;
  status(id: string): ChildStatus | undefined;
  state(): SupervisorState;
  children(): ChildInfo[];
  /** This supervisor as a child of another supervisor. */
  asChild(id?: string, restart?: RestartType, kind?: string): ChildSpec;
}

const noop = (): void => {};

/** Builds a supervisor from its parts; nothing starts before start(). */
export function createSupervisor(spec: SupervisorSpec, deps: SupervisorDeps): Supervisor {
  const { perChild, startTimeoutMs, stopTimeoutMs } = resolveSpec(spec);
  const supervisorId = spec.id;
  const policy = spec.policy;
  const { clock, rng, logger, metrics, onEvent, parent } = deps;
  const emit = createEmit(supervisorId, logger, onEvent);
  let state: SupervisorState = 'idle';

  const table = createChildTable(supervisorId, metrics);
  // The parts call each other in a loop (a start watches for the exit that plans the next start);
  // the loop is closed here, through `planner`, once every part exists.
  const jobs = createJobQueue<RestartJob>({ run: (job) => planner.runJob(job), onDefect });
  const runner = createChildRunner({
    supervisorId,
    clock,
    logger,
    metrics,
    emit,
    table,
    startTimeoutMs,
    stopTimeoutMs,
    onExit: (entry, gen, exit) => planner.onChildExit(entry, gen, exit),
  });
  const executor = createRestartExecutor({ supervisorId, clock, logger, metrics, emit, table, jobs, runner });
  const planner = createRestartPlanner({
    supervisorId,
    policy,
    perChild,
    clock,
    rng,
    logger,
    emit,
    table,
    jobs,
    runner,
    executor,
    isRunning: () => state === 'running',
    escalate,
    onDefect,
  });
  const incarnations = createIncarnations(supervisorId, logger);
  const commands = createChildCommands({ supervisorId, logger, table, runner, planner, executor, state: () => state });

  for (const child of spec.children ?? []) table.add(child);

  /** A bug in the supervisor itself: report it and fail the supervisor, as OTP would. */
  function onDefect(error: unknown): void {
    logger.error('supervisor defect', { supervisor: supervisorId, error });
    if (state !== 'running') return;
    jobs.command(
      () => escalate(undefined, `supervisor defect: ${describeError(error)}`),
      noop,
      (err) => logger.error('supervisor escalation after a defect failed', { supervisor: supervisorId, error: err }),
    );
  }

  /** Stops every child, last started first, cancelling pending restarts; each ends in `status`. */
  async function stopEveryChild(status: 'failed' | 'stopped'): Promise<void> {
    executor.cancelPlans();
    const snapshot = table.entries();
    for (let i = snapshot.length - 1; i >= 0; i--) await runner.stop(snapshot[i]!, status);
  }

  async function escalate(trigger: ChildEntry | undefined, reason: string): Promise<void> {
    if (state !== 'running') return;
    state = 'failed';
    await stopEveryChild('failed');
    const escalation: SupervisorEscalation = {
      supervisor: supervisorId,
      child: trigger?.spec.id ?? supervisorId,
      kind: trigger?.spec.kind ?? 'supervisor',
      reason,
      at: clock.now(),
    };
    logger.error('supervisor escalating', {
      supervisor: supervisorId,
      child: escalation.child,
      kind: escalation.kind,
      reason,
      attempt: planner.sharedRestartCount(),
    });
    metrics?.supervisorEscalations.inc({ supervisor: supervisorId });
    emit({ type: 'escalation', ...escalation });
    if (parent) {
      try {
        parent(escalation);
      } catch (error) {
        logger.error('supervisor parent handler threw', { supervisor: supervisorId, error });
      }
    }
    incarnations.end({ reason: 'crash', error: new SupervisorEscalationError(escalation) });
  }

  // ---------------------------------------------------------------- the supervisor's own start and stop

  async function startAll(): Promise<void> {
    if (state === 'running') return;
    if (state !== 'idle') {
      // A new incarnation: temporary children of the previous one are not brought back (OTP).
      for (const id of table.order.slice()) {
        const entry = table.find(id)!;
        if (entry.spec.restart === 'temporary') table.remove(entry);
      }
    }
    state = 'running';
    planner.resetSharedBudget();
    incarnations.begin();
    const started: ChildEntry[] = [];
    for (const id of table.order.slice()) {
      const entry = table.find(id);
      if (entry === undefined) continue;
      entry.gen++;
      entry.history = [];
      entry.crashedAt = NaN;
      entry.pendingReason = undefined;
      const result = await runner.start(entry);
      if (result === true) {
        started.push(entry);
        continue;
      }
      table.setStatus(entry, 'failed');
      state = 'failed';
      logger.error('supervisor failed to start a child', {
        supervisor: supervisorId,
        child: entry.spec.id,
        kind: entry.spec.kind,
        reason: 'start_failed',
        error: result.error,
      });
      for (let i = started.length - 1; i >= 0; i--) {
        const s = started[i]!;
        s.gen++;
        const handle = s.handle;
        s.handle = undefined;
        if (handle !== undefined) await runner.stopHandle(s, handle);
        table.setStatus(s, 'stopped');
      }
      incarnations.end({ reason: 'crash', error: result.error });
      throw result.error;
    }
    logger.info('supervisor started', { supervisor: supervisorId, children: started.length });
  }

  async function stopAll(): Promise<void> {
    if (state === 'stopped') return;
    state = 'stopping';
    await stopEveryChild('stopped');
    state = 'stopped';
    logger.info('supervisor stopped', { supervisor: supervisorId });
    incarnations.end({ reason: 'normal' });
  }

  const supervisor: Supervisor = {
    id: supervisorId,
    start: () => jobs.call(startAll),
    startChild: (child) => jobs.call(() => commands.startChild(child)),
    addFailedChild: (child) => jobs.call(() => commands.addFailedChild(child)),
    stopChild: (id) => jobs.call(() => commands.stopChild(id)),
    removeChild: (id) => jobs.call(() => commands.removeChild(id)),
    restartChild: (id) => jobs.call(() => commands.restartChild(id)),
    stop: () => jobs.call(stopAll),
    status: (id) => table.find(id)?.status,
    state: () => state,
    children: () => table.infos(),
    asChild(id = supervisorId, restart: RestartType = 'permanent', kind = 'supervisor'): ChildSpec {
      return {
        id,
        restart,
        kind,
        start: async (): Promise<ChildHandle> => {
          await supervisor.start();
          return incarnations.handle(() => supervisor.stop());
        },
      };
    },
  };
  return supervisor;
}
