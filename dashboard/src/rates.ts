// Event rates over a sliding window (tasks per second, restarts per minute), from the events the
// stream delivers. Time is passed in, so the arithmetic is tested without a clock.

export interface RateWindow {
  /** Counts `n` occurrences at `atMs`. Occurrences older than the window are forgotten. */
  record(atMs: number, n?: number): void;
  /** Occurrences per `perMs` over the window ending at `nowMs`. */
  rate(nowMs: number, perMs: number): number;
  /** Occurrences within the window ending at `nowMs`. */
  count(nowMs: number): number;
}

/**
 * A ring of `buckets` buckets spanning `windowMs`: memory stays the same however many events
 * arrive, at the price of `windowMs / buckets` resolution.
 */
export function createRateWindow(windowMs: number, buckets = 60): RateWindow {
  const bucketMs = windowMs / buckets;
  const counts = new Float64Array(buckets);
  const starts = new Float64Array(buckets).fill(-Infinity);
  const slotOf = (atMs: number) => Math.floor(atMs / bucketMs);

  function count(nowMs: number): number {
    const oldest = slotOf(nowMs) - buckets + 1;
    let total = 0;
    for (let i = 0; i < buckets; i++) if (starts[i]! >= oldest && starts[i]! <= slotOf(nowMs)) total += counts[i]!;
    return total;
  }

  return {
    record(atMs, n = 1) {
      const slot = slotOf(atMs);
      const i = ((slot % buckets) + buckets) % buckets;
      if (starts[i] !== slot) {
        // An older slot, or one beyond the window that this ring position last held: start over.
        if (starts[i]! > slot) return;
        starts[i] = slot;
        counts[i] = 0;
      }
      counts[i]! += n;
    },
    count,
    rate: (nowMs, perMs) => (count(nowMs) * perMs) / windowMs,
  };
}
