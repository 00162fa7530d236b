// The events the stream's sockets read: the replay window (EventLog, one seq per event) and the
// batch of this loop turn, which waits for the fan-out's flush. The batch holds its entries
// itself, so a burst bigger than the replay window cannot overtake a live socket.
import type { AuroraEvent } from '../../runtime/protocol/index.js';
import { createEventLog, type LoggedEvent, type Replay } from '../event-log.js';

export interface Feed {
  /** Seq of the newest event, 0 before the first. */
  readonly lastSeq: number;
  /** True while events of this turn wait for the flush. */
  readonly holding: boolean;
  /** The event with this seq, from this turn's batch or the replay window. */
  at(seq: number): LoggedEvent | undefined;
  /** Stamps and records an event (see EventLog.append). */
  append(event: AuroraEvent): LoggedEvent;
  /** Keeps an appended event for this turn's flush; returns how many the batch now holds. */
  hold(entry: LoggedEvent): number;
  /** Hands over this turn's events, oldest first, and starts a new batch. */
  takeBatch(): readonly LoggedEvent[];
  /** Forgets this turn's events: nobody is left to send them to. */
  dropBatch(): void;
  since(seq: number): Replay;
  /** See EventLog.breakHere. */
  breakHere(): void;
}

export function createFeed(replaySize: number): Feed {
  const log = createEventLog(replaySize);
  let batch: LoggedEvent[] = [];
  return {
    get lastSeq() {
      return log.lastSeq;
    },
    get holding() {
      return batch.length > 0;
    },
    at(seq) {
      if (batch.length > 0) {
        const hit = batch[seq - batch[0]!.seq];
        if (hit !== undefined) return hit;
      }
      return log.at(seq);
    },
    append: (event) => log.append(event),
    hold: (entry) => batch.push(entry),
    takeBatch() {
      const taken = batch;
      batch = [];
      return taken;
    },
    dropBatch() {
      batch = [];
    },
    since: (seq) => log.since(seq),
    breakHere: () => log.breakHere(),
  };
}
