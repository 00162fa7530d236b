// Request timeouts without a timer per request. Requests are the bus's hot path (thousands a
// second) and nearly all are answered long before they time out, so arming and cancelling a timer
// each time would be most of what a timeout costs: a platform Timeout, plus through the Clock a
// closure and a handle. Instead, as Node does inside its own timers, requests with the same
// timeout wait in one list in the order they were made, which is their deadline order, and each
// list has one Clock timer armed for its oldest request. An answered request only unlinks itself,
// and arming one allocates nothing: the pending request carries its own links.
import type { Clock, Timer } from '../clock.js';

/** What a timed entry carries; the bus's pending request itself. */
export interface Timed<E> {
  /** clock.monotonic() from which on the entry has expired. */
  expiresAt: number;
  prev: E | undefined;
  next: E | undefined;
  /** The lane it waits in; undefined when not armed. */
  lane: TimeoutLane<E> | undefined;
}

/** The entries of one timeout, oldest first, and the timer that serves them. */
export interface TimeoutLane<E> {
  readonly timeoutMs: number;
  head: E | undefined;
  tail: E | undefined;
  /** Armed for the head's deadline or before it; set while the lane fires, so entries armed meanwhile add no timer. */
  timer: Timer | undefined;
  readonly fire: () => void;
}

export class RequestTimeouts<E extends Timed<E>> {
  private readonly lanes = new Map<number, TimeoutLane<E>>();

  constructor(
    private readonly clock: Clock,
    private readonly onExpire: (entry: E) => void,
  ) {}

  /** Expires `entry` once `timeoutMs` have passed on the clock, unless disarmed first. */
  arm(entry: E, timeoutMs: number): void {
    entry.expiresAt = this.clock.monotonic() + timeoutMs;
    let lane = this.lanes.get(timeoutMs);
    if (lane === undefined) {
      const created: TimeoutLane<E> = { timeoutMs, head: undefined, tail: undefined, timer: undefined, fire: () => this.fire(created) };
      this.lanes.set(timeoutMs, created);
      lane = created;
    }
    entry.lane = lane;
    entry.prev = lane.tail;
    entry.next = undefined;
    if (lane.tail === undefined) lane.head = entry;
    else lane.tail.next = entry;
    lane.tail = entry;
    // A lane whose requests were all answered keeps its timer: it fires early at worst and then
    // re-arms for the head, so a steady stream of requests costs one timer per timeout period.
    // That timer outlives the requests, so it does not keep the process alive (the clock's
    // default): an idle process must not wait out a timeout before it can exit.
    lane.timer ??= this.clock.setTimeout(lane.fire, timeoutMs);
  }

  /** Idempotent. */
  disarm(entry: E): void {
    const lane = entry.lane;
    if (lane === undefined) return;
    if (entry.prev === undefined) lane.head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) lane.tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
    entry.lane = undefined;
  }

  private fire(lane: TimeoutLane<E>): void {
    const now = this.clock.monotonic();
    for (let entry = lane.head; entry !== undefined && entry.expiresAt <= now; entry = lane.head) {
      this.disarm(entry);
      this.onExpire(entry);
    }
    lane.timer = undefined;
    if (lane.head === undefined) this.lanes.delete(lane.timeoutMs);
    else lane.timer = this.clock.setTimeout(lane.fire, lane.head.expiresAt - now);
  }
}
