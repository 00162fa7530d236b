// Starts one Aurora node (supervisor tree, registry, model manager) on a real bus, a real SQLite
// file and the fake Ollama server, the way bin/aurora.ts does, minus the gateway.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_KINDS } from '../../actors/catalog.js';
import type { AgentKind } from '../../actors/kind.js';
import type { AgentReplyOf, AgentRequestOf, AuroraEvent, ReplyOf, RequestOf, ServiceKey } from '../../runtime/protocol/index.js';
import type { Bus } from '../../runtime/bus/bus.js';
import { createMemoryBus } from '../../runtime/bus/memory.js';
import { createNatsBus } from '../../runtime/bus/nats.js';
import { createMemoryCache } from '../../runtime/cache/memory.js';
import { systemClock } from '../../runtime/clock.js';
import { loadConfig, type LoadConfigOptions } from '../../runtime/config.js';
import { silentLogger } from '../../runtime/logger.js';
import { createMetrics, type Metrics } from '../../runtime/metrics.js';
import { createOllamaProvider } from '../../runtime/providers/ollama.js';
import { call } from '../../runtime/rpc.js';
import { openStore, type Store } from '../../runtime/store/index.js';
import { createSubjects, type Subjects } from '../../runtime/subjects.js';
import { startRuntime, type Runtime } from '../../supervisors/tree.js';
import { uniqueNamespace } from './services.js';

export type BusKind = 'memory' | 'nats';

type Request<K> = K extends ServiceKey ? RequestOf<K> : AgentRequestOf<'task'>;
type Reply<K> = K extends ServiceKey ? ReplyOf<K> : AgentReplyOf<'task'>;

export interface TestNode {
  bus: Bus;
  store: Store;
  runtime: Runtime;
  metrics: Metrics;
  subjects: Subjects;
  dbPath: string;
  ask<K extends ServiceKey | 'agent.task'>(op: K, subject: string, data: Request<K>, timeoutMs?: number): Promise<Reply<K>>;
  /** Collects events published on the bus from now on. */
  record(): { events: AuroraEvent[]; until(pred: (events: AuroraEvent[]) => boolean, timeoutMs?: number): Promise<AuroraEvent[]>; stop(): void };
  stop(): Promise<void>;
}

export function tempDbPath(): { path: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'aurora-test-'));
  return { path: join(dir, 'aurora.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startTestNode(options: {
  busKind: BusKind;
  natsUrl: string;
  ollamaUrl: string;
  dbPath: string;
  namespace?: string;
  overrides?: LoadConfigOptions['overrides'];
  /** Agent kinds; the catalog's by default. */
  kinds?: readonly AgentKind[];
}): Promise<TestNode> {
  const namespace = options.namespace ?? uniqueNamespace();
  const config = loadConfig({
    env: {},
    overrides: {
      namespace,
      databasePath: options.dbPath,
      ollamaHost: options.ollamaUrl,
      ...options.overrides,
      supervision: { backoffBaseMs: 0, backoffMaxMs: 0, ...options.overrides?.supervision },
    },
  });
  const bus = options.busKind === 'nats' ? await createNatsBus({ url: options.natsUrl }) : createMemoryBus();
  const store = openStore({ path: options.dbPath });
  const metrics = createMetrics({ defaultMetrics: false });
  const runtime = await startRuntime({
    config,
    bus,
    store,
    cache: createMemoryCache(),
    providers: { ollama: createOllamaProvider({ host: options.ollamaUrl, idleTimeoutMs: config.ollamaIdleTimeoutMs, maxConcurrency: config.ollamaMaxConcurrency }) },
    kinds: options.kinds ?? AGENT_KINDS,
    clock: systemClock,
    rng: Math.random,
    logger: silentLogger,
    metrics,
    onFatal: (reason) => {
      throw new Error(`root supervisor gave up in a test: ${reason}`);
    },
  });
  const subjects = createSubjects(namespace);
  return {
    bus,
    store,
    runtime,
    metrics,
    subjects,
    dbPath: options.dbPath,
    ask: (_op, subject, data, timeoutMs = 10_000) => call(bus, subject, data, timeoutMs),
    record() {
      const events: AuroraEvent[] = [];
      const waiters = new Set<() => void>();
      const sub = bus.subscribe(subjects.eventsAll(), (msg) => {
        events.push(msg.data as AuroraEvent);
        for (const w of waiters) w();
      });
      return {
        events,
        stop: () => sub.unsubscribe(),
        until(pred, timeoutMs = 10_000) {
          return new Promise((resolve, reject) => {
            const check = () => {
              if (!pred(events)) return;
              clearTimeout(timer);
              waiters.delete(check);
              resolve(events);
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              reject(new Error(`events never matched; got ${events.map((e) => e.type).join(', ')}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          });
        },
      };
    },
    async stop() {
      await runtime.stop(0);
      await bus.drain();
      store.close();
    },
  };
}
