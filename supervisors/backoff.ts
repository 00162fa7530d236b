// Pure restart backoff: exponential growth per recent restart, capped, with jitter from an injected rng.

export interface BackoffInput {
  /** 1 for the first restart in the current intensity window, 2 for the second, … */
  readonly attempt: number;
  readonly baseMs: number;
  readonly maxMs: number;
  /** Uniform in [0, 1); injected so tests (and replays) are deterministic. */
  readonly rng: () => number;
}

/**
 * Delay before restart number `attempt`: ceiling = min(maxMs, baseMs * 2^(attempt-1)), then "equal
 * jitter": a value in [ceiling/2, ceiling], rounded to whole milliseconds and never above the ceiling.
 *
 * Why equal jitter rather than full jitter ([0, ceiling]): full jitter is the better choice when
 * many clients contend for one resource and only spreading matters. A supervisor restarts a child
 * that is probably crash-looping; with full jitter an unlucky draw near 0 restarts it at once, so a
 * burst of restarts can spend the whole intensity budget in a few milliseconds and the backoff
 * protects nothing. Equal jitter guarantees at least half of the exponential step (so the floor
 * still doubles per attempt) while still spreading simultaneous restarts — e.g. every agent
 * crashing when Ollama goes away — over the other half, so they do not come back in lockstep.
 *
 * Total for any inputs: baseMs ≤ 0 (or maxMs ≤ 0) → 0; attempt < 1 or NaN → treated as 1; an
 * rng outside [0, 1) is clamped. The result is always within [0, maxMs].
 */
export function backoffDelayMs({ attempt, baseMs, maxMs, rng }: BackoffInput): number {
  if (!(baseMs > 0) || !(maxMs > 0)) return 0;
  const n = attempt >= 1 ? Math.floor(attempt) : 1;
  // 2 ** 1023 is the largest finite power; beyond it min() with maxMs handles the Infinity anyway.
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(n - 1, 1023));
  let r = rng();
  if (!(r >= 0)) r = 0;
  else if (r > 1) r = 1;
  const half = ceiling / 2;
  return Math.min(ceiling, Math.round(half + r * half));
}
