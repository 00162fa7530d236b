// The idempotency service: remembers, per Idempotency-Key, what a request asked and how it was
// answered, for IDEMPOTENCY_TTL_MS. With Redis (REDIS_URL) every node shares one memory through
// it (SET NX); without, the node's SQLite keeps it, so it outlives a restart.
import type { Bus, Subscription } from '../runtime/bus/bus.js';
import type { Cache } from '../runtime/cache/cache.js';
import type { Clock } from '../runtime/clock.js';
import { AuroraError } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import type { IdempotencyClaimed } from '../runtime/protocol/index.js';
import { serveOperation } from '../runtime/rpc.js';
import type { IdempotencyEntry, Store } from '../runtime/store/index.js';
import type { Subjects } from '../runtime/subjects.js';

export interface IdempotencyServiceDeps {
  bus: Bus;
  subjects: Subjects;
  store: Store;
  /** Used when it is Redis, so that every node sees the same keys. */
  cache: Cache;
  clock: Clock;
  logger: Logger;
  ttlMs: number;
}

interface Keys {
  claim(key: string, entry: IdempotencyEntry, ttlMs: number): Promise<IdempotencyEntry | null>;
  put(key: string, entry: IdempotencyEntry, ttlMs: number): Promise<void>;
  release(key: string): Promise<void>;
}

function sqliteKeys(store: Store, clock: Clock): Keys {
  return {
    claim: async (key, entry, ttlMs) => store.idempotency.claim(key, entry, clock.now() + ttlMs, clock.now()),
    put: async (key, entry, ttlMs) => store.idempotency.put(key, entry, clock.now() + ttlMs),
    release: async (key) => store.idempotency.release(key),
  };
}

function cacheKeys(cache: Cache): Keys {
  const k = (key: string) => `idem:${key}`;
  return {
    async claim(key, entry, ttlMs) {
      if (await cache.setIfAbsent(k(key), entry, ttlMs)) return null;
      // Expired between the two calls: claim again once; a second miss means someone else won.
      const live = await cache.get<IdempotencyEntry>(k(key));
      if (live !== undefined) return live;
      return (await cache.setIfAbsent(k(key), entry, ttlMs)) ? null : ((await cache.get<IdempotencyEntry>(k(key))) ?? null);
    },
    put: (key, entry, ttlMs) => cache.set(k(key), entry, ttlMs),
    release: (key) => cache.del(k(key)),
  };
}

export function createIdempotencyService(deps: IdempotencyServiceDeps) {
  const { bus, subjects } = deps;
  const keys = deps.cache.kind === 'redis' ? cacheKeys(deps.cache) : sqliteKeys(deps.store, deps.clock);
  const subscriptions: Subscription[] = [];
  const opts = { queue: subjects.queue('idempotency'), logger: deps.logger };

  const durable = (): Promise<Record<string, never>> =>
    new Promise((resolve, reject) =>
      deps.store.afterCommit((ok) => (ok ? resolve({}) : reject(new AuroraError('internal', 'the key could not be stored')))),
    );

  return {
    start(): void {
      subscriptions.push(
        serveOperation(bus, subjects, 'idempotency.claim', async ({ key, fingerprint, task_id, pending_ms }): Promise<IdempotencyClaimed> => {
          const entry: IdempotencyEntry = { fingerprint, state: 'pending', ...(task_id !== undefined && { task_id }) };
          const live = await keys.claim(key, entry, pending_ms);
          if (live === null) {
            await durable();
            return { state: 'claimed' };
          }
          if (live.fingerprint !== fingerprint) {
            throw new AuroraError('idempotency_mismatch', 'This Idempotency-Key was used with a different request; use a new key');
          }
          if (live.state === 'done' && live.response !== undefined) return { state: 'done', response: live.response };
          return { state: 'pending', ...(live.task_id !== undefined && { task_id: live.task_id }) };
        }, opts),
        serveOperation(bus, subjects, 'idempotency.settle', async ({ key, fingerprint, response }) => {
          await keys.put(key, { fingerprint, state: 'done', response }, deps.ttlMs);
          return durable();
        }, opts),
        serveOperation(bus, subjects, 'idempotency.release', async ({ key }) => {
          await keys.release(key);
          return durable();
        }, opts),
      );
    },
    stop(): void {
      for (const s of subscriptions.splice(0)) s.unsubscribe();
    },
  };
}
