// Starts the gateway: one uWS app with the REST routes and the WebSocket stream, on host:port.
import type { GatewayDeps } from './deps.js';
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
  /** Closes the listen socket, the stream and every open connection. Idempotent. */
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { host, port, ...deps } = options;
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
    close() {
      closing ??= (async () => {
        stream.close();
        server.close();
      })();
      return closing;
    },
  };
}
