// The WebSocket event stream at /api/v1/stream. The wire protocol is in stream-protocol.ts.
//
// One bus subscription (subjects.eventsAll(), held while sockets are open; see `listen`) feeds an
// EventLog that stamps each event with a seq and serialises it once; every socket then reads that
// log through its own cursor:
//   - a live socket is sent the new events that pass its filters once per event-loop turn: a burst
//     of bus events (one NATS read holds hundreds) becomes one cork, hence one write, per socket;
//   - a live socket with nothing of its own in flight (no control message waiting, no task it
//     started, no replay) is moved onto a uWS topic shared by every socket with the same filters:
//     each event is then published once per distinct filter and fanned out by uWS, not sent from
//     JS once per socket. It goes back to direct sends before anything only it should get, and
//     uWS writes what was published to it before its next direct send, so order is kept;
//   - a socket replaying from `since` is paced: it is sent events while uWS holds less than half
//     of WS_MAX_QUEUE_BYTES for it, and resumes on `drain` (or on the next event). Live events
//     that arrive meanwhile are simply later entries of the same log, so replay turns into live
//     with no gap and no duplicate.
// Control messages (subscribed, pong, error, task.*) wait in a short per-socket queue, each
// tagged with the seq it must follow, so a task.result never overtakes that task's events.
//
// Backpressure: uWS buffers what the kernel does not take (maxBackpressure is off so uWS never
// drops silently). After each send (for a topic socket: on the turn after each publish, once uWS
// has written it), a socket holding more than WS_MAX_QUEUE_BYTES is closed with 4008 "slow
// consumer" and aurora_ws_slow_consumers_closed_total grows; so is a replaying socket whose next
// event has already left the replay window.
//
// uWS rules kept here: a socket is never touched after its close handler ran (`closed`), writes
// to one socket are corked together, and end() is never called inside a cork.
//
// Auth (AUTH_ENABLED): the upgrade needs a valid token, in `Authorization: Bearer` or, since
// browsers cannot set headers on a WebSocket, `?access_token=` (401 refuses the upgrade; 403 when
// the token may neither read events nor execute). Without events:read a socket receives no events
// except those of tasks it started itself; without tasks:execute the execute op is refused. A
// socket is closed with 4401 "token expired" when its token runs out.
import type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_socket_context_t } from 'uWebSockets.js';
import type { AuroraEvent } from '../actors/protocol.js';
import type { BusMessage, Subscription } from '../runtime/bus/bus.js';
import type { Timer } from '../runtime/clock.js';
import { isAuroraError, toErrorPayload } from '../runtime/errors.js';
import { newTaskId } from '../runtime/ids.js';
import { createAuthenticator, queryTokens, type Authenticator, type AuthOutcome, type Principal } from './auth.js';
import type { GatewayDeps } from './deps.js';
import { standaloneErrorResponse, statusOf, type ErrorStatus } from './error-response.js';
import { acceptRequestId, REQUEST_ID_HEADER } from './request-id.js';
import { createEventLog, type LoggedEvent } from './event-log.js';
import type { Headers } from './http.js';
import { compileCodecs } from './schemas.js';
import { grants } from './scopes.js';
import { runTask } from './service-client.js';
import {
  CLOSE_CODES,
  MATCH_NOTHING,
  MAX_TASKS_PER_SOCKET,
  SLOW_CONSUMER_REASON,
  STREAM_PATH,
  STREAM_REQUIREMENT,
  TOKEN_EXPIRED_CLOSE,
  compileFilter,
  filterKey,
  NOTHING_KEY,
  parseClientMessage,
  parseStreamQuery,
  serverMessage,
  type EventFilter,
  type ExecuteOp,
  type SubscribeOp,
  type TaskValidator,
} from './stream-protocol.js';
import { writeResponse } from './uws.js';

// Importers have always found these here.
export { STREAM_PATH, STREAM_REQUIREMENT, TOKEN_EXPIRED_CLOSE } from './stream-protocol.js';

