import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../runtime/clock.js';
import { connectRetryDelayMs, connectWithRetry } from '../../runtime/connect-retry.js';
import { AuroraError } from '../../runtime/errors.js';
import { createLogger } from '../../runtime/logger.js';

const policy = { attempts: 4, baseMs: 500, maxMs: 1_500 };

function harness(failures: number, error: () => Error = () => new AuroraError('unavailable', 'ECONNREFUSED')) {
  const clock = createManualClock();
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('debug', {}, (l) => lines.push(JSON.parse(l) as Record<string, unknown>), clock);
  let calls = 0;
  const connect = () => {
    calls++;
    return calls <= failures ? Promise.reject(error()) : Promise.resolve('connected');
  };
  return { clock, lines, calls: () => calls, run: () => connectWithRetry('NATS', connect, policy, logger, clock) };
}

/** Lets the retry loop reach its next wait. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('connectWithRetry', () => {
  it('doubles the wait from the base up to the cap', () => {
    expect([1, 2, 3, 4].map((a) => connectRetryDelayMs(policy, a))).toEqual([500, 1_000, 1_500, 1_500]);
  });

  it('retries an unavailable service after each wait and logs every failed attempt with the next wait', async () => {
    const h = harness(2);
    const result = h.run();
    await settle();
    expect(h.calls()).toBe(1);
    h.clock.advance(499);
    await settle();
    expect(h.calls()).toBe(1);
    h.clock.advance(1);
    await settle();
    expect(h.calls()).toBe(2);
    h.clock.advance(1_000);
    await expect(result).resolves.toBe('connected');
    expect(h.calls()).toBe(3);
    expect(h.lines.filter((l) => l.level === 'warn').map((l) => [l.attempt, l.retry_in_ms])).toEqual([
      [1, 500],
      [2, 1_000],
    ]);
    expect(h.lines.at(-1)).toMatchObject({ level: 'info', target: 'NATS', attempt: 3 });
  });

  it('gives up with the last error once the attempts are spent', async () => {
    const h = harness(Infinity);
    const result = h.run();
    const outcome = result.catch((err: unknown) => err);
    for (let i = 0; i < 3; i++) {
      await settle();
      h.clock.advance(1_500);
    }
    expect(await outcome).toMatchObject({ code: 'unavailable' });
    expect(h.calls()).toBe(4);
  });

  it('does not retry an error that would repeat, such as a refused login', async () => {
    const h = harness(Infinity, () => new AuroraError('unauthorized', 'bad credentials'));
    await expect(h.run()).rejects.toMatchObject({ code: 'unauthorized' });
    expect(h.calls()).toBe(1);
  });
});
