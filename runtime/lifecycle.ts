// Ordered, bounded shutdown: resources are closed in the reverse order they were opened, each
// step within its own time limit, and a failing step never stops the ones after it.
import { systemClock, type Clock, type Timer } from './clock.js';
import { describe } from './errors.js';
import type { Logger } from './logger.js';

interface Step {
  name: string;
  close: () => void | Promise<void>;
  timeoutMs: number;
}

export interface Lifecycle {
  /** Registers a resource to close; the last registered closes first. */
  onShutdown(name: string, close: () => void | Promise<void>, timeoutMs?: number): void;
  /** Runs every step once; later calls return the same promise. */
  shutdown(): Promise<void>;
}

export function createLifecycle(logger: Logger, clock: Clock = systemClock): Lifecycle {
  const steps: Step[] = [];
  let running: Promise<void> | null = null;
  return {
    onShutdown(name, close, timeoutMs = 5_000) {
      steps.push({ name, close, timeoutMs });
    },
    shutdown() {
      running ??= (async () => {
        for (const step of steps.reverse()) {
          let timer: Timer | undefined;
          const timeout = new Promise<'timeout'>((resolve) => {
            // Kept alive: a step waiting on nothing else must still reach its limit and let the next run.
            timer = clock.setTimeout(() => resolve('timeout'), step.timeoutMs, { keepAlive: true });
          });
          try {
            const outcome = await Promise.race([Promise.resolve().then(step.close), timeout]);
            if (outcome === 'timeout') logger.warn('shutdown step timed out', { step: step.name, timeout_ms: step.timeoutMs });
          } catch (err) {
            logger.error('shutdown step failed', { step: step.name, error: describe(err) });
          } finally {
            timer?.cancel();
          }
        }
      })();
      return running;
    },
  };
}
