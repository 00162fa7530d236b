// Starts the gateway: one uWS app with the REST routes and the WebSocket stream, on host:port.
import type { GatewayDeps, GatewayLifecycle } from './deps.js';
import { createDispatcher } from './dispatch.js';
import { registerStream } from './stream.js';
import { attachHttp, createUwsApp, listen } from './uws.js';

export interface GatewayOptions extends GatewayDeps {
  readonly host: string;
  /** 0 picks a free port; the one chosen is returned. */
  readonly port: number;
}

export interface Gateway {
  readonly port: number;
  /** Readiness turns 503 and new work is refused; requests already running carry on. */
  drain(): void;
  /** Closes the listen socket, the stream and every open connection. Idempotent. */
  close(): Promise<void>;
}

/** Longest close() waits for in-flight HTTP answers. */
const CLOSE_WAIT_MS = 5_000;

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { host, port, ...rest } = options;
  const lifecycle: GatewayLifecycle = rest.lifecycle ?? { draining: false };
  const deps: GatewayDeps = { ...rest, lifecycle };
  const app = createUwsApp();
  // Compiles every schema now, so a bad schema fails startup rather than the first request.
  const dispatcher = createDispatcher(deps);
  const stream = registerStream(app, deps);
  attachHttp(app, dispatcher, deps.logger);
  let listening;
  try {
    listening = await listen(app, host, port);
  } catch (err) {
    stream.close();
    throw err;
  }
  deps.logger.info('gateway listening', { host, port: listening.port });
  const server = listening;
  let closing: Promise<void> | undefined;
  return {
    port: server.port,
    drain() {
      lifecycle.draining = true;
    },
    close() {
      closing ??= (async () => {
        lifecycle.draining = true;
        // Answers still on their way (tasks ending in the grace period) are let out before the sockets close.
        const until = Date.now() + CLOSE_WAIT_MS;
        while (dispatcher.inFlight() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
        stream.close();
        server.close();
      })();
      return closing;
    },
  };
}
