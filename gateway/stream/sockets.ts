// A socket's life on the stream: the upgrade (its query and its token), open, close, the end of
// its token, and the bus subscription that lives as long as someone may want events.
//
// Auth (AUTH_ENABLED): the upgrade needs a valid token, in `Authorization: Bearer` or, since
// browsers cannot set headers on a WebSocket, `?access_token=` (unauthorized refuses the upgrade;
// forbidden when the token may neither read events nor execute). Without events:read a socket
// receives no events except those of tasks it started itself; without tasks:execute the execute
// op is refused. A socket is closed with 4401 "token expired" when its token runs out.
// Without auth, an upgrade from a browser page of another origin not in CORS_ORIGINS is refused
// with 403 (gateway/origin-guard.ts): it could run tasks and read every event.
import type { HttpRequest, HttpResponse, TemplatedApp, us_socket_context_t } from 'uWebSockets.js';
import type { Subscription } from '../../runtime/bus/bus.js';
import type { Timer } from '../../runtime/clock.js';
import { queryTokens, type Authenticator, type AuthOutcome } from '../auth.js';
import { createCors } from '../cors.js';
import type { GatewayDeps } from '../deps.js';
import { standaloneErrorResponse, statusOf, type ErrorStatus } from '../error-response.js';
import type { Headers } from '../http.js';
import { eventTypes } from '../kinds.js';
import { createOriginGuard } from '../origin-guard.js';
import { acceptRequestId, REQUEST_ID_HEADER } from '../request-id.js';
import {
  CLOSE_CODES,
  STREAM_PATH,
  STREAM_REQUIREMENT,
  TOKEN_EXPIRED_CLOSE,
  parseStreamQuery,
  serverMessage,
} from '../stream-protocol.js';
import { writeResponse } from '../uws.js';
import { newClient, type StreamClient, type UserData } from './client.js';
import type { Delivery } from './delivery.js';
import type { FanOut } from './fan-out.js';
import type { Feed } from './feed.js';
import type { Ops } from './ops.js';
import type { Topics } from './topics.js';

export interface StreamSockets {
  /** Refuses new upgrades, stops listening to the bus and closes every socket with 1001. */
  close(): void;
}

export interface SocketsDeps {
  readonly deps: GatewayDeps;
  readonly auth: Authenticator;
  /** Every open socket; added and removed here only. */
  readonly clients: Set<StreamClient>;
  readonly feed: Feed;
  readonly topics: Topics;
  readonly delivery: Delivery;
  readonly fanOut: FanOut;
  readonly ops: Ops;
}

export function openSockets(app: TemplatedApp, parts: SocketsDeps): StreamSockets {
  const { deps, auth, clients, feed, topics, delivery, fanOut, ops } = parts;
  const { bus, subjects, config, metrics, logger, clock } = deps;
  const knownTypes = eventTypes(deps.kinds);
  const originGuard = createOriginGuard(auth.enabled, createCors(config.corsOrigins));
  let stopped = false;

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
    subscription = bus.subscribe(subjects.eventsAll(), fanOut.onBusEvent);
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
    feed.breakHere();
  };
  // Events published while the bus was disconnected may be lost (NATS core keeps nothing), so a blip
  // is a gap like a pause in listening: cursors from before hear of it on replay, and every open
  // socket is told at once with replay.gap instead of missing events silently.
  const stopWatchingBus = bus.onConnectionChange((connected) => {
    if (!connected || subscription === undefined || stopped) return;
    feed.breakHere();
    const oldestSeq = feed.lastSeq + 1;
    logger.warn('events published while the bus was disconnected may be lost; stream clients are told of the gap', {
      sockets: clients.size,
      oldest_seq: oldestSeq,
    });
    for (const c of [...clients]) {
      if (c.closed) continue;
      // Whatever it had left to replay is gone with the window; it goes on from the first new event.
      c.cursor = feed.lastSeq;
      c.replaying = false;
      delivery.control(c, serverMessage.gap(oldestSeq));
    }
  });
  const lingerAfterLastSocket = (): void => {
    if (clients.size > 0 || subscription === undefined || lingerTimer !== undefined) return;
    lingerTimer = clock.setTimeout(() => {
      lingerTimer = undefined;
      if (clients.size === 0) stopListening();
    }, config.streamLingerMs);
  };

  /** An upgrade answered with an HTTP error: the same security headers and request id as any REST answer. */
  const refuse = (res: HttpResponse, requestId: string, status: ErrorStatus, detail: string, headers?: Headers): void => {
    writeResponse(res, standaloneErrorResponse(status, detail, requestId, headers), 'GET', false);
  };

  // The system clock holds a timer at most MAX_TIMER_MS (about 24.8 days): a later expiry re-arms.
  const armExpiry = (c: StreamClient, atMs: number): void => {
    c.expiryTimer = clock.setTimeout(() => {
      c.expiryTimer = undefined;
      if (c.closed) return;
      if (clock.now() < atMs) armExpiry(c, atMs);
      else c.ws.end(TOKEN_EXPIRED_CLOSE.code, TOKEN_EXPIRED_CLOSE.reason);
    }, atMs - clock.now());
  };

  const maxMessageBytes = config.maxBodyBytes;
  app.ws<UserData>(STREAM_PATH, {
    compression: 0, // uWS.DISABLED: events are small and the CPU is better spent elsewhere.
    // Bigger frames are refused by uWS itself (no close frame); up to this we answer with 1009.
    maxPayloadLength: maxMessageBytes * 2,
    // Off: the queue bound is ours (WS_MAX_QUEUE_BYTES, checked after every send), never a silent drop.
    maxBackpressure: 0,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade: (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
      const requestId = acceptRequestId(req.getHeader(REQUEST_ID_HEADER) || undefined);
      if (stopped) {
        refuse(res, requestId, statusOf('unavailable'), 'server is shutting down');
        return;
      }
      const query = parseStreamQuery(req.getQuery() ?? '', knownTypes);
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
        const origin = req.getHeader('origin');
        const crossSite = origin === '' ? undefined : originGuard?.upgradeRefusal({ origin, host: req.getHeader('host') });
        if (crossSite !== undefined) {
          refuse(res, requestId, statusOf('forbidden'), crossSite);
          return;
        }
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
      const c = newClient(ws, principal, feed.lastSeq);
      userData.client = c;
      clients.add(c);
      listen();
      topics.keep(ws);
      metrics.wsClients.inc();
      if (principal !== null) armExpiry(c, principal.expiresAtMs);
      if (c.canReadEvents) ops.subscribe(c, userData.initial);
      else delivery.control(c, serverMessage.error('Missing scope: events:read: this socket receives only the events of tasks it starts'));
    },
    message: (ws, data, isBinary) => {
      const c = ws.getUserData().client;
      if (c !== undefined && !c.closed) ops.onMessage(c, data, isBinary);
    },
    drain: (ws) => {
      const c = ws.getUserData().client;
      if (c !== undefined) delivery.pump(c);
    },
    close: (ws) => {
      const c = ws.getUserData().client;
      if (c === undefined || c.closed) return;
      c.closed = true;
      clients.delete(c);
      topics.leave(c);
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
      stopWatchingBus();
      stopListening();
      for (const c of [...clients]) {
        if (!c.closed) c.ws.end(CLOSE_CODES.goingAway, 'server shutting down');
      }
    },
  };
}
