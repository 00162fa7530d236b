// Commands on one child, from the supervisor's API (e.g. an operator or the agent registry): add and
// start it, stop it, forget it, or restart it with a fresh budget. Each runs as one job of the queue.
import { AuroraError } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/logger.js';
import type { ChildRunner } from './child-runner.js';
import type { ChildSpec } from './child-spec.js';
import type { ChildTable } from './child-table.js';
import type { RestartExecutor } from './restart-executor.js';
import type { RestartPlanner } from './restart-planner.js';
import type { SupervisorState } from './supervisor-spec.js';

export interface ChildCommandsDeps {
  readonly supervisorId: string;
  readonly logger: Logger;
  readonly table: ChildTable;
  readonly runner: ChildRunner;
  readonly planner: RestartPlanner;
  readonly executor: RestartExecutor;
  readonly state: () => SupervisorState;
}

export interface ChildCommands {
  startChild(child: ChildSpec): Promise<void>;
  addFailedChild(child: ChildSpec): Promise<void>;
  stopChild(id: string): Promise<void>;
  removeChild(id: string): Promise<void>;
  restartChild(id: string): Promise<void>;
}

export function createChildCommands({ supervisorId, logger, table, runner, planner, executor, state }: ChildCommandsDeps): ChildCommands {
  async function startChild(child: ChildSpec): Promise<void> {
    const current = state();
    if (current !== 'idle' && current !== 'running') {
      throw new AuroraError('unavailable', `supervisor ${supervisorId} is ${current}`);
    }
    const entry = table.add(child);
    if (current === 'idle') return;
    entry.gen++;
    const result = await runner.start(entry);
    if (result !== true) {
      // Like OTP start_child: a child that cannot start is not kept; the caller gets the error.
      table.remove(entry);
      logger.warn('child start failed', {
        supervisor: supervisorId,
        child: child.id,
        kind: child.kind,
        reason: 'start_failed',
        error: result.error,
      });
      throw result.error;
    }
  }

  function addFailedChild(child: ChildSpec): Promise<void> {
    const current = state();
    if (current !== 'idle' && current !== 'running') {
      throw new AuroraError('unavailable', `supervisor ${supervisorId} is ${current}`);
    }
    table.setStatus(table.add(child), 'failed');
    return Promise.resolve();
  }

  async function stopChild(id: string): Promise<void> {
    const entry = table.get(id);
    await runner.stop(entry, 'stopped');
    logger.info('child stopped', { supervisor: supervisorId, child: id, kind: entry.spec.kind });
  }

  async function restartChild(id: string): Promise<void> {
    const entry = table.get(id);
    const current = state();
    if (current !== 'running') throw new AuroraError('unavailable', `supervisor ${supervisorId} is ${current}`);
    const handle = entry.handle;
    entry.handle = undefined;
    planner.claim(entry, 0, 0);
    if (handle !== undefined) await runner.stopHandle(entry, handle);
    entry.history = [];
    entry.crashedAt = NaN;
    entry.pendingReason = 'operator';
    logger.warn('restarting child on operator request', {
      supervisor: supervisorId,
      child: id,
      kind: entry.spec.kind,
      reason: 'operator',
      delay_ms: 0,
      attempt: 0,
    });
    const result = await runner.start(entry);
    if (result !== true) {
      // Supervised again from here on: the failed start is a crash (budget, backoff, maybe 'failed').
      executor.crashOnStart(entry, result.error);
      throw result.error;
    }
  }

  return {
    startChild,
    addFailedChild,
    stopChild,
    async removeChild(id) {
      await stopChild(id);
      table.remove(table.get(id));
    },
    restartChild,
  };
}
