// A task request whose answer was lost to a bus disconnect (`bus_disconnected`: the request went
// out, the connection dropped before the reply came). The gateway knows the task id it asked for,
// so instead of leaving the client to a timeout it waits up to BUS_BLIP_GRACE_MS for the bus to
// come back and reads the task's outcome from the node; if the bus stays down, the client hears
// at once that the outcome is unknown and where to read it later.
import type { Bus } from '../runtime/bus/bus.js';
import type { Clock } from '../runtime/clock.js';
import { AuroraError, isAuroraError } from '../runtime/errors.js';
import type { TaskRecord } from '../runtime/protocol/index.js';
import { callOperation } from '../runtime/rpc.js';
import type { GatewayDeps } from './deps.js';

export type RecoveryDeps = Pick<GatewayDeps, 'bus' | 'subjects' | 'config' | 'clock'>;

/** Between two reads while the node is not answering yet (it may reconnect after the gateway). */
const RETRY_PAUSE_MS = 200;
/** Failures of a read that say "not yet": the bus or the node is still coming back. */
const NOT_YET = new Set(['bus_disconnected', 'unavailable', 'no_responders']);

/** Resolves true once the bus is connected, or false when it is still down after `withinMs`. */
export function whenConnected(bus: Bus, clock: Clock, withinMs: number): Promise<boolean> {
  if (bus.isConnected()) return Promise.resolve(true);
  if (withinMs <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const stop = bus.onConnectionChange((connected) => {
      if (!connected) return;
      stop();
      timer.cancel();
      resolve(true);
    });
    const timer = clock.setTimeout(() => {
      stop();
      resolve(bus.isConnected());
    }, withinMs);
  });
}

/** How the outcome is read: `wait` for it until `budgetEndsAt` (execute), or `get` it as it is (submit). */
export type ReadMode = 'wait' | 'get';

/**
 * The record of `taskId` once the bus is back, read per `mode`. Rejects with `bus_disconnected`
 * (outcome unknown, Location of the task) when the bus is not back within the grace window, and
 * with `unavailable` when the node does not know the task: it was lost before it reached its agent.
 */
export async function recoverTask(deps: RecoveryDeps, taskId: string, mode: ReadMode, budgetEndsAt: number): Promise<TaskRecord> {
  const { bus, subjects, config, clock } = deps;
  let graceEndsAt = clock.monotonic() + config.busBlipGraceMs;
  for (;;) {
    if (!(await whenConnected(bus, clock, graceEndsAt - clock.monotonic()))) throw outcomeUnknown(taskId, config.busBlipGraceMs);
    try {
      if (mode === 'get') return await callOperation(bus, subjects, 'tasks.get', { task_id: taskId }, config.busRequestTimeoutMs);
      const waitMs = Math.max(1, Math.ceil(budgetEndsAt - clock.monotonic()));
      return await callOperation(bus, subjects, 'tasks.wait', { task_id: taskId, timeout_ms: waitMs }, waitMs + config.busRequestTimeoutMs);
    } catch (err) {
      if (!isAuroraError(err)) throw err;
      if (err.code === 'task_not_found') {
        throw new AuroraError('unavailable', `Task ${taskId} was lost in a message-bus outage before it reached its agent; it did not run. Send it again`);
      }
      if (!NOT_YET.has(err.code)) throw err;
      // Dropped again while waiting: a new blip gets a window of its own.
      if (err.code === 'bus_disconnected') graceEndsAt = clock.monotonic() + config.busBlipGraceMs;
      if (clock.monotonic() + RETRY_PAUSE_MS >= graceEndsAt) throw outcomeUnknown(taskId, config.busBlipGraceMs);
      await new Promise<void>((resolve) => clock.setTimeout(resolve, RETRY_PAUSE_MS));
    }
  }
}

function outcomeUnknown(taskId: string, graceMs: number): AuroraError {
  return new AuroraError(
    'bus_disconnected',
    `The message bus went down while task ${taskId} was in flight and was not back within ${graceMs} ms: ` +
      `its outcome is unknown. Read it at GET /api/v1/tasks/${taskId} once the service is back ` +
      '(a retry with the same Idempotency-Key joins it)',
    { headers: { location: `/api/v1/tasks/${taskId}` } },
  );
}
