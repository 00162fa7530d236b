// Starts the gateway: one uWS app with the REST routes and the WebSocket stream, on host:port.
import { sleep } from '../runtime/clock.js';
import { isLoopbackHost } from '../runtime/config.js';
import { createAuthenticator } from './auth.js';
import type { GatewayDeps, GatewayLifecycle } from './deps.js';
import { createDispatcher } from './dispatch.js';
import { createDocsSite } from './docs-site.js';
import { isRateLimitExempt } from './rate-limit.js';
import { docsRoutes } from './routes/docs.js';
import { API_ROUTES, OPS_ROUTES, servedRoutes } from './routes/index.js';
import { uiRoutes } from './routes/ui.js';
import { registerStream } from './stream.js';
import { createTaskEvents } from './task-events.js';
import { UI_PATH } from './ui-paths.js';
import { loadUiSite } from './ui-site.js';
import { attachHttp, createUwsApp, listen } from './uws.js';

export interface GatewayOptions extends GatewayDeps {
  readonly host: string;
  /** 0 picks a free port; the one chosen is returned. */
  readonly port: number;
  /**
   * `api` (default): the REST API, the event stream and the docs. `ops`: only the probes and
   * /metrics, for a process that hosts actors but leaves the API to separate gateways.
   */
  readonly surface?: 'api' | 'ops';
}

export interface Gateway {
  readonly port: number;
  /** Readiness turns 503 and new work is refused; requests already running carry on. */
  drain(): void;
  /** Closes the listen socket, the stream and every open connection. Idempotent. */
  close(): Promise<void>;
}

/** Longest close() waits for in-flight HTTP answers, and how often it looks. */
const CLOSE_WAIT_MS = 5_000;
const IN_FLIGHT_POLL_MS = 10;

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { host, port, surface = 'api', ...rest } = options;
  const api = surface === 'api';
  const lifecycle: GatewayLifecycle = rest.lifecycle ?? { draining: false };
  const { config, clock } = rest;
  // Built now, once: a missing docs package fails startup rather than a click on /docs.
  const docs = api && config.docsEnabled
    ? createDocsSite({
        version: rest.version,
        routes: API_ROUTES,
        access: config,
        rateLimited: (route) => config.rateLimitEnabled && !isRateLimitExempt(route.path),
        kinds: rest.kinds,
      })
    : undefined;
  // Absent when `npm run build` has not built it: the server runs without a dashboard.
  const ui = api ? loadUiSite() : undefined;
  const taskEvents = api ? (rest.taskEvents ?? createTaskEvents(rest)) : undefined;
  const deps: GatewayDeps = {
    ...rest,
    lifecycle,
    ...(taskEvents !== undefined && { taskEvents }),
    ...(ui !== undefined && { uiPath: UI_PATH }),
  };
  const app = createUwsApp();
  // Compiles every schema now, so a bad schema fails startup rather than the first request.
  // One authenticator for REST and the stream, so they share one JWKS cache.
  const auth = createAuthenticator(config, { logger: deps.logger, now: () => clock.now() });
  const dispatcher = createDispatcher(deps, { auth, routes: api ? servedRoutes(docsRoutes(docs), uiRoutes(ui)) : OPS_ROUTES });
  const stream = api ? registerStream(app, deps, { auth }) : undefined;
  attachHttp(app, dispatcher, deps);
  let listening;
  try {
    listening = await listen(app, host, port);
  } catch (err) {
    stream?.close();
    taskEvents?.close();
    throw err;
  }
  deps.logger.info('gateway listening', { host, port: listening.port });
  if (!deps.config.authEnabled && !isLoopbackHost(host)) {
    deps.logger.warn(
      `!!! AUTHENTICATION IS OFF on a non-loopback address (${host}): anyone who can reach port ${listening.port} ` +
        'can create and delete agents, run tasks and read every event. Set AUTH_ENABLED=true with JWT_SECRET, ' +
        'JWT_PUBLIC_KEY or JWT_JWKS_URL, or bind HOST=127.0.0.1. !!!',
      { host, port: listening.port, auth: 'disabled' },
    );
  }
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
        const until = clock.monotonic() + CLOSE_WAIT_MS;
        while (dispatcher.inFlight() > 0 && clock.monotonic() < until) await sleep(clock, IN_FLIGHT_POLL_MS);
        stream?.close();
        taskEvents?.close();
        server.close();
      })();
      return closing;
    },
  };
}
