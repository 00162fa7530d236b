// Starting and stopping children within their time bounds, and watching a started child: its exit
// report goes to onExit, and its coming back after a crash or exit is counted as a restart.
import type { Clock } from '../../runtime/clock.js';
import { AuroraError } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/logger.js';
import { isHandle, type ChildExit, type ChildHandle } from './child-spec.js';
import type { ChildEntry, ChildTable } from './child-table.js';
import type { Emit, SupervisorMetrics } from './events.js';

export interface StartFailure {
  readonly error: unknown;
}
export type StartResult = true | StartFailure;

export interface ChildRunnerDeps {
  readonly supervisorId: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: SupervisorMetrics | undefined;
  readonly emit: Emit;
  readonly table: ChildTable;
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs: number;
  /** Hears every exit report of the incarnation started as generation `gen`, even a malformed one. */
  readonly onExit: (entry: ChildEntry, gen: number, exit: ChildExit | undefined) => void;
}

export interface ChildRunner {
  /**
   * Starts the child and watches it ('running'); synchronous for a synchronous start(), a Promise
   * otherwise. A start that throws, rejects, times out or returns no usable handle is a failure.
   */
  start(entry: ChildEntry): StartResult | Promise<StartResult>;
  /** Ends the child's incarnation (stale exit reports and pending restarts are ignored) and stops it. */
  stop(entry: ChildEntry, status: 'failed' | 'stopped'): Promise<void>;
  /**
   * Asks a child to stop and waits at most stopTimeoutMs (OTP's shutdown timeout): a child whose
   * stop() hangs must not wedge its supervisor and, through it, every sibling. Never rejects.
   */
  stopHandle(entry: ChildEntry, handle: ChildHandle): Promise<void>;
  /** stopHandle for each, last in the list first. */
  stopInReverse(list: ReadonlyArray<{ entry: ChildEntry; handle: ChildHandle }>): Promise<void>;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

export function createChildRunner(deps: ChildRunnerDeps): ChildRunner {
  const { supervisorId, clock, logger, metrics, emit, table, startTimeoutMs, stopTimeoutMs, onExit } = deps;

  function start(entry: ChildEntry): StartResult | Promise<StartResult> {
    let result: Promise<ChildHandle> | ChildHandle;
    try {
      result = entry.spec.start();
    } catch (error) {
      return { error };
    }
    if (!isPromiseLike(result)) return attach(entry, result);
    const starting = result;
    // An asynchronous start may take at most startTimeoutMs; a start that hangs is a crash, and a
    // child that comes up after its timeout is no longer ours: it is stopped, not leaked.
    return new Promise<StartResult>((resolve) => {
      let settled = false;
      const timer = clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        resolve({ error: new AuroraError('timeout', `child ${entry.spec.id} did not start within ${startTimeoutMs}ms`) });
      }, startTimeoutMs);
      starting.then(
        (handle) => {
          if (settled) {
            if (isHandle(handle)) {
              logger.warn('child started after its start timeout; stopping it', {
                supervisor: supervisorId,
                child: entry.spec.id,
                kind: entry.spec.kind,
                reason: 'start_timeout',
              });
              void stopHandle(entry, handle); // never rejects
            }
            return;
          }
          settled = true;
          timer.cancel();
          resolve(attach(entry, handle));
        },
        (error: unknown) => {
          if (settled) {
            logger.debug('child start failed after its start timeout', { supervisor: supervisorId, child: entry.spec.id, error });
            return;
          }
          settled = true;
          timer.cancel();
          resolve({ error });
        },
      );
    });
  }

  function attach(entry: ChildEntry, handle: unknown): StartResult {
    if (!isHandle(handle)) return { error: new TypeError(`child ${entry.spec.id}: start() did not return a ChildHandle`) };
    entry.handle = handle;
    table.setStatus(entry, 'running');
    const gen = entry.gen;
    const reason = entry.pendingReason;
    const crashedAt = entry.crashedAt;
    entry.pendingReason = undefined;
    entry.crashedAt = NaN;
    try {
      // A handle that already exited reports it here, at once, and finds the child 'running'.
      handle.onExit((exit) => onExit(entry, gen, exit));
    } catch (error) {
      // A handle we cannot watch is a failed start: a crash nobody would report is worse than none.
      entry.gen++;
      entry.handle = undefined;
      entry.pendingReason = reason;
      entry.crashedAt = crashedAt;
      table.setStatus(entry, 'restarting');
      void stopHandle(entry, handle); // never rejects
      return { error };
    }
    if (reason !== undefined) {
      const { id, kind } = entry.spec;
      const now = clock.now();
      const latencyMs = Number.isNaN(crashedAt) ? undefined : now - crashedAt;
      if (metrics) {
        metrics.supervisorRestarts.inc({ agent: id, kind, reason });
        if (latencyMs !== undefined) metrics.supervisorRestartLatency.observe({ kind }, latencyMs / 1000);
      }
      emit({
        type: 'restart',
        supervisor: supervisorId,
        child: id,
        kind,
        reason,
        delayMs: entry.delayMs,
        restartLatencyMs: latencyMs,
        attempt: entry.attempt,
        at: now,
      });
    }
    return true;
  }

  async function stop(entry: ChildEntry, status: 'failed' | 'stopped'): Promise<void> {
    entry.gen++;
    entry.pendingReason = undefined;
    entry.crashedAt = NaN;
    const handle = entry.handle;
    entry.handle = undefined;
    if (handle !== undefined) await stopHandle(entry, handle);
    table.setStatus(entry, status);
  }

  function stopHandle(entry: ChildEntry, handle: ChildHandle): Promise<void> {
    let stopping: Promise<void>;
    try {
      stopping = Promise.resolve(handle.stop());
    } catch (error) {
      logStopFailure(entry, error);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      let settled = false;
      const timer = clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        logger.error('child did not stop in time; abandoning it', {
          supervisor: supervisorId,
          child: entry.spec.id,
          kind: entry.spec.kind,
          reason: 'stop_timeout',
          stop_timeout_ms: stopTimeoutMs,
        });
        resolve();
      }, stopTimeoutMs);
      stopping.then(
        () => {
          if (settled) return;
          settled = true;
          timer.cancel();
          resolve();
        },
        (error: unknown) => {
          logStopFailure(entry, error);
          if (settled) return;
          settled = true;
          timer.cancel();
          resolve();
        },
      );
    });
  }

  function logStopFailure(entry: ChildEntry, error: unknown): void {
    // The child is treated as gone either way; the failure is reported, not hidden.
    logger.error('child stop failed', { supervisor: supervisorId, child: entry.spec.id, kind: entry.spec.kind, error });
  }

  async function stopInReverse(list: ReadonlyArray<{ entry: ChildEntry; handle: ChildHandle }>): Promise<void> {
    for (let i = list.length - 1; i >= 0; i--) {
      const item = list[i]!;
      await stopHandle(item.entry, item.handle);
    }
  }

  return { start, stop, stopHandle, stopInReverse };
}
