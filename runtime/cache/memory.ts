// The in-memory Cache: bounded, JSON-encoded, expiry read from an injected clock so tests can
// move time instead of waiting for it.
import { AuroraError } from '../errors.js';
import { systemClock, type Clock } from '../clock.js';
import { assertTtl, type Cache } from './cache.js';

export interface MemoryCacheOptions {
  /** When full, the entry written longest ago is evicted. */
  maxEntries?: number;
  clock?: Clock;
}

interface Entry {
  json: string;
  expiresAt: number;
}

export function createMemoryCache(options: MemoryCacheOptions = {}): Cache {
  const maxEntries = options.maxEntries ?? 10_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  const clock = options.clock ?? systemClock;
  // Map iteration order is insertion order, and set() re-inserts, so the first key is the oldest write.
  const entries = new Map<string, Entry>();
  let closed = false;

  const assertOpen = () => {
    if (closed) throw new AuroraError('unavailable', 'cache is closed');
  };

  return {
    kind: 'memory',

    async get<T>(key: string): Promise<T | undefined> {
      assertOpen();
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      // Expiry is checked on read; entries nobody reads again leave through eviction.
      if (clock.now() >= entry.expiresAt) {
        entries.delete(key);
        return undefined;
      }
      return JSON.parse(entry.json) as T;
    },

    async set(key, value, ttlMs) {
      assertOpen();
      assertTtl(ttlMs);
      entries.delete(key);
      if (value === undefined || ttlMs <= 0) return;
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(key, { json: JSON.stringify(value), expiresAt: clock.now() + ttlMs });
    },

    async setIfAbsent(key, value, ttlMs) {
      assertOpen();
      assertTtl(ttlMs);
      const entry = entries.get(key);
      if (entry !== undefined && clock.now() < entry.expiresAt) return false;
      await this.set(key, value, ttlMs);
      return true;
    },

    async del(key) {
      assertOpen();
      entries.delete(key);
    },

    async ping() {
      return !closed;
    },

    async close() {
      closed = true;
      entries.clear();
    },
  };
}
