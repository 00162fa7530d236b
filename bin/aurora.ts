// The composition root: config → bus → store → cache → rate limiter → supervisor tree → gateway.
// AURORA_ROLE=node leaves out the rate limiter and serves only probes and /metrics over HTTP;
// AURORA_ROLE=gateway leaves out the store and the supervisor tree; `all` runs everything.
import { readFileSync } from 'node:fs';
import { AGENT_KINDS } from '../actors/catalog.js';
import { describeKind, type AgentKind } from '../actors/kind.js';
import { assertPortFree } from '../gateway/port-check.js';
import { startGateway, type Gateway } from '../gateway/server.js';
import { createBus } from '../runtime/bus/index.js';
import { createCache } from '../runtime/cache/index.js';
import { createClusterReader } from '../runtime/cluster/cluster-reader.js';
import { joinCluster } from '../runtime/cluster/membership.js';
import { thisHost } from '../runtime/cluster/node-record.js';
import { isoAt, systemClock } from '../runtime/clock.js';
import { ConfigError, loadConfig, type Config } from '../runtime/config.js';
import { connectWithRetry } from '../runtime/connect-retry.js';
import { describe } from '../runtime/errors.js';
import { createLifecycle } from '../runtime/lifecycle.js';
import { createLogger, type Logger } from '../runtime/logger.js';
import { createMetrics } from '../runtime/metrics.js';
import type { LlmProvider, ProviderStatus } from '../runtime/providers/llm.js';
import { createOllamaProvider } from '../runtime/providers/ollama.js';
import { DEFAULT_MODEL_NAME } from '../runtime/protocol/index.js';
import { pullRemedy, unreachableRemedy } from '../runtime/providers/remedies.js';
import { createRateLimiter } from '../runtime/rate-limit/index.js';
import { openStore } from '../runtime/store/index.js';
import { createSubjects } from '../runtime/subjects.js';
import { startRuntime } from '../supervisors/tree.js';
import { startupSummary } from './startup-summary.js';

/** package.json's version, found from dist/bin/ (the build) or bin/ (tests importing the source). */
function readVersion(): string {
  for (const relative of ['../../package.json', '../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name: string; version: string }).version;
    } catch {
      // not at this depth
    }
  }
  throw new Error('package.json not found next to the program');
}

const VERSION = readVersion();

export interface Aurora {
  readonly config: Config;
  readonly gateway: Gateway;
  /** Graceful stop: refuse new work, let in-flight tasks finish within the grace period, flush, drain. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * LLM providers by name, replacing the ones built from config. Only an embedding program (the
   * benchmark harness) passes this; `main()` never does, so production always talks to Ollama.
   */
  readonly providers?: Readonly<Record<string, LlmProvider>>;
  /** Agent kinds, replacing actors/catalog.ts (tests add kinds of their own this way). */
  readonly kinds?: readonly AgentKind[];
}

