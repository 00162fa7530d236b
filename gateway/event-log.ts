// The replay window of the WebSocket stream: a fixed-size ring of the most recent events, each
// stamped with a sequence number and serialised at most once for the wire.
//
// Sequence numbers are per gateway process: they start at 1 when the process starts, grow by one
// per event this gateway received from the bus, and mean nothing to another gateway or to a
// restarted one. A client resumes with `since` = the last seq it saw, on the same gateway.
import type { AuroraEvent } from '../runtime/protocol/index.js';

/**
 * One event as the stream sends it. `wire` is the complete message, serialised and UTF-8 encoded
 * once, then handed as it is to every socket that wants it.
 */
export interface LoggedEvent {
  readonly seq: number;
  readonly event: AuroraEvent;
  readonly wire: Buffer;
}

export type Replay =
  /** Every event after the cursor is still in the window (possibly none). */
  | { readonly gap: false; readonly events: readonly LoggedEvent[] }
  /**
   * Some events after the cursor left the window (or the cursor is ahead of this gateway, so it
   * came from another process): `events` is what remains, starting at `oldestSeq`.
   */
  | { readonly gap: true; readonly oldestSeq: number; readonly events: readonly LoggedEvent[] };

export interface EventLog {
  /** Window size; 0 keeps nothing (replay then always reports a gap once events have flowed). */
  readonly capacity: number;
  /** Seq of the newest event, 0 before the first. */
  readonly lastSeq: number;
  /** Seq of the oldest event still held; lastSeq + 1 when the window is empty. */
  readonly oldestSeq: number;
  /** Stamps the next seq and stores (evicting the oldest when full); serialised on first use. O(1). */
  append(event: AuroraEvent): LoggedEvent;
  /** The event with this seq if it is still in the window. O(1). */
  at(seq: number): LoggedEvent | undefined;
  /** Everything with seq > `seq` still held, oldest first, or a gap indication. */
  since(seq: number): Replay;
  /**
   * Events stop arriving for a while (the gateway stopped listening): the window is emptied and
   * one seq is skipped, so a cursor from before is told of a gap and one from after is not.
   */
  breakHere(): void;
}

/** The wire form of an event: seq first, then the AuroraEvent fields; absent fields are left out. */
export function serialiseEvent(seq: number, event: AuroraEvent): Buffer {
  const json = JSON.stringify({
    seq,
    time: event.time,
    type: event.type,
    agent: event.agent,
    task_id: event.task_id,
    run_id: event.run_id,
    parent_run_id: event.parent_run_id,
    root_run_id: event.root_run_id,
    path: event.path,
    lineage: event.lineage,
    payload: event.payload,
  });
  return Buffer.from(json, 'utf8');
}

/**
 * Serialised on first use: an event no socket wants (or that arrives while none is connected)
 * costs no JSON, then every socket that wants it shares the one Buffer.
 */
class Entry implements LoggedEvent {
  private serialised: Buffer | undefined;
  constructor(
    readonly seq: number,
    readonly event: AuroraEvent,
  ) {}
  get wire(): Buffer {
    return (this.serialised ??= serialiseEvent(this.seq, this.event));
  }
}

export function createEventLog(capacity: number): EventLog {
  if (!Number.isInteger(capacity) || capacity < 0) {
    throw new RangeError(`event log capacity must be a non-negative integer, got ${capacity}`);
  }
  // Slot of seq s is (s - 1) % capacity; a slot is overwritten in place, nothing is ever shifted.
  const ring: (LoggedEvent | undefined)[] = new Array<LoggedEvent | undefined>(capacity).fill(undefined);
  let lastSeq = 0;
  /** Nothing older than this is held (set by breakHere). */
  let floor = 1;

  // With capacity 0 this is lastSeq + 1: the window is always empty.
  const oldest = (): number => Math.max(floor, lastSeq - capacity + 1);

  const collect = (from: number): LoggedEvent[] => {
    const out: LoggedEvent[] = [];
    for (let s = from; s <= lastSeq; s++) out.push(ring[(s - 1) % capacity]!);
    return out;
  };

  return {
    capacity,
    get lastSeq() {
      return lastSeq;
    },
    get oldestSeq() {
      return oldest();
    },
    append(event) {
      const seq = ++lastSeq;
      const entry = new Entry(seq, event);
      if (capacity > 0) ring[(seq - 1) % capacity] = entry;
      return entry;
    },
    at(seq) {
      if (seq < oldest() || seq > lastSeq || !Number.isInteger(seq)) return undefined;
      return ring[(seq - 1) % capacity];
    },
    since(seq) {
      if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`since must be a non-negative integer, got ${seq}`);
      const oldestSeq = oldest();
      // seq > lastSeq: a cursor from the future, handed out by another (or an earlier) gateway process.
      if (seq <= lastSeq && seq + 1 >= oldestSeq) return { gap: false, events: collect(seq + 1) };
      return { gap: true, oldestSeq, events: collect(oldestSeq) };
    },
    breakHere() {
      lastSeq += 1;
      floor = lastSeq + 1;
      ring.fill(undefined);
    },
  };
}