/**
 * Events held for delivery at the end of the loop turn; a longer burst is sent at once. Bounds the
 * memory a burst pins beyond the replay window and the latency of its first event.
 */
const MAX_BATCH_EVENTS = 1024;

/** Topics of filter groups are this plus a number; nothing else on the app publishes under it. */
const TOPIC_PREFIX = 'aurora.stream/';
/** Every socket's permanent topic, never published to (see toTopic). */
const KEEP_TOPIC = 'aurora.stream/keep';

/** Control messages a socket may have waiting (only a replaying socket queues any). */
const MAX_PENDING_CONTROL = 256;

interface PendingControl {
  /** Sent once every event up to this seq has been considered for the socket. */
  afterSeq: number;
  readonly message: string;
  /** Set on a task's final message: its events stop following the socket once it is sent. */
  readonly endsTask: string | undefined;
}

/**
 * Live sockets with the same filters share a uWS topic: an event they all want is published once
 * and fanned out by uWS in C++, instead of one ws.send per socket from JS.
 */
interface FilterGroup {
  readonly key: string;
  readonly topic: string;
  readonly filter: EventFilter;
  members: number;
}

interface Client {
  readonly ws: WebSocket<UserData>;
  closed: boolean;
  filter: EventFilter;
  /** The filters' group key (see filterKey). */
  filterKey: string;
  /**
   * Set while the socket is fed through its group's topic (see toTopic); then it has no control
   * message waiting, no task of its own and no replay, and its cursor follows each flush.
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
type SlowReason = 'queue_full' | 'overtaken' | 'control_backlog';

interface UserData {
  readonly initial: SubscribeOp;
  client: Client | undefined;
  /** Null when auth is off. */
  readonly principal: Principal | null;
}

export interface StreamOptions {
  /** The bearer-token check; built from config when not given (startGateway shares one with REST). */
  readonly auth?: Authenticator;
}

