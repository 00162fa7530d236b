// The WebSocket event stream at /api/v1/stream. The wire protocol is in stream-protocol.ts; the
// parts that serve it are in stream/, and this file puts them together.
//
// One bus subscription (subjects.eventsAll(), held while sockets are open; stream/sockets.ts)
// feeds the replay window, which stamps each event with a seq and serialises it once
// (stream/feed.ts); every socket then reads it through its own cursor (stream/client.ts):
//   - a live socket is sent the new events that pass its filters once per event-loop turn
//     (stream/fan-out.ts): a burst of bus events becomes one cork, hence one write, per socket;
//   - a live socket with nothing of its own in flight (no control message waiting, no task it
//     started, no replay) is moved onto a uWS topic shared by every socket with the same filters
//     (stream/topics.ts): each event is then published once per distinct filter and fanned out by
//     uWS, not sent from JS once per socket;
//   - a socket replaying from `since`, or waiting for a control message, is written to directly
//     and paced by its backpressure; one that cannot keep up is closed (stream/delivery.ts);
//   - what a client asks for (subscribe, unsubscribe, execute, ping) is stream/ops.ts.
import type { TemplatedApp } from 'uWebSockets.js';
import { createAuthenticator, type Authenticator } from './auth.js';
import type { GatewayDeps } from './deps.js';
import { compileCodecs } from './schemas.js';
import type { StreamClient } from './stream/client.js';
import { createDelivery } from './stream/delivery.js';
import { createFanOut } from './stream/fan-out.js';
import { createFeed } from './stream/feed.js';
import { createOps } from './stream/ops.js';
import { openSockets } from './stream/sockets.js';
import { createTopics } from './stream/topics.js';

// Importers have always found these here.
export { STREAM_PATH, STREAM_REQUIREMENT, TOKEN_EXPIRED_CLOSE } from './stream-protocol.js';

export interface StreamOptions {
  /** The bearer-token check; built from config when not given (startGateway shares one with REST). */
  readonly auth?: Authenticator;
}

export function registerStream(app: TemplatedApp, deps: GatewayDeps, options: StreamOptions = {}): { close(): void } {
  const { config, metrics, logger, clock } = deps;
  const codecs = compileCodecs();
  const auth = options.auth ?? createAuthenticator(config, { logger, now: () => clock.now() });
  const maxQueueBytes = config.wsMaxQueueBytes;
  const clients = new Set<StreamClient>();
  const feed = createFeed(config.eventReplaySize);
  const topics = createTopics(app);
  const delivery = createDelivery({ feed, topics, metrics, logger, maxQueueBytes });
  const fanOut = createFanOut({ feed, topics, delivery, clients, clock, logger, maxQueueBytes });
  const ops = createOps({ deps, feed, topics, delivery, validateTask: (body) => codecs.validate('TaskExecuteRequest', body) });
  const sockets = openSockets(app, { deps, auth, clients, feed, topics, delivery, fanOut, ops });
  return {
    close() {
      fanOut.close();
      sockets.close();
    },
  };
}
