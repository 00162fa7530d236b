// The supervisor tree of one Aurora node:
//
//   root (one_for_one)
//   ├── registry        service: agents and tasks on the bus
//   ├── threads         service: agents' conversations
//   ├── workflows       service: workflow definitions and their versions
//   ├── idempotency     service: Idempotency-Keys and the answers they replay
//   ├── events          service: the event log (supervisor events, agent lifecycle, models)
//   ├── health          service: the node's dependencies
//   ├── supervision     service: this tree, live, with restart counts and last crashes
//   ├── model-manager   service: models on the bus
//   ├── artifacts       service: what browser agents leave behind (screenshots)
//   ├── browsers        one worker per Chromium process (supervisors/browser/pool.ts)
//   └── agents          one child per agent, each with its own restart budget
import type { AgentKind } from '../actors/kind.js';
import type { Bus, Subscription } from '../runtime/bus/bus.js';
import type { Cache } from '../runtime/cache/cache.js';
import { isoAt, isoNow, type Clock } from '../runtime/clock.js';
import type { Config } from '../runtime/config.js';
import { AuroraError } from '../runtime/errors.js';
import { createEventPublisher, type EventPublisher } from '../runtime/events.js';
import type { Logger } from '../runtime/logger.js';
import type { Metrics } from '../runtime/metrics.js';
import type { LlmProvider } from '../runtime/providers/llm.js';
import { serveOperation } from '../runtime/rpc.js';
import type { Store } from '../runtime/store/index.js';
import { createSubjects, type Subjects } from '../runtime/subjects.js';
import { createAgentRegistry, type AgentRegistry } from './agent-registry.js';
import { createArtifactsService } from './artifacts-service.js';
import { createBrowserPool } from './browser/pool.js';
import { createCapabilities } from './capabilities/index.js';
import { createModelFacts } from './model-facts.js';
import { createIdempotencyService } from './idempotency-service.js';
import { createEventsService } from './events-service.js';
import { createRunsService } from './runs-service.js';
import { createSupervisionService, type WatchedSupervisor } from './supervision-service.js';
import { createThreadsService } from './threads-service.js';
import { createWorkflowsService } from './workflows-service.js';
import { createModelManager } from './model-manager.js';
import { createSupervisor, type ChildSpec, type Supervisor, type SupervisorEvent } from './supervisor.js';

export interface RuntimeDeps {
  config: Config;
  bus: Bus;
  store: Store;
  cache: Cache;
  providers: Readonly<Record<string, LlmProvider>>;
  /** The agent kinds this node runs: actors/catalog.ts, or more in tests and embedding programs. */
  kinds: readonly AgentKind[];
  clock: Clock;
  rng: () => number;
  logger: Logger;
  metrics: Metrics;
  /** The root supervisor spent its budget: the node cannot heal itself, its process should exit. */
  onFatal(reason: string): void;
}

export interface Runtime {
  readonly subjects: Subjects;
  readonly events: EventPublisher;
  readonly registry: AgentRegistry;
  readonly root: Supervisor;
  /** Waits up to graceMs for every agent to finish what it holds, then stops the tree. */
  stop(graceMs: number): Promise<void>;
}

interface Service {
  start(): void;
  stop(): void;
}

function serviceChild(id: string, service: Service): ChildSpec {
  return {
    id,
    restart: 'permanent',
    kind: 'service',
    start: () => {
      service.start();
      return { stop: async () => service.stop(), onExit: () => {} };
    },
  };
}