export function registerStream(app: TemplatedApp, deps: GatewayDeps, options: StreamOptions = {}): { close(): void } {
  const { bus, subjects, config, metrics, logger, clock } = deps;
  const log = createEventLog(config.eventReplaySize);
  const clients = new Set<Client>();
  const maxQueueBytes = config.wsMaxQueueBytes;
  const replayLowWaterBytes = Math.floor(maxQueueBytes / 2);
  const maxMessageBytes = config.maxBodyBytes;
  const codecs = compileCodecs();
  const auth = options.auth ?? createAuthenticator(config, { logger, now: () => clock.now() });
  const validateTask: TaskValidator = (body) => codecs.validate('TaskExecuteRequest', body);
  let stopped = false;

  // ------------------------------------------------------------ sending

  /**
   * Events appended since the sockets were last pumped, oldest first. Bus events are delivered
   * once per loop turn (see flush) so that a socket gets one write for a whole burst, not one per
   * event; the batch holds its entries itself, so a burst bigger than the replay window cannot
   * overtake a live socket.
   */
  let batch: LoggedEvent[] = [];
  let flushTimer: Timer | undefined;

  const entryAt = (seq: number): LoggedEvent | undefined => {
    if (batch.length > 0) {
      const hit = batch[seq - batch[0]!.seq];
      if (hit !== undefined) return hit;
    }
    return log.at(seq);
  };

  // ------------------------------------------------------------ topics

  const groups = new Map<string, FilterGroup>();
  let topicClients = 0;
  let nextTopic = 0;
  let boundCheck: Timer | undefined;

  /**
   * Moves a socket that only follows the live stream onto its group's topic. It stays subscribed
   * to KEEP_TOPIC all its life: uWS frees a socket's pub/sub state, and with it what was published
   * to it but not yet written, when it leaves its last topic.
   */
  const toTopic = (c: Client): void => {
    if (c.group !== undefined || c.closed || c.replaying || c.pending.length > 0 || c.ownTasks.size > 0) return;
    if (c.cursor !== log.lastSeq || batch.length > 0) return;
    let g = groups.get(c.filterKey);
    if (g === undefined) {
      g = { key: c.filterKey, topic: `${TOPIC_PREFIX}${nextTopic++}`, filter: c.filter, members: 0 };
      groups.set(g.key, g);
    }
    g.members++;
    topicClients++;
    c.group = g;
    c.ws.subscribe(g.topic);
  };

  /**
   * Back to per-socket sends, before anything only this socket gets (a control message, its own
   * task's events, a replay, new filters). Published events uWS has not written yet stay queued
   * for it and go out before its next direct send, so order is kept.
   */
  const toDirect = (c: Client): void => {
    const g = c.group;
    if (g === undefined) return;
    c.group = undefined;
    topicClients--;
    if (--g.members === 0) groups.delete(g.key);
    if (!c.closed) c.ws.unsubscribe(g.topic);
  };

  /**
   * uWS writes published messages after the flush that published them, so a topic socket's queue
   * bound is checked on the next turn, once they are written or buffered.
   */
  const checkTopicBounds = (): void => {
    boundCheck = undefined;
    if (stopped) return;
    for (const c of clients) {
      if (c.group !== undefined && !c.closed && c.ws.getBufferedAmount() > maxQueueBytes) dropSlowConsumer(c, 'queue_full');
    }
  };

  // ------------------------------------------------------------ direct sends

  const wants = (c: Client, e: AuroraEvent): boolean =>
    c.filter.matches(e) || (e.task_id !== undefined && c.ownTasks.size > 0 && c.ownTasks.has(e.task_id));


  /**
   * Writes what is due to one socket: control messages whose turn has come and events after its
   * cursor. Returns why the socket must be dropped as too slow, or undefined.
   */
  const writeDue = (c: Client): SlowReason | undefined => {
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
      if (c.cursor >= log.lastSeq) {
        c.replaying = false;
        return undefined;
      }
      if (c.replaying && ws.getBufferedAmount() >= replayLowWaterBytes) return undefined; // resumed on drain
      const seq = c.cursor + 1;
      const entry = entryAt(seq);
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

  const pump = (c: Client): void => {
    // A topic socket is fed by flush; whoever needs to write to it directly calls toDirect first.
    if (c.closed || c.group !== undefined) return;
    // A live socket with nothing queued skips the events it does not want without a cork: most
    // sockets of a filtered stream want few events.
    if (c.pending.length === 0 && !c.replaying) {
      const last = log.lastSeq;
      while (c.cursor < last) {
        const entry = entryAt(c.cursor + 1);
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

  /** Sends every socket what the batch holds for it. */
  const flush = (): void => {
    if (flushTimer !== undefined) {
      flushTimer.cancel();
      flushTimer = undefined;
    }
    if (batch.length === 0) return;
    // Closing a slow consumer deletes it from `clients` mid-loop, which Set iteration allows.
    for (const c of clients) pump(c); // direct sockets only
    for (const entry of batch) {
      for (const g of groups.values()) if (g.filter.matches(entry.event)) app.publish(g.topic, entry.wire, false);
    }
    // Every live socket is now at lastSeq; a replaying one reads the log from here on.
    batch = [];
    const last = log.lastSeq;
    for (const c of clients) {
      if (c.group !== undefined) c.cursor = last;
      else toTopic(c);
    }
    if (topicClients > 0) boundCheck ??= clock.setImmediate(checkTopicBounds);
  };

  const dropSlowConsumer = (c: Client, reason: SlowReason): void => {
    if (c.closed) return;
    metrics.wsDropped.inc();
    logger.warn('closing slow WebSocket consumer', {
      reason,
      bufferedBytes: c.ws.getBufferedAmount(),
      maxQueueBytes,
      cursor: c.cursor,
      lastSeq: log.lastSeq,
      pendingControl: c.pending.length,
    });
    c.ws.end(CLOSE_CODES.slowConsumer, SLOW_CONSUMER_REASON);
  };

  /**
   * Queues a control message without sending it. `afterEvents`: it must follow every event
   * received so far (task messages); otherwise it only keeps its place among control messages.
   * False when the socket was closed instead, for letting too many pile up.
   */
  const enqueue = (c: Client, message: string, options: { afterEvents?: boolean; endsTask?: string } = {}): boolean => {
    if (c.closed) return false;
    toDirect(c);
    if (c.pending.length >= MAX_PENDING_CONTROL) {
      dropSlowConsumer(c, 'control_backlog');
      return false;
    }
    const tail = c.pending.length > 0 ? c.pending[c.pending.length - 1]!.afterSeq : 0;
    const afterSeq = Math.max(options.afterEvents === true ? log.lastSeq : c.cursor, tail);
    c.pending.push({ afterSeq, message, endsTask: options.endsTask });
    return true;
  };

  const control = (c: Client, message: string, options?: { afterEvents?: boolean; endsTask?: string }): void => {
    if (enqueue(c, message, options)) pump(c);
  };

  // ------------------------------------------------------------ ops

  /**
   * New filters apply to events not yet sent; events of this turn still in the batch were received
   * under the old ones, so they go out first. False when the socket was closed meanwhile.
   */
  const catchUp = (c: Client): boolean => {
    toDirect(c);
    // A replaying socket is paced: what it has not been sent yet is not due under any filter.
    if (!c.replaying && c.cursor < log.lastSeq) pump(c);
    return !c.closed;
  };

  const subscribe = (c: Client, op: SubscribeOp): void => {
    if (!catchUp(c)) return;
    c.filter = compileFilter(op);
    c.filterKey = filterKey(op);
    if (op.since === undefined) {
      control(c, serverMessage.subscribed(log.lastSeq));
      return;
    }
    const replay = log.since(op.since);
    c.cursor = replay.gap ? replay.oldestSeq - 1 : op.since;
    c.replaying = true;
    // Control messages still waiting go out first, then the new stream starts.
    for (const p of c.pending) p.afterSeq = Math.min(p.afterSeq, c.cursor);
    if (!enqueue(c, serverMessage.subscribed(log.lastSeq))) return;
    if (replay.gap && !enqueue(c, serverMessage.gap(replay.oldestSeq))) return;
    pump(c);
  };

  const execute = async (c: Client, op: ExecuteOp): Promise<void> => {
    const rid = op.request_id;
    if (deps.lifecycle?.draining) {
      control(c, serverMessage.error('Aurora is shutting down', rid));
      return;
    }
    if (c.running >= MAX_TASKS_PER_SOCKET) {
      control(c, serverMessage.error(`at most ${MAX_TASKS_PER_SOCKET} tasks may run at once per socket`, rid));
      return;
    }
    const taskId = newTaskId();
    c.running++;
    toDirect(c); // its task's events reach it whatever its filters
    c.ownTasks.add(taskId);
    control(c, serverMessage.taskSubmitted(rid, taskId), { afterEvents: true });
    if (c.closed) return; // dropped for its backlog: nobody to run the task for
    let message: string;
    try {
      const result = await runTask(deps, { task_id: taskId, agent: op.agent, prompt: op.prompt, parameters: op.parameters });
      message = serverMessage.taskResult(rid, taskId, result);
    } catch (err) {
      if (!isAuroraError(err)) logger.error('WebSocket task failed unexpectedly', { task_id: taskId, err });
      const payload = toErrorPayload(err);
      message = serverMessage.taskError(rid, taskId, payload.message, payload.code);
    } finally {
      c.running--;
    }
    control(c, message, { afterEvents: true, endsTask: taskId });
  };

  const onMessage = (c: Client, data: ArrayBuffer, isBinary: boolean): void => {
    if (isBinary) {
      c.ws.end(CLOSE_CODES.unsupportedData, 'binary frames are not supported');
      return;
    }
    if (data.byteLength > maxMessageBytes) {
      c.ws.end(CLOSE_CODES.tooBig, `message over ${maxMessageBytes} bytes`);
      return;
    }
    // The ArrayBuffer is only valid during this call: it is decoded right away.
    const parsed = parseClientMessage(Buffer.from(data).toString('utf8'), validateTask);
    if (!parsed.ok) {
      control(c, serverMessage.error(parsed.detail, parsed.request_id));
      return;
    }
    const op = parsed.value;
    switch (op.op) {
      case 'subscribe':
        if (!c.canReadEvents) {
          control(c, serverMessage.error('Missing scope: events:read'));
          return;
        }
        subscribe(c, op);
        return;
      case 'unsubscribe':
        if (!catchUp(c)) return;
        c.filter = MATCH_NOTHING;
        c.filterKey = NOTHING_KEY;
        control(c, serverMessage.unsubscribed(log.lastSeq));
        return;
      case 'ping':
        control(c, serverMessage.pong());
        return;
      case 'execute':
        if (!c.canExecute) {
          control(c, serverMessage.error('Missing scope: tasks:execute', op.request_id));
          return;
        }
        execute(c, op).catch((err: unknown) => logger.error('WebSocket execute failed', { err }));
        return;
    }
  };

  // ------------------------------------------------------------ bus → sockets

  const onBusEvent = (msg: BusMessage): void => {
    if (stopped) return;
    const event = msg.data;
    if (!isAuroraEvent(event)) {
      logger.warn('dropping malformed event from the bus', { subject: msg.subject });
      return;
    }
    const entry = log.append(event);
    if (clients.size === 0) {
      // Nobody to send it to: a socket opened later starts after it (or replays it from the log).
      batch = [];
      return;
    }
    batch.push(entry);
    if (batch.length >= MAX_BATCH_EVENTS) flush();
    else flushTimer ??= clock.setImmediate(flush);
  };

  // Events are listened to only while someone may want them: from the first socket until
  // STREAM_LINGER_MS after the last one closed (so reconnects replay exactly). A gateway nobody
  // watches then receives and decodes no events at all. Over NATS the new subscription reaches the
  // server before anything this gateway sends afterwards (one connection, in order), so the events
  // of a task a client starts after connecting are never missed.
  let subscription: Subscription | undefined;
  let lingerTimer: Timer | undefined;
  const listen = (): void => {
    if (lingerTimer !== undefined) {
      lingerTimer.cancel();
      lingerTimer = undefined;
    }
    if (subscription !== undefined || stopped) return;
    subscription = bus.subscribe(subjects.eventsAll(), onBusEvent);
    metrics.streamListening.set(1);
  };
  const stopListening = (): void => {
    lingerTimer?.cancel();
    lingerTimer = undefined;
    if (subscription === undefined) return;
    subscription.unsubscribe();
    subscription = undefined;
    metrics.streamListening.set(0);
    // What arrives meanwhile is not recorded: cursors from before must hear of a gap.
    log.breakHere();
  };
  const lingerAfterLastSocket = (): void => {
    if (clients.size > 0 || subscription === undefined || lingerTimer !== undefined) return;
    lingerTimer = clock.setTimeout(() => {
      lingerTimer = undefined;
      if (clients.size === 0) stopListening();
    }, config.streamLingerMs);
  };

  // ------------------------------------------------------------ auth

  /** An upgrade answered with an HTTP error: the same security headers and request id as any REST answer. */
  const refuse = (res: HttpResponse, requestId: string, status: ErrorStatus, detail: string, headers?: Headers): void => {
    writeResponse(res, standaloneErrorResponse(status, detail, requestId, headers), 'GET', false);
  };

  // The system clock holds a timer at most MAX_TIMER_MS (about 24.8 days): a later expiry re-arms.
  const armExpiry = (c: Client, atMs: number): void => {
    c.expiryTimer = clock.setTimeout(() => {
      c.expiryTimer = undefined;
      if (c.closed) return;
      if (clock.now() < atMs) armExpiry(c, atMs);
      else c.ws.end(TOKEN_EXPIRED_CLOSE.code, TOKEN_EXPIRED_CLOSE.reason);
    }, atMs - clock.now());
  };

  // ------------------------------------------------------------ uWS wiring

  app.ws<UserData>(STREAM_PATH, {
    compression: 0, // uWS.DISABLED: events are small and the CPU is better spent elsewhere.
    // Bigger frames are refused by uWS itself (no close frame); up to this we answer with 1009.
    maxPayloadLength: maxMessageBytes * 2,
    // Off: the queue bound is ours (maxQueueBytes, checked after every send), never a silent drop.
    maxBackpressure: 0,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade: (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
      const requestId = acceptRequestId(req.getHeader(REQUEST_ID_HEADER) || undefined);
      if (stopped) {
        refuse(res, requestId, statusOf('unavailable'), 'server is shutting down');
        return;
      }
      const query = parseStreamQuery(req.getQuery() ?? '');
      if (!query.ok) {
        refuse(res, requestId, statusOf('invalid_request'), query.detail);
        return;
      }
      // Copied now: `req` dies with this callback, and the token check may await a JWKS fetch.
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const initial = query.value;
      if (!auth.enabled) {
        res.upgrade<UserData>({ initial, client: undefined, principal: null }, key, protocol, extensions, context);
        return;
      }
      const authorization = req.getHeader('authorization');
      const credentials = {
        authorization: authorization === '' ? undefined : authorization,
        queryTokens: queryTokens(req.getQuery() ?? ''),
      };
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      const answer = (outcome: AuthOutcome): void => {
        if (aborted) return;
        res.cork(() => {
          if (stopped) refuse(res, requestId, statusOf('unavailable'), 'server is shutting down');
          else if (!outcome.ok) refuse(res, requestId, outcome.status, outcome.detail, outcome.headers);
          else res.upgrade<UserData>({ initial, client: undefined, principal: outcome.principal }, key, protocol, extensions, context);
        });
      };
      auth.check(credentials, STREAM_REQUIREMENT).then(answer, (err: unknown) => {
        // check() never rejects; reaching this is a bug in it, answered like any defect.
        logger.error('WebSocket token check failed', { err });
        if (!aborted) res.cork(() => refuse(res, requestId, statusOf('internal'), 'Internal server error'));
      });
    },
    open: (ws) => {
      const userData = ws.getUserData();
      const { principal } = userData;
      const c: Client = {
        ws,
        closed: false,
        filter: MATCH_NOTHING,
        filterKey: NOTHING_KEY,
        group: undefined,
        ownTasks: new Set(),
        running: 0,
        cursor: log.lastSeq,
        replaying: false,
        pending: [],
        canReadEvents: principal === null || grants(principal.scopes, 'events:read'),
        canExecute: principal === null || grants(principal.scopes, 'tasks:execute'),
        expiryTimer: undefined,
      };
      userData.client = c;
      clients.add(c);
      listen();
      ws.subscribe(KEEP_TOPIC);
      metrics.wsClients.inc();
      if (principal !== null) armExpiry(c, principal.expiresAtMs);
      if (c.canReadEvents) subscribe(c, userData.initial);
      else control(c, serverMessage.error('Missing scope: events:read: this socket receives only the events of tasks it starts'));
    },
    message: (ws, data, isBinary) => {
      const c = ws.getUserData().client;
      if (c !== undefined && !c.closed) onMessage(c, data, isBinary);
    },
    drain: (ws) => {
      const c = ws.getUserData().client;
      if (c !== undefined) pump(c);
    },
    close: (ws) => {
      const c = ws.getUserData().client;
      if (c === undefined || c.closed) return;
      c.closed = true;
      clients.delete(c);
      toDirect(c);
      c.pending.length = 0;
      c.ownTasks.clear();
      c.expiryTimer?.cancel();
      metrics.wsClients.dec();
      lingerAfterLastSocket();
    },
  });

  return {
    close() {
      if (stopped) return;
      stopped = true;
      stopListening();
      flushTimer?.cancel();
      boundCheck?.cancel();
      flushTimer = undefined;
      batch = [];
      for (const c of [...clients]) {
        if (!c.closed) c.ws.end(CLOSE_CODES.goingAway, 'server shutting down');
      }
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
