// Scenario 5, Aurora side: crash → running again under the real supervisor tree (backoff zero),
// in its own process. The crash is the host's fault injection, the same defect path as an
// exception inside the machine; the restart is over when the agent's actor runs again
// (status idle), measured with performance.now() around it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AGENT_KINDS } from '../actors/catalog.js';
import { createMemoryBus } from '../runtime/bus/memory.js';
import { createMemoryCache } from '../runtime/cache/memory.js';
import { systemClock } from '../runtime/clock.js';
import { loadConfig } from '../runtime/config.js';
import { createLogger } from '../runtime/logger.js';
import { createMetrics } from '../runtime/metrics.js';
import { call } from '../runtime/rpc.js';
import { openStore } from '../runtime/store/index.js';
import { startRuntime } from '../supervisors/tree.js';
import { createInstantProvider } from './instant-provider.js';
import { serveChild } from './lib/child.js';
import { percentiles, Samples } from './lib/stats.js';

await serveChild<{ namespace: string }>(async (o) => {
  const dir = mkdtempSync(join(tmpdir(), 'aurora-bench-restart-'));
  const config = loadConfig({
    env: {},
    overrides: {
      namespace: o.namespace,
      databasePath: join(dir, 'aurora.db'),
      logLevel: 'warn',
      // A budget no run can spend: the scenario measures restarts, not escalation.
      supervision: { maxRestarts: 1_000_000, periodMs: 1_000, backoffBaseMs: 0, backoffMaxMs: 0 },
    },
  });
  const logger = createLogger(config.logLevel, { service: 'aurora-bench' });
  const bus = createMemoryBus({ logger });
  const store = openStore({ path: config.databasePath });
  const runtime = await startRuntime({
    config,
    bus,
    store,
    cache: createMemoryCache(),
    providers: { ollama: createInstantProvider() },
    kinds: AGENT_KINDS,
    clock: systemClock,
    rng: Math.random,
    logger,
    metrics: createMetrics(),
    onFatal: (reason) => {
      throw new Error(`root supervisor gave up: ${reason}`);
    },
  });
  const name = 'crashy';
  await call(bus, runtime.subjects.registry('create'), {
    name,
    agent_type: 'llm',
    provider: 'ollama',
    model_name: 'llama2',
    description: '',
    config: {},
  }, 10_000);

  const waitRunning = async (host: { status: string }): Promise<void> => {
    // Only when the restart did not complete synchronously; bounded like everything else.
    for (let i = 0; host.status !== 'idle'; i++) {
      if (i > 100_000) throw new Error(`agent stuck in ${host.status}`);
      await new Promise((r) => setImmediate(r));
    }
  };

  return {
    commands: {
      run: async (cmd) => {
        const n = Number(cmd.count);
        const host = runtime.registry.hosts.get(name)!;
        await waitRunning(host);
        const samples = new Samples();
        let async = 0;
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          host.injectFault();
          if (host.status !== 'idle') {
            async++;
            await waitRunning(host);
          }
          samples.push(performance.now() - t0);
          await new Promise((r) => setImmediate(r));
        }
        const [p50, p99, max] = percentiles(samples.values(), [0.5, 0.99, 1]);
        return { p50Ms: p50, p99Ms: p99, maxMs: max, count: n, asyncRestarts: async };
      },
    },
    teardown: async () => {
      await runtime.stop(0);
      await bus.drain();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
