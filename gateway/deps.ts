// What the gateway (REST handlers and the WebSocket stream) is given by the composition root.
// The gateway holds no agent state: everything it knows about agents, tasks and models it asks
// the runtime for over `bus`.
import type { Bus } from '../runtime/bus/bus.js';
import type { ClusterReader } from '../runtime/cluster/cluster-reader.js';
import type { Cache } from '../runtime/cache/cache.js';
import type { Clock } from '../runtime/clock.js';
import type { Config } from '../runtime/config.js';
import type { Logger } from '../runtime/logger.js';
import type { Metrics } from '../runtime/metrics.js';
import type { AgentKindDescriptor } from '../runtime/protocol/index.js';
import type { RateLimiter } from '../runtime/rate-limit/rate-limiter.js';
import type { Subjects } from '../runtime/subjects.js';
import type { TaskEvents } from './task-feed.js';

export interface GatewayDeps {
  readonly bus: Bus;
  readonly subjects: Subjects;
  readonly config: Config;
  /** The agent kinds served (names, providers, config schemas, event types); never their machines. */
  readonly kinds: readonly AgentKindDescriptor[];
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Only `ping()` is used, by the readiness probe. */
  readonly cache: Cache;
  /** Every timestamp, duration and timer of the gateway; bin/aurora.ts passes the system clock. */
  readonly clock: Clock;
  /** When the process started, milliseconds since the epoch. */
  readonly startedAt: number;
  readonly version: string;
  /** Required when config.rateLimitEnabled: Redis-backed (shared by every gateway) or in memory. */
  readonly rateLimiter?: RateLimiter;
  /** Set by Gateway.drain(): readiness turns 503 and new work is refused while in-flight work ends. */
  readonly lifecycle?: GatewayLifecycle;
  /** Per-task event feeds for Server-Sent Events; startGateway makes them (absent: those routes answer 503). */
  readonly taskEvents?: TaskEvents;
  /** Where this gateway serves the dashboard, when it does: `GET /` redirects browsers there. */
  readonly uiPath?: string;
  /** GET /api/v1/cluster reads it (the namespace's KV bucket, or this process alone when embedded). */
  readonly cluster?: ClusterReader;
}

export interface GatewayLifecycle {
  draining: boolean;
}
