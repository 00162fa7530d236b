// The in-memory RateLimiter, for a single gateway process without Redis. Same sliding window log
// as the Redis script (see rate-limiter.ts), time read from an injected clock so tests move time
// instead of waiting for it.
//
// Bounded two ways: each key holds at most `limit` timestamps, and at most `maxKeys` keys are
// tracked. Keys whose window has emptied are dropped as later hits pass by (no timer); when the
// table is full anyway, the least recently seen key is forgotten, which can only let that client
// in early, never lock anyone out.
import { systemClock, type Clock } from '../clock.js';
import { AuroraError } from '../errors.js';
import { assertHitArgs, decide, type RateLimiter } from './rate-limiter.js';

export interface MemoryRateLimiterOptions {
  /** Keys tracked at most; beyond it the least recently seen key is forgotten. */
  maxKeys: number;
  clock?: Clock;
}

/** One key's window: timestamps in arrival order, live from `head` on. */
interface Window {
  stamps: number[];
  head: number;
  windowMs: number;
}

/** Idle keys dropped per hit at most: keeps each hit O(1) while still draining the table. */
const SWEEP_PER_HIT = 8;

export interface MemoryRateLimiter extends RateLimiter {
  /** Keys currently tracked; for tests and diagnostics. */
  size(): number;
}

export function createMemoryRateLimiter(options: MemoryRateLimiterOptions): MemoryRateLimiter {
  const { maxKeys } = options;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError(`maxKeys must be a positive integer, got ${maxKeys}`);
  const clock = options.clock ?? systemClock;
  // Insertion order is recency order: every hit re-inserts its key, so the first key is the one
  // seen longest ago, which is both the eviction victim and the likeliest to be idle.
  const windows = new Map<string, Window>();
  let closed = false;

  const trim = (w: Window, now: number): void => {
    const cutoff = now - w.windowMs;
    while (w.head < w.stamps.length && w.stamps[w.head]! <= cutoff) w.head++;
    // Compact once the dead prefix dominates, so a busy key's array stays about `limit` long.
    if (w.head > 32 && w.head * 2 > w.stamps.length) {
      w.stamps = w.stamps.slice(w.head);
      w.head = 0;
    }
  };

  const sweep = (now: number): void => {
    for (let i = 0; i < SWEEP_PER_HIT; i++) {
      const first = windows.entries().next();
      if (first.done === true) return;
      const [key, w] = first.value;
      const newest = w.stamps[w.stamps.length - 1];
      if (newest !== undefined && newest > now - w.windowMs) return;
      windows.delete(key);
    }
  };

  return {
    kind: 'memory',

    async hit(key, limit, windowMs) {
      if (closed) throw new AuroraError('unavailable', 'rate limiter is closed');
      assertHitArgs(key, limit, windowMs);
      const now = clock.now();
      let w = windows.get(key);
      if (w === undefined) {
        sweep(now);
        if (windows.size >= maxKeys) windows.delete(windows.keys().next().value!);
        w = { stamps: [], head: 0, windowMs };
      } else {
        windows.delete(key);
        w.windowMs = windowMs;
        trim(w, now);
      }
      windows.set(key, w);
      let count = w.stamps.length - w.head;
      const allowed = count < limit;
      if (allowed) {
        w.stamps.push(now);
        count++;
      }
      return decide(allowed, limit, count, w.stamps[w.head]!, now, windowMs);
    },

    size: () => windows.size,

    async close() {
      closed = true;
      windows.clear();
    },
  };
}
