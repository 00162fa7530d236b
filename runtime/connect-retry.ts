// The first connection to NATS or Redis, retried: in a compose stack (or after a host reboot)
// Aurora may start before the services it needs listen. Bounded, so a wrong URL still ends the
// start with its error instead of hanging; every failed attempt is logged with the next wait.
import type { Clock } from './clock.js';
import { AuroraError, describe } from './errors.js';
import type { Logger } from './logger.js';

export interface ConnectRetryPolicy {
  /** Attempts in all; 1 means no retry. */
  readonly attempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

/** Wait after failed attempt `attempt` (1-based): base, doubling, capped. */
export function connectRetryDelayMs(policy: ConnectRetryPolicy, attempt: number): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt - 1, 30));
}

/**
 * Runs `connect` until it succeeds or the attempts are spent. Only `unavailable` (nothing answered)
 * is retried: any other error, such as a refused login, would fail the same way every time.
 */
export async function connectWithRetry<T>(
  target: string,
  connect: () => Promise<T>,
  policy: ConnectRetryPolicy,
  logger: Logger,
  clock: Clock,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const connected = await connect();
      if (attempt > 1) logger.info(`${target} answered; start-up continues`, { target, attempt });
      return connected;
    } catch (err) {
      if (!(err instanceof AuroraError) || err.code !== 'unavailable' || attempt >= policy.attempts) throw err;
      const waitMs = connectRetryDelayMs(policy, attempt);
      logger.warn(`${target} does not answer yet; retrying`, {
        target,
        attempt,
        attempts: policy.attempts,
        retry_in_ms: waitMs,
        reason: describe(err),
      });
      // Kept alive: nothing else holds the process open while it waits to start.
      await new Promise<void>((resolve) => clock.setTimeout(resolve, waitMs, { keepAlive: true }));
    }
  }
}
