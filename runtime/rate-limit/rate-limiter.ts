// The RateLimiter port: counts requests per key in a sliding window.
//
// Why a sliding window log and not a token bucket / GCRA: the contract is "N requests per
// minute", and a log is the one algorithm that honours it exactly — at most `limit` requests in
// ANY window of `windowMs`, whereas a bucket of N that refills continuously admits up to ~2N in
// a minute after a burst. The log also gives honest header values: Remaining is `limit - count`,
// and the time until a slot frees is when the oldest counted request leaves the window. Its cost
// is one entry per counted request, bounded by `limit` per key (refused requests are never
// recorded, so a client hammering past its limit costs nothing and is let in again as soon as
// its oldest request ages out).

export interface RateLimitDecision {
  readonly allowed: boolean;
  readonly limit: number;
  /** Requests still allowed in the window after this one (0 when refused). */
  readonly remaining: number;
  /**
   * Milliseconds until the oldest counted request leaves the window, i.e. until Remaining next
   * goes up. On a refusal it is how long the client must wait.
   */
  readonly resetMs: number;
}

export interface RateLimiter {
  readonly kind: 'redis' | 'memory';
  /**
   * Counts one request for `key` when fewer than `limit` were counted in the last `windowMs`.
   * Rejects with AuroraError `unavailable` when the store cannot answer; the caller decides
   * what an outage means (the gateway fails open).
   */
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision>;
  close(): Promise<void>;
}

/** Shared argument checks, so both implementations refuse the same nonsense. */
export function assertHitArgs(key: string, limit: number, windowMs: number): void {
  if (key === '') throw new RangeError('rate-limit key must not be empty');
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  if (!Number.isInteger(windowMs) || windowMs < 1) throw new RangeError(`windowMs must be a positive integer, got ${windowMs}`);
}

/**
 * The decision for a window holding `count` requests (this one included when allowed) whose
 * oldest was counted at `oldestMs`. Entries older than `now - windowMs` no longer count.
 */
export function decide(allowed: boolean, limit: number, count: number, oldestMs: number, nowMs: number, windowMs: number): RateLimitDecision {
  return {
    allowed,
    limit,
    remaining: Math.max(0, limit - count),
    resetMs: Math.max(0, oldestMs + windowMs - nowMs),
  };
}
