// One socket's state on the stream: what it asked for, where it is in the feed, what waits for it.
// Every part of the stream reads and moves it; only the socket's lifecycle makes one.
import type { WebSocket } from 'uWebSockets.js';
import type { Timer } from '../../runtime/clock.js';
import type { Principal } from '../auth.js';
import { grants } from '../scopes.js';
import { MATCH_NOTHING, NOTHING_KEY, type EventFilter, type SubscribeOp } from '../stream-protocol.js';
import type { FilterGroup } from './topics.js';

export interface PendingControl {
  /** Sent once every event up to this seq has been considered for the socket. */
  afterSeq: number;
  readonly message: string;
  /** Set on a task's final message: its events stop following the socket once it is sent. */
  readonly endsTask: string | undefined;
}

export interface StreamClient {
  readonly ws: WebSocket<UserData>;
  closed: boolean;
  filter: EventFilter;
  /** The filters' group key (see filterKey). */
  filterKey: string;
  /**
   * Set while the socket is fed through its group's topic (see Delivery.toTopic); then it has no
   * control message waiting, no task of its own and no replay, and its cursor follows each flush.
   */
  group: FilterGroup | undefined;
  /** Tasks started by this socket: their events reach it whatever its filters. */
  readonly ownTasks: Set<string>;
  /** Tasks started here still waiting for their reply. */
  running: number;
  /** Seq of the last event considered for this socket (sent or filtered out). */
  cursor: number;
  /** True from a `since` until the cursor reaches the newest event: sends are paced. */
  replaying: boolean;
  readonly pending: PendingControl[];
  /** What the socket's token allows; both true when auth is off. */
  readonly canReadEvents: boolean;
  readonly canExecute: boolean;
  expiryTimer: Timer | undefined;
}

/**
 * Why a socket is dropped as a slow consumer (logged; the client sees 4008 "slow consumer"):
 * more than WS_MAX_QUEUE_BYTES unsent; its replay fell out of the window; or it let
 * MAX_PENDING_CONTROL replies pile up behind a replay.
 */
export type SlowReason = 'queue_full' | 'overtaken' | 'control_backlog';

/** What uWS keeps on the socket from the upgrade on. */
export interface UserData {
  readonly initial: SubscribeOp;
  client: StreamClient | undefined;
  /** Null when auth is off. */
  readonly principal: Principal | null;
}

/** A socket that has just opened: no filters yet, at the newest event `cursor`. */
export function newClient(ws: WebSocket<UserData>, principal: Principal | null, cursor: number): StreamClient {
  return {
    ws,
    closed: false,
    filter: MATCH_NOTHING,
    filterKey: NOTHING_KEY,
    group: undefined,
    ownTasks: new Set(),
    running: 0,
    cursor,
    replaying: false,
    pending: [],
    canReadEvents: principal === null || grants(principal.scopes, 'events:read'),
    canExecute: principal === null || grants(principal.scopes, 'tasks:execute'),
    expiryTimer: undefined,
  };
}
