// From the bus to every socket, once per event-loop turn. A burst of bus events (one NATS read
// holds hundreds) is held in the feed's batch until the turn ends, then:
//   - each socket fed directly is pumped once: one cork, hence one write, for the whole burst;
//   - each event is published once per distinct filter to the topic groups, and uWS fans it out;
//   - every live socket is now at the newest seq, and one with nothing of its own in flight moves
//     onto its group's topic.
// uWS writes what was published after the flush that published it, so a topic socket's queue
// bound is checked on the next turn, once it is written or buffered.
import type { AuroraEvent } from '../../runtime/protocol/index.js';
import type { BusMessage } from '../../runtime/bus/bus.js';
import type { Clock, Timer } from '../../runtime/clock.js';
import type { Logger } from '../../runtime/logger.js';
import type { StreamClient } from './client.js';
import type { Delivery } from './delivery.js';
import type { Feed } from './feed.js';
import type { Topics } from './topics.js';

/**
 * Events held for delivery at the end of the loop turn; a longer burst is sent at once. Bounds the
 * memory a burst pins beyond the replay window and the latency of its first event.
 */
const MAX_BATCH_EVENTS = 1024;

export interface FanOut {
  /** The bus subscription's handler. */
  onBusEvent(msg: BusMessage): void;
  /** Drops what is held and flushes nothing more. */
  close(): void;
}

export interface FanOutDeps {
  readonly feed: Feed;
  readonly topics: Topics;
  readonly delivery: Delivery;
  /** Every open socket. */
  readonly clients: ReadonlySet<StreamClient>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** WS_MAX_QUEUE_BYTES. */
  readonly maxQueueBytes: number;
}

export function createFanOut({ feed, topics, delivery, clients, clock, logger, maxQueueBytes }: FanOutDeps): FanOut {
  let stopped = false;
  let flushTimer: Timer | undefined;
  let boundCheck: Timer | undefined;

  const checkTopicBounds = (): void => {
    boundCheck = undefined;
    if (stopped) return;
    for (const c of clients) {
      if (c.group !== undefined && !c.closed && c.ws.getBufferedAmount() > maxQueueBytes) delivery.dropSlowConsumer(c, 'queue_full');
    }
  };

  /** Sends every socket what the batch holds for it. */
  const flush = (): void => {
    if (flushTimer !== undefined) {
      flushTimer.cancel();
      flushTimer = undefined;
    }
    if (!feed.holding) return;
    // Closing a slow consumer deletes it from `clients` mid-loop, which Set iteration allows.
    for (const c of clients) delivery.pump(c); // direct sockets only
    topics.publish(feed.takeBatch());
    // Every live socket is now at lastSeq; a replaying one reads the replay window from here on.
    const last = feed.lastSeq;
    for (const c of clients) {
      if (c.group !== undefined) c.cursor = last;
      else delivery.toTopic(c);
    }
    if (topics.members > 0) boundCheck ??= clock.setImmediate(checkTopicBounds);
  };

  return {
    onBusEvent(msg) {
      if (stopped) return;
      const event = msg.data;
      if (!isAuroraEvent(event)) {
        logger.warn('dropping malformed event from the bus', { subject: msg.subject });
        return;
      }
      const entry = feed.append(event);
      if (clients.size === 0) {
        // Nobody to send it to: a socket opened later starts after it (or replays it from the log).
        feed.dropBatch();
        return;
      }
      if (feed.hold(entry) >= MAX_BATCH_EVENTS) flush();
      else flushTimer ??= clock.setImmediate(flush);
    },
    close() {
      stopped = true;
      flushTimer?.cancel();
      boundCheck?.cancel();
      flushTimer = undefined;
      feed.dropBatch();
    },
  };
}

function isAuroraEvent(data: unknown): data is AuroraEvent {
  if (typeof data !== 'object' || data === null) return false;
  const e = data as Record<string, unknown>;
  return (
    typeof e.type === 'string' &&
    typeof e.time === 'string' &&
    (e.agent === undefined || typeof e.agent === 'string') &&
    (e.task_id === undefined || typeof e.task_id === 'string') &&
    typeof e.payload === 'object' &&
    e.payload !== null
  );
}
