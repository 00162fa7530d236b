// uWS topics shared by live sockets with the same filters: an event they all want is published
// once per distinct filter and fanned out by uWS in C++, instead of one ws.send per socket from JS.
// Which socket may be on a topic is Delivery's call (see toTopic); this file keeps the groups.
import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import type { LoggedEvent } from '../event-log.js';
import type { EventFilter } from '../stream-protocol.js';

/** Topics of filter groups are this plus a number; nothing else on the app publishes under it. */
const TOPIC_PREFIX = 'aurora.stream/';
/** Every socket's permanent topic, never published to (see Topics.keep). */
const KEEP_TOPIC = 'aurora.stream/keep';

export interface FilterGroup {
  readonly key: string;
  readonly topic: string;
  readonly filter: EventFilter;
  members: number;
}

/** What the groups need of a socket (a StreamClient). */
export interface TopicMember {
  readonly ws: Pick<WebSocket<unknown>, 'subscribe' | 'unsubscribe'>;
  readonly closed: boolean;
  readonly filter: EventFilter;
  readonly filterKey: string;
  group: FilterGroup | undefined;
}

export interface Topics {
  /** Sockets fed through a topic right now. */
  readonly members: number;
  /**
   * Subscribes a new socket to KEEP_TOPIC for all its life: uWS frees a socket's pub/sub state,
   * and with it what was published to it but not yet written, when it leaves its last topic.
   */
  keep(ws: Pick<WebSocket<unknown>, 'subscribe'>): void;
  /** Feeds the socket through the topic of its filters' group. */
  join(c: TopicMember): void;
  /**
   * Back to per-socket sends. Published events uWS has not written yet stay queued for the socket
   * and go out before its next direct send, so order is kept.
   */
  leave(c: TopicMember): void;
  /** Publishes each entry once to every group whose filter wants it. */
  publish(entries: readonly LoggedEvent[]): void;
}

export function createTopics(app: TemplatedApp): Topics {
  const groups = new Map<string, FilterGroup>();
  let members = 0;
  let nextTopic = 0;
  return {
    get members() {
      return members;
    },
    keep(ws) {
      ws.subscribe(KEEP_TOPIC);
    },
    join(c) {
      let g = groups.get(c.filterKey);
      if (g === undefined) {
        g = { key: c.filterKey, topic: `${TOPIC_PREFIX}${nextTopic++}`, filter: c.filter, members: 0 };
        groups.set(g.key, g);
      }
      g.members++;
      members++;
      c.group = g;
      c.ws.subscribe(g.topic);
    },
    leave(c) {
      const g = c.group;
      if (g === undefined) return;
      c.group = undefined;
      members--;
      if (--g.members === 0) groups.delete(g.key);
      if (!c.closed) c.ws.unsubscribe(g.topic);
    },
    publish(entries) {
      for (const entry of entries) {
        for (const g of groups.values()) if (g.filter.matches(entry.event)) app.publish(g.topic, entry.wire, false);
      }
    },
  };
}
