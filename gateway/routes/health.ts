// Service identity and the Kubernetes probes. Readiness asks the runtime (store, LLM provider)
// over the bus and pings the cache, each bounded by a short timeout, so a hung dependency makes
// the probe answer 503 quickly instead of hanging the kubelet. When the bus or the node behind it
// cannot be reached, only `bus` is down: the database and the LLM are unknown (null), not blamed.
import { isoNow, type Clock } from '../../runtime/clock.js';
import { isAuroraError } from '../../runtime/errors.js';
import type { GatewayDeps } from '../deps.js';
import { statusOf } from '../error-response.js';
import type { HandlerRequest, HandlerResponse } from '../http.js';
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
  /** null: unknown, because the node that checks it could not be asked (see `bus`). */
  database: boolean | null;
  bus: boolean;
  cache: boolean;
  /** null: unknown, like `database`. */
  llm: boolean | null;
}

export interface Readiness {
  readonly checks: ReadyChecks;
  /** Why `bus` is false, when it is: what an operator should look at. */
  readonly busProblem?: string;
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

type RuntimeCheck = { reached: true; database: boolean; llm: boolean } | { reached: false; why: string };

/**
 * The node's own checks, asked over the bus. A bus that is not connected is not asked at all:
 * the answer could only be a timeout, and the probe should be quick and say what is down.
 */
async function askRuntime(deps: GatewayDeps, probeMs: number): Promise<RuntimeCheck> {
  if (!deps.bus.isConnected()) return { reached: false, why: 'not connected' };
  try {
    const report = await ask(deps, 'health.check', {}, probeMs);
    return { reached: true, database: report.database === true, llm: report.llm === true };
  } catch (err) {
    if (isAuroraError(err) && BUS_FAILURES.has(err.code)) {
      return { reached: false, why: err.code === 'no_responders' ? 'connected, but no node answers' : 'connected, but no node answered in time' };
    }
    // The node answered, with an error of its own: it is up, its checks failed.
    return { reached: true, database: false, llm: false };
  }
}

export async function readiness(deps: GatewayDeps): Promise<Readiness> {
  const probeMs = Math.min(READY_CHECK_TIMEOUT_MS, deps.config.busRequestTimeoutMs);
  const [runtime, cache] = await Promise.all([
    askRuntime(deps, probeMs),
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
  if (!runtime.reached) {
    return { checks: { database: null, bus: false, cache, llm: null }, busProblem: runtime.why };
  }
  return { checks: { database: runtime.database, bus: true, cache, llm: runtime.llm } };
}

/** A browser's navigation asks for HTML first; API clients ask for JSON or anything. */
const wantsHtml = (accept: string | undefined): boolean => accept !== undefined && /(^|,)\s*text\/html/i.test(accept);

// The answer depends on Accept, so caches keep the two apart (Vary).
const root = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => {
  if (deps.uiPath !== undefined && wantsHtml(req.headers.accept)) {
    return { status: 302, body: '', headers: { location: deps.uiPath, vary: 'accept' } };
  }
  return { status: 200, body: { name: 'Aurora Pro AI', version: deps.version, status: 'running' }, headers: { vary: 'accept' } };
};

const health = async (_req: unknown, deps: GatewayDeps): Promise<HandlerResponse> => ({
  status: 200,
  body: { status: 'healthy', timestamp: isoNow(deps.clock), service: SERVICE_NAME },
});

/**
 * "Not ready: bus (not connected; database and llm unknown: the node checks them over the bus)".
 * Only checks that are false are named as down; unknown ones (null) are said to be unknown.
 */
export function notReadyDetail({ checks, busProblem }: Readiness): string | undefined {
  const keys = Object.keys(checks) as (keyof ReadyChecks)[];
  const down = keys.filter((k) => checks[k] === false);
  const unknown = keys.filter((k) => checks[k] === null);
  if (down.length === 0) return undefined;
  const named = down.map((k) => (k === 'bus' && busProblem !== undefined ? `bus (${busProblem})` : k));
  const suffix = unknown.length === 0 ? '' : `; ${unknown.join(' and ')} unknown: the node checks them over the bus`;
  return `Not ready: ${named.join(', ')}${suffix}`;
}

const ready = async (_req: unknown, deps: GatewayDeps): Promise<HandlerResponse> => {
  const result = await readiness(deps);
  const { checks } = result;
  const timestamp = isoNow(deps.clock);
  if (deps.lifecycle?.draining) {
    return { status: NOT_READY, body: { status: 'not_ready', checks, timestamp, detail: 'Not ready: shutting down' } };
  }
  const detail = notReadyDetail(result);
  if (detail === undefined) return { status: 200, body: { status: 'ready', checks, timestamp } };
  return { status: NOT_READY, body: { status: 'not_ready', checks, timestamp, detail } };
};

export const healthRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/',
    handler: root,
    responses: { 200: 'Root', 302: 'Text' },
    summary: 'Service name and version; a browser (Accept: text/html) is redirected to the dashboard',
  }),
  route({ method: 'GET', path: '/health/', handler: health, responses: { 200: 'Health' }, summary: 'Basic health' }),
  constantRoute({
    method: 'GET',
    path: '/health/live',
    answer: { status: 200, body: { status: 'alive' } },
    responses: { 200: 'Alive' },
    summary: 'Liveness probe',
  }),
  // The gateway answers only once it listens, so any answer at all means startup is done.
  constantRoute({
    method: 'GET',
    path: '/health/startup',
    answer: { status: 200, body: { status: 'started' } },
    responses: { 200: 'Started' },
    summary: 'Startup probe',
  }),
  route({
    method: 'GET',
    path: '/health/ready',
    handler: ready,
    responses: { 200: 'Ready', [NOT_READY]: 'NotReady' },
    summary: 'Readiness probe with dependency checks',
  }),
];
