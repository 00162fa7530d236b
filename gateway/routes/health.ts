// Service identity and the Kubernetes probes. Readiness asks the runtime (store, LLM provider)
// over the bus and pings the cache, each bounded by a short timeout, so a hung dependency makes
// the probe answer 503 quickly instead of hanging the kubelet.
import { isoNow, type Clock } from '../../runtime/clock.js';
import { isAuroraError } from '../../runtime/errors.js';
import type { GatewayDeps } from '../deps.js';
import { statusOf } from '../error-response.js';
import type { HandlerResponse } from '../http.js';
import { constantRoute, route, type Route } from '../router.js';
import { ask } from '../service-client.js';

export const SERVICE_NAME = 'aurora-pro-ai';
/** Upper bound of each readiness check. */
export const READY_CHECK_TIMEOUT_MS = 1000;
/** Transport-level failures: the runtime could not be reached at all. */
const BUS_FAILURES = new Set(['no_responders', 'bus_timeout', 'unavailable']);

/** Not ready is the table's `unavailable`, answered with the Ready body rather than `{"detail"}`. */
const NOT_READY = statusOf('unavailable');

export interface ReadyChecks {
  database: boolean;
  bus: boolean;
  cache: boolean;
  llm: boolean;
}

function withTimeout<T>(clock: Clock, promise: Promise<T>, ms: number, onTimeout: T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => resolve(onTimeout), ms);
    promise.then(
      (value) => {
        timer.cancel();
        resolve(value);
      },
      (err: unknown) => {
        timer.cancel();
        reject(err);
      },
    );
  });
}

export async function readiness(deps: GatewayDeps): Promise<ReadyChecks> {
  const probeMs = Math.min(READY_CHECK_TIMEOUT_MS, deps.config.busRequestTimeoutMs);
  const [runtime, cache] = await Promise.all([
    ask(deps, 'health.check', {}, probeMs).then(
      (report) => ({ reached: true, database: report.database === true, llm: report.llm === true }),
      (err: unknown) => ({
        reached: !(isAuroraError(err) && BUS_FAILURES.has(err.code)),
        database: false,
        llm: false,
      }),
    ),
    withTimeout(
      deps.clock,
      Promise.resolve().then(() => deps.cache.ping()),
      probeMs,
      false,
    ).then(
      (ok) => ok === true,
      () => false,
    ),
  ]);
  return {
    database: runtime.database,
    bus: deps.bus.isConnected() && runtime.reached,
    cache,
    llm: runtime.llm,
  };
}

const root = async (_req: unknown, deps: GatewayDeps): Promise<HandlerResponse> => ({
  status: 200,
  body: { name: 'Aurora Pro AI', version: deps.version, status: 'running' },
});

const health = async (_req: unknown, deps: GatewayDeps): Promise<HandlerResponse> => ({
  status: 200,
  body: { status: 'healthy', timestamp: isoNow(deps.clock), service: SERVICE_NAME },
});

const ready = async (_req: unknown, deps: GatewayDeps): Promise<HandlerResponse> => {
  const checks = await readiness(deps);
  const timestamp = isoNow(deps.clock);
  if (deps.lifecycle?.draining) {
    return { status: NOT_READY, body: { status: 'not_ready', checks, timestamp, detail: 'Not ready: shutting down' } };
  }
  const failing = (Object.keys(checks) as (keyof ReadyChecks)[]).filter((k) => !checks[k]);
  if (failing.length === 0) return { status: 200, body: { status: 'ready', checks, timestamp } };
  return {
    status: NOT_READY,
    body: { status: 'not_ready', checks, timestamp, detail: `Not ready: ${failing.join(', ')}` },
  };
};

export const healthRoutes: readonly Route[] = [
  route({ method: 'GET', path: '/', handler: root, responses: { 200: 'Root' }, summary: 'Service name and version' }),
  route({ method: 'GET', path: '/health/', handler: health, responses: { 200: 'Health' }, summary: 'Basic health' }),
  constantRoute({
    method: 'GET',
    path: '/health/live',
    answer: { status: 200, body: { status: 'alive' } },
    responses: { 200: 'Status' },
    summary: 'Liveness probe',
  }),
  // The gateway answers only once it listens, so any answer at all means startup is done.
  constantRoute({
    method: 'GET',
    path: '/health/startup',
    answer: { status: 200, body: { status: 'started' } },
    responses: { 200: 'Status' },
    summary: 'Startup probe',
  }),
  route({
    method: 'GET',
    path: '/health/ready',
    handler: ready,
    responses: { 200: 'Ready', [NOT_READY]: 'Ready' },
    summary: 'Readiness probe with dependency checks',
  }),
];
