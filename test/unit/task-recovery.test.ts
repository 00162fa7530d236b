// A task request whose answer was lost to a bus disconnect: the gateway waits for the bus within
// the grace window and reads the task's outcome, or says the outcome is unknown and where to look.
import { describe, expect, it } from 'vitest';
import type { Bus, ConnectionListener } from '../../runtime/bus/bus.js';
import { createManualClock } from '../../runtime/clock.js';
import { loadConfig } from '../../runtime/config.js';
import { AuroraError } from '../../runtime/errors.js';
import { createSubjects } from '../../runtime/subjects.js';
import { recoverTask } from '../../gateway/task-recovery.js';

interface Asked {
  subject: string;
  data: unknown;
  timeoutMs: number;
}

/** A bus that is down until `reconnect()`, answering requests with `answer`. */
function flakyBus(answer: (asked: Asked) => unknown) {
  let connected = false;
  const listeners = new Set<ConnectionListener>();
  const asked: Asked[] = [];
  const bus = {
    kind: 'nats',
    isConnected: () => connected,
    onConnectionChange(listener: ConnectionListener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    request(subject: string, data: unknown, { timeoutMs }: { timeoutMs: number }) {
      const a = { subject, data, timeoutMs };
      asked.push(a);
      try {
        return Promise.resolve({ ok: true, data: answer(a) });
      } catch (err) {
        return Promise.resolve({ ok: false, error: (err as AuroraError).toPayload() });
      }
    },
  } as unknown as Bus;
  return {
    bus,
    asked,
    reconnect() {
      connected = true;
      for (const l of [...listeners]) l(true);
    },
  };
}

const config = loadConfig({ env: { BUS_BLIP_GRACE_MS: '3000', BUS_REQUEST_TIMEOUT_MS: '1000' } });
const subjects = createSubjects('unit_recovery');
const record = { task_id: 't1', status: 'completed' };

describe('recoverTask', () => {
  it('waits for the bus and then for the task, within what is left of its budget', async () => {
    const clock = createManualClock(1_000);
    const { bus, asked, reconnect } = flakyBus(() => record);
    const outcome = recoverTask({ bus, subjects, config, clock }, 't1', 'wait', 1_000 + 60_000);
    clock.advance(2_000);
    reconnect();
    await expect(outcome).resolves.toEqual(record);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.subject).toBe(subjects.service('tasks.wait'));
    expect(asked[0]!.data).toEqual({ task_id: 't1', timeout_ms: 58_000 });
  });

  it('says the outcome is unknown, and where to read it, when the bus is not back within the grace window', async () => {
    const clock = createManualClock();
    const { bus, asked } = flakyBus(() => record);
    const outcome = recoverTask({ bus, subjects, config, clock }, 't1', 'wait', 60_000);
    clock.advance(3_000);
    const err = (await outcome.catch((e: unknown) => e)) as AuroraError;
    expect(err.code).toBe('bus_disconnected');
    expect(err.message).toContain('GET /api/v1/tasks/t1');
    expect(err.headers.location).toBe('/api/v1/tasks/t1');
    expect(asked).toHaveLength(0);
  });

  it('tells a task the node never received apart: it did not run (unavailable)', async () => {
    const clock = createManualClock();
    const { bus, reconnect } = flakyBus(() => {
      throw new AuroraError('task_not_found', 'Task t1 not found');
    });
    reconnect();
    const err = (await recoverTask({ bus, subjects, config, clock }, 't1', 'get', 0).catch((e: unknown) => e)) as AuroraError;
    expect(err.code).toBe('unavailable');
    expect(err.message).toContain('did not run');
  });
});
