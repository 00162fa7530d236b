// The browser pool: BROWSER_MAX workers under their own supervisor (one_for_one, a restart budget
// per worker), each owning at most one Chromium. A task leases one isolated context; when every
// worker is full (or restarting), it waits in a bounded queue until a context frees up or its
// signal aborts.
import type { Clock } from '../../runtime/clock.js';
import type { Config } from '../../runtime/config.js';
import { AuroraError } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/logger.js';
import type { Metrics } from '../../runtime/metrics.js';
import { createSupervisor, type ChildSpec, type Supervisor, type SupervisorDeps } from '../supervisor.js';
import type { BrowserLease } from './lease.js';
import { BrowserWorker } from './worker.js';

/** Tasks that may wait for a context at once; more are refused (429 queue_full). */
export const BROWSER_WAITERS_MAX = 1024;
const LAUNCH_TIMEOUT_MS = 30_000;

export interface BrowserPoolDeps {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly supervisor: SupervisorDeps;
}

export interface BrowserPool {
  /** The pool's supervisor, to be a child of the node's root. */
  readonly supervisor: Supervisor;
  /** An isolated context with one page; rejects with the signal's reason when it aborts first. */
  lease(signal: AbortSignal): Promise<BrowserLease>;
  /** Main process id of the Chromium a worker runs now, if any (fault injection). */
  pidOf(worker: string): number | null;
}

interface Waiter {
  readonly signal: AbortSignal;
  resolve(lease: BrowserLease): void;
  reject(err: unknown): void;
}

export function createBrowserPool(deps: BrowserPoolDeps): BrowserPool {
  const { config, logger } = deps;
  const workers = new Map<string, BrowserWorker>();
  const waiters: Waiter[] = [];

  const pick = (): BrowserWorker | undefined => {
    let cold: BrowserWorker | undefined;
    for (const worker of workers.values()) {
      if (worker.free() <= 0) continue;
      if (worker.warm()) return worker;
      cold ??= worker;
    }
    return cold;
  };

  const serve = (): void => {
    while (waiters.length > 0) {
      const worker = pick();
      if (worker === undefined) return;
      const waiter = waiters.shift()!;
      if (waiter.signal.aborted) continue;
      worker.lease().then(waiter.resolve, waiter.reject);
    }
  };

  const workerSpec = (id: string): ChildSpec => ({
    id,
    restart: 'permanent',
    kind: 'browser',
    start: () => {
      const worker = new BrowserWorker({
        id,
        chromium: { executablePath: config.browserExecutable, launchTimeoutMs: LAUNCH_TIMEOUT_MS, owner: String(process.pid) },
        limits: { pagesMax: config.browserPagesMax, retireAfterPages: config.browserRetireAfterPages, idleMs: config.browserIdleMs },
        clock: deps.clock,
        logger,
        metrics: deps.metrics,
        onFree: serve,
      });
      workers.set(id, worker);
      const handle = worker.handle();
      // A restarted worker may serve whoever waited through the restart.
      queueMicrotask(serve);
      return {
        stop: handle.stop,
        // An ended worker serves nothing (free() is 0); its successor takes its place on restart.
        onExit: (listener) =>
          handle.onExit((exit) => {
            if (workers.get(id) === worker) workers.delete(id);
            listener(exit);
          }),
      };
    },
  });

  const supervisor = createSupervisor(
    {
      id: 'browsers',
      policy: { strategy: 'one_for_one', ...config.supervision },
      budget: 'per_child',
      children: Array.from({ length: config.browserMax }, (_, i) => workerSpec(`browser-${i}`)),
    },
    deps.supervisor,
  );

  return {
    supervisor,
    lease(signal) {
      if (signal.aborted) return Promise.reject(signal.reason as Error);
      const worker = waiters.length === 0 ? pick() : undefined;
      if (worker !== undefined) return worker.lease();
      if (waiters.length >= BROWSER_WAITERS_MAX) {
        return Promise.reject(new AuroraError('queue_full', `${BROWSER_WAITERS_MAX} tasks already wait for a browser`));
      }
      return new Promise<BrowserLease>((resolve, reject) => {
        const waiter: Waiter = {
          signal,
          resolve: (lease) => {
            signal.removeEventListener('abort', onAbort);
            // Aborted while the context opened: nobody will use it.
            if (signal.aborted) {
              void lease.release();
              reject(signal.reason as Error);
            } else resolve(lease);
          },
          reject: (err) => {
            signal.removeEventListener('abort', onAbort);
            reject(err);
          },
        };
        const onAbort = (): void => {
          const at = waiters.indexOf(waiter);
          if (at !== -1) waiters.splice(at, 1);
          reject(signal.reason as Error);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiters.push(waiter);
      });
    },
    pidOf: (id) => workers.get(id)?.pid() ?? null,
  };
}