export async function startAurora(config: Config, logger: Logger, options: StartOptions = {}): Promise<Aurora> {
  const clock = systemClock;
  const lifecycle = createLifecycle(logger, clock);
  const metrics = createMetrics();
  const kinds = options.kinds ?? AGENT_KINDS;
  try {
    // Every role listens on PORT (a node for its probes and /metrics). Checked before the store
    // opens, so a second process started by mistake touches nothing of the first's.
    await assertPortFree(config.host, config.port);
    const retry = { attempts: config.connectAttempts, baseMs: config.connectRetryBaseMs, maxMs: config.connectRetryMaxMs };
    const bus = await connectWithRetry('NATS', () => createBus(config, logger, clock), retry, logger, clock);
    lifecycle.onShutdown('bus', () => bus.drain());
    const runsActors = config.role !== 'gateway';
    const runsApi = config.role !== 'node';
    const started: { gateway?: Gateway; agents?: () => number } = {};
    // Before the store opens: a node refused here (another owns the namespace) touches nothing.
    const membership = runsActors
      ? await joinCluster({
          bus,
          config,
          clock,
          logger,
          version: VERSION,
          kinds: kinds.map((k) => k.name),
          onLeaseLost: (reason) => {
            logger.error('another node owns this namespace now; stopping and exiting', { reason });
            started.gateway?.drain();
            void lifecycle.shutdown().finally(() => process.exit(70));
          },
        })
      : undefined;
    if (membership !== undefined) lifecycle.onShutdown('cluster', () => membership.leave());
    const store = runsActors
      ? openStore({
          path: config.databasePath,
          clock,
          maxEvents: config.eventsMax,
          maxIdempotencyKeys: config.idempotencyMaxKeys,
          artifacts: { maxCount: config.artifactsMax, maxBytes: config.artifactsMaxBytes },
        })
      : undefined;
    if (store !== undefined) lifecycle.onShutdown('store', () => store.close());
    const cache = await connectWithRetry('Redis', () => createCache(config, logger), retry, logger, clock);
    lifecycle.onShutdown('cache', () => cache.close());
    const rateLimiter = runsApi ? await connectWithRetry('Redis', () => createRateLimiter(config, logger, clock), retry, logger, clock) : undefined;
    if (rateLimiter !== undefined) lifecycle.onShutdown('rate-limit', () => rateLimiter.close());
    // Registered before the runtime so it runs after it: answers of tasks that finish during the
    // grace period still reach their clients, then the sockets close. The gateway starts last.
    lifecycle.onShutdown('gateway', () => started.gateway?.close(), 10_000);

    let describeProviders: (() => void) | undefined;
    if (store !== undefined) {
      const providers = options.providers ?? {
        ollama: createOllamaProvider({
          host: config.ollamaHost,
          idleTimeoutMs: config.ollamaIdleTimeoutMs,
          maxConcurrency: config.ollamaMaxConcurrency,
          logger,
        }),
      };
      // Asked now, reported once the server is up: start-up never waits on Ollama.
      const statuses = Object.entries(providers).map(([name, provider]) => ({ name, status: provider.status?.(PROVIDER_STATUS_TIMEOUT_MS) }));
      describeProviders = () => {
        for (const { name, status } of statuses) {
          if (status !== undefined) void status.then((s) => logProviderStatus(logger, name, config.ollamaHost, s));
        }
      };
      const runtime = await startRuntime({
        config,
        bus,
        store,
        cache,
        providers,
        kinds,
        clock,
        rng: Math.random,
        logger,
        metrics,
        onFatal: (reason) => {
          logger.error('node cannot heal itself; exiting', { reason });
          void lifecycle.shutdown().finally(() => process.exit(70));
        },
      });
      lifecycle.onShutdown('runtime', () => runtime.stop(config.shutdownGraceMs), config.shutdownGraceMs + 5_000);
      started.agents = () => runtime.registry.hosts.size;
      membership?.report(() => ({ agents: started.agents?.() ?? 0 }));
    }

    const startedAt = clock.now();
    const cluster = runsApi
      ? createClusterReader({
          bus,
          config,
          clock,
          self: () => ({
            identity: {
              node_id: membership?.nodeId ?? 'embedded',
              role: config.role,
              version: VERSION,
              host: thisHost(),
              pid: process.pid,
              started_at: isoAt(startedAt),
              kinds: kinds.map((k) => k.name),
            },
            stats: { agents: started.agents?.() ?? 0 },
          }),
        })
      : undefined;
    const gateway = await startGateway({
      cluster,
      bus,
      subjects: createSubjects(config.namespace),
      config,
      kinds: kinds.map(describeKind),
      metrics,
      logger,
      cache,
      rateLimiter,
      clock,
      startedAt: clock.now(),
      version: VERSION,
      host: config.host,
      port: config.port,
      surface: runsApi ? 'api' : 'ops',
    });
    started.gateway = gateway;
    logger.info('aurora started', startupSummary(config, { port: gateway.port, rateLimiting: rateLimiter !== undefined, runsStore: store !== undefined }));
    describeProviders?.();
    return {
      config,
      gateway,
      stop: () => {
        gateway.drain();
        return lifecycle.shutdown();
      },
    };
  } catch (err) {
    await lifecycle.shutdown();
    throw err;
  }
}

/** The longest start-up waits to say whether Ollama answers; the server is up meanwhile. */
const PROVIDER_STATUS_TIMEOUT_MS = 3_000;

/** The start-up line about a provider: whether it answers, its version and models, and what to do when something is missing. */
function logProviderStatus(logger: Logger, provider: string, host: string, status: ProviderStatus): void {
  if (!status.reachable) {
    logger.warn('ollama does not answer; tasks fail with llm_unavailable until it does', {
      provider,
      ollama: host,
      reason: status.reason,
      remedy: unreachableRemedy(),
    });
    return;
  }
  const fields = { provider, ollama: host, version: status.version, models: status.models };
  if (status.models.length === 0) {
    logger.warn('ollama answers but has no models; tasks fail with model_not_found until one is pulled', {
      ...fields,
      remedy: pullRemedy(DEFAULT_MODEL_NAME),
    });
    return;
  }
  logger.info('ollama answers', fields);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(78);
  }
  const logger = createLogger(config.logLevel, { service: 'aurora' }, { format: config.logFormat });
  let aurora: Aurora;
  try {
    aurora = await startAurora(config, logger);
  } catch (err) {
    logger.error('aurora failed to start', { error: describe(err) });
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    aurora.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error('shutdown failed', { error: describe(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
