// The WebSocket event stream at /api/v1/stream. The wire protocol is in stream-protocol.ts.
//
// One bus subscription (subjects.eventsAll()) feeds an EventLog that stamps each event with a seq
// and serialises it once; every socket then reads that log through its own cursor:
//   - a live socket is sent each new event that passes its filters as it arrives;
//   - a socket replaying from `since` is paced: it is sent events while uWS holds less than half
//     of WS_MAX_QUEUE_BYTES for it, and resumes on `drain` (or on the next event). Live events
//     that arrive meanwhile are simply later entries of the same log, so replay turns into live
//     with no gap and no duplicate.
// Control messages (subscribed, pong, error, task.*) wait in a short per-socket queue, each
// tagged with the seq it must follow, so a task.result never overtakes that task's events.
//
// Backpressure: uWS buffers what the kernel does not take (maxBackpressure is off so uWS never
// drops silently). After each send, a socket holding more than WS_MAX_QUEUE_BYTES is closed with
// 4008 "slow consumer" and aurora_ws_slow_consumers_closed_total grows; so is a replaying socket
// whose next event has already left the replay window.
//
// uWS rules kept here: a socket is never touched after its close handler ran (`closed`), writes
// to one socket are corked together, and end() is never called inside a cork.
import type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_socket_context_t } from 'uWebSockets.js';
import type { AuroraEvent } from '../actors/protocol.js';
import type { BusMessage } from '../runtime/bus/bus.js';
import { isAuroraError, toErrorPayload } from '../runtime/errors.js';
import { newTaskId } from '../runtime/ids.js';
import type { GatewayDeps } from './deps.js';
import { createEventLog, type LoggedEvent } from './event-log.js';
import { compileCodecs } from './schemas.js';
import { runTask } from './service-client.js';
import {
  CLOSE_CODES,
  MATCH_NOTHING,
  MAX_TASKS_PER_SOCKET,
  SLOW_CONSUMER_REASON,
  compileFilter,
  parseClientMessage,
  parseStreamQuery,
  serverMessage,
  type EventFilter,
  type ExecuteOp,
  type SubscribeOp,
  type TaskValidator,
} from './stream-protocol.js';

export const STREAM_PATH = '/api/v1/stream';

/** Control messages a socket may have waiting (only a replaying socket queues any). */
const MAX_PENDING_CONTROL = 256;

interface PendingControl {
  /** Sent once every event up to this seq has been considered for the socket. */
  afterSeq: number;
  readonly message: string;
  /** Set on a task's final message: its events stop following the socket once it is sent. */
  readonly endsTask: string | undefined;
}

interface Client {
  readonly ws: WebSocket<UserData>;
  closed: boolean;
  filter: EventFilter;
  /** Tasks started by this socket: their events reach it whatever its filters. */
  readonly ownTasks: Set<string>;
  /** Tasks started here still waiting for their reply. */
  running: number;
  /** Seq of the last event considered for this socket (sent or filtered out). */
  cursor: number;
  /** True from a `since` until the cursor reaches the newest event: sends are paced. */
  replaying: boolean;
  readonly pending: PendingControl[];
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
}

export function registerStream(app: TemplatedApp, deps: GatewayDeps): { close(): void } {
  const { bus, subjects, config, metrics, logger } = deps;
  const log = createEventLog(config.eventReplaySize);
  const clients = new Set<Client>();
  const maxQueueBytes = config.wsMaxQueueBytes;
  const replayLowWaterBytes = Math.floor(maxQueueBytes / 2);
  const maxMessageBytes = config.maxBodyBytes;
  const codecs = compileCodecs();
  const validateTask: TaskValidator = (body) => codecs.validate('TaskExecuteRequest', body);
  let stopped = false;

  // ------------------------------------------------------------ sending

  const wants = (c: Client, e: AuroraEvent): boolean =>
    c.filter.matches(e) || (e.task_id !== undefined && c.ownTasks.size > 0 && c.ownTasks.has(e.task_id));

  /**
   * Writes what is due to one socket: control messages whose turn has come and events after its
   * cursor. Returns why the socket must be dropped as too slow, or undefined.
   */
  const writeDue = (c: Client, fresh: LoggedEvent | undefined): SlowReason | undefined => {
    const ws = c.ws;
    for (;;) {
      while (c.pending.length > 0 && c.pending[0]!.afterSeq <= c.cursor) {
        const p = c.pending.shift()!;
        if (p.endsTask !== undefined) c.ownTasks.delete(p.endsTask);
        ws.send(p.message, false, false);
        if (c.closed) return undefined;
        if (ws.getBufferedAmount() > maxQueueBytes) return 'queue_full';
      }
      if (c.cursor >= log.lastSeq) {
        c.replaying = false;
        return undefined;
      }
      if (c.replaying && ws.getBufferedAmount() >= replayLowWaterBytes) return undefined; // resumed on drain
      const seq = c.cursor + 1;
      const entry = fresh !== undefined && fresh.seq === seq ? fresh : log.at(seq);
      if (entry === undefined) return 'overtaken';
      c.cursor = seq;
      if (wants(c, entry.event)) {
        ws.send(entry.wire, false, false);
        if (c.closed) return undefined;
        if (ws.getBufferedAmount() > maxQueueBytes) return 'queue_full';
      }
    }
  };

  const pump = (c: Client, fresh?: LoggedEvent): void => {
    if (c.closed) return;
    // Fast path for the common case, a live socket that does not want this event: no cork.
    if (fresh !== undefined && c.cursor === fresh.seq - 1 && c.pending.length === 0 && !wants(c, fresh.event)) {
      c.cursor = fresh.seq;
      return;
    }
    let slow: SlowReason | undefined;
    c.ws.cork(() => {
      slow = writeDue(c, fresh);
    });
    // Never inside the cork: end() runs the close handler at once.
    if (slow !== undefined) dropSlowConsumer(c, slow);
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

  const subscribe = (c: Client, op: SubscribeOp): void => {
    c.filter = compileFilter(op);
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
        subscribe(c, op);
        return;
      case 'unsubscribe':
        c.filter = MATCH_NOTHING;
        control(c, serverMessage.unsubscribed(log.lastSeq));
        return;
      case 'ping':
        control(c, serverMessage.pong());
        return;
      case 'execute':
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
    for (const c of clients) pump(c, entry);
  };

  const subscription = bus.subscribe(subjects.eventsAll(), onBusEvent);

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
      if (stopped) {
        res.writeStatus('503 Service Unavailable').writeHeader('content-type', 'application/json');
        res.end(JSON.stringify({ detail: 'server is shutting down' }));
        return;
      }
      const query = parseStreamQuery(req.getQuery() ?? '');
      if (!query.ok) {
        res.writeStatus('400 Bad Request').writeHeader('content-type', 'application/json');
        res.end(JSON.stringify({ detail: query.detail }));
        return;
      }
      const userData: UserData = { initial: query.value, client: undefined };
      res.upgrade(
        userData,
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open: (ws) => {
      const userData = ws.getUserData();
      const c: Client = {
        ws,
        closed: false,
        filter: MATCH_NOTHING,
        ownTasks: new Set(),
        running: 0,
        cursor: log.lastSeq,
        replaying: false,
        pending: [],
      };
      userData.client = c;
      clients.add(c);
      metrics.wsClients.inc();
      subscribe(c, userData.initial);
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
      c.pending.length = 0;
      c.ownTasks.clear();
      metrics.wsClients.dec();
    },
  });

  return {
    close() {
      if (stopped) return;
      stopped = true;
      subscription.unsubscribe();
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
