// How far a pull is, from the provider's status lines, and when that is worth telling anyone.
// Pure: no clock of its own (the caller passes the time), no I/O.
import type { PullProgress } from '../runtime/providers/llm.js';

/** Progress events (and their SQLite writes) come at most this often... */
export const PROGRESS_MIN_INTERVAL_MS = 250;

export interface PullTally {
  readonly completedBytes: number;
  readonly totalBytes: number;
  /** Whole percent, 0–99: 100 is for a pull the provider said succeeded. */
  readonly percent: number;
  /** The provider's last status line. */
  readonly detail: string | null;
}

export interface PullCounter extends PullTally {
  /** Folds one status line in. */
  add(line: PullProgress): void;
}

/**
 * Sums the layers the provider has announced, each by its digest: a layer's lines repeat its total
 * and say how much of it has arrived. Ollama announces layers one after another, so the total
 * grows as a pull goes on; the percent is kept from going back when it does (a progress bar that
 * jumps backwards reads as a fault). Until the provider says success it stays below 100: the last
 * byte is followed by verifying and writing the manifest, which can fail.
 */
export function createPullCounter(): PullCounter {
  const layers = new Map<string, { total: number; completed: number }>();
  let completedBytes = 0;
  let totalBytes = 0;
  let percent = 0;
  let detail: string | null = null;
  return {
    get completedBytes() {
      return completedBytes;
    },
    get totalBytes() {
      return totalBytes;
    },
    get percent() {
      return percent;
    },
    get detail() {
      return detail;
    },
    add(line) {
      detail = line.status;
      if (line.digest === null || line.total === null) return;
      let layer = layers.get(line.digest);
      if (layer === undefined) {
        layer = { total: 0, completed: 0 };
        layers.set(line.digest, layer);
      }
      totalBytes += line.total - layer.total;
      layer.total = line.total;
      // A line without `completed` says nothing new about it (Ollama leaves out zero).
      const completed = Math.min(line.completed ?? layer.completed, line.total);
      completedBytes += completed - layer.completed;
      layer.completed = completed;
      if (totalBytes > 0) percent = Math.max(percent, Math.min(99, Math.floor((completedBytes * 100) / totalBytes)));
    },
  };
}

export interface ProgressThrottle {
  /** True when an event for `percent` at `nowMs` should go out; it is then counted as sent. */
  due(percent: number, nowMs: number): boolean;
}

/**
 * ... and only for a new whole percent: whichever of the two is rarer decides. A fast pull on a
 * fast link moves many percent per 250 ms and is paced by time; a slow one moves less than a
 * percent per 250 ms and is paced by percent. The first line (0 %, "pulling manifest") goes out
 * at once, so watchers learn that the provider answered.
 */
export function createProgressThrottle(minIntervalMs: number = PROGRESS_MIN_INTERVAL_MS): ProgressThrottle {
  let lastAt = Number.NEGATIVE_INFINITY;
  let lastPercent = -1;
  return {
    due(percent, nowMs) {
      if (percent === lastPercent || nowMs - lastAt < minIntervalMs) return false;
      lastAt = nowMs;
      lastPercent = percent;
      return true;
    },
  };
}
