// Time is injected so supervisor logic and timeouts can be tested with a simulated clock. Code in
// runtime/, supervisors/ and gateway/ reads time and schedules work only through a Clock (lint
// enforces it); this file is the one place that touches the platform's timers.
import { performance } from 'node:perf_hooks';

export interface Timer {
  cancel(): void;
}

export interface TimerOptions {
  /**
   * Keep the process running until the timer fires or is cancelled. Off by default, so a pending
   * timeout never holds an otherwise finished process open; on for deadlines that bound work the
   * process must finish, such as shutdown steps.
   */
  keepAlive?: boolean;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Milliseconds on a monotonic clock, for durations (never goes back, unrelated to the epoch). */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number, options?: TimerOptions): Timer;
  /** Runs `fn` after this turn's I/O (Node's setImmediate): batching work per event-loop turn. */
  setImmediate(fn: () => void): Timer;
}

/** Longest delay a Node timer holds (2^31 - 1 ms); a longer one fires at once, so it is clamped. */
export const MAX_TIMER_MS = 2_147_483_647;

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(fn, ms, options) {
    const t = setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMER_MS));
    if (options?.keepAlive !== true) t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
  setImmediate(fn) {
    const t = setImmediate(fn);
    return { cancel: () => clearImmediate(t) };
  },
};

/** Resolves after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

export interface ManualClock extends Clock {
  advance(ms: number): void;
}

/**
 * A clock that only moves when told to; timers fire in due order during advance(). Immediates are
 * about ordering within a turn, not time, so they still run on the real event loop.
 */
export function createManualClock(start = 0): ManualClock {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    monotonic: () => now,
    setTimeout(fn, ms) {
      const id = ++seq;
      timers.set(id, { at: now + Math.max(0, ms), fn });
      return { cancel: () => void timers.delete(id) };
    },
    setImmediate: (fn) => systemClock.setImmediate(fn),
    advance(ms) {
      const target = now + ms;
      for (;;) {
        let next: [number, { at: number; fn: () => void }] | undefined;
        for (const entry of timers) if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry;
        if (!next) break;
        timers.delete(next[0]);
        now = next[1].at;
        next[1].fn();
      }
      now = target;
    },
  };
}

// Under load many timestamps fall in the same millisecond: its ISO string is made once.
let lastMs = Number.NaN;
let lastIso = '';

/** The ISO-8601 form of `ms` (milliseconds since the epoch). */
export function isoAt(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

export function isoNow(clock: Clock = systemClock): string {
  return isoAt(clock.now());
}
