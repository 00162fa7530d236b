// Sending to one socket: its cursor through the feed, the pacing of a replay, the control
// messages waiting their turn, and closing it when it cannot keep up.
//
// A socket replaying from `since` is paced: it is sent events while uWS holds less than half of
// WS_MAX_QUEUE_BYTES for it, and resumes on `drain` (or on the next event). Live events that arrive
// meanwhile are simply later entries of the same feed, so replay turns into live with no gap and
// no duplicate. Control messages (subscribed, pong, error, task.*) wait in a short per-socket
// queue, each tagged with the seq it must follow, so a task.result never overtakes that task's
// events.
//
// Backpressure: uWS buffers what the kernel does not take (maxBackpressure is off so uWS never
// drops silently). After each send, a socket holding more than WS_MAX_QUEUE_BYTES is closed with
// 4008 "slow consumer" and aurora_ws_slow_consumers_closed_total grows; so is a replaying socket
// whose next event has already left the replay window.
//
// uWS rules kept here: a socket is never touched once closed, writes to one socket are corked
// together, and end() is never called inside a cork.
import type { AuroraEvent } from '../../runtime/protocol/index.js';
import type { Logger } from '../../runtime/logger.js';
import type { Metrics } from '../../runtime/metrics.js';
import { CLOSE_CODES, SLOW_CONSUMER_REASON } from '../stream-protocol.js';
import type { SlowReason, StreamClient } from './client.js';
import type { Feed } from './feed.js';
import type { Topics } from './topics.js';

/** Control messages a socket may have waiting (only a replaying socket queues any). */
const MAX_PENDING_CONTROL = 256;

export interface ControlOptions {
  /** The message must follow every event received so far (task messages). */
  afterEvents?: boolean;
  /** The task whose final message this is. */
  endsTask?: string;
}

export interface Delivery {
  /** Writes what is due to a socket fed directly (a topic socket is left to the fan-out). */
  pump(c: StreamClient): void;
  /**
   * Queues a control message without sending it. Without `afterEvents` it only keeps its place
   * among control messages. False when the socket was closed instead, for letting too many pile up.
   */
  enqueue(c: StreamClient, message: string, options?: ControlOptions): boolean;
  /** Queues a control message and sends what is due. */
  control(c: StreamClient, message: string, options?: ControlOptions): void;
  /** Moves a socket with nothing of its own in flight onto its group's topic. */
  toTopic(c: StreamClient): void;
  /** Closes the socket with 4008 "slow consumer", saying why in the log. */
  dropSlowConsumer(c: StreamClient, reason: SlowReason): void;
}

export interface DeliveryDeps {
  readonly feed: Feed;
  readonly topics: Topics;
  readonly metrics: Pick<Metrics, 'wsDropped'>;
  readonly logger: Logger;
  /** WS_MAX_QUEUE_BYTES. */
  readonly maxQueueBytes: number;
}

export function createDelivery({ feed, topics, metrics, logger, maxQueueBytes }: DeliveryDeps): Delivery {
  const replayLowWaterBytes = Math.floor(maxQueueBytes / 2);

  const wants = (c: StreamClient, e: AuroraEvent): boolean =>
    c.filter.matches(e) || (e.task_id !== undefined && c.ownTasks.size > 0 && c.ownTasks.has(e.task_id));

  const dropSlowConsumer = (c: StreamClient, reason: SlowReason): void => {
    if (c.closed) return;
    metrics.wsDropped.inc();
    logger.warn('closing slow WebSocket consumer', {
      reason,
      buffered_bytes: c.ws.getBufferedAmount(),
      max_queue_bytes: maxQueueBytes,
      cursor: c.cursor,
      last_seq: feed.lastSeq,
      pending_control: c.pending.length,
    });
    c.ws.end(CLOSE_CODES.slowConsumer, SLOW_CONSUMER_REASON);
  };

  /**
   * A socket joins a topic only when it just follows the live stream: nothing it alone should get
   * (a control message, its own task's events, a replay) and nothing of this turn left to flush.
   */
  const toTopic = (c: StreamClient): void => {
    if (c.group !== undefined || c.closed || c.replaying || c.pending.length > 0 || c.ownTasks.size > 0) return;
    if (c.cursor !== feed.lastSeq || feed.holding) return;
    topics.join(c);
  };

  /**
   * Writes what is due to one socket: control messages whose turn has come and events after its
   * cursor. Returns why the socket must be dropped as too slow, or undefined.
   */
  const writeDue = (c: StreamClient): SlowReason | undefined => {
    const ws = c.ws;
    // Bytes that may still be added before the socket can exceed its bound. The buffered amount
    // only grows by what is sent here, so the real figure is asked for only when this estimate
    // says the bound may have been crossed (one call into uWS per burst instead of per event).
    let room = maxQueueBytes - ws.getBufferedAmount();
    for (;;) {
      while (c.pending.length > 0 && c.pending[0]!.afterSeq <= c.cursor) {
        const p = c.pending.shift()!;
        if (p.endsTask !== undefined) c.ownTasks.delete(p.endsTask);
        ws.send(p.message, false, false);
        if (c.closed) return undefined;
        room = maxQueueBytes - ws.getBufferedAmount();
        if (room < 0) return 'queue_full';
      }
      if (c.cursor >= feed.lastSeq) {
        c.replaying = false;
        return undefined;
      }
      if (c.replaying && ws.getBufferedAmount() >= replayLowWaterBytes) return undefined; // resumed on drain
      const seq = c.cursor + 1;
      const entry = feed.at(seq);
      if (entry === undefined) return 'overtaken';
      c.cursor = seq;
      if (wants(c, entry.event)) {
        const wire = entry.wire;
        ws.send(wire, false, false);
        if (c.closed) return undefined;
        room -= wire.length;
        if (room < 0) {
          room = maxQueueBytes - ws.getBufferedAmount();
          if (room < 0) return 'queue_full';
        }
      }
    }
  };

  const pump = (c: StreamClient): void => {
    // A topic socket is fed by the flush; whoever needs to write to it directly leaves the topic first.
    if (c.closed || c.group !== undefined) return;
    // A live socket with nothing queued skips the events it does not want without a cork: most
    // sockets of a filtered stream want few events.
    if (c.pending.length === 0 && !c.replaying) {
      const last = feed.lastSeq;
      while (c.cursor < last) {
        const entry = feed.at(c.cursor + 1);
        if (entry === undefined || wants(c, entry.event)) break;
        c.cursor++;
      }
      if (c.cursor >= last) return;
    }
    let slow: SlowReason | undefined;
    // One cork per socket: uWS merges every message sent inside it into one write.
    c.ws.cork(() => {
      slow = writeDue(c);
    });
    // Never inside the cork: end() runs the close handler at once.
    if (slow !== undefined) dropSlowConsumer(c, slow);
    else toTopic(c);
  };

  const enqueue = (c: StreamClient, message: string, options: ControlOptions = {}): boolean => {
    if (c.closed) return false;
    topics.leave(c);
    if (c.pending.length >= MAX_PENDING_CONTROL) {
      dropSlowConsumer(c, 'control_backlog');
      return false;
    }
    const tail = c.pending.length > 0 ? c.pending[c.pending.length - 1]!.afterSeq : 0;
    const afterSeq = Math.max(options.afterEvents === true ? feed.lastSeq : c.cursor, tail);
    c.pending.push({ afterSeq, message, endsTask: options.endsTask });
    return true;
  };

  return {
    pump,
    enqueue,
    control(c, message, options) {
      if (enqueue(c, message, options)) pump(c);
    },
    toTopic,
    dropSlowConsumer,
  };
}