export async function startRuntime(deps: RuntimeDeps): Promise<Runtime> {
  const { config, bus, store, clock, logger, metrics } = deps;
  const subjects = createSubjects(config.namespace);
  // The agent lifecycle and model events it publishes also go to the event log (isLoggedEvent).
  const events = createEventPublisher(bus, subjects, clock, store.events);

  // Runs of resumable kinds (workflows) are picked up again by their agents instead (registry.restore).
  const resumable = deps.kinds.filter((k) => k.resumable === true).map((k) => k.name);
  const orphans = store.tasks.failOrphans('Aurora stopped while the task was queued or running', isoNow(clock), resumable);
  if (orphans > 0) logger.warn('tasks left unfinished by a previous process were marked failed', { count: orphans });
  const orphanPulls = store.pulls.failOrphans('Aurora stopped while the pull was running; pull again to resume', isoNow(clock));
  if (orphanPulls > 0) logger.warn('model pulls left running by a previous process were marked failed', { count: orphanPulls });

  // Filled in once the supervisors exist; the service reads it only when asked.
  const watched: WatchedSupervisor[] = [];
  const supervision = createSupervisionService({ bus, subjects, clock, logger, supervisors: watched });
  let registry: AgentRegistry | undefined;
  const onEvent = (event: SupervisorEvent) => {
    const { type, supervisor, child, kind, reason, delayMs, restartLatencyMs, attempt, error } = event;
    const published = {
      type: `supervisor.${type}`,
      time: isoAt(event.at),
      ...(supervisor === 'agents' && { agent: child }),
      payload: { supervisor, child, kind, reason, delay_ms: delayMs, restart_latency_ms: restartLatencyMs, attempt, error },
    };
    store.events.append(published);
    events.publish(published.type, { ...(published.agent !== undefined && { agent: child }), payload: published.payload });
    // Only the agents supervisor's children are agents (a browser worker may share a name with one).
    if (supervisor === 'agents') registry?.onSupervisorEvent(event);
    supervision.record(event);
  };
  const supervisorDeps = { clock, rng: deps.rng, logger, metrics, onEvent };

  const browsers = createBrowserPool({ config, clock, logger: logger.child({ component: 'browsers' }), metrics, supervisor: supervisorDeps });
  const capabilities = createCapabilities({ providers: deps.providers, store, bus, subjects, config, clock, logger, events, metrics, browsers });
  const modelFacts = createModelFacts({
    cache: deps.cache,
    clock,
    providers: deps.providers,
    cacheTtlMs: config.modelCacheTtlMs,
    logger,
  });

  const policy = { strategy: 'one_for_one', ...config.supervision } as const;
  const agents = createSupervisor({ id: 'agents', policy, budget: 'per_child' }, supervisorDeps);
  registry = createAgentRegistry({
    bus,
    subjects,
    store,
    events,
    metrics,
    clock,
    logger,
    config,
    supervisor: agents,
    kinds: deps.kinds,
    capabilities: capabilities.table,
    tools: capabilities.tools,
    models: modelFacts,
  });
  const threads = createThreadsService({ bus, subjects, store, clock, logger });
  const runs = createRunsService({ bus, subjects, store, clock, logger, config });
  const workflows = createWorkflowsService({ bus, subjects, store, clock, logger });
  const idempotency = createIdempotencyService({
    bus,
    subjects,
    store,
    cache: deps.cache,
    clock,
    logger,
    ttlMs: config.idempotencyTtlMs,
  });
  const eventLog = createEventsService({ bus, subjects, store, logger });
  const models = createModelManager({
    bus,
    subjects,
    store,
    cache: deps.cache,
    events,
    clock,
    logger,
    providers: deps.providers,
    cacheTtlMs: config.modelCacheTtlMs,
    facts: modelFacts,
    pullMaxConcurrent: config.modelPullMaxConcurrent,
  });
  const health = healthService(bus, subjects, store, deps.providers, logger);
  const artifacts = createArtifactsService({ bus, subjects, store, logger });

  const root = createSupervisor(
    {
      id: 'root',
      policy,
      children: [
        serviceChild('registry', registry),
        serviceChild('threads', threads),
        serviceChild('runs', runs),
        serviceChild('workflows', workflows),
        serviceChild('idempotency', idempotency),
        serviceChild('events', eventLog),
        serviceChild('health', health),
        serviceChild('supervision', supervision),
        serviceChild('model-manager', models),
        serviceChild('artifacts', artifacts),
        browsers.supervisor.asChild('browsers'),
        agents.asChild('agents'),
      ],
    },
    {
      ...supervisorDeps,
      parent: (escalation) => deps.onFatal(`root supervisor gave up: ${escalation.child} ${escalation.reason}`),
    },
  );
  watched.push(
    { supervisor: root, parent: null, policy, budget: 'shared' },
    { supervisor: agents, parent: 'root', policy, budget: 'per_child' },
  );
  await root.start();
  const restored = registry.restore();
  if (restored > 0) logger.info('agents restored from the store', { count: restored });

  return {
    subjects,
    events,
    registry,
    root,
    async stop(graceMs) {
      const all = [...registry.hosts.values()];
      // Workflow runs are suspended first, while the agents their steps run on still answer: they
      // resume at the next start instead of failing on mailboxes that close under them.
      for (const host of all) if (host.resumable) host.suspend();
      const hosts = all.filter((h) => !h.resumable);
      for (const host of hosts) host.closeMailbox();
      const settled = await Promise.all(hosts.map((h) => h.settle(graceMs)));
      const late = settled.filter((ok) => !ok).length;
      if (late > 0) logger.warn('grace period over; cancelling what is left', { agents: late, grace_ms: graceMs });
      const cancelled = new AuroraError('task_cancelled', 'Task cancelled: Aurora shut down before it finished');
      for (const host of hosts) host.shutdown(cancelled);
      await root.stop();
    },
  };
}

function healthService(
  bus: Bus,
  subjects: Subjects,
  store: Store,
  providers: Readonly<Record<string, LlmProvider>>,
  logger: Logger,
): Service {
  let sub: Subscription | undefined;
  return {
    start() {
      sub = serveOperation(
        bus,
        subjects,
        'health.check',
        async () => {
          const pings = await Promise.all(Object.values(providers).map((p) => p.ping()));
          return { database: store.ping(), llm: pings.every(Boolean) };
        },
        { queue: subjects.queue('health'), logger },
      );
    },
    stop() {
      sub?.unsubscribe();
    },
  };
}
