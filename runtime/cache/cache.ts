// The Cache port: a small key/value store with a time to live, for things that are cheap to
// recompute (model listings and the like). Never the only copy of anything.
//
// Values are stored as JSON, so every read returns a fresh copy and what works in memory also
// works in Redis. A missing key and an expired key read as `undefined`.

export interface Cache {
  readonly kind: 'redis' | 'memory';
  /** Rejects with AuroraError `unavailable` when the cache cannot be reached. */
  get<T>(key: string): Promise<T | undefined>;
  /** `undefined` or `ttlMs <= 0` stores nothing and removes the key. */
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  del(key: string): Promise<void>;
  /** Stores `value` only when `key` holds nothing live; true when it was stored. Atomic across clients. */
  setIfAbsent(key: string, value: unknown, ttlMs: number): Promise<boolean>;
  /** True while the cache answers; never throws. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Returns the cached value for `key`, or runs `loader`, caches its result and returns it.
 * A failing cache is a miss: its errors never reach the caller, only the loader's do.
 */
export async function getOrLoad<T>(cache: Cache, key: string, ttlMs: number, loader: () => Promise<T>): Promise<T> {
  try {
    const hit = await cache.get<T>(key);
    if (hit !== undefined) return hit;
  } catch {
    // Treated as a miss; the cache implementation reports its own outages.
  }
  const value = await loader();
  try {
    await cache.set(key, value, ttlMs);
  } catch {
    // The value is still good to return; the next call loads again.
  }
  return value;
}

/** Shared argument check: a TTL must be a finite number of milliseconds. */
export function assertTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs)) throw new RangeError(`ttlMs must be a finite number, got ${ttlMs}`);
}
